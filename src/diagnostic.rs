//! Problems found in the user's file, reported all together.
//!
//! A [`Diagnostic`] is a value, not an error: loading and validation collect every one they find
//! into a `Vec` and the caller prints them at once. Rendering (the `——▶ file:line:col` excerpt) lives
//! here too, so YAML, TOML and semantic errors all look the same. This module does not decide what is
//! wrong; `config` and `model` do.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::SourceFile;

/// A line and column in a source file, both counted from 1, columns in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub(crate) struct Position {
    /// Line number, from 1.
    pub(crate) line: u32,
    /// Column number in characters, from 1.
    pub(crate) column: u32,
}

/// Where a diagnostic points: a file and, when known, a position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    /// The file as the user named it (relative paths stay relative).
    pub(crate) file: PathBuf,
    /// The position in the file, when the problem has one.
    pub(crate) position: Option<Position>,
}

impl Location {
    /// A location at a position in `file`.
    pub(crate) fn at(file: &Path, position: Position) -> Self {
        Self { file: file.to_path_buf(), position: Some(position) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(position) => write!(f, "{}:{}:{}", self.file.display(), position.line, position.column),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// One problem in the user's file that makes it unusable: what is wrong, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    /// What is wrong, lowercase, names in backticks, no trailing period.
    pub(crate) message: String,
    /// Where it is.
    pub(crate) location: Location,
    /// What to do about it, when we can say.
    pub(crate) hint: Option<String>,
}

impl Diagnostic {
    /// An error at `location`.
    pub(crate) fn error(location: Location, message: impl Into<String>) -> Self {
        Self { message: shorten(message.into()), location, hint: None }
    }

    /// Adds a hint saying what to do.
    #[must_use]
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Most diagnostics reported for one file. Past a few dozen nobody reads on; a generated or
/// hostile file with millions of problems must still answer at once.
pub(crate) const MAX_REPORTED: usize = 200;

/// `diagnostics` cut to [`MAX_REPORTED`], with a last one saying how many were left out.
pub(crate) fn limit(mut diagnostics: Vec<Diagnostic>, file: &Path) -> Vec<Diagnostic> {
    if diagnostics.len() > MAX_REPORTED {
        let left_out = diagnostics.len() - MAX_REPORTED;
        diagnostics.truncate(MAX_REPORTED);
        diagnostics.push(left_out_note(left_out, file));
    }
    diagnostics
}

/// The last diagnostic when `left_out` more were found than are reported.
pub(crate) fn left_out_note(left_out: usize, file: &Path) -> Diagnostic {
    let location = Location { file: file.to_path_buf(), position: None };
    Diagnostic::error(location, format!("{left_out} more problems are not shown"))
        .with_hint("fix the ones above and run again")
}

/// Lines longer than this many bytes get no excerpt: finding a column in them would cost more
/// than the excerpt is worth.
const MAX_EXCERPT_LINE: usize = 64 * 1024;

/// Longest message kept whole, in characters. Messages quote what the user wrote, and a
/// megabyte-long key must not make a megabyte-long message.
const MAX_MESSAGE: usize = 500;

/// `message`, cut to [`MAX_MESSAGE`] characters with `…` when longer.
fn shorten(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message,
    }
}

/// A diagnostic as plain text in the shape of just and rustc: the message, an arrow to
/// `file:line:col`, the source line with carets under the offending token, then the hint. Every
/// line ends with a newline. The caller colours the leading `error:` when it wants to.
///
/// ```text
/// error: unknown field `hots` in `vms.gitlab`
///   ——▶ rave.yaml:12:5
///    │
/// 12 │     hots: shoshin
///    │     ^^^^
///    = hint: did you mean `host`?
/// ```
pub(crate) fn render(diagnostic: &Diagnostic, source: Option<&SourceFile>) -> String {
    let snippet = diagnostic.location.position.and_then(|position| {
        let line = source?.line(position.line)?;
        (!line.trim().is_empty() && line.len() <= MAX_EXCERPT_LINE).then_some((position, line))
    });
    let width = snippet.map_or(1, |(position, _)| position.line.to_string().len());
    let gutter = " ".repeat(width + 1);
    let mut lines =
        vec![format!("error: {}", diagnostic.message), format!("{}——▶ {}", " ".repeat(width), diagnostic.location)];
    if let Some((position, line)) = snippet {
        let (shown, column) = excerpt(line, position.column);
        let before: String = shown
            .chars()
            .take(column.saturating_sub(1))
            .map(|character| if character == '\t' { '\t' } else { ' ' })
            .collect();
        let length = token_length(line, position.column).min(shown.chars().count().saturating_sub(column - 1).max(1));
        lines.push(format!("{gutter}│"));
        lines.push(format!("{} │ {shown}", position.line));
        lines.push(format!("{gutter}│ {before}{}", "^".repeat(length)));
    }
    if let Some(hint) = &diagnostic.hint {
        lines.push(format!("{gutter}= hint: {hint}"));
    }
    lines.into_iter().map(|line| line + "\n").collect()
}

/// Longest source line shown whole, in characters; longer ones are cut around the column so a
/// one-line multi-megabyte file still gives a short message.
const MAX_SHOWN_LINE: usize = 120;

/// The part of `line` to show and the column (from 1) of `column` within it.
fn excerpt(line: &str, column: u32) -> (String, usize) {
    let column = column.max(1) as usize;
    let length = line.chars().count();
    if length <= MAX_SHOWN_LINE {
        return (line.to_owned(), column);
    }
    let start = column.saturating_sub(1 + MAX_SHOWN_LINE / 3).min(length.saturating_sub(MAX_SHOWN_LINE));
    let end = start + MAX_SHOWN_LINE;
    let mut shown: String = line.chars().skip(start).take(MAX_SHOWN_LINE).collect();
    let mut column = column - start;
    if start > 0 {
        shown.insert(0, '…');
        column += 1;
    }
    if end < length {
        shown.push('…');
    }
    (shown, column)
}

/// How many characters the token at `column` (from 1) of `line` spans: a quoted string to its
/// closing quote, a flow list or mapping to its closing bracket on the same line, otherwise a
/// word up to a space, a separator or a key's `:`. At least one.
fn token_length(line: &str, column: u32) -> usize {
    let rest: Vec<char> = line.chars().skip(column.saturating_sub(1) as usize).collect();
    let length = match rest.first() {
        None => 0,
        Some(quote @ ('"' | '\'')) => {
            let mut escaped = false;
            rest.iter()
                .enumerate()
                .skip(1)
                .find(|&(_, character)| {
                    let closes = character == quote && !escaped;
                    escaped = *quote == '"' && *character == '\\' && !escaped;
                    closes
                })
                .map_or(rest.len(), |(index, _)| index + 1)
        }
        Some(open @ ('[' | '{')) => {
            let close = if *open == '[' { ']' } else { '}' };
            let mut depth = 0usize;
            rest.iter()
                .position(|character| {
                    if character == open {
                        depth += 1;
                    } else if *character == close {
                        depth -= 1;
                    }
                    depth == 0
                })
                .map_or(1, |index| index + 1)
        }
        Some(_) => rest
            .iter()
            .enumerate()
            .position(|(index, character)| {
                character.is_whitespace()
                    || matches!(character, ',' | ']' | '}' | '=' | '#')
                    || (*character == ':' && rest.get(index + 1).is_none_or(|next| next.is_whitespace()))
            })
            .unwrap_or(rest.len()),
    };
    length.max(1)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn error_at(line: u32, column: u32, message: &str) -> Diagnostic {
        Diagnostic::error(Location::at(Path::new("rave.yaml"), Position { line, column }), message)
    }

    #[test]
    fn renders_like_just_and_rustc() {
        let mut text = String::new();
        for line in 1..=11 {
            writeln!(text, "# line {line}").unwrap();
        }
        text.push_str("    hots: shoshin\n");
        let source = SourceFile::new("rave.yaml", text);
        let diagnostic = error_at(12, 5, "unknown field `hots` in `vms.gitlab`").with_hint("did you mean `host`?");
        assert_eq!(
            render(&diagnostic, Some(&source)),
            "error: unknown field `hots` in `vms.gitlab`\n  ——▶ rave.yaml:12:5\n   │\n12 │     hots: shoshin\n   │     ^^^^\n   = hint: did you mean `host`?\n"
        );
    }

    #[test]
    fn without_source_or_position_only_the_arrow_remains() {
        let diagnostic = Diagnostic::error(
            Location { file: "rave.yaml".into(), position: None },
            "the file is larger than 16 MiB, the most rave reads",
        );
        assert_eq!(
            render(&diagnostic, None),
            "error: the file is larger than 16 MiB, the most rave reads\n ——▶ rave.yaml\n"
        );
        let diagnostic = error_at(3, 1, "oops").with_hint("fix it");
        assert_eq!(render(&diagnostic, None), "error: oops\n ——▶ rave.yaml:3:1\n  = hint: fix it\n");
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("{}bad{}", "[".repeat(300), "]".repeat(300));
        let source = SourceFile::new("rave.yaml", line);
        let rendered = render(&error_at(1, 301, "x"), Some(&source));
        let shown = format!("1 │ …{}bad{}…\n", "[".repeat(40), "]".repeat(77));
        assert!(rendered.contains(&shown), "{rendered}");
        assert!(rendered.contains(&format!("  │ {}^^^\n", " ".repeat(41))), "{rendered}");
        assert!(rendered.len() < 600);
        let rendered = render(&error_at(1, 600, "x"), Some(&source));
        assert!(rendered.contains(&format!("1 │ …{}\n", "]".repeat(120))), "{rendered}");
    }

    #[test]
    fn huge_messages_are_cut() {
        let diagnostic = error_at(1, 1, &format!("unknown field `{}`", "x".repeat(10_000)));
        assert_eq!(diagnostic.message.chars().count(), MAX_MESSAGE + 1);
        assert!(diagnostic.message.ends_with("xx…"));
        assert_eq!(error_at(1, 1, "short").message, "short");
    }

    #[test]
    fn many_diagnostics_are_limited() {
        let many: Vec<Diagnostic> = (0..1000).map(|line| error_at(line + 1, 1, "x")).collect();
        let limited = limit(many, Path::new("rave.yaml"));
        assert_eq!(limited.len(), MAX_REPORTED + 1);
        assert_eq!(limited[MAX_REPORTED].message, "800 more problems are not shown");
        assert_eq!(limit(vec![error_at(1, 1, "x")], Path::new("rave.yaml")).len(), 1);
    }

    #[test]
    fn empty_lines_show_no_excerpt() {
        let source = SourceFile::new("rave.yaml", "");
        assert_eq!(
            render(&error_at(1, 1, "the file is empty"), Some(&source)),
            "error: the file is empty\n ——▶ rave.yaml:1:1\n"
        );
    }

    #[test]
    fn carets_cover_the_token() {
        assert_eq!(token_length("host: shoshin", 1), 4);
        assert_eq!(token_length("host: shoshin", 7), 7);
        assert_eq!(token_length("a: \"quoted \\\" text\" # c", 4), 16);
        assert_eq!(token_length("a: 'it''s'", 4), 4);
        assert_eq!(token_length("m: {a: [1], b: 2}, x", 4), 14);
        assert_eq!(token_length("m: [1, 2", 4), 1);
        assert_eq!(token_length("url: http://x:80/y, z", 6), 13);
        assert_eq!(token_length("host = \"a\"", 1), 4);
        assert_eq!(token_length("short", 40), 1);
    }

    #[test]
    fn tabs_before_the_token_are_kept_so_carets_line_up() {
        let source = SourceFile::new("rave.yaml", "a:\n\tb: c\n");
        let rendered = render(&error_at(2, 5, "x"), Some(&source));
        assert!(rendered.contains("2 │ \tb: c\n  │ \t   ^\n"), "{rendered}");
    }
}
