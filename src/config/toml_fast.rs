//! A fast reader for the TOML that rave files are written in, beside `toml`, which stays the
//! reader of everything else and the judge of this one.
//!
//! It reads the common subset of TOML front to back, straight into the [`Node`] tree that
//! `from_toml`'s reading through `toml`'s `DeTable` makes (same values, key order and positions),
//! counting lines and columns as it goes instead of looking each position up. Whatever it does
//! not know, and everything that is not valid TOML, it declines (`None`), and the piece is then
//! read by `toml` exactly as before: so it never reports an error and cannot change what users
//! see; it only saves time. `toml_fast_tests` holds it to that against `toml` on every kind of
//! input. See `docs/decisions/0013-a-fast-path-for-toml.md`.
//!
//! The subset: `\n` line ends, comments, blank lines; headers `[a.b]` and `[[a.b]]` of bare or
//! quoted keys (each table defined once; `[a]` after `[a.b]` as TOML allows); `key = value` with
//! bare, quoted (without escapes) and dotted keys; one-line strings, basic (with escapes) and
//! literal; decimal integers that fit in 64 bits; floats written with digits; `true` and `false`;
//! arrays and inline tables over any number of lines, with comments and trailing commas as `toml`
//! accepts them. Not in it: multi-line strings, dates and times, `inf` and `nan`, integers in
//! other bases, dotted keys in inline tables, nesting past [`MAX_DEPTH`].

use std::collections::HashMap;

use super::from_toml::Piece;
use super::from_yaml::MAX_DEPTH;
use super::node::{Key, Node, NodeValue};
use super::source_file::SourceFile;
use super::toml_fast_lines::Lines;
use crate::diagnostic::Position;

/// Reads `piece` of `source` into the tree that `toml` and `from_toml`'s converter make of it,
/// positions in the file; `None` when the text leaves the subset, or is not valid TOML.
pub(super) fn read(source: &SourceFile, piece: &Piece<'_>) -> Option<Node> {
    let mut lines = Lines::new(source, piece);
    let root = Table::new(Kind::Explicit, 0, lines.position(0));
    let mut reader = Reader { text: piece.text, bytes: piece.text.as_bytes(), at: 0, lines, tables: vec![root] };
    reader.document()?;
    if reader.tables[0].entries.is_empty() {
        // `from_toml` says the file is empty.
        return None;
    }
    Some(reader.take_node(0))
}

/// How a table read from headers and dotted keys came to be; it decides what may extend it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The root, named by a header `[a.b]`, or an element of an array of tables `[[a.b]]`.
    Explicit,
    /// Made on the way to a header's table (`a` of `[a.b]`), until a header names it.
    Implicit,
    /// Made by a dotted key (`a` of `a.b = 1`).
    Dotted,
}

/// A table that headers and dotted keys can still reach, while the text is read.
struct Table<'a> {
    kind: Kind,
    /// How many tables and arrays it is in (the root is in none).
    depth: usize,
    /// Where the table starts: its header's `[`, or the key that made it.
    position: Position,
    /// Its entries in the order read; put in file order at the end.
    entries: Vec<Entry>,
    /// The index in `entries` of each key.
    names: HashMap<&'a str, usize>,
}

impl Table<'_> {
    fn new(kind: Kind, depth: usize, position: Position) -> Self {
        Self { kind, depth, position, entries: Vec::new(), names: HashMap::new() }
    }
}

/// A key of a [`Table`] and its value.
struct Entry {
    /// Where the key is in the piece: `toml`'s converter orders entries by it.
    offset: usize,
    key: Key,
    value: Slot,
}

/// The value of an [`Entry`].
enum Slot {
    /// A value written after `=`: final.
    Value(Node),
    /// A table of the reader's list, which later lines may extend.
    Table(usize),
    /// An array of tables `[[a]]`: where its first header starts, and its tables.
    Tables { position: Position, elements: Vec<usize> },
}

