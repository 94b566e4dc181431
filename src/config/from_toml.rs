//! TOML text → positioned [`Node`] tree, through `toml`'s spanned `DeTable`.
//!
//! `toml` checks the syntax, duplicate keys and its own nesting limit; its messages are kept and
//! placed at its spans (without its snippet: our renderer prints one). Keys come back in file
//! order. Dates and times, which no rave field takes, are refused here so a typo like an unquoted
//! `2024-01-01` names its place. Which fields exist is not known here; `decode` checks that.

use std::fmt;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::from_yaml::MAX_DEPTH;
use super::node::{Key, Node, NodeValue};
use super::source_file::SourceFile;
use crate::diagnostic::Position;

/// Why TOML text could not be read into a tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TomlError {
    /// Where the problem is.
    pub(crate) position: Position,
    /// What it is.
    pub(crate) kind: TomlErrorKind,
}

/// What is wrong with the TOML.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TomlErrorKind {
    /// Not TOML, or a duplicate key; `toml`'s words.
    Syntax {
        /// What `toml` said.
        message: String,
    },
    /// Nothing in the file.
    Empty,
    /// A date or time value.
    Datetime,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An integer outside the 64-bit range.
    IntegerTooLarge {
        /// The number as written.
        text: String,
    },
}

impl fmt::Display for TomlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { message } => write!(f, "invalid TOML: {message}"),
            Self::Empty => write!(f, "the file is empty"),
            Self::Datetime => write!(f, "dates and times are not used in rave files"),
            Self::TooDeep => write!(f, "values are nested more than {MAX_DEPTH} levels deep"),
            Self::IntegerTooLarge { text } => {
                write!(f, "the integer `{text}` does not fit in 64 bits")
            }
        }
    }
}

impl TomlErrorKind {
    /// What to do about it, when there is something to say.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Self::Empty => Some("start with `version = 1` and `project = \"NAME\"`".to_owned()),
            Self::Datetime => Some("quote it if it is meant as text".to_owned()),
            _ => None,
        }
    }
}

/// Parses the TOML text of `source` into a tree. A large file is read in two pieces at once
/// when it cuts cleanly (`toml_cut`); the tree is the same either way.
pub(crate) fn parse(source: &SourceFile) -> Result<Node, TomlError> {
    if let Some(node) = super::toml_cut::parse_in_parts(source) {
        return Ok(node);
    }
    parse_piece(source, &Piece { text: &source.text, start: 0, header_len: 0 })
}

/// Text read as TOML on its own: the whole file, or a piece of it that starts at byte `start`,
/// after a header of `header_len` bytes that is not in the file (`[vms]\n`).
pub(super) struct Piece<'a> {
    /// The text, header included.
    pub(super) text: &'a str,
    /// Where the text after the header starts in the file.
    pub(super) start: usize,
    /// The length of the header that is not in the file.
    pub(super) header_len: usize,
}

/// Parses `piece` of `source` into a tree, with positions in the file: by the fast reader of
/// the common subset when it can (`toml_fast`), else through `toml`, which gives every error.
pub(super) fn parse_piece(source: &SourceFile, piece: &Piece<'_>) -> Result<Node, TomlError> {
    if let Some(node) = super::toml_fast::read(source, piece) {
        return Ok(node);
    }
    parse_piece_with_toml(source, piece)
}

/// Parses `piece` of `source` through `toml`'s `DeTable`, with positions in the file.
pub(super) fn parse_piece_with_toml(source: &SourceFile, piece: &Piece<'_>) -> Result<Node, TomlError> {
    let converter = Converter { source, start: piece.start, header_len: piece.header_len };
    let table = DeTable::parse(piece.text).map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        let message = error.message().trim_end().replace('\n', "; ");
        converter.error(offset, TomlErrorKind::Syntax { message })
    })?;
    if table.get_ref().is_empty() {
        return Err(converter.error(0, TomlErrorKind::Empty));
    }
    converter.table(table.get_ref(), converter.position(table.span().start), 0)
}

struct Converter<'a> {
    source: &'a SourceFile,
    /// Where the piece's text after its header starts in the file.
    start: usize,
    /// The length of the piece's header that is not in the file.
    header_len: usize,
}

