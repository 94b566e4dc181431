//! Reading the desired-state file: bytes → [`Node`] tree (YAML or TOML) → [`Document`].
//!
//! This module owns size and encoding limits, both parsers, and decoding the tree into typed
//! structs with every error placed at `file:line:col`. Finding the file is the command line's
//! business (`settings`); references between resources are checked by `model::lower`.

mod cut;
mod decode;
mod decode_error;
mod document;
mod from_toml;
mod from_yaml;
mod node;
mod node_deserializer;
#[cfg(test)]
mod round_trip_tests;
/// The JSON Schema of the file, generated from [`Document`].
// Only the test that keeps `schemas/rave.schema.json` current uses the generator.
#[cfg(test)]
mod schema;
mod source_file;
/// "Did you mean" suggestions, shared with `model::lower` and `plan`.
pub(crate) mod suggest;
mod toml_cut;
mod toml_fast;
mod toml_fast_check;
mod toml_fast_lines;
mod toml_fast_number;
#[cfg(test)]
mod toml_fast_tests;
mod yaml_cursor;
mod yaml_cut;
mod yaml_scalar;
mod yaml_subset;
/// The differential check of the fast YAML reader against saphyr, for tests, fuzzing and the
/// plan benchmark.
pub(crate) mod yaml_subset_check;
#[cfg(test)]
mod yaml_subset_tests;

use std::path::Path;

pub(crate) use document::{Document, Moved, NixSettings, StateBackendKind, StateSettings};
pub(crate) use node::{Key, Node, NodeValue};
pub(crate) use source_file::SourceFile;
pub(crate) use toml_fast_check::check_text as check_toml_fast_path;

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
            let location = Location { file: path.to_path_buf(), position: None };
            Err(Diagnostic::error(location, format!("cannot tell the format of `{}`", path.display()))
                .with_hint("name the file with `.yaml`, `.yml` (YAML) or `.toml` (TOML)"))
        }
    }
}

/// Reads, parses and decodes the desired-state file at `path`. On failure the problems come with
/// the file's text, when it could be read, for their excerpts.
pub(crate) fn load(path: &Path) -> Result<LoadedFile, (Vec<Diagnostic>, Option<SourceFile>)> {
    let format = Format::of(path).map_err(|diagnostic| (vec![diagnostic], None))?;
    let source = SourceFile::read(path).map_err(|error| (vec![error.into_diagnostic(path)], None))?;
    match parse(&source, format) {
        Ok((tree, document)) => Ok(LoadedFile { source, tree, document }),
        Err(diagnostics) => Err((diagnostics, Some(source))),
    }
}

/// Parses and decodes `bytes` as if read from `path` (whose extension gives the format).
pub(crate) fn load_bytes(path: &Path, bytes: &[u8]) -> Result<LoadedFile, Vec<Diagnostic>> {
    let format = Format::of(path).map_err(|diagnostic| vec![diagnostic])?;
    let source = SourceFile::from_bytes(path, bytes.to_vec()).map_err(|error| vec![error.into_diagnostic(path)])?;
    load_source(source, format)
}

/// Parses and decodes text already read.
pub(crate) fn load_source(source: SourceFile, format: Format) -> Result<LoadedFile, Vec<Diagnostic>> {
    let (tree, document) = parse(&source, format)?;
    Ok(LoadedFile { source, tree, document })
}

