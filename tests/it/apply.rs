//! `rave apply` and `rave destroy` end to end with the local-host driver, which runs real commands.

use crate::support::Project;

/// Two local hosts and a third that needs the first; health checks are real commands.
fn three_hosts(project: &Project, check_b: &str) {
    project.write(
        "rave.yaml",
        format!(
            "version: 1
project: p
hosts:
  a: {{ local: true, health: {{ command: [\"true\"] }} }}
  b: {{ local: true, health: {{ command: [\"{check_b}\"] }} }}
  c: {{ local: true, needs: [host.a], health: {{ command: [\"true\"] }} }}
"
        ),
    );
}

#[test]
fn apply_then_plan_shows_no_changes() {
    let project = Project::new();
    three_hosts(&project, "true");
    let run = project.rave(&["apply", "--auto-approve"]);
    run.assert_code(0);
    assert!(run.stdout.contains("Plan: 3 to add, 0 to change, 0 to destroy."), "{}", run.transcript());
    assert!(run.stdout.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."), "{}", run.transcript());
    let listed = project.rave(&["state", "list"]);
    assert_eq!(listed.stdout, "host.a\nhost.b\nhost.c\n");
    let again = project.rave(&["plan", "--detailed-exitcode"]);
    again.assert_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.transcript());
}

#[test]
fn state_is_private_and_versioned() {
    use std::os::unix::fs::PermissionsExt as _;
    let project = Project::new();
    three_hosts(&project, "true");
    project.rave(&["apply", "--auto-approve"]).assert_code(0);
    let mode = std::fs::metadata(project.path().join(".rave/state.json")).expect("state").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("json");
    assert_eq!(state["version"], 1);
    assert_eq!(state["serial"], 1);
    assert!(state["lineage"].as_str().is_some_and(|lineage| lineage.len() == 32));
}

#[test]
fn a_failure_skips_its_dependents_and_lets_the_rest_finish() {
    let project = Project::new();
    project.write(
        "rave.yaml",
        "version: 1
project: p
hosts:
  a: { local: true, health: { command: [\"false\"], retries: 1 } }
  b: { local: true, health: { command: [\"true\"] } }
  c: { local: true, needs: [host.a], health: { command: [\"true\"] } }
",
    );
    let run = project.rave(&["apply", "--auto-approve"]);
    run.assert_code(1);
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(out.contains("host.a"), "{out}");
    assert!(out.contains("skipped"), "{out}");
    assert_eq!(project.rave(&["state", "list"]).stdout, "host.b\n");
    let plan = project.rave(&["plan", "--detailed-exitcode"]);
    plan.assert_code(2);
    assert!(plan.stdout.contains("Plan: 2 to add, 0 to change, 0 to destroy."), "{}", plan.transcript());
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let project = Project::new();
    three_hosts(&project, "true");
    let run = project.rave(&["apply"]);
    run.assert_code(1);
    assert!(run.stderr.contains("--auto-approve"), "{}", run.transcript());
    assert_eq!(project.rave(&["state", "list"]).stdout, "");
}

#[test]
fn a_saved_plan_is_applied_exactly_and_refused_once_stale() {
    let project = Project::new();
    three_hosts(&project, "true");
    project.rave(&["plan", "-o", "first.plan", "--target", "host.c"]).assert_code(0);
    project.rave(&["plan", "-o", "second.plan"]).assert_code(0);
    let run = project.rave(&["apply", "first.plan"]);
    run.assert_code(0);
    // The saved plan targeted host.c, so exactly host.a and host.c were created.
    assert_eq!(project.rave(&["state", "list"]).stdout, "host.a\nhost.c\n");
    let stale = project.rave(&["apply", "second.plan"]);
    stale.assert_code(1);
    assert!(stale.stderr.contains("stale"), "{}", stale.transcript());
    assert!(stale.stderr.contains("serial moved from 0 to 1"), "{}", stale.transcript());
}

#[test]
fn replace_and_destroy() {
    let project = Project::new();
    three_hosts(&project, "true");
    project.rave(&["apply", "--auto-approve"]).assert_code(0);
    let replaced = project.rave(&["apply", "--auto-approve", "--replace", "host.b"]);
    replaced.assert_code(0);
    assert!(replaced.stdout.contains("# host.b must be replaced"), "{}", replaced.transcript());
    assert!(replaced.stdout.contains("Plan: 1 to add, 0 to change, 1 to destroy."), "{}", replaced.transcript());
    let destroyed = project.rave(&["destroy", "--auto-approve", "--target", "host.a"]);
    destroyed.assert_code(0);
    assert!(destroyed.stdout.contains("# host.c will be destroyed"), "{}", destroyed.transcript());
    assert_eq!(project.rave(&["state", "list"]).stdout, "host.b\n");
    project.rave(&["destroy", "--auto-approve"]).assert_code(0);
    assert_eq!(project.rave(&["state", "list"]).stdout, "");
}

#[test]
fn removing_a_resource_from_the_file_destroys_it() {
    let project = Project::new();
    three_hosts(&project, "true");
    project.rave(&["apply", "--auto-approve"]).assert_code(0);
    project
        .write("rave.yaml", "version: 1\nproject: p\nhosts:\n  a: { local: true, health: { command: [\"true\"] } }\n");
    let run = project.rave(&["plan"]);
    assert!(
        run.stdout.contains("because host.b is not in the configuration")
            || run.stdout.contains("not in the configuration"),
        "{}",
        run.transcript()
    );
    assert!(run.stdout.contains("Plan: 0 to add, 0 to change, 2 to destroy."), "{}", run.transcript());
}

#[test]
fn state_rm_forgets_without_destroying() {
    let project = Project::new();
    three_hosts(&project, "true");
    project.rave(&["apply", "--auto-approve"]).assert_code(0);
    project.rave(&["state", "rm", "host.b"]).assert_code(0);
    assert_eq!(project.rave(&["state", "list"]).stdout, "host.a\nhost.c\n");
    let shown = project.rave(&["state", "show", "host.a"]);
    shown.assert_code(0);
    assert!(shown.stdout.contains("\"attributes\""), "{}", shown.transcript());
    project.rave(&["state", "show", "host.b"]).assert_code(1);
}
