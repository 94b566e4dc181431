//! The one door to the terminal: data to stdout, messages to stderr, colour decided once.
//!
//! stdout carries what the user asked for (a plan, JSON, DOT) and nothing else, so it can be piped;
//! stderr carries progress, `error:`/`warning:`/`hint:` lines and summaries. Colour is on only for
//! a terminal, never with `NO_COLOR` set to something or `--color never`; `--color always` forces
//! it. Besides `progress`, nothing else in rave writes to the terminal.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use crate::config::SourceFile;
use crate::diagnostic::Diagnostic;
use crate::error::CommandError;
use crate::render::style::Styles;

/// How much rave says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    /// Only errors and the requested data (`-q`).
    Quiet,
    /// Progress, warnings and summaries.
    Normal,
    /// Also what programs print during an apply (`-v`).
    Verbose,
}

impl Verbosity {
    /// The verbosity for `-v` given `verbose` times, or `-q`.
    pub(crate) fn from_flags(verbose: u8, is_quiet: bool) -> Self {
        match (is_quiet, verbose) {
            (true, _) => Self::Quiet,
            (false, 0) => Self::Normal,
            (false, _) => Self::Verbose,
        }
    }
}

/// `--color`: when to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always, even with `NO_COLOR`: the flag is the more explicit wish.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether a stream gets colour: `is_tty` says whether it is a terminal, `no_color` the
    /// value of `NO_COLOR` (set and non-empty turns colour off under `Auto`).
    pub(crate) fn is_colored(self, is_tty: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => is_tty && no_color.is_none_or(std::ffi::OsStr::is_empty),
        }
    }
}

/// Writes to the terminal on rave's behalf.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    verbosity: Verbosity,
    stderr_is_tty: bool,
    stdout_styles: Styles,
    stderr_styles: Styles,
}

impl Printer {
    /// A printer for this process's stdout and stderr.
    pub(crate) fn new(verbosity: Verbosity, color: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR");
        let stdout_is_tty = io::stdout().is_terminal();
        let stderr_is_tty = io::stderr().is_terminal();
        Self {
            verbosity,
            stderr_is_tty,
            stdout_styles: Styles::new(color.is_colored(stdout_is_tty, no_color.as_deref())),
            stderr_styles: Styles::new(color.is_colored(stderr_is_tty, no_color.as_deref())),
        }
    }

    /// How much to say.
    pub(crate) fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Whether stderr is a terminal (live progress needs one).
    pub(crate) fn stderr_is_tty(&self) -> bool {
        self.stderr_is_tty
    }

    /// The styles for text bound for stdout.
    pub(crate) fn stdout_styles(&self) -> &Styles {
        &self.stdout_styles
    }

    /// The styles for text bound for stderr.
    pub(crate) fn stderr_styles(&self) -> &Styles {
        &self.stderr_styles
    }

