//! The fast TOML reader (`toml_fast`) held against `toml`, its judge, on a text whole and cut in
//! pieces: for its tests (`toml_fast_tests`) and its fuzz target (`fuzz/`). Not used when rave
//! reads a file.

use super::from_toml::{Piece, TomlError, parse, parse_piece_with_toml};
use super::node::{Node, NodeValue};
use super::source_file::SourceFile;
use super::toml_fast::read;

/// Reads `text` whole, and cut in pieces at line starts as `toml_cut` cuts a file (at most
/// `cuts` places, each after headers that are not in the text), with the fast reader and through
/// `toml`; and reads it with `from_toml::parse`. Whether the fast reader read it whole.
///
/// # Panics
/// When the fast reader reads a piece differently from `toml` (its tree, a position, a float's
/// bits), or reads one that `toml` refuses, or `parse` answers otherwise than `toml` alone: that
/// is what the tests and the fuzzer look for.
pub(crate) fn check_text(text: &str, cuts: usize) -> bool {
    let source = SourceFile::new("rave.toml", text);
    let whole = Piece { text, start: 0, header_len: 0 };
    let is_fast = check_piece(&source, &whole);
    let (now, before) = (parse(&source), parse_piece_with_toml(&source, &whole));
    let is_unchanged = match (&now, &before) {
        (Ok(now), Ok(before)) => same(now, before),
        (now, before) => now == before,
    };
    assert!(is_unchanged, "`parse` changed on:\n{text:.3000}\n{now:?}\n{before:?}");
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(text.match_indices('\n').map(|(index, _)| index + 1)).collect();
    for &at in line_starts.iter().step_by(line_starts.len() / cuts.max(1) + 1) {
        for header in ["[t]\n", "[a]\n", "[a.b] # cut\n", "[\"a\"]\n"] {
            let rest = format!("{header}{}", &text[at..]);
            check_piece(&source, &Piece { text: &rest, start: at, header_len: header.len() });
        }
        check_piece(&source, &Piece { text: &text[..at], start: 0, header_len: 0 });
    }
    is_fast
}

/// Reads `piece` of `source` with the fast reader and through `toml`; whether the fast reader
/// read it.
///
/// # Panics
/// When the fast reader reads it, and `toml` refuses it or reads it otherwise.
pub(super) fn check_piece(source: &SourceFile, piece: &Piece<'_>) -> bool {
    let Some(fast) = read(source, piece) else { return false };
    let slow = parse_piece_with_toml(source, piece);
    if !slow.as_ref().is_ok_and(|slow| same(&fast, slow)) {
        let (fast, slow) = (format!("{:#?}", Ok::<_, TomlError>(fast)), format!("{slow:#?}"));
        let diff = similar::TextDiff::from_lines(&slow, &fast);
        let diff = diff.unified_diff().context_radius(12).header("toml", "fast").to_string();
        let text: String = piece.text.chars().take(3000).collect();
        panic!(
            "the fast reader disagrees with `toml` on the piece from {} (header {}):\n{text:?}\n{diff:.6000}",
            piece.start, piece.header_len
        );
    }
    true
}

/// Whether two trees are the same, positions included, floats bit for bit (`-0.0` is not `0.0`,
/// and NaN is itself).
fn same(a: &Node, b: &Node) -> bool {
    a.position == b.position
        && match (&a.value, &b.value) {
            (NodeValue::Float(a), NodeValue::Float(b)) => a.to_bits() == b.to_bits(),
            (NodeValue::Sequence(a), NodeValue::Sequence(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
            }
            (NodeValue::Mapping(a), NodeValue::Mapping(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|((ka, a), (kb, b))| ka == kb && same(a, b))
            }
            (a, b) => a == b,
        }
}
