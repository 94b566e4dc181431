//! Reading a large TOML file on two threads: where the file cuts cleanly, and reading the pieces.
//!
//! A desired-state file in TOML is a few top-level keys, then tables (`[hosts]`, `[vms]`…) of one
//! line per resource. Such a file cuts before a line of a table `[NAME]`, near its middle: the
//! head (everything before the cut) is read on this thread while the rest, with the header
//! `[NAME]` put back in front of it, is read on a second one; the trees join in `cut`.
//!
//! A cut only ever saves time. Files with multi-line strings are not cut (a header inside one
//! would mislead the search), and whenever a piece fails to read or the pieces do not join
//! plainly, the caller reads the file whole, so every error and every tree is exactly that of a
//! whole read.

use super::cut::{self, MIN_BYTES};
use super::from_toml::{Piece, parse_piece};
use super::node::{Node, NodeValue};
use super::source_file::SourceFile;

/// Reads `source` in two pieces on two threads, when it is large and cuts cleanly; `None` when
/// it must be read whole.
pub(super) fn parse_in_parts(source: &SourceFile) -> Option<Node> {
    parse_in_parts_from(source, MIN_BYTES)
}

fn parse_in_parts_from(source: &SourceFile, min_bytes: usize) -> Option<Node> {
    let cut = Cut::find(source, min_bytes)?;
    let table = cut.table;
    let (head, rest) = std::thread::scope(|scope| {
        let second = std::thread::Builder::new().spawn_scoped(scope, || parse_piece(source, &cut.rest()).ok());
        let head = parse_piece(source, &cut.head()).ok();
        (head, second.ok().and_then(|handle| handle.join().ok().flatten()))
    });
    let (head, rest) = (head?, rest?);
    // The rest opens with the header put back in front of it.
    let NodeValue::Mapping(mut tables) = rest.value else { return None };
    if tables.first().is_none_or(|(key, _)| key.text != table) {
        return None;
    }
    let (_, cut_table) = tables.remove(0);
    let NodeValue::Mapping(entries) = cut_table.value else { return None };
    cut::join(head, table, entries, tables)
}

/// A large file cut in two pieces.
pub(super) struct Cut<'a> {
    /// The file's text.
    text: &'a str,
    /// Where the second piece starts in the file.
    at: usize,
    /// The table the cut falls in.
    table: &'a str,
    /// The second piece: the table's header, then the file from `at`.
    rest: String,
}

impl<'a> Cut<'a> {
    /// Where `source` cuts cleanly, when it is at least `min_bytes` long.
    pub(super) fn find(source: &'a SourceFile, min_bytes: usize) -> Option<Self> {
        let (at, table) = find_cut(&source.text, min_bytes)?;
        Some(Self { text: &source.text, at, table, rest: format!("[{table}]\n{}", &source.text[at..]) })
    }

    /// The first piece: the file up to the cut.
    pub(super) fn head(&self) -> Piece<'a> {
        Piece { text: &self.text[..self.at], start: 0, header_len: 0 }
    }

    /// The second piece: the cut table's header, which is not in the file, then the rest.
    pub(super) fn rest(&self) -> Piece<'_> {
        Piece { text: &self.rest, start: self.at, header_len: self.rest.len() - (self.text.len() - self.at) }
    }
}

/// Where `text` cuts cleanly: the byte offset of the first key line past its middle inside a
/// table with a plain header (`[vms]`), and that table's name.
fn find_cut(text: &str, min_bytes: usize) -> Option<(usize, &str)> {
    let has = |needle: &[u8]| memchr::memmem::find(text.as_bytes(), needle).is_some();
    if text.len() < min_bytes || has(b"\"\"\"") || has(b"'''") {
        return None;
    }
    let middle = text.len() / 2;
    let mut table: Option<&str> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        match line.bytes().next() {
            Some(b'[') => table = plain_header(line),
            Some(byte) if start >= middle && (byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-')) => {
                if let Some(table) = table {
                    return Some((start, table));
                }
            }
            _ => {}
        }
    }
    None
}

