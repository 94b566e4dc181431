//! Making a plan, shared by `plan`, `apply` and `destroy`: refresh, resolve secret digests, diff.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;

use crate::cli::PlanningArgs;
use crate::config::Moved;
use crate::drivers::{DriverContext, DriverSet, Registry};
use crate::error::CommandError;
use crate::model::{ResourceId, ResourceSpec};
use crate::plan::Plan;
use crate::plan::diff::{DiffInput, PlanOptions, ReplaceRules};
use crate::project::Project;
use crate::settings::{parse_addresses, parse_duration};
use crate::state::State;
use crate::state::backend::StateBackend;

/// What the user asked the plan to consider.
pub(super) struct PlanRequest {
    /// `--target`, `--exclude`, `--replace`, destroy.
    pub(super) options: PlanOptions,
    /// `--refresh`.
    pub(super) refresh: bool,
}

impl PlanRequest {
    /// Reads the planning flags.
    pub(super) fn from_args(planning: &PlanningArgs, replace: &[String], is_destroy: bool) -> anyhow::Result<Self> {
        Ok(Self {
            options: PlanOptions {
                targets: parse_addresses(&planning.targets, "--target")?,
                excludes: parse_addresses(&planning.excludes, "--exclude")?,
                replace: parse_addresses(replace, "--replace")?,
                is_destroy,
            },
            refresh: planning.refresh,
        })
    }
}

/// The lock timeout from `--lock-timeout`.
pub(super) fn lock_timeout(planning: &PlanningArgs) -> anyhow::Result<std::time::Duration> {
    Ok(parse_duration(&planning.lock_timeout, "--lock-timeout")?)
}

/// The context drivers get in `project`, knowing the hosts among `resources`.
pub(super) fn driver_context<'a>(
    project: &Project,
    resources: impl IntoIterator<Item = (&'a ResourceId, &'a ResourceSpec)>,
) -> Arc<DriverContext> {
    let resources: Vec<(&ResourceId, &ResourceSpec)> = resources.into_iter().collect();
    Arc::new(DriverContext {
        hosts: DriverContext::hosts_of(resources.iter().copied()),
        base_dir: project.base_dir.clone(),
        work_dir: project.state_dir.clone(),
        caches: DriverContext::caches_of(resources.iter().copied()),
        builders: DriverContext::builders_of(resources.iter().copied()),
        nix: project.spec.nix.clone(),
        services: DriverContext::services_of(resources.iter().copied()),
        destroy_volumes: false,
    })
}

/// Closes the SSH connections this command shared among its steps (`ssh -O exit`) to the hosts
/// of `project`, so none outlives rave.
pub(super) fn close_connections(project: &Project) {
    let context =
        driver_context(project, project.spec.resources.iter().map(|(address, resource)| (address, &*resource.spec)));
    // Without a runtime there is nothing to close with; the connections then end on their own.
    if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
        runtime.block_on(crate::drivers::ssh::shared::close_all(&context));
    }
}

/// The state to plan against: the recorded one, or an empty one with a new lineage.
pub(super) fn state_or_new(state: Option<State>) -> State {
    state.unwrap_or_else(State::new_lineage)
}

/// Plans `project` against `state` (a new, empty state when nothing was recorded yet).
pub(super) fn make_plan(
    runtime: &tokio::runtime::Runtime,
    project: &Project,
    state: &State,
    drivers: &Arc<Registry>,
    request: &PlanRequest,
) -> anyhow::Result<Plan> {
    let (state, moves) = with_moves(&project.spec.moved, state);
    let state = state.as_ref();
    let observed = if request.refresh && !state.resources.is_empty() {
        let dyn_drivers: Arc<dyn DriverSet> = drivers.clone();
        let context = driver_context(
            project,
            project.spec.resources.iter().map(|(address, resource)| (address, &*resource.spec)),
        );
        let refreshed = runtime.block_on(crate::refresh::refresh(dyn_drivers, context, state, 10));
        if let Some((address, error)) = refreshed.errors.first() {
            let others = refreshed.errors.len() - 1;
            return Err(anyhow::Error::new(error.clone()).context(format!(
                "refresh of `{address}` failed{}",
                if others > 0 { format!(" (and {others} more)") } else { String::new() }
            )));
        }
        refreshed.observed
    } else {
        BTreeMap::new()
    };
    let secret_digests = if request.options.is_destroy { BTreeMap::new() } else { secret_digests(project, state)? };
    // Evaluating is observing: `--refresh=false` skips it, and the recorded store paths stand.
    let derivations =
        if request.refresh && !request.options.is_destroy { Some(derivations(runtime, project)?) } else { None };
    let rules = |kind| ReplaceRules::of(drivers.driver(kind));
    let recorded = if state.resources.is_empty() && state.serial == 0 { None } else { Some(state) };
    let input = DiffInput {
        spec: &project.spec,
        state: recorded,
        observed: &observed,
        secret_digests: &secret_digests,
        rules: &rules,
        options: &request.options,
        derivations: derivations.as_ref(),
    };
    let mut plan = crate::plan::diff::diff(&input).map_err(|error| CommandError::new(error.to_string()))?;
    if derivations.is_some() {
        runtime.block_on(add_closure_changes(&mut plan));
    }
    plan.lineage = Some(state.lineage.clone());
    plan.serial = state.serial;
    plan.moves = moves;
    Ok(plan)
}

