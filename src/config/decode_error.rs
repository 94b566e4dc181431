//! The error type of the tree decoder: what serde found wrong, and which value it was.
//!
//! serde builds errors without knowing where they are; the decoder attaches the innermost
//! [`Place`] as an error passes up through it. Turning an error into a [`Diagnostic`] (wording,
//! field path, hint) happens here, once, for every kind.

use std::fmt;
use std::path::Path;

use serde::de::{Expected, Unexpected};

use super::suggest;
use crate::diagnostic::{Diagnostic, Location, Position};

/// Where an error is: the value it belongs to, its position, and its field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The identity (address) of the value to leave out when decoding again past this error.
    pub(crate) node: usize,
    /// Where to point.
    pub(crate) position: Position,
    /// The field path, like `vms.gitlab.memory`; for a key, the path of its mapping.
    pub(crate) path: String,
}

/// Something wrong in a value, found while decoding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    /// What is wrong.
    pub(crate) kind: DecodeErrorKind,
    /// Where, once known.
    pub(crate) place: Option<Place>,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeErrorKind {
    /// A message from a type's own parser (sizes, names, addresses…).
    Custom(String),
    /// The value is of the wrong type, or out of range.
    Mismatch {
        /// What the field takes.
        expected: String,
        /// What was written.
        found: String,
    },
    /// A field the struct does not have.
    UnknownField {
        /// The key as written.
        field: String,
        /// The fields that exist.
        expected: &'static [&'static str],
    },
    /// A value outside a closed set (`hypervisor: qemo`).
    UnknownVariant {
        /// The value as written.
        variant: String,
        /// The values accepted.
        expected: &'static [&'static str],
    },
    /// A required field is absent.
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// A consequence of an error already reported (a field left out after its own error).
    Suppressed,
}

impl DecodeError {
    /// An error of `kind`, not yet placed.
    pub(crate) fn new(kind: DecodeErrorKind) -> Self {
        Self { kind, place: None }
    }

    /// Places the error at `place`, unless an inner value already claimed it.
    #[must_use]
    pub(crate) fn or_at(mut self, place: impl FnOnce() -> Place) -> Self {
        if self.place.is_none() {
            self.place = Some(place());
        }
        self
    }

    /// Whether this error only repeats one already reported.
    pub(crate) fn is_suppressed(&self) -> bool {
        self.kind == DecodeErrorKind::Suppressed
    }

    /// The error as a diagnostic in `file`. `None` for suppressed errors.
    pub(crate) fn into_diagnostic(self, file: &Path) -> Option<Diagnostic> {
        let (path, position) = match self.place {
            Some(place) => (place.path, Some(place.position)),
            None => (String::new(), None),
        };
        let location = Location { file: file.to_path_buf(), position };
        let prefix = if path.is_empty() { String::new() } else { format!("`{path}`: ") };
        let (message, hint) = match self.kind {
            DecodeErrorKind::Suppressed => return None,
            DecodeErrorKind::Custom(message) => (format!("{prefix}{message}"), None),
            DecodeErrorKind::Mismatch { expected, found } => {
                let hint = mismatch_hint(&expected, &found);
                (format!("{prefix}expected {expected}, found {found}"), hint)
            }
            DecodeErrorKind::UnknownField { field, expected } => {
                let message = if path.is_empty() {
                    format!("unknown top-level field `{field}`")
                } else {
                    format!("unknown field `{field}` in `{path}`")
                };
                let hint = suggest::did_you_mean(&field, expected.iter().copied())
                    .or_else(|| Some(format!("known fields: {}", quoted_list(expected))));
                (message, hint)
            }
            DecodeErrorKind::UnknownVariant { variant, expected } => (
                format!("{prefix}unknown value `{variant}`, expected {}", one_of(expected)),
                suggest::did_you_mean(&variant, expected.iter().copied()),
            ),
            DecodeErrorKind::MissingField { field } => {
                let message = if path.is_empty() {
                    format!("missing top-level field `{field}`")
                } else {
                    format!("missing field `{field}` in `{path}`")
                };
                (message, None)
            }
        };
        let diagnostic = Diagnostic::error(location, message);
        Some(match hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        })
    }
}

fn mismatch_hint(expected: &str, found: &str) -> Option<String> {
    let scalar = matches!(found, "an integer" | "a number" | "a boolean");
    if expected == "a string" && scalar {
        Some("quote the value to make it a string".to_owned())
    } else if expected == "a list" && (scalar || found == "a string") {
        Some("write a list, even of one item: `[item]`".to_owned())
    } else {
        None
    }
}

/// `` `a`, `b`, `c` ``.
fn quoted_list(items: &[&str]) -> String {
    items.iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
}

/// `` one of `a`, `b` `` or `` `a` `` for a single item.
pub(crate) fn one_of(items: &[&str]) -> String {
    match items {
        [only] => format!("`{only}`"),
        _ => format!("one of {}", quoted_list(items)),
    }
}

