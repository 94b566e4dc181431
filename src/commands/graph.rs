//! `rave graph`: the resource graph in Graphviz DOT on stdout.

use super::context::Context;
use crate::exit_status::ExitStatus;

/// Runs `rave graph`.
pub(super) fn run(context: &Context<'_>) -> anyhow::Result<ExitStatus> {
    let project = context.load_project()?;
    context.printer.data(&project.graph.to_dot())?;
    Ok(ExitStatus::Success)
}
