//! Reading the desired-state file: bytes → [`Node`] tree (YAML or TOML) → [`Document`].
//!
//! This module owns finding the file, size and encoding limits, both parsers, and decoding the
//! tree into typed structs with every error placed at `file:line:col`. It does not check
//! references between resources; `model::lower` does.

mod decode;
mod document;
mod from_toml;
mod from_yaml;
mod node;
mod source_file;

pub(crate) use document::{Document, NixSettings, StateBackendKind, StateSettings};
pub(crate) use node::{Key, Node, NodeValue};
pub(crate) use source_file::SourceFile;

use crate::diagnostic::Diagnostic;

/// A file read and decoded: its text, its tree (for positions), and its typed document.
#[derive(Debug)]
pub(crate) struct LoadedFile {
    /// The file's path and text.
    pub(crate) source: SourceFile,
    /// The parsed tree, kept so later checks can point at positions.
    pub(crate) tree: Node,
    /// The typed document.
    pub(crate) document: Document,
}
