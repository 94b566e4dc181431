//! `rave plan`: show what an apply would do, optionally save it for `rave apply FILE`.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use super::context::Context;
use super::planning::{PlanRequest, close_connections, lock_timeout, make_plan, state_or_new};
use crate::cli::{PlanArgs, PlanFormat};
use crate::drivers::Registry;
use crate::exit_status::ExitStatus;
use crate::plan::Plan;
use crate::render::style::Styles;
use crate::state::lock::LockInfo;

/// Runs `rave plan`.
pub(super) fn run(context: &Context<'_>, args: &PlanArgs) -> anyhow::Result<ExitStatus> {
    let project = context.load_project()?;
    let request = PlanRequest::from_args(&args.planning, &args.replace, args.destroy)?;
    let mut backend = project.state_backend()?;
    backend.lock(&LockInfo::current("plan"), lock_timeout(&args.planning)?)?;
    let state = state_or_new(backend.load()?);
    let runtime = if request.refresh { Context::runtime()? } else { Context::local_runtime()? };
    let drivers = Arc::new(Registry::new());
    let plan = make_plan(&runtime, &project, &state, &drivers, &request);
    // Only reading reality (refresh) reaches hosts; a plan without it opened no connection.
    if request.refresh {
        close_connections(&project);
    }
    backend.unlock()?;
    let plan = if args.refresh_only { plan?.into_refresh_only() } else { plan? };
    if let Some(out) = &args.out {
        save_plan(&plan, out)?;
    }
    context.printer.data(&render(&plan, args.format, context.printer.stdout_styles()))?;
    if let Some(out) = &args.out {
        context.printer.status(&format!(
            "Saved the plan to `{}`; run `rave apply {}` to carry it out.",
            out.display(),
            out.display()
        ));
    }
    let is_different = if args.refresh_only { plan.has_drift() } else { plan.has_changes() };
    let status = if args.detailed_exitcode && is_different { ExitStatus::Changes } else { ExitStatus::Success };
    // The process ends when the command returns, and the OS takes its memory back at once.
    // Freeing the project, the state and the plan one allocation at a time first (hundreds of
    // thousands of them for 10,000 resources, some 3% of the whole run) would only delay the exit.
    std::mem::forget((project, state, plan));
    Ok(status)
}

/// The plan in the chosen format.
pub(super) fn render(plan: &Plan, format: PlanFormat, styles: &Styles) -> String {
    let format = match format {
        PlanFormat::Human => crate::render::PlanFormat::Human,
        PlanFormat::Json => crate::render::PlanFormat::Json,
        PlanFormat::Markdown => crate::render::PlanFormat::Markdown,
    };
    format.render(plan, styles)
}

/// Writes the plan for `rave apply FILE`, readable only by its owner (it names secret digests).
fn save_plan(plan: &Plan, path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let json = serde_json::to_vec_pretty(plan).context("failed to serialise the plan")?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("failed to create plan file `{}`", path.display()))?;
    file.write_all(&json).with_context(|| format!("failed to write plan file `{}`", path.display()))?;
    Ok(())
}

/// Reads a plan saved by `rave plan -o`.
pub(super) fn load_plan(path: &Path) -> anyhow::Result<Plan> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to read plan file `{}`", path.display()))?;
    let plan: Plan = serde_json::from_slice(&bytes).map_err(|error| {
        crate::error::CommandError::new(format!("`{}` is not a saved rave plan: {error}", path.display()))
            .with_hint("save a plan with `rave plan -o FILE`")
    })?;
    if plan.format_version != crate::plan::PLAN_FORMAT_VERSION {
        return Err(crate::error::CommandError::new(format!(
            "plan file `{}` has format version {}, this rave reads {}",
            path.display(),
            plan.format_version,
            crate::plan::PLAN_FORMAT_VERSION
        ))
        .with_hint("make the plan again with this rave")
        .into());
    }
    Ok(plan)
}
