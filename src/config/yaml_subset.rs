//! A fast reader for the common subset of YAML that desired-state files are written in. It
//! produces the very events `saphyr_parser::Parser` produces for that text (the same events in
//! the same order, each with the same start position), so `from_yaml`'s builder reads either
//! source alike.
//!
//! saphyr scans character by character through a queue of tokens, and most of a large file's read
//! went there. This reader goes over the bytes once, by recursive descent, and borrows from the
//! text every scalar that needs no unescaping. It knows only this subset: block mappings and
//! block sequences (compact ones and sequences under a key at the key's indentation included),
//! flow mappings and flow sequences on one line, plain and quoted scalars on one line, comments,
//! blank lines and a leading `---`. On anything else (anchors, aliases, tags, block scalars,
//! `?` keys, scalars or flows over several lines, tabs, `\r`, control characters, a byte order
//! mark, directives, `...`, a second document, any syntax error) it stops with [`Fallback`], and
//! the caller reads the text with saphyr instead; so does it when the event sink refuses an
//! event. Stopping is always safe: it only costs time. What is read here must be exactly what
//! saphyr reads; `yaml_subset_tests` compares the two on every file, on tricky cases and on
//! generated text.

use std::borrow::Cow;

use saphyr_parser::{Event, Marker, ScalarStyle};

use super::from_yaml::MAX_DEPTH;

/// The reader gave up: the text is outside its subset, or the sink refused an event. The text
/// must then be read by saphyr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fallback;

/// The outcome of one step of reading.
type Step = Result<(), Fallback>;

/// Longest simple key read here, in bytes from its start to its `:`. saphyr stops taking a
/// scalar as a key past 1024 characters; keys this long are left to it.
const MAX_KEY_BYTES: usize = 1000;

/// Reads `text`, one YAML document, passing each event and the position it starts at to
/// `sink`, from `StreamStart` to `StreamEnd`. Stops with [`Fallback`] as soon as the text leaves
/// the subset or `sink` returns an error; the events passed until then must be discarded.
pub(super) fn read<'a>(text: &'a str, sink: impl FnMut(Event<'a>, Marker) -> Step) -> Step {
    let bytes = text.as_bytes();
    // Tabs, `\r` and other control characters change how saphyr counts and splits lines, and
    // a byte order mark is a token of its own: all are left to it.
    if bytes.iter().any(|&byte| byte < b' ' && byte != b'\n') || text.contains('\u{feff}') {
        return Err(Fallback);
    }
    let mut reader = Reader {
        text,
        bytes,
        pos: 0,
        line: 1,
        line_start: 0,
        is_ascii: text.is_ascii(),
        counted: (0, 0),
        line_start_index: 0,
        depth: 0,
        sink,
    };
    reader.document()
}

/// A scalar read but not yet passed on: a key waits until its `:` is seen.
struct Scalar<'a> {
    /// Its value.
    text: Cow<'a, str>,
    /// How it was written.
    style: ScalarStyle,
    /// Where it starts.
    mark: Marker,
    /// The byte offset it starts at.
    offset: usize,
}

/// The reading state: a cursor in the text and where its line starts.
struct Reader<'a, S> {
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the cursor.
    pos: usize,
    /// The cursor's line, from 1.
    line: usize,
    /// Byte offset where the cursor's line starts.
    line_start: usize,
    /// Whether byte offsets are character indexes, as they are in ASCII text.
    is_ascii: bool,
    /// In other text, a byte offset and its character index, moved along as marks are taken.
    counted: (usize, usize),
    /// In other text, the character index of `line_start`.
    line_start_index: usize,
    /// Collections open.
    depth: usize,
    sink: S,
}

