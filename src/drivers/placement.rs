//! [`Placement`]: the machine a driver's commands and checks run on.
//!
//! The machine rave runs on (`local: true` hosts) runs commands directly; a host declared with
//! `ssh:` runs them through the SSH transport (`drivers::ssh`). Services inside VMs and
//! containers are reached through their guests' own addresses, which rave does not manage yet:
//! resolving one of those is an error that says so. Running anything is not this module's job.

use super::command_spec::CommandSpec;
use super::process::{self, ProcessError, ProcessOutput};
use super::ssh::failure::SshFailure;
use super::ssh::{SshConnection, SshOptions, SshTarget, ssh_failure};
use super::{DriverContext, DriverError};
use crate::apply::EventSink;
use crate::model::{HostSpec, ResourceId, ResourceKind};

/// How long confirming that a machine takes new connections may take.
const CONFIRM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where commands run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// On the machine rave runs on, without SSH.
    Local,
    /// On a machine reached over SSH.
    Ssh(Box<SshConnection>),
}

impl Placement {
    /// Where the commands for the host `address`, declared as `spec`, run.
    pub(crate) fn of_host(address: &ResourceId, spec: &HostSpec, context: &DriverContext) -> Result<Self, DriverError> {
        if spec.local {
            return Ok(Self::Local);
        }
        let target = SshTarget::of_host(address, spec, &context.base_dir)?;
        Ok(Self::Ssh(Box::new(SshConnection { options: SshOptions::for_work_dir(&context.work_dir), target })))
    }

    /// Where the commands of `resource`, placed on `target` (its `runs_on`), run.
    pub(crate) fn of_target(
        resource: &ResourceId,
        target: &ResourceId,
        context: &DriverContext,
    ) -> Result<Self, DriverError> {
        match target.kind {
            ResourceKind::Host => {
                let Some(spec) = context.hosts.get(target) else {
                    return Err(DriverError::new(format!(
                        "`{resource}` runs on `{target}`, which is not in the plan being applied"
                    ))
                    .with_detail("make a new plan: every host a service runs on is part of it"));
                };
                Self::of_host(target, spec, context)
            }
            ResourceKind::Vm | ResourceKind::Container => Err(DriverError::new(format!(
                "running `{resource}` on `{target}` is not supported yet: rave cannot reach inside a guest (planned)"
            ))
            .with_detail(format!(
                "`{target}` runs the service from its own NixOS configuration; check it with the guest's `health:`"
            ))),
            ResourceKind::Cache | ResourceKind::Builder | ResourceKind::Build | ResourceKind::Service => {
                Err(DriverError::new(format!(
                    "`{resource}` cannot run on `{target}`: a service runs on a host, a VM or a container"
                )))
            }
        }
    }

    /// `command`, made to run here: as it is on the local machine, through `ssh` on a remote one.
    pub(crate) fn command(&self, command: CommandSpec) -> Result<CommandSpec, DriverError> {
        match self {
            Self::Local => Ok(command),
            Self::Ssh(connection) => connection.command(&command),
        }
    }

    /// The address probes from rave's machine reach this placement at: the loopback address for
    /// the machine rave runs on, the SSH host name or address otherwise.
    pub(crate) fn address(&self) -> &str {
        match self {
            Self::Local => "127.0.0.1",
            Self::Ssh(connection) => &connection.target.host,
        }
    }

    /// Runs `command` here; a failure of ssh itself names the machine and quotes ssh.
    pub(crate) async fn run(&self, command: CommandSpec, events: &EventSink) -> Result<ProcessOutput, DriverError> {
        let spec = self.command(command)?;
        process::run(&spec, Some(events))
            .await
            .map_err(|error| self.ssh_failure(&error).map_or_else(|| error.into(), |failure| failure.error))
    }

    /// Whether the machine still takes new SSH connections (a fresh login, not the shared
    /// connection, which may outlive a broken network or sshd); always so for the local machine.
    pub(crate) async fn confirm_reachable(&self, events: &EventSink) -> Result<(), DriverError> {
        let Self::Ssh(connection) = self else { return Ok(()) };
        let probe = connection.fresh_probe(CONFIRM_TIMEOUT)?;
        process::run(&probe, Some(events)).await.map(drop).map_err(|error| {
            let failure = self.ssh_failure(&error).map_or_else(|| error.into(), |failure| failure.error);
            DriverError { summary: format!("no new SSH connection after activating: {}", failure.summary), ..failure }
        })
    }

