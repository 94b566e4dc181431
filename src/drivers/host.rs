//! [`HostDriver`]: `hosts:`, the machine rave runs on (`local: true`) or one reached over SSH.
//!
//! Applying a host checks that the machine is usable: its architecture (`uname -m`, recorded as
//! the `machine` output) matches a declared `system`, and its health checks pass. A host with
//! `nixos:` gets its system deployed first (`drivers::nixos`: build, push to its `push:` caches,
//! copy, activate, check, roll back on failure), recorded as the `system` output; refresh
//! compares that with the system active on the host and reports drift. Nothing is torn down: rave
//! neither creates nor removes machines.

use std::time::Duration;

use super::command_spec::CommandSpec;
use super::placement::Placement;
use super::{BoxFuture, Driver, DriverContext, DriverError, Outputs, cache, health, nixos};
use crate::apply::EventSink;
use crate::model::{HostSpec, ResourceId, ResourceSpec};
use crate::plan::{Desired, Observed};
use crate::state::ResourceState;

/// How long `uname` may take.
const UNAME_TIMEOUT: Duration = Duration::from_secs(30);

/// The driver for hosts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HostDriver;

impl HostDriver {
    /// Create and update alike: check the machine, deploy its NixOS system when it has one, then
    /// check its health (a failing check rolls a deployed system back).
    async fn converge(
        context: &DriverContext,
        address: &ResourceId,
        desired: &Desired,
        events: &EventSink,
    ) -> Result<Outputs, DriverError> {
        let ResourceSpec::Host(spec) = &*desired.spec else {
            return Err(DriverError::wrong_kind(address, &desired.spec));
        };
        let placement = Placement::of_host(address, spec, context)?;
        events.progress("checking the machine");
        let machine = machine(&placement, events).await?;
        check_system(address, spec, &machine)?;
        let mut outputs = Outputs::from([("machine".to_owned(), serde_json::Value::String(machine))]);
        if spec.nixos.is_none() {
            health::check_all(&spec.health, &placement, events).await?;
            return Ok(outputs);
        }
        let Some(system) = &desired.derivation else {
            return Err(DriverError::new(format!("the plan has no evaluated NixOS system for `{address}`"))
                .with_detail("make the plan with `--refresh=true` (the default): the system is evaluated then"));
        };
        nixos::build(address, system, events).await?;
        // Pushed before the copy, so the host can substitute it from there.
        let pushed = cache::push(context, events, std::slice::from_ref(&system.out_path), &spec.push).await?;
        let substituters = cache::substituters(context, &spec.push, cache::Machine::Elsewhere);
        let activated = nixos::deploy(address, &placement, system, &substituters, &spec.health, events).await?;
        outputs.insert(SYSTEM_OUTPUT.to_owned(), serde_json::Value::String(activated.system));
        if !pushed.is_empty() {
            outputs.insert("pushed".to_owned(), serde_json::json!(pushed));
        }
        // Where a rollback by hand would go: `nix-env -p /nix/var/nix/profiles/system --rollback`.
        if let Some(previous) = activated.previous {
            outputs.insert("previous_system".to_owned(), serde_json::Value::String(previous));
        }
        Ok(outputs)
    }

    /// What refresh finds on a host with a deployed system: drift when its active system is not
    /// the one rave recorded (someone ran `nixos-rebuild` by hand).
    async fn observe(
        context: &DriverContext,
        address: &ResourceId,
        recorded: &ResourceState,
    ) -> Result<Observed, DriverError> {
        let Some(recorded_system) = recorded.outputs.get(SYSTEM_OUTPUT).and_then(serde_json::Value::as_str) else {
            return Ok(Observed::AsRecorded);
        };
        let Some(spec) = context.hosts.get(address) else { return Ok(Observed::AsRecorded) };
        let placement = Placement::of_host(address, spec, context)?;
        // Refresh has no apply's events to report to; what it finds is its answer.
        let events = EventSink::silent(address.clone());
        let current = nixos::current_system(&placement, &events).await?;
        if current.as_deref() == Some(recorded_system) {
            return Ok(Observed::AsRecorded);
        }
        let shown = current.as_deref().map_or_else(|| "no system".to_owned(), |path| format!("`{path}`"));
        // Only what changed: the plan shows each of these as `recorded -> observed`.
        let observed = current.map_or(serde_json::Value::Null, serde_json::Value::String);
        let outputs = Outputs::from([(SYSTEM_OUTPUT.to_owned(), observed)]);
        Ok(Observed::Changed {
            outputs,
            summary: format!("the active system is {shown}, rave deployed `{recorded_system}`"),
        })
    }
}

/// The output that records the deployed system's store path.
const SYSTEM_OUTPUT: &str = "system";

/// The machine's architecture, as `uname -m` prints it.
async fn machine(placement: &Placement, events: &EventSink) -> Result<String, DriverError> {
    let output = placement.run(CommandSpec::new("uname").arg("-m").timeout(UNAME_TIMEOUT), events).await?;
    let machine = output.stdout.trim();
    if machine.is_empty() {
        return Err(DriverError::new("`uname -m` printed nothing: the machine's architecture is unknown"));
    }
    Ok(machine.to_owned())
}

