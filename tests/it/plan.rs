//! `rave plan` output in its three formats, snapshotted whole, and its flags.

use crate::support::Project;

const LAB: &str = "version: 1
project: lab
caches:
  lan: { type: nix-store, uri: \"file:///var/cache/rave\", public_key: \"lan-1:AAAA\" }
hosts:
  shoshin:
    ssh: root@192.0.2.2
    host_key: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\"
    capacity: { vcpus: 16, memory: 64GiB }
vms:
  gitlab: { host: shoshin, vcpus: 4, memory: 8GiB, push: [lan] }
services:
  postgres: { type: postgresql, runs_on: vm.gitlab, port: 5432 }
  gitlab:
    type: gitlab
    runs_on: vm.gitlab
    port: 443
    needs: [service.postgres]
    secrets: { root_password: \"file:gitlab-root\" }
";

fn lab() -> Project {
    let project = Project::new();
    project.write("rave.yaml", LAB).write("gitlab-root", "hunter2\n");
    project
}

#[test]
fn human_plan() {
    let run = lab().rave(&["plan", "--refresh=false"]);
    insta::assert_snapshot!("plan_human", run.transcript());
}

#[test]
fn json_plan() {
    let run = lab().rave(&["plan", "--refresh=false", "--format", "json"]);
    run.assert_code(0);
    let mut json: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan json");
    json["lineage"] = "[LINEAGE]".into();
    assert!(!run.stdout.contains("hunter2"));
    insta::assert_snapshot!("plan_json", serde_json::to_string_pretty(&json).expect("json"));
}

#[test]
fn markdown_plan() {
    let run = lab().rave(&["plan", "--refresh=false", "--format", "markdown"]);
    run.assert_code(0);
    insta::assert_snapshot!("plan_markdown", run.stdout);
}

#[test]
fn detailed_exitcode_says_changes_are_present() {
    lab().rave(&["plan", "--refresh=false", "--detailed-exitcode"]).assert_code(2);
}

#[test]
fn an_unknown_target_is_an_error_with_a_suggestion() {
    let run = lab().rave(&["plan", "--refresh=false", "--target", "vm.gitlob"]);
    run.assert_code(1);
    assert!(run.stderr.contains("vm.gitlab"), "{}", run.transcript());
}

#[test]
fn exclude_drops_what_depends_on_it() {
    let run = lab().rave(&["plan", "--refresh=false", "--exclude", "service.postgres"]);
    run.assert_code(0);
    assert!(!run.stdout.contains("service.gitlab will be created"), "{}", run.transcript());
    assert!(run.stdout.contains("# vm.gitlab will be created"), "{}", run.transcript());
}

#[test]
fn an_update_in_place_shows_the_attribute() {
    let project = Project::new();
    project
        .write("rave.yaml", "version: 1\nproject: p\nhosts:\n  a: { local: true, health: { command: [\"true\"] } }\n");
    project.rave(&["apply", "--auto-approve"]).assert_code(0);
    project.write(
        "rave.yaml",
        "version: 1\nproject: p\nhosts:\n  a: { local: true, health: { command: [\"true\", \"again\"] } }\n",
    );
    let run = project.rave(&["plan", "--detailed-exitcode"]);
    run.assert_code(2);
    assert!(run.stdout.contains("# host.a will be updated in place"), "{}", run.transcript());
    assert!(run.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", run.transcript());
}

#[test]
fn a_changed_secret_is_reported_but_never_shown() {
    let project = lab();
    // Apply only the cache, so the service stays planned; then change the secret and plan again.
    project.write("rave.yaml", LAB);
    let first = project.rave(&["plan", "--refresh=false", "--format", "json"]);
    assert!(!first.stdout.contains("hunter2"));
    project.write("gitlab-root", "correct horse\n");
    let second = project.rave(&["plan", "--refresh=false"]);
    assert!(!second.stdout.contains("correct horse") && !second.stderr.contains("correct horse"));
    assert!(second.stdout.contains("(sensitive value)"), "{}", second.transcript());
}
