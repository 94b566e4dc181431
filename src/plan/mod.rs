//! The plan: pure data saying what an apply will do to each resource and why.
//!
//! [`diff::diff`] computes a [`Plan`] from the desired [`crate::model::Spec`], the recorded
//! [`crate::state::State`] and what refresh observed. It does no I/O. Renderers only display a plan;
//! the executor only carries it out: neither decides anything again.

mod action;
mod address_graph;
mod attribute_diff;
pub(crate) mod diff;
mod plan_error;
#[cfg(test)]
pub(crate) mod test_world;

use serde::{Deserialize, Serialize};

pub(crate) use action::Action;
pub(crate) use plan_error::{PlanError, PlanOption};

use crate::config::Moved;
use crate::model::{ResourceId, ResourceSpec};
use crate::state::ResourceState;

/// The version of the plan's JSON form (`plan -o`, `--format json`).
pub(crate) const PLAN_FORMAT_VERSION: u32 = 1;

/// Everything an apply will do, and the state it was planned against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Plan {
    /// [`PLAN_FORMAT_VERSION`].
    pub(crate) format_version: u32,
    /// The project the plan is for.
    pub(crate) project: String,
    /// The state lineage it was planned against (`None`: no state existed yet).
    pub(crate) lineage: Option<String>,
    /// The state serial it was planned against; apply refuses a plan whose serial moved on.
    pub(crate) serial: u64,
    /// Whether this plan destroys everything (`rave destroy`).
    pub(crate) is_destroy: bool,
    /// One entry per resource considered, in address order, no-ops included.
    pub(crate) changes: Vec<Change>,
    /// Differences between what was recorded and what refresh observed, reported apart.
    pub(crate) drift: Vec<Drift>,
    /// Renames from `moved:` that state still records under the old address, applied to state
    /// before anything else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) moves: Vec<Moved>,
    /// `plan --refresh-only`: only the drift is reported, nothing is planned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) is_refresh_only: bool,
}

/// What will happen to one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Change {
    /// Which resource.
    pub(crate) address: ResourceId,
    /// What will be done.
    pub(crate) action: Action,
    /// Why, in order of importance; empty for a no-op.
    pub(crate) reasons: Vec<Reason>,
    /// Attribute by attribute, what differs.
    pub(crate) attributes: Vec<AttributeChange>,
    /// What was recorded, when it exists.
    pub(crate) before: Option<ResourceState>,
    /// What is wanted, when the resource stays or comes: everything the driver needs.
    pub(crate) after: Option<Desired>,
    /// For a Nix-built resource whose derivation changed: the packages whose versions changed in
    /// its closure, when the old one is still in the local store. Found before the plan is made
    /// final (`commands::planning`), not by `diff`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) closure: Vec<crate::nix::closure_diff::VersionChange>,
    /// For a Nix-built resource whose derivation changed: which of its inputs changed, followed
    /// down to where the change starts (`nix::derivation_diff`), when the old derivation is still
    /// in the local store. Found with `closure`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) inputs_changed: Vec<String>,
}

/// The desired resource as the executor hands it to a driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Desired {
    /// The user's spec, shared with the project's.
    pub(crate) spec: std::sync::Arc<ResourceSpec>,
    /// Its dependencies.
    pub(crate) dependencies: Vec<ResourceId>,
    /// Salted digests of its secrets at plan time, by attribute path.
    pub(crate) secret_digests: std::collections::BTreeMap<String, String>,
    /// What Nix evaluated it to at plan time, for builds, host systems and VM runners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) derivation: Option<crate::nix::Derivation>,
}

impl Desired {
    /// The attributes recorded for it and compared by the next plan: the spec's, and the store
    /// path its derivation gives (as [`crate::nix::Derivation::ATTRIBUTE`]).
    pub(crate) fn attributes(&self) -> crate::model::Attributes {
        with_derivation(self.spec.attributes(), self.derivation.as_ref())
    }
}

