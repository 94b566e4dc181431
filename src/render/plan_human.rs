//! The plan for a terminal, in Terraform's grammar: drift first, then one block per resource that
//! changes (`# vm.gitlab must be replaced`, the reasons, the attributes that differ), then the
//! summary line.
//!
//! Colour comes only from [`Styles`]; with plain styles the text is the same, byte for byte, minus
//! the escape codes. Secrets never show: only `(sensitive value)` or `(sensitive value changed)`.

use std::fmt::Write as _;

use rayon::prelude::*;

use super::attribute_value::{Layout, Mark, layout};
use super::plan_summary::{PlanSummary, changed_outputs, drifted};
use super::plan_wording::{action_legend, action_phrase, explained_reasons, reason_phrase};
use super::style::Styles;
use crate::model::ResourceId;
use crate::plan::{Action, AttributeChange, Change, Drift, Observed, Plan};

/// The whole plan.
pub(crate) fn render(plan: &Plan, styles: &Styles) -> String {
    let mut out = String::new();
    let mut writer = ChangeWriter::new(styles);
    let drift: Vec<&Drift> = drifted(plan).collect();
    if !drift.is_empty() {
        writer.drift(&mut out, plan, &drift);
    }
    let summary = PlanSummary::of(plan);
    if plan.is_refresh_only {
        out.push_str(refresh_only_conclusion(plan));
        return out;
    }
    if summary.is_empty() {
        let _ = write!(out, "{}", styles.bold.apply_to("No changes."));
        out.push_str(if plan.is_destroy {
            " No objects need to be destroyed.\n"
        } else {
            " Your infrastructure matches the configuration.\n"
        });
        return out;
    }
    if !drift.is_empty() {
        out.push_str(
            "Unless you have made equivalent changes to your configuration, the plan below includes\n\
             actions to undo or respond to these changes.\n\n",
        );
    }
    writer.legend(&mut out, plan);
    out.push_str("rave will perform the following actions:\n\n");
    for rename in &plan.moves {
        let _ = writeln!(out, "  # {} has moved to {}\n", styles.bold.apply_to(&rename.from), rename.to);
    }
    changes(&mut out, plan, styles);
    let _ = writeln!(out, "{}", styles.bold.apply_to(summary));
    out
}

/// Changes rendered per chunk, on every core.
const CHANGES_PER_CHUNK: usize = 256;

/// Bytes kept free after the changes for the summary line (`Plan: 3 to add, …`, coloured).
const SUMMARY_ROOM: usize = 256;

/// Appends the blocks of every change in `plan` to `out`, in order. Chunks of them are written on
/// every core and appended: a plan of 10,000 resources has some 50,000 lines.
fn changes(out: &mut String, plan: &Plan, styles: &Styles) {
    let changes: Vec<&Change> = plan.changes.iter().filter(|change| change.action != Action::NoOp).collect();
    let chunks: Vec<String> = changes
        .par_chunks(CHANGES_PER_CHUNK)
        .map(|chunk| {
            let mut out = String::new();
            let mut writer = ChangeWriter::new(styles);
            for change in chunk {
                writer.change(&mut out, change, plan);
                out.push('\n');
            }
            out
        })
        .collect();
    // Room for the summary line too, so that the text is not copied once more to fit it.
    out.reserve(chunks.iter().map(String::len).sum::<usize>() + SUMMARY_ROOM);
    for chunk in chunks {
        out.push_str(&chunk);
    }
}

/// How a refresh-only plan ends: whether anything drifted, and what to do about it.
pub(crate) fn refresh_only_conclusion(plan: &Plan) -> &'static str {
    if plan.has_drift() {
        "This is a refresh-only plan: rave acts on none of these changes. Change the file to match them,\n\
         or run `rave apply` to undo them.\n"
    } else {
        "No changes. No objects have changed outside of rave.\n"
    }
}

