//! NixOS deploys for real: two SSH hosts in network namespaces, each with its own `/nix`, and a
//! flake of stand-in systems (`testbed::nixos_flake`). Deploys in parallel, rollback when a check
//! fails, drift made by hand; a system pushed signed to its cache, a failed push, a host that
//! substitutes its system from a cache rave tells it to trust.

use std::fmt::Write as _;
use std::path::Path;

use crate::support::{Project, Run};
use crate::testbed::SshRuntimeDir;
use crate::testbed::binary_cache::HttpCache;
use crate::testbed::nix::{NIX_CONFIG, Nix};
use crate::testbed::nixos_flake::{ACTIVE_MARKER, HEALTH_CHECK, System, write_flake};
use crate::testbed::ssh_host::SshHost;

/// A project deploying `hosts` (named `h1`, `h2`, …) from the flake in its own directory, and
/// rave's SSH directory for it, removed when dropped.
fn project_for(hosts: &[(&str, &SshHost)]) -> (Project, SshRuntimeDir) {
    project_with(hosts, "", "")
}

/// A project as [`project_for`] makes, with `sections` (say `caches:`) and `host_lines` added to
/// every host.
fn project_with(hosts: &[(&str, &SshHost)], sections: &str, host_lines: &str) -> (Project, SshRuntimeDir) {
    let project = Project::new();
    let mut text = format!("version: 1\nproject: p\n{sections}hosts:\n");
    for (name, host) in hosts {
        let _ = write!(
            text,
            "  {name}:\n    ssh: root@{address}\n    host_key: \"{key}\"\n    ssh_key: file:{identity}\n    \
             nixos: \".#nixosConfigurations.{name}\"\n    health: {HEALTH_CHECK}\n{host_lines}",
            address = host.address(),
            key = host.host_key(),
            identity = host.client_key().display(),
        );
    }
    project.write("rave.yaml", text);
    let ssh_dir = SshRuntimeDir::of(project.path());
    (project, ssh_dir)
}

/// Runs rave with the tests' nix settings, naming the file by its absolute path (flake references
/// resolve against its directory).
fn rave(project: &Project, args: &[&str]) -> Run {
    let file = project.path().join("rave.yaml").display().to_string();
    let args: Vec<&str> = ["-f", file.as_str()].into_iter().chain(args.iter().copied()).collect();
    let output = project.command(&args).env("NIX_CONFIG", NIX_CONFIG).output().expect("run rave");
    project.run_from(&output)
}

/// The system a host's profile points to, and the one its last activation recorded.
fn systems_on(host: &SshHost) -> (String, String) {
    let nix = host.nix_dir();
    let generation = std::fs::read_link(nix.join("var/nix/profiles/system")).expect("system profile");
    let profile = std::fs::read_link(nix.join("var/nix/profiles").join(generation)).expect("generation");
    let active = std::fs::read_to_string(nix.join(ACTIVE_MARKER.trim_start_matches("/nix/"))).expect("active marker");
    (profile.display().to_string(), active.trim().to_owned())
}

/// The store path named `nixos-system-NAME-VERSION` in the host's store.
fn store_path(host: &SshHost, name: &str, version: &str) -> String {
    let wanted = format!("-nixos-system-{name}-{version}");
    let store = std::fs::read_dir(host.nix_dir().join("store")).expect("host store");
    let found = store
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find(|entry| entry.ends_with(&wanted))
        .unwrap_or_else(|| panic!("no `{wanted}` in the host's store"));
    Path::new("/nix/store").join(found).display().to_string()
}

