//! The crash test: `rave apply` killed with SIGKILL at many points. Afterwards the state loads,
//! nothing recorded is lost or invented, and the next plan shows exactly the remaining work.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use crate::support::Project;

const HOSTS: usize = 12;

fn write_project(project: &Project) {
    let mut yaml = String::from("version: 1\nproject: crash\nhosts:\n");
    for index in 0..HOSTS {
        // Each host's check takes a moment and then leaves a marker: proof that it finished.
        let _ = writeln!(
            yaml,
            "  h{index:02}: {{ local: true, health: {{ command: [sh, -c, \"sleep 0.15 && touch done-h{index:02}\"] }} }}"
        );
    }
    project.write("rave.yaml", yaml);
}

fn recorded(project: &Project) -> BTreeSet<String> {
    let run = project.rave(&["state", "list"]);
    run.assert_code(0);
    run.stdout.lines().map(|line| line.trim_start_matches("host.").to_owned()).collect()
}

#[test]
fn an_apply_killed_at_any_point_loses_nothing() {
    for delay_ms in [0u64, 60, 120, 200, 300, 450, 600] {
        let project = Project::new();
        write_project(&project);
        let mut child = project.command(&["apply", "--auto-approve", "--parallelism", "2"]).spawn().expect("spawn");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().expect("SIGKILL the pid we started");
        child.wait().expect("reap");

        let done = recorded(&project);
        for name in &done {
            assert!(project.path().join(format!("done-{name}")).exists(), "{name} recorded but never finished");
        }
        let plan = project.rave(&["plan", "--refresh=false"]);
        plan.assert_code(0);
        let remaining = HOSTS - done.len();
        let expected = if remaining == 0 {
            "No changes.".to_owned()
        } else {
            format!("Plan: {remaining} to add, 0 to change, 0 to destroy.")
        };
        assert!(
            plan.stdout.contains(&expected),
            "killed after {delay_ms} ms, {} recorded:\n{}",
            done.len(),
            plan.transcript()
        );

        project.rave(&["apply", "--auto-approve"]).assert_code(0);
        let after = project.rave(&["plan", "--detailed-exitcode"]);
        after.assert_code(0);
    }
}
