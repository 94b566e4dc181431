//! YAML text → positioned [`Node`] tree, from `saphyr-parser` events.
//!
//! The events of text in the common subset of YAML come from `yaml_subset`, a faster reader that
//! produces exactly saphyr's events; any other text, and any error, is read by saphyr.
//! The tree is built with an explicit stack, never by recursion, so nesting is refused at
//! [`MAX_DEPTH`] with a position instead of overflowing the stack. Plain scalars resolve by the
//! YAML 1.2 core schema (`yes`/`no`/`on`/`off` stay strings); quoted scalars are strings.
//! Anchors and aliases are expanded within [`MAX_ALIAS_VALUES`], so an alias bomb fails in
//! microseconds; `<<` merge keys are applied. Exactly one document is accepted. Duplicate keys,
//! non-scalar keys and tags outside the core schema are errors. Which fields exist is not known
//! here; `decode` checks that.

use std::collections::{HashMap, HashSet};
use std::fmt;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use super::node::{Key, Node, NodeValue};
use super::yaml_scalar::{check_collection_tag, check_key_tag, scalar};
use super::yaml_subset;
use crate::diagnostic::Position;

/// Deepest nesting of lists and mappings accepted; real files use about six.
pub(crate) const MAX_DEPTH: usize = 64;
/// Most values that anchors and aliases may copy in all. Real files copy a few dozen; an alias
/// bomb asks for billions.
pub(crate) const MAX_ALIAS_VALUES: usize = 100_000;
/// Keys a mapping checks for duplicates by scanning; past this many, it keeps a table.
const LINEAR_KEYS: usize = 16;
/// Most values in one file, copies included. A 100,000-resource file has about a million;
/// the cap bounds memory for files made of nothing but tiny values.
pub(crate) const MAX_VALUES: usize = 2_000_000;

/// Why YAML text could not be read into a tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YamlError {
    /// Where the problem is.
    pub(crate) position: Position,
    /// What it is.
    pub(crate) kind: YamlErrorKind,
}

/// What is wrong with the YAML.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum YamlErrorKind {
    /// The text is not YAML; the parser's words.
    Syntax {
        /// What the parser said.
        message: String,
    },
    /// No document at all: empty, or only comments.
    Empty,
    /// A second `---` document.
    MultipleDocuments,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Aliases would copy more than [`MAX_ALIAS_VALUES`].
    AliasBudget,
    /// More values than the limit, [`MAX_VALUES`] outside tests.
    TooManyValues {
        /// The limit.
        limit: usize,
    },
    /// A key written twice in one mapping.
    DuplicateKey {
        /// The key.
        key: String,
        /// The line of its first occurrence.
        first_line: u32,
    },
    /// A list or mapping used as a key.
    NonScalarKey,
    /// A tag outside the YAML core schema.
    UnsupportedTag {
        /// The tag as written.
        tag: String,
    },
    /// A core-schema tag on a value it does not fit (`!!int abc`).
    TagMismatch {
        /// The tag as written.
        tag: String,
    },
    /// An integer outside the 64-bit range.
    IntegerTooLarge {
        /// The number as written.
        text: String,
    },
    /// An alias to its own enclosing node.
    RecursiveAlias,
    /// A `<<` merge key whose value is not a mapping or a list of mappings.
    BadMerge,
}

