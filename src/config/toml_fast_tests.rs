//! The fast TOML reader (`toml_fast`) against `toml`, its judge: for every text, whole or cut in
//! pieces as `toml_cut` cuts it, the fast reader either declines or gives exactly the tree
//! (values, order, positions, float bits) that `toml`'s `DeTable` and `from_toml`'s converter
//! give; and `from_toml::parse` answers as it did before the fast reader existed. The texts:
//! every TOML file in the repository, the benchmark's file, the TOML the round-trip property
//! writes, hand-written tricky cases, and random TOML-ish text from a grammar of tricky tokens.
//! Where the fast reader must not decline (the benchmark, the examples), that is checked too, so
//! a later change cannot lose the speed without a failing test.

use std::fmt::Write as _;
use std::path::Path;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;

use super::cut::MIN_BYTES;
use super::from_toml::{Piece, parse_piece_with_toml};
use super::source_file::SourceFile;
use super::toml_cut::Cut;
use super::toml_fast::read;
use super::toml_fast_check::{check_piece, check_text};

/// Checks `text` whole and cut in pieces (every line of a short text, a few of a long one);
/// whether the fast reader read it whole.
fn check(text: &str) -> bool {
    check_text(text, if text.len() > 20_000 { 3 } else { 40 })
}

/// Texts in the subset: the fast reader must read each.
const FAST: &[&str] = &[
    "a = 1\n",
    "a = 1",
    "a=1\nb\t=\t\"x\"\t# comment\n",
    "\n\n# only a comment first\n\na = 'literal # = ] } \" \\ '\n",
    "version = 1\nproject = \"lab\"\n\n[vms.gitlab]\nhost = \"shoshin\"\nvcpus = 16\n",
    "[a]\nx = 1\n[b]\ny = 2\n[a.c]\nz = 3\n",
    "[a.b]\nx = 1\n[a]\ny = 2\n",
    "[a.b.c]\nx = 1\n[a.b]\ny = 2\n[a]\nz = 3\n",
    "[a.b]\n[a]\n",
    "[a]\n[b]\n",
    "[ a . b ]\nc = 1\n[ \"q k\" . 'l.k' ]\n",
    "\"quoted key\" = 1\n'literal key' = 2\n\"\" = 3\n",
    "1 = 2\n-a = 3\n_b = 4\ntrue = 5\ninf = 6\n1-2 = 7\nA_Z-09 = 8\n",
    "s = \"a#b=c]d}e'f\"\nt = 'a\"b'\n",
    "s = \"tab\there\"\n",
    "a = { s = \"é\u{1F600}\", t = 1 }\n",
    "x = \"é\" # é\ny = { a = \"ü\", b = [\"ß\", 2] }\n",
    "a = [\"é\", \"ü\", 3]\nb = { c = \"ß\", d = 4 }\n",
    "e = \"a\\\"b\\\\c\\nd\\te\\rf\\bg\\fh\\ei\\u00e9j\\U0001F600k\\x41\"\n",
    "a = []\nb = {}\nc = [[]]\nd = [{}]\ne = { f = {} }\n",
    "a = [1,]\nb = [ 1 , 2 , ]\nc = [\n  1, # one\n  2,\n  # nothing\n]\n",
    "a = [\n]\nb = [ # comment\n 1\n ,\n 2 ]\n",
    "a = { b = 1, c = [1, 2], d = { e = true } }\n",
    "a = { b = 1, }\n",
    "a = {\n  b = 1, # one\n  c = 2\n}\n",
    "a = 0\nb = -0\nc = +1\nd = 1_000\ne = -9223372036854775808\nf = 9223372036854775807\n",
    "a = 1.5\nb = -0.0\nc = +1e5\nd = 1E-3\ne = 1_0.2_5\nf = 0e0\ng = 1e999\nh = 6.02e+23\n",
    "a = true\nb = false\n",
    "a = 1 # comment\nb = true#c\nc = [1]# c\n",
    "[a] # comment\nb = 1",
    "provision.create = [\"x\"]\nprovision.destroy = [\"y\"]\n",
    "a.b.c = 1\na.b.d = 2\na.e = 3\n",
    "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n",
    "a . b = 1\n\"q\".'r' = 2\n",
    "# comment with é and \t tab\na = 1\n",
    "x = 1\n\n\n",
    "  indented = 1\n\t[\ttable\t]\n  key = 2\n",
    "[[a]]\nx = 1\n[[a]]\nx = 2\n",
    "[[a.b]]\n[a]\nc = 1\n",
    "[[a]]\n[a.b]\nc = 1\n[[a]]\n[a.b]\nc = 2\n",
    "[[a]]\n[[a.b]]\nx = 1\n[[a.b]]\n[[a]]\n",
    "[[ a . b ]]\n[[ 'a' . \"b\" ]] # c\n",
    "[[a]]\nb.c = 1\nb.d = 2\n",
    "x = 1\n[[a]]\n[b]\n[[a]]\n",
];