    /// Writes data to stdout as is. The error matters: a closed pipe should end the command.
    #[allow(clippy::unused_self)] // holding a printer is what allows writing, though stdout needs no state
    pub(crate) fn data(&self, text: &str) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()
    }

    /// Writes `text` and a newline to stderr, unless quiet.
    pub(crate) fn status(&self, text: &str) {
        if self.verbosity > Verbosity::Quiet {
            self.stderr_line(text);
        }
    }

    /// An error with its causes and what to do: `error: …`, `  caused by: …` for each further
    /// line of `lines`, then a blank line and `hint: …`.
    pub(crate) fn error_report(&self, lines: &[String], hint: Option<&str>) {
        self.stderr_line(&error_report(&self.stderr_styles, lines, hint));
    }

    /// Every problem found in the file, each with its excerpt, then how many there were.
    pub(crate) fn diagnostics(&self, diagnostics: &[Diagnostic], source: Option<&SourceFile>) {
        for diagnostic in diagnostics {
            let text = crate::diagnostic::render(diagnostic, source);
            let text = match text.strip_prefix("error") {
                Some(rest) => format!("{}{rest}", self.stderr_styles.error.apply_to("error")),
                None => text,
            };
            // Each excerpt ends with a newline, so a blank line separates them.
            self.stderr_line(&text);
        }
        if diagnostics.len() > 1 {
            let count = format!("found {} problems", diagnostics.len());
            self.stderr_line(&labelled(&self.stderr_styles.error, "error", &count));
        }
    }

    /// Asks `question` on the terminal and returns whether the answer was `yes`. Without a
    /// terminal there is nobody to ask: that is an error saying how to approve instead.
    pub(crate) fn confirm(&self, question: &str) -> Result<bool, CommandError> {
        if !io::stdin().is_terminal() {
            return Err(CommandError::new("this needs your approval, and there is no terminal to ask on").with_hint(
                "review the plan, then pass `--auto-approve`, or save it with `rave plan -o FILE` and run `rave apply FILE`",
            ));
        }
        let prompt = format!(
            "\n{}\n  Only `yes` will be accepted to approve.\n\n  {} ",
            self.stderr_styles.bold.apply_to(question),
            self.stderr_styles.bold.apply_to("Enter a value:")
        );
        let _ = write!(io::stderr().lock(), "{prompt}");
        let mut answer = String::new();
        io::stdin()
            .read_line(&mut answer)
            .map_err(|error| CommandError::new(format!("failed to read the answer from the terminal: {error}")))?;
        Ok(answer.trim() == "yes")
    }

    /// Writes `text` and a newline to stderr, whatever the verbosity (for `progress`).
    #[allow(clippy::unused_self)] // as for `data`
    pub(crate) fn stderr_line(&self, text: &str) {
        // When stderr is gone there is nowhere left to say so; the exit code still tells.
        let _ = writeln!(io::stderr().lock(), "{text}");
    }
}

/// `label: message`, the label styled.
fn labelled(style: &console::Style, label: &str, message: &str) -> String {
    format!("{}: {message}", style.apply_to(label))
}

/// The text [`Printer::error_report`] writes.
fn error_report(styles: &Styles, lines: &[String], hint: Option<&str>) -> String {
    let mut text = match lines.split_first() {
        Some((first, causes)) => {
            let mut text = labelled(&styles.error, "error", first);
            for cause in causes {
                let _ = write!(text, "\n  {}: {cause}", styles.dim.apply_to("caused by"));
            }
            text
        }
        None => labelled(&styles.error, "error", "unknown error"),
    };
    if let Some(hint) = hint {
        text.push_str("\n\n");
        text.push_str(&labelled(&styles.dim, "hint", hint));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(ColorChoice::Auto.is_colored(true, None));
        assert!(ColorChoice::Auto.is_colored(true, Some(OsStr::new(""))), "an empty NO_COLOR is unset");
        assert!(!ColorChoice::Auto.is_colored(true, Some(OsStr::new("1"))));
        assert!(!ColorChoice::Auto.is_colored(false, None));
        assert!(ColorChoice::Always.is_colored(false, Some(OsStr::new("1"))));
        assert!(!ColorChoice::Never.is_colored(true, None));
    }

    #[test]
    fn verbosity_follows_the_flags() {
        assert_eq!(Verbosity::from_flags(0, false), Verbosity::Normal);
        assert_eq!(Verbosity::from_flags(2, false), Verbosity::Verbose);
        assert_eq!(Verbosity::from_flags(0, true), Verbosity::Quiet);
    }

    #[test]
    fn an_error_report_lists_causes_then_the_hint() {
        let lines = ["failed to read state file `.rave/state.json`".to_owned(), "permission denied".to_owned()];
        assert_eq!(
            error_report(&Styles::plain(), &lines, Some("check the file's owner")),
            "error: failed to read state file `.rave/state.json`\n  caused by: permission denied\n\nhint: check the file's owner"
        );
        assert_eq!(
            error_report(&Styles::plain(), &lines[..1], None),
            "error: failed to read state file `.rave/state.json`"
        );
    }
}
