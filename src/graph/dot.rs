//! The resource graph in Graphviz DOT, for `rave graph`.

use std::fmt::Write;

use petgraph::graph::DiGraph;
use petgraph::visit::EdgeRef;

use crate::model::ResourceId;

/// DOT text: one node per resource (grouped by kind through its shape), one edge per dependency,
/// both in address order so the output is stable.
pub(super) fn render(graph: &DiGraph<ResourceId, ()>) -> String {
    let mut nodes: Vec<&ResourceId> = graph.node_weights().collect();
    nodes.sort();
    let mut edges: Vec<(&ResourceId, &ResourceId)> =
        graph.edge_references().map(|edge| (&graph[edge.source()], &graph[edge.target()])).collect();
    edges.sort();
    let mut out = String::from("digraph rave {\n  rankdir = \"RL\";\n  node [shape = box];\n");
    for node in nodes {
        let _ = writeln!(out, "  \"{node}\";");
    }
    for (from, to) in edges {
        let _ = writeln!(out, "  \"{from}\" -> \"{to}\";");
    }
    out.push_str("}\n");
    out
}