/// Texts the fast reader may decline: out of its subset, or not TOML. Whatever it does, it
/// must agree with `toml`.
const TRICKY: &[&str] = &[
    "",
    "\n",
    "# nothing\n",
    "a = 1\r\n",
    "a = 1\rb = 2\n",
    "\u{feff}a = 1\n",
    "a = 1\na = 2\n",
    "[a]\n[a]\n",
    "[a]\nb = 1\n[a.b]\n",
    "[a.b]\n[a]\nb = 1\n",
    "[a.b]\n[a]\n[a]\n",
    "a = {}\n[a]\n",
    "a = { b = 1 }\n[a.c]\n",
    "a = 1\n[a.b]\n",
    "a.b = 1\n[a]\n",
    "a.b = 1\na = 2\n",
    "a = 1\na.b = 2\n",
    "a.b = 1\na.b.c = 2\n",
    "[a]\nb.c = 1\n[a.b]\n",
    "[a]\nb.c = 1\n[a.b.d]\n",
    "[a.b]\n[a]\nb.c = 1\n",
    "[a.b.c]\n[a]\nb.d = 1\n",
    "[[a]]\n[a]\n",
    "[a]\n[[a]]\n",
    "a = [1]\n[[a]]\n",
    "a = []\n[[a]]\n",
    "[a.b]\n[[a]]\n",
    "[[a.b]]\n[a.b]\n",
    "[[a] ]\n",
    "[ [a]]\n",
    "[[a]]]\n",
    "[[a]\n",
    "[[a]]\n[[a.b]]\n[a.b]\n",
    "[[a]]\na.b = 1\n[a]\n",
    "[[a]]\n[a.b]\n[a.b]\n",
    "[[a]]\nb = {}\n[a.b]\n",
    "a = [{ b = 1 }]\n[[a]]\n",
    "[a]]\n",
    "[a\n",
    "[]\n",
    "[a.]\n",
    "[.a]\n",
    "a = \n",
    "= 1\n",
    "a = 1 b = 2\n",
    "a = \"x\" \"y\"\n",
    "a = \"unterminated\n",
    "a = \"\"\"multi\nline\"\"\"\n",
    "a = '''multi\nline'''\n",
    "a = \"\"\"\"\"\"\n",
    "a = \"\"\n",
    "a = ''\n",
    "a = \"\\q\"\n",
    "a = \"\\u12\"\n",
    "a = \"\\uD800\"\n",
    "a = \"\\U00110000\"\n",
    "a = \"\\u+123\"\n",
    "a = \"\\x4\"\n",
    "a = \"\\xff\"\n",
    "a = \"\u{7f}\"\n",
    "a = \"\u{1}\"\n",
    "a = '\u{7f}'\n",
    "# \u{7f}\na = 1\n",
    "# \u{0}\na = 1\n",
    "# \u{85} \u{2028} \u{fffe}\na = 1\n",
    "a = \"\u{85}\u{2028}\u{feff}\u{fffe}\"\n",
    "\"a\\\"b\" = 1\n",
    "\"a\nb\" = 1\n",
    "a = 01\nb = 00\n",
    "a = 1__0\n",
    "a = 1_\n",
    "a = _1\n",
    "a = 0x10\nb = 0o7\nc = 0b1\n",
    "a = 1.\n",
    "a = .5\n",
    "a = 1e\n",
    "a = inf\nb = -inf\nc = nan\nd = +nan\n",
    "a = 9223372036854775808\n",
    "a = -9223372036854775809\n",
    "a = 99999999999999999999\n",
    "a = 1979-05-27\n",
    "a = 1979-05-27T07:32:00Z\n",
    "a = 1979-05-27 07:32:00\n",
    "a = 07:32:00\n",
    "a = TRUE\n",
    "a = truex\n",
    "a = [1 2]\n",
    "a = [,]\n",
    "a = [1,,2]\n",
    "a = [\n",
    "a = [1, { b = 2 }, [3], \"x\", 1.5, true]\n",
    "a = {,}\n",
    "a = { b = 1,, }\n",
    "a = { b = 1 c = 2 }\n",
    "a = { b = 1, b = 2 }\n",
    "a = { b.c = 1 }\n",
    "a = { b.c = 1, b.d = 2 }\n",
    "a = { b\n= 1 }\n",
    "a = { b =\n 1 }\n",
    "a =\n1\n",
    "a\n= 1\n",
    "a = [1]x\n",
    "a = {}x\n",
    "[a]x\n",
    "[a] [b]\n",
    "a = 1 # \u{1}\n",
    "a = 1\n\u{1}\n",
    "\u{a0}a = 1\n",
    "é = 1\n",
    "a. = 1\n",
    ".a = 1\n",
    "a..b = 1\n",
    "[a..b]\n",
    "a = 1,\n",
    "a = ]\n",
    "a = }\n",
];

