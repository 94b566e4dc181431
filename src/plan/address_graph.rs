//! Every address a plan considers, numbered in address order, with its dependency edges by
//! number: the order `diff` decides in, and which resources a plan may act on.
//!
//! Numbering once keeps a 10,000-resource plan from looking addresses up in maps again and again.
//! Edges follow the plan's direction: building toward the configuration, a desired resource's own
//! dependencies count, and a recorded one's only when it is going; destroying, what was recorded
//! counts. Edges to addresses that are neither desired nor recorded are ignored.
//!
//! The scope: building, a `--target` brings what it depends on (it cannot come without them) and
//! an `--exclude` takes away what depends on it (that cannot come without it). Destroying runs the
//! other way: a target takes what depends on it down too, and an exclusion keeps what it needs.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

use rayon::prelude::*;

use crate::model::{Resource, ResourceId};
use crate::state::ResourceState;

/// One address: what the file and the state say about it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Node<'a> {
    /// The address.
    pub(super) id: &'a ResourceId,
    /// The desired resource, when the file has it.
    pub(super) desired: Option<&'a Resource>,
    /// The recorded resource, when the state has it.
    pub(super) recorded: Option<&'a ResourceState>,
}

/// The addresses in order, and the edges between them by number.
pub(super) struct AddressGraph<'a> {
    /// Every desired or recorded address, in address order.
    pub(super) nodes: Vec<Node<'a>>,
    dependencies: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
}

impl<'a> AddressGraph<'a> {
    /// Numbers the union of `desired` and `recorded` and resolves the edges for the plan's direction.
    pub(super) fn new(
        desired: &'a BTreeMap<ResourceId, Resource>,
        recorded: &'a BTreeMap<ResourceId, ResourceState>,
        is_destroy: bool,
    ) -> Self {
        let nodes = merge(desired, recorded);
        // Each address's edges on every core; then who depends on whom, in order.
        let dependencies: Vec<Vec<usize>> = nodes
            .par_iter()
            .map(|node| {
                let desired_edges = node.desired.map(|resource| resource.dependencies.as_slice());
                let recorded_edges = node.recorded.map(|state| state.dependencies.as_slice());
                let edges =
                    if is_destroy { recorded_edges.or(desired_edges) } else { desired_edges.or(recorded_edges) };
                edges.unwrap_or_default().iter().filter_map(|dependency| index_of(&nodes, dependency)).collect()
            })
            .collect();
        let mut dependents = vec![Vec::new(); nodes.len()];
        for (index, resolved) in dependencies.iter().enumerate() {
            for &dependency in resolved {
                dependents[dependency].push(index);
            }
        }
        Self { nodes, dependencies, dependents }
    }

    /// The number of `address`, when the plan considers it.
    pub(super) fn index(&self, address: &ResourceId) -> Option<usize> {
        index_of(&self.nodes, address)
    }

    /// The numbers of the addresses `index` depends on.
    pub(super) fn dependencies(&self, index: usize) -> &[usize] {
        &self.dependencies[index]
    }

