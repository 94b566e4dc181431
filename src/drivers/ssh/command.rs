//! Pure builders of SSH command lines: `ssh` itself and the command line the remote shell runs.
//! Nothing here touches the filesystem.

use super::{SshOptions, SshTarget};
use crate::drivers::command_spec::{CommandSpec, shell_line};

/// The client options for `target`: pinned key, no prompts, a shared connection, timeouts.
/// Everything but the destination and the remote command.
pub(crate) fn ssh_options(options: &SshOptions, target: &SshTarget) -> Vec<String> {
    let mut args: Vec<String> = [
        "BatchMode=yes".to_owned(),
        "StrictHostKeyChecking=yes".to_owned(),
        format!("UserKnownHostsFile={}", options.known_hosts_file(target).display()),
        "GlobalKnownHostsFile=/dev/null".to_owned(),
        format!("HostKeyAlias={}", target.host_key_alias()),
        format!("ConnectTimeout={}", options.connect_timeout.as_secs().max(1)),
        "ServerAliveInterval=5".to_owned(),
        "ServerAliveCountMax=3".to_owned(),
        "ControlMaster=auto".to_owned(),
        format!("ControlPath={}", options.control_path(target).display()),
        format!("ControlPersist={}", options.control_persist.as_secs()),
    ]
    .into_iter()
    .flat_map(|option| ["-o".to_owned(), option])
    .collect();
    if let Some(identity) = &target.identity {
        args.extend(["-o".to_owned(), "IdentitiesOnly=yes".to_owned(), "-i".to_owned()]);
        args.push(identity.display().to_string());
    }
    if let Some(port) = target.port {
        args.extend(["-p".to_owned(), port.to_string()]);
    }
    args
}

/// `NIX_SSHOPTS` for nix's own ssh (remote builders, `ssh://` and `ssh-ng://` stores). Nix splits
/// it on whitespace and puts it before its own options, so, ssh taking the first value of an
/// option, these win. With a `target`, its key is pinned as for rave's own connections (one
/// target per nix process); without, only what every connection shares (no prompts, no trust on
/// first use), for a build whose several builders are pinned by the machines file instead.
/// Connection sharing is left to nix, which runs its own master connection.
pub(crate) fn nix_ssh_opts(options: &SshOptions, target: Option<&SshTarget>) -> String {
    let mut words: Vec<String> = ["BatchMode=yes", "StrictHostKeyChecking=yes", "GlobalKnownHostsFile=/dev/null"]
        .into_iter()
        .flat_map(|option| ["-o".to_owned(), option.to_owned()])
        .collect();
    words.extend(["-o".to_owned(), format!("ConnectTimeout={}", options.connect_timeout.as_secs().max(1))]);
    if let Some(target) = target {
        words.extend([
            "-o".to_owned(),
            format!("UserKnownHostsFile={}", options.known_hosts_file(target).display()),
            "-o".to_owned(),
            format!("HostKeyAlias={}", target.host_key_alias()),
        ]);
        if let Some(identity) = &target.identity {
            words.extend(["-o".to_owned(), "IdentitiesOnly=yes".to_owned(), "-i".to_owned()]);
            words.push(identity.display().to_string());
        }
        if let Some(port) = target.port {
            words.extend(["-p".to_owned(), port.to_string()]);
        }
    }
    words.join(" ")
}

/// `ssh … -- user@host 'remote line'`: runs `remote` (argv) on `target`. ssh hands the remote
/// side one string for its shell, so every word is quoted; `--` keeps a destination that starts
/// with `-` from being read as an option.
pub(crate) fn ssh_command(options: &SshOptions, target: &SshTarget, remote: &[String]) -> CommandSpec {
    CommandSpec::new("ssh")
        .args(ssh_options(options, target))
        .arg("--")
        .arg(target.destination())
        .arg(shell_line(remote))
}

/// `ssh_command` on a connection of its own, not the shared one: proves the machine still takes
/// new connections (after an activation that may have changed its network or sshd). ssh takes
/// the first value given for an option, so these come first.
pub(crate) fn fresh_ssh_command(options: &SshOptions, target: &SshTarget, remote: &[String]) -> CommandSpec {
    let mut command = ssh_command(options, target, remote);
    let fresh = ["-o", "ControlMaster=no", "-o", "ControlPath=none"].map(str::to_owned);
    command.args.splice(0..0, fresh);
    command
}

