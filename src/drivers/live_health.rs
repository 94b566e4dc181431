//! [`live_health`]: is a host or service healthy right now? What `rave status` asks, without a
//! plan and without state: the same checks an apply runs (a service's own `health:` or its type's
//! default probe; a host's, VM's or container's `health:`, or for an SSH host without checks, whether it
//! can be reached).

use super::command_spec::CommandSpec;
use super::placement::Placement;
use super::service_type::checks_of;
use super::{DriverContext, DriverError, health};
use crate::apply::EventSink;
use crate::model::{HealthChecks, Name, ResourceId, ResourceKind, ResourceSpec, VmState};

/// What a resource's checks found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LiveHealth {
    /// Every check passed; how the last one did.
    Healthy(String),
    /// A check failed.
    Unhealthy(DriverError),
    /// Nothing could be checked; why.
    Unchecked(String),
}

/// The live health of `address`, declared as `spec`; `None` for kinds that have no health here
/// (caches, builders, builds). A VM's or container's checks run on its host, as an apply runs them.
pub(crate) async fn live_health(
    context: &DriverContext,
    address: &ResourceId,
    spec: &ResourceSpec,
    events: &EventSink,
) -> Option<LiveHealth> {
    let (placement, checks) = match spec {
        ResourceSpec::Host(host) => {
            let placement = Placement::of_host(address, host, context);
            (placement, Ok(Some(host.health.clone()).filter(has_checks)))
        }
        ResourceSpec::Service(service) => {
            let placement = Placement::of_target(address, &service.runs_on, context);
            let checks = placement.as_ref().map_or(Ok(None), |placement| checks_of(service, placement.address()));
            (placement, checks)
        }
        ResourceSpec::Vm(vm) if vm.state == VmState::Stopped => {
            return Some(LiveHealth::Unchecked("the file says `state: stopped`".to_owned()));
        }
        ResourceSpec::Vm(vm) => (on_host(address, &vm.host, context), Ok(Some(vm.health.clone()).filter(has_checks))),
        ResourceSpec::Container(container) => {
            (on_host(address, &container.host, context), Ok(Some(container.health.clone()).filter(has_checks)))
        }
        _ => return None,
    };
    let placement = match placement {
        Ok(placement) => placement,
        Err(error) => return Some(LiveHealth::Unchecked(error.summary)),
    };
    Some(match checks {
        Err(problem) => LiveHealth::Unchecked(problem),
        Ok(Some(checks)) => match health::check_all(&checks, &placement, events).await {
            Ok(passed) => LiveHealth::Healthy(passed.last().cloned().unwrap_or_default()),
            Err(error) => LiveHealth::Unhealthy(error),
        },
        Ok(None) if matches!(placement, Placement::Ssh(_)) => {
            match placement.run(CommandSpec::new("true").timeout(health::DEFAULT_TIMEOUT), events).await {
                Ok(_) => LiveHealth::Healthy("reachable over SSH".to_owned()),
                Err(error) => LiveHealth::Unhealthy(error),
            }
        }
        Ok(None) => LiveHealth::Unchecked(match spec {
            ResourceSpec::Service(service) => {
                format!("declares no `health`, and type `{}` has no default probe", service.service_type)
            }
            _ => "declares no `health`".to_owned(),
        }),
    })
}

/// Whether a resource declares any check.
fn has_checks(checks: &HealthChecks) -> bool {
    !checks.is_empty()
}

/// Where a VM's or container's checks run: its host.
fn on_host(address: &ResourceId, host: &Name, context: &DriverContext) -> Result<Placement, DriverError> {
    Placement::of_target(address, &ResourceId::new(ResourceKind::Host, host.clone()), context)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::drivers::test_support::{closed_port, sink};

    fn context() -> DriverContext {
        let host = ResourceSpec::Host(serde_json::from_value(json!({ "local": true })).unwrap());
        let address: ResourceId = "host.here".parse().unwrap();
        DriverContext { hosts: DriverContext::hosts_of([(&address, &host)]), ..DriverContext::default() }
    }

    async fn health_of(address: &str, spec: serde_json::Value) -> Option<LiveHealth> {
        let (events, _receiver) = sink(address);
        let address: ResourceId = address.parse().unwrap();
        let spec = match address.kind {
            crate::model::ResourceKind::Host => ResourceSpec::Host(serde_json::from_value(spec).unwrap()),
            crate::model::ResourceKind::Vm => ResourceSpec::Vm(serde_json::from_value(spec).unwrap()),
            _ => ResourceSpec::Service(serde_json::from_value(spec).unwrap()),
        };
        live_health(&context(), &address, &spec, &events).await
    }

    #[tokio::test]
    async fn hosts_and_services_say_how_they_are() {
        let healthy = health_of("host.here", json!({ "local": true, "health": { "command": ["true"] } })).await;
        assert_eq!(healthy, Some(LiveHealth::Healthy("`true` succeeded".to_owned())));
        let unchecked = health_of("host.here", json!({ "local": true })).await;
        assert_eq!(unchecked, Some(LiveHealth::Unchecked("declares no `health`".to_owned())));
        let port = closed_port();
        let redis = health_of("service.redis", json!({ "type": "redis", "runs_on": "host.here", "port": port })).await;
        let Some(LiveHealth::Unhealthy(error)) = redis else { panic!("{redis:?}") };
        assert_eq!(error.summary, format!("health check failed: tcp 127.0.0.1:{port} refused the connection"));
        let outline = health_of("service.wiki", json!({ "type": "outline", "runs_on": "host.here" })).await;
        assert_eq!(
            outline,
            Some(LiveHealth::Unchecked("declares no `health`, and type `outline` has no default probe".to_owned()))
        );
    }

    #[tokio::test]
    async fn a_vm_is_checked_on_its_host_unless_the_file_stops_it() {
        let port = closed_port();
        let vm = json!({ "host": "here", "memory": "256MiB", "health": { "tcp": format!("127.0.0.1:{port}") } });
        let Some(LiveHealth::Unhealthy(error)) = health_of("vm.web", vm.clone()).await else { panic!("unhealthy") };
        assert_eq!(error.summary, format!("health check failed: tcp 127.0.0.1:{port} refused the connection"));
        let mut stopped = vm;
        stopped["state"] = json!("stopped");
        let unchecked = health_of("vm.web", stopped).await;
        assert_eq!(unchecked, Some(LiveHealth::Unchecked("the file says `state: stopped`".to_owned())));
    }
}
