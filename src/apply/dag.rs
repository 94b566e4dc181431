//! The apply graph: one node per change that does something, and which node waits for which.
//!
//! Built from the plan alone (the executor never re-reads the file), with plain adjacency lists and
//! in-degree counts: the executor runs Kahn's algorithm live, so petgraph is not needed here.
//!
//! Edges, "A before B":
//! - a create, update or replacement of B waits for the create, update or replacement of each of
//!   B's desired dependencies (`after.dependencies`) that is planned too;
//! - the delete of X waits for every other planned node whose recorded resource depended on X
//!   (`before.dependencies` contains X): deletes of dependents, so destroys run in reverse
//!   dependency order, and updates or replacements that move a resource off X.
//!
//! Nothing waits for a delete except another delete, so a cycle can only come from recorded
//! dependencies that themselves form one (a state edited by hand); the executor reports such
//! nodes instead of waiting forever.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::ResourceId;
use crate::plan::{Action, Change, Plan};

/// The nodes of an apply and the edges between them.
#[derive(Debug)]
pub(crate) struct Dag {
    /// One change per node, in plan (address) order; a node's index is its id.
    pub(crate) nodes: Vec<Arc<Change>>,
    /// For each node, the nodes that wait for it.
    pub(crate) dependents: Vec<Vec<usize>>,
    /// For each node, how many nodes it waits for.
    pub(crate) in_degree: Vec<usize>,
}

impl Dag {
    /// The graph of `plan`'s changes, no-ops left out.
    pub(crate) fn from_plan(plan: &Plan) -> Self {
        let nodes: Vec<Arc<Change>> = plan
            .changes
            .iter()
            .filter(|change| change.action != Action::NoOp)
            .map(|change| Arc::new(change.clone()))
            .collect();
        let index: HashMap<&ResourceId, usize> =
            nodes.iter().enumerate().map(|(id, change)| (&change.address, id)).collect();
        let mut dag =
            Self { dependents: vec![Vec::new(); nodes.len()], in_degree: vec![0; nodes.len()], nodes: Vec::new() };
        let is_delete = |id: usize| nodes[id].action == Action::Delete;
        for (id, change) in nodes.iter().enumerate() {
            if let Some(desired) = change.after.as_ref().filter(|_| !is_delete(id)) {
                for dependency in &desired.dependencies {
                    if let Some(&before) = index.get(dependency).filter(|&&other| !is_delete(other)) {
                        dag.add_edge(before, id);
                    }
                }
            }
            if let Some(recorded) = &change.before {
                for dependency in &recorded.dependencies {
                    if let Some(&after) = index.get(dependency).filter(|&&other| is_delete(other) && other != id) {
                        dag.add_edge(id, after);
                    }
                }
            }
        }
        dag.nodes = nodes;
        dag
    }

    /// Records that `after` waits for `before`, once.
    fn add_edge(&mut self, before: usize, after: usize) {
        if before != after && !self.dependents[before].contains(&after) {
            self.dependents[before].push(after);
            self.in_degree[after] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::testing::{change_between as change, plan};

    fn edges(dag: &Dag) -> Vec<String> {
        let mut edges = Vec::new();
        for (before, dependents) in dag.dependents.iter().enumerate() {
            for &after in dependents {
                edges.push(format!("{} -> {}", dag.nodes[before].address, dag.nodes[after].address));
            }
        }
        edges.sort();
        edges
    }

    #[test]
    fn creates_follow_desired_dependencies_among_planned_nodes() {
        let dag = Dag::from_plan(&plan(vec![
            change("host.h", Action::NoOp, Some(&[]), Some(&[])),
            change("service.s", Action::Create, None, Some(&["vm.v", "host.h"])),
            change("vm.v", Action::Update, Some(&["host.h"]), Some(&["host.h"])),
        ]));
        assert_eq!(dag.nodes.len(), 2);
        assert_eq!(edges(&dag), ["vm.v -> service.s"]);
        assert_eq!(dag.in_degree, [1, 0]);
    }

    #[test]
    fn deletes_run_in_reverse_dependency_order() {
        let dag = Dag::from_plan(&plan(vec![
            change("host.h", Action::Delete, Some(&[]), None),
            change("service.s", Action::Delete, Some(&["vm.v"]), None),
            change("vm.v", Action::Delete, Some(&["host.h"]), None),
        ]));
        assert_eq!(edges(&dag), ["service.s -> vm.v", "vm.v -> host.h"]);
    }

    #[test]
    fn a_delete_waits_for_what_moves_off_it_and_replacements_are_one_node() {
        let dag = Dag::from_plan(&plan(vec![
            change("host.new", Action::Create, None, Some(&[])),
            change("host.old", Action::Delete, Some(&[]), None),
            change("vm.v", Action::DeleteThenCreate, Some(&["host.old"]), Some(&["host.new"])),
        ]));
        assert_eq!(edges(&dag), ["host.new -> vm.v", "vm.v -> host.old"]);
    }
}
