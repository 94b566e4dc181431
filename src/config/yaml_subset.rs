//! A fast reader for the common subset of YAML that desired-state files are written in. It
//! produces the very events `saphyr_parser::Parser` produces for that text (the same events in
//! the same order, each with the same start position), so `from_yaml`'s builder reads either
//! source alike.
//!
//! saphyr scans character by character through a queue of tokens, and most of a large file's read
//! went there. This reader goes over the bytes once, by recursive descent (the cursor and the
//! scalars are `yaml_cursor`'s), and borrows from the text every scalar that needs no unescaping.
//! It knows only this subset: block mappings and
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
use super::yaml_cursor::{Cursor, is_blank_or_end};

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
    Reader { cursor: Cursor::new(text)?, depth: 0, sink }.document()
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

/// The reading state: where in the text, how deep, and where the events go.
struct Reader<'a, S> {
    cursor: Cursor<'a>,
    /// Collections open.
    depth: usize,
    sink: S,
}

impl<'a, S: FnMut(Event<'a>, Marker) -> Step> Reader<'a, S> {
    /// `--- ` (optional), one node, the end of the text.
    fn document(&mut self) -> Step {
        self.emit(Event::StreamStart, Marker::new(0, 1, 0))?;
        self.cursor.skip_to_token();
        if self.cursor.is_at_end() {
            // No document: saphyr's stream has none, and the builder's error is saphyr's to give.
            return Err(Fallback);
        }
        let start = self.cursor.mark();
        if self.cursor.is_at_document_marker(b'-') {
            self.emit(Event::DocumentStart(true), start)?;
            self.cursor.advance(3);
            self.end_line()?;
            if self.cursor.is_at_end() {
                return Err(Fallback);
            }
        } else {
            self.check_not_document_marker()?;
            self.emit(Event::DocumentStart(false), start)?;
        }
        self.node(self.cursor.column())?;
        if !self.cursor.is_at_end() {
            return Err(Fallback);
        }
        let end = self.cursor.end_mark();
        self.emit(Event::DocumentEnd, end)?;
        self.emit(Event::StreamEnd, end)
    }

    /// A node in block context at the cursor, which is at column `column` (on its own line, or
    /// after `- `). Leaves the cursor at the next token.
    fn node(&mut self, column: usize) -> Step {
        if self.cursor.is_at_block_entry() {
            return self.block_sequence(column, false);
        }
        if matches!(self.cursor.peek(), b'[' | b'{') {
            self.flow_collection()?;
            return self.end_block_flow();
        }
        let scalar = self.block_scalar()?;
        if self.cursor.is_at_value_indicator() {
            return self.block_mapping(column, scalar);
        }
        self.emit_scalar(scalar)?;
        self.end_line()
    }

    /// The value written after `key: ` on the key's line: a scalar or a flow collection.
    fn inline_value(&mut self) -> Step {
        if matches!(self.cursor.peek(), b'[' | b'{') {
            self.flow_collection()?;
            return self.end_block_flow();
        }
        let scalar = self.block_scalar()?;
        if self.cursor.peek() == b':' {
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
            if self.cursor.offset() - key.offset > MAX_KEY_BYTES {
                return Err(Fallback);
            }
            self.emit_scalar(key)?;
            let colon = self.cursor.mark();
            self.cursor.advance(1);
            if self.cursor.is_line_done()? {
                self.cursor.skip_to_token();
                self.check_not_document_marker()?;
                if self.cursor.is_at_end() {
                    self.emit_empty(colon)?;
                } else if self.cursor.column() > indent {
                    self.node(self.cursor.column())?;
                } else if self.cursor.column() == indent && self.cursor.is_at_block_entry() {
                    self.block_sequence(indent, true)?;
                } else {
                    self.emit_empty(colon)?;
                }
            } else {
                self.inline_value()?;
            }
            if self.cursor.is_at_end() || self.cursor.column() < indent {
                return self.close_block(Event::MappingEnd, indent);
            }
            if self.cursor.column() > indent {
                return Err(Fallback);
            }
            key = self.block_scalar()?;
            if !self.cursor.is_at_value_indicator() {
                return Err(Fallback);
            }
        }
    }

    /// A block sequence whose first `-` is at the cursor, at column `indent`. An indentless one
    /// is the value of a key at that same column.
    fn block_sequence(&mut self, indent: usize, is_indentless: bool) -> Step {
        let dash = self.cursor.mark();
        let mut is_first = true;
        loop {
            self.cursor.advance(1);
            let is_line_done = self.cursor.is_line_done()?;
            // saphyr places an entry (and an indentless sequence) after the `-` and its spaces.
            let entry = self.cursor.mark();
            if is_first {
                self.open(Event::SequenceStart(0, None), if is_indentless { entry } else { dash })?;
                is_first = false;
            }
            if is_line_done {
                self.cursor.skip_to_token();
                self.check_not_document_marker()?;
                if !self.cursor.is_at_end() && self.cursor.column() > indent {
                    self.node(self.cursor.column())?;
                } else {
                    self.emit_empty(entry)?;
                }
            } else {
                self.node(self.cursor.column())?;
            }
            if self.cursor.is_at_end() {
                return self.close_block(Event::SequenceEnd, indent);
            }
            let column = self.cursor.column();
            if column == indent && self.cursor.is_at_block_entry() {
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
        let mark = self.cursor.mark();
        let offset = self.cursor.offset();
        let (text, style) = match self.cursor.peek() {
            quote @ (b'\'' | b'"') => {
                let text = self.cursor.quoted(quote)?;
                self.cursor.skip_spaces();
                if self.cursor.peek() == b':' && !is_blank_or_end(self.cursor.peek_at(1)) {
                    return Err(Fallback);
                }
                (text, quote_style(quote))
            }
            _ if self.cursor.can_start_plain(false) => (self.cursor.plain(false)?, ScalarStyle::Plain),
            _ => return Err(Fallback),
        };
        Ok(Scalar { text, style, mark, offset })
    }

    /// After a flow collection in block context: nothing but a comment may follow on its line.
    fn end_block_flow(&mut self) -> Step {
        self.cursor.skip_spaces();
        if self.cursor.peek() == b':' {
            return Err(Fallback);
        }
        self.end_line()
    }

    /// A flow collection at the cursor, closed on the same line.
    fn flow_collection(&mut self) -> Step {
        if self.cursor.peek() == b'[' { self.flow_sequence() } else { self.flow_mapping() }
    }

    /// `[a, b, ]`.
    fn flow_sequence(&mut self) -> Step {
        let start = self.cursor.mark();
        self.open(Event::SequenceStart(0, None), start)?;
        self.cursor.advance(1);
        self.flow_spaces()?;
        if self.cursor.peek() != b']' {
            loop {
                self.flow_node()?;
                self.flow_spaces()?;
                match self.cursor.peek() {
                    b',' => {
                        self.cursor.advance(1);
                        self.flow_spaces()?;
                        if self.cursor.peek() == b']' {
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
        self.cursor.advance(1);
        Ok(())
    }

    /// `{a: b, c, d: }`.
    fn flow_mapping(&mut self) -> Step {
        let start = self.cursor.mark();
        self.open(Event::MappingStart(0, None), start)?;
        self.cursor.advance(1);
        self.flow_spaces()?;
        if self.cursor.peek() != b'}' {
            loop {
                let is_quoted = matches!(self.cursor.peek(), b'\'' | b'"');
                let key = self.flow_scalar()?;
                self.emit_scalar(key)?;
                self.flow_spaces()?;
                match self.cursor.peek() {
                    b':' => {
                        // After a plain key, `:[` and `:{` are errors; after a quoted one, JSON's
                        // `"a":[` is fine.
                        if !is_quoted && matches!(self.cursor.peek_at(1), b'[' | b'{') {
                            return Err(Fallback);
                        }
                        let colon = self.cursor.mark();
                        self.cursor.advance(1);
                        self.flow_spaces()?;
                        if matches!(self.cursor.peek(), b',' | b'}') {
                            self.emit_empty(colon)?;
                        } else {
                            self.flow_node()?;
                            self.flow_spaces()?;
                        }
                    }
                    // A key without `:` has an empty value, placed where the next token starts.
                    b',' | b'}' => {
                        let next = self.cursor.mark();
                        self.emit_empty(next)?;
                    }
                    _ => return Err(Fallback),
                }
                match self.cursor.peek() {
                    b',' => {
                        // saphyr ends a mapping with a trailing comma at the comma.
                        let comma = self.cursor.mark();
                        self.cursor.advance(1);
                        self.flow_spaces()?;
                        if self.cursor.peek() == b'}' {
                            self.depth -= 1;
                            self.emit(Event::MappingEnd, comma)?;
                            self.cursor.advance(1);
                            return Ok(());
                        }
                    }
                    b'}' => break,
                    _ => return Err(Fallback),
                }
            }
        }
        self.close_flow(Event::MappingEnd)?;
        self.cursor.advance(1);
        Ok(())
    }

    /// A value inside a flow collection: a scalar or a nested collection.
    fn flow_node(&mut self) -> Step {
        if matches!(self.cursor.peek(), b'[' | b'{') {
            return self.flow_collection();
        }
        let scalar = self.flow_scalar()?;
        self.emit_scalar(scalar)
    }

    /// A plain or quoted scalar inside a flow collection.
    fn flow_scalar(&mut self) -> Result<Scalar<'a>, Fallback> {
        let mark = self.cursor.mark();
        let offset = self.cursor.offset();
        let (text, style) = match self.cursor.peek() {
            quote @ (b'\'' | b'"') => (self.cursor.quoted(quote)?, quote_style(quote)),
            _ if self.cursor.can_start_plain(true) => (self.cursor.plain(true)?, ScalarStyle::Plain),
            _ => return Err(Fallback),
        };
        Ok(Scalar { text, style, mark, offset })
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
        let mark = self.cursor.mark();
        self.emit(event, mark)
    }

    /// Passes the end of a block collection at column `indent` on, placed where the next token
    /// starts, as saphyr does. At the end of the text, saphyr first closes the collections right
    /// of where the text ends, there, then the others at [`Cursor::end_mark`].
    fn close_block(&mut self, event: Event<'a>, indent: usize) -> Step {
        self.depth -= 1;
        let mark = self.cursor.mark();
        let mark = if self.cursor.is_at_end() && indent <= mark.col() { self.cursor.end_mark() } else { mark };
        self.emit(event, mark)
    }

    /// Passes an event on.
    fn emit(&mut self, event: Event<'a>, mark: Marker) -> Step {
        (self.sink)(event, mark)
    }

    /// Passes a scalar on, where it starts.
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
        if !self.cursor.is_line_done()? {
            return Err(Fallback);
        }
        self.cursor.skip_to_token();
        self.check_not_document_marker()
    }

    /// Spaces inside a flow collection; its end of line, or a comment, is left to saphyr.
    fn flow_spaces(&mut self) -> Step {
        self.cursor.skip_spaces();
        if matches!(self.cursor.peek(), b'\n' | b'#' | 0) { Err(Fallback) } else { Ok(()) }
    }

    /// A line starting with `---` or `...` ends the document: left to saphyr.
    fn check_not_document_marker(&self) -> Step {
        if self.cursor.is_at_document_marker(b'-') || self.cursor.is_at_document_marker(b'.') {
            return Err(Fallback);
        }
        Ok(())
    }
}

/// The style of a scalar quoted with `quote`.
fn quote_style(quote: u8) -> ScalarStyle {
    if quote == b'\'' { ScalarStyle::SingleQuoted } else { ScalarStyle::DoubleQuoted }
}