/// What serde says a visitor expected, in the file's words (`a mapping`, not `struct Capacity`).
fn expected_text(expected: &dyn Expected) -> String {
    let text = expected.to_string();
    match text.as_str() {
        "a map" => "a mapping".to_owned(),
        "a sequence" => "a list".to_owned(),
        "unit" => "null".to_owned(),
        _ if text.starts_with("struct ") => "a mapping".to_owned(),
        _ => text,
    }
}

/// What was found, in the file's words.
fn found_text(unexpected: &Unexpected<'_>, with_value: bool) -> String {
    match (unexpected, with_value) {
        (Unexpected::Bool(flag), true) => format!("`{flag}`"),
        (Unexpected::Unsigned(number), true) => format!("`{number}`"),
        (Unexpected::Signed(number), true) => format!("`{number}`"),
        (Unexpected::Float(number), true) => format!("`{number}`"),
        (Unexpected::Str(text), true) => format!("`{text}`"),
        (Unexpected::Bool(_), false) => "a boolean".to_owned(),
        (Unexpected::Unsigned(_) | Unexpected::Signed(_), false) => "an integer".to_owned(),
        (Unexpected::Float(_), false) => "a number".to_owned(),
        (Unexpected::Char(_) | Unexpected::Str(_), false) => "a string".to_owned(),
        (Unexpected::Unit, _) => "null".to_owned(),
        (Unexpected::Seq, _) => "a list".to_owned(),
        (Unexpected::Map, _) => "a mapping".to_owned(),
        (other, _) => other.to_string(),
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::Custom(message) => f.write_str(message),
            DecodeErrorKind::Mismatch { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            DecodeErrorKind::UnknownField { field, .. } => write!(f, "unknown field `{field}`"),
            DecodeErrorKind::UnknownVariant { variant, .. } => {
                write!(f, "unknown value `{variant}`")
            }
            DecodeErrorKind::MissingField { field } => write!(f, "missing field `{field}`"),
            DecodeErrorKind::Suppressed => f.write_str("an error reported already"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(DecodeErrorKind::Custom(message.to_string()))
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::new(DecodeErrorKind::Mismatch {
            expected: expected_text(expected),
            found: found_text(&unexpected, false),
        })
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::new(DecodeErrorKind::Mismatch { expected: expected_text(expected), found: found_text(&unexpected, true) })
    }

    fn invalid_length(length: usize, expected: &dyn Expected) -> Self {
        Self::new(DecodeErrorKind::Mismatch { expected: expected_text(expected), found: format!("{length} items") })
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::new(DecodeErrorKind::UnknownVariant { variant: variant.to_owned(), expected })
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::new(DecodeErrorKind::UnknownField { field: field.to_owned(), expected })
    }

    fn missing_field(field: &'static str) -> Self {
        Self::new(DecodeErrorKind::MissingField { field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::Error as _;

    fn placed(error: DecodeError, path: &str) -> Diagnostic {
        error
            .or_at(|| Place { node: 0, position: Position { line: 3, column: 5 }, path: path.to_owned() })
            .into_diagnostic(Path::new("rave.yaml"))
            .unwrap()
    }

    #[test]
    fn unknown_fields_suggest_the_nearest() {
        let diagnostic = placed(DecodeError::unknown_field("hots", &["host", "vcpus"]), "vms.gitlab");
        assert_eq!(diagnostic.message, "unknown field `hots` in `vms.gitlab`");
        assert_eq!(diagnostic.hint.as_deref(), Some("did you mean `host`?"));
        assert_eq!(diagnostic.location.to_string(), "rave.yaml:3:5");
        let diagnostic = placed(DecodeError::unknown_field("colour", &["host", "vcpus"]), "");
        assert_eq!(diagnostic.message, "unknown top-level field `colour`");
        assert_eq!(diagnostic.hint.as_deref(), Some("known fields: `host`, `vcpus`"));
    }

    #[test]
    fn mismatches_speak_the_file_s_words() {
        struct Capacity;
        impl Expected for Capacity {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Capacity")
            }
        }
        let diagnostic = placed(DecodeError::invalid_type(Unexpected::Seq, &Capacity), "hosts.a.capacity");
        assert_eq!(diagnostic.message, "`hosts.a.capacity`: expected a mapping, found a list");
        let diagnostic = placed(DecodeError::unknown_variant("qemo", &["qemu", "firecracker"]), "vms.a.hypervisor");
        assert_eq!(
            diagnostic.message,
            "`vms.a.hypervisor`: unknown value `qemo`, expected one of `qemu`, `firecracker`"
        );
        assert_eq!(diagnostic.hint.as_deref(), Some("did you mean `qemu`?"));
    }

    #[test]
    fn suppressed_errors_are_not_reported() {
        let error = DecodeError::new(DecodeErrorKind::Suppressed);
        assert!(error.into_diagnostic(Path::new("rave.yaml")).is_none());
    }
}
