//! [`Registry`]: the real drivers, one per kind, behind [`DriverSet`].
//!
//! The apply engine and refresh ask it for the driver of a kind; the plan asks the same driver
//! which attributes force a replacement (`registry.driver(kind).replace_attributes()`).

use super::build::BuildDriver;
use super::builder::BuilderDriver;
use super::cache::CacheDriver;
use super::container::ContainerDriver;
use super::host::HostDriver;
use super::service::ServiceDriver;
use super::vm::VmDriver;
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
    vm: VmDriver,
    container: ContainerDriver,
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
            ResourceKind::Vm => &self.vm,
            ResourceKind::Container => &self.container,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
