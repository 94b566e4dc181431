//! Ctrl-C during an apply: running steps finish and are saved, nothing new starts, the lock is
//! released, and the exit code says the apply was interrupted.

use std::process::Stdio;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::support::Project;

#[test]
fn sigint_finishes_the_running_step_and_saves_it() {
    let project = Project::new();
    project.write(
        "rave.yaml",
        "version: 1
project: p
hosts:
  a: { local: true, health: { command: [sh, -c, \"touch started-a && sleep 1\"] } }
  b: { local: true, needs: [host.a], health: { command: [\"true\"] } }
  c: { local: true, needs: [host.b], health: { command: [\"true\"] } }
",
    );
    let child = project
        .command(&["apply", "--auto-approve", "--parallelism", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apply");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !project.path().join("started-a").exists() {
        assert!(Instant::now() < deadline, "host.a never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid fits")).expect("non-zero pid");
    kill_process(pid, Signal::INT).expect("SIGINT the pid we started");
    let output = child.wait_with_output().expect("wait");
    let run = project.run_from(&output);
    assert_eq!(run.code, Some(130), "{}", run.transcript());
    assert!(run.stdout.contains("nterrupted"), "{}", run.transcript());
    // The step in flight finished and was saved; what depends on it never started.
    assert_eq!(project.rave(&["state", "list"]).stdout, "host.a\n");
    let plan = project.rave(&["plan", "--refresh=false"]);
    plan.assert_code(0);
    assert!(plan.stdout.contains("Plan: 2 to add, 0 to change, 0 to destroy."), "{}", plan.transcript());
}
