//! The Nix runner: the base of every `nix` command line and the one function that runs them.
//!
//! Command lines are built by pure functions in the modules that need them (evaluation, builds,
//! copies); they all start from [`nix_command`], so every one enables the same experimental
//! features and carries a time limit. [`run`] hands them to `drivers::process`, the only code that
//! starts programs, and turns a failure into a [`NixError`] quoting nix's own message.

use std::time::Duration;

use super::NixError;
use crate::apply::EventSink;
use crate::drivers::command_spec::CommandSpec;
use crate::drivers::process::{self, ProcessOutput};

/// The features rave's commands use: `nix eval`/`build`/`copy`/`store` and flakes. Named on every
/// command line, so a Nix whose configuration leaves them off (Debian's 2.8) works as it is.
const FEATURES: &str = "nix-command flakes";

/// How long one evaluation of the whole file may take (large flakes take minutes).
pub(crate) const EVALUATION_TIMEOUT: Duration = Duration::from_secs(600);

/// `nix --extra-experimental-features 'nix-command flakes' SUBCOMMAND…`, limited to `timeout`.
pub(crate) fn nix_command<I, S>(subcommand: I, timeout: Duration) -> CommandSpec
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    CommandSpec::new("nix").args(["--extra-experimental-features", FEATURES]).args(subcommand).timeout(timeout)
}

/// Runs `spec`, saying it was `doing` something when it fails. Each line nix prints goes to
/// `events` when given.
pub(crate) async fn run(
    doing: impl Into<String>,
    spec: &CommandSpec,
    events: Option<&EventSink>,
) -> Result<ProcessOutput, NixError> {
    process::run(spec, events).await.map_err(|error| NixError::from_process(doing, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nix_command_enables_the_features_it_needs_and_has_a_limit() {
        let command = nix_command(["store", "ping"], EVALUATION_TIMEOUT);
        assert_eq!(command.to_string(), "nix --extra-experimental-features 'nix-command flakes' store ping");
        assert_eq!(command.timeout, Some(EVALUATION_TIMEOUT));
    }
}