/// Parses and decodes `source` into its tree and document, leaving `source` with the caller so
/// that the problems found can be shown with excerpts of it.
pub(crate) fn parse(source: &SourceFile, format: Format) -> Result<(Node, Document), Vec<Diagnostic>> {
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
        Format::Toml => from_toml::parse(source)
            .map_err(|failure| error(failure.position, failure.kind.to_string(), failure.kind.hint()))?,
    };
    let document = decode::decode(&tree, &source.path)?;
    Ok((tree, document))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use std::time::{Duration, Instant};

    use proptest::strategy::Strategy as _;

    use super::*;
    use crate::diagnostic::render;

    /// Loads `text` as the file `name` and returns the one diagnostic it must fail with,
    /// rendered, checking that it came quickly.
    fn failure(name: &str, text: impl AsRef<[u8]>) -> String {
        let started = Instant::now();
        let path = Path::new(name);
        let diagnostics = load_bytes(path, text.as_ref()).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        let source = String::from_utf8(text.as_ref().to_vec()).ok().map(|text| SourceFile::new(path, text));
        render(&diagnostics[0], source.as_ref())
    }

    #[test]
    fn the_format_comes_from_the_extension() {
        assert_eq!(Format::of(Path::new("rave.yml")).unwrap(), Format::Yaml);
        assert_eq!(Format::of(Path::new("x/rave.TOML")).unwrap(), Format::Toml);
        assert_eq!(
            failure("rave.json", "{}"),
            "error: cannot tell the format of `rave.json`\n ——▶ rave.json\n  = hint: name the file with `.yaml`, `.yml` (YAML) or `.toml` (TOML)\n"
        );
    }

    #[test]
    fn an_alias_bomb_is_refused_in_milliseconds() {
        let mut text =
            String::from("version: 1\nproject: bomb\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..=9 {
            let items = vec![format!("*l{}", level - 1); 9].join(", ");
            writeln!(text, "lol{level}: &l{level} [{items}]").unwrap();
        }
        let rendered = failure("rave.yaml", &text);
        assert!(rendered.starts_with("error: alias expansion would copy more than 100000 values\n"), "{rendered}");
        assert!(rendered.contains("hint: this looks like an alias bomb"));
    }

    #[test]
    fn a_100_megabyte_file_is_refused_without_reading_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rave.yaml");
        let mut file = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut file, &vec![b'#'; 1 << 20]).unwrap();
        file.set_len(100_000_000).unwrap();
        let started = Instant::now();
        let (diagnostics, source) = load(&path).unwrap_err();
        assert!(source.is_none(), "the file was not read");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(diagnostics[0].message, "the file is larger than 16 MiB, the most rave reads");
    }

    #[test]
    fn deep_nesting_is_refused_in_both_formats() {
        let yaml = failure("rave.yaml", "[".repeat(100_000));
        assert!(yaml.starts_with("error: values are nested more than 64 levels deep\n"), "{yaml}");
        let yaml = failure("rave.yaml", format!("{}1\n", "- ".repeat(100_000)));
        assert!(yaml.contains("nested more than 64 levels"), "{yaml}");
        let toml = failure("rave.toml", format!("a = {}", "[".repeat(100_000)));
        assert!(toml.starts_with("error: invalid TOML: cannot recurse further"), "{toml}");
        let toml = failure("rave.toml", format!("a = {}1{}", "[".repeat(70), "]".repeat(70)));
        assert!(toml.starts_with("error: values are nested more than 64 levels deep"), "{toml}");
    }

    #[test]
    fn invalid_utf8_names_the_first_bad_byte() {
        assert_eq!(
            failure("rave.yaml", b"version: 1\nproject: caf\xe9\n"),
            "error: the file is not UTF-8 text\n ——▶ rave.yaml:2:13\n  = hint: save the file as UTF-8\n"
        );
    }

    #[test]
    fn duplicate_keys_point_at_the_second() {
        assert_eq!(
            failure("rave.yaml", "version: 1\nproject: a\nhosts:\n  h: {local: true}\n  h: {local: false}\n"),
            "error: duplicate key `h`, first written on line 4\n ——▶ rave.yaml:5:3\n  │\n5 │   h: {local: false}\n  │   ^\n  = hint: remove one of them\n"
        );
        assert_eq!(
            failure("rave.toml", "version = 1\nproject = \"a\"\nproject = \"b\"\n"),
            "error: invalid TOML: duplicate key\n ——▶ rave.toml:3:1\n  │\n3 │ project = \"b\"\n  │ ^^^^^^^\n"
        );
    }

    #[test]
    fn empty_files_and_extra_documents_are_refused() {
        assert_eq!(
            failure("rave.yaml", ""),
            "error: the file is empty\n ——▶ rave.yaml:1:1\n  = hint: start with `version: 1` and `project: NAME`\n"
        );
        assert!(failure("rave.toml", "# nothing yet\n").starts_with("error: the file is empty\n"));
        assert!(
            failure("rave.yaml", "version: 1\nproject: a\n---\nversion: 1\n")
                .starts_with("error: the file holds more than one YAML document\n ——▶ rave.yaml:3:1\n")
        );
    }

    #[test]
    fn datetimes_and_tags_are_refused_with_a_reason() {
        assert!(
            failure("rave.toml", "version = 1\nproject = 2024-01-01\n")
                .starts_with("error: dates and times are not used in rave files\n ——▶ rave.toml:2:11\n")
        );
        assert!(
            failure("rave.yaml", "version: 1\nproject: !vault x\n").starts_with("error: unsupported tag `!vault`\n")
        );
    }

    #[test]
    fn decoding_errors_render_with_their_place() {
        let text = "version: 1\nproject: a\nvms:\n  gitlab:\n    hots: shoshin\n    host: shoshin\n";
        assert_eq!(
            failure("rave.yaml", text),
            "error: unknown field `hots` in `vms.gitlab`\n ——▶ rave.yaml:5:5\n  │\n5 │     hots: shoshin\n  │     ^^^^\n  = hint: did you mean `host`?\n"
        );
    }

    #[test]
    fn a_flood_of_problems_on_one_line_is_cut_short() {
        let keys: Vec<String> = (0..100_000).map(|index| format!("k{index} = 1")).collect();
        let text = format!("version = 1\nproject = \"a\"\nhosts.h = {{ local = true, {} }}\n", keys.join(", "));
        let started = Instant::now();
        let diagnostics = load_bytes(Path::new("rave.toml"), text.as_bytes()).unwrap_err();
        let source = SourceFile::new("rave.toml", text);
        let rendered: String = diagnostics.iter().map(|diagnostic| render(diagnostic, Some(&source))).collect();
        // Linear work takes a second or two here; a quadratic one would take many minutes. The
        // bound is loose so that a busy machine does not fail it.
        assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
        assert_eq!(diagnostics.len(), crate::diagnostic::MAX_REPORTED + 1);
        assert!(rendered.ends_with(
            "error: 99800 more problems are not shown\n ——▶ rave.toml\n  = hint: fix the ones above and run again\n"
        ));
    }

    #[test]
    fn toml_decoding_errors_are_placed_too() {
        let text = "version = 1\nproject = \"a\"\n\n[vms.gitlab]\nhots = \"shoshin\"\nmemory = { a = 1 }\n";
        let diagnostics = load_bytes(Path::new("rave.toml"), text.as_bytes()).unwrap_err();
        let rendered: Vec<String> =
            diagnostics.iter().map(|diagnostic| format!("{} {}", diagnostic.location, diagnostic.message)).collect();
        assert_eq!(
            rendered,
            [
                "rave.toml:5:1 unknown field `hots` in `vms.gitlab`",
                "rave.toml:6:10 `vms.gitlab.memory`: expected a size like `512MiB` or `8GiB`, or a whole number of MiB, found a mapping",
            ]
        );
        let diagnostics =
            load_bytes(Path::new("rave.toml"), b"version = 1\nproject = \"a\"\n[vms.gitlab]\nvcpus = 2\n").unwrap_err();
        assert_eq!(diagnostics[0].message, "missing field `host` in `vms.gitlab`");
        assert_eq!(diagnostics[0].location.to_string(), "rave.toml:3:1");
    }

    /// Pieces of YAML and TOML syntax, so generated text gets past the first byte of the parsers.
    const PIECES: &[&str] = &[
        "version: 1\n",
        "project: a\n",
        "version = 1\n",
        "project = \"a\"\n",
        "hosts",
        "vms",
        "services",
        "h",
        "host",
        "local",
        "true",
        "ssh",
        "runs_on",
        "vm.h",
        "needs",
        "health",
        "capacity",
        "memory",
        "8GiB",
        "0x1f",
        "~",
        "1.5",
        ":",
        " ",
        "  ",
        "\n",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "=",
        ".",
        "\"",
        "'",
        "&a",
        "*a",
        "!!str",
        "!x",
        "<<",
        "#",
        "---",
        "1979-05-27",
        "[[a]]",
        "\t",
        "é",
        "\u{feff}",
    ];

    fn pieces() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..80).prop_map(|pieces| pieces.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 512, ..Default::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), toml: bool) {
            crate::fuzzing::load_bytes(&bytes, toml);
        }

        #[test]
        fn syntax_soup_never_panics(text in pieces(), toml: bool) {
            crate::fuzzing::load_bytes(text.as_bytes(), toml);
        }
    }
}
