//! Tests of `yaml_subset` against saphyr, through `yaml_subset_check`: every YAML file and every
//! string literal of the repository, hand-written tricky cases, and text generated from a grammar
//! of tricky tokens, by proptest. Each asserts that the fast reader falls back or agrees with
//! saphyr exactly; some also assert that the fast reader reads the text, so that the fast path
//! cannot be lost silently.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::strategy::ValueTree as _;

use super::yaml_subset_check::compare;

/// Asserts that the fast reader agrees with saphyr on `text`; whether it read it.
fn agrees(text: &str) -> bool {
    compare(text).unwrap_or_else(|disagreement| panic!("{disagreement}\n{text:?}"))
}

/// Asserts that the fast reader reads `text`, and agrees with saphyr.
fn reads(text: &str) {
    assert!(agrees(text), "the fast reader fell back on {text:?}");
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `directory` whose names end with one of `extensions`, but for build output, git's
/// files and fuzzing corpora.
fn files(directory: &Path, extensions: &[&str], found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "corpus" | "artifacts") {
                files(&path, extensions, found);
            }
        } else if extensions.iter().any(|extension| name.ends_with(extension)) {
            found.push(path);
        }
    }
}

#[test]
fn every_yaml_file_in_the_repository_agrees_and_the_examples_take_the_fast_path() {
    let mut paths = Vec::new();
    files(&repository(), &[".yaml", ".yml"], &mut paths);
    assert!(paths.len() >= 4, "{paths:?}");
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let is_read = agrees(&text);
        if path.starts_with(repository().join("examples")) && path.ends_with("rave.yaml") {
            assert!(is_read, "the fast reader fell back on `{}`", path.display());
        }
    }
}

/// The string literals in Rust source `text`, unescaped: raw (`r#"…"#`) and plain (`"…"`).
fn string_literals(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut literals = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        match chars[at] {
            '/' if chars.get(at + 1) == Some(&'/') => {
                while at < chars.len() && chars[at] != '\n' {
                    at += 1;
                }
            }
            '\'' => {
                // A character literal (`'x'`, `'\n'`) or a lifetime (`'a`).
                if chars.get(at + 1) == Some(&'\\') {
                    at += 2;
                    while at < chars.len() && chars[at] != '\'' {
                        at += 1;
                    }
                } else if chars.get(at + 2) == Some(&'\'') {
                    at += 2;
                }
                at += 1;
            }
            'r' if matches!(chars.get(at + 1), Some('"' | '#')) && (at == 0 || !chars[at - 1].is_alphanumeric()) => {
                let hashes = chars[at + 1..].iter().take_while(|&&c| c == '#').count();
                let open = at + 1 + hashes;
                if chars.get(open) != Some(&'"') {
                    at += 1;
                    continue;
                }
                let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let rest: String = chars[open + 1..].iter().collect();
                let Some(length) = rest.find(&close) else { break };
                literals.push(rest[..length].to_owned());
                at = open + 1 + rest[..length].chars().count() + close.chars().count();
            }
            '"' => {
                let mut literal = String::new();
                at += 1;
                while at < chars.len() && chars[at] != '"' {
                    if chars[at] == '\\' {
                        at += 1;
                        match chars.get(at) {
                            Some('n') => literal.push('\n'),
                            Some('t') => literal.push('\t'),
                            Some('r') => literal.push('\r'),
                            Some('0') => literal.push('\0'),
                            Some('\n') => {
                                while chars.get(at + 1).is_some_and(|c| c.is_whitespace()) {
                                    at += 1;
                                }
                            }
                            Some('u') => {
                                let end = chars[at..].iter().position(|&c| c == '}').map_or(at, |offset| at + offset);
                                let code: String = chars[at + 2..end].iter().collect();
                                literal.extend(u32::from_str_radix(&code, 16).ok().and_then(char::from_u32));
                                at = end;
                            }
                            Some('x') => {
                                let code: String = chars[at + 1..at + 3].iter().collect();
                                literal.extend(u32::from_str_radix(&code, 16).ok().and_then(char::from_u32));
                                at += 2;
                            }
                            Some(&other) => literal.push(other),
                            None => {}
                        }
                    } else {
                        literal.push(chars[at]);
                    }
                    at += 1;
                }
                at += 1;
                literals.push(literal);
            }
            _ => at += 1,
        }
    }
    literals
}