impl fmt::Display for YamlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { message } => write!(f, "invalid YAML: {message}"),
            Self::Empty => write!(f, "the file is empty"),
            Self::MultipleDocuments => write!(f, "the file holds more than one YAML document"),
            Self::TooDeep => write!(f, "values are nested more than {MAX_DEPTH} levels deep"),
            Self::AliasBudget => write!(f, "alias expansion would copy more than {MAX_ALIAS_VALUES} values"),
            Self::TooManyValues { limit } => write!(f, "the file holds more than {limit} values"),
            Self::DuplicateKey { key, first_line } => {
                write!(f, "duplicate key `{key}`, first written on line {first_line}")
            }
            Self::NonScalarKey => {
                write!(f, "a mapping key must be plain text, not a list or mapping")
            }
            Self::UnsupportedTag { tag } => write!(f, "unsupported tag `{tag}`"),
            Self::TagMismatch { tag } => write!(f, "the value does not fit its tag `{tag}`"),
            Self::IntegerTooLarge { text } => {
                write!(f, "the integer `{text}` does not fit in 64 bits")
            }
            Self::RecursiveAlias => write!(f, "an alias refers to a node that contains it"),
            Self::BadMerge => write!(f, "a `<<` merge key takes a mapping or a list of mappings"),
        }
    }
}

impl YamlErrorKind {
    /// What to do about it, when there is something to say.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Self::Empty => Some("start with `version: 1` and `project: NAME`".to_owned()),
            Self::MultipleDocuments => {
                Some("a desired-state file is one document; remove the extra `---`".to_owned())
            }
            Self::AliasBudget => Some(
                "this looks like an alias bomb; write the values out or use fewer aliases".to_owned(),
            ),
            Self::DuplicateKey { .. } => Some("remove one of them".to_owned()),
            Self::UnsupportedTag { .. } => Some(
                "rave reads plain YAML values; only the standard `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!seq` and `!!map` tags are accepted"
                    .to_owned(),
            ),
            Self::IntegerTooLarge { .. } => Some("quote it if it is meant as text".to_owned()),
            _ => None,
        }
    }
}

/// Parses `text` as one YAML document into a tree. A large file is read in two pieces at once
/// when it cuts cleanly (`yaml_cut`); the tree is the same either way.
pub(crate) fn parse(text: &str) -> Result<Node, YamlError> {
    if let Some(node) = super::yaml_cut::parse_in_parts(text) {
        return Ok(node);
    }
    parse_with_limit(text, MAX_VALUES)
}

/// [`parse`] with another cap on the number of values, so tests need not build millions.
fn parse_with_limit(text: &str, max_values: usize) -> Result<Node, YamlError> {
    parse_piece_with_limit(text, 1, max_values).map(|piece| piece.node)
}

/// A piece of a file read on its own, and what it counted against the file's caps.
#[derive(Debug)]
pub(super) struct Piece {
    /// Its tree.
    pub(super) node: Node,
    /// Values in it.
    pub(super) values: usize,
    /// Values its anchors and aliases copied.
    pub(super) alias_values: usize,
}

/// Parses `text`, a piece of a file that starts on line `first_line` of it, as one document.
pub(super) fn parse_piece(text: &str, first_line: u32) -> Result<Piece, YamlError> {
    parse_piece_with_limit(text, first_line, MAX_VALUES)
}

/// Reads with the fast reader of the common subset first. When the text leaves the subset, or
/// anything at all goes wrong, what it built is dropped and saphyr reads the piece from the start,
/// so every error, and every tree outside the subset, is saphyr's.
pub(super) fn parse_piece_with_limit(text: &str, first_line: u32, max_values: usize) -> Result<Piece, YamlError> {
    match parse_subset(text, first_line, max_values) {
        Some(piece) => Ok(piece),
        None => parse_saphyr(text, first_line, max_values),
    }
}

/// [`parse_piece_with_limit`] by `yaml_subset`; `None` when it falls back or the builder fails.
pub(super) fn parse_subset(text: &str, first_line: u32, max_values: usize) -> Option<Piece> {
    let lines_before = first_line.saturating_sub(1);
    let mut builder = Builder { max_values, ..Builder::default() };
    yaml_subset::read(text, |event, marker| {
        builder.event(event, position(marker, lines_before)).map_err(|_| yaml_subset::Fallback)
    })
    .ok()?;
    builder.into_piece(first_line).ok()
}

