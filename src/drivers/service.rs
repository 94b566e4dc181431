//! [`ServiceDriver`]: `services:`, checked where they run.
//!
//! rave does not install or start a service itself: the configuration of the machine it runs on
//! does. Applying the service runs its health checks (its own `health:`, else its type's default
//! probe, `drivers::service_type`) against its placement; deleting it removes nothing. Services on
//! VMs and containers wait for those drivers.

use super::placement::Placement;
use super::service_type::checks_of;
use super::{BoxFuture, Driver, DriverContext, DriverError, Outputs, health};
use crate::apply::EventSink;
use crate::model::{ResourceId, ResourceSpec};
use crate::plan::Desired;
use crate::state::ResourceState;

/// The driver for services.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServiceDriver;

impl ServiceDriver {
    /// Create and update alike: check the service's health where it runs.
    async fn converge(
        context: &DriverContext,
        address: &ResourceId,
        desired: &Desired,
        events: &EventSink,
    ) -> Result<Outputs, DriverError> {
        let ResourceSpec::Service(spec) = &*desired.spec else {
            return Err(DriverError::wrong_kind(address, &desired.spec));
        };
        let placement = Placement::of_target(address, &spec.runs_on, context)?;
        match checks_of(spec, placement.address())
            .map_err(|problem| DriverError::new(format!("`{address}`: {problem}")))?
        {
            Some(checks) => drop(health::check_all(&checks, &placement, events).await?),
            None => events.progress(format!(
                "nothing was checked: `{address}` declares no `health`, and type `{}` has no default probe",
                spec.service_type
            )),
        }
        Ok(Outputs::new())
    }
}

impl Driver for ServiceDriver {
    fn replace_attributes(&self) -> &'static [&'static str] {
        // Another type is another program; another placement is another machine.
        &["type", "runs_on"]
    }

    fn create<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(Self::converge(context, address, desired, events))
    }

    fn delete<'a>(
        &'a self,
        _context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        _recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            events.progress(format!(
                "nothing to remove: rave checked `{address}` but does not run it on a host without `nixos:`"
            ));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::drivers::test_support::{closed_port, drain, progress, recorded, reply, serve_http, sink};

    fn context() -> DriverContext {
        let hosts = [
            ("host.workstation", json!({ "local": true })),
            ("host.shoshin", json!({ "ssh": "root@192.0.2.2", "host_key": "ssh-ed25519 AAAA" })),
        ];
        let specs: Vec<(ResourceId, ResourceSpec)> = hosts
            .into_iter()
            .map(|(address, spec)| {
                (address.parse().unwrap(), ResourceSpec::Host(serde_json::from_value(spec).unwrap()))
            })
            .collect();
        DriverContext { hosts: DriverContext::hosts_of(specs.iter().map(|(a, s)| (a, s))), ..DriverContext::default() }
    }

    fn desired(spec: serde_json::Value) -> Desired {
        let spec = serde_json::from_value(spec).unwrap();
        Desired {
            spec: ResourceSpec::Service(spec).into(),
            dependencies: Vec::new(),
            secret_digests: BTreeMap::new(),
            derivation: None,
        }
    }

    async fn create(spec: serde_json::Value) -> (Result<Outputs, DriverError>, Vec<String>) {
        let (events, mut receiver) = sink("service.web");
        let address: ResourceId = "service.web".parse().unwrap();
        let result = ServiceDriver.create(&context(), &events, &address, &desired(spec)).await;
        (result, progress(&drain(&mut receiver)))
    }

    #[tokio::test]
    async fn a_service_on_the_local_host_passes_its_http_check_against_a_real_server() {
        let (address, mut requests) = serve_http(vec![reply(503, "starting"), reply(200, "ready")]).await;
        let url = format!("http://{address}/-/health");
        let spec =
            json!({ "type": "nginx", "runs_on": "host.workstation", "health": { "http": url, "body": "ready" } });
        let (result, messages) = create(spec).await;
        assert_eq!(result, Ok(Outputs::new()));
        assert_eq!(
            messages,
            [
                format!("health check 1/3: {url} answered 503, expected 200"),
                format!("health check 2/3: {url} answered 200")
            ]
        );
        assert!(requests.recv().await.unwrap().starts_with("GET /-/health HTTP/1.1\r\n"));
    }

    #[tokio::test]
    async fn a_service_whose_check_fails_fails() {
        let closed = format!("127.0.0.1:{}", closed_port());
        let spec = json!({ "type": "nats", "runs_on": "host.workstation", "health": { "tcp": closed, "retries": 1 } });
        let (result, _) = create(spec).await;
        assert_eq!(result.unwrap_err().summary, format!("health check failed: tcp {closed} refused the connection"));
    }

    #[tokio::test]
    async fn a_service_of_an_unknown_type_without_checks_says_nothing_was_checked() {
        let (result, messages) = create(json!({ "type": "outline", "runs_on": "host.workstation" })).await;
        assert_eq!(result, Ok(Outputs::new()));
        assert_eq!(
            messages,
            ["nothing was checked: `service.web` declares no `health`, and type `outline` has no default probe"]
        );
    }

    #[tokio::test]
    async fn a_service_on_a_vm_is_not_supported_yet() {
        let (result, messages) = create(json!({ "type": "gitlab", "runs_on": "vm.gitlab" })).await;
        assert_eq!(
            result.unwrap_err().summary,
            "running `service.web` on `vm.gitlab` is not supported yet: rave cannot reach inside a guest (planned)"
        );
        assert!(messages.is_empty());
    }

    #[tokio::test]
    async fn deleting_a_service_removes_nothing() {
        let (events, mut receiver) = sink("service.web");
        let address: ResourceId = "service.web".parse().unwrap();
        assert_eq!(ServiceDriver.delete(&context(), &events, &address, &recorded()).await, Ok(()));
        assert_eq!(
            progress(&drain(&mut receiver)),
            ["nothing to remove: rave checked `service.web` but does not run it on a host without `nixos:`"]
        );
    }
}
