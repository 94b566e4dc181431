//! `rave validate`: read and check the file, print every problem, touch nothing.

use super::context::Context;
use crate::exit_status::ExitStatus;

/// Runs `rave validate`.
pub(super) fn run(context: &Context<'_>) -> anyhow::Result<ExitStatus> {
    let project = context.load_project()?;
    context.printer.status(&format!(
        "`{}` is valid: {} resources",
        context.file.display(),
        project.spec.resources.len()
    ));
    Ok(ExitStatus::Success)
}