#[test]
fn two_hosts_are_deployed_in_parallel() {
    let (h1, h2) = (SshHost::start("h1"), SshHost::start("h2"));
    let (project, _ssh_dir) = project_for(&[("h1", &h1), ("h2", &h2)]);
    let healthy = |name| System { name, version: "1", is_healthy: true, locks_out: false };
    write_flake(project.path(), &[healthy("h1"), healthy("h2")]);
    let run = rave(&project, &["apply", "--auto-approve", "--parallelism", "2"]);
    run.assert_code(0);
    assert!(run.stdout.contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."), "{}", run.transcript());
    // Both started before either finished.
    let lines: Vec<&str> = run.stderr.lines().collect();
    let first_done = lines.iter().position(|line| line.contains(": created")).expect("a created line");
    for name in ["host.h1: creating...", "host.h2: creating..."] {
        assert!(lines[..first_done].contains(&name), "{name} after the first finished:\n{}", run.stderr);
    }
    for (name, host) in [("h1", &h1), ("h2", &h2)] {
        let path = store_path(host, name, "1");
        assert_eq!(systems_on(host), (path.clone(), path), "{name}");
        // Every step, the closure's copy included, went over one shared connection; one more
        // login proved the new system still takes new connections.
        assert_eq!(host.logins(), 2, "{name}");
    }
    let again = rave(&project, &["plan", "--detailed-exitcode"]);
    again.assert_code(0);
}

#[test]
fn a_failing_health_check_rolls_back_to_the_previous_system() {
    let host = SshHost::start("h1");
    let (project, _ssh_dir) = project_for(&[("h1", &host)]);
    write_flake(project.path(), &[System { name: "h1", version: "1", is_healthy: true, locks_out: false }]);
    rave(&project, &["apply", "--auto-approve"]).assert_code(0);
    let first = store_path(&host, "h1", "1");

    write_flake(project.path(), &[System { name: "h1", version: "2", is_healthy: false, locks_out: false }]);
    let run = rave(&project, &["apply", "--auto-approve"]);
    run.assert_code(1);
    assert!(run.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", run.transcript());
    let failure = "host.h1: update in place failed: health check failed: `sh -c 'test -e \"$(cat /nix/var/rave-test-active)/healthy\"'` failed with exit code 1; rolled back to the previous system";
    assert!(run.stdout.contains(failure), "no `{failure}` in\n{}", run.transcript());
    assert!(run.stdout.contains(&format!("rolled back to `{first}`, which is active again")), "{}", run.transcript());
    // The host runs the old system again, and the next plan still wants the new one.
    assert_eq!(systems_on(&host), (first.clone(), first));
    rave(&project, &["plan", "--detailed-exitcode"]).assert_code(2);
}

#[test]
fn a_system_changed_by_hand_is_reported_as_drift() {
    let host = SshHost::start("h1");
    let (project, _ssh_dir) = project_for(&[("h1", &host)]);
    write_flake(project.path(), &[System { name: "h1", version: "1", is_healthy: true, locks_out: false }]);
    rave(&project, &["apply", "--auto-approve"]).assert_code(0);
    let deployed = store_path(&host, "h1", "1");

    // Someone switches the host to another system by hand.
    let by_hand =
        host.ssh("p=$(nix-store --add /etc/hostname) && nix-env -p /nix/var/nix/profiles/system --set $p && echo $p");
    assert!(by_hand.status.success(), "{}", String::from_utf8_lossy(&by_hand.stderr));
    let other = String::from_utf8_lossy(&by_hand.stdout).trim().to_owned();

    let plan = rave(&project, &["plan", "--detailed-exitcode"]);
    plan.assert_code(2);
    let drift = format!(
        "Objects have changed outside of rave:\n\n  # host.h1 has changed: the active system is `{other}`, rave deployed `{deployed}`\n  ~ host \"h1\" {{\n      ~ system = \"{deployed}\" -> \"{other}\"\n    }}\n"
    );
    assert!(plan.stdout.starts_with(&drift), "no drift reported as\n{drift}\nin\n{}", plan.transcript());
    assert!(plan.stdout.contains("# (because it changed outside of rave)"), "{}", plan.transcript());
    let json = rave(&project, &["plan", "--format", "json"]);
    let summary = format!("the active system is `{other}`, rave deployed `{deployed}`");
    assert!(json.stdout.contains(&summary), "no `{summary}` in\n{}", json.transcript());
    // Applying puts the declared system back.
    rave(&project, &["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(systems_on(&host), (deployed.clone(), deployed));
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    assert_eq!(state["resources"]["host.h1"]["outputs"]["previous_system"], serde_json::json!(other), "{state:#}");
}

#[test]
fn changing_a_service_plans_an_update_of_its_host() {
    let host = SshHost::start("h1");
    let (project, _ssh_dir) = project_for(&[("h1", &host)]);
    let with_service = |port: u16| {
        let file = project.read("rave.yaml");
        let file = file.split("services:").next().unwrap_or_default().to_owned();
        project.write(
            "rave.yaml",
            format!(
                "{file}services:\n  nats: {{ type: nats, runs_on: host.h1, port: {port}, health: {{ command: [\"true\"] }} }}\n"
            ),
        );
    };
    with_service(4222);
    write_flake(project.path(), &[System { name: "h1", version: "1", is_healthy: true, locks_out: false }]);
    rave(&project, &["apply", "--auto-approve"]).assert_code(0);

    with_service(4223);
    let plan = rave(&project, &["plan", "--detailed-exitcode"]);
    plan.assert_code(2);
    let because = "  # host.h1 will be updated in place\n  # (because service.nats, which runs on it, will be updated in place)\n";
    assert!(plan.stdout.contains(because), "no `{because}` in\n{}", plan.transcript());
    assert!(plan.stdout.contains("Plan: 0 to add, 2 to change, 0 to destroy."), "{}", plan.transcript());
    let run = rave(&project, &["apply", "--auto-approve"]);
    run.assert_code(0);
    assert!(run.stderr.contains("is already active"), "{}", run.transcript());
    rave(&project, &["plan", "--detailed-exitcode"]).assert_code(0);
}

#[test]
fn a_system_that_locks_rave_out_is_rolled_back() {
    let host = SshHost::start("h1");
    let (project, _ssh_dir) = project_for(&[("h1", &host)]);
    write_flake(project.path(), &[System { name: "h1", version: "1", is_healthy: true, locks_out: false }]);
    rave(&project, &["apply", "--auto-approve"]).assert_code(0);
    let first = store_path(&host, "h1", "1");

    // Its checks would pass, but after activating it no new SSH login gets in.
    write_flake(project.path(), &[System { name: "h1", version: "2", is_healthy: true, locks_out: true }]);
    let run = rave(&project, &["apply", "--auto-approve"]);
    run.assert_code(1);
    let failure =
        "host.h1: update in place failed: no new SSH connection after activating: cannot reach `host.h1` over SSH";
    assert!(run.stdout.contains(failure), "no `{failure}` in\n{}", run.transcript());
    assert!(run.stdout.contains("; rolled back to the previous system"), "{}", run.transcript());
    // The rollback went over the connection rave already had, and gave the logins back.
    assert_eq!(systems_on(&host), (first.clone(), first));
    assert!(host.ssh("true").status.success(), "logins are back");
}

/// A `caches:` section with one cache, `name` at `uri`, signed with the key pair at `secret_key`.
fn signed_cache(name: &str, uri: &str, secret_key: &Path, public_key: &str) -> String {
    format!(
        "caches:\n  {name}: {{ type: nix-store, uri: \"{uri}\", public_key: \"{public_key}\", secret_key: \"file:{}\" }}\n",
        secret_key.display()
    )
}

#[test]
fn a_host_system_is_pushed_signed_to_its_cache_once() {
    let nix = Nix::new();
    let host = SshHost::start("h1");
    let keys = tempfile::tempdir().expect("keys");
    let (secret_key, public_key) = nix.key_pair(keys.path(), "lan-1");
    let cache = keys.path().join("cache");
    let caches = signed_cache("lan", &format!("file://{}", cache.display()), &secret_key, &public_key);
    let (project, _ssh_dir) = project_with(&[("h1", &host)], &caches, "    push: [lan]\n");
    write_flake(project.path(), &[System { name: "h1", version: "1", is_healthy: true, locks_out: false }]);

    let plan = rave(&project, &["plan"]);
    plan.assert_code(0);
    assert!(plan.stdout.contains("+ push"), "the plan shows where the system goes: {}", plan.transcript());
    let apply = rave(&project, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert!(apply.stderr.contains("cache.lan: 1 path sent, signed"), "{}", apply.transcript());
    let system = store_path(&host, "h1", "1");
    assert_eq!(systems_on(&host), (system.clone(), system.clone()));
    let hash = system.trim_start_matches("/nix/store/").split('-').next().expect("hash");
    let narinfo = std::fs::read_to_string(cache.join(format!("{hash}.narinfo"))).expect("narinfo in the cache");
    assert!(narinfo.contains("Sig: lan-1:"), "{narinfo}");
    let substituted = nix.substitute(&format!("file://{}", cache.display()), &public_key, &system);
    assert!(substituted.status.success(), "{}", String::from_utf8_lossy(&substituted.stderr));
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    assert_eq!(
        state["resources"]["host.h1"]["outputs"]["pushed"],
        serde_json::json!(["cache.lan: 1 path sent, signed"])
    );

    let again = rave(&project, &["apply", "--auto-approve"]);
    again.assert_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.transcript());
    assert!(!again.stderr.contains("sent"), "{}", again.transcript());
}

#[test]
fn a_failed_push_fails_the_host_names_the_cache_and_deploys_nothing() {
    let host = SshHost::start("h1");
    // A directory that cannot be made: `/dev/null` is a file.
    let caches = "caches:\n  broken: { type: nix-store, uri: \"file:///dev/null/cache\" }\n";
    let (project, _ssh_dir) = project_with(&[("h1", &host)], caches, "    push: [broken]\n");
    write_flake(project.path(), &[System { name: "h1", version: "1", is_healthy: true, locks_out: false }]);
    let run = rave(&project, &["apply", "--auto-approve"]);
    run.assert_code(1);
    let failure = "asking `cache.broken` which paths it has failed: '/dev/null' is not a directory";
    assert!(run.stdout.contains(failure), "no `{failure}` in\n{}", run.transcript());
    assert!(!host.nix_dir().join("var/nix/profiles/system").exists(), "nothing deployed: {}", run.transcript());
}

#[test]
fn a_host_substitutes_its_system_from_a_cache_rave_tells_it_to_trust() {
    let nix = Nix::new();
    let host = SshHost::start("h1");
    let keys = tempfile::tempdir().expect("keys");
    let (secret_key, public_key) = nix.key_pair(keys.path(), "web-1");
    // On this side of the host's link: rave pushes to it, the host fetches from it.
    let server = HttpCache::start_on(&keys.path().join("served"), host.gateway());
    let caches = signed_cache("web", &server.uri, &secret_key, &public_key);
    let (project, _ssh_dir) = project_with(&[("h1", &host)], &caches, "    push: [web]\n");
    write_flake(project.path(), &[System { name: "h1", version: "1", is_healthy: true, locks_out: false }]);
    let apply = rave(&project, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert!(apply.stderr.contains("cache.web: 1 path sent, signed"), "{}", apply.transcript());
    let system = store_path(&host, "h1", "1");
    assert_eq!(systems_on(&host), (system.clone(), system.clone()));
    // Here the path carries no signature (the cache signed its own copy), so the signature on the
    // host's copy says it came from the cache, checked against the key rave passed: the host's
    // own settings trust no cache at all.
    let here = nix.path_info(&system);
    assert!(!here.contains("web-1:"), "{here}");
    let there = host.path_info(&system);
    assert!(there.contains("\"signatures\":[\"web-1:"), "substituted from the cache: {there}\n{}", apply.transcript());
}
