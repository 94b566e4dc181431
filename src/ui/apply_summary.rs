//! The text that ends an apply: what was done, what failed and why, what was skipped and what
//! never started. Pure: an outcome in, a string out.

use std::fmt::Write as _;

use crate::apply::{ApplyOutcome, Counts, NodeResult};
use crate::render::style::Styles;
use crate::ui::verbs;

/// How many addresses an `Interrupted:` line names before it only counts.
const NAMED_NOT_STARTED: usize = 10;

/// The summary of `outcome`, lines without a final newline (for `Printer::status`).
///
/// ```text
/// Apply complete! Resources: 2 added, 1 changed, 1 destroyed.
/// ```
/// or the failure form: a headline, what was done, then each failure with its details, each
/// skipped node with its cause, and what an interruption or a state error left undone.
pub(crate) fn apply_summary(outcome: &ApplyOutcome, styles: &Styles) -> String {
    let counts = outcome.counts();
    let done =
        format!("Resources: {} added, {} changed, {} destroyed.", counts.added, counts.changed, counts.destroyed);
    if outcome.is_success() {
        return format!("{} {done}", styles.success.apply_to("Apply complete!"));
    }
    let mut text = format!("{} {}\n{done}\n", styles.error.apply_to(headline(outcome, counts)), tally(counts));
    let mut details = String::new();
    for (address, result) in &outcome.results {
        if let NodeResult::Failed { action, error } = result {
            let _ = writeln!(
                details,
                "{}: {} {}: {}",
                styles.bold.apply_to(address.to_string()),
                verbs::tried(*action),
                styles.error.apply_to("failed"),
                error.summary
            );
            for detail in &error.details {
                let _ = writeln!(details, "  {}", styles.dim.apply_to(detail));
            }
            if error.is_partial {
                let _ = writeln!(
                    details,
                    "  {}",
                    styles.dim.apply_to("it may be half done: recorded as tainted, the next plan replaces it")
                );
            }
        }
    }
    for (address, result) in &outcome.results {
        if let NodeResult::Skipped { because } = result {
            let _ = writeln!(
                details,
                "{}: {} because {because} failed",
                styles.bold.apply_to(address.to_string()),
                styles.warning.apply_to("skipped")
            );
        }
    }
    if counts.cancelled > 0 {
        let not_started: Vec<String> = outcome
            .results
            .iter()
            .filter(|(_, result)| matches!(result, NodeResult::Cancelled))
            .map(|(address, _)| address.to_string())
            .collect();
        let mut named = not_started.iter().take(NAMED_NOT_STARTED).cloned().collect::<Vec<_>>().join(", ");
        if not_started.len() > NAMED_NOT_STARTED {
            let _ = write!(named, " and {} more", not_started.len() - NAMED_NOT_STARTED);
        }
        let (label, saved) =
            if outcome.interrupted { ("Interrupted:", "what finished is saved, ") } else { ("Stopped:", "") };
        let _ = writeln!(
            details,
            "{} {} not started ({named}); {saved}plan and apply again to do the rest.",
            styles.warning.apply_to(label),
            steps(not_started.len())
        );
    } else if outcome.interrupted {
        let _ = writeln!(
            details,
            "{} every step had started; what finished is saved.",
            styles.warning.apply_to("Interrupted:")
        );
    }
    if let Some(error) = &outcome.state_error {
        let _ = writeln!(
            details,
            "{} {error}; nothing new was started after it.",
            styles.error.apply_to("State not recorded:")
        );
    }
    if !details.is_empty() {
        text.push('\n');
        text.push_str(&details);
    }
    text.truncate(text.trim_end_matches('\n').len());
    text
}

/// `Apply failed:`, `Apply interrupted:` or `Apply stopped:`.
fn headline(outcome: &ApplyOutcome, counts: Counts) -> &'static str {
    if counts.failed + counts.skipped > 0 {
        "Apply failed:"
    } else if outcome.interrupted {
        "Apply interrupted:"
    } else {
        "Apply stopped:"
    }
}