/// Writes resources' blocks, with what every line needs prepared once: a plan of 10,000
/// resources has some 50,000 attribute lines.
pub(crate) struct ChangeWriter<'a> {
    styles: &'a Styles,
    symbols: Symbols,
    /// Room for a JSON value on its way into the text, reused.
    json: Vec<u8>,
}

impl<'a> ChangeWriter<'a> {
    /// A writer in `styles`.
    pub(crate) fn new(styles: &'a Styles) -> Self {
        Self { styles, symbols: Symbols::new(styles), json: Vec::new() }
    }

    /// One resource's block, appended to `out`: its header, its reasons, its attributes.
    pub(crate) fn change(&mut self, out: &mut String, change: &Change, plan: &Plan) {
        let _ = writeln!(out, "  # {} {}", self.styles.bold.apply_to(&change.address), action_phrase(change.action));
        for reason in explained_reasons(change) {
            let _ = writeln!(out, "  # (because {})", reason_phrase(reason, change, plan));
        }
        self.resource_line(out, &change.address, change.action);
        let width = change.attributes.iter().map(|attribute| attribute.name.len()).max().unwrap_or(0);
        for attribute in &change.attributes {
            self.attribute(out, attribute, width, change.action);
        }
        for cause in &change.inputs_changed {
            let _ = writeln!(out, "        {}", self.styles.dim.apply_to(format!("# changed: {cause}")));
        }
        for version_change in &change.closure {
            let _ = writeln!(out, "        {}", self.styles.dim.apply_to(format!("# closure: {version_change}")));
        }
        let hidden = hidden_attributes(change);
        if hidden > 0 {
            let plural = if hidden == 1 { "" } else { "s" };
            let note = format!("# ({hidden} unchanged attribute{plural} hidden)");
            let _ = writeln!(out, "        {}", self.styles.dim.apply_to(note));
        }
        out.push_str("    }\n");
    }

    /// What refresh found, before the plan that answers it.
    fn drift(&mut self, out: &mut String, plan: &Plan, drift: &[&Drift]) {
        let _ = writeln!(out, "{}\n", self.styles.bold.apply_to("Objects have changed outside of rave:"));
        for entry in drift {
            let address = self.styles.bold.apply_to(&entry.address);
            match &entry.observation {
                // `drifted` leaves these out.
                Observed::AsRecorded => {}
                Observed::Missing => {
                    let _ = writeln!(out, "  # {address} has been deleted\n");
                }
                Observed::Changed { outputs, summary } => {
                    let _ = writeln!(out, "  # {address} has changed: {summary}");
                    self.resource_line(out, &entry.address, Action::Update);
                    let width = outputs.keys().map(String::len).max().unwrap_or(0);
                    for (name, recorded, observed) in changed_outputs(plan, &entry.address, outputs) {
                        let attribute = AttributeChange {
                            name: name.clone(),
                            before: recorded.cloned(),
                            after: Some(observed.clone()),
                            is_sensitive: false,
                            forces_replacement: false,
                        };
                        self.attribute(out, &attribute, width, Action::Update);
                    }
                    out.push_str("    }\n\n");
                }
            }
        }
    }

    /// Which symbols the plan uses, and what they mean.
    fn legend(&self, out: &mut String, plan: &Plan) {
        let mut actions: Vec<Action> =
            plan.changes.iter().map(|change| change.action).filter(|action| *action != Action::NoOp).collect();
        actions.sort();
        actions.dedup();
        if actions.is_empty() {
            return;
        }
        out.push_str("Resource actions are indicated with the following symbols:\n");
        for action in actions {
            let _ = writeln!(out, "{} {}", self.symbols.of(action), action_legend(action));
        }
        out.push('\n');
    }

    /// `-/+ vm "gitlab" {`
    fn resource_line(&self, out: &mut String, address: &ResourceId, action: Action) {
        let _ = writeln!(out, "{} {} \"{}\" {{", self.symbols.of(action), address.kind, address.name);
    }

