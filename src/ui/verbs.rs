//! The words for what an apply does to a resource, in the forms progress and summaries need.

use crate::plan::Action;

/// While it runs: `creating`.
pub(crate) fn doing(action: Action) -> &'static str {
    match action {
        Action::NoOp => "checking",
        Action::Create => "creating",
        Action::Update => "updating",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replacing",
        Action::Delete => "destroying",
    }
}

/// Once done: `created`.
pub(crate) fn done(action: Action) -> &'static str {
    match action {
        Action::NoOp => "unchanged",
        Action::Create => "created",
        Action::Update => "updated",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replaced",
        Action::Delete => "destroyed",
    }
}

/// What was tried, for a failure: `create`, `replace (destroy first)`.
pub(crate) fn tried(action: Action) -> &'static str {
    match action {
        Action::NoOp => "check",
        Action::Create => "create",
        Action::Update => "update in place",
        Action::DeleteThenCreate => "replace (destroy first)",
        Action::CreateThenDelete => "replace (create first)",
        Action::Delete => "destroy",
    }
}
