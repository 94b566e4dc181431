//! Problems found in the user's file, reported all together.
//!
//! A [`Diagnostic`] is a value, not an error: loading and validation collect every one they find
//! into a `Vec` and the caller prints them at once. Rendering (the `——▶ file:line:col` excerpt) lives
//! here too, so YAML, TOML and semantic errors all look the same. This module does not decide what is
//! wrong; `config` and `model` do.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// The file cannot be used.
    Error,
    /// The file can be used, but something looks wrong.
    Warning,
}

/// A line and column in a source file, both counted from 1, columns in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub(crate) struct Position {
    /// Line number, from 1.
    pub(crate) line: u32,
    /// Column number in characters, from 1.
    pub(crate) column: u32,
}

/// Where a diagnostic points: a file and, when known, a position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    /// The file as the user named it (relative paths stay relative).
    pub(crate) file: PathBuf,
    /// The position in the file, when the problem has one.
    pub(crate) position: Option<Position>,
}

impl Location {
    /// A location at a position in `file`.
    pub(crate) fn at(file: &Path, position: Position) -> Self {
        Self { file: file.to_path_buf(), position: Some(position) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(position) => write!(f, "{}:{}:{}", self.file.display(), position.line, position.column),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// One problem in the user's file: what is wrong, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    /// Error or warning.
    pub(crate) severity: Severity,
    /// What is wrong, lowercase, names in backticks, no trailing period.
    pub(crate) message: String,
    /// Where it is.
    pub(crate) location: Location,
    /// What to do about it, when we can say.
    pub(crate) hint: Option<String>,
}

impl Diagnostic {
    /// An error at `location`.
    pub(crate) fn error(location: Location, message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, message: message.into(), location, hint: None }
    }

    /// Adds a hint saying what to do.
    #[must_use]
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this diagnostic makes the file unusable.
    pub(crate) fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
