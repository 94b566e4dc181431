//! [`VmDriver`]: `vms:`, microVMs in microvm.nix's shape (`bin/microvm-run`, and
//! `bin/microvm-shutdown` where the hypervisor has an API) on a host.
//!
//! Apply builds the runner (the derivation the plan evaluated, or the flake rave generates for a
//! VM without `nixos:`), copies it to the host, creates the volume images, and starts it: under
//! `microvm@NAME.service` where the host runs systemd with microvm.nix's host module, as a
//! detached process with a PID file elsewhere. A runner that changed is stopped and the new one
//! started (the plan shows the new store path as the reason); `state: stopped` stops it; delete
//! stops it and removes its directory, keeping volume images unless `--destroy-volumes`.
//! Refresh reports a VM whose runner is gone as missing, so the next plan starts it again, and a
//! hypervisor running in the VM's directory that rave did not start (by hand, or left behind) as
//! drift, which the next apply stops, starting the declared runner in its place when the VM runs.
//!
//! - `hypervisor`: the hypervisors' command lines; `flake`: the generated flake;
//!   `host_layout`: microvm.nix's layout and units; `supervisor`: the detached process's commands;
//!   `lifecycle`: start, probe, stop; `runner`: evaluate, build and copy the runner.

mod flake;
mod host_layout;
mod hypervisor;
mod lifecycle;
mod runner;
mod supervisor;

use serde_json::Value;

use self::host_layout::{HostLayout, STATE_DIR, probe_systemd};
use self::lifecycle::Supervisor;
use self::supervisor::VmDir;
use super::placement::Placement;
use super::{BoxFuture, Driver, DriverContext, DriverError, Outputs, cache, health};
use crate::apply::EventSink;
use crate::model::{HostSpec, Name, ResourceId, ResourceKind, ResourceSpec, VmSpec, VmState};
use crate::plan::{Desired, Observed};
use crate::state::ResourceState;

/// The driver for microVMs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct VmDriver;

/// What was recorded for a VM the last time it was applied.
#[derive(Debug, Clone, Default)]
struct Recorded {
    /// Its host.
    host: Option<Name>,
    /// The runner's store path.
    runner: Option<String>,
    /// `process` or `systemd`.
    supervisor: Option<String>,
    /// Its directory on the host.
    dir: Option<String>,
    /// The runner's PID (detached processes).
    pid: Option<u32>,
    /// Its volume image files.
    volumes: Vec<String>,
    /// Its host's declaration when it was applied: how to reach the host to delete the VM when
    /// the host leaves the file in the same plan (`rave destroy`).
    host_spec: Option<HostSpec>,
}