    /// The error to report when `error` is ssh failing to reach this placement, rather than the
    /// command failing there.
    pub(crate) fn ssh_failure(&self, error: &ProcessError) -> Option<SshFailure> {
        match self {
            Self::Local => None,
            Self::Ssh(connection) => ssh_failure(&connection.target, error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    fn host(local: bool) -> HostSpec {
        let spec = if local {
            serde_json::json!({ "local": true })
        } else {
            serde_json::json!({ "ssh": "root@192.0.2.2", "host_key": "ssh-ed25519 AAAA" })
        };
        serde_json::from_value(spec).unwrap()
    }

    fn address(text: &str) -> ResourceId {
        text.parse().unwrap()
    }

    fn context(hosts: &[(&str, bool)]) -> DriverContext {
        DriverContext {
            hosts: hosts.iter().map(|(name, local)| (address(name), host(*local))).collect::<BTreeMap<_, _>>(),
            base_dir: "/srv/infra".into(),
            work_dir: "/srv/infra/.rave".into(),
            ..DriverContext::default()
        }
    }

    #[test]
    fn a_local_host_runs_commands_as_they_are() {
        let placement = Placement::of_host(&address("host.workstation"), &host(true), &context(&[])).unwrap();
        assert_eq!(placement, Placement::Local);
        let command = CommandSpec::new("uname").arg("-m");
        assert_eq!(placement.command(command.clone()), Ok(command));
    }

    #[test]
    fn an_ssh_host_runs_commands_through_ssh_with_its_key_pinned() {
        let work = tempfile::tempdir().unwrap();
        let mut context = context(&[]);
        context.work_dir = work.path().to_path_buf();
        let placement = Placement::of_host(&address("host.shoshin"), &host(false), &context).unwrap();
        let Placement::Ssh(connection) = &placement else { panic!("not over ssh: {placement:?}") };
        assert_eq!(connection.target.destination(), "root@192.0.2.2");
        let command = CommandSpec::new("uname").arg("-m").timeout(std::time::Duration::from_secs(3));
        let remote = placement.command(command).unwrap();
        assert_eq!(remote.program, "ssh");
        assert_eq!(remote.args.last().map(String::as_str), Some("uname -m"));
        assert_eq!(remote.timeout, Some(std::time::Duration::from_secs(3)));
        let known_hosts = std::fs::read_to_string(connection.options.known_hosts_file(&connection.target)).unwrap();
        assert_eq!(known_hosts, "rave.host.shoshin ssh-ed25519 AAAA\n");
        assert!(connection.options.runtime_dir.starts_with(std::env::temp_dir()));
    }

    #[test]
    fn a_remote_command_gets_no_environment() {
        let connection = SshConnection {
            options: SshOptions::for_work_dir(Path::new("/srv/infra/.rave")),
            target: SshTarget::of_host(&address("host.shoshin"), &host(false), Path::new("/srv/infra")).unwrap(),
        };
        let error = Placement::Ssh(Box::new(connection))
            .command(CommandSpec::new("cachix").env("CACHIX_AUTH_TOKEN", "secret").arg("push"))
            .unwrap_err();
        assert_eq!(
            error.summary,
            "cannot run `CACHIX_AUTH_TOKEN=<hidden> cachix push` on `host.shoshin`: a remote command gets no environment or directory from rave"
        );
    }

    #[test]
    fn a_service_runs_where_its_host_is() {
        let context = context(&[("host.here", true), ("host.there", false)]);
        let service = address("service.nats");
        assert_eq!(Placement::of_target(&service, &address("host.here"), &context), Ok(Placement::Local));
        assert!(matches!(Placement::of_target(&service, &address("host.there"), &context), Ok(Placement::Ssh(_))));
        let messages: Vec<String> = ["host.elsewhere", "vm.gitlab", "container.registry", "build.codex"]
            .into_iter()
            .map(|target| Placement::of_target(&service, &address(target), &context).unwrap_err().summary)
            .collect();
        assert_eq!(
            messages,
            [
                "`service.nats` runs on `host.elsewhere`, which is not in the plan being applied",
                "running `service.nats` on `vm.gitlab` is not supported yet: rave cannot reach inside a guest (planned)",
                "running `service.nats` on `container.registry` is not supported yet: rave cannot reach inside a guest (planned)",
                "`service.nats` cannot run on `build.codex`: a service runs on a host, a VM or a container",
            ]
        );
    }
}