/// [`parse_piece_with_limit`] by saphyr alone.
pub(super) fn parse_saphyr(text: &str, first_line: u32, max_values: usize) -> Result<Piece, YamlError> {
    let lines_before = first_line.saturating_sub(1);
    let mut builder = Builder { max_values, ..Builder::default() };
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|error| scan_error(&error, lines_before))?;
        let position = position(span.start, lines_before);
        builder.event(event, position).map_err(|kind| YamlError { position, kind })?;
    }
    builder.into_piece(first_line)
}

/// A saphyr marker (1-based line, 0-based column) as a position (both 1-based), `lines_before`
/// lines further down.
fn position(marker: Marker, lines_before: u32) -> Position {
    Position {
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX).saturating_add(lines_before),
        column: u32::try_from(marker.col() + 1).unwrap_or(u32::MAX),
    }
}

fn scan_error(error: &ScanError, lines_before: u32) -> YamlError {
    let kind = if error.info() == "recursion limit exceeded" {
        // saphyr's own flow-nesting limit, reached while scanning ahead of ours.
        YamlErrorKind::TooDeep
    } else {
        YamlErrorKind::Syntax { message: error.info().to_owned() }
    };
    YamlError { position: position(*error.marker(), lines_before), kind }
}

/// A finished value with what aliases need to know to copy it within bounds.
#[derive(Debug, Clone)]
struct Built {
    node: Node,
    /// Values in it, itself included.
    count: usize,
    /// Levels of lists and mappings in it: 0 for a scalar.
    height: usize,
}

/// A list or mapping still open.
#[derive(Debug)]
struct Frame {
    position: Position,
    anchor: usize,
    count: usize,
    height: usize,
    contents: Contents,
}

#[derive(Debug)]
enum Contents {
    Sequence(Vec<Node>),
    Mapping {
        entries: Vec<(Key, Node)>,
        /// Line of each key, for duplicates; built once the mapping is large, so that small
        /// mappings cost no table and large ones stay linear.
        lines: Option<HashMap<String, u32>>,
        /// Line of the `<<` merge key, which is not among the entries.
        merge_line: Option<u32>,
        /// The key waiting for its value; `None` when the next node is a key.
        pending: Option<PendingKey>,
        /// Values of `<<` merge keys, applied when the mapping ends.
        merges: Vec<Node>,
    },
}

#[derive(Debug)]
struct PendingKey {
    key: Key,
    is_merge: bool,
}

