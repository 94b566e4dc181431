//! When `ssh` itself fails (exit code 255: the machine could not be reached, its key was not the
//! pinned one, the login was refused), the error names the resource and quotes ssh's own last
//! words, with a hint for the usual causes, instead of ssh's whole banner.

use super::SshTarget;
use crate::drivers::DriverError;
use crate::drivers::process::{ProcessError, Termination};

/// The exit code ssh uses for its own failures (a remote command's code is passed through).
const SSH_FAILURE_CODE: i32 = 255;

/// ssh failing to reach a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshFailure {
    /// What to report.
    pub(crate) error: DriverError,
    /// Whether trying again may help (the machine was not reachable yet); a refused key or login
    /// stays refused.
    pub(crate) is_transient: bool,
}

/// The failure `error` is when it is ssh failing to reach `target`, not the remote command failing.
pub(crate) fn ssh_failure(target: &SshTarget, error: &ProcessError) -> Option<SshFailure> {
    let ProcessError::Failed { status: Termination::Code(SSH_FAILURE_CODE), command, last_stderr, .. } = error else {
        return None;
    };
    let said = last_stderr.iter().rev().map(|line| line.trim()).find(|line| !line.is_empty());
    let words = said
        .map_or_else(|| "ssh exited with code 255 and said nothing".to_owned(), |line| format!("ssh says \"{line}\""));
    let mut failure =
        DriverError::new(format!("cannot reach `{}` over SSH (`{}`): {words}", target.address, target.destination()));
    let text = said.unwrap_or_default();
    let is_transient = !(text.contains("Host key verification failed") || text.contains("Permission denied"));
    if text.contains("Host key verification failed") {
        if let Some(fingerprint) = presented_key(last_stderr) {
            failure = failure.with_detail(format!("the machine presented {fingerprint}"));
        }
        failure = failure.with_detail(format!(
            "its key is not the `host_key` pinned for `{}`: if the machine's key changed on purpose, write the new one there (`ssh-keyscan`)",
            target.address
        ));
    } else if text.contains("Permission denied") {
        failure = failure.with_detail(format!(
            "the machine refused the login of `{}`: check `ssh_key` and the machine's authorized keys",
            target.user
        ));
    } else if text.contains("Connection refused") || text.contains("timed out") || text.contains("No route to host") {
        failure = failure.with_detail("check that the machine is up and that sshd listens at that address and port");
    }
    Some(SshFailure { error: failure.with_detail(format!("command: {command}")), is_transient })
}

/// "the ED25519 key SHA256:…", from ssh's warning about a changed key.
fn presented_key(stderr: &[String]) -> Option<String> {
    let position = stderr.iter().position(|line| line.contains("The fingerprint for the "))?;
    let kind = stderr[position].split("The fingerprint for the ").nth(1)?.split(" key").next()?.trim();
    let fingerprint = stderr.get(position + 1)?.trim().trim_end_matches('.');
    Some(format!("the {kind} key {fingerprint}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn target() -> SshTarget {
        let spec =
            serde_json::from_value(serde_json::json!({ "ssh": "root@192.0.2.2", "host_key": "ssh-ed25519 AAAA" }))
                .unwrap();
        SshTarget::of_host(&"host.shoshin".parse().unwrap(), &spec, Path::new(".")).unwrap()
    }

    fn failed(code: i32, stderr: &[&str]) -> ProcessError {
        ProcessError::Failed {
            program: "ssh".to_owned(),
            command: "ssh -- root@192.0.2.2 true".to_owned(),
            status: Termination::Code(code),
            last_stderr: stderr.iter().map(|line| (*line).to_owned()).collect(),
            last_stdout: Vec::new(),
        }
    }

    #[test]
    fn a_changed_key_is_named_with_what_the_machine_presented() {
        let stderr = [
            "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
            "The fingerprint for the ED25519 key sent by the remote host is",
            "SHA256:bI0cPRlDqEcyUPAQNB/JI9Aa+AwUsj/KJMbPOWnuAaY.",
            "Host key for rave.host.shoshin has changed and you have requested strict checking.",
            "Host key verification failed.",
        ];
        let failure = ssh_failure(&target(), &failed(255, &stderr)).unwrap();
        assert!(!failure.is_transient);
        let error = failure.error;
        insta::assert_snapshot!(error, @r#"
        cannot reach `host.shoshin` over SSH (`root@192.0.2.2`): ssh says "Host key verification failed."
          the machine presented the ED25519 key SHA256:bI0cPRlDqEcyUPAQNB/JI9Aa+AwUsj/KJMbPOWnuAaY
          its key is not the `host_key` pinned for `host.shoshin`: if the machine's key changed on purpose, write the new one there (`ssh-keyscan`)
          command: ssh -- root@192.0.2.2 true
        "#);
    }

    #[test]
    fn refused_logins_and_connections_get_their_hints() {
        let denied =
            ssh_failure(&target(), &failed(255, &["root@192.0.2.2: Permission denied (publickey)."])).unwrap().error;
        assert_eq!(
            denied.details[0],
            "the machine refused the login of `root`: check `ssh_key` and the machine's authorized keys"
        );
        let refused =
            ssh_failure(&target(), &failed(255, &["ssh: connect to host 192.0.2.2 port 22: Connection refused", ""]))
                .unwrap();
        assert!(refused.is_transient);
        assert_eq!(
            refused.error.summary,
            "cannot reach `host.shoshin` over SSH (`root@192.0.2.2`): ssh says \"ssh: connect to host 192.0.2.2 port 22: Connection refused\""
        );
    }

    #[test]
    fn a_remote_command_failing_is_not_an_ssh_failure() {
        assert_eq!(ssh_failure(&target(), &failed(1, &["not ready"])), None);
    }
}
