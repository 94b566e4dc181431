//! The one thing a plan decides per resource: what to do with it.

use serde::{Deserialize, Serialize};

/// What an apply does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Action {
    /// Nothing to do.
    NoOp,
    /// Create it: `+`.
    Create,
    /// Change it in place: `~`.
    Update,
    /// Destroy it, then create it again: `-/+`.
    DeleteThenCreate,
    /// Create the new one, then destroy the old: `+/-`.
    CreateThenDelete,
    /// Destroy it: `-`.
    Delete,
}

impl Action {
    /// The symbol shown in plans; meaning survives without colour.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Self::NoOp => " ",
            Self::Create => "+",
            Self::Update => "~",
            Self::DeleteThenCreate => "-/+",
            Self::CreateThenDelete => "+/-",
            Self::Delete => "-",
        }
    }

    /// Whether this action replaces the resource.
    pub(crate) fn is_replace(self) -> bool {
        matches!(self, Self::DeleteThenCreate | Self::CreateThenDelete)
    }
}
