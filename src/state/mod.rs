//! What rave last applied: the recorded state, its on-disk form, and the lock around it.
//!
//! [`State`] is plain data (deterministic JSON: `BTreeMap`s, a `version`). Backends behind
//! [`backend::StateBackend`] load it, lock it, record each finished node cheaply during an apply,
//! and commit a new serial at the end. The diff against desired state is `plan`'s job, not this one's.

pub(crate) mod backend;
#[cfg(feature = "bench")]
pub mod bench_api;
#[cfg(test)]
pub(crate) mod conformance;
mod file_lock;
mod journal;
pub(crate) mod local_backend;
pub(crate) mod lock;
#[cfg(test)]
pub(crate) mod memory_backend;
pub(crate) mod postgres;
mod private_files;
#[cfg(any(test, feature = "bench"))]
mod sample;
pub(crate) mod state_head;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::{Attributes, ResourceId};
use crate::state::backend::StateUpdate;

/// The state format version this build writes and reads.
pub(crate) const STATE_VERSION: u32 = 1;

/// The recorded state of a whole project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    /// The format version ([`STATE_VERSION`]).
    pub(crate) version: u32,
    /// Counts every committed write; a saved plan names the serial it was made against.
    pub(crate) serial: u64,
    /// A random id fixed when the state is first created; a plan for another lineage is refused.
    pub(crate) lineage: String,
    /// Every resource rave manages, by address.
    pub(crate) resources: BTreeMap<ResourceId, ResourceState>,
}

/// What rave recorded about one resource after it last acted on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResourceState {
    /// The attributes it was last applied with (see `ResourceSpec::attributes`).
    pub(crate) attributes: Attributes,
    /// Salted digests of secret values it was applied with, by attribute path: a change shows as
    /// `(sensitive value changed)`, the value itself is never stored.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) secret_digests: BTreeMap<String, String>,
    /// What the driver reported: store paths, PIDs, addresses.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) outputs: BTreeMap<String, serde_json::Value>,
    /// What it depended on when applied; deletes run in the reverse of this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) dependencies: Vec<ResourceId>,
    /// Set when an action on it failed part way: the next plan replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) tainted: bool,
}

impl State {
    /// A new, empty state with a fresh random lineage.
    pub(crate) fn new_lineage() -> Self {
        Self { version: STATE_VERSION, serial: 0, lineage: random_hex(), resources: BTreeMap::new() }
    }

    /// The stored form every backend writes, and `rave state pull` prints: pretty, deterministic
    /// JSON and a final newline, so that moving state between backends keeps it byte for byte.
    pub(crate) fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    /// Records the resource at `from` as `to` instead, and every dependency on it too; false (and
    /// nothing changed) unless `from` is recorded and `to` is not.
    pub(crate) fn move_resource(&mut self, from: &ResourceId, to: &ResourceId) -> bool {
        if self.resources.contains_key(to) {
            return false;
        }
        let Some(resource) = self.resources.remove(from) else {
            return false;
        };
        self.resources.insert(to.clone(), resource);
        for resource in self.resources.values_mut() {
            for dependency in &mut resource.dependencies {
                if dependency == from {
                    dependency.clone_from(to);
                }
            }
        }
        true
    }

    /// Applies one recorded update: a put replaces the resource, a remove forgets it.
    pub(crate) fn apply(&mut self, update: StateUpdate) {
        match update {
            StateUpdate::Put { address, resource } => {
                self.resources.insert(address, resource);
            }
            StateUpdate::Remove { address } => {
                self.resources.remove(&address);
            }
        }
    }
}

/// 16 random bytes in lowercase hex: lineages and lock ids.
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    // Without OS randomness an id can still be unique enough from time and pid.
    if getrandom::fill(&mut bytes).is_err() {
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos())
                ^ u128::from(std::process::id());
        bytes = seed.to_le_bytes();
    }
    bytes.iter().fold(String::with_capacity(32), |mut hex, byte| {
        // Writing to a `String` cannot fail.
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}
