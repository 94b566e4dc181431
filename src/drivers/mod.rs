//! The boundary between rave's core and the world: one [`Driver`] per kind of resource.
//!
//! Core owns identity, ordering, diffing, the update-vs-replace decision, state and rendering. A
//! driver knows one kind of thing: how to read reality ([`Driver::refresh`]), which attributes
//! cannot change in place ([`Driver::replace_attributes`]), and how to create, update and delete,
//! idempotently (an apply may resume after a crash). Drivers never print: they report through
//! [`crate::apply::EventSink`]. Only `process.rs` starts programs.

mod build;
mod builder;
pub(crate) mod cache;
pub(crate) mod command_spec;
mod container;
pub(crate) mod health;
mod host;
pub(crate) mod live_health;
mod nixos;
pub(crate) mod placement;
pub(crate) mod process;
mod registry;
mod service;
mod service_type;
pub(crate) mod ssh;
#[cfg(test)]
mod test_support;
mod vm;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

pub(crate) use registry::Registry;

use crate::apply::EventSink;
use crate::config::NixSettings;
use crate::model::{BuilderSpec, CacheSpec, HostSpec, ResourceId, ResourceKind, ResourceSpec, ServiceSpec};
use crate::plan::{Desired, Observed};
use crate::state::ResourceState;

/// A boxed future, so drivers can be trait objects.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a driver reports after acting: store paths, PIDs, addresses. Recorded in state.
pub(crate) type Outputs = BTreeMap<String, serde_json::Value>;

/// What every driver call gets besides the resource itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct DriverContext {
    /// Every host the plan declares, by address: how a driver reaches the host that something
    /// (a service, later a VM or container) is placed on. Fill it with [`DriverContext::hosts_of`].
    pub(crate) hosts: BTreeMap<ResourceId, HostSpec>,
    /// The desired-state file's directory: relative `file:` references start here.
    pub(crate) base_dir: PathBuf,
    /// rave's own directory for the project (`.rave/`): generated files, SSH runtime files.
    pub(crate) work_dir: PathBuf,
    /// Every cache the plan declares, by address: where builds, host systems and VM runners are
    /// pushed (see `cache::push`). Fill it with [`DriverContext::caches_of`].
    pub(crate) caches: BTreeMap<ResourceId, CacheSpec>,
    /// Every remote builder the plan declares, by address: where builds that name them run.
    /// Fill it with [`DriverContext::builders_of`].
    pub(crate) builders: BTreeMap<ResourceId, BuilderSpec>,
    /// The file's `nix:` settings: the flake that `.#attr` references point into.
    pub(crate) nix: NixSettings,
    /// Every service the plan declares, by address: the generated flake of a VM imports the
    /// modules of the services placed on it. Fill it with [`DriverContext::services_of`].
    pub(crate) services: BTreeMap<ResourceId, ServiceSpec>,
    /// Whether deleting a VM also deletes its volume images (`--destroy-volumes`).
    pub(crate) destroy_volumes: bool,
}

impl DriverContext {
    /// The hosts among `resources` (a plan's desired specs, or a `Spec`'s), for [`Self::hosts`].
    pub(crate) fn hosts_of<'a>(
        resources: impl IntoIterator<Item = (&'a ResourceId, &'a ResourceSpec)>,
    ) -> BTreeMap<ResourceId, HostSpec> {
        specs_of(resources, |spec| if let ResourceSpec::Host(host) = spec { Some(host) } else { None })
    }

    /// The caches among `resources`, for [`Self::caches`].
    pub(crate) fn caches_of<'a>(
        resources: impl IntoIterator<Item = (&'a ResourceId, &'a ResourceSpec)>,
    ) -> BTreeMap<ResourceId, CacheSpec> {
        specs_of(resources, |spec| if let ResourceSpec::Cache(cache) = spec { Some(cache) } else { None })
    }

    /// The services among `resources`, for [`Self::services`].
    pub(crate) fn services_of<'a>(
        resources: impl IntoIterator<Item = (&'a ResourceId, &'a ResourceSpec)>,
    ) -> BTreeMap<ResourceId, ServiceSpec> {
        resources
            .into_iter()
            .filter_map(|(address, spec)| match spec {
                ResourceSpec::Service(service) => Some((address.clone(), service.clone())),
                _ => None,
            })
            .collect()
    }

    /// The builders among `resources`, for [`Self::builders`].
    pub(crate) fn builders_of<'a>(
        resources: impl IntoIterator<Item = (&'a ResourceId, &'a ResourceSpec)>,
    ) -> BTreeMap<ResourceId, BuilderSpec> {
        specs_of(resources, |spec| if let ResourceSpec::Builder(builder) = spec { Some(builder) } else { None })
    }
}

