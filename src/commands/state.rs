//! `rave state list|show|history|rm|unlock`: look at recorded state and repair it by hand.
//! Moving state whole (`pull`, `push`, `migrate`) is [`super::state_transfer`]'s.

use std::fmt::Write as _;

use super::context::Context;
use super::state_transfer::{self, MigrateRequest};
use crate::cli::StateCommand;
use crate::error::CommandError;
use crate::exit_status::ExitStatus;
use crate::model::ResourceId;
use crate::settings::{parse_addresses, parse_duration};
use crate::state::State;
use crate::state::backend::{HistoryEntry, StateBackend};
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
        StateCommand::Show { address, serial } => {
            let state = match serial {
                Some(serial) => backend.state_at(*serial)?.ok_or_else(|| {
                    CommandError::new(format!("the state backend keeps no state with serial {serial}"))
                        .with_hint("`rave state history` lists the serials kept")
                })?,
                None => backend.load()?.ok_or_else(|| CommandError::new("there is no state yet"))?,
            };
            context.printer.data(&show(&state, address.as_deref())?)?;
        }
        StateCommand::History => context.printer.data(&history_table(&backend.history()?))?,
        StateCommand::Rm { addresses, lock_timeout } => {
            let addresses = parse_addresses(addresses, "state rm")?;
            backend.lock(&LockInfo::current("state rm"), parse_duration(lock_timeout, "--lock-timeout")?)?;
            let result = remove(context, backend.as_mut(), &addresses);
            backend.unlock()?;
            result?;
        }
        StateCommand::Mv { from, to, lock_timeout } => {
            let addresses = parse_addresses(&[from.clone(), to.clone()], "state mv")?;
            backend.lock(&LockInfo::current("state mv"), parse_duration(lock_timeout, "--lock-timeout")?)?;
            let result = move_resource(backend.as_mut(), &addresses[0], &addresses[1]);
            backend.unlock()?;
            result?;
            context
                .printer
                .status(&format!("Moved `{}` to `{}` in the state; nothing was touched.", addresses[0], addresses[1]));
        }
        StateCommand::Unlock { id } => {
            backend.force_unlock(id)?;
            context.printer.status(&format!("Released lock `{id}`; its holder had already stopped."));
        }
        StateCommand::Pull => state_transfer::pull(context, backend.as_mut())?,
        StateCommand::Push { state_file, lock_timeout } => {
            state_transfer::push_file(context, backend.as_mut(), state_file, lock_timeout)?;
        }
        StateCommand::Migrate { to, url, path, lock_timeout } => {
            let request = MigrateRequest { to: *to, url, path, lock_timeout };
            state_transfer::migrate_to(context, &project, backend.as_mut(), &request)?;
        }
    }
    Ok(ExitStatus::Success)
}

/// One resource of `state` as JSON, or the whole state when no address is given.
fn show(state: &State, address: Option<&str>) -> anyhow::Result<String> {
    let Some(address) = address else {
        return Ok(state.to_json()?);
    };
    let address = &parse_addresses(&[address.to_owned()], "state show")?[0];
    let resource = state.resources.get(address).ok_or_else(|| {
        CommandError::new(format!("`{address}` is not in the state at serial {}", state.serial))
            .with_hint("`rave state list` shows what is recorded")
    })?;
    let mut out = serde_json::to_string_pretty(resource)?;
    out.push('\n');
    Ok(out)
}

/// The history as an aligned table, newest first.
fn history_table(entries: &[HistoryEntry]) -> String {
    let rows: Vec<[String; 5]> = entries
        .iter()
        .map(|entry| {
            let or_dash = |text: &str| if text.is_empty() { "-".to_owned() } else { text.to_owned() };
            [
                entry.serial.to_string(),
                entry.resource_count.to_string(),
                or_dash(&entry.written_at),
                or_dash(&entry.written_by),
                entry.lineage.clone(),
            ]
        })
        .collect();
    let header = ["SERIAL", "RESOURCES", "WRITTEN", "BY", "LINEAGE"].map(str::to_owned);
    let mut widths = header.clone().map(|title| title.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// Records `from` as `to` and commits the next serial.
fn move_resource(backend: &mut dyn StateBackend, from: &ResourceId, to: &ResourceId) -> anyhow::Result<()> {
    if from.kind != to.kind {
        return Err(CommandError::new(format!("`{from}` and `{to}` are different kinds"))
            .with_hint("a rename keeps the kind")
            .into());
    }
    let mut state = backend.load()?.ok_or_else(|| CommandError::new("there is no state yet"))?;
    if state.resources.contains_key(to) {
        return Err(CommandError::new(format!("`{to}` is already in the state"))
            .with_hint("`rave state rm` it first if that record is wrong")
            .into());
    }
    if !state.move_resource(from, to) {
        return Err(CommandError::new(format!("`{from}` is not in the state"))
            .with_hint("`rave state list` shows what is recorded")
            .into());
    }
    state.serial += 1;
    backend.commit(&state)?;
    Ok(())
}

fn remove(context: &Context<'_>, backend: &mut dyn StateBackend, addresses: &[ResourceId]) -> anyhow::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_is_an_aligned_table() {
        let entries = [
            HistoryEntry {
                serial: 12,
                lineage: "abc".into(),
                resource_count: 3,
                written_at: "2026-01-02T03:04:05Z".into(),
                written_by: "ci@runner".into(),
            },
            HistoryEntry {
                serial: 9,
                lineage: "abc".into(),
                resource_count: 120,
                written_at: String::new(),
                written_by: String::new(),
            },
        ];
        assert_eq!(
            history_table(&entries),
            "SERIAL  RESOURCES  WRITTEN               BY         LINEAGE\n\
             12      3          2026-01-02T03:04:05Z  ci@runner  abc\n\
             9       120        -                     -          abc\n"
        );
    }
}
