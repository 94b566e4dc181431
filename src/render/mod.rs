//! Pure rendering: values in, text out. Nothing here decides, reads or prints.
//!
//! A plan has three views, one module each, behind one signature (`fn(&Plan, &Styles) -> String`):
//! [`plan_human`] for the terminal, [`plan_json`] for programs, [`plan_markdown`] for pull-request
//! comments. They share their counting ([`plan_summary`]) and their words ([`plan_wording`]).

mod attribute_value;
#[cfg(test)]
mod plan_fixture;
pub(crate) mod plan_human;
pub(crate) mod plan_json;
pub(crate) mod plan_markdown;
pub(crate) mod plan_summary;
pub(crate) mod plan_wording;
pub(crate) mod style;

use crate::plan::Plan;
use style::Styles;

/// The ways a plan can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlanFormat {
    /// Terraform's grammar, for a terminal; coloured when the styles are.
    Human,
    /// The versioned JSON document described by `schemas/plan.schema.json`; never coloured.
    Json,
    /// A pull-request comment; never coloured.
    Markdown,
}

impl PlanFormat {
    /// Renders `plan` in this format.
    pub(crate) fn render(self, plan: &Plan, styles: &Styles) -> String {
        match self {
            Self::Human => plan_human::render(plan, styles),
            Self::Json => plan_json::render(plan, styles),
            Self::Markdown => plan_markdown::render(plan, styles),
        }
    }
}
