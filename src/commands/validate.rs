//! `rave validate`: read and check the file, print every problem, touch nothing.

use super::context::Context;
use crate::exit_status::ExitStatus;

/// Runs `rave validate`.
pub(super) fn run(context: &Context<'_>) -> anyhow::Result<ExitStatus> {
    let project = context.load_project()?;
    let count = project.spec.resources.len();
    let noun = if count == 1 { "resource" } else { "resources" };
    context.printer.status(&format!("`{}` is valid: {count} {noun}", context.file.display()));
    Ok(ExitStatus::Success)
}
