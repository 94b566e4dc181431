//! One node of an apply: the driver calls for its change, and the state update they leave.
//!
//! A replacement is one node doing both halves in the order its action names (`-/+` deletes the
//! old resource first, `+/-` creates the new one first): one address has one recorded state, so
//! the two halves cannot be recorded apart.
//!
//! What is recorded, per outcome:
//! - success: `Put` the desired resource with the driver's outputs, or `Remove` after a delete;
//! - a failure that left nothing half done: nothing, except a `-/+` whose delete succeeded and
//!   whose create then failed, which records `Remove` (the old resource is gone);
//! - a partial failure ([`DriverError::is_partial`]): the resource is recorded `tainted` so the
//!   next plan replaces it: the desired attributes when a create was under way, the recorded
//!   state when an update or a delete was;
//! - a `+/-` whose create succeeded and whose delete of the old resource then failed records the
//!   new resource (tainted only when the delete was partial) and reports the failure.

use crate::apply::EventSink;
use crate::drivers::{Driver, DriverContext, DriverError, Outputs};
use crate::plan::{Action, Change, Desired};
use crate::state::ResourceState;
use crate::state::backend::StateUpdate;

/// What one node did.
#[derive(Debug)]
pub(crate) struct StepOutput {
    /// Why it failed, when it did.
    pub(crate) error: Option<DriverError>,
    /// What to record, when anything changed.
    pub(crate) update: Option<StateUpdate>,
}

/// Carries out `change` with `driver`.
pub(crate) async fn run(
    driver: &dyn Driver,
    context: &DriverContext,
    events: &EventSink,
    change: &Change,
) -> StepOutput {
    match Parts::of(change) {
        Ok(parts) => parts.run(driver, context, events).await,
        Err(error) => StepOutput { error: Some(error), update: None },
    }
}

/// A change's action with the halves of the plan it needs, checked to be there.
enum Parts<'a> {
    Create(&'a Desired),
    Update(&'a ResourceState, &'a Desired),
    DeleteThenCreate(&'a ResourceState, &'a Desired),
    CreateThenDelete(&'a ResourceState, &'a Desired),
    Delete(&'a ResourceState),
}

impl<'a> Parts<'a> {
    /// The parts of `change`; a saved plan edited by hand may lack one.
    fn of(change: &'a Change) -> Result<Self, DriverError> {
        let before = || {
            change.before.as_ref().ok_or_else(|| {
                DriverError::new(format!("the plan has no recorded state for `{}` to act on", change.address))
            })
        };
        let after = || {
            change
                .after
                .as_ref()
                .ok_or_else(|| DriverError::new(format!("the plan has no desired state for `{}`", change.address)))
        };
        Ok(match change.action {
            Action::NoOp => {
                return Err(DriverError::new(format!("`{}` has nothing to do", change.address)));
            }
            Action::Create => Self::Create(after()?),
            Action::Update => Self::Update(before()?, after()?),
            Action::DeleteThenCreate => Self::DeleteThenCreate(before()?, after()?),
            Action::CreateThenDelete => Self::CreateThenDelete(before()?, after()?),
            Action::Delete => Self::Delete(before()?),
        })
    }

    async fn run(self, driver: &dyn Driver, context: &DriverContext, events: &EventSink) -> StepOutput {
        let address = events.address();
        let put = |resource| Some(StateUpdate::Put { address: address.clone(), resource });
        let remove = || Some(StateUpdate::Remove { address: address.clone() });
        match self {
            Self::Create(desired) => match driver.create(context, events, address, desired).await {
                Ok(outputs) => done(put(applied(desired, outputs))),
                Err(error) => {
                    let update = error.is_partial.then(|| put(tainted_desired(desired))).flatten();
                    failed(error, update)
                }
            },
            Self::Update(recorded, desired) => match driver.update(context, events, address, recorded, desired).await {
                Ok(outputs) => done(put(applied(desired, outputs))),
                Err(error) => {
                    let update = error.is_partial.then(|| put(tainted(recorded))).flatten();
                    failed(error, update)
                }
            },
            Self::Delete(recorded) => match driver.delete(context, events, address, recorded).await {
                Ok(()) => done(remove()),
                Err(error) => {
                    let update = error.is_partial.then(|| put(tainted(recorded))).flatten();
                    failed(error, update)
                }
            },
            Self::DeleteThenCreate(recorded, desired) => {
                if let Err(error) = driver.delete(context, events, address, recorded).await {
                    let update = error.is_partial.then(|| put(tainted(recorded))).flatten();
                    return failed(error, update);
                }
                match driver.create(context, events, address, desired).await {
                    Ok(outputs) => done(put(applied(desired, outputs))),
                    Err(error) if error.is_partial => failed(error, put(tainted_desired(desired))),
                    Err(error) => failed(error, remove()),
                }
            }
            Self::CreateThenDelete(recorded, desired) => {
                let outputs = match driver.create(context, events, address, desired).await {
                    Ok(outputs) => outputs,
                    // The old resource is still there, as recorded; tainted, the next plan
                    // replaces it again (and a driver's create is idempotent).
                    Err(error) => {
                        let update = error.is_partial.then(|| put(tainted(recorded))).flatten();
                        return failed(error, update);
                    }
                };
                let mut created = applied(desired, outputs);
                match driver.delete(context, events, address, recorded).await {
                    Ok(()) => done(put(created)),
                    Err(error) => {
                        created.tainted = error.is_partial;
                        failed(error, put(created))
                    }
                }
            }
        }
    }
}

fn done(update: Option<StateUpdate>) -> StepOutput {
    StepOutput { error: None, update }
}

fn failed(error: DriverError, update: Option<StateUpdate>) -> StepOutput {
    StepOutput { error: Some(error), update }
}

/// What is recorded for a resource the driver brought to `desired`.
fn applied(desired: &Desired, outputs: Outputs) -> ResourceState {
    ResourceState {
        attributes: desired.attributes(),
        secret_digests: desired.secret_digests.clone(),
        outputs,
        dependencies: desired.dependencies.clone(),
        tainted: false,
    }
}

/// What is recorded for a resource whose create stopped half way.
fn tainted_desired(desired: &Desired) -> ResourceState {
    ResourceState { tainted: true, ..applied(desired, Outputs::new()) }
}

/// `recorded`, marked as left half done.
fn tainted(recorded: &ResourceState) -> ResourceState {
    ResourceState { tainted: true, ..recorded.clone() }
}