/// A key as written: its text, where it starts in the piece, and its position.
#[derive(Clone, Copy)]
struct KeyRead<'a> {
    name: &'a str,
    offset: usize,
    position: Position,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// The next byte to read.
    at: usize,
    lines: Lines<'a>,
    /// The root (0), and every table made by a header or a dotted key.
    tables: Vec<Table<'a>>,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Steps over `byte` when it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn position(&mut self, offset: usize) -> Position {
        self.lines.position(offset)
    }

    /// The whole text: lines of headers, keys, comments or nothing.
    fn document(&mut self) -> Option<()> {
        let mut current = 0;
        loop {
            self.skip_spaces();
            match self.peek() {
                None => return Some(()),
                Some(b'\n') => self.newline(),
                Some(b'#') => self.comment()?,
                Some(b'[') => {
                    current = self.header()?;
                    self.end_of_line()?;
                }
                Some(_) => {
                    self.key_value(current)?;
                    self.end_of_line()?;
                }
            }
        }
    }

    /// A header `[a.b]` or `[[a.b]]`: the table the lines after it go into.
    fn header(&mut self) -> Option<usize> {
        let position = self.position(self.at);
        self.at += 1;
        let is_array = self.eat(b'[');
        let mut table = 0;
        loop {
            self.skip_spaces();
            let key = self.key()?;
            self.skip_spaces();
            if self.eat(b']') {
                return if !is_array {
                    self.define(table, key, position)
                } else if self.eat(b']') {
                    self.append(table, key, position)
                } else {
                    None
                };
            }
            if !self.eat(b'.') {
                return None;
            }
            table = self.descend(table, key, Kind::Implicit)?;
        }
    }

    /// The table `key` names in `table` on the way to a header's table or a dotted key's value,
    /// made as `kind` when missing.
    fn descend(&mut self, table: usize, key: KeyRead<'a>, kind: Kind) -> Option<usize> {
        if let Some(&index) = self.tables[table].names.get(key.name) {
            // `toml` lets a header go through any table not written inline (into the last table
            // of an array of them), and a dotted key only through tables made by dotted keys.
            return match &self.tables[table].entries[index].value {
                &Slot::Table(child) if kind == Kind::Implicit || self.tables[child].kind == Kind::Dotted => Some(child),
                Slot::Tables { elements, .. } if kind == Kind::Implicit => elements.last().copied(),
                _ => None,
            };
        }
        let position = key.position;
        self.insert_table(table, key, kind, position)
    }

    /// The table a header names as `key` in `table`: new, or one only made on the way to another
    /// header's table so far (`[a]` after `[a.b]`), which then moves to this header.
    fn define(&mut self, table: usize, key: KeyRead<'a>, position: Position) -> Option<usize> {
        let Some(&index) = self.tables[table].names.get(key.name) else {
            return self.insert_table(table, key, Kind::Explicit, position);
        };
        let Slot::Table(child) = self.tables[table].entries[index].value else { return None };
        if self.tables[child].kind != Kind::Implicit {
            return None;
        }
        let entry = &mut self.tables[table].entries[index];
        entry.offset = key.offset;
        entry.key.position = key.position;
        self.tables[child].kind = Kind::Explicit;
        self.tables[child].position = position;
        Some(child)
    }

    /// A new table at the end of the array of tables a header `[[…]]` names as `key` in
    /// `table`, made when missing.
    fn append(&mut self, table: usize, key: KeyRead<'a>, position: Position) -> Option<usize> {
        let element = self.new_table(Kind::Explicit, self.tables[table].depth + 2, position)?;
        match self.tables[table].names.get(key.name) {
            None => self.insert(table, key, Slot::Tables { position, elements: vec![element] }),
            Some(&index) => match &mut self.tables[table].entries[index].value {
                Slot::Tables { elements, .. } => elements.push(element),
                _ => return None,
            },
        }
        Some(element)
    }

    /// Adds a new empty table under `key` to `table`; `None` past [`MAX_DEPTH`].
    fn insert_table(&mut self, table: usize, key: KeyRead<'a>, kind: Kind, position: Position) -> Option<usize> {
        let child = self.new_table(kind, self.tables[table].depth + 1, position)?;
        self.insert(table, key, Slot::Table(child));
        Some(child)
    }

    /// A new empty table in the reader's list; `None` past [`MAX_DEPTH`].
    fn new_table(&mut self, kind: Kind, depth: usize, position: Position) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.tables.push(Table::new(kind, depth, position));
        Some(self.tables.len() - 1)
    }

    /// Adds `key` and `value` to `table`, which has no such key yet.
    fn insert(&mut self, table: usize, key: KeyRead<'a>, value: Slot) {
        let table = &mut self.tables[table];
        table.names.insert(key.name, table.entries.len());
        let text = key.name.to_owned();
        table.entries.push(Entry { offset: key.offset, key: Key { text, position: key.position }, value });
    }

    /// `key = value` in `table`; the key may be dotted.
    fn key_value(&mut self, mut table: usize) -> Option<()> {
        let mut key = self.key()?;
        self.skip_spaces();
        while self.eat(b'.') {
            self.skip_spaces();
            table = self.descend(table, key, Kind::Dotted)?;
            key = self.key()?;
            self.skip_spaces();
        }
        if !self.eat(b'=') || self.tables[table].names.contains_key(key.name) {
            return None;
        }
        self.skip_spaces();
        let value = self.value(self.tables[table].depth + 1)?;
        self.insert(table, key, Slot::Value(value));
        Some(())
    }

    /// A bare key, or a quoted one without escapes.
    fn key(&mut self) -> Option<KeyRead<'a>> {
        let offset = self.at;
        let position = self.position(offset);
        let quote = self.peek()?;
        if matches!(quote, b'"' | b'\'') {
            self.at += 1;
            let end = self.string_end(quote)?;
            if self.bytes[end] == b'\\' {
                return None;
            }
            self.at = end + 1;
            return Some(KeyRead { name: &self.text[offset + 1..end], offset, position });
        }
        let length = self.bytes[offset..]
            .iter()
            .take_while(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'))
            .count();
        self.at += length;
        (length > 0).then(|| KeyRead { name: &self.text[offset..offset + length], offset, position })
    }

    /// A value at `depth` (the root's entries are at 1).
    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let position = self.position(self.at);
        let value = match self.peek()? {
            b'"' => NodeValue::String(self.basic_string()?),
            b'\'' => NodeValue::String(self.literal_string()?),
            b'[' => NodeValue::Sequence(self.array(depth)?),
            b'{' => NodeValue::Mapping(self.inline_table(depth)?),
            _ => self.scalar()?,
        };
        Some(Node { value, position })
    }

    /// `"…"` on one line, escapes decoded; the reader is at the `"`.
    fn basic_string(&mut self) -> Option<String> {
        if self.bytes[self.at..].starts_with(b"\"\"\"") {
            return None;
        }
        self.at += 1;
        let mut text = String::new();
        loop {
            let end = self.string_end(b'"')?;
            text.push_str(&self.text[self.at..end]);
            self.at = end + 1;
            if self.bytes[end] == b'"' {
                return Some(text);
            }
            text.push(self.escape()?);
        }
    }

    /// `'…'` on one line; the reader is at the `'`.
    fn literal_string(&mut self) -> Option<String> {
        if self.bytes[self.at..].starts_with(b"'''") {
            return None;
        }
        self.at += 1;
        let end = self.string_end(b'\'')?;
        let text = self.text[self.at..end].to_owned();
        self.at = end + 1;
        Some(text)
    }

    /// Where the string from the reader on ends: the closing `quote`, or (in a basic string) a
    /// backslash; `None` at a line end or any other character TOML refuses in a string.
    fn string_end(&self, quote: u8) -> Option<usize> {
        let length = self.bytes[self.at..].iter().position(|&byte| {
            byte == quote || (quote == b'"' && byte == b'\\') || (byte < 0x20 && byte != b'\t') || byte == 0x7f
        })?;
        let end = self.at + length;
        matches!(self.bytes[end], b'"' | b'\'' | b'\\').then_some(end)
    }

    /// The character an escape after a backslash stands for; the reader is after the backslash.
    fn escape(&mut self) -> Option<char> {
        let letter = self.peek()?;
        self.at += 1;
        let digits = match letter {
            b'"' => return Some('"'),
            b'\\' => return Some('\\'),
            b'b' => return Some('\u{8}'),
            b'e' => return Some('\u{1b}'),
            b'f' => return Some('\u{c}'),
            b'n' => return Some('\n'),
            b'r' => return Some('\r'),
            b't' => return Some('\t'),
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => return None,
        };
        let hex = self.bytes.get(self.at..self.at + digits)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let code = u32::from_str_radix(&self.text[self.at..self.at + digits], 16).ok()?;
        self.at += digits;
        char::from_u32(code)
    }

    /// `[…]`, its items at `depth + 1`; the reader is at the `[`.
    fn array(&mut self, depth: usize) -> Option<Vec<Node>> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            if self.eat(b']') {
                return Some(items);
            }
            items.push(self.value(depth + 1)?);
            self.skip_blank()?;
            if !self.eat(b',') {
                return self.eat(b']').then_some(items);
            }
        }
    }

    /// `{…}`, its values at `depth + 1`; the reader is at the `{`.
    fn inline_table(&mut self, depth: usize) -> Option<Vec<(Key, Node)>> {
        self.at += 1;
        let mut entries: Vec<(Key, Node)> = Vec::new();
        loop {
            self.skip_blank()?;
            if self.eat(b'}') {
                return Some(entries);
            }
            let key = self.key()?;
            self.skip_spaces();
            // A key met twice, or more keys than a linear search should go through.
            if !self.eat(b'=') || entries.len() >= 64 || entries.iter().any(|(known, _)| known.text == key.name) {
                return None;
            }
            self.skip_spaces();
            let value = self.value(depth + 1)?;
            entries.push((Key { text: key.name.to_owned(), position: key.position }, value));
            self.skip_blank()?;
            if !self.eat(b',') {
                return self.eat(b'}').then_some(entries);
            }
        }
    }

    /// `true`, `false`, an integer or a float: everything up to the next space, comment or
    /// separator must read as one of them.
    fn scalar(&mut self) -> Option<NodeValue> {
        let start = self.at;
        let length = self.bytes[start..]
            .iter()
            .position(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'#' | b',' | b']' | b'}'))
            .unwrap_or(self.bytes.len() - start);
        self.at += length;
        match &self.text[start..self.at] {
            "true" => Some(NodeValue::Bool(true)),
            "false" => Some(NodeValue::Bool(false)),
            token => super::toml_fast_number::number(token),
        }
    }

    /// Spaces and tabs.
    fn skip_spaces(&mut self) {
        self.at += self.bytes[self.at..].iter().take_while(|byte| matches!(byte, b' ' | b'\t')).count();
    }

    /// Spaces, tabs, comments and line ends, as between the items of an array.
    fn skip_blank(&mut self) -> Option<()> {
        loop {
            self.skip_spaces();
            match self.peek() {
                Some(b'\n') => self.newline(),
                Some(b'#') => self.comment()?,
                _ => return Some(()),
            }
        }
    }

    /// What may end a line after a header or a key's value: a comment, then the line end.
    fn end_of_line(&mut self) -> Option<()> {
        self.skip_spaces();
        if self.peek() == Some(b'#') {
            self.comment()?;
        }
        matches!(self.peek(), None | Some(b'\n')).then_some(())
    }

    /// A comment up to (not including) its line end; `None` for a character TOML refuses in one.
    fn comment(&mut self) -> Option<()> {
        let rest = &self.bytes[self.at..];
        let length = rest.iter().position(|&byte| byte == b'\n').unwrap_or(rest.len());
        if rest[..length].iter().any(|&byte| (byte < 0x20 && byte != b'\t') || byte == 0x7f) {
            return None;
        }
        self.at += length;
        Some(())
    }

    /// Steps over the `\n` the reader is at.
    fn newline(&mut self) {
        self.lines.newline(self.at);
        self.at += 1;
    }

    /// Table `index` of the reader's list as a [`Node`], its entries in file order.
    fn take_node(&mut self, index: usize) -> Node {
        let mut entries = std::mem::take(&mut self.tables[index].entries);
        entries.sort_by_key(|entry| entry.offset);
        let entries = entries
            .into_iter()
            .map(|entry| {
                let value = match entry.value {
                    Slot::Value(node) => node,
                    Slot::Table(child) => self.take_node(child),
                    Slot::Tables { position, elements } => {
                        let elements = elements.into_iter().map(|element| self.take_node(element)).collect();
                        Node { value: NodeValue::Sequence(elements), position }
                    }
                };
                (entry.key, value)
            })
            .collect();
        Node { value: NodeValue::Mapping(entries), position: self.tables[index].position }
    }
}
