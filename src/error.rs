//! Errors at the edge: a message for the user, and a hint on what to do.
//!
//! Library stages return typed errors or diagnostics; commands wrap them in `anyhow` with context.
//! A [`CommandError`] anywhere in the chain contributes its hint to the final report.

use std::fmt;

/// A failure a command reports as is, with a hint.
#[derive(Debug)]
pub(crate) struct CommandError {
    message: String,
    hint: Option<String>,
}

impl CommandError {
    /// A failure with this message.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), hint: None }
    }

    /// Adds what to do about it.
    #[must_use]
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The hint, if any.
    pub(crate) fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CommandError {}

/// The report for an error: `error: …`, `  caused by: …` per cause, then `hint: …` when a
/// [`CommandError`] in the chain has one.
pub(crate) fn report(error: &anyhow::Error) -> (Vec<String>, Option<String>) {
    let mut lines = vec![error.to_string()];
    lines.extend(error.chain().skip(1).map(ToString::to_string));
    let hint = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<CommandError>().and_then(CommandError::hint).map(str::to_owned));
    (lines, hint)
}