/// The specs of one kind among `resources`, by address: what `pick` finds in each.
fn specs_of<'a, T: Clone + 'a>(
    resources: impl IntoIterator<Item = (&'a ResourceId, &'a ResourceSpec)>,
    pick: impl Fn(&'a ResourceSpec) -> Option<&'a T>,
) -> BTreeMap<ResourceId, T> {
    resources
        .into_iter()
        .filter_map(|(address, spec)| pick(spec).map(|found| (address.clone(), found.clone())))
        .collect()
}

/// A driver's failure: what went wrong, said for the user, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DriverError {
    /// One line: what failed.
    pub(crate) summary: String,
    /// Supporting lines: the command run, its exit status, the last lines it printed.
    pub(crate) details: Vec<String>,
    /// Whether the resource may have been left half done (it is then marked tainted and replaced
    /// by the next plan).
    pub(crate) is_partial: bool,
}

impl DriverError {
    /// A failure that left nothing half done.
    pub(crate) fn new(summary: impl Into<String>) -> Self {
        Self { summary: summary.into(), details: Vec::new(), is_partial: false }
    }

    /// Adds a supporting line.
    #[must_use]
    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }

    /// A driver was handed a spec of another kind: a bug in rave, not in the file.
    pub(crate) fn wrong_kind(address: &ResourceId, spec: &ResourceSpec) -> Self {
        Self::new(format!("`{address}` was handed a `{}` spec: this is a bug in rave", spec.kind()))
    }

    /// Marks the resource as possibly half done. No driver leaves work half done yet; the engine
    /// already records such a resource as tainted.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn partial(mut self) -> Self {
        self.is_partial = true;
        self
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)?;
        for detail in &self.details {
            write!(f, "\n  {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DriverError {}

/// Knows one kind of resource.
pub(crate) trait Driver: Send + Sync {
    /// Attributes that cannot change in place: a change to one plans a replacement.
    fn replace_attributes(&self) -> &'static [&'static str];

    /// Whether a replacement creates the new resource before destroying the old one (`+/-`),
    /// rather than destroying first (`-/+`, the default).
    fn creates_before_destroying(&self) -> bool {
        false
    }

    /// Reads what is really there for a recorded resource. The default reports it as recorded,
    /// for drivers that have nothing cheap to read back.
    fn refresh<'a>(
        &'a self,
        _context: &'a DriverContext,
        _address: &'a ResourceId,
        _recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<Observed, DriverError>> {
        Box::pin(async { Ok(Observed::AsRecorded) })
    }

    /// Brings a new resource into being.
    fn create<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>>;

    /// Changes an existing resource in place. The default converges it as `create` does, for
    /// drivers whose create is already idempotent.
    fn update<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        _recorded: &'a ResourceState,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        self.create(context, events, address, desired)
    }

    /// Removes a resource; succeeds when it is already gone.
    fn delete<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
}

/// The drivers an apply or refresh uses, one per kind.
pub(crate) trait DriverSet: Send + Sync {
    /// The driver for `kind`.
    fn driver(&self, kind: ResourceKind) -> &dyn Driver;
}