#[test]
fn the_fast_reader_reads_its_subset_as_toml_does() {
    for text in FAST {
        assert!(check(text), "the fast reader declined:\n{text}");
    }
}

#[test]
fn outside_its_subset_it_declines_or_agrees() {
    for text in TRICKY {
        check(text);
    }
    // Everything that is not valid TOML is declined.
    for text in TRICKY {
        let source = SourceFile::new("rave.toml", *text);
        if parse_piece_with_toml(&source, &Piece { text, start: 0, header_len: 0 }).is_err() {
            assert!(read(&source, &Piece { text, start: 0, header_len: 0 }).is_none(), "{text}");
        }
    }
}

#[test]
fn nesting_at_and_past_the_limit() {
    for depth in [62, 63, 64, 65, 66] {
        check(&format!("a = {}1{}\n", "[".repeat(depth), "]".repeat(depth)));
        check(&format!("a = {}1{}\n", "{ b = ".repeat(depth), " }".repeat(depth)));
        check(&format!("[{}]\nx = 1\n", vec!["a"; depth].join(".")));
        check(&format!("{} = 1\n", vec!["a"; depth].join(".")));
        check(&format!("[{}]\n{} = [1]\n", vec!["a"; depth / 2].join("."), vec!["b"; depth / 2].join(".")));
    }
    for text in [
        format!("a = {}", "[".repeat(100_000)),
        format!("a = {}", "{ b = ".repeat(100_000)),
        format!("[{}]", vec!["a"; 100_000].join(".")),
        format!("{} = 1", vec!["a"; 100_000].join(".")),
    ] {
        let source = SourceFile::new("rave.toml", text.as_str());
        assert!(read(&source, &Piece { text: &text, start: 0, header_len: 0 }).is_none());
    }
}

#[test]
fn every_toml_file_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut directories = vec![root.to_path_buf()];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() && !name.starts_with('.') && !["target", "corpus", "artifacts"].contains(&name.as_str()) {
                directories.push(path);
            } else if path.extension().is_some_and(|extension| extension == "toml") {
                files.push(path);
            }
        }
    }
    assert!(files.iter().any(|path| path.ends_with("examples/lab/rave.toml")), "{files:?}");
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let is_fast = check(&text);
        if path.starts_with(root.join("examples")) {
            assert!(is_fast, "the fast reader declined {}", path.display());
        }
    }
}

/// A file written as the plan benchmark (`benches/plan.rs`) writes its 10,000-resource TOML
/// file, at `count` resources.
pub(super) fn benchmark_file(count: usize) -> String {
    let per = count / 10;
    let mut text = String::from("version = 1\nproject = \"bench\"\n[caches]\n");
    text.push_str("lan = { type = \"nix-store\", uri = \"file:///var/cache/rave\", public_key = \"lan-1:AAAA\" }\n");
    text.push_str("[builders]\nb0 = { ssh = \"root@192.0.2.9\", host_key = \"ssh-ed25519 AAAA\", max_jobs = 8 }\n");
    text.push_str("[builds]\n");
    for index in 0..per {
        writeln!(
            text,
            "build{index} = {{ attr = \".#packages.x86_64-linux.p{index}\", builders = [\"b0\"], push = [\"lan\"] }}"
        )
        .unwrap();
    }
    text.push_str("[hosts]\n");
    for index in 0..per {
        let address = index % 250 + 1;
        writeln!(
            text,
            "host{index} = {{ ssh = \"root@192.0.2.{address}\", host_key = \"ssh-ed25519 AAAA{index}\", push = [\"lan\"] }}"
        )
        .unwrap();
    }
    text.push_str("[vms]\n");
    for index in 0..per * 4 {
        let host = index % per;
        writeln!(
            text,
            "vm{index} = {{ host = \"host{host}\", vcpus = 2, memory = \"2GiB\", volumes = [{{ name = \"data\", \
             size = \"10GiB\", mount = \"/var/lib/data\" }}] }}"
        )
        .unwrap();
    }
    text.push_str("[services]\n");
    for index in 0..count - 2 - 6 * per {
        let vm = index % (per * 4);
        writeln!(
            text,
            "svc{index} = {{ type = \"nats\", runs_on = \"vm.vm{vm}\", port = 4222, health = {{ tcp = \"192.0.2.1:4222\" }} }}"
        )
        .unwrap();
    }
    text
}

