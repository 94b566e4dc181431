//! A door for `benches/state.rs` and `benches/postgres_state.rs`: a bench is another crate and
//! sees only `pub` items, so this module drives a backend (local or PostgreSQL) over a generated
//! state through plain types. It is not part of rave's interface.

use std::path::Path;
use std::time::Duration;

use crate::state::State;
use crate::state::backend::{StateBackend, StateUpdate};
use crate::state::local_backend::LocalBackend;
use crate::state::lock::LockInfo;
use crate::state::postgres::PostgresBackend;
use crate::state::sample::{sample_address, sample_resource, sample_state};

/// A locked backend holding a committed state of generated resources.
pub struct StateBench {
    backend: Box<dyn StateBackend>,
    state: State,
    update: StateUpdate,
}

impl StateBench {
    /// Locks the state file at `state_path` and commits a state of `resource_count` resources.
    pub fn new(state_path: &Path, resource_count: usize) -> Result<Self, String> {
        Self::on(Box::new(LocalBackend::new(state_path.to_owned())), resource_count)
    }

    /// Locks the state of project `bench` in the PostgreSQL database at `url` and commits a state
    /// of `resource_count` resources; the database must hold no state for that project yet.
    pub fn on_postgres(url: &str, resource_count: usize) -> Result<Self, String> {
        let backend = PostgresBackend::connect(url, "bench").map_err(|error| error.to_string())?;
        Self::on(Box::new(backend), resource_count)
    }

    fn on(mut backend: Box<dyn StateBackend>, resource_count: usize) -> Result<Self, String> {
        backend.lock(&LockInfo::current("bench"), Duration::ZERO).map_err(|error| error.to_string())?;
        let state = sample_state(resource_count);
        backend.commit(&state).map_err(|error| error.to_string())?;
        let (address, resource) = state.resources.iter().next().map_or_else(
            || (sample_address(0), sample_resource(0)),
            |(address, resource)| (address.clone(), resource.clone()),
        );
        Ok(Self { backend, state, update: StateUpdate::Put { address, resource } })
    }

    /// Records one update on the committed state, as an apply does after each node.
    pub fn record(&mut self) -> Result<(), String> {
        self.backend.record(&self.state, &self.update).map_err(|error| error.to_string())
    }

    /// Commits the whole state again as the next serial, as an apply does at its end.
    pub fn commit(&mut self) -> Result<(), String> {
        self.state.serial += 1;
        self.backend.commit(&self.state).map_err(|error| error.to_string())
    }

    /// Loads the state and returns how many resources it holds.
    pub fn load(&mut self) -> Result<usize, String> {
        let state = self.backend.load().map_err(|error| error.to_string())?;
        Ok(state.map_or(0, |state| state.resources.len()))
    }
}