/// `ssh -O exit`: closes `target`'s shared connection (the master process ends).
pub(crate) fn close_command(options: &SshOptions, target: &SshTarget) -> CommandSpec {
    CommandSpec::new("ssh")
        .args(["-O", "exit", "-o"])
        .arg(format!("ControlPath={}", options.control_path(target).display()))
        .arg("--")
        .arg(target.destination())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use super::*;

    fn options() -> SshOptions {
        SshOptions {
            runtime_dir: PathBuf::from("/srv/infra/.rave/ssh"),
            connect_timeout: Duration::from_secs(10),
            control_persist: Duration::from_secs(60),
        }
    }

    fn target(json: serde_json::Value) -> SshTarget {
        let spec = serde_json::from_value(json).unwrap();
        SshTarget::of_host(&"host.shoshin".parse().unwrap(), &spec, Path::new("/srv/infra")).unwrap()
    }

    #[test]
    fn a_remote_command_runs_with_the_pinned_key_and_a_shared_connection() {
        let target = target(serde_json::json!({ "ssh": "root@192.0.2.2", "host_key": "ssh-ed25519 AAAAC3Nza" }));
        let remote = ["/nix/store/abc-system/bin/switch-to-configuration", "switch"].map(String::from);
        insta::assert_snapshot!(ssh_command(&options(), &target, &remote), @"ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/srv/infra/.rave/ssh/known_hosts/rave.host.shoshin -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=rave.host.shoshin -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3 -o ControlMaster=auto -o ControlPath=/srv/infra/.rave/ssh/c-f231e62b512342ce -o ControlPersist=60 -- root@192.0.2.2 '/nix/store/abc-system/bin/switch-to-configuration switch'");
    }

    #[test]
    fn a_fresh_connection_leaves_the_shared_one_alone() {
        let target = target(serde_json::json!({ "ssh": "root@192.0.2.2", "host_key": "ssh-ed25519 AAAAC3Nza" }));
        insta::assert_snapshot!(fresh_ssh_command(&options(), &target, &["true".to_owned()]), @"ssh -o ControlMaster=no -o ControlPath=none -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/srv/infra/.rave/ssh/known_hosts/rave.host.shoshin -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=rave.host.shoshin -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3 -o ControlMaster=auto -o ControlPath=/srv/infra/.rave/ssh/c-f231e62b512342ce -o ControlPersist=60 -- root@192.0.2.2 true");
    }

    #[test]
    fn a_shared_connection_is_closed_by_its_socket() {
        let target = target(serde_json::json!({ "ssh": "root@192.0.2.2", "host_key": "ssh-ed25519 AAAAC3Nza" }));
        insta::assert_snapshot!(close_command(&options(), &target), @"ssh -O exit -o ControlPath=/srv/infra/.rave/ssh/c-f231e62b512342ce -- root@192.0.2.2");
    }

    #[test]
    fn nix_gets_the_pinned_key_of_one_target_or_only_the_shared_options() {
        let target = target(serde_json::json!({
            "ssh": "root@192.0.2.3", "port": 2222, "ssh_key": "file:keys/deploy", "host_key": "ssh-ed25519 AAAAC3Nza",
        }));
        insta::assert_snapshot!(nix_ssh_opts(&options(), Some(&target)), @"-o BatchMode=yes -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o UserKnownHostsFile=/srv/infra/.rave/ssh/known_hosts/rave.host.shoshin -o HostKeyAlias=rave.host.shoshin -o IdentitiesOnly=yes -i /srv/infra/keys/deploy -p 2222");
        insta::assert_snapshot!(nix_ssh_opts(&options(), None), @"-o BatchMode=yes -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10");
    }

    #[test]
    fn key_and_port_are_passed_and_remote_words_are_quoted_one_by_one() {
        let target = target(serde_json::json!({
            "ssh": "deploy@192.0.2.3", "port": 2222, "ssh_key": "file:keys/deploy", "host_key": "ssh-ed25519 AAAAC3Nza",
        }));
        let remote = ["systemctl", "is-active", "it's; rm -rf /"].map(String::from);
        let command = ssh_command(&options(), &target, &remote);
        let tail: Vec<&str> = command.args.iter().rev().take(9).rev().map(String::as_str).collect();
        assert_eq!(
            tail,
            [
                "-o",
                "IdentitiesOnly=yes",
                "-i",
                "/srv/infra/keys/deploy",
                "-p",
                "2222",
                "--",
                "deploy@192.0.2.3",
                r"systemctl is-active 'it'\''s; rm -rf /'"
            ]
        );
    }
}
