//! Placeholder: filled in by its owner.

/// The real drivers, one per kind.
pub(crate) struct Registry;
