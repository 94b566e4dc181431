//! [`NixError`]: why running `nix` (or `nix-store`, `cachix`) did not give an answer.
//!
//! Nix says what went wrong in lines starting with `error:`; those lines are kept and quoted, so
//! the user reads nix's own words, under one line that says what rave was doing.

use std::fmt;

use super::reference::ReferenceError;
use crate::drivers::DriverError;
use crate::drivers::process::ProcessError;

/// Why a Nix command did not give an answer.
#[derive(Debug)]
pub(crate) enum NixError {
    /// The program is not installed.
    NotInstalled {
        /// `nix` or `cachix`.
        program: String,
    },
    /// It ran and failed, or ran past its time limit.
    Failed {
        /// What rave was doing, as in "evaluating 3 derivations".
        doing: String,
        /// Nix's own message: its `error:` lines and what follows them, else its last lines.
        message: Vec<String>,
        /// The command line and how it ended.
        process: Box<ProcessError>,
    },
    /// A resource names a flake output rave cannot resolve.
    InvalidReference {
        /// The resource.
        address: crate::model::ResourceId,
        /// What is wrong with the reference.
        error: ReferenceError,
    },
    /// rave could not prepare what nix needed (a file to hand it).
    Io {
        /// What rave was doing.
        doing: String,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// It succeeded, but what it printed is not what rave expected.
    BadOutput {
        /// What rave was doing.
        doing: String,
        /// What was wrong with the output.
        problem: String,
    },
}

impl NixError {
    /// `process`'s failure while `doing` something.
    pub(crate) fn from_process(doing: impl Into<String>, process: ProcessError) -> Self {
        match process {
            ProcessError::NotFound { program } => Self::NotInstalled { program },
            process => Self::Failed { doing: doing.into(), message: nix_message(&process), process: Box::new(process) },
        }
    }

    /// What to do about it, on its own line.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Self::NotInstalled { program } if program == "cachix" => Some(
                "install the cachix CLI (`nix profile install nixpkgs#cachix`), or push with a `type: nix-store` cache"
                    .to_owned(),
            ),
            Self::NotInstalled { .. } => Some(
                "install Nix (`apt-get install nix-bin nix-setup-systemd` on Debian, or see https://nixos.org/download)"
                    .to_owned(),
            ),
            Self::InvalidReference { .. } => Some("write it as `FLAKE#ATTRIBUTE`, as in `.#packages.x86_64-linux.codex`".to_owned()),
            Self::Failed { .. } | Self::BadOutput { .. } | Self::Io { .. } => None,
        }
    }
}

/// The lines of nix's message: from its first `error:` line on, else the last lines it printed.
/// What ssh said before it (a refused connection, a host key that is not the pinned one) follows,
/// as nix's own words for those ("cannot connect to …") leave the reason out.
fn nix_message(process: &ProcessError) -> Vec<String> {
    let (ProcessError::Failed { last_stderr: lines, .. } | ProcessError::TimedOut { last_stderr: lines, .. }) = process
    else {
        return Vec::new();
    };
    let lines: Vec<&str> = lines.iter().map(|line| line.trim_end()).filter(|line| !line.trim().is_empty()).collect();
    let start = lines.iter().position(|line| line.trim_start().starts_with("error:")).unwrap_or(0);
    let from_ssh = lines[..start].iter().filter(|line| is_from_ssh(line));
    lines[start..].iter().chain(from_ssh).map(|line| (*line).to_owned()).collect()
}

/// Whether ssh printed `line` (nix passes ssh's stderr through).
fn is_from_ssh(line: &str) -> bool {
    line.starts_with("ssh:")
        || ["Host key verification failed", "Permission denied", "REMOTE HOST IDENTIFICATION HAS CHANGED"]
            .iter()
            .any(|needle| line.contains(needle))
}

impl fmt::Display for NixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled { program } => write!(f, "`{program}` is not installed or not on PATH"),
            Self::Failed { doing, message, process } => {
                write!(f, "{doing} failed: ")?;
                match message.split_first() {
                    Some((first, rest)) => {
                        f.write_str(first.trim_start().strip_prefix("error: ").unwrap_or(first.trim_start()))?;
                        for line in rest {
                            write!(f, "\n  {line}")?;
                        }
                    }
                    None => write!(f, "{process}")?,
                }
                Ok(())
            }
            Self::InvalidReference { address, error } => write!(f, "`{address}`: {error}"),
            Self::BadOutput { doing, problem } => write!(f, "{doing}: nix printed something unexpected: {problem}"),
            Self::Io { doing, error } => write!(f, "{doing}: {error}"),
        }
    }
}