impl Recorded {
    /// Reads the recorded attributes and outputs of a VM.
    fn of(state: &ResourceState) -> Self {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let volumes = state
            .attributes
            .get("volumes")
            .and_then(Value::as_array)
            .map(|volumes| {
                volumes
                    .iter()
                    .filter_map(|volume| volume.get("name").and_then(Value::as_str))
                    .map(flake::volume_image)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            host: text(state.attributes.get("host")).and_then(|host| Name::new(&host).ok()),
            runner: text(state.outputs.get("runner")),
            supervisor: text(state.outputs.get("supervisor")),
            dir: text(state.outputs.get("dir")),
            pid: state.outputs.get("pid").and_then(Value::as_u64).and_then(|pid| u32::try_from(pid).ok()),
            volumes,
            host_spec: state.outputs.get("host_spec").and_then(|spec| serde_json::from_value(spec.clone()).ok()),
        }
    }
}

/// Where the VM's commands run: its host.
fn placement(context: &DriverContext, address: &ResourceId, host: &Name) -> Result<Placement, DriverError> {
    Placement::of_target(address, &ResourceId::new(ResourceKind::Host, host.clone()), context)
}

/// Where a recorded VM runs: its host as the file declares it, or as the VM recorded it when the
/// host left the file (`rave destroy` removes both).
fn recorded_placement(
    context: &DriverContext,
    address: &ResourceId,
    host: &Name,
    found: &Recorded,
) -> Result<Placement, DriverError> {
    let host_id = ResourceId::new(ResourceKind::Host, host.clone());
    match (&found.host_spec, context.hosts.contains_key(&host_id)) {
        (Some(spec), false) => Placement::of_host(&host_id, spec, context),
        _ => placement(context, address, host),
    }
}

/// The VM's directory on its host: under rave's `.rave/vms/` on the machine rave runs on, in
/// microvm.nix's `/var/lib/microvms/` elsewhere.
fn vm_dir(context: &DriverContext, address: &ResourceId, placement: &Placement) -> VmDir {
    let path = match placement {
        Placement::Local => {
            let dir = context.work_dir.join("vms").join(address.name.as_str());
            std::path::absolute(&dir).unwrap_or(dir).display().to_string()
        }
        Placement::Ssh(_) => format!("{STATE_DIR}/{}", address.name),
    };
    VmDir { path }
}

/// How the VM is kept running on its host.
async fn supervisor(
    context: &DriverContext,
    address: &ResourceId,
    placement: &Placement,
    events: &EventSink,
) -> Supervisor {
    if placement.run(probe_systemd(), events).await.is_ok() {
        Supervisor::Systemd(HostLayout::new(address.name.as_str()))
    } else {
        Supervisor::Process(vm_dir(context, address, placement))
    }
}

impl VmDriver {
    /// Create and update alike: build, copy, then start, restart, keep or stop the runner.
    async fn converge(
        context: &DriverContext,
        events: &EventSink,
        address: &ResourceId,
        desired: &Desired,
        recorded: Recorded,
    ) -> Result<Outputs, DriverError> {
        let ResourceSpec::Vm(spec) = &*desired.spec else {
            return Err(DriverError::wrong_kind(address, &desired.spec));
        };
        let placement = placement(context, address, &spec.host)?;
        let supervisor = supervisor(context, address, &placement, events).await;
        let built = runner::build(context, events, address, spec, desired).await?;
        let runner = built.out_path;
        // To its `push:` caches, as builds and host systems are: before the copy, so that the host
        // can substitute it from there.
        let pushed = cache::push(context, events, std::slice::from_ref(&runner), &spec.push).await?;
        let substituters = cache::substituters(context, &spec.push, cache::Machine::Elsewhere);
        runner::copy(address, &placement, &runner, &substituters, events).await?;
        let dir = match &supervisor {
            Supervisor::Process(dir) => dir.clone(),
            Supervisor::Systemd(layout) => VmDir { path: layout.dir() },
        };
        create_volumes(&placement, &dir, spec, events).await?;
        let mut outputs = Outputs::new();
        outputs.insert("runner".to_owned(), Value::from(runner.clone()));
        // What the next plan compares a new runner's derivation with.
        outputs.insert("drv_path".to_owned(), Value::from(built.drv_path));
        outputs.insert("supervisor".to_owned(), Value::from(supervisor.kind()));
        outputs.insert("dir".to_owned(), Value::from(dir.path.clone()));
        if !pushed.is_empty() {
            outputs.insert("pushed".to_owned(), Value::from(pushed));
        }
        let host_id = ResourceId::new(ResourceKind::Host, spec.host.clone());
        if let Some(host) = context.hosts.get(&host_id).and_then(|host| serde_json::to_value(host).ok()) {
            outputs.insert("host_spec".to_owned(), host);
        }
        let is_running = spec.state == VmState::Running;
        let is_changed = recorded.runner.as_deref() != Some(runner.as_str());
        match &supervisor {
            Supervisor::Process(dir) => {
                let alive = match recorded.pid {
                    Some(pid) => lifecycle::is_alive(&placement, dir, pid, events).await.then_some(pid),
                    None => None,
                };
                // What runs in the directory without rave's record is stopped, so that only the
                // declared runner runs there.
                if alive.is_none() {
                    for pid in lifecycle::find_runners(&placement, dir, events).await {
                        events.progress(format!("stopping PID {pid}, started outside rave in `{}`", dir.path));
                        lifecycle::stop_process(&placement, dir, pid, None, events).await?;
                    }
                }
                if let Some(pid) = alive
                    && (is_changed || !is_running)
                {
                    if is_changed && is_running {
                        events.progress(format!(
                            "restarting: the runner changed from `{}` to `{runner}`",
                            recorded.runner.as_deref().unwrap_or("(unknown)")
                        ));
                    }
                    lifecycle::stop_process(&placement, dir, pid, recorded.runner.as_deref(), events).await?;
                }
                if is_running {
                    let pid = match alive {
                        Some(pid) if !is_changed => pid,
                        _ => {
                            events.progress(format!("starting `{runner}/bin/microvm-run`"));
                            lifecycle::start_process(&placement, dir, &runner, events).await?
                        }
                    };
                    outputs.insert("pid".to_owned(), Value::from(pid));
                }
            }
            Supervisor::Systemd(layout) => {
                if is_running {
                    let is_active = lifecycle::is_unit_active(&placement, layout, events).await;
                    if is_changed || !is_active {
                        lifecycle::start_unit(&placement, layout, &runner, is_active, events).await?;
                    }
                } else {
                    placement.run(layout.systemctl("stop"), events).await?;
                }
            }
        }
        if is_running {
            health::check_all(&spec.health, &placement, events).await?;
        }
        Ok(outputs)
    }
}

/// What refresh says of a hypervisor found running in the VM's directory that rave did not start
/// (or no longer records): drift, which the next apply stops (and, for a running VM, replaces with
/// the declared runner).
fn started_by_hand(dir: &VmDir, pid: u32, is_stopped: bool) -> Observed {
    let wanted = if is_stopped { "; the file says `state: stopped`" } else { "" };
    Observed::Changed {
        outputs: std::iter::once(("pid".to_owned(), Value::from(pid))).collect(),
        summary: format!("PID {pid} runs in `{}`, started outside rave{wanted}", dir.path),
    }
}

/// Creates the volume images the VM declares (sparse, once; kept across restarts).
async fn create_volumes(
    placement: &Placement,
    dir: &VmDir,
    spec: &VmSpec,
    events: &EventSink,
) -> Result<(), DriverError> {
    placement.run(dir.create(), events).await?;
    for volume in &spec.volumes {
        let image = flake::volume_image(volume.name.as_str());
        placement.run(dir.create_volume(&image, volume.size.mebibytes()), events).await?;
    }
    Ok(())
}

impl Driver for VmDriver {
    fn replace_attributes(&self) -> &'static [&'static str] {
        // A VM moves host or hypervisor only by being recreated.
        &["host", "hypervisor"]
    }

