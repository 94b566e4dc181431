//! A small lab of resources for tests: desired, recorded as applied, and a way to plan it.
//!
//! Shared by the diff's own tests and the renderers' snapshot tests, so both see real plans.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::attribute_diff::SecretDigests;
use super::diff::{DiffInput, PlanOptions, ReplaceRules, diff};
use super::{Observed, Plan, PlanError};
use crate::diagnostic::Position;
use crate::model::{Name, Resource, ResourceId, ResourceKind, ResourceSpec, Spec};
use crate::state::{ResourceState, State};

/// Parses an address.
pub(crate) fn id(text: &str) -> ResourceId {
    text.parse().unwrap()
}

/// Parses addresses.
pub(crate) fn ids(texts: &[&str]) -> Vec<ResourceId> {
    texts.iter().map(|text| id(text)).collect()
}

/// Each kind's rules in these tests: VMs move hosts and hypervisors only by replacement,
/// builds are replaced new-first.
pub(crate) fn rules(kind: ResourceKind) -> ReplaceRules {
    let forcing: &'static [&'static str] = match kind {
        ResourceKind::Vm => &["hypervisor", "host"],
        ResourceKind::Service => &["runs_on", "type"],
        ResourceKind::Host => &["system"],
        ResourceKind::Cache => &["type"],
        ResourceKind::Build => &["attr"],
        ResourceKind::Builder | ResourceKind::Container => &[],
    };
    ReplaceRules { forcing, create_before_destroy: kind == ResourceKind::Build }
}

/// A desired spec, a state that recorded it, what refresh saw, and the command line.
pub(crate) struct World {
    /// What the file asks for.
    pub(crate) desired: BTreeMap<ResourceId, ResourceSpec>,
    /// The desired secrets' digests.
    pub(crate) digests: BTreeMap<ResourceId, SecretDigests>,
    /// What was applied; `None` before the first apply.
    pub(crate) state: Option<State>,
    /// What refresh found.
    pub(crate) observed: BTreeMap<ResourceId, Observed>,
    /// The command line.
    pub(crate) options: PlanOptions,
    /// What Nix evaluated the Nix-built resources to; `None`: not evaluated.
    pub(crate) derivations: Option<BTreeMap<ResourceId, crate::nix::Derivation>>,
}

/// A spec of `kind` from its fields as the file writes them.
pub(crate) fn spec(kind: &str, fields: Value) -> ResourceSpec {
    let mut object = serde_json::Map::new();
    object.insert("kind".to_owned(), Value::from(kind));
    object.insert("spec".to_owned(), fields);
    serde_json::from_value(Value::Object(object)).unwrap()
}

/// What `spec` depends on, as lowering computes it: references and `needs`, sorted.
pub(crate) fn dependencies(spec: &ResourceSpec) -> Vec<ResourceId> {
    let mut dependencies: Vec<ResourceId> =
        spec.references().into_iter().map(|(_, id)| id).chain(spec.needs().iter().cloned()).collect();
    dependencies.sort();
    dependencies.dedup();
    dependencies
}

impl World {
    /// The lab, applied exactly as it is written: no changes.
    pub(crate) fn applied() -> Self {
        let desired: BTreeMap<ResourceId, ResourceSpec> = [
            ("cache.workspace", spec("cache", json!({"type": "cachix", "name": "ws"}))),
            ("host.shoshin", spec("host", json!({"ssh": "root@192.0.2.2", "host_key": "ssh-ed25519 AAAA", "push": ["workspace"]}))),
            ("vm.gitlab", spec("vm", json!({"host": "shoshin", "memory": "8GiB"}))),
            ("service.gitlab", spec("service", json!({"type": "gitlab", "runs_on": "vm.gitlab", "needs": ["service.postgres"], "secrets": {"root_password": "file:secrets/root"}}))),
            ("service.postgres", spec("service", json!({"type": "postgresql", "runs_on": "vm.gitlab"}))),
            ("build.codex", spec("build", json!({"attr": ".#codex", "push": ["workspace"]}))),
        ]
        .into_iter()
        .map(|(address, spec)| (id(address), spec))
        .collect();
        let digests: BTreeMap<ResourceId, SecretDigests> = [(
            id("service.gitlab"),
            [("secrets.root_password".to_owned(), "sha256:old".to_owned())].into_iter().collect(),
        )]
        .into_iter()
        .collect();
        let state = State { version: 1, serial: 7, lineage: "lineage-1".to_owned(), resources: BTreeMap::new() };
        let mut world = Self {
            desired,
            digests,
            state: Some(state),
            observed: BTreeMap::new(),
            options: PlanOptions::default(),
            derivations: None,
        };
        let addresses: Vec<String> = world.desired.keys().map(ToString::to_string).collect();
        for address in &addresses {
            world.record(address);
        }
        world
    }

    /// Changes fields of a desired resource; `null` removes a field.
    pub(crate) fn edit(&mut self, address: &str, patch: Value) {
        let current = &self.desired[&id(address)];
        let mut value = serde_json::to_value(current).unwrap();
        let Value::Object(patch) = patch else { panic!("a patch is an object") };
        let fields = value["spec"].as_object_mut().unwrap();
        for (field, new) in patch {
            if new.is_null() {
                fields.remove(&field);
            } else {
                fields.insert(field, new);
            }
        }
        self.desired.insert(id(address), serde_json::from_value(value).unwrap());
    }

    /// Adds a desired resource.
    pub(crate) fn add(&mut self, address: &str, kind: &str, fields: Value) {
        self.desired.insert(id(address), spec(kind, fields));
    }

    /// Records `address` as applied exactly as currently desired.
    pub(crate) fn record(&mut self, address: &str) {
        let spec = &self.desired[&id(address)];
        let recorded = ResourceState {
            attributes: super::with_derivation(
                spec.attributes(),
                self.derivations.as_ref().and_then(|derivations| derivations.get(&id(address))),
            ),
            secret_digests: self.digests.get(&id(address)).cloned().unwrap_or_default(),
            outputs: BTreeMap::new(),
            dependencies: dependencies(spec),
            tainted: false,
        };
        self.state.get_or_insert_with(State::new_lineage).resources.insert(id(address), recorded);
    }

    /// The recorded state of `address`, to change.
    pub(crate) fn recorded(&mut self, address: &str) -> &mut ResourceState {
        self.state.as_mut().unwrap().resources.get_mut(&id(address)).unwrap()
    }

    /// Plans the world with the test rules.
    pub(crate) fn plan(&self) -> Result<Plan, PlanError> {
        let resources = self
            .desired
            .iter()
            .map(|(address, spec)| {
                let resource = Resource {
                    id: address.clone(),
                    spec: spec.clone().into(),
                    dependencies: dependencies(spec),
                    position: Position::default(),
                };
                (address.clone(), resource)
            })
            .collect();
        let spec = Spec {
            source: "rave.yaml".into(),
            project: Name::new("lab").unwrap(),
            state: crate::config::StateSettings::default(),
            nix: crate::config::NixSettings::default(),
            resources,
            moved: Vec::new(),
        };
        diff(&DiffInput {
            spec: &spec,
            state: self.state.as_ref(),
            observed: &self.observed,
            secret_digests: &self.digests,
            rules: &rules,
            options: &self.options,
            derivations: self.derivations.as_ref(),
        })
    }
}
