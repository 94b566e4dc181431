//! The SSH transport: how every driver reaches a machine that is not the one rave runs on.
//!
//! rave runs the OpenSSH client as argv, never a shell string. Host keys are pinned: each target
//! gets a known-hosts file written by rave from its declared `host_key`, checked with
//! `StrictHostKeyChecking=yes` under a `HostKeyAlias`, so a key is never trusted on first use and
//! the user's own `~/.ssh/known_hosts` plays no part. Connections are shared (`ControlMaster`) so
//! a host is handshaked once per apply, not once per step. This module builds command lines and
//! writes the known-hosts files; `drivers::process` runs them.
//!
//! - [`target`]: who to reach (`user@host`, port, pinned key, identity file).
//! - [`options`]: the client options every connection uses, and where its files live.
//! - [`command`]: pure builders of `ssh` argv and remote command lines.
//! - [`shared`]: closing the shared connections when a command ends.
//! - [`failure`]: ssh's own failures, said with the resource's name and ssh's words.
//! - [`SshConnection`]: a target with its options, turning a command into one run there.

pub(crate) mod command;
pub(crate) mod failure;
pub(crate) mod options;
pub(crate) mod shared;
pub(crate) mod target;

pub(crate) use command::{nix_ssh_opts, ssh_command};
pub(crate) use failure::ssh_failure;
pub(crate) use options::SshOptions;
pub(crate) use target::SshTarget;

use super::DriverError;
use super::command_spec::CommandSpec;

/// A machine reached over SSH, with the options every connection to it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshConnection {
    /// The project's SSH options.
    pub(crate) options: SshOptions,
    /// The machine.
    pub(crate) target: SshTarget,
}

impl SshConnection {
    /// `command`, run on the machine instead: its program and arguments become the remote
    /// command line, its time limit and input stay. Pins the target's key first.
    pub(crate) fn command(&self, command: &CommandSpec) -> Result<CommandSpec, DriverError> {
        if !command.env.is_empty() || command.cwd.is_some() {
            // Values set here would travel on the remote command line, where `ps` shows them.
            return Err(DriverError::new(format!(
                "cannot run `{command}` on `{}`: a remote command gets no environment or directory from rave",
                self.target.address
            )));
        }
        self.options.prepare(&self.target)?;
        let mut remote = Vec::with_capacity(command.args.len() + 1);
        remote.push(command.program.clone());
        remote.extend(command.args.iter().cloned());
        let mut ssh = ssh_command(&self.options, &self.target, &remote);
        ssh.timeout = command.timeout;
        ssh.stdin.clone_from(&command.stdin);
        Ok(ssh)
    }

    /// `true` on the machine over a new connection (not the shared one), within `limit`.
    pub(crate) fn fresh_probe(&self, limit: std::time::Duration) -> Result<CommandSpec, DriverError> {
        self.options.prepare(&self.target)?;
        Ok(command::fresh_ssh_command(&self.options, &self.target, &["true".to_owned()]).timeout(limit))
    }
}
