//! The plan for other programs: a versioned, public JSON document (`--format json`).
//!
//! It has its own types, apart from the internal [`Plan`] (which `plan -o` saves for `apply` and
//! may change with rave), so that this document changes only with [`JSON_FORMAT_VERSION`]. Its
//! JSON Schema, `plan_schema`, is checked in at `schemas/plan.schema.json`. No-ops are left out;
//! secrets show only as `"sensitive": true`, never with a value or a digest.

use schemars::JsonSchema;

use crate::nix::closure_diff::VersionChange;
use serde::Serialize;
use serde_json::Value;

use super::plan_summary::{PlanSummary, changed_outputs, drifted};
use super::plan_wording::reason_phrase;
use super::style::Styles;
use crate::model::ResourceId;
use crate::plan::{Action, AttributeChange, Change, Drift, Observed, Plan, Reason};

/// The version of this document's shape; raised on any change a reader could notice.
const JSON_FORMAT_VERSION: u32 = 1;

/// What a rave plan will do, and why.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "rave plan")]
#[serde(rename = "Plan")]
struct PlanView {
    /// The version of this document's shape: 1.
    #[schemars(extend("const" = 1))]
    format_version: u32,
    /// The project the plan is for.
    project: String,
    /// The state lineage the plan was made against; null when no state existed yet.
    lineage: Option<String>,
    /// The state serial the plan was made against.
    serial: u64,
    /// How many resources are added, changed in place and destroyed.
    summary: SummaryView,
    /// Every resource the plan acts on, in address order.
    changes: Vec<ChangeView>,
    /// What refresh found changed outside of rave, reported apart from the changes.
    drift: Vec<DriftView>,
    /// Resources moved to a new address in state (`moved:` in the file); left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    moves: Vec<MoveView>,
}

/// One rename in state.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Move")]
struct MoveView {
    /// The address state recorded.
    from: ResourceId,
    /// The address it is recorded at from now on.
    to: ResourceId,
}

/// Counts; a replacement is one added and one destroyed.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Summary")]
struct SummaryView {
    /// Resources created, counting the new half of replacements.
    add: usize,
    /// Resources updated in place.
    change: usize,
    /// Resources destroyed, counting the old half of replacements.
    destroy: usize,
}

/// What happens to one resource.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Change")]
struct ChangeView {
    /// The resource's address, `kind.name`.
    address: ResourceId,
    /// Its kind: `cache`, `builder`, `build`, `host`, `vm`, `container` or `service`.
    kind: String,
    /// Its name.
    name: String,
    /// What will be done to it.
    action: ActionView,
    /// Why, most important first.
    reasons: Vec<ReasonView>,
    /// The attributes that differ; every attribute for a create or a destroy.
    attributes: Vec<AttributeView>,
    /// For a Nix-built resource whose derivation changed: the packages whose versions changed in
    /// its closure (empty when unknown or none).
    closure: Vec<VersionChange>,
    /// For a Nix-built resource whose derivation changed: which of its inputs changed, where the
    /// change starts (`` `microvm-run-vm1` › `kernel-params`: `args` changed ``; empty when unknown).
    inputs_changed: Vec<String>,
}

/// What will be done to a resource.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "Action")]
enum ActionView {
    /// Created.
    Create,
    /// Changed in place.
    Update,
    /// Destroyed, then created again.
    DeleteThenCreate,
    /// Created again, then the old one destroyed.
    CreateThenDelete,
    /// Destroyed.
    Delete,
}

/// One reason for a change.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Reason")]
struct ReasonView {
    /// The kind of reason.
    reason: ReasonCode,
    /// The reason in words, as the human plan says it after "because".
    message: String,
    /// The attributes concerned (`attributes_changed`, `forces_replacement`); empty otherwise.
    attributes: Vec<String>,
    /// The dependency concerned (`dependency_changed`); null otherwise.
    address: Option<ResourceId>,
}

