//! Renames: a `moved:` section makes a renamed resource a move in the plan, not destroy + create;
//! `rave state mv` does the same by hand.

use crate::support::Project;

const BEFORE: &str = "version: 1
project: p
hosts:
  a: { local: true, health: { command: [\"true\"] } }
  web: { local: true, needs: [host.a], health: { command: [\"true\"] } }
";

const AFTER: &str = "version: 1
project: p
hosts:
  a: { local: true, health: { command: [\"true\"] } }
  frontend: { local: true, needs: [host.a], health: { command: [\"true\"] } }
moved:
  - { from: host.web, to: host.frontend }
";

#[test]
fn a_rename_with_moved_plans_a_move_and_applies_without_recreating() {
    let project = Project::new();
    project.write("rave.yaml", BEFORE);
    project.rave(&["apply", "--auto-approve"]).assert_code(0);
    project.write("rave.yaml", AFTER);

    let plan = project.rave(&["plan", "--detailed-exitcode"]);
    plan.assert_code(2);
    assert!(plan.stdout.contains("  # host.web has moved to host.frontend\n"), "{}", plan.transcript());
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 0 to destroy, 1 to move."), "{}", plan.transcript());
    let markdown = project.rave(&["plan", "--format", "markdown"]);
    assert!(markdown.stdout.contains("- `host.web` has moved to `host.frontend`"), "{}", markdown.transcript());
    let json: serde_json::Value = serde_json::from_str(&project.rave(&["plan", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["moves"], serde_json::json!([{ "from": "host.web", "to": "host.frontend" }]));

    let apply = project.rave(&["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert_eq!(project.rave(&["state", "list"]).stdout, "host.a\nhost.frontend\n");
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).unwrap();
    assert_eq!(state["serial"], 2);
    // Once moved, the entry matches nothing recorded and the plan is empty.
    project.rave(&["plan", "--detailed-exitcode"]).assert_code(0);
}

#[test]
fn state_mv_renames_by_hand() {
    let project = Project::new();
    project.write("rave.yaml", BEFORE);
    project.rave(&["apply", "--auto-approve"]).assert_code(0);
    let moved = project.rave(&["state", "mv", "host.web", "host.frontend"]);
    moved.assert_code(0);
    assert!(moved.stderr.contains("Moved `host.web` to `host.frontend` in the state"), "{}", moved.transcript());
    project.write("rave.yaml", AFTER.split("moved:").next().unwrap_or(AFTER));
    project.rave(&["plan", "--detailed-exitcode"]).assert_code(0);

    for (args, message) in [
        (["state", "mv", "host.web", "host.other"], "`host.web` is not in the state"),
        (["state", "mv", "host.a", "host.frontend"], "`host.frontend` is already in the state"),
        (["state", "mv", "host.a", "vm.a"], "`host.a` and `vm.a` are different kinds"),
    ] {
        let run = project.rave(&args);
        run.assert_code(1);
        assert!(run.stderr.contains(message), "{}", run.transcript());
    }
}

#[test]
fn moved_entries_are_checked() {
    let project = Project::new();
    project.write(
        "rave.yaml",
        "version: 1
project: p
hosts:
  a: { local: true }
  b: { local: true }
moved:
  - { from: host.a, to: host.b }
  - { from: host.x, to: host.y }
  - { from: host.z, to: vm.b }
",
    );
    let run = project.rave(&["validate"]);
    run.assert_code(1);
    for message in [
        "`moved[0]`: `host.a` is still declared in the file",
        "`moved[1]`: `host.y` is not declared in the file",
        "`moved[2]`: `host.z` and `vm.b` are different kinds",
    ] {
        assert!(run.stderr.contains(message), "{}", run.transcript());
    }
}