    /// One attribute, on one line or as a block: `      ~ memory = "8GiB" -> "16GiB"`. The
    /// name is padded to `width`, as `{:width$}` pads.
    fn attribute(&mut self, out: &mut String, attribute: &AttributeChange, width: usize, context: Action) {
        let action = attribute_action(attribute, context);
        out.push_str("    ");
        out.push_str(self.symbols.of(action));
        out.push(' ');
        out.push_str(&attribute.name);
        out.extend(std::iter::repeat_n(' ', width.saturating_sub(attribute.name.chars().count())));
        out.push_str(" = ");
        if attribute.is_sensitive {
            let value = if action == Action::Update { "(sensitive value changed)" } else { "(sensitive value)" };
            let _ = write!(out, "{}", self.styles.dim.apply_to(value));
            self.end_first_line(out, attribute);
            return;
        }
        match layout(attribute.before.as_ref(), attribute.after.as_ref()) {
            Layout::Inline(value) => {
                value.write(out, &mut self.json);
                self.end_first_line(out, attribute);
            }
            Layout::Block { open, close, lines } => {
                out.push_str(open);
                self.end_first_line(out, attribute);
                for (mark, line) in lines {
                    let start = out.len();
                    let _ = match mark {
                        Mark::Same => write!(out, "            {line}"),
                        Mark::Removed => write!(out, "          {} {line}", self.styles.delete.apply_to("-")),
                        Mark::Added => write!(out, "          {} {line}", self.styles.create.apply_to("+")),
                    };
                    // An empty line, or one ending in spaces, carries no trailing whitespace.
                    let kept = out[start..].trim_end().len();
                    out.truncate(start + kept);
                    out.push('\n');
                }
                let _ = writeln!(out, "        {close}");
            }
        }
    }

    /// Ends an attribute's first line, saying so when the attribute forces a replacement.
    fn end_first_line(&self, out: &mut String, attribute: &AttributeChange) {
        if attribute.forces_replacement {
            let _ = write!(out, " {}", self.styles.delete.apply_to("# forces replacement"));
        }
        out.push('\n');
    }
}

/// Each action's symbol, right-aligned in three columns and coloured: written once per plan
/// rather than once per line.
struct Symbols {
    no_op: String,
    create: String,
    update: String,
    delete_then_create: String,
    create_then_delete: String,
    delete: String,
}

impl Symbols {
    fn new(styles: &Styles) -> Self {
        let symbol = |action: Action| {
            let style = match action {
                Action::NoOp => &styles.dim,
                Action::Create => &styles.create,
                Action::Update => &styles.update,
                Action::DeleteThenCreate | Action::CreateThenDelete => &styles.replace,
                Action::Delete => &styles.delete,
            };
            let symbol = action.symbol();
            format!("{:>1$}{2}", "", 3usize.saturating_sub(symbol.len()), style.apply_to(symbol))
        };
        Self {
            no_op: symbol(Action::NoOp),
            create: symbol(Action::Create),
            update: symbol(Action::Update),
            delete_then_create: symbol(Action::DeleteThenCreate),
            create_then_delete: symbol(Action::CreateThenDelete),
            delete: symbol(Action::Delete),
        }
    }

    fn of(&self, action: Action) -> &str {
        match action {
            Action::NoOp => &self.no_op,
            Action::Create => &self.create,
            Action::Update => &self.update,
            Action::DeleteThenCreate => &self.delete_then_create,
            Action::CreateThenDelete => &self.create_then_delete,
            Action::Delete => &self.delete,
        }
    }
}

/// The action an attribute line shows: what happened to its value, or for a secret (whose values
/// are never known here) what happens to the resource.
fn attribute_action(attribute: &AttributeChange, context: Action) -> Action {
    if attribute.is_sensitive {
        return match context {
            Action::Create | Action::Delete => context,
            _ => Action::Update,
        };
    }
    match (&attribute.before, &attribute.after) {
        (None, Some(_)) => Action::Create,
        (Some(_), None) => Action::Delete,
        _ => Action::Update,
    }
}

