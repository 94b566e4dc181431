//! `rave apply` and `rave destroy`: plan (or take a saved plan), confirm, carry it out, save state.
//!
//! The state lock is held from loading state until the new state is committed, so nobody else
//! plans or applies against a state that is about to change.

use std::sync::Arc;

use super::context::Context;
use super::planning::{
    PlanRequest, close_connections, commit_moves, driver_context, lock_timeout, make_plan, state_or_new,
};
use crate::apply::{ApplyOutcome, ApplyRequest};
use crate::cli::{ApplyArgs, DestroyArgs, PlanFormat, PlanningArgs};
use crate::drivers::{DriverSet, Registry};
use crate::error::CommandError;
use crate::exit_status::ExitStatus;
use crate::plan::Plan;
use crate::project::Project;
use crate::state::State;
use crate::state::backend::StateBackend;
use crate::state::lock::LockInfo;

/// Runs `rave apply`.
pub(super) fn run(context: &Context<'_>, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let source = match &args.plan_file {
        Some(path) => PlanSource::Saved(super::plan::load_plan(path)?),
        None => PlanSource::Fresh(PlanRequest::from_args(&args.planning, &args.replace, false)?),
    };
    execute(context, &args.planning, source, (args.auto_approve, args.destroy_volumes), args.parallelism, "apply")
}

/// Runs `rave destroy`.
pub(super) fn run_destroy(context: &Context<'_>, args: &DestroyArgs) -> anyhow::Result<ExitStatus> {
    let request = PlanRequest::from_args(&args.planning, &[], true)?;
    let approval = (args.auto_approve, args.destroy_volumes);
    execute(context, &args.planning, PlanSource::Fresh(request), approval, args.parallelism, "destroy")
}

/// Where the plan to carry out comes from.
enum PlanSource {
    /// Made now, then confirmed.
    Fresh(PlanRequest),
    /// Saved by `rave plan -o`, reviewed already: carried out as is, or refused when stale.
    Saved(Plan),
}

fn execute(
    context: &Context<'_>,
    planning: &PlanningArgs,
    source: PlanSource,
    (auto_approve, destroy_volumes): (bool, bool),
    parallelism: u16,
    operation: &str,
) -> anyhow::Result<ExitStatus> {
    let project = context.load_project()?;
    let mut backend = project.state_backend()?;
    backend.lock(&LockInfo::current(operation), lock_timeout(planning)?)?;
    let result =
        plan_and_apply(context, &project, backend.as_mut(), source, (auto_approve, destroy_volumes), parallelism);
    close_connections(&project);
    let unlocked = backend.unlock();
    let status = result?;
    unlocked?;
    Ok(status)
}

fn plan_and_apply(
    context: &Context<'_>,
    project: &Project,
    backend: &mut dyn StateBackend,
    source: PlanSource,
    (auto_approve, destroy_volumes): (bool, bool),
    parallelism: u16,
) -> anyhow::Result<ExitStatus> {
    let recorded = backend.load()?;
    let runtime = Context::runtime()?;
    let drivers = Arc::new(Registry::new());
    let (plan, state) = match source {
        PlanSource::Saved(plan) => {
            let state = check_saved_plan(&plan, project, recorded)?;
            (plan, state)
        }
        PlanSource::Fresh(request) => {
            let state = state_or_new(recorded);
            let plan = make_plan(&runtime, project, &state, &drivers, &request)?;
            context.printer.data(&super::plan::render(&plan, PlanFormat::Human, context.printer.stdout_styles()))?;
            if plan.has_changes()
                && !auto_approve
                && !context.printer.confirm("Do you want to perform these actions?")?
            {
                context.printer.status("Apply cancelled.");
                return Ok(ExitStatus::Failure);
            }
            (plan, state)
        }
    };
    if !plan.has_changes() {
        return Ok(ExitStatus::Success);
    }
    let state = commit_moves(backend, state, &plan.moves)?;
    let outcome =
        run_plan(context, project, backend, &runtime, drivers, &plan, state.clone(), (parallelism, destroy_volumes));
    let committed = commit(backend, &state, &outcome);
    context.printer.data(&format!("\n{}\n", crate::ui::apply_summary(&outcome, context.printer.stdout_styles())))?;
    committed?;
    Ok(if outcome.interrupted {
        ExitStatus::Interrupted
    } else if outcome.is_success() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// The state a saved plan applies to, or the reason it is refused.
fn check_saved_plan(plan: &Plan, project: &Project, recorded: Option<State>) -> anyhow::Result<State> {
    let refuse = |detail: String| {
        CommandError::new(format!("the saved plan is stale: {detail}"))
            .with_hint("run `rave plan -o FILE` again and apply the new plan")
    };
    if plan.project != project.spec.project.as_str() {
        return Err(CommandError::new(format!(
            "the saved plan is for project `{}`, this file is project `{}`",
            plan.project, project.spec.project
        ))
        .into());
    }
    let lineage = plan.lineage.clone().unwrap_or_default();
    match recorded {
        Some(state) if state.serial != plan.serial => {
            Err(refuse(format!("state serial moved from {} to {} since it was made", plan.serial, state.serial)).into())
        }
        Some(state) if state.lineage != lineage => {
            Err(refuse(format!("it was made for state lineage `{lineage}`, the state is lineage `{}`", state.lineage))
                .into())
        }
        Some(state) => Ok(state),
        None if plan.serial == 0 => {
            let mut state = State::new_lineage();
            state.lineage = lineage;
            Ok(state)
        }
        None => {
            Err(refuse(format!("it was made against state serial {}, and there is no state now", plan.serial)).into())
        }
    }
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename these
fn run_plan(
    context: &Context<'_>,
    project: &Project,
    backend: &mut dyn StateBackend,
    runtime: &tokio::runtime::Runtime,
    drivers: Arc<Registry>,
    plan: &Plan,
    state: State,
    (parallelism, destroy_volumes): (u16, bool),
) -> ApplyOutcome {
    let desired =
        plan.changes.iter().filter_map(|change| change.after.as_ref().map(|after| (&change.address, &*after.spec)));
    let mut driver_context = driver_context(project, desired);
    Arc::make_mut(&mut driver_context).destroy_volumes = destroy_volumes;
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let drivers: Arc<dyn DriverSet> = drivers;
    runtime.block_on(async {
        // Installed only now, after any confirmation prompt: from here on Ctrl-C means "finish
        // what runs, save, stop" instead of killing the process.
        let cancel = crate::apply::interrupt::watch_signals();
        let request = ApplyRequest {
            plan,
            drivers,
            context: driver_context,
            parallelism: usize::from(parallelism),
            state,
            backend,
            events: sender,
            cancel,
        };
        let (outcome, ()) =
            tokio::join!(crate::apply::apply(request), crate::ui::progress::show(receiver, context.printer));
        outcome
    })
}

/// Commits what the apply did as the next serial, when it did anything.
fn commit(backend: &mut dyn StateBackend, base: &State, outcome: &ApplyOutcome) -> anyhow::Result<()> {
    if outcome.state.resources == base.resources && base.serial > 0 {
        return Ok(());
    }
    let mut next = outcome.state.clone();
    next.serial = base.serial + 1;
    backend.commit(&next)?;
    Ok(())
}
