//! [`live_health`]: is a host or service healthy right now? What `rave status` asks, without a
//! plan and without state: the same checks an apply runs (a service's own `health:` or its type's
//! default probe; a host's `health:`, or for an SSH host without checks, whether it can be reached).

use super::command_spec::CommandSpec;
use super::placement::Placement;
use super::service_type::checks_of;
use super::{DriverContext, DriverError, health};
use crate::apply::EventSink;
use crate::model::{ResourceId, ResourceSpec};

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
/// (caches, builders, builds; VMs and containers until their drivers arrive).
pub(crate) async fn live_health(
    context: &DriverContext,
    address: &ResourceId,
    spec: &ResourceSpec,
    events: &EventSink,
) -> Option<LiveHealth> {
    let (placement, checks) = match spec {
        ResourceSpec::Host(host) => {
            let placement = Placement::of_host(address, host, context);
            (placement, Ok(Some(host.health.clone()).filter(|checks| !checks.is_empty())))
        }
        ResourceSpec::Service(service) => {
            let placement = Placement::of_target(address, &service.runs_on, context);
            let checks = placement.as_ref().map_or(Ok(None), |placement| checks_of(service, placement.address()));
            (placement, checks)
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
}