impl Converter<'_> {
    /// The position in the file of byte `offset` of the piece.
    fn position(&self, offset: usize) -> Position {
        self.source.position((offset + self.start).saturating_sub(self.header_len))
    }

    fn error(&self, offset: usize, kind: TomlErrorKind) -> TomlError {
        TomlError { position: self.position(offset), kind }
    }

    fn table(&self, table: &DeTable<'_>, position: Position, depth: usize) -> Result<Node, TomlError> {
        let mut entries: Vec<(&Spanned<_>, &Spanned<DeValue<'_>>)> = table.iter().collect();
        // `toml` keeps keys sorted; the file's order reads better in messages and in the tree.
        entries.sort_by_key(|(key, _)| key.span().start);
        let entries = entries
            .into_iter()
            .map(|(key, value)| {
                let key = Key { text: key.get_ref().to_string(), position: self.position(key.span().start) };
                Ok((key, self.value(value, depth + 1)?))
            })
            .collect::<Result<_, _>>()?;
        Ok(Node { value: NodeValue::Mapping(entries), position })
    }

    fn value(&self, value: &Spanned<DeValue<'_>>, depth: usize) -> Result<Node, TomlError> {
        let offset = value.span().start;
        let position = self.position(offset);
        if depth > MAX_DEPTH {
            return Err(self.error(offset, TomlErrorKind::TooDeep));
        }
        let value = match value.get_ref() {
            DeValue::String(text) => NodeValue::String(text.to_string()),
            DeValue::Integer(integer) => {
                i64::from_str_radix(integer.as_str(), integer.radix()).map(NodeValue::Integer).map_err(|_| {
                    let text = integer.to_string();
                    self.error(offset, TomlErrorKind::IntegerTooLarge { text })
                })?
            }
            // `toml` has already checked the syntax, and Rust reads every TOML float (`inf`,
            // `nan`, exponents); the fallback is never taken.
            DeValue::Float(float) => NodeValue::Float(float.as_str().parse().unwrap_or(f64::NAN)),
            DeValue::Boolean(flag) => NodeValue::Bool(*flag),
            DeValue::Datetime(_) => return Err(self.error(offset, TomlErrorKind::Datetime)),
            DeValue::Array(items) => {
                NodeValue::Sequence(items.iter().map(|item| self.value(item, depth + 1)).collect::<Result<_, _>>()?)
            }
            DeValue::Table(table) => return self.table(table, position, depth),
        };
        Ok(Node { value, position })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Node, TomlError> {
        parse(&SourceFile::new("rave.toml", text))
    }

    fn at(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    #[test]
    fn tables_keep_file_order_and_positions() {
        let root =
            parse_text("version = 1\nproject = \"lab\"\n\n[vms.gitlab]\nhost = \"shoshin\"\nvcpus = 0x10\n").unwrap();
        let NodeValue::Mapping(entries) = &root.value else { panic!() };
        let keys: Vec<&str> = entries.iter().map(|(key, _)| key.text.as_str()).collect();
        assert_eq!(keys, ["version", "project", "vms"]);
        let (key, host) = root.get_path(&["vms", "gitlab"]).unwrap().entry("host").unwrap();
        assert_eq!(key.position, at(5, 1));
        assert_eq!(host.position, at(5, 8));
        assert_eq!(host.value, NodeValue::String("shoshin".into()));
        assert_eq!(root.get_path(&["vms", "gitlab", "vcpus"]).unwrap().value, NodeValue::Integer(16));
    }

    #[test]
    fn values_convert() {
        let root = parse_text("a = 1.5\nb = true\nc = [1, \"x\"]\nd = { e = inf }\nf = -3\n").unwrap();
        assert_eq!(root.get("a").unwrap().value, NodeValue::Float(1.5));
        assert_eq!(root.get("b").unwrap().value, NodeValue::Bool(true));
        assert_eq!(
            root.get("c").unwrap().value,
            NodeValue::Sequence(vec![
                Node { value: NodeValue::Integer(1), position: at(3, 6) },
                Node { value: NodeValue::String("x".into()), position: at(3, 9) },
            ])
        );
        assert_eq!(root.get_path(&["d", "e"]).unwrap().value, NodeValue::Float(f64::INFINITY));
        assert_eq!(root.get("f").unwrap().value, NodeValue::Integer(-3));
    }

    #[test]
    fn duplicate_keys_are_placed_at_the_second() {
        let error = parse_text("a = 1\nb = 2\na = 3\n").unwrap_err();
        assert_eq!(error.position, at(3, 1));
        assert_eq!(error.kind.to_string(), "invalid TOML: duplicate key");
        let error = parse_text("[vms.a]\nhost = \"x\"\n[vms.a]\nhost = \"y\"\n").unwrap_err();
        assert_eq!(error.position.line, 3);
    }

    #[test]
    fn syntax_errors_are_placed() {
        let error = parse_text("a = 1\nb = \n").unwrap_err();
        assert_eq!(error.position.line, 2);
        assert!(error.kind.to_string().starts_with("invalid TOML: "), "{}", error.kind);
        assert!(!error.kind.to_string().contains('\n'));
    }

    #[test]
    fn datetimes_are_refused() {
        let error = parse_text("a = 1\nwhen = 1979-05-27\n").unwrap_err();
        assert_eq!(error.position, at(2, 8));
        assert_eq!(error.kind, TomlErrorKind::Datetime);
    }

    #[test]
    fn deep_nesting_is_refused_quickly() {
        for text in [
            format!("a = {}", "[".repeat(100_000)),
            format!("a = {}1{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!("a = {}", "{ b = ".repeat(100_000)),
            format!("[{}]", vec!["a"; 100_000].join(".")),
            format!("{} = 1", vec!["a"; 100_000].join(".")),
        ] {
            let started = std::time::Instant::now();
            let error = parse_text(&text).unwrap_err();
            assert!(started.elapsed() < std::time::Duration::from_secs(2), "{text:.20}");
            assert!(!error.kind.to_string().is_empty());
        }
        let nested = format!("a = {}1{}", "[".repeat(70), "]".repeat(70));
        assert_eq!(parse_text(&nested).unwrap_err().kind, TomlErrorKind::TooDeep);
    }

    #[test]
    fn empty_files_say_so() {
        for text in ["", "# nothing\n\n"] {
            assert_eq!(parse_text(text).unwrap_err().kind, TomlErrorKind::Empty);
        }
    }

    #[test]
    fn a_huge_integer_is_an_error() {
        let error = parse_text("a = 99999999999999999999\n").unwrap_err();
        assert_eq!(error.position, at(1, 5));
    }
}
