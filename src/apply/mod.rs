//! Carrying out a plan: walk the graph, call drivers, save state after every node.
//!
//! [`apply`] takes a [`Plan`](crate::plan::Plan) and nothing else about the desired state: it
//! never re-reads the file or re-decides an action. `dag` turns the plan into nodes and edges,
//! `step` runs one node's driver calls, `executor` walks the graph, `outcome` says how it ended.
//! A replacement (`-/+` or `+/-`) is one node that does both halves in the order its action
//! names (see `step`). Progress leaves as [`Event`]s for `ui::progress`; nothing here prints.

#[cfg(feature = "bench")]
pub mod bench;
mod dag;
mod event;
mod executor;
pub(crate) mod interrupt;
mod outcome;
#[cfg(test)]
mod property_tests;
mod step;
#[cfg(any(test, feature = "bench"))]
mod testing;
#[cfg(test)]
mod tests;

pub(crate) use event::{Event, EventSink, Stream};
pub(crate) use executor::{ApplyRequest, apply};
#[cfg(test)]
pub(crate) use outcome::tests as outcome_fixtures;
pub(crate) use outcome::{ApplyOutcome, Counts, NodeResult};