#[test]
fn the_string_literal_extractor_unescapes() {
    let source =
        "let a = \"x: 1\\n  y: 'z'\\\"\"; // \"not this\"\nlet b = r#\"k: \"v\"\"#; let c = '\"'; fn f<'a>() {}";
    assert_eq!(string_literals(source), ["x: 1\n  y: 'z'\"", "k: \"v\""]);
}

#[test]
fn every_string_literal_in_the_sources_agrees() {
    let mut paths = Vec::new();
    for directory in ["src", "tests", "benches"] {
        files(&repository().join(directory), &[".rs"], &mut paths);
    }
    let (mut literals, mut read) = (0, 0);
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        for literal in string_literals(&text) {
            literals += 1;
            read += usize::from(agrees(&literal));
        }
    }
    // Most literals are messages and names, which read as one plain scalar; the test YAML too.
    assert!(literals > 3000 && read > literals / 2, "{read} of {literals} literals read");
}

/// A file shaped like the plan benchmark's (`benches/plan.rs`), which must take the fast path.
fn benchmark_like(count: usize) -> String {
    let mut text = String::from("version: 1\nproject: bench\ncaches:\n");
    text.push_str("  lan: { type: nix-store, uri: \"file:///var/cache/rave\", public_key: \"lan-1:AAAA\" }\nbuilds:\n");
    for index in 0..count {
        let _ = writeln!(
            text,
            "  build{index}: {{ attr: \".#packages.x86_64-linux.p{index}\", builders: [b0], push: [lan] }}"
        );
    }
    text.push_str("vms:\n");
    for index in 0..count {
        let _ = writeln!(
            text,
            "  vm{index}: {{ host: host{index}, vcpus: 2, memory: 2GiB, volumes: [{{ name: data, size: 10GiB, mount: /var/lib/data }}] }}"
        );
    }
    text.push_str("services:\n");
    for index in 0..count {
        let _ = writeln!(
            text,
            "  svc{index}: {{ type: nats, runs_on: vm.vm{index}, port: 4222, health: {{ tcp: \"192.0.2.1:4222\" }} }}"
        );
    }
    text
}

#[test]
fn files_like_the_benchmark_and_their_cut_pieces_take_the_fast_path() {
    let text = benchmark_like(50);
    reads(&text);
    // `yaml_cut` reads an indented rest of a section, and a tail, each on its own.
    let rest = text.find("  vm25:").unwrap();
    let tail = text.find("services:").unwrap();
    reads(&text[rest..tail]);
    reads(&text[tail..]);
    reads(&text[..rest]);
}