#[test]
fn the_benchmark_file_is_read_fast_whole_and_in_pieces() {
    let text = benchmark_file(10_000);
    assert!(text.len() > 1_000_000, "{}", text.len());
    assert!(check(&text));
    let source = SourceFile::new("rave.toml", text.as_str());
    let cut = Cut::find(&source, MIN_BYTES).unwrap();
    assert!(check_piece(&source, &cut.head()), "the fast reader declined the head");
    assert!(check_piece(&source, &cut.rest()), "the fast reader declined the rest");
}

#[test]
fn the_round_trip_property_toml_is_read_as_toml_reads_it() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..64 {
        let written = crate::model::arbitrary::document().new_tree(&mut runner).unwrap().current();
        check(&toml::to_string(&written).unwrap());
    }
}

/// The pieces a grammar builds texts from.
struct Grammar {
    scalars: &'static [&'static str],
    keys: &'static [&'static str],
    equals: &'static [&'static str],
    /// After an item of an array or an inline table, but the last.
    separators: &'static [&'static str],
    /// After the last item of an array or an inline table.
    last_separators: &'static [&'static str],
    /// After `[` or `{`.
    opens: &'static [&'static str],
    /// After a header or a key's value.
    ends: &'static [&'static str],
    headers: &'static [&'static str],
}

/// Valid TOML pieces, tricky among them (texts still fail on duplicate keys and tables).
const VALID: Grammar = Grammar {
    scalars: &[
        "1",
        "-2",
        "1.5",
        "true",
        "false",
        "\"x\"",
        "'y'",
        "\"é\"",
        "\"\"",
        "''",
        "0",
        "-0",
        "+1",
        "1_000",
        "-9223372036854775808",
        "9223372036854775807",
        "-0.0",
        "1e5",
        "1.5E-3",
        "6.02e+23",
        "\"a#b=c]d}e,\"",
        "'lit # \" ]'",
        "\"\\\"\"",
        "\"\\u00e9\"",
        "\"\\e\\x41\\t\"",
        "\"\\b\\f\\n\\r\\\\\\U0001F600\"",
        "\"\u{1F600}ü\"",
        "\"\t\"",
    ],
    keys: &[
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "a.b", "b.c", "a . c", "\"a\"", "'b'", "\"q k\"",
        "\"\"", "1", "-", "_x", "1.5",
    ],
    equals: &[" = ", "=", "\t=\t", " ="],
    separators: &[", ", ",", " , ", ",\n", "\n, ", ", # c\n", ",\t"],
    last_separators: &["", " ", ",", ", ", "\n", ",\n", " # c\n"],
    opens: &["", " ", "\n", " # c\n"],
    ends: &["\n", " # comment é\n", "#c\n", "\n\n", "\t\n"],
    headers: &[
        "[a]",
        "[b]",
        "[a.b]",
        "[b.c]",
        "[ a . c ]",
        "[\"a\"]",
        "[[a]]",
        "[[b.c]]",
        "[[ d ]]",
        "[a.b.c]",
        "['e'.f]",
    ],
};

/// Pieces that are not valid TOML, or not in the fast reader's subset, and a few valid ones.
const TRICKY_PIECES: Grammar = Grammar {
    scalars: &[
        "01",
        "1__0",
        "9223372036854775808",
        "1.",
        "inf",
        "nan",
        "0x1f",
        "TRUE",
        "1979-05-27",
        "07:32:00",
        "\"\\uD800\"",
        "\"\\q\"",
        "\"\"\"x\"\"\"",
        "'''x'''",
        "\"\u{7f}\"",
        "x",
        "1",
        "\"x\"",
    ],
    keys: &["a", "a.b", "é", "\"a\\\"b\"", "a.", "\"\"\"", "[a]"],
    equals: &[" = ", " = \n", "\n= ", " == ", ""],
    separators: &[", ", ",,", " ", "", "\r\n,"],
    last_separators: &["", ",,", "\n,"],
    opens: &["", ",", "\r\n"],
    ends: &["\n", "", "\r\n", " x\n", "\r"],
    headers: &["[a]", "[]", "[a", "[[a]", "[a]]", "[[a]]]", "[ [a]]", "[a.]", "[é]"],
};

