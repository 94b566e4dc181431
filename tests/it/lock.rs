//! Two `rave` processes on one state: one waits for or is refused by the other, which is named.

use std::time::{Duration, Instant};

use crate::support::Project;

/// A project whose apply holds the lock for about `seconds`.
fn slow_project(seconds: &str) -> Project {
    let project = Project::new();
    project.write(
        "rave.yaml",
        format!(
            "version: 1\nproject: p\nhosts:\n  slow: {{ local: true, health: {{ command: [sleep, \"{seconds}\"] }} }}\n"
        ),
    );
    project
}

/// Starts an apply in the background and waits (bounded) until it holds the lock.
fn start_holder(project: &Project) -> std::process::Child {
    let child = project.command(&["apply", "--auto-approve"]).spawn().expect("spawn apply");
    let lock = project.path().join(".rave/state.json.lock");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::fs::read_to_string(&lock).is_ok_and(|text| {
            text.contains(&format!("\"pid\": {}", child.id())) || text.contains(&format!("\"pid\":{}", child.id()))
        }) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut child = child;
    child.kill().expect("kill by the pid we started");
    child.wait().expect("reap");
    panic!("the apply never took the lock");
}

#[test]
fn a_second_process_is_refused_with_the_holder_named() {
    let project = slow_project("3");
    let mut holder = start_holder(&project);
    let run = project.rave(&["plan"]);
    run.assert_code(1);
    assert!(run.stderr.contains("state is locked by"), "{}", run.transcript());
    assert!(run.stderr.contains(&format!("pid {}", holder.id())), "{}", run.transcript());
    assert!(run.stderr.contains("apply"), "{}", run.transcript());
    assert!(holder.wait().expect("wait").success());
}

#[test]
fn a_second_process_waits_with_lock_timeout() {
    let project = slow_project("1");
    let mut holder = start_holder(&project);
    let run = project.rave(&["plan", "--lock-timeout", "20s", "--detailed-exitcode"]);
    assert!(holder.wait().expect("wait").success());
    run.assert_code(0);
    assert!(run.stdout.contains("No changes."), "{}", run.transcript());
}

#[test]
fn a_killed_holder_does_not_leave_the_state_locked() {
    let project = slow_project("30");
    let mut holder = start_holder(&project);
    holder.kill().expect("kill by the pid we started");
    holder.wait().expect("reap");
    let run = project.rave(&["plan"]);
    run.assert_code(0);
}
