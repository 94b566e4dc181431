//! The desired-state file as text: reading it within bounds, and turning byte offsets into
//! `line:column` positions for messages.
//!
//! Reading refuses files over [`MAX_FILE_BYTES`] without reading them whole, and text that is not
//! UTF-8, naming the line and column of the first bad byte. Parsing is not done here.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

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
    /// Byte offset where each line starts, for positions in logarithmic time.
    line_starts: Vec<usize>,
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
            Self::TooLarge => write!(
                f,
                "the file is larger than {} MiB, the most rave reads",
                MAX_FILE_BYTES / 1024 / 1024
            ),
            Self::NotUtf8 { .. } => write!(f, "the file is not UTF-8 text"),
        }
    }
}

impl ReadError {
    /// This error as a diagnostic about the file at `path`.
    pub(crate) fn into_diagnostic(self, path: &Path) -> Diagnostic {
        let location = match &self {
            Self::NotUtf8 { position } => Location::at(path, *position),
            Self::Io(_) | Self::TooLarge => Location {
                file: path.to_path_buf(),
                position: None,
            },
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
        let text = text.into();
        let line_starts = line_starts(&text);
        Self {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// Reads the file at `path`, refusing it when too large or not UTF-8.
    pub(crate) fn read(path: &Path) -> Result<Self, ReadError> {
        let file = std::fs::File::open(path).map_err(ReadError::Io)?;
        // One byte past the limit tells "too large" apart from "exactly at the limit" without
        // reading the rest of a huge file.
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(ReadError::Io)?;
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
                Err(ReadError::NotUtf8 {
                    position: position_in(prefix, &line_starts(prefix), valid),
                })
            }
        }
    }

    /// The line and column (in characters, both from 1) of `byte_offset`. An offset past the end,
    /// or inside a character, is moved back to the nearest character boundary.
    pub(crate) fn position(&self, byte_offset: usize) -> Position {
        position_in(&self.text, &self.line_starts, byte_offset)
    }

    /// Line `n` (from 1) without its line ending, if the file has that many lines.
    pub(crate) fn line(&self, n: u32) -> Option<&str> {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(index)?;
        let end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        let line = &self.text[start..end];
        let line = line.strip_suffix('\n').unwrap_or(line);
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

/// Byte offsets where lines start: 0, then after every `\n`.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(index, _)| index + 1))
        .collect()
}

/// The position of `byte_offset` in `text`, whose lines start at `line_starts`.
fn position_in(text: &str, line_starts: &[usize], byte_offset: usize) -> Position {
    let mut offset = byte_offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let index = line_starts
        .partition_point(|start| *start <= offset)
        .saturating_sub(1);
    let start = line_starts.get(index).copied().unwrap_or(0);
    let column = text[start..offset].chars().count() + 1;
    Position {
        line: u32::try_from(index + 1).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
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
        let error =
            SourceFile::from_bytes(Path::new("rave.yaml"), b"a: 1\nbb: \xff\xfe\n".to_vec())
                .unwrap_err();
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
        assert_eq!(
            error.to_string(),
            "the file is larger than 16 MiB, the most rave reads"
        );
    }

    #[test]
    fn a_file_at_the_limit_is_read() {
        let bytes = vec![b'#'; usize::try_from(MAX_FILE_BYTES).unwrap()];
        assert!(SourceFile::from_bytes(Path::new("rave.yaml"), bytes).is_ok());
        let bytes = vec![b'#'; usize::try_from(MAX_FILE_BYTES).unwrap() + 1];
        assert!(matches!(
            SourceFile::from_bytes(Path::new("rave.yaml"), bytes),
            Err(ReadError::TooLarge)
        ));
    }

    #[test]
    fn a_missing_file_says_so() {
        let error = SourceFile::read(Path::new("/nonexistent/rave.yaml")).unwrap_err();
        assert!(error.to_string().starts_with("cannot read the file: "));
    }
}
