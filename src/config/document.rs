//! The top level of the desired-state file, format version 1: what the user wrote, typed, before
//! cross-resource checks. `model::lower` turns it into a [`crate::model::Spec`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{
    BuildSpec, BuilderSpec, CacheSpec, ContainerSpec, HostSpec, Name, ResourceId, SecretRef, ServiceSpec, VmSpec,
};

/// A whole `rave.yaml` / `rave.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "rave desired-state file, format version 1")]
pub(crate) struct Document {
    /// The format version: `1`.
    #[schemars(range(min = 1, max = 1))]
    pub(crate) version: u32,
    /// Names the state lineage and generated files.
    pub(crate) project: Name,
    /// Where state is kept.
    #[serde(default)]
    pub(crate) state: StateSettings,
    /// Defaults for `.#attr` references.
    #[serde(default)]
    pub(crate) nix: NixSettings,
    /// Binary caches.
    #[serde(default)]
    pub(crate) caches: BTreeMap<Name, CacheSpec>,
    /// Remote Nix builders.
    #[serde(default)]
    pub(crate) builders: BTreeMap<Name, BuilderSpec>,
    /// Flake outputs to build and push.
    #[serde(default)]
    pub(crate) builds: BTreeMap<Name, BuildSpec>,
    /// Machines.
    #[serde(default)]
    pub(crate) hosts: BTreeMap<Name, HostSpec>,
    /// microVMs.
    #[serde(default)]
    pub(crate) vms: BTreeMap<Name, VmSpec>,
    /// NixOS containers.
    #[serde(default)]
    pub(crate) containers: BTreeMap<Name, ContainerSpec>,
    /// Services.
    #[serde(default)]
    pub(crate) services: BTreeMap<Name, ServiceSpec>,
    /// Renames: what state records at `from` is the resource now declared as `to`, so a plan moves
    /// it instead of destroying and creating it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) moved: Vec<Moved>,
}

/// One rename, `{ from: vm.old, to: vm.new }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Moved {
    /// The address state records.
    pub(crate) from: ResourceId,
    /// The address the file declares now, of the same kind.
    pub(crate) to: ResourceId,
}

/// Where state lives.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateSettings {
    /// `local` (a JSON file) or `postgres`.
    #[serde(default)]
    pub(crate) backend: StateBackendKind,
    /// The local state file, relative to the desired-state file; `.rave/state.json` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
    /// The `PostgreSQL` connection URL, as a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<SecretRef>,
}

/// Which state backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum StateBackendKind {
    /// A JSON file beside the desired-state file.
    #[default]
    Local,
    /// A `PostgreSQL` database.
    Postgres,
}

/// Defaults for Nix references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NixSettings {
    /// The flake that `.#attr` references point into, relative to the file.
    #[serde(default = "default_flake")]
    pub(crate) flake: String,
    /// The default Nix system.
    #[serde(default = "default_system")]
    pub(crate) system: String,
}

impl Default for NixSettings {
    fn default() -> Self {
        Self { flake: default_flake(), system: default_system() }
    }
}

fn default_flake() -> String {
    ".".to_owned()
}

fn default_system() -> String {
    "x86_64-linux".to_owned()
}
