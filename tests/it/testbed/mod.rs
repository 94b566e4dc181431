//! Real infrastructure for the integration tests, set up and torn down by the tests themselves
//! (`docs` of the machines: testbed.md): SSH hosts in network namespaces, each with its own `/nix`,
//! real Nix with its traps handled, binary caches, local services, and a PostgreSQL server.
//!
//! Everything here is named from the test process's PID and a counter, so tests running at the
//! same time (in this binary or another) never share a name, an address or a port; and everything
//! is torn down by the PIDs started and the names created, never by a broad match.

pub(crate) mod binary_cache;
pub(crate) mod local_service;
pub(crate) mod nix;
pub(crate) mod nixos_flake;
/// A PostgreSQL 15 server per test binary run, a fresh database per test; the same file the
/// library's unit tests use.
#[path = "../../../src/state/postgres/test_server.rs"]
pub(crate) mod postgres;
pub(crate) mod ssh_host;
pub(crate) mod vm_guest;
pub(crate) mod vm_runner;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// A number unique within this test process, for names and addresses.
pub(crate) fn next_serial() -> u32 {
    static SERIAL: AtomicU32 = AtomicU32::new(0);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// A port free on 127.0.0.1 right now (the kernel's pick, so parallel tests do not collide).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// Runs `program` with `args`, panicking with its stderr when it fails: set-up steps must work.
#[allow(clippy::disallowed_methods)] // the harness sets up the machine; rave's own runner is not for tests
#[track_caller]
pub(crate) fn must(program: &str, args: &[&str]) -> Output {
    let output =
        Command::new(program).args(args).output().unwrap_or_else(|error| panic!("cannot run `{program}`: {error}"));
    assert!(
        output.status.success(),
        "`{program} {}` failed ({}): {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `program` with `args` and ignores how it ends: tear-down steps that may find nothing to do.
#[allow(clippy::disallowed_methods)] // see `must`
pub(crate) fn quietly(program: &str, args: &[&str]) {
    let _ = Command::new(program).args(args).output();
}

/// Waits until `ready` says yes, at most `limit`; false when it never did.
pub(crate) fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the process `pid` that a test started: SIGTERM, then SIGKILL if it is still there after
/// a few seconds. Waits for it when it is our child, so it leaves no zombie.
pub(crate) fn stop(child: &mut std::process::Child) {
    let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) else { return };
    let _ = kill_process(pid, Signal::TERM);
    if !wait_until(Duration::from_secs(5), || matches!(child.try_wait(), Ok(Some(_)))) {
        let _ = kill_process(pid, Signal::KILL);
    }
    let _ = child.wait();
}

/// Stops a process that is not our child (one found in a namespace the test created) by its PID.
pub(crate) fn stop_pid(pid: i32) {
    let Some(pid) = Pid::from_raw(pid) else { return };
    let _ = kill_process(pid, Signal::KILL);
}

/// rave's private SSH directory for the project in `project_dir` (under the temp directory, named
/// from a hash of the project's `.rave`), removed when dropped: tests leave nothing behind.
pub(crate) struct SshRuntimeDir(pub(crate) std::path::PathBuf);

impl SshRuntimeDir {
    /// The directory rave uses for the project in `project_dir`, removed when this is dropped.
    pub(crate) fn of(project_dir: &std::path::Path) -> Self {
        Self(ssh_runtime_dir(project_dir))
    }
}

/// The directory rave uses for the project in `project_dir`.
pub(crate) fn ssh_runtime_dir(project_dir: &std::path::Path) -> std::path::PathBuf {
    use sha2::Digest as _;
    let work_dir = project_dir.join(".rave");
    let hash = format!("{:x}", sha2::Sha256::digest(work_dir.as_os_str().as_encoded_bytes()));
    let uid = rustix::process::getuid().as_raw();
    std::env::temp_dir().join(format!("rave-ssh-{uid}-{}", &hash[..12]))
}

impl Drop for SshRuntimeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