impl std::error::Error for NixError {}

impl From<NixError> for crate::error::CommandError {
    fn from(error: NixError) -> Self {
        let hint = error.hint();
        let command_error = Self::new(error.to_string());
        match hint {
            Some(hint) => command_error.with_hint(hint),
            None => command_error,
        }
    }
}

impl From<NixError> for DriverError {
    fn from(error: NixError) -> Self {
        let hint = error.hint();
        let mut driver_error = match error {
            NixError::Failed { doing, message, process } if !message.is_empty() => {
                let mut lines = message.into_iter();
                let first = lines.next().unwrap_or_default();
                let first = first.trim_start();
                let mut driver_error =
                    DriverError::new(format!("{doing} failed: {}", first.strip_prefix("error: ").unwrap_or(first)));
                driver_error.details.extend(lines.map(|line| line.trim_end().to_owned()));
                driver_error.details.push(format!("command: {}", process_command(&process)));
                driver_error
            }
            NixError::Failed { doing, process, .. } => {
                let process_error = DriverError::from(*process);
                DriverError { summary: format!("{doing} failed: {}", process_error.summary), ..process_error }
            }
            other => DriverError::new(other.to_string()),
        };
        if let Some(hint) = hint {
            driver_error.details.push(hint);
        }
        driver_error
    }
}

/// The command line a process error names.
fn process_command(process: &ProcessError) -> String {
    match process {
        ProcessError::Spawn { command, .. }
        | ProcessError::Io { command, .. }
        | ProcessError::Failed { command, .. }
        | ProcessError::TimedOut { command, .. } => command.clone(),
        ProcessError::NotFound { program } => program.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::process::Termination;

    fn failed(stderr: &[&str]) -> ProcessError {
        ProcessError::Failed {
            program: "nix".to_owned(),
            command: "nix eval --json".to_owned(),
            status: Termination::Code(1),
            last_stderr: stderr.iter().map(|line| (*line).to_owned()).collect(),
            last_stdout: Vec::new(),
        }
    }

    #[test]
    fn nix_own_message_is_quoted_from_its_error_line_on() {
        let error = NixError::from_process(
            "evaluating 2 derivations",
            failed(&["warning: Git tree is dirty", "error: attribute 'codex' missing", "", "       at «string»:1:2:"]),
        );
        assert_eq!(
            error.to_string(),
            "evaluating 2 derivations failed: attribute 'codex' missing\n         at «string»:1:2:"
        );
        let driver_error = DriverError::from(error);
        assert_eq!(driver_error.summary, "evaluating 2 derivations failed: attribute 'codex' missing");
        assert_eq!(driver_error.details, ["       at «string»:1:2:", "command: nix eval --json"]);
    }

    #[test]
    fn what_ssh_said_follows_nix_own_words() {
        let error = NixError::from_process(
            "reaching builder `builder.b`",
            failed(&[
                "Store URL: ssh://root@b",
                "ssh: connect to host b port 22: Connection refused\r",
                "error: cannot connect to 'root@b'",
            ]),
        );
        assert_eq!(
            error.to_string(),
            "reaching builder `builder.b` failed: cannot connect to 'root@b'\n  ssh: connect to host b port 22: Connection refused"
        );
    }

    #[test]
    fn a_missing_nix_says_how_to_install_it() {
        let error = NixError::from_process("building", ProcessError::NotFound { program: "nix".to_owned() });
        assert_eq!(error.to_string(), "`nix` is not installed or not on PATH");
        assert_eq!(
            error.hint().unwrap(),
            "install Nix (`apt-get install nix-bin nix-setup-systemd` on Debian, or see https://nixos.org/download)"
        );
        let cachix = NixError::NotInstalled { program: "cachix".to_owned() };
        assert!(cachix.hint().unwrap().starts_with("install the cachix CLI"));
    }
}