    /// Every number, each after all of its dependencies (Kahn's algorithm, smallest address first
    /// among those ready). A `Spec` is acyclic; should the state hold a cycle, the addresses left
    /// over follow in address order rather than be lost.
    pub(super) fn dependency_order(&self) -> Vec<usize> {
        let mut waiting_on: Vec<usize> = self.dependencies.iter().map(Vec::len).collect();
        let mut ready: BinaryHeap<Reverse<usize>> =
            (0..self.nodes.len()).filter(|index| waiting_on[*index] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut is_placed = vec![false; self.nodes.len()];
        while let Some(Reverse(index)) = ready.pop() {
            order.push(index);
            is_placed[index] = true;
            for &dependent in &self.dependents[index] {
                waiting_on[dependent] -= 1;
                if waiting_on[dependent] == 0 {
                    ready.push(Reverse(dependent));
                }
            }
        }
        order.extend((0..self.nodes.len()).filter(|index| !is_placed[*index]));
        order
    }

    /// Whether each number is in the plan's scope, given `--target`s and `--exclude`s.
    pub(super) fn scope(&self, targets: &[ResourceId], excludes: &[ResourceId], is_destroy: bool) -> Vec<bool> {
        let (toward_targets, toward_excludes) =
            if is_destroy { (&self.dependents, &self.dependencies) } else { (&self.dependencies, &self.dependents) };
        let mut in_scope =
            if targets.is_empty() { vec![true; self.nodes.len()] } else { self.reach(targets, toward_targets) };
        for (index, is_left_alone) in self.reach(excludes, toward_excludes).into_iter().enumerate() {
            in_scope[index] &= !is_left_alone;
        }
        in_scope
    }

    /// Which numbers `start` reaches along `edges`, itself included.
    fn reach(&self, start: &[ResourceId], edges: &[Vec<usize>]) -> Vec<bool> {
        let mut reached = vec![false; self.nodes.len()];
        let mut pending: Vec<usize> = start.iter().filter_map(|address| self.index(address)).collect();
        while let Some(index) = pending.pop() {
            if !reached[index] {
                reached[index] = true;
                pending.extend(&edges[index]);
            }
        }
        reached
    }
}

/// The union of both maps' addresses in order: one pass, as both are sorted.
fn merge<'a>(
    desired: &'a BTreeMap<ResourceId, Resource>,
    recorded: &'a BTreeMap<ResourceId, ResourceState>,
) -> Vec<Node<'a>> {
    let mut nodes = Vec::with_capacity(desired.len().max(recorded.len()));
    let mut desired = desired.iter().peekable();
    let mut recorded = recorded.iter().peekable();
    loop {
        let order = match (desired.peek(), recorded.peek()) {
            (Some((wanted, _)), Some((had, _))) => wanted.cmp(had),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return nodes,
        };
        let wanted = if order == Ordering::Greater { None } else { desired.next() };
        let had = if order == Ordering::Less { None } else { recorded.next() };
        if let Some(id) = wanted.map(|(id, _)| id).or(had.map(|(id, _)| id)) {
            nodes.push(Node {
                id,
                desired: wanted.map(|(_, resource)| resource),
                recorded: had.map(|(_, state)| state),
            });
        }
    }
}

