//! The cursor of `yaml_subset`'s reader: a byte offset in the text, its line, and positions
//! counted as saphyr counts them; moving over spaces, comments and line ends; reading plain and
//! quoted scalars on one line. Which token may come where is the reader's business.

use std::borrow::Cow;

use saphyr_parser::Marker;

use super::yaml_subset::Fallback;

/// Bytes that may end a plain scalar's run of characters: bit 0 in block context, bit 1 in a flow
/// collection. A `:` ends it only before a space (or a flow indicator, in a flow collection).
const PLAIN_BREAKS: [u8; 256] = {
    let mut table = [0; 256];
    table[b' ' as usize] = 3;
    table[b'\n' as usize] = 3;
    table[b':' as usize] = 3;
    table[b',' as usize] = 2;
    table[b'[' as usize] = 2;
    table[b']' as usize] = 2;
    table[b'{' as usize] = 2;
    table[b'}' as usize] = 2;
    table
};

/// A position in YAML text, moved forward as it is read.
pub(super) struct Cursor<'a> {
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
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`; [`Fallback`] when the text holds a tab, `\r` or another
    /// control character, or a byte order mark, which change how saphyr counts and splits lines.
    pub(super) fn new(text: &'a str) -> Result<Self, Fallback> {
        let is_ascii = text.is_ascii();
        if has_control(text.as_bytes()) || (!is_ascii && text.contains('\u{feff}')) {
            return Err(Fallback);
        }
        Ok(Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            is_ascii,
            counted: (0, 0),
            line_start_index: 0,
        })
    }

    /// The byte at the cursor; 0 at the end of the text (which holds no NUL).
    pub(super) fn peek(&self) -> u8 {
        self.peek_at(0)
    }

    /// The byte `ahead` bytes past the cursor; 0 past the end of the text.
    pub(super) fn peek_at(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    /// Steps over `count` bytes of one line.
    pub(super) fn advance(&mut self, count: usize) {
        self.pos += count;
    }

    /// Whether the cursor is past the last byte.
    pub(super) fn is_at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Byte offset of the cursor.
    pub(super) fn offset(&self) -> usize {
        self.pos
    }

    /// The cursor's column in bytes. Only a line's indentation and what follows `- ` are
    /// measured with it, and both are all ASCII before the cursor.
    pub(super) fn column(&self) -> usize {
        self.pos - self.line_start
    }

    /// `-` followed by a space, a line end or the end of the text.
    pub(super) fn is_at_block_entry(&self) -> bool {
        self.peek() == b'-' && is_blank_or_end(self.peek_at(1))
    }

    /// `:` followed by a space, a line end or the end of the text.
    pub(super) fn is_at_value_indicator(&self) -> bool {
        self.peek() == b':' && is_blank_or_end(self.peek_at(1))
    }

    /// `---` or `...` (`byte` three times) starting a line, then a space or a line end.
    pub(super) fn is_at_document_marker(&self, byte: u8) -> bool {
        self.pos == self.line_start
            && self.bytes[self.pos..].starts_with(&[byte; 3])
            && is_blank_or_end(self.peek_at(3))
    }

    /// The cursor's position as saphyr counts it: characters from the start of the text and of
    /// the line, lines from 1.
    pub(super) fn mark(&mut self) -> Marker {
        if self.is_ascii {
            return Marker::new(self.pos, self.line, self.pos - self.line_start);
        }
        let index = self.char_index(self.pos);
        Marker::new(index, self.line, index - self.line_start_index)
    }

    /// Where saphyr places the end of the text: at column 0 of the line after the last, unless
    /// the text ends with a line end.
    pub(super) fn end_mark(&mut self) -> Marker {
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

    /// Moves over spaces (not line ends).
    pub(super) fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.pos += 1;
        }
    }

    /// Moves to the end of the line.
    fn skip_comment(&mut self) {
        self.pos = self.bytes[self.pos..]
            .iter()
            .position(|&byte| byte == b'\n')
            .map_or(self.bytes.len(), |end| self.pos + end);
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

    /// Skips spaces and a comment after a token; whether the line ends there.
    pub(super) fn is_line_done(&mut self) -> Result<bool, Fallback> {
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

    /// Moves over spaces, line ends and comments to the next token, or the end of the text.
    /// Called only at the start of a line or of the text, or where a comment may start.
    pub(super) fn skip_to_token(&mut self) {
        loop {
            match self.peek() {
                b' ' => self.pos += 1,
                b'\n' => self.new_line(),
                b'#' => self.skip_comment(),
                _ => return,
            }
        }
    }

    /// Whether a plain scalar read here may start at the cursor. Indicators (`-`, `?` and `:`
    /// before a space, `[]{},#&*!|>'"%@` and backquote) start something else, or an error;
    /// inside a flow collection, `?` and `:` starting a scalar are left to saphyr.
    pub(super) fn can_start_plain(&self, in_flow: bool) -> bool {
        let next = self.peek_at(1);
        match self.peek() {
            b'-' => !(is_blank_or_end(next) || in_flow && is_flow_indicator(next)),
            b'?' | b':' => !in_flow && !is_blank_or_end(next),
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
            | b'`' | b' ' | b'\n' | 0 => false,
            _ => true,
        }
    }

    /// A plain scalar on one line, its first character checked by [`Self::can_start_plain`].
    /// It ends before `: ` (or `:` at the end of the line), before ` #`, at the end of the line,
    /// and in a flow collection before `,[]{}` and `:` followed by one of them. Its trailing
    /// spaces are not part of it; the cursor is left after them.
    pub(super) fn plain(&mut self, in_flow: bool) -> Result<Cow<'a, str>, Fallback> {
        let start = self.pos;
        let context = if in_flow { 2 } else { 1 };
        let ends_at_colon = |next: u8| is_blank_or_end(next) || (in_flow && is_flow_indicator(next));
        loop {
            // A run of characters.
            loop {
                let rest = &self.bytes[self.pos..];
                self.pos +=
                    rest.iter().position(|&byte| PLAIN_BREAKS[usize::from(byte)] & context != 0).unwrap_or(rest.len());
                if self.peek() == b':' && !ends_at_colon(self.peek_at(1)) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            let end = self.pos;
            self.skip_spaces();
            let next = self.peek_at(1);
            match self.peek() {
                b'#' | b'\n' | 0 => {}
                b':' if ends_at_colon(next) => {}
                b',' | b'[' | b']' | b'{' | b'}' if in_flow => {}
                // saphyr refuses `[a -]`.
                b'-' if in_flow && is_flow_indicator(next) => return Err(Fallback),
                // Spaces inside the scalar: it goes on.
                _ => continue,
            }
            return match &self.text[start..end] {
                // `<<` merge keys are left to saphyr (and to reading files whole, see `yaml_cut`).
                "<<" => Err(Fallback),
                scalar => Ok(Cow::Borrowed(scalar)),
            };
        }
    }

    /// A quoted scalar on one line, the cursor at its opening quote (`quote`); the cursor is left
    /// after the closing one. Borrowed unless it has escapes.
    pub(super) fn quoted(&mut self, quote: u8) -> Result<Cow<'a, str>, Fallback> {
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
}

