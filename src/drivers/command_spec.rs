//! [`CommandSpec`]: a program to run, as a plain value built by pure functions.
//!
//! Drivers build a spec and hand it to `drivers::process::run`, the only code that starts
//! programs. Its `Display` is the shell-quoted command line shown in logs, errors and `--dry-run`;
//! environment values never appear in it (only the names of the variables set), because they are
//! where tokens travel. This module runs nothing.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A program to run: its arguments, environment, directory, input and time limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandSpec {
    /// The program: a name looked up on `PATH`, or a path.
    pub(crate) program: String,
    /// Its arguments, passed as they are (no shell).
    pub(crate) args: Vec<String>,
    /// Environment variables set on top of rave's own environment.
    pub(crate) env: Vec<(String, String)>,
    /// The directory it runs in; rave's own when `None`.
    pub(crate) cwd: Option<PathBuf>,
    /// Bytes written to its standard input; it reads nothing (`/dev/null`) when `None`.
    pub(crate) stdin: Option<Vec<u8>>,
    /// How long it may run before its whole process group is stopped; unlimited when `None`.
    pub(crate) timeout: Option<Duration>,
}

impl CommandSpec {
    /// A command running `program` with no arguments.
    pub(crate) fn new(program: impl Into<String>) -> Self {
        Self { program: program.into(), args: Vec::new(), env: Vec::new(), cwd: None, stdin: None, timeout: None }
    }

    /// Adds one argument.
    #[must_use]
    pub(crate) fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    #[must_use]
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the program.
    #[must_use]
    pub(crate) fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Runs the program in `dir`.
    #[must_use]
    pub(crate) fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Feeds `input` to the program's standard input.
    #[must_use]
    pub(crate) fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Stops the program (and everything it started) after `limit`.
    #[must_use]
    pub(crate) fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }
}

impl fmt::Display for CommandSpec {
    /// `cd DIR && NAME=<hidden> program 'arg 1' arg2`: what a person would type, values of
    /// environment variables left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(dir) = &self.cwd {
            write!(f, "cd {} && ", ShellWord(&dir.to_string_lossy()))?;
        }
        for (name, _) in &self.env {
            write!(f, "{}=<hidden> ", ShellWord(name))?;
        }
        write!(f, "{}", ShellWord(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", ShellWord(arg))?;
        }
        Ok(())
    }
}

/// `words` as one line for a POSIX shell, each word quoted only when it needs to be: what `ssh`
/// hands the remote shell.
pub(crate) fn shell_line(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|word| ShellWord(word).to_string()).collect();
    quoted.join(" ")
}

/// One word, quoted for a POSIX shell only when it needs to be.
struct ShellWord<'a>(&'a str);

impl ShellWord<'_> {
    /// Whether the word reads the same to a shell without quotes. `#` starts a comment and `=`
    /// expands (zsh) only at the start of a word; `~` expands only there too, but is rare enough
    /// to always quote.
    fn is_plain(&self) -> bool {
        let word = self.0;
        !word.is_empty()
            && !word.starts_with(['#', '='])
            && word.chars().all(|character| {
                character.is_ascii_alphanumeric()
                    || matches!(character, '_' | '-' | '.' | '/' | ':' | ',' | '=' | '@' | '%' | '+' | '#')
            })
    }
}

impl fmt::Display for ShellWord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_plain() {
            return f.write_str(self.0);
        }
        // Inside single quotes nothing is special but the quote itself, written `'\''`.
        write!(f, "'{}'", self.0.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(word: &str) -> String {
        ShellWord(word).to_string()
    }

    #[test]
    fn plain_words_stay_bare() {
        for word in
            ["nix", "build", "--json", "-L", "/nix/store/abc-x", "a=b", "user@host:22", "x,y", "50%", "c++", ".#attr"]
        {
            assert_eq!(quoted(word), word);
        }
    }

    #[test]
    fn words_a_shell_would_change_are_quoted() {
        let cases = [
            ("", "''"),
            ("a b", "'a b'"),
            (".#a b", "'.#a b'"),
            ("#comment", "'#comment'"),
            ("=ls", "'=ls'"),
            ("~/x", "'~/x'"),
            ("$HOME", "'$HOME'"),
            ("a*", "'a*'"),
            ("{a,b}", "'{a,b}'"),
            ("a;b", "'a;b'"),
            ("tab\there", "'tab\there'"),
            ("line\nbreak", "'line\nbreak'"),
            ("it's", r"'it'\''s'"),
            ("'", r"''\'''"),
            ("héllo", "'héllo'"),
        ];
        for (word, expected) in cases {
            assert_eq!(quoted(word), expected, "quoting {word:?}");
        }
    }

    #[test]
    fn the_command_line_is_quoted_word_by_word() {
        let spec = CommandSpec::new("nix").arg("build").args(["--json", ".#a b"]);
        assert_eq!(spec.to_string(), "nix build --json '.#a b'");
    }

    #[test]
    fn environment_values_are_never_shown() {
        let spec = CommandSpec::new("cachix")
            .env("CACHIX_AUTH_TOKEN", "eyJhbGciOiJIUzI1NiJ9.secret")
            .env("NIX_CONFIG", "access-tokens = github.com=ghp_secret")
            .args(["push", "workspace"]);
        let shown = spec.to_string();
        assert_eq!(shown, "CACHIX_AUTH_TOKEN=<hidden> NIX_CONFIG=<hidden> cachix push workspace");
        assert!(!shown.contains("secret"));
    }

    #[test]
    fn the_directory_is_shown_as_a_cd() {
        let spec = CommandSpec::new("terraform").cwd("/srv/infra builders").arg("apply");
        assert_eq!(spec.to_string(), "cd '/srv/infra builders' && terraform apply");
    }

    #[test]
    fn input_and_time_limit_do_not_change_the_line() {
        let spec = CommandSpec::new("sh").args(["-c", "cat"]).stdin("hello").timeout(Duration::from_secs(5));
        assert_eq!(spec.to_string(), "sh -c cat");
        assert_eq!(spec.stdin.as_deref(), Some(&b"hello"[..]));
        assert_eq!(spec.timeout, Some(Duration::from_secs(5)));
    }
}