fn index_of(nodes: &[Node<'_>], address: &ResourceId) -> Option<usize> {
    nodes.binary_search_by(|node| node.id.cmp(address)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Position;
    use crate::model::ResourceSpec;
    use crate::plan::test_world::{id, ids};

    /// host.a ← vm.b ← service.c ← service.d, all desired; host.a, vm.b and vm.old (on host.a)
    /// recorded.
    fn world() -> (BTreeMap<ResourceId, Resource>, BTreeMap<ResourceId, ResourceState>) {
        desired_and_recorded(
            &[("host.a", &[]), ("vm.b", &["host.a"]), ("service.c", &["vm.b"]), ("service.d", &["service.c"])],
            &[("host.a", &[]), ("vm.b", &["host.a"]), ("vm.old", &["host.a"])],
        )
    }

    type Edges<'a> = &'a [(&'a str, &'a [&'a str])];

    fn desired_and_recorded(
        desired: Edges<'_>,
        recorded: Edges<'_>,
    ) -> (BTreeMap<ResourceId, Resource>, BTreeMap<ResourceId, ResourceState>) {
        let spec: ResourceSpec =
            serde_json::from_value(serde_json::json!({"kind": "cache", "spec": {"type": "cachix"}})).unwrap();
        let desired = desired
            .iter()
            .map(|(address, dependencies)| {
                let resource = Resource {
                    id: id(address),
                    spec: spec.clone().into(),
                    dependencies: ids(dependencies),
                    position: Position::default(),
                };
                (id(address), resource)
            })
            .collect();
        let recorded = recorded
            .iter()
            .map(|(address, dependencies)| {
                let state = ResourceState {
                    attributes: BTreeMap::new(),
                    secret_digests: BTreeMap::new(),
                    outputs: BTreeMap::new(),
                    dependencies: ids(dependencies),
                    tainted: false,
                };
                (id(address), state)
            })
            .collect();
        (desired, recorded)
    }

    fn addresses(graph: &AddressGraph<'_>, indexes: impl IntoIterator<Item = usize>) -> Vec<String> {
        indexes.into_iter().map(|index| graph.nodes[index].id.to_string()).collect()
    }

    #[test]
    fn nodes_are_the_union_in_address_order() {
        let (desired, recorded) = world();
        let graph = AddressGraph::new(&desired, &recorded, false);
        let nodes: Vec<(String, bool, bool)> = graph
            .nodes
            .iter()
            .map(|node| (node.id.to_string(), node.desired.is_some(), node.recorded.is_some()))
            .collect();
        let expected = [
            ("host.a", true, true),
            ("vm.b", true, true),
            ("vm.old", false, true),
            ("service.c", true, false),
            ("service.d", true, false),
        ];
        assert_eq!(
            nodes,
            expected.map(|(address, is_desired, is_recorded)| (address.to_owned(), is_desired, is_recorded))
        );
    }

    #[test]
    fn dependencies_come_first_and_ties_go_by_address() {
        let (desired, recorded) = desired_and_recorded(
            &[
                ("cache.a", &["cache.z"]),
                ("cache.b", &[]),
                ("cache.z", &["cache.y"]),
                ("cache.y", &[]),
                ("cache.c", &["cache.a", "cache.b", "cache.gone"]),
            ],
            &[],
        );
        let graph = AddressGraph::new(&desired, &recorded, false);
        assert_eq!(
            addresses(&graph, graph.dependency_order()),
            ["cache.b", "cache.y", "cache.z", "cache.a", "cache.c"]
        );
    }

    #[test]
    fn cycles_are_not_lost() {
        let (desired, recorded) =
            desired_and_recorded(&[("cache.a", &["cache.b"]), ("cache.b", &["cache.a"]), ("cache.c", &[])], &[]);
        let graph = AddressGraph::new(&desired, &recorded, false);
        assert_eq!(addresses(&graph, graph.dependency_order()), ["cache.c", "cache.a", "cache.b"]);
    }

    #[test]
    fn scopes_follow_the_direction_of_the_plan() {
        /// Targets, excludes, whether destroying, and the scope expected.
        type Case<'a> = (&'a [&'a str], &'a [&'a str], bool, &'a [&'a str]);
        let cases: &[Case<'_>] = &[
            (&[], &[], false, &["host.a", "vm.b", "vm.old", "service.c", "service.d"]),
            (&["service.c"], &[], false, &["host.a", "vm.b", "service.c"]),
            (&["vm.old"], &[], false, &["host.a", "vm.old"]),
            (&[], &["vm.b"], false, &["host.a", "vm.old"]),
            (&["service.d"], &["service.c"], false, &["host.a", "vm.b"]),
            (&["vm.b"], &[], true, &["vm.b", "service.c", "service.d"]),
            (&["host.a"], &["vm.b"], true, &["vm.old", "service.c", "service.d"]),
            (&[], &["service.c"], true, &["vm.old", "service.d"]),
        ];
        let (desired, recorded) = world();
        for (targets, excludes, is_destroy, expected) in cases {
            let graph = AddressGraph::new(&desired, &recorded, *is_destroy);
            let scope = graph.scope(&ids(targets), &ids(excludes), *is_destroy);
            let in_scope = (0..graph.nodes.len()).filter(|index| scope[*index]);
            assert_eq!(addresses(&graph, in_scope), *expected, "targets {targets:?} excludes {excludes:?}");
        }
    }
}
