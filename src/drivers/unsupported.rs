//! [`Unsupported`]: the driver for kinds whose real driver is still to come (VMs, containers).
//!
//! Planning works for these kinds (the driver knows which attributes force a replacement); acting
//! on one fails with an error that says what is missing and how to apply the rest of the file.
//! Refresh reports them as recorded, which costs nothing.

use super::{BoxFuture, Driver, DriverContext, DriverError, Outputs};
use crate::apply::EventSink;
use crate::model::{ResourceId, ResourceKind};
use crate::plan::Desired;
use crate::state::ResourceState;

/// A driver that plans a kind but cannot act on it yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unsupported {
    /// The kind it stands in for.
    kind: ResourceKind,
    /// What rave lacks to act on the kind, as in "this rave has no microVM driver".
    pub(crate) feature: &'static str,
    /// Attributes that cannot change in place.
    replace_attributes: &'static [&'static str],
}

impl Unsupported {
    /// `vms:`: a VM moves host or hypervisor only by being recreated.
    pub(crate) const VM: Self =
        Self { kind: ResourceKind::Vm, feature: "microVM driver", replace_attributes: &["host", "hypervisor"] };
    /// `containers:`: a container moves host only by being recreated.
    pub(crate) const CONTAINER: Self =
        Self { kind: ResourceKind::Container, feature: "NixOS container driver", replace_attributes: &["host"] };

    /// The error for `doing` (`creating`, `updating`, `deleting`) `address`.
    fn refuse(&self, doing: &str, address: &ResourceId) -> DriverError {
        debug_assert_eq!(address.kind, self.kind, "the registry hands each driver its own kind");
        DriverError::new(format!(
            "{doing} `{address}` is not supported yet: this rave has no {} (planned)",
            self.feature
        ))
    }
}

impl Driver for Unsupported {
    fn replace_attributes(&self) -> &'static [&'static str] {
        self.replace_attributes
    }

    fn create<'a>(
        &'a self,
        _context: &'a DriverContext,
        _events: &'a EventSink,
        address: &'a ResourceId,
        _desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(async move {
            Err(self
                .refuse("creating", address)
                .with_detail(format!("leave it out with `--exclude {address}`, or remove it from the file")))
        })
    }

    fn update<'a>(
        &'a self,
        _context: &'a DriverContext,
        _events: &'a EventSink,
        address: &'a ResourceId,
        _recorded: &'a ResourceState,
        _desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(async move {
            Err(self
                .refuse("updating", address)
                .with_detail(format!("leave it out with `--exclude {address}`, or undo the change in the file")))
        })
    }

    fn delete<'a>(
        &'a self,
        _context: &'a DriverContext,
        _events: &'a EventSink,
        address: &'a ResourceId,
        _recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            Err(self
                .refuse("deleting", address)
                .with_detail(format!("to forget it without deleting it, run `rave state rm {address}`")))
        })
    }
}
