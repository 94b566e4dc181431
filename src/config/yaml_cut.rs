//! Reading a large YAML file on two threads: where the file cuts cleanly into pieces that are
//! each YAML of their own, and how their trees join into the tree of the whole.
//!
//! A desired-state file is a mapping of sections (`hosts:`, `vms:`…), each a block mapping of
//! entries written one under the other. Such a file cuts cleanly before an entry of a section,
//! near its middle: the head (everything before the cut), the rest of that section's entries (an
//! indented block mapping of its own) and the tail (the sections after it). The head is read on
//! this thread while the other two are read on a second one, and the trees are joined.
//!
//! A cut only ever saves time. Whenever a piece fails to read, or joining would need a judgement
//! (a key in two pieces, the caps the pieces share, `<<` merge keys), the caller reads the file
//! whole instead, so every error and every tree is exactly that of a whole read.

use super::cut::{self, MIN_BYTES};
use super::from_yaml::{MAX_ALIAS_VALUES, MAX_VALUES, Piece, parse_piece};
use super::node::{Node, NodeValue};

/// A file cut in three: `head` + `rest` + `tail` is the whole text.
#[derive(Debug, PartialEq, Eq)]
struct Cut<'a> {
    /// The name of the section the cut falls in.
    section: &'a str,
    /// From the start to the cut, which falls before an entry of a section.
    head: &'a str,
    /// The section's entries from the cut on.
    rest: &'a str,
    /// The line `rest` starts on.
    rest_line: u32,
    /// The sections after the cut one; empty when it is the last.
    tail: &'a str,
    /// The line `tail` starts on.
    tail_line: u32,
}

/// Reads `text` in pieces on two threads, when it is large and cuts cleanly; `None` when it
/// must be read whole (it is small, does not cut, a piece has an error, or joining is unsure).
pub(super) fn parse_in_parts(text: &str) -> Option<Node> {
    parse_in_parts_from(text, MIN_BYTES)
}

fn parse_in_parts_from(text: &str, min_bytes: usize) -> Option<Node> {
    let cut = find_cut(text, min_bytes)?;
    let (head, others) = std::thread::scope(|scope| {
        let second = std::thread::Builder::new().spawn_scoped(scope, || {
            let rest = parse_piece(cut.rest, cut.rest_line).ok()?;
            let tail = if cut.tail.is_empty() { None } else { Some(parse_piece(cut.tail, cut.tail_line).ok()?) };
            Some((rest, tail))
        });
        let head = parse_piece(cut.head, 1).ok();
        (head, second.ok().and_then(|handle| handle.join().ok().flatten()))
    });
    let (rest, tail) = others?;
    join(cut.section, head?, rest, tail)
}

/// Where `text` cuts cleanly, at the first entry of a section past its middle. Comment and blank
/// lines are skipped; any other line at column 0 starts a section (`name:` alone on its line
/// opens one that can be cut) or ends the one being cut.
fn find_cut(text: &str, min_bytes: usize) -> Option<Cut<'_>> {
    if text.len() < min_bytes || text.contains("<<") {
        return None;
    }
    let middle = text.len() / 2;
    // The section being read, with the indentation of its entries once its first entry is seen.
    let mut section: Option<(&str, Option<usize>)> = None;
    let mut cut: Option<(&str, usize, u32, usize)> = None;
    let mut offset = 0;
    let mut line_number = 0_u32;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        line_number += 1;
        let content = line.trim_end_matches(['\n', '\r']);
        let words = content.trim_start_matches(' ');
        let indent = content.len() - words.len();
        if words.is_empty() || words.starts_with('#') {
            continue;
        }
        if indent == 0 {
            if let Some((name, at, rest_line, _)) = cut {
                // The cut section ends here: the tail must start with a key.
                return starts_key(words).then_some(Cut {
                    section: name,
                    head: &text[..at],
                    rest: &text[at..start],
                    rest_line,
                    tail: &text[start..],
                    tail_line: line_number,
                });
            }
            section = section_header(words).map(|name| (name, None));
            continue;
        }
        match (cut, &mut section) {
            // In the rest of a cut section nothing may sit left of its entries.
            (Some((_, _, _, entry_indent)), _) if indent < entry_indent => return None,
            (Some(_), _) | (None, None) => {}
            (None, Some((_, entry_indent @ None))) => {
                if starts_key(words) {
                    *entry_indent = Some(indent);
                } else {
                    section = None;
                }
            }
            (None, Some((name, Some(entry_indent)))) => {
                if indent == *entry_indent && starts_key(words) && start >= middle {
                    cut = Some((name, start, line_number, indent));
                }
            }
        }
    }
    let (section, at, rest_line, _) = cut?;
    Some(Cut { section, head: &text[..at], rest: &text[at..], rest_line, tail: "", tail_line: line_number + 1 })
}

/// The name in `name:` alone on its line (a comment may follow): a section whose value is on the
/// lines below.
fn section_header(words: &str) -> Option<&str> {
    let (name, after) = words.split_once(':')?;
    let after = after.trim_start_matches(' ');
    let is_bare =
        starts_key(name) && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'));
    (is_bare && (after.is_empty() || after.starts_with('#'))).then_some(name)
}

/// Whether a line's first word can start a plain or quoted mapping key.
fn starts_key(words: &str) -> bool {
    words.bytes().next().is_some_and(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'"' | b'\''))
}

