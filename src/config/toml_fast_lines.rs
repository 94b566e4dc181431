//! Positions for the fast TOML reader (`toml_fast`): the line and column in the file of each place
//! it asks about, kept up as it reads front to back instead of looked up one by one.
//!
//! The reader tells it of each `\n` it passes and asks only about places on the line it is on,
//! in order. Columns count characters as [`SourceFile::position`] does: on text that is all ASCII
//! a column is a subtraction; otherwise the characters since the last place asked about are
//! counted. A piece of a file (`toml_cut`) may open with a header that is not in the file; places
//! in it are where `from_toml` puts them, counted from the file's start.

use super::from_toml::Piece;
use super::source_file::SourceFile;
use crate::diagnostic::Position;

/// Where the reader is, in lines and columns of the file.
pub(super) struct Lines<'a> {
    source: &'a SourceFile,
    /// The piece's text.
    text: &'a str,
    /// Where the piece's text after its header starts in the file.
    start: usize,
    /// The length of the piece's header that is not in the file.
    header_len: usize,
    /// Whether the piece after its header is all ASCII, so that a column is a byte count.
    is_ascii: bool,
    /// The line the reader is on.
    line: u32,
    /// Where that line starts in the piece (or where the piece's own text starts, when the file's
    /// line starts before it), and the column (from 0) there.
    line_start: (usize, usize),
    /// The last place on the line asked about, and its column (from 0).
    mark: (usize, usize),
}

impl<'a> Lines<'a> {
    /// Positions in `piece` of `source`, the reader at the piece's start.
    pub(super) fn new(source: &'a SourceFile, piece: &Piece<'a>) -> Self {
        let first = source.position_by_counting(piece.start);
        let column = usize::try_from(first.column).map_or(0, |column| column.saturating_sub(1));
        Self {
            source,
            text: piece.text,
            start: piece.start,
            header_len: piece.header_len,
            is_ascii: piece.text.as_bytes().get(piece.header_len..).is_some_and(<[u8]>::is_ascii),
            line: first.line,
            line_start: (piece.header_len, column),
            mark: (piece.header_len, column),
        }
    }

    /// The reader passes the `\n` at `offset` of the piece.
    pub(super) fn newline(&mut self, offset: usize) {
        if offset >= self.header_len {
            self.line = self.line.saturating_add(1);
            self.line_start = (offset + 1, 0);
            self.mark = self.line_start;
        }
    }

    /// The position in the file of `offset` of the piece, a character boundary on the line the
    /// reader is on (or in the header).
    pub(super) fn position(&mut self, offset: usize) -> Position {
        if offset < self.header_len {
            return self.source.position_by_counting((offset + self.start).saturating_sub(self.header_len));
        }
        if offset < self.mark.0 {
            self.mark = self.line_start;
        }
        let (mark, column) = self.mark;
        let counted = if self.is_ascii { offset - mark } else { self.text[mark..offset].chars().count() };
        self.mark = (offset, column + counted);
        Position { line: self.line, column: u32::try_from(column + counted + 1).unwrap_or(u32::MAX) }
    }
}
