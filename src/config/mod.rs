//! Reading the desired-state file: bytes → [`Node`] tree (YAML or TOML) → [`Document`].
//!
//! This module owns size and encoding limits, both parsers, and decoding the tree into typed
//! structs with every error placed at `file:line:col`. Finding the file is the command line's
//! business (`settings`); references between resources are checked by `model::lower`.

mod decode;
mod decode_error;
mod document;
mod from_toml;
mod from_yaml;
mod node;
mod node_deserializer;
pub(crate) mod schema;
mod source_file;
pub(crate) mod suggest;

use std::path::Path;

pub(crate) use document::{Document, NixSettings, StateBackendKind, StateSettings};
pub(crate) use node::{Key, Node, NodeValue};
pub(crate) use source_file::{MAX_FILE_BYTES, SourceFile};

use crate::diagnostic::{Diagnostic, Location, Position};

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

/// The syntax a desired-state file is written in, told by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `.yaml` or `.yml`.
    Yaml,
    /// `.toml`.
    Toml,
}

impl Format {
    /// The format of the file at `path`, by its extension.
    pub(crate) fn of(path: &Path) -> Result<Self, Diagnostic> {
        let extension = path.extension().and_then(|extension| extension.to_str()).unwrap_or("");
        if extension.eq_ignore_ascii_case("yaml") || extension.eq_ignore_ascii_case("yml") {
            Ok(Self::Yaml)
        } else if extension.eq_ignore_ascii_case("toml") {
            Ok(Self::Toml)
        } else {
            let location = Location {
                file: path.to_path_buf(),
                position: None,
            };
            Err(Diagnostic::error(
                location,
                format!("cannot tell the format of `{}`", path.display()),
            )
            .with_hint("name the file with `.yaml`, `.yml` (YAML) or `.toml` (TOML)"))
        }
    }
}

/// Reads, parses and decodes the desired-state file at `path`.
pub(crate) fn load(path: &Path) -> Result<LoadedFile, Vec<Diagnostic>> {
    let format = Format::of(path).map_err(|diagnostic| vec![diagnostic])?;
    let source = SourceFile::read(path).map_err(|error| vec![error.into_diagnostic(path)])?;
    load_source(source, format)
}

/// Parses and decodes `bytes` as if read from `path` (whose extension gives the format).
pub(crate) fn load_bytes(path: &Path, bytes: &[u8]) -> Result<LoadedFile, Vec<Diagnostic>> {
    let format = Format::of(path).map_err(|diagnostic| vec![diagnostic])?;
    let source = SourceFile::from_bytes(path, bytes.to_vec()).map_err(|error| vec![error.into_diagnostic(path)])?;
    load_source(source, format)
}

/// Parses and decodes text already read.
pub(crate) fn load_source(source: SourceFile, format: Format) -> Result<LoadedFile, Vec<Diagnostic>> {
    let error = |position: Position, message: String, hint: Option<String>| {
        let diagnostic = Diagnostic::error(Location::at(&source.path, position), message);
        vec![match hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }]
    };
    let tree = match format {
        Format::Yaml => from_yaml::parse(&source.text)
            .map_err(|failure| error(failure.position, failure.kind.to_string(), failure.kind.hint()))?,
        Format::Toml => from_toml::parse(&source)
            .map_err(|failure| error(failure.position, failure.kind.to_string(), failure.kind.hint()))?,
    };
    let document = decode::decode(&tree, &source.path)?;
    Ok(LoadedFile {
        source,
        tree,
        document,
    })
}
