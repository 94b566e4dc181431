//! [`Placement`]: the machine a driver's commands and checks run on.
//!
//! Today rave reaches only the machine it runs on (`local: true` hosts). The type is an enum so
//! that SSH hosts, VMs and containers become variants when their transports arrive; until then
//! resolving one of those is an error that says what is missing. Running anything is not this
//! module's job.

use std::collections::BTreeMap;

use super::DriverError;
use super::unsupported::Unsupported;
use crate::model::{HostSpec, ResourceId, ResourceKind};

/// Where commands run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// On the machine rave runs on, without SSH.
    Local,
}

impl Placement {
    /// Where the commands for the host `address`, declared as `spec`, run.
    pub(crate) fn of_host(address: &ResourceId, spec: &HostSpec) -> Result<Self, DriverError> {
        if spec.local {
            return Ok(Self::Local);
        }
        Err(DriverError::new(format!(
            "deploying to `{address}` over SSH is not supported yet: this rave has no SSH transport (planned)"
        ))
        .with_detail("only hosts with `local: true` can be applied for now"))
    }

    /// Where the commands of `resource`, placed on `target` (its `runs_on`), run. `hosts` are
    /// the hosts the plan declares.
    pub(crate) fn of_target(
        resource: &ResourceId,
        target: &ResourceId,
        hosts: &BTreeMap<ResourceId, HostSpec>,
    ) -> Result<Self, DriverError> {
        match target.kind {
            ResourceKind::Host => {
                let Some(spec) = hosts.get(target) else {
                    return Err(DriverError::new(format!(
                        "`{resource}` runs on `{target}`, which is not in the plan being applied"
                    ))
                    .with_detail("make a new plan: every host a service runs on is part of it"));
                };
                if spec.local {
                    Ok(Self::Local)
                } else {
                    Err(DriverError::new(format!(
                        "running `{resource}` on `{target}` over SSH is not supported yet: \
                         this rave has no SSH transport (planned)"
                    ))
                    .with_detail("only services on hosts with `local: true` can be applied for now"))
                }
            }
            ResourceKind::Vm | ResourceKind::Container => {
                let missing = if target.kind == ResourceKind::Vm { Unsupported::VM } else { Unsupported::CONTAINER };
                Err(DriverError::new(format!(
                    "running `{resource}` on `{target}` is not supported yet: this rave has no {} (planned)",
                    missing.feature
                )))
            }
            ResourceKind::Cache | ResourceKind::Builder | ResourceKind::Build | ResourceKind::Service => {
                Err(DriverError::new(format!(
                    "`{resource}` cannot run on `{target}`: a service runs on a host, a VM or a container"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_local_host_runs_here() {
        assert_eq!(Placement::of_host(&address("host.workstation"), &host(true)), Ok(Placement::Local));
    }

    #[test]
    fn an_ssh_host_is_not_reachable_yet() {
        let error = Placement::of_host(&address("host.shoshin"), &host(false)).unwrap_err();
        assert_eq!(
            error.summary,
            "deploying to `host.shoshin` over SSH is not supported yet: this rave has no SSH transport (planned)"
        );
    }

    #[test]
    fn a_service_runs_where_its_host_is() {
        let hosts = BTreeMap::from([(address("host.here"), host(true)), (address("host.there"), host(false))]);
        let service = address("service.nats");
        assert_eq!(Placement::of_target(&service, &address("host.here"), &hosts), Ok(Placement::Local));
        let messages: Vec<String> = ["host.there", "host.elsewhere", "vm.gitlab", "container.registry"]
            .into_iter()
            .map(|target| Placement::of_target(&service, &address(target), &hosts).unwrap_err().summary)
            .collect();
        assert_eq!(
            messages,
            [
                "running `service.nats` on `host.there` over SSH is not supported yet: this rave has no SSH transport (planned)",
                "`service.nats` runs on `host.elsewhere`, which is not in the plan being applied",
                "running `service.nats` on `vm.gitlab` is not supported yet: this rave has no microVM driver (planned)",
                "running `service.nats` on `container.registry` is not supported yet: this rave has no NixOS container driver (planned)",
            ]
        );
    }
}