/// `attributes` with the store path of `derivation` added, when there is one.
pub(crate) fn with_derivation(
    mut attributes: crate::model::Attributes,
    derivation: Option<&crate::nix::Derivation>,
) -> crate::model::Attributes {
    if let Some(derivation) = derivation {
        attributes
            .insert(crate::nix::Derivation::ATTRIBUTE.to_owned(), serde_json::Value::from(derivation.out_path.clone()));
    }
    attributes
}

/// Why a resource has a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub(crate) enum Reason {
    /// It is in the file but not in state.
    NotYetCreated,
    /// It is in state but no longer in the file.
    NotInConfiguration,
    /// These attributes changed.
    AttributesChanged {
        /// Their names.
        attributes: Vec<String>,
    },
    /// These attributes cannot change in place.
    ForcesReplacement {
        /// Their names.
        attributes: Vec<String>,
    },
    /// A dependency is being replaced or changed in a way that reaches this resource.
    DependencyChanged {
        /// The dependency.
        address: ResourceId,
    },
    /// A service placed on it (`runs_on`) changed: a service's type and settings are part of the
    /// system of the host, VM or container it runs on.
    PlacedServiceChanged {
        /// The service.
        address: ResourceId,
    },
    /// `--replace` asked for it.
    ReplaceRequested,
    /// An earlier apply failed part way through it.
    Tainted,
    /// Refresh found it gone.
    MissingInReality,
    /// Refresh found it changed outside of rave (the details are in [`Plan::drift`]).
    Drifted,
    /// `rave destroy`.
    DestroyRequested,
}

/// One attribute's difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AttributeChange {
    /// The attribute's name (a top-level field of the spec, or `secrets.NAME` for a secret's content).
    pub(crate) name: String,
    /// Its recorded value; `None` when absent. Always `None` when sensitive.
    pub(crate) before: Option<serde_json::Value>,
    /// Its desired value; `None` when absent. Always `None` when sensitive.
    pub(crate) after: Option<serde_json::Value>,
    /// A secret's content: shown only as `(sensitive value changed)`.
    pub(crate) is_sensitive: bool,
    /// This attribute alone forces a replacement.
    pub(crate) forces_replacement: bool,
}

/// A difference between what was recorded and what refresh found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Drift {
    /// Which resource.
    pub(crate) address: ResourceId,
    /// What was found.
    pub(crate) observation: Observed,
}

/// What refresh found about a recorded resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Observed {
    /// It is there as recorded.
    AsRecorded,
    /// It is gone.
    Missing,
    /// It is there, but these outputs differ from what was recorded.
    Changed {
        /// Output name → observed value.
        outputs: std::collections::BTreeMap<String, serde_json::Value>,
        /// Said in one line: "system is /nix/store/…-b, recorded /nix/store/…-a".
        summary: String,
    },
}

impl Plan {
    /// Whether the plan does anything.
    pub(crate) fn has_changes(&self) -> bool {
        !self.moves.is_empty() || self.changes.iter().any(|change| change.action != Action::NoOp)
    }

    /// Whether refresh found anything changed or gone outside of rave.
    pub(crate) fn has_drift(&self) -> bool {
        self.drift.iter().any(|drift| drift.observation != Observed::AsRecorded)
    }

    /// This plan reduced to its drift (`plan --refresh-only`): every change becomes a no-op.
    #[must_use]
    pub(crate) fn into_refresh_only(mut self) -> Self {
        for change in &mut self.changes {
            change.action = Action::NoOp;
            change.reasons.clear();
            change.attributes.clear();
        }
        self.moves.clear();
        self.is_refresh_only = true;
        self
    }

    /// The change for `address`, found by binary search: [`Plan::changes`] is in address order.
    pub(crate) fn change(&self, address: &ResourceId) -> Option<&Change> {
        let index = self.changes.binary_search_by(|change| change.address.cmp(address)).ok()?;
        self.changes.get(index)
    }
}
