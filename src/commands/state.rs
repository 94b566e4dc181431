//! `rave state list|show|rm|unlock`: look at recorded state and repair it by hand.

use std::fmt::Write as _;

use super::context::Context;
use crate::cli::StateCommand;
use crate::error::CommandError;
use crate::exit_status::ExitStatus;
use crate::settings::{parse_addresses, parse_duration};
use crate::state::backend::StateBackend;
use crate::state::lock::LockInfo;

/// Runs a `rave state` subcommand.
pub(super) fn run(context: &Context<'_>, command: &StateCommand) -> anyhow::Result<ExitStatus> {
    let project = context.load_project()?;
    let mut backend = project.state_backend()?;
    match command {
        StateCommand::List => {
            let state = backend.load()?;
            let mut out = String::new();
            for address in state.iter().flat_map(|state| state.resources.keys()) {
                let _ = writeln!(out, "{address}");
            }
            context.printer.data(&out)?;
        }
        StateCommand::Show { address } => {
            let address = &parse_addresses(std::slice::from_ref(address), "state show")?[0];
            let state = backend.load()?;
            let resource = state.as_ref().and_then(|state| state.resources.get(address)).ok_or_else(|| {
                CommandError::new(format!("`{address}` is not in the state"))
                    .with_hint("`rave state list` shows what is recorded")
            })?;
            let mut out = serde_json::to_string_pretty(resource)?;
            out.push('\n');
            context.printer.data(&out)?;
        }
        StateCommand::Rm { addresses, lock_timeout } => {
            let addresses = parse_addresses(addresses, "state rm")?;
            backend.lock(&LockInfo::current("state rm"), parse_duration(lock_timeout, "--lock-timeout")?)?;
            let result = remove(context, &mut backend, &addresses);
            backend.unlock()?;
            result?;
        }
        StateCommand::Unlock { id } => {
            backend.force_unlock(id)?;
            context.printer.status(&format!("Released lock `{id}`; its holder had already stopped."));
        }
    }
    Ok(ExitStatus::Success)
}

fn remove(
    context: &Context<'_>,
    backend: &mut dyn StateBackend,
    addresses: &[crate::model::ResourceId],
) -> anyhow::Result<()> {
    let mut state = backend.load()?.ok_or_else(|| CommandError::new("there is no state yet"))?;
    if let Some(missing) = addresses.iter().find(|address| !state.resources.contains_key(address)) {
        return Err(CommandError::new(format!("`{missing}` is not in the state"))
            .with_hint("`rave state list` shows what is recorded")
            .into());
    }
    for address in addresses {
        state.resources.remove(address);
    }
    state.serial += 1;
    backend.commit(&state)?;
    for address in addresses {
        context.printer.status(&format!("Removed `{address}` from the state; it was not destroyed."));
    }
    Ok(())
}
