//! Carrying out a plan: walk the graph, call drivers, save state after every node.

mod event;

pub(crate) use event::{Event, EventSink, Stream};
