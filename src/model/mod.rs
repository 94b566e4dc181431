//! The validated desired state: every resource, typed, with its dependencies resolved.
//!
//! A [`Spec`] is built only by [`lower::lower`], which reports every problem in the file at once.
//! Nothing here reads files or runs programs.

/// Generated valid documents, for property tests.
#[cfg(test)]
pub(crate) mod arbitrary;
mod attribute_serializer;
mod duration;
pub(crate) mod lower;
mod resource_id;
mod resource_spec;
mod secret_ref;
mod size;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub(crate) use duration::Duration;
pub(crate) use resource_id::{Name, ResourceId, ResourceKind};
pub(crate) use resource_spec::{
    Attributes, BuildSpec, BuilderSpec, CacheSpec, CacheType, ContainerSpec, HealthCheck, HealthChecks, HostSpec,
    Hypervisor, Interface, ResourceSpec, ServiceSpec, VmSpec, VmState,
};
pub(crate) use secret_ref::SecretRef;
pub(crate) use size::Size;

use crate::config::{Moved, NixSettings, StateSettings};
use crate::diagnostic::Position;

/// The whole desired state, validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spec {
    /// The desired-state file it came from.
    pub(crate) source: PathBuf,
    /// The project name: the state lineage's name.
    pub(crate) project: Name,
    /// Where state lives.
    pub(crate) state: StateSettings,
    /// Defaults for Nix references.
    pub(crate) nix: NixSettings,
    /// Every resource, by address.
    pub(crate) resources: BTreeMap<ResourceId, Resource>,
    /// Renames from the `moved:` section, checked: each `to` is declared, each `from` is not.
    pub(crate) moved: Vec<Moved>,
}

/// One desired resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resource {
    /// Its address.
    pub(crate) id: ResourceId,
    /// What the user asked for; shared with the plan, which hands it to a driver.
    pub(crate) spec: Arc<ResourceSpec>,
    /// What it depends on, from references and `needs`, sorted, without repeats.
    pub(crate) dependencies: Vec<ResourceId>,
    /// Where it is declared (its key in the file).
    pub(crate) position: Position,
}