/// `1 failed, 2 skipped.`, with `N not started` when some were not.
fn tally(counts: Counts) -> String {
    let mut parts = Vec::new();
    if counts.failed + counts.skipped > 0 {
        parts.push(format!("{} failed", counts.failed));
        parts.push(format!("{} skipped", counts.skipped));
    }
    if counts.cancelled > 0 {
        parts.push(format!("{} not started", counts.cancelled));
    }
    if parts.is_empty() { "state could not be recorded.".to_owned() } else { format!("{}.", parts.join(", ")) }
}

/// `1 step`, `3 steps`.
fn steps(count: usize) -> String {
    if count == 1 { "1 step".to_owned() } else { format!("{count} steps") }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::apply::outcome_fixtures::{id, outcome};
    use crate::drivers::DriverError;
    use crate::plan::Action;
    use crate::state::backend::StateError;

    fn succeeded(action: Action) -> NodeResult {
        NodeResult::Succeeded { action, elapsed: Duration::from_secs(1) }
    }

    #[test]
    fn a_complete_apply_is_one_line() {
        let outcome = outcome(vec![
            ("host.a", succeeded(Action::Create)),
            ("vm.b", succeeded(Action::Create)),
            ("vm.c", succeeded(Action::Update)),
            ("vm.d", succeeded(Action::Delete)),
        ]);
        assert_eq!(
            apply_summary(&outcome, &Styles::plain()),
            "Apply complete! Resources: 2 added, 1 changed, 1 destroyed."
        );
    }

    #[test]
    fn a_failed_apply_lists_failures_with_details_and_skips_with_causes() {
        let error = DriverError::new("`nixos-rebuild` exited with status 1")
            .with_detail("command: ssh root@192.0.2.2 switch-to-configuration switch")
            .with_detail("error: unit gitlab.service failed")
            .partial();
        let outcome = outcome(vec![
            ("host.d", succeeded(Action::Create)),
            ("service.c", NodeResult::Skipped { because: id("vm.gitlab") }),
            ("service.f", NodeResult::Skipped { because: id("vm.gitlab") }),
            ("vm.gitlab", NodeResult::Failed { action: Action::DeleteThenCreate, error }),
        ]);
        assert_eq!(
            apply_summary(&outcome, &Styles::plain()),
            "\
Apply failed: 1 failed, 2 skipped.
Resources: 1 added, 0 changed, 0 destroyed.

vm.gitlab: replace (destroy first) failed: `nixos-rebuild` exited with status 1
  command: ssh root@192.0.2.2 switch-to-configuration switch
  error: unit gitlab.service failed
  it may be half done: recorded as tainted, the next plan replaces it
service.c: skipped because vm.gitlab failed
service.f: skipped because vm.gitlab failed"
        );
    }

    #[test]
    fn an_interrupted_apply_names_what_did_not_start() {
        let mut interrupted = outcome(vec![
            ("host.a", succeeded(Action::Create)),
            ("host.b", NodeResult::Cancelled),
            ("vm.c", NodeResult::Cancelled),
        ]);
        interrupted.interrupted = true;
        assert_eq!(
            apply_summary(&interrupted, &Styles::plain()),
            "\
Apply interrupted: 2 not started.
Resources: 1 added, 0 changed, 0 destroyed.

Interrupted: 2 steps not started (host.b, vm.c); what finished is saved, plan and apply again to do the rest."
        );
    }

    #[test]
    fn a_state_error_says_so() {
        let mut stopped = outcome(vec![("host.a", succeeded(Action::Create)), ("vm.c", NodeResult::Cancelled)]);
        stopped.state_error =
            Some(StateError::Io { action: "write state journal".into(), source: std::io::Error::other("disk full") });
        assert_eq!(
            apply_summary(&stopped, &Styles::plain()),
            "\
Apply stopped: 1 not started.
Resources: 1 added, 0 changed, 0 destroyed.

Stopped: 1 step not started (vm.c); plan and apply again to do the rest.
State not recorded: failed to write state journal: disk full; nothing new was started after it."
        );
    }
}
