//! Generated states shaped like real ones, for the state backend's tests and benchmarks.

use std::collections::BTreeMap;

use crate::model::{ResourceId, ResourceKind};
use crate::state::{ResourceState, State};

/// A state at serial 1 with `resource_count` resources shaped like real ones: a few attributes,
/// a store path, a dependency.
pub(crate) fn sample_state(resource_count: usize) -> State {
    let resources: BTreeMap<ResourceId, ResourceState> =
        (0..resource_count).map(|index| (sample_address(index), sample_resource(index))).collect();
    State { serial: 1, resources, ..State::new_lineage() }
}

pub(crate) fn sample_address(index: usize) -> ResourceId {
    let kind = ResourceKind::ALL[index % ResourceKind::ALL.len()];
    format!("{kind}.{kind}-{index:06}").parse().expect("generated names are valid")
}

pub(crate) fn sample_resource(index: usize) -> ResourceState {
    let attributes = BTreeMap::from([
        ("flake".to_owned(), serde_json::json!(format!(".#nixosConfigurations.node-{index}"))),
        ("memory".to_owned(), serde_json::json!(2048)),
        ("vcpu".to_owned(), serde_json::json!(2)),
        ("system".to_owned(), serde_json::json!("x86_64-linux")),
    ]);
    let outputs =
        BTreeMap::from([("store_path".to_owned(), serde_json::json!(format!("/nix/store/{index:032}-node-{index}")))]);
    ResourceState {
        attributes,
        secret_digests: BTreeMap::new(),
        outputs,
        dependencies: index.checked_sub(1).map(sample_address).into_iter().collect(),
        tainted: false,
    }
}
