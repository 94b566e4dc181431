//! `rave apply` against real SSH hosts: sshd in network namespaces (`testbed::ssh_host`).

use crate::support::Project;
use crate::testbed::ssh_host::SshHost;
use crate::testbed::{SshRuntimeDir, ssh_runtime_dir};

/// A file declaring `host` as `host.NAME`, reached over SSH, with `health` as its check.
fn ssh_host_file(name: &str, host: &SshHost, host_key: &str, health: &str) -> String {
    format!(
        "version: 1
project: p
hosts:
  {name}:
    ssh: root@{address}
    host_key: \"{host_key}\"
    ssh_key: file:{key}
    health: {health}
",
        address = host.address(),
        key = host.client_key().display(),
    )
}

#[test]
fn apply_reaches_an_ssh_host_and_runs_its_check_there() {
    let host = SshHost::start("h1");
    let project = Project::new();
    let _ssh_dir = SshRuntimeDir::of(project.path());
    // Passes only where the hostname is `h1`: on the host, not here.
    let check = r#"{ command: [sh, -c, "test \"$(hostname)\" = h1"] }"#;
    project.write("rave.yaml", ssh_host_file("h1", &host, &host.host_key(), check));
    let run = project.rave(&["apply", "--auto-approve"]);
    run.assert_code(0);
    assert!(run.stdout.contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."), "{}", run.transcript());
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    assert_eq!(state["resources"]["host.h1"]["outputs"]["machine"], std::env::consts::ARCH, "{state:#}");
    // `uname` and the check shared one connection, closed when rave ended.
    assert_eq!(host.logins(), 1);
    assert_eq!(open_connections(&project), Vec::<String>::new());
    let status = project.rave(&["status"]);
    status.assert_code(0);
    assert!(
        status.stdout.starts_with("host.h1  healthy    `sh -c 'test \"$(hostname)\" = h1'` succeeded\n"),
        "{}",
        status.transcript()
    );
    assert_eq!(open_connections(&project), Vec::<String>::new());
}

/// The shared-connection sockets rave left in the project's private SSH directory.
fn open_connections(project: &Project) -> Vec<String> {
    let ssh_dir = ssh_runtime_dir(project.path());
    assert!(ssh_dir.join("known_hosts").is_dir(), "no SSH directory at `{}`", ssh_dir.display());
    let Ok(entries) = std::fs::read_dir(ssh_dir) else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("c-"))
        .collect()
}

#[test]
fn a_wrong_pinned_host_key_is_refused() {
    let host = SshHost::start("h2");
    let project = Project::new();
    let _ssh_dir = SshRuntimeDir::of(project.path());
    let impostor = SshHost::start("h3");
    project.write("rave.yaml", ssh_host_file("h2", &host, &impostor.host_key(), "{ command: [\"true\"] }"));
    let run = project.rave(&["apply", "--auto-approve"]);
    run.assert_code(1);
    let out = format!("{}{}", run.stdout, run.stderr);
    let filters = [
        (regex_escape(&host.address().to_string()), "[ADDRESS]"),
        (regex_escape(&impostor.host_key()), "[OTHER KEY]"),
        (r"SHA256:[A-Za-z0-9+/]+".to_owned(), "SHA256:[FINGERPRINT]"),
        (r"/tmp/rave-host-[A-Za-z0-9]+".to_owned(), "[HOST]"),
        (r"after [0-9.]+s".to_owned(), "after [ELAPSED]"),
        (r"/c-[0-9a-f]{16}".to_owned(), "/c-[HASH]"),
        (r"/tmp/rave-ssh-[0-9]+-[0-9a-f]{12}".to_owned(), "[SSH]"),
    ];
    insta::with_settings!({ filters => filters.iter().map(|(from, to)| (from.as_str(), *to)).collect::<Vec<_>>() }, {
        insta::assert_snapshot!(out);
    });
}

#[test]
fn a_test_host_has_its_own_nix_and_settings() {
    let host = SshHost::start("h4");
    host.add_nix_conf("trusted-public-keys = test-1:AAAA");
    let output = host.ssh("hostname; cat \"$NIX_USER_CONF_FILES\"; touch /nix/store/.rave-probe");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("h4\n") && stdout.contains("trusted-public-keys = test-1:AAAA"), "{stdout}");
    assert!(host.nix_dir().join("store/.rave-probe").exists());
    assert!(!std::path::Path::new("/nix/store/.rave-probe").exists());
}

/// `text` as a regular expression matching itself.
fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut escaped, character| {
        if "\\.+*?()|[]{}^$".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
        escaped
    })
}