/// Text the fast reader must read, agreeing with saphyr.
const READ: &[&str] = &[
    // Plain scalars with indicators inside, and where they end.
    "a: b:c\n",
    "a: b#c\n",
    "a: b #c\n",
    "a: b # c: d\n",
    "a: http://x:80/y?z=1#f\n",
    "a: -x\n",
    "a: -1\n",
    "a: x-\n",
    "a: a - b\n",
    "a: a [b] {c}, d\n",
    "a: a 'b' \"c\"\n",
    "a: :x\n",
    "a: x :y\n",
    "a: b  \n",
    "a: b   # c\n",
    "a:b: c\n",
    "a b: c d\n",
    "a : b\n",
    "a   :   b\n",
    "-x: 1\n",
    "x-: 1\n",
    "'a': 1\n",
    "\"a\": 1\n",
    "'a' : 1\n",
    "'a''b': 'c''d'\n",
    "'': ''\n",
    "\"\": \"\"\n",
    "a: \"b\\\"c\\\\d\\n\\t\\x41\\u00e9\\U0001F600\\/\\ \\_\\N\\L\\P\\0\\a\\b\\e\\f\\r\\v\"\n",
    "a: 'b\\n'\n",
    "a: \"'\"\n",
    "a: '\"'\n",
    "a: \"# not a comment\"\n",
    "a: '  spaced  '\n",
    "a: \"b\" # c\n",
    "a: ~\nb: null\nc: true\nd: 0x1F\ne: 1e3\nf: .inf\n",
    // Empty values at every level.
    "a:\n",
    "a:",
    "a:\nb:\n",
    "a:\n  b:\n  c:\nd:\n",
    "a:   \nb: 1\n",
    "a: # c\nb: 1\n",
    "a:\n# c\n  b: 1\n",
    "a:\n    # c\n  b: 1\n",
    "- \n- x\n-\n",
    "-\n",
    "-",
    "- # c\n- # d",
    "a:\n  -\n  - b\n",
    // Indentation.
    "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
    "a:\n      b: 1\nc: 2\n",
    "a:\n b:\n  c:\n   d: 1\n",
    "  a: 1\n  b:\n    c: 2\n",
    "    a: 1\n",
    // Sequences: under a key at the key's column, nested, compact, of mappings.
    "a:\n- x\n- y\nb: 1\n",
    "a:\n- x\n-\nb: 1\n",
    "a:\n  - x\n  - y\nb: 1\n",
    "a:\n  b:\n  - x\n  c: 1\n",
    "a:\n  b:\n  - x\nc: 1\n",
    "- - x\n  - y\n- z\n",
    "- - - x\n",
    "-   x\n-   y\n",
    "- a: 1\n  b: 2\n- c: 3\n",
    "- a: 1\n  b:\n  - x\n  c:\n    - y\n",
    "- a:\n    b: 1\n",
    "-\n  a: 1\n-\n  - x\n",
    "-\n  x\n",
    "- [a, b]\n- {c: d}\n",
    "- 'q'\n- \"d\"\n",
    "- a: 1 # c\n  b: 2\n",
    "a:\n- b: 1\n  c: 2\n- d\n",
    // Flows.
    "a: []\nb: {}\n",
    "a: [ ]\nb: { }\n",
    "a: [a, b, ]\n",
    "a: {a: 1, }\n",
    "a: {a: 1,}\n",
    "a: [a,b]\n",
    "a: {a: b, c: [x, \"y\"]}\n",
    "a: {a: }\n",
    "a: {a:}\n",
    "a: {a, b: 1}\n",
    "a: {a: 1, b}\n",
    "a: {\"a\":1}\n",
    "a: {\"a\":[1]}\n",
    "a: {'a':{b: c}}\n",
    "a: {\"a\" :1}\n",
    "a: {a:1}\n",
    "a: {a :1}\n",
    "a: [a:1]\n",
    "a: [a b, c d]\n",
    "a: [-1, -x, x-]\n",
    "a: [a - b]\n",
    "a: [[a], [b, [c]], {d: [e]}]\n",
    "a: [a, 'b', \"c\", 'd''e']\n",
    "a: [ a , b ]\n",
    "a: { a : b }\n",
    "a: [a] # c\n",
    "[a, b]\n",
    "{a: 1}\n",
    "a: [a#b]\n",
    "a: {a: b#c}\n",
    // Documents, comments, odd ends.
    "---\na: 1\n",
    "--- # c\na: 1\n",
    "# c\n\n   # d\na: 1\n  # e\n",
    "a: 1\n# c",
    "a: 1\n  ",
    "a:\n  - x: a\n  ",
    "a:\n  - x: a\n     # c",
    "a:\n    b:\n      c: d\n   ",
    "a:\n  b:\n  - x\n ",
    "a: 1\n\n\n",
    "\n\na: 1",
    "a",
    "'a'",
    "-a\n",
    "a:\n  b\n",
    "---x: 1\n",
    "...x: 1\n",
    "---\n- a\n",
    "--- \na: 1",
    "---\n\n# c\na: 1\n",
    "a: ---\n",
    "- ---\n- ...\n",
    "-    a: 1\n     b: 2\n",
    "- # c\n  a: 1\n",
    "-\n-\n",
    "- a\n-\n  - b\n",
    "a:\n  -\n    b\n",
    "a:\n- b:\n  - c\n",
    "a:\n  - b\n  -\n",
    "a: {b: [c, {d: e}], f: g}\n",
    "a: [[], {}]\nb: {a: [], b: {}}\n",
    "[a] # c\n",
    "a: {a  : 1}\n",
    "a: {\"a\" , b}\n",
    "a: 12:30\n",
    "a: \"b\" \n",
    "\"a\":",
    "a: b ? c\n",
    "a: b\n\n\n  # c\n",
    "a: b\n    # c",
    // Characters beyond ASCII, counted as saphyr counts them.
    "é:\n  ü: 1\n",
    "# é\na: 1 # ü\n",
    "a: é",
    "a: [é]  ",
    "é: 1\n  # ü",
    // Unicode line and paragraph separators, and no-break spaces, are ordinary characters to saphyr.
    "a: b\u{85}c\nd: \u{2028}\ne: \u{a0}x\u{a0}\n",
    "a: [\u{2029}, \u{85}]\n",
    "é: ü\nb: [é, 'ü', \"ö\"]\n",
    "a: é # ü\nb: {c: é, d: 1}\n",
    "- é: 1\n  ü: [a, é]\n",
    "名前: 値 # 注\nb: '日本'\n",
];