/// How many attributes an update or replacement leaves as they were: the recorded ones that its
/// changes do not name (an unchanged attribute is recorded and desired alike, and counting the
/// recorded ones spares serializing the desired spec again). Creates and destroys list every
/// attribute, so hide none.
fn hidden_attributes(change: &Change) -> usize {
    if matches!(change.action, Action::Create | Action::Delete) {
        return 0;
    }
    let Some(recorded) = &change.before else {
        return 0;
    };
    recorded
        .attributes
        .keys()
        .filter(|name| !change.attributes.iter().any(|attribute| !attribute.is_sensitive && &attribute.name == *name))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_world::{World, id};
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
    fn multi_line_strings_show_as_line_diffs() {
        let mut plan = plan_fixture::empty_plan();
        let index = plan.changes.iter().position(|change| change.address.to_string() == "build.codex").unwrap();
        let change = &mut plan.changes[index];
        change.action = Action::Update;
        change.attributes = vec![AttributeChange {
            name: "script".to_owned(),
            before: Some(serde_json::json!("set -e\nmake\nmake install\n")),
            after: Some(serde_json::json!("set -eu\nmake\n\nmake install\n")),
            is_sensitive: false,
            forces_replacement: false,
        }];
        let mut out = String::new();
        ChangeWriter::new(&Styles::plain()).change(&mut out, &plan.changes[index], &plan);
        insta::assert_snapshot!(out, @r#"
          # build.codex will be updated in place
          ~ build "codex" {
              ~ script = <<-EOT
                  - set -e
                  + set -eu
                    make
                  +
                    make install
                EOT
                # (2 unchanged attributes hidden)
            }
        "#);
    }

    #[test]
    fn a_new_store_path_shows_what_changed_inside() {
        let mut plan = plan_fixture::empty_plan();
        let index = plan.changes.iter().position(|change| change.address.to_string() == "build.codex").unwrap();
        let change = &mut plan.changes[index];
        change.action = Action::Update;
        change.attributes = vec![AttributeChange {
            name: "store_path".to_owned(),
            before: Some(serde_json::json!("/nix/store/aaa-codex-0.1.1")),
            after: Some(serde_json::json!("/nix/store/bbb-codex-0.1.2")),
            is_sensitive: false,
            forces_replacement: false,
        }];
        let version = |package: &str, before: &[&str], after: &[&str]| crate::nix::closure_diff::VersionChange {
            package: package.to_owned(),
            before: before.iter().map(|version| (*version).to_owned()).collect(),
            after: after.iter().map(|version| (*version).to_owned()).collect(),
        };
        change.closure = vec![
            version("codex", &["0.1.1"], &["0.1.2"]),
            version("openssl", &["3.0.1"], &["3.0.2"]),
            version("zstd", &[], &["1.5.5"]),
        ];
        change.inputs_changed = vec!["`codex-0.1.2`: source `codex-src` changed".to_owned()];
        let mut out = String::new();
        ChangeWriter::new(&Styles::plain()).change(&mut out, &plan.changes[index], &plan);
        insta::assert_snapshot!(out);
    }

    #[test]
    fn drift_outside_the_scope_changes_nothing() {
        let mut world = World::applied();
        world.observed.insert(id("vm.gitlab"), Observed::Missing);
        world.options.targets = vec![id("build.codex")];
        insta::assert_snapshot!(render(&world.plan().unwrap(), &Styles::plain()), @r"
        Objects have changed outside of rave:

          # vm.gitlab has been deleted

        No changes. Your infrastructure matches the configuration.
        ");
    }

    #[test]
    fn colour_changes_nothing_but_escape_codes() {
        let plan = plan_fixture::rich_plan();
        let coloured = render(&plan, &Styles::new(true));
        assert_ne!(coloured, render(&plan, &Styles::plain()), "colour is on");
        assert_eq!(console::strip_ansi_codes(&coloured), render(&plan, &Styles::plain()));
    }
}