#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    root: Option<Node>,
    has_document: bool,
    values: usize,
    max_values: usize,
    alias_values: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, position: Position) -> Result<(), YamlErrorKind> {
        match event {
            Event::DocumentStart(_) => {
                if self.has_document {
                    return Err(YamlErrorKind::MultipleDocuments);
                }
                self.has_document = true;
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                if self.expects_key() {
                    let is_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                    if let Some(tag) = &tag {
                        check_key_tag(tag)?;
                    }
                    let key = Key { text: compact(text.into_owned()), position };
                    if anchor != 0 {
                        let node = Node { value: NodeValue::String(key.text.clone()), position };
                        self.remember(anchor, node, 1, 0)?;
                    }
                    return self.set_key(PendingKey { key, is_merge });
                }
                let value = match scalar(text, style, tag.as_deref())? {
                    NodeValue::String(text) => NodeValue::String(compact(text)),
                    value => value,
                };
                self.count_values(1)?;
                self.finish(Node { value, position }, 1, 0, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(position, anchor, tag.as_deref(), Contents::Sequence(Vec::new()))
            }
            Event::MappingStart(anchor, tag) => {
                let contents = Contents::Mapping {
                    entries: Vec::new(),
                    lines: None,
                    merge_line: None,
                    pending: None,
                    merges: Vec::new(),
                };
                self.open(position, anchor, tag.as_deref(), contents)
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(anchor) => self.alias(anchor, position),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
        }
    }

    /// The piece read, once every event is in.
    fn into_piece(self, first_line: u32) -> Result<Piece, YamlError> {
        let Some(node) = self.root else {
            let position = Position { line: first_line, column: 1 };
            return Err(YamlError { position, kind: YamlErrorKind::Empty });
        };
        Ok(Piece { node, values: self.values, alias_values: self.alias_values })
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame { contents: Contents::Mapping { pending: None, .. }, .. }))
    }

    fn set_key(&mut self, key: PendingKey) -> Result<(), YamlErrorKind> {
        if let Some(Frame { contents: Contents::Mapping { entries, lines, merge_line, pending, .. }, .. }) =
            self.stack.last_mut()
        {
            let text = key.key.text.as_str();
            let first_line = match lines {
                Some(lines) => lines.get(text).copied(),
                None => {
                    entries.iter().find(|(earlier, _)| earlier.text == text).map(|(earlier, _)| earlier.position.line)
                }
            }
            .or(merge_line.filter(|_| text == "<<"));
            if let Some(first_line) = first_line {
                return Err(YamlErrorKind::DuplicateKey { key: key.key.text, first_line });
            }
            if key.is_merge {
                *merge_line = Some(key.key.position.line);
            }
            *pending = Some(key);
        }
        Ok(())
    }

    fn open(
        &mut self,
        position: Position,
        anchor: usize,
        tag: Option<&Tag>,
        contents: Contents,
    ) -> Result<(), YamlErrorKind> {
        if self.expects_key() {
            return Err(YamlErrorKind::NonScalarKey);
        }
        if let Some(tag) = tag {
            let expected = match contents {
                Contents::Sequence(_) => "seq",
                Contents::Mapping { .. } => "map",
            };
            check_collection_tag(tag, expected)?;
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlErrorKind::TooDeep);
        }
        self.count_values(1)?;
        self.stack.push(Frame { position, anchor, count: 1, height: 1, contents });
        Ok(())
    }

    fn close(&mut self) -> Result<(), YamlErrorKind> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let value = match frame.contents {
            Contents::Sequence(items) => NodeValue::Sequence(items),
            Contents::Mapping { mut entries, merges, .. } => {
                merge(&mut entries, merges)?;
                NodeValue::Mapping(entries)
            }
        };
        let node = Node { value, position: frame.position };
        self.finish(node, frame.count, frame.height, frame.anchor)
    }

    fn alias(&mut self, anchor: usize, position: Position) -> Result<(), YamlErrorKind> {
        let Some(built) = self.anchors.get(&anchor) else {
            // saphyr rejects unknown anchors, so an id without a finished node is one still open.
            return Err(YamlErrorKind::RecursiveAlias);
        };
        if self.expects_key() {
            return match &built.node.value {
                NodeValue::String(text) => {
                    let key = Key { text: text.clone(), position };
                    self.set_key(PendingKey { key, is_merge: false })
                }
                _ => Err(YamlErrorKind::NonScalarKey),
            };
        }
        let (count, height) = (built.count, built.height);
        if self.stack.len() + height > MAX_DEPTH {
            return Err(YamlErrorKind::TooDeep);
        }
        // Checked before copying, so a bomb is refused without building anything.
        if self.alias_values.saturating_add(count) > MAX_ALIAS_VALUES {
            return Err(YamlErrorKind::AliasBudget);
        }
        let node = built.node.clone();
        self.charge_alias(count)?;
        self.count_values(count)?;
        self.finish(node, count, height, 0)
    }

    /// Counts `count` new values against the file's cap.
    fn count_values(&mut self, count: usize) -> Result<(), YamlErrorKind> {
        self.values = self.values.saturating_add(count);
        if self.values > self.max_values {
            return Err(YamlErrorKind::TooManyValues { limit: self.max_values });
        }
        Ok(())
    }

    fn charge_alias(&mut self, count: usize) -> Result<(), YamlErrorKind> {
        self.alias_values = self.alias_values.saturating_add(count);
        if self.alias_values > MAX_ALIAS_VALUES {
            return Err(YamlErrorKind::AliasBudget);
        }
        Ok(())
    }

    /// Keeps a copy of an anchored node for later aliases; the copy counts against the budget.
    fn remember(&mut self, anchor: usize, node: Node, count: usize, height: usize) -> Result<(), YamlErrorKind> {
        self.charge_alias(count)?;
        self.anchors.insert(anchor, Built { node, count, height });
        Ok(())
    }

    /// Places a finished node into its parent, or makes it the document.
    fn finish(&mut self, node: Node, count: usize, height: usize, anchor: usize) -> Result<(), YamlErrorKind> {
        if anchor != 0 {
            self.remember(anchor, node.clone(), count, height)?;
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        parent.count += count;
        parent.height = parent.height.max(height + 1);
        match &mut parent.contents {
            Contents::Sequence(items) => items.push(node),
            Contents::Mapping { entries, lines, pending, merges, .. } => match pending.take() {
                Some(PendingKey { is_merge: true, .. }) => merges.push(node),
                Some(PendingKey { key, .. }) => {
                    if let Some(lines) = lines {
                        lines.insert(key.text.clone(), key.position.line);
                    }
                    entries.push((key, node));
                    if lines.is_none() && entries.len() > LINEAR_KEYS {
                        let index = entries.iter().map(|(key, _)| (key.text.clone(), key.position.line));
                        *lines = Some(index.collect());
                    }
                }
                // A value always follows its key in the event stream.
                None => return Err(YamlErrorKind::NonScalarKey),
            },
        }
        Ok(())
    }
}

