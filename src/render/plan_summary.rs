//! Counting what a plan does, once, for every renderer: how many resources are added, changed and
//! destroyed (a replacement is one added and one destroyed), which drift is worth reporting,
//! and what changed in it.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::model::ResourceId;
use crate::plan::{Action, Drift, Observed, Plan};

/// How many resources a plan adds, changes in place and destroys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct PlanSummary {
    /// Created, including the new half of replacements.
    pub(crate) add: usize,
    /// Updated in place.
    pub(crate) change: usize,
    /// Destroyed, including the old half of replacements.
    pub(crate) destroy: usize,
    /// Moved to a new address in state (`moved:`), acted on by no driver.
    pub(crate) moved: usize,
}

impl PlanSummary {
    /// Counts `plan`'s changes.
    pub(crate) fn of(plan: &Plan) -> Self {
        let mut summary = Self { moved: plan.moves.len(), ..Self::default() };
        for change in &plan.changes {
            match change.action {
                Action::NoOp => {}
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    summary.add += 1;
                    summary.destroy += 1;
                }
                Action::Delete => summary.destroy += 1,
            }
        }
        summary
    }

    /// Whether the plan does nothing.
    pub(crate) fn is_empty(self) -> bool {
        self == Self::default()
    }
}

impl fmt::Display for PlanSummary {
    /// `Plan: 1 to add, 0 to change, 1 to destroy.`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plan: {} to add, {} to change, {} to destroy", self.add, self.change, self.destroy)?;
        if self.moved > 0 {
            write!(f, ", {} to move", self.moved)?;
        }
        f.write_str(".")
    }
}

/// The drift entries that are differences (a resource found as recorded is not drift).
pub(crate) fn drifted(plan: &Plan) -> impl Iterator<Item = &Drift> {
    plan.drift.iter().filter(|drift| drift.observation != Observed::AsRecorded)
}

/// A drifted resource's outputs that refresh found changed: name, recorded value (when one was
/// recorded), observed value.
pub(crate) fn changed_outputs<'a>(
    plan: &'a Plan,
    address: &ResourceId,
    observed: &'a BTreeMap<String, Value>,
) -> impl Iterator<Item = (&'a String, Option<&'a Value>, &'a Value)> {
    let recorded = plan.change(address).and_then(|change| change.before.as_ref());
    observed.iter().map(move |(name, value)| (name, recorded.and_then(|state| state.outputs.get(name)), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Change;
    use crate::plan::test_world::id;

    fn plan(actions: &[Action]) -> Plan {
        let changes = actions
            .iter()
            .map(|action| Change {
                address: id("vm.a"),
                action: *action,
                reasons: Vec::new(),
                attributes: Vec::new(),
                before: None,
                after: None,
                closure: Vec::new(),
                inputs_changed: Vec::new(),
            })
            .collect();
        Plan {
            format_version: 1,
            project: "lab".to_owned(),
            lineage: None,
            serial: 0,
            is_destroy: false,
            changes,
            drift: Vec::new(),
            moves: Vec::new(),
            is_refresh_only: false,
        }
    }

    #[test]
    fn replacements_count_as_an_add_and_a_destroy() {
        let summary = PlanSummary::of(&plan(&[
            Action::NoOp,
            Action::Create,
            Action::Update,
            Action::DeleteThenCreate,
            Action::CreateThenDelete,
            Action::Delete,
        ]));
        assert_eq!(summary, PlanSummary { add: 3, change: 1, destroy: 3, moved: 0 });
        assert_eq!(summary.to_string(), "Plan: 3 to add, 1 to change, 3 to destroy.");
        assert!(PlanSummary::of(&plan(&[Action::NoOp])).is_empty());
    }
}