/// The kinds of reason.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum ReasonCode {
    /// In the configuration, not yet created.
    NotYetCreated,
    /// Created before, no longer in the configuration.
    NotInConfiguration,
    /// Attributes changed.
    AttributesChanged,
    /// Attributes changed that cannot change in place.
    ForcesReplacement,
    /// A dependency is replaced.
    DependencyChanged,
    /// A service that runs on it changed (its settings are part of this system).
    PlacedServiceChanged,
    /// `--replace` asked for it.
    ReplaceRequested,
    /// An earlier apply failed part way through it.
    Tainted,
    /// Refresh found it gone.
    MissingInReality,
    /// Refresh found it changed outside of rave.
    Drifted,
    /// `rave destroy`.
    DestroyRequested,
}

/// One attribute's difference.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Attribute")]
struct AttributeView {
    /// The attribute's name; `secrets.NAME` or the secret field's name for a secret's content.
    name: String,
    /// The recorded value; null when absent or sensitive.
    before: Option<Value>,
    /// The desired value; null when absent or sensitive.
    after: Option<Value>,
    /// A secret's content: its values are never shown.
    sensitive: bool,
    /// This attribute cannot change in place.
    forces_replacement: bool,
}

/// One resource that changed outside of rave.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Drift")]
struct DriftView {
    /// The resource's address, `kind.name`.
    address: ResourceId,
    /// What refresh found.
    status: DriftStatus,
    /// What changed, in one line, as the driver said it; null when it is missing.
    summary: Option<String>,
    /// The outputs that differ from what was recorded; empty when it is missing.
    outputs: Vec<OutputView>,
}

/// What refresh found.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum DriftStatus {
    /// The resource is gone.
    Missing,
    /// The resource is there, with different outputs.
    Changed,
}

/// One output that differs.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename = "Output")]
struct OutputView {
    /// The output's name.
    name: String,
    /// What was recorded; null when nothing was.
    before: Option<Value>,
    /// What refresh found.
    after: Value,
}

