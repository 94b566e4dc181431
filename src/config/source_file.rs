//! Placeholder: filled in by its owner.

/// The desired-state file's path and text.
#[derive(Debug)]
pub(crate) struct SourceFile;
