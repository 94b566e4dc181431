//! A format-neutral tree of the file's values, each with its position.
//!
//! YAML and TOML are both read into a [`Node`] first (`from_yaml`, `from_toml`), so decoding,
//! error positions and every later check are written once for both formats.

use crate::diagnostic::Position;

/// One value in the file and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// The value.
    pub(crate) value: NodeValue,
    /// Where the value starts.
    pub(crate) position: Position,
}

/// A mapping key and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    /// The key's text.
    pub(crate) text: String,
    /// Where the key starts.
    pub(crate) position: Position,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeValue {
    /// YAML `null`, `~` or an empty value. TOML has none.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction.
    Float(f64),
    /// Text (quoted or plain).
    String(String),
    /// A list.
    Sequence(Vec<Node>),
    /// A mapping, in file order, keys unique (duplicates are rejected while reading).
    Mapping(Vec<(Key, Node)>),
}

impl Node {
    /// The node at `path` below this one (mapping keys), if there is one.
    pub(crate) fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, segment| node.get(segment))
    }

    /// The value under `key`, when this node is a mapping that has it.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, value)| value)
    }

    /// The key and value under `key`, when this node is a mapping that has it.
    pub(crate) fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        match &self.value {
            NodeValue::Mapping(entries) => {
                entries.iter().find(|(candidate, _)| candidate.text == key).map(|(key, value)| (key, value))
            }
            _ => None,
        }
    }

    /// What kind of value this is, for messages: `a mapping`, `a string`…
    pub(crate) fn describe(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Integer(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::String(_) => "a string",
            NodeValue::Sequence(_) => "a list",
            NodeValue::Mapping(_) => "a mapping",
        }
    }
}