/// The plan as pretty-printed JSON, ending with a newline. Never coloured: `_styles` is taken only
/// so that every plan renderer has the same signature.
pub(crate) fn render(plan: &Plan, _styles: &Styles) -> String {
    let view = view(plan);
    // Plain structs of strings, numbers and JSON values always serialize.
    let mut text = serde_json::to_string_pretty(&view).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of [`render`]'s output, pretty-printed, ending with a newline.
#[cfg(test)] // the schema file is checked (and rewritten) by a test
pub(crate) fn plan_schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<PlanView>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn view(plan: &Plan) -> PlanView {
    let summary = PlanSummary::of(plan);
    PlanView {
        format_version: JSON_FORMAT_VERSION,
        project: plan.project.clone(),
        lineage: plan.lineage.clone(),
        serial: plan.serial,
        summary: SummaryView { add: summary.add, change: summary.change, destroy: summary.destroy },
        changes: plan.changes.iter().filter_map(|change| change_view(change, plan)).collect(),
        drift: drifted(plan).filter_map(|drift| drift_view(drift, plan)).collect(),
        moves: plan.moves.iter().map(|rename| MoveView { from: rename.from.clone(), to: rename.to.clone() }).collect(),
    }
}

fn change_view(change: &Change, plan: &Plan) -> Option<ChangeView> {
    let action = match change.action {
        Action::NoOp => return None,
        Action::Create => ActionView::Create,
        Action::Update => ActionView::Update,
        Action::DeleteThenCreate => ActionView::DeleteThenCreate,
        Action::CreateThenDelete => ActionView::CreateThenDelete,
        Action::Delete => ActionView::Delete,
    };
    Some(ChangeView {
        address: change.address.clone(),
        kind: change.address.kind.prefix().to_owned(),
        name: change.address.name.to_string(),
        action,
        reasons: change.reasons.iter().map(|reason| reason_view(reason, change, plan)).collect(),
        attributes: change.attributes.iter().map(attribute_view).collect(),
        closure: change.closure.clone(),
        inputs_changed: change.inputs_changed.clone(),
    })
}

fn reason_view(reason: &Reason, change: &Change, plan: &Plan) -> ReasonView {
    let (code, attributes, address) = match reason {
        Reason::NotYetCreated => (ReasonCode::NotYetCreated, Vec::new(), None),
        Reason::NotInConfiguration => (ReasonCode::NotInConfiguration, Vec::new(), None),
        Reason::AttributesChanged { attributes } => (ReasonCode::AttributesChanged, attributes.clone(), None),
        Reason::ForcesReplacement { attributes } => (ReasonCode::ForcesReplacement, attributes.clone(), None),
        Reason::DependencyChanged { address } => (ReasonCode::DependencyChanged, Vec::new(), Some(address.clone())),
        Reason::PlacedServiceChanged { address } => {
            (ReasonCode::PlacedServiceChanged, Vec::new(), Some(address.clone()))
        }
        Reason::ReplaceRequested => (ReasonCode::ReplaceRequested, Vec::new(), None),
        Reason::Tainted => (ReasonCode::Tainted, Vec::new(), None),
        Reason::MissingInReality => (ReasonCode::MissingInReality, Vec::new(), None),
        Reason::Drifted => (ReasonCode::Drifted, Vec::new(), None),
        Reason::DestroyRequested => (ReasonCode::DestroyRequested, Vec::new(), None),
    };
    ReasonView { reason: code, message: reason_phrase(reason, change, plan), attributes, address }
}

fn attribute_view(attribute: &AttributeChange) -> AttributeView {
    // The internal plan never holds secret values either; this keeps the promise even if it did.
    let (before, after) =
        if attribute.is_sensitive { (None, None) } else { (attribute.before.clone(), attribute.after.clone()) };
    AttributeView {
        name: attribute.name.clone(),
        before,
        after,
        sensitive: attribute.is_sensitive,
        forces_replacement: attribute.forces_replacement,
    }
}

fn drift_view(drift: &Drift, plan: &Plan) -> Option<DriftView> {
    match &drift.observation {
        Observed::AsRecorded => None,
        Observed::Missing => Some(DriftView {
            address: drift.address.clone(),
            status: DriftStatus::Missing,
            summary: None,
            outputs: Vec::new(),
        }),
        Observed::Changed { outputs, summary } => {
            let outputs = changed_outputs(plan, &drift.address, outputs)
                .map(|(name, recorded, observed)| OutputView {
                    name: name.clone(),
                    before: recorded.cloned(),
                    after: observed.clone(),
                })
                .collect();
            Some(DriftView {
                address: drift.address.clone(),
                status: DriftStatus::Changed,
                summary: Some(summary.clone()),
                outputs,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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
    fn secrets_never_appear() {
        let text = render(&plan_fixture::rich_plan(), &Styles::plain());
        assert!(!text.contains("sha256:"), "no digest in the JSON plan");
        let document: Value = serde_json::from_str(&text).unwrap();
        let sensitive: Vec<&Value> = document["changes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|change| change["attributes"].as_array().unwrap())
            .filter(|attribute| attribute["sensitive"] == true)
            .collect();
        assert!(!sensitive.is_empty());
        assert!(sensitive.iter().all(|attribute| attribute["before"].is_null() && attribute["after"].is_null()));
    }

    /// Fails when `schemas/plan.schema.json` is stale; `RAVE_UPDATE_SCHEMAS=1` rewrites it.
    #[test]
    fn schema_file_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/plan.schema.json");
        let schema = plan_schema();
        if std::env::var_os("RAVE_UPDATE_SCHEMAS").is_some_and(|value| value == "1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &schema).unwrap();
            return;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == schema,
            "`schemas/plan.schema.json` is stale: run `RAVE_UPDATE_SCHEMAS=1 cargo test schema_file_is_current`"
        );
    }
}
