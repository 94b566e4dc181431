//! How an attribute's value, or its old and new values, are laid out as text.
//!
//! Scalars and small lists or objects stay on the attribute's line as compact JSON. A multi-line
//! string, or a list or object too long for one line, becomes a block: the string's lines, or the
//! value's pretty-printed JSON lines, marked line by line with what was removed and added (a line
//! diff from `similar`). Colour and indentation are the caller's business.

use std::fmt::{self, Write as _};

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

/// Lists and objects whose compact JSON is longer than this are shown as blocks.
const INLINE_WIDTH: usize = 60;

/// What happened to one line of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    /// In both values.
    Same,
    /// Only in the old value.
    Removed,
    /// Only in the new value.
    Added,
}

/// A value, or a pair of them, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Layout<'a> {
    /// On the attribute's line.
    Inline(Inline<'a>),
    /// Across lines, between an opening token (`<<-EOT`, `[`, `{`) and a closing one.
    Block {
        /// Ends the attribute's line.
        open: &'static str,
        /// On its own line after the content.
        close: &'static str,
        /// The content, each line marked; unmarked when only one value exists.
        lines: Vec<(Mark, String)>,
    },
}

/// The shapes a value can be shown in as a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Text,
    List,
    Map,
}

/// One line's worth: the old value, the new value, or `old -> new`, as compact JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Inline<'a> {
    before: Option<&'a Value>,
    after: Option<&'a Value>,
}

impl Inline<'_> {
    /// Appends the text to `out`. `json` is room for serializing, reused from line to line: most
    /// of a plan is such lines.
    pub(super) fn write(self, out: &mut String, json: &mut Vec<u8>) {
        match (self.before, self.after) {
            (Some(before), Some(after)) => {
                push_compact(out, before, json);
                out.push_str(" -> ");
                push_compact(out, after, json);
            }
            (Some(value), None) | (None, Some(value)) => push_compact(out, value, json),
            (None, None) => out.push_str("null"),
        }
    }
}

/// Appends compact JSON (`"8GiB"`, `4`, `["a","b"]`), serialized through `json`.
fn push_compact(out: &mut String, value: &Value, json: &mut Vec<u8>) {
    json.clear();
    // Writing into a vector cannot fail, and serde_json writes UTF-8, so the lossy conversion
    // only ever borrows.
    let _ = serde_json::to_writer(&mut *json, value);
    out.push_str(&String::from_utf8_lossy(json));
}

/// Lays out `before -> after`, or the one that exists.
pub(super) fn layout<'a>(before: Option<&'a Value>, after: Option<&'a Value>) -> Layout<'a> {
    match block_shape(before, after) {
        Some(shape) => {
            let (open, close) = match shape {
                Shape::Text => ("<<-EOT", "EOT"),
                Shape::List => ("[", "]"),
                Shape::Map => ("{", "}"),
            };
            let before = before.map(|value| block_text(shape, value));
            let after = after.map(|value| block_text(shape, value));
            Layout::Block { open, close, lines: marked_lines(before.as_deref(), after.as_deref()) }
        }
        None => Layout::Inline(Inline { before, after }),
    }
}

/// The block shape both values share, when at least one of them needs a block.
fn block_shape(before: Option<&Value>, after: Option<&Value>) -> Option<Shape> {
    let shape_of = |value: &Value| match value {
        Value::String(_) => Some(Shape::Text),
        Value::Array(_) => Some(Shape::List),
        Value::Object(_) => Some(Shape::Map),
        _ => None,
    };
    let needs_block = |value: &Value| match value {
        Value::String(text) => text.contains('\n'),
        Value::Array(_) | Value::Object(_) => is_wider_than_inline(value),
        _ => false,
    };
    let shape = shape_of(before.or(after)?)?;
    let mut present = before.into_iter().chain(after);
    let is_same_shape = present.clone().all(|value| shape_of(value) == Some(shape));
    (is_same_shape && present.any(needs_block)).then_some(shape)
}

/// Whether `value`'s compact JSON is longer than [`INLINE_WIDTH`]: written into a budget that
/// stops the writing once spent, rather than into a string.
fn is_wider_than_inline(value: &Value) -> bool {
    /// Bytes still allowed.
    struct Budget(usize);
    impl fmt::Write for Budget {
        fn write_str(&mut self, text: &str) -> fmt::Result {
            self.0 = self.0.checked_sub(text.len()).ok_or(fmt::Error)?;
            Ok(())
        }
    }
    write!(Budget(INLINE_WIDTH), "{value}").is_err()
}