/// Whether `bytes` hold a control character other than `\n`, eight bytes at a time.
fn has_control(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH_BITS: u64 = u64::from_le_bytes([0x80; 8]);
    let is_control = |byte: &u8| *byte < b' ' && *byte != b'\n';
    let (words, rest) = bytes.as_chunks::<8>();
    words.iter().any(|word| {
        let value = u64::from_le_bytes(*word);
        // Some byte is below 0x20 (`\n` among them): look closer.
        value.wrapping_sub(ONES * 0x20) & !value & HIGH_BITS != 0 && word.iter().any(is_control)
    }) || rest.iter().any(is_control)
}

/// Characters in UTF-8 `bytes`: those that do not continue one.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| byte & 0xC0 != 0x80).count()
}

/// A space, a line end, or (as [`Cursor::peek`] gives it) the end of the text.
pub(super) fn is_blank_or_end(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | 0)
}

/// A character that ends a plain scalar in a flow collection.
fn is_flow_indicator(byte: u8) -> bool {
    matches!(byte, b',' | b'[' | b']' | b'{' | b'}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_anywhere() {
        assert!(!has_control(b"a: 1\nb: [x, y]\n# comment\n"));
        for at in 0..20 {
            for control in [b'\t', b'\r', 0, 0x1f] {
                let mut text = b"abcdefghij\nklmnopqrs".to_vec();
                text[at] = control;
                assert!(has_control(&text), "{at} {control}");
            }
        }
    }

    #[test]
    fn marks_count_characters() {
        let mut cursor = Cursor::new("é: ü\nab").unwrap();
        cursor.advance(2);
        assert_eq!((cursor.mark().index(), cursor.mark().col()), (1, 1));
        cursor.advance(4);
        cursor.skip_to_token();
        assert_eq!((cursor.mark().index(), cursor.mark().line(), cursor.mark().col()), (5, 2, 0));
        cursor.advance(2);
        assert_eq!((cursor.end_mark().line(), cursor.end_mark().col()), (3, 0));
    }
}