    fn refresh<'a>(
        &'a self,
        context: &'a DriverContext,
        address: &'a ResourceId,
        recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<Observed, DriverError>> {
        Box::pin(async move {
            let found = Recorded::of(recorded);
            let is_stopped = recorded.attributes.get("state").and_then(Value::as_str) == Some("stopped");
            let Some(host) = &found.host else { return Ok(Observed::AsRecorded) };
            let placement = recorded_placement(context, address, host, &found)?;
            let events = EventSink::silent(address.clone());
            match (found.supervisor.as_deref(), &found.dir) {
                (Some("process"), Some(dir)) => {
                    let dir = VmDir { path: dir.clone() };
                    if let Some(pid) = found.pid
                        && !is_stopped
                        && lifecycle::is_alive(&placement, &dir, pid, &events).await
                    {
                        return Ok(Observed::AsRecorded);
                    }
                    let strangers = lifecycle::find_runners(&placement, &dir, &events).await;
                    Ok(match (strangers.first(), is_stopped) {
                        (Some(&pid), _) => started_by_hand(&dir, pid, is_stopped),
                        (None, true) => Observed::AsRecorded,
                        (None, false) => Observed::Missing,
                    })
                }
                (Some("systemd"), _) => {
                    let layout = HostLayout::new(address.name.as_str());
                    let is_active = lifecycle::is_unit_active(&placement, &layout, &events).await;
                    Ok(match (is_active, is_stopped) {
                        (true, true) => Observed::Changed {
                            outputs: std::iter::once(("active".to_owned(), Value::Bool(true))).collect(),
                            summary: format!("`{}` is active, started outside rave", layout.unit()),
                        },
                        (false, false) => Observed::Missing,
                        _ => Observed::AsRecorded,
                    })
                }
                _ => Ok(Observed::AsRecorded),
            }
        })
    }

    fn create<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(Self::converge(context, events, address, desired, Recorded::default()))
    }

    fn update<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        recorded: &'a ResourceState,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(Self::converge(context, events, address, desired, Recorded::of(recorded)))
    }

    fn delete<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let found = Recorded::of(recorded);
            let Some(host) = &found.host else {
                return Err(DriverError::new(format!("`{address}` has no recorded host: cannot tell where it runs"))
                    .with_detail(format!("to forget it without deleting it, run `rave state rm {address}`")));
            };
            let placement = recorded_placement(context, address, host, &found)?;
            let dir = VmDir { path: found.dir.clone().unwrap_or_else(|| vm_dir(context, address, &placement).path) };
            match found.supervisor.as_deref() {
                Some("systemd") => {
                    let layout = HostLayout::new(address.name.as_str());
                    placement.run(layout.systemctl("stop"), events).await?;
                }
                _ => {
                    if let Some(pid) = found.pid {
                        lifecycle::stop_process(&placement, &dir, pid, found.runner.as_deref(), events).await?;
                    }
                }
            }
            let keep = if context.destroy_volumes { Vec::new() } else { found.volumes.clone() };
            if !keep.is_empty() {
                events.progress(format!("keeping the volumes {} in `{}`", keep.join(", "), dir.path));
            }
            placement.run(dir.remove(&keep), events).await?;
            if matches!(placement, Placement::Ssh(_)) {
                remove_local_flake(context, address);
            }
            Ok(())
        })
    }
}

/// Removes the generated flake of a VM placed on another machine (it lives under `.rave/vms/`
/// here while the VM's own directory is on its host).
fn remove_local_flake(context: &DriverContext, address: &ResourceId) {
    let local = context.work_dir.join("vms").join(address.name.as_str());
    if local.is_dir() {
        // Only rave's own generated files are there; a failure leaves them for the next delete.
        let _ = std::fs::remove_dir_all(&local);
    }
}