/// The lines a value shows in a block: a string's own lines, or the inside of its pretty JSON
/// (the brackets are the block's open and close), one level less indented.
fn block_text(shape: Shape, value: &Value) -> String {
    if let (Shape::Text, Value::String(text)) = (shape, value) {
        return text.clone();
    }
    let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    let lines: Vec<&str> = pretty.lines().collect();
    let inner = lines.get(1..lines.len().saturating_sub(1)).unwrap_or_default();
    inner.iter().map(|line| line.strip_prefix("  ").unwrap_or(line)).collect::<Vec<_>>().join("\n")
}

/// Both texts' lines marked by a line diff; one text's lines unmarked.
fn marked_lines(before: Option<&str>, after: Option<&str>) -> Vec<(Mark, String)> {
    match (before, after) {
        (Some(before), Some(after)) => {
            let (before, after) = (with_final_newline(before), with_final_newline(after));
            TextDiff::from_lines(&before, &after)
                .iter_all_changes()
                .map(|change| {
                    let mark = match change.tag() {
                        ChangeTag::Equal => Mark::Same,
                        ChangeTag::Delete => Mark::Removed,
                        ChangeTag::Insert => Mark::Added,
                    };
                    (mark, change.value().trim_end_matches('\n').to_owned())
                })
                .collect()
        }
        (Some(text), None) | (None, Some(text)) => text.lines().map(|line| (Mark::Same, line.to_owned())).collect(),
        (None, None) => Vec::new(),
    }
}

/// A last line without its newline would differ from the same line with one.
fn with_final_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') { text.to_owned() } else { format!("{text}\n") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(marked: &[(Mark, &str)]) -> Vec<(Mark, String)> {
        marked.iter().map(|(mark, line)| (*mark, (*line).to_owned())).collect()
    }

    #[test]
    fn small_values_stay_inline() {
        let cases = [
            (Some(json!("qemu")), Some(json!("firecracker")), r#""qemu" -> "firecracker""#),
            (None, Some(json!(4)), "4"),
            (Some(json!(["workspace"])), None, r#"["workspace"]"#),
            (Some(json!({"vcpus": 2})), Some(json!({"vcpus": 4})), r#"{"vcpus":2} -> {"vcpus":4}"#),
            (Some(json!("one")), Some(json!(vec!["x"; 30])), &format!(r#""one" -> {}"#, json!(vec!["x"; 30]))),
        ];
        for (before, after, expected) in cases {
            let Layout::Inline(inline) = layout(before.as_ref(), after.as_ref()) else { panic!("expected a line") };
            let mut text = String::new();
            inline.write(&mut text, &mut Vec::new());
            assert_eq!(text, expected);
        }
    }

    #[test]
    fn lists_go_to_a_block_past_the_inline_width() {
        let fits = json!(["a".repeat(INLINE_WIDTH - 4)]);
        let too_wide = json!(["a".repeat(INLINE_WIDTH - 3)]);
        assert_eq!(fits.to_string().len(), INLINE_WIDTH);
        assert!(matches!(layout(None, Some(&fits)), Layout::Inline(_)));
        assert!(matches!(layout(None, Some(&too_wide)), Layout::Block { open: "[", .. }));
    }

    #[test]
    fn multi_line_strings_are_diffed_by_line() {
        let (before, after) = (json!("a\nb\nc"), json!("a\nB\nc\nd"));
        let layout = layout(Some(&before), Some(&after));
        let expected = lines(&[
            (Mark::Same, "a"),
            (Mark::Removed, "b"),
            (Mark::Added, "B"),
            (Mark::Same, "c"),
            (Mark::Added, "d"),
        ]);
        assert_eq!(layout, Layout::Block { open: "<<-EOT", close: "EOT", lines: expected });
    }

    #[test]
    fn long_objects_are_diffed_as_pretty_json() {
        let before = json!({"log_level": "info", "max_connections": 100, "shared_buffers": "128MB"});
        let after = json!({"log_level": "debug", "max_connections": 100, "shared_buffers": "128MB"});
        let expected = lines(&[
            (Mark::Removed, r#""log_level": "info","#),
            (Mark::Added, r#""log_level": "debug","#),
            (Mark::Same, r#""max_connections": 100,"#),
            (Mark::Same, r#""shared_buffers": "128MB""#),
        ]);
        assert_eq!(layout(Some(&before), Some(&after)), Layout::Block { open: "{", close: "}", lines: expected });
    }

    #[test]
    fn a_value_alone_is_a_block_without_marks() {
        let value = json!([{"name": "data", "size": "40GiB", "mount": "/var/lib/gitlab/data/volume"}]);
        let Layout::Block { open, lines, .. } = layout(None, Some(&value)) else { panic!("expected a block") };
        assert_eq!(open, "[");
        assert!(lines.iter().all(|(mark, _)| *mark == Mark::Same));
        assert_eq!(lines.first().map(|(_, line)| line.as_str()), Some("{"));
        assert_eq!(lines.get(1).map(|(_, line)| line.as_str()), Some(r#"  "name": "data","#));
    }
}