/// Checks that a declared Nix `system` (`x86_64-linux`) fits the machine (`x86_64`).
fn check_system(address: &ResourceId, spec: &HostSpec, machine: &str) -> Result<(), DriverError> {
    let Some(system) = &spec.system else { return Ok(()) };
    let declared = system.split('-').next().unwrap_or_default();
    // `uname -m` says `arm64` on some systems and `amd64` on the BSDs; Nix says `aarch64`, `x86_64`.
    let actual = match machine {
        "arm64" => "aarch64",
        "amd64" => "x86_64",
        other => other,
    };
    if declared == actual {
        return Ok(());
    }
    Err(DriverError::new(format!(
        "`{address}` declares system `{system}`, but the machine is `{machine}` (`uname -m`)"
    ))
    .with_detail(format!("write the machine's system, like `system: {actual}-linux`, or leave `system` out")))
}

impl Driver for HostDriver {
    fn replace_attributes(&self) -> &'static [&'static str] {
        // Another address, port, or the switch between local and SSH, is another machine.
        &["ssh", "port", "local"]
    }

    fn refresh<'a>(
        &'a self,
        context: &'a DriverContext,
        address: &'a ResourceId,
        recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<Observed, DriverError>> {
        Box::pin(Self::observe(context, address, recorded))
    }

    fn create<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(Self::converge(context, address, desired, events))
    }

    fn delete<'a>(
        &'a self,
        _context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        _recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            events.progress(format!("nothing to tear down: rave does not remove machines, it forgets `{address}`"));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::apply::{Event, Stream};
    use crate::drivers::test_support::{drain, logged, progress, recorded, sink};

    fn desired(spec: serde_json::Value) -> Desired {
        let spec = serde_json::from_value(spec).unwrap();
        Desired {
            spec: ResourceSpec::Host(spec).into(),
            dependencies: Vec::new(),
            secret_digests: BTreeMap::new(),
            derivation: None,
        }
    }

    /// What `uname -m` prints here: Rust and Linux name architectures alike.
    fn this_machine() -> String {
        std::env::consts::ARCH.to_owned()
    }

    async fn create(address: &str, spec: serde_json::Value) -> (Result<Outputs, DriverError>, Vec<Event>) {
        let (events, mut receiver) = sink(address);
        let address: ResourceId = address.parse().unwrap();
        let result = HostDriver.create(&DriverContext::default(), &events, &address, &desired(spec)).await;
        (result, drain(&mut receiver))
    }

    #[tokio::test]
    async fn a_local_host_records_its_machine_and_passes_its_checks() {
        let system = format!("{}-linux", this_machine());
        let spec = json!({ "local": true, "system": system, "health": { "command": ["true"] } });
        let (result, events) = create("host.workstation", spec).await;
        assert_eq!(result, Ok(Outputs::from([("machine".to_owned(), json!(this_machine()))])));
        assert_eq!(logged(&events, Stream::Stdout), [this_machine()]);
        assert_eq!(progress(&events), ["checking the machine", "health check 1/3: `true` succeeded"]);
    }

    #[tokio::test]
    async fn a_local_host_whose_health_command_fails_names_the_check() {
        let spec = json!({ "local": true, "health": [
            { "command": ["true"] },
            { "command": ["sh", "-c", "echo not ready >&2; exit 4"], "retries": 1 },
        ] });
        let (result, _) = create("host.workstation", spec).await;
        let error = result.unwrap_err();
        assert_eq!(error.summary, "health check failed: `sh -c 'echo not ready >&2; exit 4'` failed with exit code 4");
        assert_eq!(error.details.last().map(String::as_str), Some("  not ready"));
        assert!(!error.is_partial);
    }

    #[tokio::test]
    async fn a_declared_system_must_fit_the_machine() {
        let other = if this_machine() == "aarch64" { "x86_64-linux" } else { "aarch64-linux" };
        let (result, _) = create("host.workstation", json!({ "local": true, "system": other })).await;
        let error = result.unwrap_err();
        assert_eq!(
            error.summary,
            format!(
                "`host.workstation` declares system `{other}`, but the machine is `{}` (`uname -m`)",
                this_machine()
            )
        );
    }

    #[tokio::test]
    async fn a_nixos_host_needs_the_system_the_plan_evaluated() {
        let nixos = json!({ "local": true, "nixos": ".#nixosConfigurations.workstation" });
        let (result, _) = create("host.workstation", nixos).await;
        assert_eq!(
            result.unwrap_err().to_string(),
            "the plan has no evaluated NixOS system for `host.workstation`\n  make the plan with `--refresh=true` (the default): the system is evaluated then"
        );
    }

    #[tokio::test]
    async fn deleting_a_host_tears_nothing_down() {
        let (events, mut receiver) = sink("host.workstation");
        let address: ResourceId = "host.workstation".parse().unwrap();
        let recorded = recorded();
        let result = HostDriver.delete(&DriverContext::default(), &events, &address, &recorded).await;
        assert_eq!(result, Ok(()));
        assert_eq!(
            progress(&drain(&mut receiver)),
            ["nothing to tear down: rave does not remove machines, it forgets `host.workstation`"]
        );
        let observed = HostDriver.refresh(&DriverContext::default(), &address, &recorded).await;
        assert_eq!(observed, Ok(crate::plan::Observed::AsRecorded));
    }
}
