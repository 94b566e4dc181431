//! The plan as a pull-request comment (GitHub-flavoured Markdown).
//!
//! A reviewer sees the counts first, then every destroy and replacement called out with its
//! reason, then drift, and the full plan folded away in a `diff` block. The block is the plain
//! human rendering of each resource with every line's action symbol moved to the first column
//! (`~` written `!`), the convention diff highlighters colour. Nothing varies between runs (no
//! times, no paths), so a bot that edits its comment in place only changes it when the plan does;
//! the first line is an HTML comment naming the project, which such a bot finds its comment by.

use std::fmt::Write as _;

use super::plan_human::{ChangeWriter, refresh_only_conclusion};
use super::plan_summary::{PlanSummary, drifted};
use super::plan_wording::{action_phrase, explained_reasons, reason_phrase};
use super::style::Styles;
use crate::plan::{Action, Change, Observed, Plan};

/// The comment. Never coloured: `_styles` is taken only so that every plan renderer has the same
/// signature.
pub(crate) fn render(plan: &Plan, _styles: &Styles) -> String {
    let mut out = String::new();
    let verb = match (plan.is_refresh_only, plan.is_destroy) {
        (true, _) => "drift check",
        (false, true) => "destroy plan",
        (false, false) => "plan",
    };
    // A marker a CI job finds its earlier comment by, to edit it instead of adding another.
    let _ = writeln!(out, "<!-- rave {verb}: {} -->", plan.project);
    let _ = writeln!(out, "### rave {verb} for `{}`\n", plan.project);
    let summary = PlanSummary::of(plan);
    if plan.is_refresh_only {
        let mut drift = String::new();
        render_drift(&mut drift, plan);
        if !drift.is_empty() {
            out.push_str(drift.trim_start_matches('\n'));
            out.push('\n');
        }
        out.push_str(refresh_only_conclusion(plan));
        return out;
    }
    if summary.is_empty() {
        out.push_str(if plan.is_destroy {
            "**No changes.** No objects need to be destroyed.\n"
        } else {
            "**No changes.** Your infrastructure matches the configuration.\n"
        });
    } else {
        out.push_str("| To add | To change | To destroy |\n|---:|---:|---:|\n");
        let _ = writeln!(out, "| {} | {} | {} |", summary.add, summary.change, summary.destroy);
    }
    render_warnings(&mut out, plan);
    render_moves(&mut out, plan);
    render_drift(&mut out, plan);
    if !summary.is_empty() {
        render_details(&mut out, plan);
    }
    out
}

/// Every destroy and replacement, named with its reasons, in an alert box.
fn render_warnings(out: &mut String, plan: &Plan) {
    let destructive: Vec<&Change> =
        plan.changes.iter().filter(|change| change.action == Action::Delete || change.action.is_replace()).collect();
    if destructive.is_empty() {
        return;
    }
    let count = destructive.len();
    let noun = if count == 1 { "resource" } else { "resources" };
    let _ = writeln!(out, "\n> [!WARNING]\n> This plan destroys or replaces {count} {noun}:");
    for change in destructive {
        let _ = write!(out, "> - `{}` {}", change.address, action_phrase(change.action));
        let reasons: Vec<String> =
            explained_reasons(change).map(|reason| reason_phrase(reason, change, plan)).collect();
        if !reasons.is_empty() {
            let _ = write!(out, " because {}", reasons.join(", and "));
        }
        out.push('\n');
    }
}

/// Renames, which destroy nothing.
fn render_moves(out: &mut String, plan: &Plan) {
    if plan.moves.is_empty() {
        return;
    }
    out.push_str("\nMoved in state (nothing is destroyed or created for these):\n");
    for rename in &plan.moves {
        let _ = writeln!(out, "- `{}` has moved to `{}`", rename.from, rename.to);
    }
}

/// What changed outside of rave, one line per resource.
fn render_drift(out: &mut String, plan: &Plan) {
    let mut lines = drifted(plan).peekable();
    if lines.peek().is_none() {
        return;
    }
    out.push_str("\n> [!NOTE]\n> Objects have changed outside of rave:\n");
    for drift in lines {
        match &drift.observation {
            Observed::Missing => {
                let _ = writeln!(out, "> - `{}` has been deleted", drift.address);
            }
            Observed::Changed { summary, .. } => {
                let _ = writeln!(out, "> - `{}` has changed: {summary}", drift.address);
            }
            // `drifted` leaves these out.
            Observed::AsRecorded => {}
        }
    }
}

/// The plain human rendering of every change, folded, as a `diff` block.
fn render_details(out: &mut String, plan: &Plan) {
    let styles = Styles::plain();
    let mut writer = ChangeWriter::new(&styles);
    let body: Vec<String> = plan
        .changes
        .iter()
        .filter(|change| change.action != Action::NoOp)
        .map(|change| {
            let mut block = String::new();
            writer.change(&mut block, change, plan);
            block.lines().map(diff_line).collect::<Vec<_>>().join("\n")
        })
        .collect();
    let body = body.join("\n\n");
    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
    let _ = write!(out, "\n<details><summary>Details</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>\n");
}

/// Moves a line's leading action symbol to the first column, where diff highlighting looks:
/// `      ~ memory = …` becomes `!      memory = …`.
fn diff_line(line: &str) -> String {
    let text = line.trim_start_matches(' ');
    let indent = line.len() - text.len();
    let symbol = ["-/+ ", "+/- ", "+ ", "- ", "~ "].into_iter().find(|symbol| text.starts_with(symbol));
    match symbol {
        Some(symbol) => {
            let symbol = symbol.trim_end();
            let first = if symbol == "~" { "!" } else { symbol };
            let rest = &text[symbol.len()..];
            format!("{first}{}{rest}", " ".repeat(indent))
        }
        None => line.to_owned(),
    }
}

/// A fence must be longer than any run of backticks inside it (a value may hold some).
fn longest_backtick_run(text: &str) -> usize {
    text.split(|character| character != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::plan_fixture;

    #[test]
    fn rich_plan() {
        insta::assert_snapshot!(render(&plan_fixture::rich_plan(), &Styles::plain()));
    }

    #[test]
    fn empty_plan() {
        insta::assert_snapshot!(render(&plan_fixture::empty_plan(), &Styles::plain()));
    }

    #[test]
    fn refresh_only_plans() {
        let drifted = plan_fixture::rich_plan().into_refresh_only();
        assert!(drifted.has_drift() && !drifted.has_changes());
        insta::assert_snapshot!(render(&drifted, &Styles::plain()));
        let calm = plan_fixture::empty_plan().into_refresh_only();
        assert!(!calm.has_drift());
        insta::assert_snapshot!("refresh_only_without_drift", render(&calm, &Styles::plain()));
    }

    #[test]
    fn symbols_move_to_the_first_column() {
        let cases = [
            ("  # vm.a will be created", "  # vm.a will be created"),
            ("  + vm \"a\" {", "+   vm \"a\" {"),
            ("-/+ vm \"a\" {", "-/+ vm \"a\" {"),
            ("      ~ memory = 1 -> 2", "!       memory = 1 -> 2"),
            ("          - old line", "-           old line"),
            ("            same line", "            same line"),
        ];
        for (line, expected) in cases {
            assert_eq!(diff_line(line), expected);
        }
    }

    #[test]
    fn fences_outgrow_backticks_inside() {
        assert_eq!(longest_backtick_run("a ``` b ` c"), 3);
        assert_eq!(longest_backtick_run("none"), 0);
    }
}
