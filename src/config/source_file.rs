//! The desired-state file as text: reading it within bounds, and turning byte offsets into
//! `line:column` positions for messages.
//!
//! Reading refuses files over [`MAX_FILE_BYTES`] without reading them whole, and text that is not
//! UTF-8, naming the line and column of the first bad byte. Parsing is not done here.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::diagnostic::{Diagnostic, Location, Position};

/// The largest desired-state file rave reads: 16 MiB, far above any real file, low enough that a
/// stray multi-gigabyte file fails at once instead of exhausting memory.
pub(crate) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The desired-state file's path and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFile {
    /// The file as the user named it.
    pub(crate) path: PathBuf,
    /// Its whole text.
    pub(crate) text: String,
    /// Where lines start and how many characters come before each checkpoint; made on first use,
    /// since a YAML file read without problems never asks.
    index: OnceLock<Box<LineIndex>>,
}

/// Why the file's bytes could not be taken as text.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The operating system refused.
    Io(std::io::Error),
    /// Bigger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// Not UTF-8; the position of the first bad byte.
    NotUtf8 {
        /// Where the first byte that is not UTF-8 is.
        position: Position,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(error) => write!(f, "cannot read the file: {error}"),
            Self::TooLarge => {
                write!(f, "the file is larger than {} MiB, the most rave reads", MAX_FILE_BYTES / 1024 / 1024)
            }
            Self::NotUtf8 { .. } => write!(f, "the file is not UTF-8 text"),
        }
    }
}

impl ReadError {
    /// This error as a diagnostic about the file at `path`.
    pub(crate) fn into_diagnostic(self, path: &Path) -> Diagnostic {
        let location = match &self {
            Self::NotUtf8 { position } => Location::at(path, *position),
            Self::Io(_) | Self::TooLarge => Location { file: path.to_path_buf(), position: None },
        };
        let hint = match &self {
            Self::Io(_) => None,
            Self::TooLarge => Some("a desired-state file this large is almost certainly not one"),
            Self::NotUtf8 { .. } => Some("save the file as UTF-8"),
        };
        let diagnostic = Diagnostic::error(location, self.to_string());
        match hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    }
}

