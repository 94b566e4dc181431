//! [`Registry`]: the real drivers, one per kind, behind [`DriverSet`].
//!
//! The apply engine and refresh ask it for the driver of a kind; the plan asks the same driver
//! which attributes force a replacement (`registry.driver(kind).replace_attributes()`).

use super::build::BuildDriver;
use super::builder::BuilderDriver;
use super::cache::CacheDriver;
use super::host::HostDriver;
use super::service::ServiceDriver;
use super::unsupported::Unsupported;
use super::{Driver, DriverSet};
use crate::model::ResourceKind;

/// The real drivers, one per kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Registry {
    host: HostDriver,
    service: ServiceDriver,
    cache: CacheDriver,
    builder: BuilderDriver,
    build: BuildDriver,
}

impl Registry {
    /// Every driver this build of rave has.
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

impl DriverSet for Registry {
    fn driver(&self, kind: ResourceKind) -> &dyn Driver {
        match kind {
            ResourceKind::Host => &self.host,
            ResourceKind::Service => &self.service,
            ResourceKind::Cache => &self.cache,
            ResourceKind::Builder => &self.builder,
            ResourceKind::Build => &self.build,
            ResourceKind::Vm => &Unsupported::VM,
            ResourceKind::Container => &Unsupported::CONTAINER,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::drivers::DriverContext;
    use crate::drivers::test_support::{recorded, sink};
    use crate::model::{ResourceId, ResourceSpec};
    use crate::plan::{Desired, Observed};

    #[test]
    fn each_kind_has_its_replace_attributes() {
        let registry = Registry::new();
        let table: Vec<(ResourceKind, &[&str])> =
            ResourceKind::ALL.into_iter().map(|kind| (kind, registry.driver(kind).replace_attributes())).collect();
        let expected: Vec<(ResourceKind, &[&str])> = vec![
            (ResourceKind::Cache, &["type", "name", "uri"]),
            (ResourceKind::Builder, &["ssh", "port"]),
            (ResourceKind::Build, &[]),
            (ResourceKind::Host, &["ssh", "port", "local"]),
            (ResourceKind::Vm, &["host", "hypervisor"]),
            (ResourceKind::Container, &["host"]),
            (ResourceKind::Service, &["type", "runs_on"]),
        ];
        assert_eq!(table, expected);
    }

    #[tokio::test]
    async fn kinds_without_a_driver_yet_refuse_to_act_and_say_why() {
        let registry = Registry::new();
        let context = DriverContext::default();
        let (events, _receiver) = sink("vm.gitlab");
        let address = "vm.gitlab".parse().unwrap();
        let spec = serde_json::from_value(serde_json::json!({ "host": "shoshin" })).unwrap();
        let desired = Desired {
            spec: ResourceSpec::Vm(spec),
            dependencies: Vec::new(),
            secret_digests: BTreeMap::new(),
            derivation: None,
        };
        let recorded = recorded();
        let driver = registry.driver(ResourceKind::Vm);
        let created = driver.create(&context, &events, &address, &desired).await.unwrap_err();
        assert_eq!(
            created.to_string(),
            "creating `vm.gitlab` is not supported yet: this rave has no microVM driver (planned)\n  leave it out with `--exclude vm.gitlab`, or remove it from the file"
        );
        let updated = driver.update(&context, &events, &address, &recorded, &desired).await.unwrap_err();
        assert_eq!(
            updated.summary,
            "updating `vm.gitlab` is not supported yet: this rave has no microVM driver (planned)"
        );
        let deleted = driver.delete(&context, &events, &address, &recorded).await.unwrap_err();
        assert_eq!(
            deleted.to_string(),
            "deleting `vm.gitlab` is not supported yet: this rave has no microVM driver (planned)\n  to forget it without deleting it, run `rave state rm vm.gitlab`"
        );
        assert_eq!(driver.refresh(&context, &address, &recorded).await, Ok(Observed::AsRecorded));

        let mut messages = Vec::new();
        for text in ["container.registry"] {
            let address: ResourceId = text.parse().unwrap();
            let driver = registry.driver(address.kind);
            messages.push(driver.delete(&context, &events, &address, &recorded).await.unwrap_err().summary);
        }
        assert_eq!(
            messages,
            ["deleting `container.registry` is not supported yet: this rave has no NixOS container driver (planned)"]
        );
    }
}
