//! Starting, probing and stopping a VM's runner on its host: as a detached process with a PID
//! file where the host has no systemd, under `microvm@NAME.service` where it does.
//!
//! Stopping is graceful first (`bin/microvm-shutdown` when the runner has one), then SIGTERM,
//! then SIGKILL, each bounded in time, always by the recorded PID and only while that PID is
//! still the VM's (see `supervisor.rs`).

use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::host_layout::HostLayout;
use super::supervisor::{VmDir, signal};
use crate::apply::EventSink;
use crate::drivers::DriverError;
use crate::drivers::placement::Placement;

/// How long `microvm-shutdown` and the guest get to power off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How long a runner gets to exit after SIGTERM, and after SIGKILL.
const SIGNAL_GRACE: Duration = Duration::from_secs(10);

/// How often a stopping runner is looked at.
const POLL: Duration = Duration::from_millis(250);

/// How a VM's runner is kept running on its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Supervisor {
    /// A detached process rave started, in this directory.
    Process(VmDir),
    /// `microvm@NAME.service`, microvm.nix's layout.
    Systemd(HostLayout),
}

impl Supervisor {
    /// The name recorded in state (`supervisor` output).
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Self::Process(_) => "process",
            Self::Systemd(_) => "systemd",
        }
    }
}

/// Whether `pid` is still the runner in `dir`.
pub(super) async fn is_alive(placement: &Placement, dir: &VmDir, pid: u32, events: &EventSink) -> bool {
    placement.run(dir.is_alive(pid), events).await.is_ok()
}

/// The PIDs of hypervisors running in `dir` (see [`VmDir::find_runners`]); none when the host
/// cannot be asked.
pub(super) async fn find_runners(placement: &Placement, dir: &VmDir, events: &EventSink) -> Vec<u32> {
    match placement.run(dir.find_runners(), events).await {
        Ok(output) => output.stdout.lines().filter_map(|line| line.trim().parse().ok()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Waits up to `limit` for `pid` to be gone; whether it is.
async fn wait_gone(placement: &Placement, dir: &VmDir, pid: u32, limit: Duration, events: &EventSink) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !is_alive(placement, dir, pid, events).await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(POLL).await;
    }
}

/// Starts `runner` detached in `dir`; returns its PID.
pub(super) async fn start_process(
    placement: &Placement,
    dir: &VmDir,
    runner: &str,
    events: &EventSink,
) -> Result<u32, DriverError> {
    let output = placement.run(dir.start(runner), events).await?;
    let pid = output.stdout.trim().parse::<u32>().map_err(|_| {
        DriverError::new(format!("starting `{runner}/bin/microvm-run` printed no PID: `{}`", output.stdout.trim()))
    })?;
    // A runner that dies at once (a missing binary, a bad argument) is an error now, not at the
    // health check: its console log says why.
    sleep(Duration::from_millis(500)).await;
    if !is_alive(placement, dir, pid, events).await {
        return Err(DriverError::new(format!("the runner `{runner}/bin/microvm-run` exited right after it started"))
            .with_detail(format!("its console log is `{}`", dir.log_file())));
    }
    Ok(pid)
}

/// Stops the runner `pid` in `dir`: `microvm-shutdown`, then SIGTERM, then SIGKILL.
pub(super) async fn stop_process(
    placement: &Placement,
    dir: &VmDir,
    pid: u32,
    runner: Option<&str>,
    events: &EventSink,
) -> Result<(), DriverError> {
    if !is_alive(placement, dir, pid, events).await {
        return Ok(());
    }
    if let Some(runner) = runner {
        match placement.run(dir.shutdown(runner, SHUTDOWN_GRACE), events).await {
            Ok(output) if output.stdout.trim() == "absent" => {}
            Ok(_) => {
                events.progress(format!("shut down with `microvm-shutdown`, waiting for PID {pid}"));
                if wait_gone(placement, dir, pid, SHUTDOWN_GRACE, events).await {
                    return Ok(());
                }
            }
            Err(error) => events.progress(format!("`microvm-shutdown` failed ({}), stopping PID {pid}", error.summary)),
        }
    }
    for name in ["TERM", "KILL"] {
        events.progress(format!("sending SIG{name} to PID {pid}"));
        // It may have exited between the check and the signal: only its still being there counts.
        let _ = placement.run(signal(pid, name), events).await;
        if wait_gone(placement, dir, pid, SIGNAL_GRACE, events).await {
            return Ok(());
        }
    }
    Err(DriverError::new(format!("the runner PID {pid} is still running after SIGKILL"))
        .with_detail(format!("look at it with `ps -p {pid}`")))
}

/// Starts (or restarts, when `restart`) `microvm@NAME.service` on `runner`.
pub(super) async fn start_unit(
    placement: &Placement,
    layout: &HostLayout,
    runner: &str,
    restart: bool,
    events: &EventSink,
) -> Result<(), DriverError> {
    for command in layout.install(runner) {
        placement.run(command, events).await?;
    }
    placement.run(layout.systemctl(if restart { "restart" } else { "start" }), events).await?;
    placement.run(layout.mark_booted(runner), events).await?;
    Ok(())
}

/// Whether `microvm@NAME.service` is active.
pub(super) async fn is_unit_active(placement: &Placement, layout: &HostLayout, events: &EventSink) -> bool {
    placement.run(layout.systemctl("is-active"), events).await.is_ok()
}
