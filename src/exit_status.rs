//! The process exit code, decided in one place.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// All went well (and, with `--detailed-exitcode`, there are no changes).
    Success,
    /// Something failed: bad input, a failed step, a refused plan.
    Failure,
    /// `--detailed-exitcode` and the plan has changes.
    Changes,
    /// Stopped by SIGINT or SIGTERM after finishing what was running.
    Interrupted,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Changes => ExitCode::from(2),
            ExitStatus::Interrupted => ExitCode::from(130),
        }
    }
}
