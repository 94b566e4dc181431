//! A door for `benches/state.rs`: a bench is another crate and sees only `pub` items, so this
//! module drives the local backend over a generated state through plain types. It is not part of
//! rave's interface.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::model::{ResourceId, ResourceKind};
use crate::state::backend::{StateBackend, StateUpdate};
use crate::state::local_backend::LocalBackend;
use crate::state::lock::LockInfo;
use crate::state::{ResourceState, State};

/// A locked local backend holding a committed state of generated resources.
#[derive(Debug)]
pub struct StateBench {
    backend: LocalBackend,
    state: State,
    update: StateUpdate,
}

impl StateBench {
    /// Locks the state file at `state_path` and commits a state of `resource_count` resources.
    pub fn new(state_path: &Path, resource_count: usize) -> Result<Self, String> {
        let mut backend = LocalBackend::new(state_path.to_owned());
        backend
            .lock(&LockInfo::current("bench"), Duration::ZERO)
            .map_err(|error| error.to_string())?;
        let state = sample_state(resource_count);
        backend.commit(&state).map_err(|error| error.to_string())?;
        let (address, resource) = state.resources.iter().next().map_or_else(
            || (sample_address(0), sample_resource(0)),
            |(address, resource)| (address.clone(), resource.clone()),
        );
        Ok(Self {
            backend,
            state,
            update: StateUpdate::Put { address, resource },
        })
    }

    /// Records one update on the committed state, as an apply does after each node.
    pub fn record(&mut self) -> Result<(), String> {
        self.backend
            .record(&self.state, &self.update)
            .map_err(|error| error.to_string())
    }

    /// Commits the whole state again as the next serial, as an apply does at its end.
    pub fn commit(&mut self) -> Result<(), String> {
        self.state.serial += 1;
        self.backend
            .commit(&self.state)
            .map_err(|error| error.to_string())
    }

    /// Loads the state and returns how many resources it holds.
    pub fn load(&mut self) -> Result<usize, String> {
        let state = self.backend.load().map_err(|error| error.to_string())?;
        Ok(state.map_or(0, |state| state.resources.len()))
    }
}

/// A state at serial 1 with `resource_count` resources shaped like real ones: a few attributes,
/// a store path, a dependency.
pub(crate) fn sample_state(resource_count: usize) -> State {
    let resources: BTreeMap<ResourceId, ResourceState> = (0..resource_count)
        .map(|index| (sample_address(index), sample_resource(index)))
        .collect();
    State {
        serial: 1,
        resources,
        ..State::new_lineage()
    }
}

fn sample_address(index: usize) -> ResourceId {
    let kind = ResourceKind::ALL[index % ResourceKind::ALL.len()];
    format!("{kind}.{kind}-{index:06}")
        .parse()
        .expect("generated names are valid")
}

fn sample_resource(index: usize) -> ResourceState {
    let attributes = BTreeMap::from([
        (
            "flake".to_owned(),
            serde_json::json!(format!(".#nixosConfigurations.node-{index}")),
        ),
        ("memory".to_owned(), serde_json::json!(2048)),
        ("vcpu".to_owned(), serde_json::json!(2)),
        ("system".to_owned(), serde_json::json!("x86_64-linux")),
    ]);
    let outputs = BTreeMap::from([(
        "store_path".to_owned(),
        serde_json::json!(format!("/nix/store/{index:032}-node-{index}")),
    )]);
    ResourceState {
        attributes,
        secret_digests: BTreeMap::new(),
        outputs,
        dependencies: index
            .checked_sub(1)
            .map(sample_address)
            .into_iter()
            .collect(),
        tainted: false,
    }
}
