//! `rave state pull|push|migrate`: moving a whole state out of a backend, into it, or to another
//! backend, always through the backends' own compare-and-swap commits.

use std::path::Path;

use anyhow::Context as _;

use super::context::Context;
use crate::cli::MigrateTarget;
use crate::error::CommandError;
use crate::model::SecretRef;
use crate::project::Project;
use crate::settings::parse_duration;
use crate::state::backend::StateBackend;
use crate::state::local_backend::LocalBackend;
use crate::state::lock::LockInfo;
use crate::state::state_head::StateHead;
use crate::state::{STATE_VERSION, State};

/// `rave state pull`: prints the current state.
pub(super) fn pull(context: &Context<'_>, backend: &mut dyn StateBackend) -> anyhow::Result<()> {
    let state = backend.load()?.ok_or_else(|| CommandError::new("there is no state yet"))?;
    context.printer.data(&state.to_json()?)?;
    Ok(())
}

/// `rave state push FILE`: commits the file as the next serial, under the lock.
pub(super) fn push_file(
    context: &Context<'_>,
    backend: &mut dyn StateBackend,
    file: &Path,
    lock_timeout: &str,
) -> anyhow::Result<()> {
    let pushed = read_state_file(file)?;
    backend.lock(&LockInfo::current("state push"), parse_duration(lock_timeout, "--lock-timeout")?)?;
    let result = push(backend, pushed);
    backend.unlock()?;
    context.printer.status(&result?);
    Ok(())
}

/// What `rave state migrate` was asked.
pub(super) struct MigrateRequest<'a> {
    /// The backend to copy to.
    pub(super) to: MigrateTarget,
    /// `--url`.
    pub(super) url: &'a str,
    /// `--path`.
    pub(super) path: &'a Path,
    /// `--lock-timeout`.
    pub(super) lock_timeout: &'a str,
}

/// `rave state migrate`: copies the state of `backend` (the file's) to the backend asked for,
/// holding both locks.
pub(super) fn migrate_to(
    context: &Context<'_>,
    project: &Project,
    backend: &mut dyn StateBackend,
    request: &MigrateRequest<'_>,
) -> anyhow::Result<()> {
    let timeout = parse_duration(request.lock_timeout, "--lock-timeout")?;
    let (mut target, name): (Box<dyn StateBackend>, _) = match request.to {
        MigrateTarget::Local => (Box::new(LocalBackend::new(project.base_dir.join(request.path))), "local"),
        MigrateTarget::Postgres => {
            let reference = SecretRef::parse(request.url).map_err(|error| {
                CommandError::new(format!("`--url {}` is not a secret reference: {error}", request.url))
            })?;
            (Box::new(project.postgres_backend(&reference)?), "postgres")
        }
    };
    backend.lock(&LockInfo::current("state migrate"), timeout)?;
    let result = target
        .lock(&LockInfo::current("state migrate"), timeout)
        .map_err(anyhow::Error::from)
        .and_then(|()| migrate(backend, target.as_mut(), name));
    let released = (target.unlock(), backend.unlock());
    let message = result?;
    released.0?;
    released.1?;
    context.printer.status(&message);
    Ok(())
}

/// Reads a state file written by `rave state pull` (or a local backend).
fn read_state_file(path: &Path) -> anyhow::Result<State> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to read state file `{}`", path.display()))?;
    let state: State = serde_json::from_slice(&bytes).map_err(|error| {
        CommandError::new(format!("`{}` is not a rave state: {error}", path.display()))
            .with_hint("push a file written by `rave state pull`")
    })?;
    StateHead::of(&state).check_version()?;
    if state.version != STATE_VERSION {
        return Err(
            CommandError::new(format!("`{}` has state format version {}", path.display(), state.version)).into()
        );
    }
    Ok(state)
}

/// Commits `pushed` as the next serial, refused when it is another lineage or older than what is
/// stored (someone wrote since it was pulled).
fn push(backend: &mut dyn StateBackend, mut pushed: State) -> anyhow::Result<String> {
    let Some(stored) = backend.load()? else {
        backend.commit(&pushed)?;
        return Ok(format!("Pushed the state as serial {} ({} resources).", pushed.serial, pushed.resources.len()));
    };
    if stored.lineage != pushed.lineage {
        return Err(CommandError::new(format!(
            "the file is state lineage `{}`, the backend holds lineage `{}`: it is another project's state",
            pushed.lineage, stored.lineage
        ))
        .with_hint("pull the state again and edit that copy")
        .into());
    }
    if pushed.serial < stored.serial {
        return Err(CommandError::new(format!(
            "the file is stale: it has serial {}, the state moved on to serial {}",
            pushed.serial, stored.serial
        ))
        .with_hint("pull the state again (`rave state pull`), redo the edit and push that")
        .into());
    }
    if pushed.resources == stored.resources {
        return Ok(format!("The state at serial {} already holds these resources; nothing pushed.", stored.serial));
    }
    pushed.serial = stored.serial + 1;
    backend.commit(&pushed)?;
    Ok(format!("Pushed the state as serial {} ({} resources).", pushed.serial, pushed.resources.len()))
}

/// Copies the state of `source` into `target`, which must be empty or hold the same state.
fn migrate(source: &mut dyn StateBackend, target: &mut dyn StateBackend, name: &str) -> anyhow::Result<String> {
    let state = source.load()?.ok_or_else(|| CommandError::new("there is no state to migrate"))?;
    match target.load()? {
        None => target.commit(&state)?,
        Some(existing) if existing == state => {}
        Some(existing) => {
            return Err(CommandError::new(format!(
                "the `{name}` backend already holds state (lineage `{}`, serial {}); it is not overwritten",
                existing.lineage, existing.serial
            ))
            .with_hint("migrate into an empty backend, or `rave state push` into it after pulling")
            .into());
        }
    }
    Ok(format!(
        "Copied the state (serial {}, {} resources) to the `{name}` backend; point `state:` in the file at it. \
         The old copy is left as it was.",
        state.serial,
        state.resources.len()
    ))
}
