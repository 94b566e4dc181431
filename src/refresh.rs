//! Reading reality: every recorded resource's driver is asked what is really there, in parallel.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::drivers::{DriverContext, DriverError, DriverSet};
use crate::model::ResourceId;
use crate::plan::Observed;
use crate::state::State;

/// What refresh found.
#[derive(Debug, Default)]
pub(crate) struct Refreshed {
    /// Per recorded resource, what its driver observed.
    pub(crate) observed: BTreeMap<ResourceId, Observed>,
    /// Resources whose driver could not tell, and why.
    pub(crate) errors: Vec<(ResourceId, DriverError)>,
}

/// Asks each recorded resource's driver what is there, at most `parallelism` at once.
pub(crate) async fn refresh(
    drivers: Arc<dyn DriverSet>,
    context: Arc<DriverContext>,
    state: &State,
    parallelism: usize,
) -> Refreshed {
    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut tasks = JoinSet::new();
    for (address, recorded) in &state.resources {
        let (drivers, context, permits) = (Arc::clone(&drivers), Arc::clone(&context), Arc::clone(&permits));
        let (address, recorded) = (address.clone(), recorded.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let result = drivers.driver(address.kind).refresh(&context, &address, &recorded).await;
            (address, result)
        });
    }
    let mut refreshed = Refreshed::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((address, Ok(observed))) => {
                refreshed.observed.insert(address, observed);
            }
            Ok((address, Err(error))) => refreshed.errors.push((address, error)),
            Err(panic) => std::panic::resume_unwind(panic.into_panic()),
        }
    }
    refreshed.errors.sort_by(|a, b| a.0.cmp(&b.0));
    refreshed
}
