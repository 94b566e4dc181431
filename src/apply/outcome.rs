//! What an apply did: one [`NodeResult`] per planned change, the state it leaves, and the counts
//! the summary prints. Plain data; rendering it is `ui::apply_summary`'s job.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::drivers::DriverError;
use crate::model::ResourceId;
use crate::plan::Action;
use crate::state::State;
use crate::state::backend::StateError;

/// How one planned change ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeResult {
    /// The driver did it.
    Succeeded {
        /// What was done.
        action: Action,
        /// How long it took.
        elapsed: Duration,
    },
    /// The driver tried and failed.
    Failed {
        /// What was tried.
        action: Action,
        /// Why.
        error: DriverError,
    },
    /// Not tried: something it waits for failed.
    Skipped {
        /// The failed node that made this one impossible.
        because: ResourceId,
    },
    /// Not tried: the apply stopped starting new work (interrupted, or state could not be saved).
    Cancelled,
}

/// Everything an apply did, and the state to commit.
#[derive(Debug)]
pub(crate) struct ApplyOutcome {
    /// Per planned change (no-ops left out), by address.
    pub(crate) results: BTreeMap<ResourceId, NodeResult>,
    /// The state after the apply, every finished node folded in; the caller commits it.
    pub(crate) state: State,
    /// Whether a signal (or the cancel channel) stopped new work.
    pub(crate) interrupted: bool,
    /// The first failure to record a finished node; new work stopped when it happened.
    pub(crate) state_error: Option<StateError>,
}

/// How many resources an apply touched and how many nodes did not end well.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Created, counting each replacement once.
    pub(crate) added: usize,
    /// Updated in place.
    pub(crate) changed: usize,
    /// Destroyed, counting each replacement once.
    pub(crate) destroyed: usize,
    /// Nodes whose driver failed.
    pub(crate) failed: usize,
    /// Nodes not tried because something they wait for failed.
    pub(crate) skipped: usize,
    /// Nodes not started because the apply stopped.
    pub(crate) cancelled: usize,
}

impl ApplyOutcome {
    /// Whether every planned change was carried out and recorded.
    pub(crate) fn is_success(&self) -> bool {
        !self.interrupted
            && self.state_error.is_none()
            && self.results.values().all(|result| matches!(result, NodeResult::Succeeded { .. }))
    }

    /// The counts the summary line prints.
    pub(crate) fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for result in self.results.values() {
            match result {
                NodeResult::Succeeded { action, .. } => match action {
                    Action::NoOp => {}
                    Action::Create => counts.added += 1,
                    Action::Update => counts.changed += 1,
                    Action::DeleteThenCreate | Action::CreateThenDelete => {
                        counts.added += 1;
                        counts.destroyed += 1;
                    }
                    Action::Delete => counts.destroyed += 1,
                },
                NodeResult::Failed { .. } => counts.failed += 1,
                NodeResult::Skipped { .. } => counts.skipped += 1,
                NodeResult::Cancelled => counts.cancelled += 1,
            }
        }
        counts
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The address written `text`.
    pub(crate) fn id(text: &str) -> ResourceId {
        text.parse().unwrap()
    }

    /// An outcome with these results and an empty state.
    pub(crate) fn outcome(results: Vec<(&str, NodeResult)>) -> ApplyOutcome {
        ApplyOutcome {
            results: results.into_iter().map(|(address, result)| (id(address), result)).collect(),
            state: State::new_lineage(),
            interrupted: false,
            state_error: None,
        }
    }

    fn succeeded(action: Action) -> NodeResult {
        NodeResult::Succeeded { action, elapsed: Duration::ZERO }
    }

    #[test]
    fn replacements_count_as_added_and_destroyed() {
        let outcome = outcome(vec![
            ("vm.a", succeeded(Action::Create)),
            ("vm.b", succeeded(Action::DeleteThenCreate)),
            ("vm.c", succeeded(Action::Update)),
            ("vm.d", succeeded(Action::Delete)),
            ("vm.e", succeeded(Action::CreateThenDelete)),
        ]);
        assert!(outcome.is_success());
        assert_eq!(outcome.counts(), Counts { added: 3, changed: 1, destroyed: 3, ..Counts::default() });
    }

    #[test]
    fn anything_but_success_is_not_success() {
        let failed =
            outcome(vec![("vm.a", NodeResult::Failed { action: Action::Create, error: DriverError::new("boom") })]);
        assert!(!failed.is_success());
        let skipped = outcome(vec![("vm.a", NodeResult::Skipped { because: id("host.h") })]);
        assert_eq!(skipped.counts().skipped, 1);
        assert!(!skipped.is_success());
        let mut interrupted = outcome(vec![("vm.a", succeeded(Action::Create))]);
        interrupted.interrupted = true;
        assert!(!interrupted.is_success());
        assert_eq!(outcome(vec![("vm.a", NodeResult::Cancelled)]).counts().cancelled, 1);
    }
}
