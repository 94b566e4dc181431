//! Deploying a host's NixOS system, with deploy-rs's "magic rollback": the new system becomes a
//! new generation of the system profile, is activated, must still take a new SSH connection and
//! must pass the host's health checks;
//! when activation or a check fails, the profile steps back to the previous generation and that
//! system is activated again, and the error says so.
//!
//! [`build`] builds the system (the derivation the plan evaluated) where rave runs; [`deploy`]
//! copies its closure to the host (`nix copy --to ssh://…`, the host substituting first from the
//! caches it trusts and those rave tells it to trust: the host's `push:` caches), then
//! [`activate`]s it. Only this module decides what a failed deploy leaves behind.

pub(crate) mod commands;

use super::placement::Placement;
use super::{DriverError, health};
use crate::apply::EventSink;
use crate::model::{HealthChecks, ResourceId};
use crate::nix::Derivation;
use crate::nix::substituters::Substituters;

/// Builds `system` where rave runs (nothing to do when it is there already).
pub(crate) async fn build(address: &ResourceId, system: &Derivation, events: &EventSink) -> Result<(), DriverError> {
    events.progress(format!("building `{}`", system.out_path));
    crate::nix::runner::run(
        format!("building the system of `{address}`"),
        &commands::realise(&system.drv_path),
        Some(events),
    )
    .await?;
    Ok(())
}

/// Copies `system` (built: [`build`]) to the host `placement` reaches, the host substituting what
/// it can from `substituters` first, and activates it there (see [`activate`]).
pub(crate) async fn deploy(
    address: &ResourceId,
    placement: &Placement,
    system: &Derivation,
    substituters: &Substituters,
    checks: &HealthChecks,
    events: &EventSink,
) -> Result<Activated, DriverError> {
    if let Placement::Ssh(connection) = placement {
        events.progress("copying the system's closure");
        connection.options.prepare(&connection.target)?;
        let copy = commands::copy_to_host(connection, &system.out_path, substituters)?;
        crate::nix::runner::run(format!("copying the system of `{address}` to it"), &copy, Some(events)).await?;
    }
    activate(address, placement, &system.out_path, checks, events).await
}

/// A system that is active on its host and passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Activated {
    /// The system now active.
    pub(crate) system: String,
    /// The one active before, when it was another.
    pub(crate) previous: Option<String>,
}

/// The system the host's profile points to; `None` when it has none (never deployed).
pub(crate) async fn current_system(placement: &Placement, events: &EventSink) -> Result<Option<String>, DriverError> {
    let output = placement.run(commands::current_system(), events).await?;
    let path = output.stdout.trim();
    Ok((!path.is_empty()).then(|| path.to_owned()))
}

/// Makes `system` (already in the host's store) the host's active system, checks `checks`, and
/// rolls back to the previous system when activation or a check fails.
pub(crate) async fn activate(
    address: &ResourceId,
    placement: &Placement,
    system: &str,
    checks: &HealthChecks,
    events: &EventSink,
) -> Result<Activated, DriverError> {
    let previous = current_system(placement, events).await?;
    if previous.as_deref() == Some(system) {
        events.progress(format!("`{system}` is already active"));
        health::check_all(checks, placement, events).await?;
        return Ok(Activated { system: system.to_owned(), previous: None });
    }
    events.progress(format!("activating `{system}`"));
    placement.run(commands::set_profile(system), events).await?;
    let failure = match placement.run(commands::switch(system), events).await {
        Err(error) => Some(DriverError { summary: format!("activation failed: {}", error.summary), ..error }),
        // As deploy-rs does: the new system must still let rave in, not only pass its checks.
        Ok(_) => match placement.confirm_reachable(events).await {
            Err(error) => Some(error),
            Ok(()) => health::check_all(checks, placement, events).await.err(),
        },
    };
    match failure {
        None => Ok(Activated { system: system.to_owned(), previous }),
        Some(error) => Err(roll_back(address, placement, previous.as_deref(), error, events).await),
    }
}

/// Steps the profile back to `previous` and activates it again after `error`; the error then
/// says what was done. When there is no previous system, or rolling back fails too, the host is
/// left half done (the resource is marked tainted).
async fn roll_back(
    address: &ResourceId,
    placement: &Placement,
    previous: Option<&str>,
    mut error: DriverError,
    events: &EventSink,
) -> DriverError {
    let Some(previous) = previous else {
        error.details.insert(0, format!("not rolled back: `{address}` had no system before this one"));
        error.is_partial = true;
        return error;
    };
    events.progress(format!("rolling back to `{previous}`"));
    let rolled_back = match placement.run(commands::rollback_profile(), events).await {
        Ok(_) => placement.run(commands::switch(previous), events).await.map(drop),
        Err(failure) => Err(failure),
    };
    match rolled_back {
        Ok(()) => {
            events.progress(format!("rolled back: `{previous}` is active again"));
            error.summary = format!("{}; rolled back to the previous system", error.summary);
            error.details.insert(0, format!("rolled back to `{previous}`, which is active again"));
        }
        Err(failure) => {
            error.summary = format!("{}; rolling back failed too", error.summary);
            error.details.insert(0, format!("rolling back to `{previous}` failed: {failure}"));
            error.is_partial = true;
        }
    }
    error
}