/// The tree of the whole from the trees of the pieces; `None` when they do not join plainly.
fn join(section: &str, head: Piece, rest: Piece, tail: Option<Piece>) -> Option<Node> {
    let pieces = [Some(&head), Some(&rest), tail.as_ref()];
    let values: usize = pieces.iter().flatten().map(|piece| piece.values).sum();
    let alias_values: usize = pieces.iter().flatten().map(|piece| piece.alias_values).sum();
    if values > MAX_VALUES || alias_values > MAX_ALIAS_VALUES {
        return None;
    }
    let NodeValue::Mapping(entries) = rest.node.value else { return None };
    let sections = match tail {
        Some(tail) => match tail.node.value {
            NodeValue::Mapping(sections) => sections,
            _ => return None,
        },
        None => Vec::new(),
    };
    cut::join(head.node, section, entries, sections)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    /// A file like the users' at `count` entries a section, with comments and blank lines.
    fn file(count: usize) -> String {
        let mut text = String::from("version: 1\nproject: lab\n\n# machines\nhosts:\n");
        for index in 0..count {
            writeln!(text, "  h{index}: {{ ssh: root@192.0.2.{}, host_key: \"ssh-ed25519 AAAA\" }}", index % 250)
                .unwrap();
        }
        text.push_str("vms:\n");
        for index in 0..count {
            writeln!(text, "  vm{index}:\n    host: h{index}\n    # sized for tests\n    vcpus: 2\n\n    memory: 2GiB")
                .unwrap();
        }
        text.push_str("services:\n");
        for index in 0..count {
            writeln!(text, "  s{index}: {{ type: nats, runs_on: vm.vm{index} }}").unwrap();
        }
        text
    }

    fn whole(text: &str) -> Node {
        parse_piece(text, 1).unwrap().node
    }

    #[test]
    fn a_file_cut_in_pieces_reads_as_the_whole_file() {
        let text = file(300);
        let cut = find_cut(&text, 0).unwrap();
        assert_eq!(format!("{}{}{}", cut.head, cut.rest, cut.tail), text);
        assert!(cut.head.len() >= text.len() / 2 && cut.rest.starts_with("  vm"), "{:?}", &cut.rest[..20]);
        assert!(cut.tail.starts_with("services:\n"));
        assert_eq!(parse_in_parts_from(&text, 0), Some(whole(&text)));
    }

    #[test]
    fn a_cut_in_the_last_section_has_no_tail() {
        let mut text = file(10);
        for index in 0..400 {
            writeln!(text, "  last{index}: {{ type: redis, runs_on: host.h1 }}").unwrap();
        }
        let cut = find_cut(&text, 0).unwrap();
        assert_eq!((cut.tail, cut.rest.starts_with("  last")), ("", true));
        assert_eq!(parse_in_parts_from(&text, 0), Some(whole(&text)));
    }

    #[test]
    fn small_files_are_read_whole() {
        assert_eq!(find_cut(&file(300), MIN_BYTES), None);
    }

    #[test]
    fn files_that_do_not_cut_cleanly_are_read_whole() {
        let flow_root = format!("{{ {} }}", "a: 1, ".repeat(1000));
        let merge = file(50).replace("vcpus: 2\n", "<<: { vcpus: 2 }\n");
        let tabbed = file(50).replace("services:\n", "services:\n\tbad: 1\n");
        let lists = format!("hosts:\n{}", "  - a\n".repeat(500));
        for text in [flow_root, merge, lists] {
            assert_eq!(find_cut(&text, 0), None, "{:?}", &text[..40]);
        }
        assert_eq!(parse_in_parts_from(&tabbed, 0), None);
    }

    #[test]
    fn pieces_that_do_not_join_plainly_leave_the_whole_read_to_judge() {
        let base = file(100);
        let cut = find_cut(&base, 0).unwrap();
        let first_rest_key = cut.rest.trim_start().split(':').next().unwrap().to_owned();
        let cases = [
            // A key on both sides of the cut.
            format!("{}  {first_rest_key}: {{}}\n{}{}", cut.head, cut.rest, cut.tail),
            // A section in the tail that the head has too.
            format!("{base}hosts:\n  again: {{}}\n"),
            // An alias in the rest to an anchor in the head.
            base.replacen("vcpus: 2", "vcpus: &two 2", 1).replacen(
                &format!("{first_rest_key}:\n    host"),
                &format!("{first_rest_key}:\n    n: *two\n    host"),
                1,
            ),
            // A flow mapping that spans the cut.
            format!("{}  extra: {{ a: 1,\n{}{}", cut.head, cut.rest, cut.tail),
            // A second document in the tail.
            format!("{base}---\nmore: 1\n"),
        ];
        for text in &cases {
            assert_eq!(parse_in_parts_from(text, 0), None, "{text:.60}");
        }
    }

    #[test]
    fn positions_in_every_piece_are_those_of_the_file() {
        let text = file(200);
        let node = parse_in_parts_from(&text, 0).unwrap();
        let services = node.get("services").unwrap();
        let NodeValue::Mapping(entries) = &services.value else { panic!("not a mapping") };
        let (key, value) = entries.last().unwrap();
        let line = u32::try_from(text.lines().count()).unwrap();
        assert_eq!((key.text.as_str(), key.position.line, key.position.column), ("s199", line, 3));
        assert_eq!(value.position.line, line);
    }
}