/// One of `valid`, or now and then one of `tricky` when `is_tricky`.
fn piece(
    valid: &'static [&'static str],
    tricky: &'static [&'static str],
    is_tricky: bool,
) -> BoxedStrategy<&'static str> {
    if is_tricky { prop_oneof![4 => select(valid), 1 => select(tricky)].boxed() } else { select(valid).boxed() }
}

/// Items and their separators, the last one's from `last`.
fn join(items: Vec<(String, &str)>, last: &str) -> String {
    let count = items.len();
    let mut text = String::new();
    for (index, (item, separator)) in items.into_iter().enumerate() {
        text.push_str(&item);
        text.push_str(if index + 1 == count { last } else { separator });
    }
    text
}

/// A value: a scalar, or an array or inline table of values.
fn value(is_tricky: bool) -> impl Strategy<Value = String> {
    let scalar = piece(VALID.scalars, TRICKY_PIECES.scalars, is_tricky);
    scalar.prop_map(str::to_owned).prop_recursive(3, 24, 4, move |inner| {
        let separator = || piece(VALID.separators, TRICKY_PIECES.separators, is_tricky);
        let last = || piece(VALID.last_separators, TRICKY_PIECES.last_separators, is_tricky);
        let open = || piece(VALID.opens, TRICKY_PIECES.opens, is_tricky);
        let key = piece(VALID.keys, TRICKY_PIECES.keys, is_tricky);
        let equals = piece(VALID.equals, TRICKY_PIECES.equals, is_tricky);
        prop_oneof![
            (open(), prop::collection::vec((inner.clone(), separator()), 0..4), last())
                .prop_map(|(open, items, last)| format!("[{open}{}]", join(items, last))),
            (open(), prop::collection::vec((key, equals, inner, separator()), 0..4), last()).prop_map(
                |(open, entries, last)| {
                    // Dotted keys are rarely valid in inline tables: most would only make texts
                    // the fast reader declines.
                    let entries = entries.into_iter().map(|(key, equals, value, separator)| {
                        (format!("{}{equals}{value}", key.replace(' ', "").replace('.', "_")), separator)
                    });
                    format!("{{{open}{}}}", join(entries.collect(), last))
                }
            ),
        ]
    })
}

/// A line: a header, `key = value`, a comment or nothing.
fn line(is_tricky: bool) -> impl Strategy<Value = String> {
    let end = || piece(VALID.ends, TRICKY_PIECES.ends, is_tricky);
    let key = piece(VALID.keys, TRICKY_PIECES.keys, is_tricky);
    let equals = piece(VALID.equals, TRICKY_PIECES.equals, is_tricky);
    prop_oneof![
        2 => (piece(VALID.headers, TRICKY_PIECES.headers, is_tricky), end())
            .prop_map(|(header, end)| format!("{header}{end}")),
        6 => (key, equals, value(is_tricky), end())
            .prop_map(|(key, equals, value, end)| format!("{key}{equals}{value}{end}")),
        1 => select(&["# comment\n", "\n", "  \n", "#\n"][..]).prop_map(str::to_owned),
    ]
}

/// Tokens slipped into a text.
const TOKENS: &[&str] = &[
    "[", "]", "{", "}", ",", "=", ".", "\"", "'", "#", "\n", "\r", " ", "\t", "a", "1", "é", "\\", "_", "-", "+", "[[",
    "\u{feff}", "\u{0}", "\u{7f}", "\u{85}",
];

/// A TOML text: of valid pieces, or of tricky ones with a token slipped in or a stretch taken out.
fn document() -> impl Strategy<Value = String> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), select(TOKENS), 0..3usize), 0..3);
    prop_oneof![
        prop::collection::vec(line(false), 1..10).prop_map(|lines| lines.concat()),
        (prop::collection::vec(line(true), 0..10), edits).prop_map(|(lines, edits)| {
            let mut text = lines.concat();
            for (index, token, removed) in edits {
                let mut at = index.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + removed).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, token);
            }
            text
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn random_toml_is_read_as_toml_reads_it(text in document()) {
        check(&text);
    }
}

#[test]
fn the_random_texts_are_often_read_fast() {
    // The property means little if the fast reader declines nearly all of its texts.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut fast, mut valid) = (0, 0);
    for _ in 0..1000 {
        let text = document().new_tree(&mut runner).unwrap().current();
        let source = SourceFile::new("rave.toml", text.as_str());
        let piece = Piece { text: &text, start: 0, header_len: 0 };
        valid += usize::from(parse_piece_with_toml(&source, &piece).is_ok());
        fast += usize::from(read(&source, &piece).is_some());
    }
    assert!(fast >= 200 && fast * 10 >= valid * 8, "{fast} read fast of {valid} valid");
}