/// Text outside the subset, or in error: the fast reader must fall back (and saphyr decide).
const FALLS_BACK: &[&str] = &[
    "",
    "# only\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a: |\n  b\n",
    "a: >\n  b\n",
    "? a\n: b\n",
    "a:\n\tb: 1\n",
    "a: 1\r\n",
    "\u{feff}a: 1\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n...\n",
    "a: b\n  c\n",
    "- a\n  b\n",
    "a: 'b\n  c'\n",
    "a: \"b\\\n  c\"\n",
    "a: [b,\n  c]\n",
    "a: {b: 1 # c\n}\n",
    "a: b: c\n",
    "a: - b\n",
    "a: 1\n- b\n",
    "a: 1\nb\n",
    "a: 1\n  b: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "- a\nb: 1\n",
    "a: [a -]\n",
    "a: [a: ]\n",
    "a: [a: b]\n",
    "a: [-]\n",
    "a: [a, , b]\n",
    "a: [,]\n",
    "a: {a:[1]}\n",
    "a: {[a]: 1}\n",
    "a: \"b\"c\n",
    "a: \"b\"#c\n",
    "a: [a]b\n",
    "[a]: b\n",
    "a: @b\n",
    "a: `b`\n",
    "a: \"\\q\"\n",
    "a: \"\\x4\"\n",
    "a: <<\n",
    "<<: {a: 1}\n",
    "a: 1\na: 2\n",
    "a: 99999999999999999999\n",
    "]\n",
    "--- # c\n",
    "a: {a: 1}}\n",
    "a: [a]]\n",
    "a: {a: 1\n",
    "a: [a, b\n",
    "- a\n - b\n",
];

#[test]
fn tricky_cases_in_the_subset_are_read_as_saphyr_reads_them() {
    for text in READ {
        reads(text);
    }
}

#[test]
fn tricky_cases_outside_the_subset_fall_back() {
    for text in FALLS_BACK {
        assert!(!agrees(text), "the fast reader read {text:?}");
    }
}

#[test]
fn a_long_key_is_left_to_saphyr() {
    let long = "k".repeat(1100);
    assert!(!agrees(&format!("{long}: 1\n")));
    reads(&format!("{}: 1\n", "k".repeat(900)));
    reads(&format!("a: {{{long}: 1}}\n"));
}

#[test]
fn long_lines_are_read_as_saphyr_reads_them() {
    // saphyr stops taking a token as a possible key 1024 characters on; long values and flow
    // collections must not notice.
    let items = vec!["item"; 400].join(", ");
    let scalar = "word ".repeat(400);
    for text in [
        format!("a: [{items}]\n"),
        format!("- [{items}]\n- {{k: {scalar}}}\n"),
        format!("[{items}]"),
        format!("a:\n [{items}]\nb: 1\n"),
        format!("a: {scalar}\n- {scalar}"),
        format!("- {scalar}\n- '{scalar}'\n"),
        format!("a: \"{scalar}\"\n"),
    ] {
        agrees(&text);
    }
    reads(&format!("a: [{items}]\n"));
}

#[test]
fn deep_nesting_is_left_to_saphyr() {
    let deep = format!("{}x{}", "[".repeat(100), "]".repeat(100));
    assert!(!agrees(&deep));
    reads(&format!("{}x{}", "[".repeat(60), "]".repeat(60)));
}

/// Pieces of YAML with every indicator and odd spacing, for the token soup.
const TOKENS: &[&str] = &[
    "a",
    "b",
    "key",
    "é",
    "1",
    "-1",
    "~",
    "- ",
    "-",
    "-x",
    ": ",
    ":",
    ":x",
    " #",
    "#",
    "# c",
    " ",
    "  ",
    "\n",
    "\n",
    "\n  ",
    "\n    ",
    "\n- ",
    "'",
    "''",
    "'q'",
    "\"",
    "\"d\"",
    "\\",
    "\\\"",
    "\\n",
    "[",
    "]",
    "{",
    "}",
    ",",
    ", ",
    "? ",
    "&a ",
    "*a",
    "!",
    "|",
    ">",
    "%",
    "---",
    "...",
    "\t",
    "\r",
    "x: y",
    "- k: v",
    "{a: b}",
    "[a, b]",
    "\"k\": v",
    "'k': v",
    "k:\n",
    "k:\n  - x",
    "k:\n- x",
];