/// The derivations of every Nix-built resource in the file, from one `nix eval` (none, and no
/// process, when the file has no Nix-built resource).
fn derivations(
    runtime: &tokio::runtime::Runtime,
    project: &Project,
) -> anyhow::Result<BTreeMap<ResourceId, crate::nix::Derivation>> {
    use crate::nix::evaluation::{evaluate, targets};
    let resources = project.spec.resources.iter().map(|(address, resource)| (address, &*resource.spec));
    let targets = targets(resources, &project.spec, &project.base_dir).map_err(CommandError::from)?;
    let derivations = runtime.block_on(evaluate(&targets)).map_err(CommandError::from)?;
    Ok(derivations)
}

/// `state` with the renames of `moved` that apply to it (the old address recorded, the new one
/// not), and those renames; the state is copied only when one applies.
fn with_moves<'a>(renames: &[Moved], state: &'a State) -> (Cow<'a, State>, Vec<Moved>) {
    let mut state = Cow::Borrowed(state);
    let mut moves = Vec::new();
    for rename in renames {
        if state.resources.contains_key(&rename.from) && !state.resources.contains_key(&rename.to) {
            state.to_mut().move_resource(&rename.from, &rename.to);
            moves.push(rename.clone());
        }
    }
    (state, moves)
}

/// Applies a plan's renames to `state` and commits them as the next serial, before anything
/// acts, so that every record of the apply lands on the new addresses.
pub(super) fn commit_moves(backend: &mut dyn StateBackend, mut state: State, moves: &[Moved]) -> anyhow::Result<State> {
    if moves.is_empty() {
        return Ok(state);
    }
    for rename in moves {
        if !state.move_resource(&rename.from, &rename.to) {
            return Err(CommandError::new(format!(
                "cannot move `{}` to `{}`: the state no longer records the one, or already records the other",
                rename.from, rename.to
            ))
            .with_hint("plan again")
            .into());
        }
    }
    state.serial += 1;
    backend.commit(&state)?;
    Ok(state)
}

/// For every change whose store path moved from the one the state recorded (`store_path`, and
/// `outputs.drv_path` when the driver kept it) to a new one, the old derivation and closure still
/// in the local store: the inputs that changed, where the change starts, and the packages whose
/// versions changed in between (`nix store diff-closures` when both outputs are there).
/// What cannot be read is left out: this tells more, it decides nothing.
async fn add_closure_changes(plan: &mut Plan) {
    for change in &mut plan.changes {
        if change.action == crate::plan::Action::NoOp {
            continue;
        }
        let before = change.before.as_ref();
        let old_drv = before.and_then(|before| before.outputs.get("drv_path")).and_then(|path| path.as_str());
        let old_out = before
            .and_then(|before| before.attributes.get(crate::nix::Derivation::ATTRIBUTE))
            .and_then(|path| path.as_str());
        let Some(new) = change.after.as_ref().and_then(|after| after.derivation.as_ref()) else { continue };
        if old_out == Some(new.out_path.as_str()) || (old_drv.is_none() && old_out.is_none()) {
            continue;
        }
        let old_drv = match old_drv {
            Some(old_drv) => Some(old_drv.to_owned()),
            None => crate::nix::closure_diff::deriver_of(old_out).await,
        };
        if let Some(old_drv) = &old_drv {
            change.inputs_changed = crate::nix::derivation_diff::explain(old_drv, &new.drv_path);
        }
        let changes =
            crate::nix::closure_diff::closure_changes((old_drv.as_deref(), old_out), (&new.drv_path, &new.out_path))
                .await;
        if let Ok(Some(closure)) = changes {
            change.closure = closure;
        }
    }
}

/// Salted digests of every secret the file references, so a plan can say a secret changed
/// without showing it. Every unreadable secret is reported at once.
pub(super) fn secret_digests(
    project: &Project,
    state: &State,
) -> anyhow::Result<BTreeMap<ResourceId, BTreeMap<String, String>>> {
    let mut digests = BTreeMap::new();
    let mut problems = Vec::new();
    for (address, resource) in &project.spec.resources {
        for (path, secret) in resource.spec.secret_refs() {
            match secret.resolve(&project.base_dir) {
                Ok(value) => {
                    digests
                        .entry(address.clone())
                        .or_insert_with(BTreeMap::new)
                        .insert(path, value.digest(&state.lineage));
                }
                Err(error) => problems.push(format!("`{address}.{path}` (`{secret}`): {error}")),
            }
        }
    }
    if problems.is_empty() {
        return Ok(digests);
    }
    Err(CommandError::new(format!("cannot read {} secret(s):\n  {}", problems.len(), problems.join("\n  "))).with_hint(
        "rave reads secrets when it plans, to tell whether they changed; set the variables or create the files",
    ))
    .context("planning needs every secret the file references")
}
