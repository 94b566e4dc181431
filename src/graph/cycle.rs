//! Finding dependency cycles and saying them as `a -> b -> a`.
//!
//! `petgraph::algo::toposort` names one node of a cycle only; strongly connected components give
//! every cycle's members, and a walk inside each component recovers one cycle in order.

use std::collections::HashSet;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostic::{Diagnostic, Location};
use crate::model::{ResourceId, Spec};

/// One cycle per strongly connected component that has one, each starting at its smallest address.
pub(super) fn find_cycles(graph: &DiGraph<ResourceId, ()>) -> Vec<Vec<ResourceId>> {
    let mut cycles: Vec<Vec<ResourceId>> = tarjan_scc(graph)
        .into_iter()
        .filter(|component| component.len() > 1 || graph.contains_edge(component[0], component[0]))
        .map(|component| cycle_in(graph, &component))
        .collect();
    cycles.sort();
    cycles
}

/// Walks from the component's smallest address along edges that stay in the component until a
/// node repeats; every node of a strongly connected component has such an edge.
fn cycle_in(graph: &DiGraph<ResourceId, ()>, component: &[NodeIndex]) -> Vec<ResourceId> {
    let members: HashSet<NodeIndex> = component.iter().copied().collect();
    let start = *component.iter().min_by_key(|node| &graph[**node]).unwrap_or(&component[0]);
    let mut path = vec![start];
    let mut seen = HashSet::from([start]);
    let mut current = start;
    loop {
        // Prefer closing the cycle at the start, then the smallest next address, for stable output.
        let mut next: Vec<NodeIndex> = graph.neighbors(current).filter(|node| members.contains(node)).collect();
        next.sort_by_key(|node| &graph[*node]);
        let step = if next.contains(&start) {
            start
        } else {
            next.iter().copied().find(|node| !seen.contains(node)).unwrap_or(next[0])
        };
        if seen.contains(&step) {
            let from = path.iter().position(|node| *node == step).unwrap_or(0);
            let mut cycle: Vec<ResourceId> = path[from..].iter().map(|node| graph[*node].clone()).collect();
            cycle.push(graph[step].clone());
            return cycle;
        }
        seen.insert(step);
        path.push(step);
        current = step;
    }
}

/// The diagnostic for one cycle, placed at its first resource's declaration.
pub(super) fn diagnostic(spec: &Spec, cycle: &[ResourceId]) -> Diagnostic {
    let text = cycle.iter().map(ToString::to_string).collect::<Vec<_>>().join(" -> ");
    let position = spec.resources.get(&cycle[0]).map(|resource| resource.position);
    Diagnostic::error(Location { file: spec.source.clone(), position }, format!("dependency cycle: `{text}`"))
        .with_hint("a resource cannot depend on itself through others; remove one of these references or `needs`")
}