impl SourceFile {
    /// A source file from its path and text.
    pub(crate) fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self { path: path.into(), text: text.into(), index: OnceLock::new() }
    }

    /// Reads the file at `path`, refusing it when too large or not UTF-8.
    pub(crate) fn read(path: &Path) -> Result<Self, ReadError> {
        let file = std::fs::File::open(path).map_err(ReadError::Io)?;
        // One byte past the limit tells "too large" apart from "exactly at the limit" without
        // reading the rest of a huge file.
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
        Self::from_bytes(path, bytes)
    }

    /// Takes `bytes` read from `path` as the file's text.
    pub(crate) fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self, ReadError> {
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(ReadError::TooLarge);
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Self::new(path, text)),
            Err(error) => {
                let valid = error.utf8_error().valid_up_to();
                let bytes = error.into_bytes();
                // The prefix before the bad byte is valid, so this cannot fail; it is checked anyway.
                let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
                Err(ReadError::NotUtf8 { position: LineIndex::new(prefix).position(prefix, valid) })
            }
        }
    }

    /// The line and column (in characters, both from 1) of `byte_offset`. An offset past the end,
    /// or inside a character, is moved back to the nearest character boundary.
    pub(crate) fn position(&self, byte_offset: usize) -> Position {
        self.index().position(&self.text, byte_offset)
    }

    /// The same as [`position`](Self::position), counted from the start of the text instead of
    /// looked up in the index, which is built over the whole text on first use: cheaper when only
    /// a few positions are asked of a large file (`toml_fast_lines`).
    pub(crate) fn position_by_counting(&self, byte_offset: usize) -> Position {
        let before = &self.text[..floor_boundary(&self.text, byte_offset)];
        let line_start = before.rfind('\n').map_or(0, |index| index + 1);
        // Counted 255 bytes at a time into one byte, which the compiler turns into vector code.
        let line = before
            .as_bytes()
            .chunks(255)
            .map(|chunk| usize::from(chunk.iter().fold(0_u8, |count, &byte| count + u8::from(byte == b'\n'))))
            .sum::<usize>()
            + 1;
        let column = before[line_start..].chars().count() + 1;
        Position { line: u32::try_from(line).unwrap_or(u32::MAX), column: u32::try_from(column).unwrap_or(u32::MAX) }
    }

    fn index(&self) -> &LineIndex {
        self.index.get_or_init(|| Box::new(LineIndex::new(&self.text)))
    }

    /// Line `n` (from 1) without its line ending, if the file has that many lines.
    pub(crate) fn line(&self, n: u32) -> Option<&str> {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        let line_starts = &self.index().line_starts;
        let start = *line_starts.get(index)?;
        let end = line_starts.get(index + 1).copied().unwrap_or(self.text.len());
        let line = &self.text[start..end];
        let line = line.strip_suffix('\n').unwrap_or(line);
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

/// Bytes between character-count checkpoints: a column costs at most this much counting, even
/// on a multi-megabyte single line.
const CHECKPOINT_BYTES: usize = 256;

/// Line starts and character counts of a text, so that any byte offset becomes a line and
/// column in logarithmic time plus a bounded count.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LineIndex {
    /// Byte offset where each line starts: 0, then after every `\n`.
    line_starts: Vec<usize>,
    /// Characters before checkpoint `k`, the last character boundary at or before
    /// `k * CHECKPOINT_BYTES`.
    chars_before: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(index, _)| index + 1)).collect();
        let mut chars_before = Vec::with_capacity(text.len() / CHECKPOINT_BYTES + 1);
        let mut count = 0;
        let mut previous = 0;
        for checkpoint in (0..=text.len()).step_by(CHECKPOINT_BYTES) {
            let boundary = floor_boundary(text, checkpoint);
            count += text[previous..boundary].chars().count();
            chars_before.push(count);
            previous = boundary;
        }
        Self { line_starts, chars_before }
    }

    /// Characters in `text` before `offset`, a character boundary.
    fn chars_to(&self, text: &str, offset: usize) -> usize {
        let checkpoint = offset / CHECKPOINT_BYTES;
        let boundary = floor_boundary(text, checkpoint * CHECKPOINT_BYTES);
        self.chars_before.get(checkpoint).copied().unwrap_or(0) + text[boundary..offset].chars().count()
    }

    /// The position of `byte_offset` in `text`.
    fn position(&self, text: &str, byte_offset: usize) -> Position {
        let offset = floor_boundary(text, byte_offset.min(text.len()));
        let index = self.line_starts.partition_point(|start| *start <= offset).saturating_sub(1);
        let start = self.line_starts.get(index).copied().unwrap_or(0);
        // On a line of ordinary length the characters are counted from its start; on a long one,
        // from the checkpoints.
        let characters = if offset - start <= CHECKPOINT_BYTES {
            text[start..offset].chars().count()
        } else {
            self.chars_to(text, offset) - self.chars_to(text, start)
        };
        let column = characters + 1;
        Position {
            line: u32::try_from(index + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

/// The last character boundary of `text` at or before `offset` (at most its length).
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let source = SourceFile::new("rave.yaml", "a: 1\nbé: 2\r\n\nlast");
        assert_eq!(source.position(0), at(1, 1));
        assert_eq!(source.position(3), at(1, 4));
        assert_eq!(source.position(5), at(2, 1));
        // `é` is two bytes: the `:` after it is the third character.
        assert_eq!(source.position(8), at(2, 3));
        // Inside `é`: moved back to its start.
        assert_eq!(source.position(7), at(2, 2));
        assert_eq!(source.position(13), at(3, 1));
        assert_eq!(source.position(1000), at(4, 5));
    }

    #[test]
    fn positions_by_counting_are_the_positions() {
        let source = SourceFile::new("rave.toml", format!("a = 1\nbé = 2\r\n\n{}x\nlast", "é".repeat(300)));
        for offset in 0..=source.text.len() + 2 {
            assert_eq!(source.position_by_counting(offset), source.position(offset), "{offset}");
        }
    }

    #[test]
    fn positions_on_a_huge_line_are_cheap_and_right() {
        let line = "é".repeat(1_000_000);
        let source = SourceFile::new("rave.toml", format!("a\n{line}x"));
        let started = std::time::Instant::now();
        for offset in (2..2_000_002).step_by(2_001) {
            assert_eq!(source.position(offset), at(2, u32::try_from(offset / 2).unwrap()));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(source.position(2_000_002), at(2, 1_000_001));
    }

    #[test]
    fn lines_come_without_their_endings() {
        let source = SourceFile::new("rave.yaml", "a: 1\r\nb: 2\n\nlast");
        assert_eq!(source.line(1), Some("a: 1"));
        assert_eq!(source.line(2), Some("b: 2"));
        assert_eq!(source.line(3), Some(""));
        assert_eq!(source.line(4), Some("last"));
        assert_eq!(source.line(5), None);
        assert_eq!(source.line(0), None);
    }

    #[test]
    fn invalid_utf8_is_placed_at_the_first_bad_byte() {
        let error = SourceFile::from_bytes(Path::new("rave.yaml"), b"a: 1\nbb: \xff\xfe\n".to_vec()).unwrap_err();
        assert!(matches!(error, ReadError::NotUtf8 { position } if position == at(2, 5)));
        let diagnostic = error.into_diagnostic(Path::new("rave.yaml"));
        assert_eq!(diagnostic.location.to_string(), "rave.yaml:2:5");
        assert_eq!(diagnostic.message, "the file is not UTF-8 text");
    }

    #[test]
    fn a_huge_file_is_refused_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rave.yaml");
        let file = std::fs::File::create(&path).unwrap();
        // Sparse: 100 MB on paper, nothing on disk.
        file.set_len(100_000_000).unwrap();
        let started = std::time::Instant::now();
        let error = SourceFile::read(&path).unwrap_err();
        assert!(matches!(error, ReadError::TooLarge));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(error.to_string(), "the file is larger than 16 MiB, the most rave reads");
    }

    #[test]
    fn a_file_at_the_limit_is_read() {
        let bytes = vec![b'#'; usize::try_from(MAX_FILE_BYTES).unwrap()];
        assert!(SourceFile::from_bytes(Path::new("rave.yaml"), bytes).is_ok());
        let bytes = vec![b'#'; usize::try_from(MAX_FILE_BYTES).unwrap() + 1];
        assert!(matches!(SourceFile::from_bytes(Path::new("rave.yaml"), bytes), Err(ReadError::TooLarge)));
    }

    #[test]
    fn a_missing_file_says_so() {
        let error = SourceFile::read(Path::new("/nonexistent/rave.yaml")).unwrap_err();
        assert!(error.to_string().starts_with("cannot read the file: "));
    }
}