/// `text` in an allocation of its own size. The scanner hands each plain scalar over in a buffer
/// of well over a hundred bytes; a file's tree keeps some hundred thousand of them.
fn compact(mut text: String) -> String {
    text.shrink_to_fit();
    text
}

/// Applies `<<` merges: keys written in the mapping win, then earlier merged mappings.
fn merge(entries: &mut Vec<(Key, Node)>, sources: Vec<Node>) -> Result<(), YamlErrorKind> {
    if sources.is_empty() {
        return Ok(());
    }
    let mut present: HashSet<String> = entries.iter().map(|(key, _)| key.text.clone()).collect();
    for source in sources {
        let mappings = match source.value {
            NodeValue::Mapping(merged) => vec![merged],
            NodeValue::Sequence(items) => items
                .into_iter()
                .map(|item| match item.value {
                    NodeValue::Mapping(merged) => Ok(merged),
                    _ => Err(YamlErrorKind::BadMerge),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(YamlErrorKind::BadMerge),
        };
        for (key, value) in mappings.into_iter().flatten() {
            if present.insert(key.text.clone()) {
                entries.push((key, value));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn parse_ok(text: &str) -> Node {
        parse(text).unwrap_or_else(|error| panic!("{error:?}"))
    }

    fn fail(text: &str) -> YamlError {
        parse(text).unwrap_err()
    }

    fn at(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    #[test]
    fn mappings_keep_order_and_positions() {
        let root = parse_ok("version: 1\nvms:\n  gitlab:\n    host: shoshin\n");
        assert_eq!(root.position, at(1, 1));
        let (key, host) = root.get_path(&["vms", "gitlab"]).unwrap().entry("host").unwrap();
        assert_eq!(key.position, at(4, 5));
        assert_eq!(host.position, at(4, 11));
        assert_eq!(host.value, NodeValue::String("shoshin".into()));
        let NodeValue::Mapping(entries) = &root.value else { panic!() };
        let keys: Vec<&str> = entries.iter().map(|(key, _)| key.text.as_str()).collect();
        assert_eq!(keys, ["version", "vms"]);
    }

    #[test]
    fn plain_scalars_resolve_by_the_core_schema() {
        let root = parse_ok(
            "a: ~\nb:\nc: True\nd: FALSE\ne: 0x1F\nf: 0o17\ng: -12\nh: 1.5\ni: .inf\nj: 1e3\n\
             k: yes\nl: off\nm: '1'\nn: \"true\"\no: 1.2.3\np: .5\nq: +7\nr: -.INF\ns: 0x\n",
        );
        let value = |key: &str| root.get(key).unwrap().value.clone();
        assert_eq!(value("a"), NodeValue::Null);
        assert_eq!(value("b"), NodeValue::Null);
        assert_eq!(value("c"), NodeValue::Bool(true));
        assert_eq!(value("d"), NodeValue::Bool(false));
        assert_eq!(value("e"), NodeValue::Integer(31));
        assert_eq!(value("f"), NodeValue::Integer(15));
        assert_eq!(value("g"), NodeValue::Integer(-12));
        assert_eq!(value("h"), NodeValue::Float(1.5));
        assert_eq!(value("i"), NodeValue::Float(f64::INFINITY));
        assert_eq!(value("j"), NodeValue::Float(1000.0));
        // YAML 1.1 booleans are strings in YAML 1.2.
        assert_eq!(value("k"), NodeValue::String("yes".into()));
        assert_eq!(value("l"), NodeValue::String("off".into()));
        assert_eq!(value("m"), NodeValue::String("1".into()));
        assert_eq!(value("n"), NodeValue::String("true".into()));
        assert_eq!(value("o"), NodeValue::String("1.2.3".into()));
        assert_eq!(value("p"), NodeValue::Float(0.5));
        assert_eq!(value("q"), NodeValue::Integer(7));
        assert_eq!(value("r"), NodeValue::Float(f64::NEG_INFINITY));
        assert_eq!(value("s"), NodeValue::String("0x".into()));
    }

    #[test]
    fn core_tags_are_honoured_and_others_refused() {
        let root = parse_ok("a: !!str 12\nb: !!int '7'\nc: !!float 3\nd: !!map {x: 1}\ne: ! 5\n");
        assert_eq!(root.get("a").unwrap().value, NodeValue::String("12".into()));
        assert_eq!(root.get("b").unwrap().value, NodeValue::Integer(7));
        assert_eq!(root.get("c").unwrap().value, NodeValue::Float(3.0));
        assert_eq!(root.get("e").unwrap().value, NodeValue::String("5".into()));
        assert_eq!(parse_ok("a: !<tag:yaml.org,2002:str> 5").get("a").unwrap().value, NodeValue::String("5".into()));
        let error = fail("a: !secret x\n");
        assert_eq!(error.position, at(1, 4));
        assert_eq!(error.kind.to_string(), "unsupported tag `!secret`");
        assert_eq!(fail("a: !!int x\n").kind.to_string(), "the value does not fit its tag `!!int`");
        assert!(matches!(fail("a: !!seq {}\n").kind, YamlErrorKind::TagMismatch { .. }));
    }

    #[test]
    fn a_huge_integer_is_an_error() {
        let error = fail("a: 99999999999999999999\n");
        assert_eq!(error.position, at(1, 4));
        assert!(matches!(error.kind, YamlErrorKind::IntegerTooLarge { .. }));
    }

    #[test]
    fn anchors_aliases_and_merge_keys_expand() {
        let root = parse_ok(
            "base: &base {vcpus: 2, memory: 4GiB}\n\
             a: *base\n\
             b:\n  <<: *base\n  vcpus: 8\n\
             c:\n  <<: [{x: 1}, {x: 2, y: 3}]\n",
        );
        assert_eq!(root.get("a").unwrap().value, root.get("base").unwrap().value);
        let b = root.get("b").unwrap();
        assert_eq!(b.get("vcpus").unwrap().value, NodeValue::Integer(8));
        assert_eq!(b.get("memory").unwrap().value, NodeValue::String("4GiB".into()));
        assert!(b.get("<<").is_none());
        let c = root.get("c").unwrap();
        assert_eq!(c.get("x").unwrap().value, NodeValue::Integer(1));
        assert_eq!(c.get("y").unwrap().value, NodeValue::Integer(3));
        assert!(matches!(fail("a:\n  <<: 1\n").kind, YamlErrorKind::BadMerge));
        // A quoted `<<` is an ordinary key.
        assert!(parse_ok("a: {'<<': 1}\n").get("a").unwrap().get("<<").is_some());
    }

    #[test]
    fn an_alias_bomb_fails_fast() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..=9 {
            let previous = format!("*a{}", level - 1);
            let items = [previous.as_str(); 10].join(", ");
            writeln!(text, "a{level}: &a{level} [{items}]").unwrap();
        }
        let started = std::time::Instant::now();
        let error = fail(&text);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(error.kind, YamlErrorKind::AliasBudget);
        assert_eq!(error.kind.to_string(), "alias expansion would copy more than 100000 values");
    }

    #[test]
    fn a_recursive_alias_is_an_error() {
        assert!(parse("a: &a [*a]\n").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_with_a_position() {
        for text in [
            "[".repeat(100_000),
            "{".repeat(100_000),
            format!("{}x{}", "[".repeat(100_000), "]".repeat(100_000)),
            "- ".repeat(100_000),
            (0..100).fold(String::new(), |mut text, depth| {
                writeln!(text, "{}k{depth}:", " ".repeat(depth)).unwrap();
                text
            }),
        ] {
            let started = std::time::Instant::now();
            let error = fail(&text);
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
            assert_eq!(error.kind, YamlErrorKind::TooDeep, "{text:.20}");
        }
        let error = fail(&"- ".repeat(100_000));
        assert_eq!(error.position, at(1, 129));
        assert!(parse(&format!("{}x{}", "[".repeat(63), "]".repeat(63))).is_ok());
    }

    #[test]
    fn aliases_cannot_nest_past_the_depth_limit() {
        let mut text = format!("a: &a {}x{}\n", "[".repeat(40), "]".repeat(40));
        writeln!(text, "b: {}*a{}", "[".repeat(40), "]".repeat(40)).unwrap();
        assert_eq!(fail(&text).kind, YamlErrorKind::TooDeep);
    }

    #[test]
    fn duplicate_keys_name_the_first() {
        let error = fail("a: 1\nb:\n  c: 1\n  c: 2\n");
        assert_eq!(error.position, at(4, 3));
        assert_eq!(error.kind.to_string(), "duplicate key `c`, first written on line 3");
        assert!(matches!(parse("{a: 1, a: 2}").unwrap_err().kind, YamlErrorKind::DuplicateKey { .. }));
    }

    #[test]
    fn complex_keys_are_refused() {
        let error = fail("? [a, b]\n: 1\n");
        assert_eq!(error.kind, YamlErrorKind::NonScalarKey);
        assert_eq!(parse("{[a]: 1}").unwrap_err().kind, YamlErrorKind::NonScalarKey);
    }

    #[test]
    fn exactly_one_document() {
        for empty in ["", "\n\n", "# only a comment\n"] {
            assert_eq!(fail(empty).kind, YamlErrorKind::Empty);
        }
        let error = fail("a: 1\n---\nb: 2\n");
        assert_eq!(error.kind, YamlErrorKind::MultipleDocuments);
        assert_eq!(error.position, at(2, 1));
        assert!(parse("---\na: 1\n...\n").is_ok());
    }

    #[test]
    fn syntax_errors_keep_the_parser_words_and_place() {
        let error = fail("a: [1, 2\nb: 3\n");
        assert!(matches!(error.kind, YamlErrorKind::Syntax { .. }));
        assert!(error.kind.to_string().starts_with("invalid YAML: "));
    }

    #[test]
    fn too_many_values_are_refused() {
        let text = format!("[{}]", "0,".repeat(1001));
        let error = parse_with_limit(&text, 1000).unwrap_err();
        assert_eq!(error.kind.to_string(), "the file holds more than 1000 values");
        assert!(parse_with_limit(&text, 1002).is_ok());
    }
}