/// A tree to write as YAML, with the choices of how to write each part.
#[derive(Debug, Clone)]
enum Tree {
    Scalar(&'static str),
    Sequence(Vec<Tree>, Layout),
    Mapping(Vec<(&'static str, Tree)>, Layout),
}

/// How a collection is written.
#[derive(Debug, Clone, Copy)]
struct Layout {
    is_flow: bool,
    /// Extra indentation of the nested block, 0 to 3 (0 makes a sequence under a key indentless).
    indent: usize,
    /// What goes after the indicator or value on a line: nothing, spaces, a comment.
    trailing: &'static str,
    /// A line put before the entries: none, a blank one, a comment at some indentation.
    interlude: &'static str,
}

/// Scalars the fast reader reads in some places and not in others.
const SCALARS: &[&str] = &[
    "a",
    "b c",
    "a:b",
    "a#b",
    "-1",
    "x-",
    "~",
    "null",
    "1.5",
    "true",
    "http://h:1/p",
    "a - b",
    "é",
    "'q'",
    "'a''b'",
    "\"d\"",
    "\"e\\\"f\\n\"",
    "''",
    "\"\"",
    "a]",
    "{b",
    "[c",
    "d,e",
    ":x",
    "a :b",
    "名前",
    "a -",
    "a #",
    "x:",
    "- x",
];
/// Scalars outside the subset, or errors.
const OTHER_SCALARS: &[&str] = &["-", ":", "a:", "? a", "&x", "*x", "!t", "|", "\"\\q\""];
/// Mapping keys, plain and quoted.
const KEYS: &[&str] = &["a", "b", "k y", "'q'", "\"d\"", "-x", "é", "a:b", "1", "a#b", "a b", "''"];
/// What may follow a value or an indicator on its line.
const TRAILING: &[&str] = &["", "", "", "", "  ", " # c", " # c", " #", "# c"];
/// What may come before the entries of a collection.
const INTERLUDES: &[&str] = &["", "", "", "\n", "# c\n", "    # c\n", " \n"];

/// Any [`Layout`].
fn layout() -> impl Strategy<Value = Layout> {
    (any::<bool>(), 0..4_usize, prop::sample::select(TRAILING), prop::sample::select(INTERLUDES))
        .prop_map(|(is_flow, indent, trailing, interlude)| Layout { is_flow, indent, trailing, interlude })
}

/// Trees of up to four levels, mostly of scalars the fast reader reads.
fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![9 => prop::sample::select(SCALARS), 1 => prop::sample::select(OTHER_SCALARS)]
        .prop_map(Tree::Scalar);
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), layout())
                .prop_map(|(items, layout)| Tree::Sequence(items, layout)),
            (prop::collection::vec((prop::sample::select(KEYS), inner), 0..4), layout())
                .prop_map(|(entries, layout)| Tree::Mapping(entries, layout)),
        ]
    })
}

/// `tree` in flow style.
fn write_flow(tree: &Tree, text: &mut String) {
    match tree {
        Tree::Scalar(scalar) => text.push_str(scalar),
        Tree::Sequence(items, layout) => {
            text.push('[');
            for (index, item) in items.iter().enumerate() {
                text.push_str(if index == 0 {
                    ""
                } else if layout.indent % 2 == 0 {
                    ", "
                } else {
                    ","
                });
                write_flow(item, text);
            }
            text.push_str(if layout.indent == 3 && !items.is_empty() { ", ]" } else { "]" });
        }
        Tree::Mapping(entries, layout) => {
            text.push('{');
            for (index, (key, value)) in entries.iter().enumerate() {
                text.push_str(if index == 0 { " " } else { ", " });
                text.push_str(key);
                text.push_str(if layout.indent == 1 { ":" } else { ": " });
                write_flow(value, text);
            }
            text.push_str(if layout.indent == 3 && !entries.is_empty() { ",}" } else { " }" });
        }
    }
}

