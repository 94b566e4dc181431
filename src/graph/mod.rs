//! The resource graph: a DAG with an edge from each resource to what it depends on.
//!
//! petgraph lives only here. [`ResourceGraph::build`] refuses cycles with a diagnostic that prints
//! the cycle (`vm.a -> service.b -> vm.a`); `rave graph` prints the DOT form. Ordering for apply is
//! the executor's business (it works from the plan); this module answers questions about the file.

mod cycle;
mod dot;

use petgraph::graph::{DiGraph, NodeIndex};
use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::model::{Resource, ResourceId, Spec};

/// Every declared resource and its dependency edges.
#[derive(Debug)]
pub(crate) struct ResourceGraph {
    /// Edges point from a resource to each of its dependencies.
    graph: DiGraph<ResourceId, ()>,
}

impl ResourceGraph {
    /// Builds the graph of `spec`, or reports every dependency cycle in it.
    pub(crate) fn build(spec: &Spec) -> Result<Self, Vec<Diagnostic>> {
        // Nodes are numbered in address order, so a dependency's number is its place among the
        // sorted addresses. Each resource's edges are resolved on every core, and added in order.
        let ids: Vec<&ResourceId> = spec.resources.keys().collect();
        let resources: Vec<&Resource> = spec.resources.values().collect();
        let edges: Vec<(usize, usize)> = resources
            .par_iter()
            .enumerate()
            .flat_map_iter(|(from, resource)| {
                // `lower` has already reported references to undeclared resources.
                let numbers = resource.dependencies.iter().filter_map(|dependency| ids.binary_search(&dependency).ok());
                numbers.map(move |to| (from, to))
            })
            .collect();
        let mut graph = DiGraph::with_capacity(ids.len(), edges.len());
        for id in ids {
            graph.add_node(id.clone());
        }
        for (from, to) in edges {
            graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
        }
        let built = Self { graph };
        let cycles = cycle::find_cycles(&built.graph);
        if cycles.is_empty() {
            Ok(built)
        } else {
            Err(cycles.into_iter().map(|cycle| cycle::diagnostic(spec, &cycle)).collect())
        }
    }

    /// The graph in Graphviz DOT, dependencies pointing from dependent to dependency.
    pub(crate) fn to_dot(&self) -> String {
        dot::render(&self.graph)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnostic::Position;
    use crate::model::ResourceSpec;

    /// A spec of hosts whose `needs` are given as `(name, [needs…])`.
    pub(crate) fn spec_with_needs(edges: &[(&str, &[&str])]) -> Spec {
        let mut resources = std::collections::BTreeMap::new();
        for (line, (name, needs)) in (1u32..).zip(edges) {
            let id: ResourceId = format!("host.{name}").parse().unwrap();
            let needs: Vec<ResourceId> = needs.iter().map(|need| format!("host.{need}").parse().unwrap()).collect();
            let needs_text: Vec<String> = needs.iter().map(ToString::to_string).collect();
            let host = serde_json::json!({ "local": true, "needs": needs_text });
            let spec = ResourceSpec::Host(serde_json::from_value(host).unwrap());
            resources.insert(
                id.clone(),
                Resource { id, spec: spec.into(), dependencies: needs, position: Position { line, column: 3 } },
            );
        }
        Spec {
            source: "rave.yaml".into(),
            project: crate::model::Name::new("test").unwrap(),
            state: crate::config::StateSettings::default(),
            nix: crate::config::NixSettings::default(),
            resources,
            moved: Vec::new(),
        }
    }

    #[test]
    fn a_dag_builds() {
        let graph = ResourceGraph::build(&spec_with_needs(&[("a", &[]), ("b", &["a"]), ("c", &["a", "b"])])).unwrap();
        assert_eq!(
            graph.to_dot(),
            "digraph rave {\n  rankdir = \"RL\";\n  node [shape = box];\n  \"host.a\";\n  \"host.b\";\n  \"host.c\";\n  \"host.b\" -> \"host.a\";\n  \"host.c\" -> \"host.a\";\n  \"host.c\" -> \"host.b\";\n}\n"
        );
    }

    #[test]
    fn a_cycle_is_printed_in_order() {
        let errors = ResourceGraph::build(&spec_with_needs(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]))
            .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "dependency cycle: `host.a -> host.b -> host.c -> host.a`");
        assert_eq!(errors[0].location.to_string(), "rave.yaml:1:3");
    }

    #[test]
    fn separate_cycles_are_all_reported() {
        let errors =
            ResourceGraph::build(&spec_with_needs(&[("a", &["b"]), ("b", &["a"]), ("c", &["d"]), ("d", &["c"])]))
                .unwrap_err();
        assert_eq!(errors.len(), 2);
    }
}
