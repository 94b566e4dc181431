//! Dependencies before dependents: the order in which `diff` decides, so that a replacement can
//! reach everything placed on it in one pass.
//!
//! Kahn's algorithm over the desired resources' dependencies, taking the smallest ready address
//! first so the order is deterministic. The `Spec` is acyclic (lowering rejects cycles); if it were
//! not, the resources left over would follow in address order rather than be lost.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Resource, ResourceId};

/// Every resource's address, each after all of its dependencies.
pub(super) fn dependency_order(resources: &BTreeMap<ResourceId, Resource>) -> Vec<&ResourceId> {
    let mut waiting_on: BTreeMap<&ResourceId, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&ResourceId, Vec<&ResourceId>> = BTreeMap::new();
    for (id, resource) in resources {
        let known: BTreeSet<&ResourceId> = resource
            .dependencies
            .iter()
            .filter(|dependency| resources.contains_key(*dependency))
            .collect();
        waiting_on.insert(id, known.len());
        for dependency in known {
            dependents.entry(dependency).or_default().push(id);
        }
    }
    let mut ready: BTreeSet<&ResourceId> = waiting_on
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(id, _)| *id)
        .collect();
    let mut order = Vec::with_capacity(resources.len());
    while let Some(id) = ready.pop_first() {
        order.push(id);
        for dependent in dependents.get(id).into_iter().flatten() {
            if let Some(count) = waiting_on.get_mut(dependent) {
                *count -= 1;
                if *count == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    if order.len() < resources.len() {
        let placed: BTreeSet<&ResourceId> = order.iter().copied().collect();
        let left: Vec<&ResourceId> = resources.keys().filter(|id| !placed.contains(id)).collect();
        order.extend(left);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Position;
    use crate::model::ResourceSpec;

    fn resources(edges: &[(&str, &[&str])]) -> BTreeMap<ResourceId, Resource> {
        let spec: ResourceSpec = serde_json::from_value(
            serde_json::json!({"kind": "cache", "spec": {"type": "cachix"}}),
        )
        .unwrap();
        edges
            .iter()
            .map(|(id, dependencies)| {
                let id: ResourceId = id.parse().unwrap();
                let dependencies = dependencies
                    .iter()
                    .map(|dependency| dependency.parse().unwrap())
                    .collect();
                let resource = Resource {
                    id: id.clone(),
                    spec: spec.clone(),
                    dependencies,
                    position: Position::default(),
                };
                (id, resource)
            })
            .collect()
    }

    fn order(edges: &[(&str, &[&str])]) -> Vec<String> {
        dependency_order(&resources(edges))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn dependencies_come_first_and_ties_go_by_address() {
        assert_eq!(
            order(&[
                ("cache.a", &["cache.z"]),
                ("cache.b", &[]),
                ("cache.z", &["cache.y"]),
                ("cache.y", &[]),
                ("cache.c", &["cache.a", "cache.b"]),
            ]),
            ["cache.b", "cache.y", "cache.z", "cache.a", "cache.c"]
        );
    }

    #[test]
    fn unknown_dependencies_are_ignored_and_cycles_are_not_lost() {
        assert_eq!(order(&[("cache.a", &["cache.gone"])]), ["cache.a"]);
        assert_eq!(
            order(&[
                ("cache.a", &["cache.b"]),
                ("cache.b", &["cache.a"]),
                ("cache.c", &[])
            ]),
            ["cache.c", "cache.a", "cache.b"]
        );
    }
}