/// Starts a line at `column` for what follows, with `interlude` before it, unless `text` ends
/// after `- `, where a compact collection or a value goes on the same line.
fn start_line(text: &mut String, column: usize, interlude: &str) {
    if text.is_empty() || text.ends_with('\n') {
        text.push_str(interlude);
        text.push_str(&" ".repeat(column));
    }
}

/// `tree` as a block node whose entries start at column `column`, on a new line or after `- `.
fn write_block(tree: &Tree, column: usize, text: &mut String) {
    match tree {
        Tree::Scalar(_)
        | Tree::Sequence(_, Layout { is_flow: true, .. })
        | Tree::Mapping(_, Layout { is_flow: true, .. }) => {
            start_line(text, column, "");
            write_flow(tree, text);
            text.push('\n');
        }
        Tree::Sequence(items, layout) => {
            if items.is_empty() {
                start_line(text, column, "");
                text.push_str("[]\n");
            }
            for item in items {
                start_line(text, column, layout.interlude);
                text.push_str("- ");
                let is_block = matches!(
                    item,
                    Tree::Sequence(_, Layout { is_flow: false, .. }) | Tree::Mapping(_, Layout { is_flow: false, .. })
                );
                if layout.indent == 0 || (is_block && layout.indent == 3) {
                    // The entry on the lines below.
                    text.push_str(layout.trailing);
                    text.push('\n');
                }
                write_block(item, column + 2, text);
            }
        }
        Tree::Mapping(entries, layout) => {
            if entries.is_empty() {
                start_line(text, column, "");
                text.push_str("{}\n");
            }
            for (key, value) in entries {
                start_line(text, column, layout.interlude);
                text.push_str(key);
                text.push(':');
                match value {
                    Tree::Sequence(_, Layout { is_flow: false, .. }) => {
                        text.push_str(layout.trailing);
                        text.push('\n');
                        // Indentation 0 makes the sequence indentless, at the key's column.
                        write_block(value, column + layout.indent, text);
                    }
                    Tree::Mapping(_, Layout { is_flow: false, .. }) => {
                        text.push_str(layout.trailing);
                        text.push('\n');
                        write_block(value, column + layout.indent.max(1), text);
                    }
                    _ => {
                        text.push(' ');
                        write_flow(value, text);
                        text.push_str(layout.trailing);
                        text.push('\n');
                    }
                }
            }
        }
    }
}

/// How generated text may end: saphyr places the ends of collections by it.
const ENDINGS: &[&str] = &["", "", "", "\n", "  ", "\n  ", " # c", "\n# c", "\n   # c", "\n \n"];

/// Text from `tree`, its last line end replaced with `ending`, then edited: each `(at, token)`
/// puts `token` at the byte (rounded to a character) `at` per mille of the way through the text.
fn edited(tree: &Tree, indent: usize, ending: &str, edits: &[(usize, &str)]) -> String {
    let mut text = String::new();
    write_block(tree, indent, &mut text);
    if text.ends_with('\n') {
        text.pop();
    }
    text.push_str(ending);
    for &(at, token) in edits {
        let mut offset = text.len() * at / 1000;
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        text.insert_str(offset, token);
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn generated_yaml_agrees_with_saphyr(
        tree in tree(),
        indent in 0..3_usize,
        ending in prop::sample::select(ENDINGS),
        edits in prop::collection::vec((0..=1000_usize, prop::sample::select(TOKENS)), 0..2),
    ) {
        let text = edited(&tree, indent, ending, &edits);
        compare(&text).map_err(|disagreement| TestCaseError::fail(format!("{disagreement}\n{text:?}")))?;
    }

    #[test]
    fn token_soup_agrees_with_saphyr(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..24)) {
        let text = tokens.concat();
        compare(&text).map_err(|disagreement| TestCaseError::fail(format!("{disagreement}\n{text:?}")))?;
    }
}

#[test]
fn the_generator_mostly_writes_text_the_fast_reader_reads() {
    // Without edits, most generated text is in the subset; otherwise the property tests above
    // would test little but falling back.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = tree();
    let (mut total, mut read) = (0, 0);
    for _ in 0..500 {
        let tree = strategy.new_tree(&mut runner).unwrap().current();
        total += 1;
        read += usize::from(agrees(&edited(&tree, 0, "\n", &[])));
    }
    assert!(read * 3 > total, "{read} of {total} read");
}