impl<'a, S: FnMut(Event<'a>, Marker) -> Step> Reader<'a, S> {
    /// `--- ` (optional), one node, the end of the text.
    fn document(&mut self) -> Step {
        self.emit(Event::StreamStart, Marker::new(0, 1, 0))?;
        self.skip_to_token();
        if self.is_at_end() {
            // No document: saphyr's stream has none, and the builder's error is saphyr's to give.
            return Err(Fallback);
        }
        let start = self.mark();
        if self.is_at_document_marker(b'-') {
            self.emit(Event::DocumentStart(true), start)?;
            self.pos += 3;
            self.end_line()?;
            if self.is_at_end() {
                return Err(Fallback);
            }
        } else {
            self.check_not_document_marker()?;
            self.emit(Event::DocumentStart(false), start)?;
        }
        self.node(self.column())?;
        if !self.is_at_end() {
            return Err(Fallback);
        }
        let end = self.end_mark();
        self.emit(Event::DocumentEnd, end)?;
        self.emit(Event::StreamEnd, end)
    }

    /// A node in block context at the cursor, which is at column `column` (on its own line, or
    /// after `- `). Leaves the cursor at the next token.
    fn node(&mut self, column: usize) -> Step {
        if self.is_at_block_entry() {
            return self.block_sequence(column, false);
        }
        if matches!(self.peek(), b'[' | b'{') {
            self.flow_collection()?;
            return self.end_block_flow();
        }
        let scalar = self.block_scalar()?;
        if self.is_at_value_indicator() {
            return self.block_mapping(column, scalar);
        }
        self.emit_scalar(scalar)?;
        self.end_line()
    }

    /// The value written after `key: ` on the key's line: a scalar or a flow collection.
    fn inline_value(&mut self) -> Step {
        if matches!(self.peek(), b'[' | b'{') {
            self.flow_collection()?;
            return self.end_block_flow();
        }
        let scalar = self.block_scalar()?;
        if self.peek() == b':' {
            // `key: a: b` is an error.
            return Err(Fallback);
        }
        self.emit_scalar(scalar)?;
        self.end_line()
    }

    /// A block mapping at column `indent`, whose first key has been read and whose `:` is at the
    /// cursor.
    fn block_mapping(&mut self, indent: usize, first_key: Scalar<'a>) -> Step {
        self.open(Event::MappingStart(0, None), first_key.mark)?;
        let mut key = first_key;
        loop {
            if self.pos - key.offset > MAX_KEY_BYTES {
                return Err(Fallback);
            }
            self.emit_scalar(key)?;
            let colon = self.mark();
            self.pos += 1;
            if self.is_line_done()? {
                self.skip_to_token();
                self.check_not_document_marker()?;
                if self.is_at_end() {
                    self.emit_empty(colon)?;
                } else if self.column() > indent {
                    self.node(self.column())?;
                } else if self.column() == indent && self.is_at_block_entry() {
                    self.block_sequence(indent, true)?;
                } else {
                    self.emit_empty(colon)?;
                }
            } else {
                self.inline_value()?;
            }
            if self.is_at_end() || self.column() < indent {
                return self.close_block(Event::MappingEnd, indent);
            }
            if self.column() > indent {
                return Err(Fallback);
            }
            key = self.block_scalar()?;
            if !self.is_at_value_indicator() {
                return Err(Fallback);
            }
        }
    }

    /// A block sequence whose first `-` is at the cursor, at column `indent`. An indentless one
    /// is the value of a key at that same column.
    fn block_sequence(&mut self, indent: usize, is_indentless: bool) -> Step {
        let dash = self.mark();
        let mut is_first = true;
        loop {
            self.pos += 1;
            let is_line_done = self.is_line_done()?;
            // saphyr places an entry (and an indentless sequence) after the `-` and its spaces.
            let entry = self.mark();
            if is_first {
                self.open(Event::SequenceStart(0, None), if is_indentless { entry } else { dash })?;
                is_first = false;
            }
            if is_line_done {
                self.skip_to_token();
                self.check_not_document_marker()?;
                if !self.is_at_end() && self.column() > indent {
                    self.node(self.column())?;
                } else {
                    self.emit_empty(entry)?;
                }
            } else {
                self.node(self.column())?;
            }
            if self.is_at_end() {
                return self.close_block(Event::SequenceEnd, indent);
            }
            let column = self.column();
            if column == indent && self.is_at_block_entry() {
                continue;
            }
            // Under a key, a sequence at the key's column ends at the next key.
            if column < indent || (column == indent && is_indentless) {
                return self.close_block(Event::SequenceEnd, indent);
            }
            return Err(Fallback);
        }
    }

    /// A plain or quoted scalar in block context, on one line; the cursor is left after it and
    /// the spaces that follow.
    fn block_scalar(&mut self) -> Result<Scalar<'a>, Fallback> {
        let mark = self.mark();
        let offset = self.pos;
        let (text, style) = match self.peek() {
            quote @ (b'\'' | b'"') => {
                let text = self.quoted(quote)?;
                self.skip_spaces();
                if self.peek() == b':' && !is_blank_or_end(self.peek_at(1)) {
                    return Err(Fallback);
                }
                (text, quote_style(quote))
            }
            first if can_start_plain(first, self.peek_at(1), false) => (self.plain(false)?, ScalarStyle::Plain),
            _ => return Err(Fallback),
        };
        Ok(Scalar { text, style, mark, offset })
    }

    /// After a flow collection in block context: nothing but a comment may follow on its line.
    fn end_block_flow(&mut self) -> Step {
        self.skip_spaces();
        if self.peek() == b':' {
            return Err(Fallback);
        }
        self.end_line()
    }

    /// A flow collection at the cursor, closed on the same line.
    fn flow_collection(&mut self) -> Step {
        if self.peek() == b'[' { self.flow_sequence() } else { self.flow_mapping() }
    }

    /// `[a, b, ]`.
    fn flow_sequence(&mut self) -> Step {
        let start = self.mark();
        self.open(Event::SequenceStart(0, None), start)?;
        self.pos += 1;
        self.flow_spaces()?;
        if self.peek() != b']' {
            loop {
                self.flow_node()?;
                self.flow_spaces()?;
                match self.peek() {
                    b',' => {
                        self.pos += 1;
                        self.flow_spaces()?;
                        if self.peek() == b']' {
                            break;
                        }
                    }
                    b']' => break,
                    // `:` here would start an implicit mapping, left to saphyr.
                    _ => return Err(Fallback),
                }
            }
        }
        self.close_flow(Event::SequenceEnd)?;
        self.pos += 1;
        Ok(())
    }

    /// `{a: b, c, d: }`.
    fn flow_mapping(&mut self) -> Step {
        let start = self.mark();
        self.open(Event::MappingStart(0, None), start)?;
        self.pos += 1;
        self.flow_spaces()?;
        if self.peek() != b'}' {
            loop {
                let is_quoted = matches!(self.peek(), b'\'' | b'"');
                let key = self.flow_scalar()?;
                self.emit_scalar(key)?;
                self.flow_spaces()?;
                match self.peek() {
                    b':' => {
                        // After a plain key, `:[` and `:{` are errors; after a quoted one, JSON's
                        // `"a":[` is fine.
                        if !is_quoted && matches!(self.peek_at(1), b'[' | b'{') {
                            return Err(Fallback);
                        }
                        let colon = self.mark();
                        self.pos += 1;
                        self.flow_spaces()?;
                        if matches!(self.peek(), b',' | b'}') {
                            self.emit_empty(colon)?;
                        } else {
                            self.flow_node()?;
                            self.flow_spaces()?;
                        }
                    }
                    // A key without `:` has an empty value, placed where the next token starts.
                    b',' | b'}' => {
                        let next = self.mark();
                        self.emit_empty(next)?;
                    }
                    _ => return Err(Fallback),
                }
                match self.peek() {
                    b',' => {
                        // saphyr ends a mapping with a trailing comma at the comma.
                        let comma = self.mark();
                        self.pos += 1;
                        self.flow_spaces()?;
                        if self.peek() == b'}' {
                            self.depth -= 1;
                            self.emit(Event::MappingEnd, comma)?;
                            self.pos += 1;
                            return Ok(());
                        }
                    }
                    b'}' => break,
                    _ => return Err(Fallback),
                }
            }
        }
        self.close_flow(Event::MappingEnd)?;
        self.pos += 1;
        Ok(())
    }

    /// A value inside a flow collection: a scalar or a nested collection.
    fn flow_node(&mut self) -> Step {
        if matches!(self.peek(), b'[' | b'{') {
            return self.flow_collection();
        }
        let scalar = self.flow_scalar()?;
        self.emit_scalar(scalar)
    }

    /// A plain or quoted scalar inside a flow collection.
    fn flow_scalar(&mut self) -> Result<Scalar<'a>, Fallback> {
        let mark = self.mark();
        let offset = self.pos;
        let (text, style) = match self.peek() {
            quote @ (b'\'' | b'"') => (self.quoted(quote)?, quote_style(quote)),
            first if can_start_plain(first, self.peek_at(1), true) => (self.plain(true)?, ScalarStyle::Plain),
            _ => return Err(Fallback),
        };
        Ok(Scalar { text, style, mark, offset })
    }

    /// A plain scalar on one line; its first character has been checked. It ends before `: `
    /// (or `:` at the end of the line), before ` #`, at the end of the line, and in a flow
    /// collection before `,[]{}` and `:` followed by one of them. Its trailing spaces are not
    /// part of it; the cursor is left after them.
    fn plain(&mut self, in_flow: bool) -> Result<Cow<'a, str>, Fallback> {
        let start = self.pos;
        let text = self.text;
        let scalar = |end: usize| match &text[start..end] {
            // `<<` merge keys are left to saphyr (and to reading files whole, see `yaml_cut`).
            "<<" => Err(Fallback),
            scalar => Ok(Cow::Borrowed(scalar)),
        };
        loop {
            while let Some(&byte) = self.bytes.get(self.pos) {
                let ends = match byte {
                    b' ' | b'\n' => true,
                    b':' => {
                        let next = self.peek_at(1);
                        is_blank_or_end(next) || (in_flow && is_flow_indicator(next))
                    }
                    b',' | b'[' | b']' | b'{' | b'}' => in_flow,
                    _ => false,
                };
                if ends {
                    break;
                }
                self.pos += 1;
            }
            let end = self.pos;
            self.skip_spaces();
            let next = self.peek_at(1);
            match self.peek() {
                b'#' | b'\n' | 0 => return scalar(end),
                b':' if is_blank_or_end(next) || (in_flow && is_flow_indicator(next)) => return scalar(end),
                b',' | b'[' | b']' | b'{' | b'}' if in_flow => return scalar(end),
                // saphyr refuses `[a -]`.
                b'-' if in_flow && is_flow_indicator(next) => return Err(Fallback),
                // Spaces inside the scalar: it goes on.
                _ => {}
            }
        }
    }

    /// A quoted scalar on one line, the cursor at its opening quote; the cursor is left after
    /// the closing one. Borrowed unless it has escapes.
    fn quoted(&mut self, quote: u8) -> Result<Cow<'a, str>, Fallback> {
        self.pos += 1;
        let start = self.pos;
        let mut unescaped: Option<String> = None;
        let mut run = start;
        loop {
            match self.peek() {
                b'\n' | 0 => return Err(Fallback),
                b'\'' if quote == b'\'' && self.peek_at(1) == b'\'' => {
                    let text = unescaped.get_or_insert_with(String::new);
                    text.push_str(&self.text[run..=self.pos]);
                    self.pos += 2;
                    run = self.pos;
                }
                b'\\' if quote == b'"' => {
                    let (character, length) = self.escape()?;
                    let text = unescaped.get_or_insert_with(String::new);
                    text.push_str(&self.text[run..self.pos]);
                    text.push(character);
                    self.pos += length;
                    run = self.pos;
                }
                byte if byte == quote => break,
                _ => self.pos += 1,
            }
        }
        let text = match unescaped {
            None => Cow::Borrowed(&self.text[start..self.pos]),
            Some(mut text) => {
                text.push_str(&self.text[run..self.pos]);
                Cow::Owned(text)
            }
        };
        self.pos += 1;
        Ok(text)
    }

    /// The escape at the cursor in a double-quoted scalar, as saphyr resolves it, and its length.
    fn escape(&self) -> Result<(char, usize), Fallback> {
        let character = match self.peek_at(1) {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            code @ (b'x' | b'u' | b'U') => {
                let digits = match code {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = self.bytes.get(self.pos + 2..self.pos + 2 + digits).ok_or(Fallback)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(Fallback);
                }
                let hex = std::str::from_utf8(hex).map_err(|_| Fallback)?;
                let value = u32::from_str_radix(hex, 16).map_err(|_| Fallback)?;
                return Ok((char::from_u32(value).ok_or(Fallback)?, 2 + digits));
            }
            // An escaped line break continues the scalar on the next line.
            _ => return Err(Fallback),
        };
        Ok((character, 2))
    }

    /// Passes a collection's start on, counting its depth.
    fn open(&mut self, event: Event<'a>, mark: Marker) -> Step {
        if self.depth >= MAX_DEPTH {
            return Err(Fallback);
        }
        self.depth += 1;
        self.emit(event, mark)
    }

    /// Passes the end of a flow collection on, at its closing bracket.
    fn close_flow(&mut self, event: Event<'a>) -> Step {
        self.depth -= 1;
        let mark = self.mark();
        self.emit(event, mark)
    }

    /// Passes the end of a block collection at column `indent` on, placed where the next token
    /// starts, as saphyr does. At the end of the text, saphyr first closes the collections right
    /// of where the text ends, there, then the others at [`Self::end_mark`].
    fn close_block(&mut self, event: Event<'a>, indent: usize) -> Step {
        self.depth -= 1;
        let mark = self.mark();
        let mark = if self.is_at_end() && indent <= mark.col() { self.end_mark() } else { mark };
        self.emit(event, mark)
    }

    fn emit(&mut self, event: Event<'a>, mark: Marker) -> Step {
        (self.sink)(event, mark)
    }

    fn emit_scalar(&mut self, scalar: Scalar<'a>) -> Step {
        self.emit(Event::Scalar(scalar.text, scalar.style, 0, None), scalar.mark)
    }

    /// An empty value, which saphyr passes on as an empty plain scalar.
    fn emit_empty(&mut self, mark: Marker) -> Step {
        self.emit(Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, 0, None), mark)
    }

    /// The rest of the line after a token must be spaces and maybe a comment; moves to the next
    /// token.
    fn end_line(&mut self) -> Step {
        if !self.is_line_done()? {
            return Err(Fallback);
        }
        self.skip_to_token();
        self.check_not_document_marker()
    }

    /// Skips spaces and a comment after a token; whether the line ends there.
    fn is_line_done(&mut self) -> Result<bool, Fallback> {
        self.skip_spaces();
        if self.peek() == b'#' {
            if self.bytes.get(self.pos.wrapping_sub(1)) != Some(&b' ') {
                // saphyr wants a comment apart from the token before it.
                return Err(Fallback);
            }
            self.skip_comment();
        }
        Ok(matches!(self.peek(), b'\n' | 0))
    }

    /// Spaces inside a flow collection; its end of line, or a comment, is left to saphyr.
    fn flow_spaces(&mut self) -> Step {
        self.skip_spaces();
        if matches!(self.peek(), b'\n' | b'#' | 0) { Err(Fallback) } else { Ok(()) }
    }

    /// Moves over spaces, line ends and comments to the next token, or the end of the text.
    /// Called only at the start of a line or of the text, or where a comment may start.
    fn skip_to_token(&mut self) {
        loop {
            match self.peek() {
                b' ' => self.pos += 1,
                b'\n' => self.new_line(),
                b'#' => self.skip_comment(),
                _ => return,
            }
        }
    }

    /// A line starting with `---` or `...` ends the document: left to saphyr.
    fn check_not_document_marker(&self) -> Step {
        if self.is_at_document_marker(b'-') || self.is_at_document_marker(b'.') {
            return Err(Fallback);
        }
        Ok(())
    }

    fn is_at_document_marker(&self, byte: u8) -> bool {
        self.pos == self.line_start
            && self.bytes[self.pos..].starts_with(&[byte; 3])
            && is_blank_or_end(self.peek_at(3))
    }

    fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.pos += 1;
        }
    }

    fn skip_comment(&mut self) {
        while !matches!(self.peek(), b'\n' | 0) {
            self.pos += 1;
        }
    }

    /// Steps over the `\n` at the cursor.
    fn new_line(&mut self) {
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
        if !self.is_ascii {
            self.line_start_index = self.char_index(self.pos);
        }
    }

    /// The byte at the cursor; 0 at the end of the text (the text holds no NUL).
    fn peek(&self) -> u8 {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn is_at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// `-` followed by a space, a line end or the end of the text.
    fn is_at_block_entry(&self) -> bool {
        self.peek() == b'-' && is_blank_or_end(self.peek_at(1))
    }

    /// `:` followed by a space, a line end or the end of the text.
    fn is_at_value_indicator(&self) -> bool {
        self.peek() == b':' && is_blank_or_end(self.peek_at(1))
    }

    /// The cursor's column in bytes. Only a line's indentation and what follows `- ` are
    /// measured with it, and both are all ASCII before the cursor.
    fn column(&self) -> usize {
        self.pos - self.line_start
    }

    /// The cursor's position as saphyr counts it: characters from the start of the text and of
    /// the line, lines from 1.
    fn mark(&mut self) -> Marker {
        if self.is_ascii {
            return Marker::new(self.pos, self.line, self.pos - self.line_start);
        }
        let index = self.char_index(self.pos);
        Marker::new(index, self.line, index - self.line_start_index)
    }

    /// Where saphyr places the end of the text: at column 0 of the line after the last, unless
    /// the text ends with a line end.
    fn end_mark(&mut self) -> Marker {
        let mark = self.mark();
        if mark.col() == 0 { mark } else { Marker::new(mark.index(), mark.line() + 1, 0) }
    }

    /// The character index of byte `offset`, counted on from the last one asked for.
    fn char_index(&mut self, offset: usize) -> usize {
        let (from, index) = self.counted;
        let index = if offset >= from {
            index + count_chars(&self.bytes[from..offset])
        } else {
            index - count_chars(&self.bytes[offset..from])
        };
        self.counted = (offset, index);
        index
    }
}

/// Characters in UTF-8 `bytes`: those that do not continue one.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| byte & 0xC0 != 0x80).count()
}

fn is_blank_or_end(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | 0)
}

fn is_flow_indicator(byte: u8) -> bool {
    matches!(byte, b',' | b'[' | b']' | b'{' | b'}')
}

fn quote_style(quote: u8) -> ScalarStyle {
    if quote == b'\'' { ScalarStyle::SingleQuoted } else { ScalarStyle::DoubleQuoted }
}

/// Whether a plain scalar starting with `first`, then `next`, is read here. Indicators (`-`, `?`
/// and `:` before a space, `[]{},#&*!|>'"%@` and backquote) start something else, or an error;
/// inside a flow collection, `?` and `:` starting a scalar are left to saphyr.
fn can_start_plain(first: u8, next: u8, in_flow: bool) -> bool {
    match first {
        b'-' => !is_blank_or_end(next) && !(in_flow && is_flow_indicator(next)),
        b'?' | b':' => !in_flow && !is_blank_or_end(next),
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' | 0 => false,
        _ => true,
    }
}