/// The name in a header line `[name]` (a comment may follow); `None` for any other header.
fn plain_header(line: &str) -> Option<&str> {
    let (name, after) = line.strip_prefix('[')?.split_once(']')?;
    let after = after.trim();
    let is_bare =
        !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'));
    (is_bare && (after.is_empty() || after.starts_with('#'))).then_some(name)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::diagnostic::Position;

    /// A file like the users' at `count` lines a table.
    fn file(count: usize) -> String {
        let mut text = String::from("version = 1\nproject = \"lab\"\n\n[hosts]\n");
        for index in 0..count {
            writeln!(text, "h{index} = {{ ssh = \"root@192.0.2.{}\", host_key = \"ssh-ed25519 AAAA\" }}", index % 250)
                .unwrap();
        }
        text.push_str("\n[vms]\n# sized for tests\n");
        for index in 0..count {
            writeln!(text, "vm{index} = {{ host = \"h{index}\", vcpus = 2, memory = \"2GiB\" }}").unwrap();
        }
        text.push_str("[services]\n");
        for index in 0..count {
            writeln!(text, "s{index} = {{ type = \"nats\", runs_on = \"vm.vm{index}\" }}").unwrap();
        }
        text
    }

    fn whole(source: &SourceFile) -> Node {
        parse_piece(source, &Piece { text: &source.text, start: 0, header_len: 0 }).unwrap()
    }

    #[test]
    fn a_file_cut_in_pieces_reads_as_the_whole_file() {
        let source = SourceFile::new("rave.toml", file(300));
        let (at, table) = find_cut(&source.text, 0).unwrap();
        assert_eq!(table, "vms");
        assert!(at >= source.text.len() / 2 && source.text[at..].starts_with("vm"));
        let node = parse_in_parts_from(&source, 0).unwrap();
        assert_eq!(node, whole(&source));
        let (key, _) = node.get("services").unwrap().entry("s299").unwrap();
        let line = u32::try_from(source.text.lines().count()).unwrap();
        assert_eq!(key.position, Position { line, column: 1 });
    }

    #[test]
    fn small_files_and_files_with_multi_line_strings_are_read_whole() {
        assert_eq!(find_cut(&file(300), MIN_BYTES), None);
        let multi_line = format!("{}note = \"\"\"\n[vms]\n\"\"\"\n", file(300));
        assert_eq!(find_cut(&multi_line, 0), None);
    }

    #[test]
    fn pieces_that_do_not_join_plainly_leave_the_whole_read_to_judge() {
        let base = file(100);
        let (at, _) = find_cut(&base, 0).unwrap();
        let cases = [
            // The cut table written again further down.
            format!("{base}[vms]\nagain = {{}}\n"),
            // A table in the rest that the head has too.
            format!("{base}[hosts.extra]\nssh = \"root@192.0.2.1\"\n"),
            // A key on both sides of the cut.
            format!("{}vm0 = {{}}\n{}", &base[..at], &base[at..]),
            // An inline table that spans the cut.
            format!("{}extra = [\n{}]\n", &base[..at], &base[at..]),
        ];
        for text in &cases {
            assert_eq!(parse_in_parts_from(&SourceFile::new("rave.toml", text), 0), None, "{:.60}", &text[at..]);
        }
    }

    #[test]
    fn only_plain_headers_open_a_table_to_cut() {
        assert_eq!(plain_header("[vms]\n"), Some("vms"));
        assert_eq!(plain_header("[vms] # the guests\n"), Some("vms"));
        for line in ["[vms.a]\n", "[[vms]]\n", "[\"vms\"]\n", "[]\n", "[vms] x\n"] {
            assert_eq!(plain_header(line), None, "{line}");
        }
    }
}
