//! microVMs end to end: a runner built by the real `nix` from a flake in microvm.nix's shape
//! (`nixosConfigurations.vm1.config.microvm.declaredRunner` with `bin/microvm-run`), booted for
//! real under QEMU (TCG: KVM here crashes guests) with a Debian kernel and a busybox guest that
//! answers HTTP; left alone when nothing changed, restarted when the runner changed, found dead
//! by a plan after it was killed, stopped with `state: stopped`, found by a plan when started by
//! hand and stopped again, removed when it left the file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{Project, Run};
use crate::testbed::nix::Nix;
use crate::testbed::ssh_host::SshHost;
use crate::testbed::vm_guest::{Guest, guest};
use crate::testbed::vm_runner::{self, Runner, is_gone, write_runners};
use crate::testbed::{free_port, stop_pid, wait_until};

/// Runs rave in `project` with `nix`'s settings.
fn rave(project: &Project, nix: &Nix, args: &[&str]) -> Run {
    let mut command = project.command(args);
    nix.configure(&mut command);
    project.run_from(&command.output().expect("run rave"))
}

/// The desired-state file with `vm1` (in `state`) or without it.
fn config(port: u16, vm_state: Option<&str>) -> String {
    let mut text = String::from(
        "version: 1
project: vms
nix: { flake: \"./runner\", system: x86_64-linux }
hosts:
  here: { local: true, capacity: { vcpus: 2, memory: 1GiB } }
",
    );
    if let Some(vm_state) = vm_state {
        let _ = write!(
            text,
            "vms:
  vm1:
    host: here
    vcpus: 1
    memory: 256MiB
    nixos: \".#nixosConfigurations.vm1\"
    state: {vm_state}
    volumes: [{{ name: data, size: 8MiB, mount: /data }}]
    health: {{ http: \"http://127.0.0.1:{port}/healthz\", body: ok, retries: 60, timeout: 240s }}
"
        );
    }
    text
}

/// The VM's directory in the project.
fn vm_dir(project: &Project) -> PathBuf {
    project.path().join(".rave/vms/vm1")
}

/// The runner's PID recorded in the VM's PID file, while it is the VM's runner.
fn running_pid(project: &Project) -> Option<i32> {
    vm_runner::running_pid(&vm_dir(project))
}

/// Stops the VM a test left running (by its PID, only while it is the VM's runner).
struct VmGuard<'a>(&'a Project);

impl Drop for VmGuard<'_> {
    fn drop(&mut self) {
        if let Some(pid) = running_pid(self.0) {
            stop_pid(pid);
        }
    }
}

/// The VM's recorded runner, started by hand in the VM's directory as microvm.nix's
/// `microvm@NAME.service` would; stopped by its PID when the test ends without rave stopping it.
struct HandStarted(std::process::Child);

impl HandStarted {
    #[allow(clippy::disallowed_methods)] // the test plays the person starting the VM by hand
    fn spawn(project: &Project) -> Self {
        let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
        let runner = state["resources"]["vm.vm1"]["outputs"]["runner"].as_str().expect("a recorded runner").to_owned();
        let child = std::process::Command::new(format!("{runner}/bin/microvm-run"))
            .current_dir(vm_dir(project))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the runner by hand");
        Self(child)
    }

    /// Whether it exited (and is reaped).
    fn has_exited(&mut self) -> bool {
        self.0.try_wait().is_ok_and(|status| status.is_some())
    }
}

impl Drop for HandStarted {
    fn drop(&mut self) {
        if !self.has_exited() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Writes the runner flake of `vm1` at `generation`, answering on the loopback `port`.
fn write_runner(project: &Project, guest: &Guest, port: u16, generation: u32) {
    let runner = Runner { name: "vm1", bind: "127.0.0.1", port, generation };
    write_runners(&project.path().join("runner"), guest, &[runner]);
}

#[test]
fn a_vm_boots_restarts_on_a_new_runner_is_found_dead_stops_and_is_removed() {
    let guest = guest();
    let nix = Nix::new();
    let project = Project::new();
    let _guard = VmGuard(&project);
    let port = free_port();
    write_runner(&project, guest, port, 1);
    project.write("rave.yaml", config(port, Some("running")));

    // Boots, and answers its health check from inside the guest.
    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert!(apply.stdout.contains("# vm.vm1 will be created"), "{}", apply.transcript());
    assert!(apply.stderr.contains("health check 1/"), "{}", apply.transcript());
    let first = running_pid(&project).unwrap_or_else(|| panic!("no runner running\n{}", apply.transcript()));
    let console = std::fs::read_to_string(vm_dir(&project).join("console.log")).unwrap_or_default();
    assert!(console.contains(crate::testbed::vm_guest::READY_MARKER), "{console}");
    assert!(vm_dir(&project).join("data.img").is_file(), "the volume image is created");

    // Nothing changed: nothing is done, the same runner keeps running.
    let again = rave(&project, &nix, &["apply", "--auto-approve"]);
    again.assert_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.transcript());
    assert_eq!(running_pid(&project), Some(first));

    // A new runner: the plan says the store path changed, and the VM is restarted on it.
    write_runner(&project, guest, port, 2);
    let plan = rave(&project, &nix, &["plan"]);
    plan.assert_code(0);
    assert!(plan.stdout.contains("# vm.vm1 will be updated in place"), "{}", plan.transcript());
    assert!(plan.stdout.contains("store_path"), "{}", plan.transcript());
    // …and which input changed: the runner's script, read from the two derivations.
    assert!(plan.stdout.contains("# changed: `microvm-run-vm1`: `script` changed"), "{}", plan.transcript());
    let restart = rave(&project, &nix, &["apply", "--auto-approve"]);
    restart.assert_code(0);
    assert!(restart.stderr.contains("restarting: the runner changed"), "{}", restart.transcript());
    let second = running_pid(&project).unwrap_or_else(|| panic!("no runner running\n{}", restart.transcript()));
    assert_ne!(second, first);
    assert!(wait_until(Duration::from_secs(10), || is_gone(first)), "the old runner {first} is gone");

    // Killed behind rave's back: the next plan finds it missing and starts it again.
    stop_pid(second);
    assert!(wait_until(Duration::from_secs(10), || is_gone(second)));
    let found = rave(&project, &nix, &["plan"]);
    found.assert_code(0);
    assert!(found.stdout.contains("vm.vm1"), "{}", found.transcript());
    assert!(found.stdout.contains("will be created"), "{}", found.transcript());

    // `state: stopped` stops it.
    project.write("rave.yaml", config(port, Some("stopped")));
    let stopped = rave(&project, &nix, &["apply", "--auto-approve"]);
    stopped.assert_code(0);
    assert_eq!(running_pid(&project), None, "{}", stopped.transcript());

    // Started by hand while the file says `state: stopped`: the plan reports it, the apply stops it.
    let mut by_hand = HandStarted::spawn(&project);
    let found = rave(&project, &nix, &["plan"]);
    found.assert_code(0);
    let drift = format!("has changed: PID {} runs in `", by_hand.0.id());
    assert!(found.stdout.contains(&drift), "{}", found.transcript());
    assert!(found.stdout.contains("/.rave/vms/vm1`, started outside rave"), "{}", found.transcript());
    assert!(found.stdout.contains("# vm.vm1 will be updated in place"), "{}", found.transcript());
    let stopped_again = rave(&project, &nix, &["apply", "--auto-approve"]);
    stopped_again.assert_code(0);
    assert!(stopped_again.stderr.contains("started outside rave"), "{}", stopped_again.transcript());
    assert!(wait_until(Duration::from_secs(20), || by_hand.has_exited()), "{}", stopped_again.transcript());
    rave(&project, &nix, &["plan", "--detailed-exitcode"]).assert_code(0);

    // Booted again, then removed from the file: stopped and removed, its volume kept.
    project.write("rave.yaml", config(port, Some("running")));
    rave(&project, &nix, &["apply", "--auto-approve"]).assert_code(0);
    let third = running_pid(&project).expect("booted again");
    project.write("rave.yaml", config(port, None));
    let removed = rave(&project, &nix, &["apply", "--auto-approve"]);
    removed.assert_code(0);
    assert!(removed.stdout.contains("# vm.vm1 will be destroyed"), "{}", removed.transcript());
    assert!(wait_until(Duration::from_secs(10), || is_gone(third)), "{}", removed.transcript());
    let left: Vec<String> = std::fs::read_dir(vm_dir(&project))
        .expect("the VM directory keeps its volume")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["data.img"]);

    // Back in the file, then destroyed with `--destroy-volumes`: the volume goes too.
    project.write("rave.yaml", config(port, Some("running")));
    rave(&project, &nix, &["apply", "--auto-approve"]).assert_code(0);
    let fourth = running_pid(&project).expect("booted again");
    let destroyed = rave(&project, &nix, &["destroy", "--auto-approve", "--destroy-volumes"]);
    destroyed.assert_code(0);
    assert!(wait_until(Duration::from_secs(10), || is_gone(fourth)), "{}", destroyed.transcript());
    assert!(!Path::new(&vm_dir(&project)).exists(), "{}", destroyed.transcript());
}

#[test]
fn a_vm_boots_on_an_ssh_host_and_is_removed_from_it() {
    let guest = guest();
    let nix = Nix::new();
    let host = SshHost::start("vmhost");
    let project = Project::new();
    let port = free_port();
    let name = format!("vm{}x{}", std::process::id(), crate::testbed::next_serial());
    let bind = host.address().to_string();
    write_runners(&project.path().join("runner"), guest, &[Runner { name: &name, bind: &bind, port, generation: 1 }]);
    let file = |with_vm: bool| {
        let mut text = format!(
            "version: 1
project: vms
nix: {{ flake: \"./runner\", system: x86_64-linux }}
hosts:
  far: {{ ssh: root@{address}, host_key: \"{host_key}\", ssh_key: file:{key} }}
",
            address = host.address(),
            host_key = host.host_key(),
            key = host.client_key().display(),
        );
        if with_vm {
            let _ = write!(
                text,
                "vms:
  {name}:
    host: far
    memory: 256MiB
    nixos: \".#nixosConfigurations.{name}\"
    health: {{ http: \"http://{address}:{port}/healthz\", body: ok, retries: 60, timeout: 240s }}
",
                address = host.address(),
            );
        }
        text
    };
    project.write("rave.yaml", file(true));
    let remote_dir = format!("/var/lib/microvms/{name}");

    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).unwrap_or_default();
    let pid = state["resources"][format!("vm.{name}")]["outputs"]["pid"].as_i64();
    apply.assert_code(0);
    // Its health check reaches the guest from here, through the host's own address.
    let answered = format!("http://{}:{port}/healthz answered 200", host.address());
    assert!(apply.stderr.contains(&answered), "{}", apply.transcript());
    let pid = i32::try_from(pid.expect("a recorded PID")).expect("a PID");
    assert_eq!(std::fs::read_link(format!("/proc/{pid}/cwd")).ok(), Some(PathBuf::from(&remote_dir)));
    let store_path = state["resources"][format!("vm.{name}")]["outputs"]["runner"].as_str().expect("runner").to_owned();
    let copied = host.ssh(&format!("test -x {store_path}/bin/microvm-run"));
    assert!(copied.status.success(), "the runner was copied into the host's own store");
    let console = Path::new(&remote_dir).join("console.log");
    let booted = wait_until(Duration::from_secs(180), || {
        std::fs::read_to_string(&console).is_ok_and(|text| text.contains(crate::testbed::vm_guest::READY_MARKER))
    });
    assert!(booted, "the guest reached its ready marker on the host");

    project.write("rave.yaml", file(false));
    let removed = rave(&project, &nix, &["apply", "--auto-approve"]);
    removed.assert_code(0);
    assert!(wait_until(Duration::from_secs(10), || is_gone(pid)), "{}", removed.transcript());
    assert!(!Path::new(&remote_dir).exists(), "{}", removed.transcript());
}
