//! The walk: start every node whose in-degree reached 0, at most `parallelism` at once, record
//! each finished one, then release what waits for it.
//!
//! One loop owns all bookkeeping (in-degrees, results, the state, the backend); driver calls run
//! as tasks in a [`JoinSet`], each holding a [`Semaphore`] permit, so there are never more than
//! `parallelism` of them. Because only the loop starts nodes, and it records a node before it
//! releases the node's dependents, a dependent never starts before what it needs is saved.
//!
//! A failure marks every transitive dependent `Skipped` at once (they cannot have started);
//! independent branches go on. A stop (the cancel channel turning true, or a state record
//! failing) starts nothing new; running nodes finish and are recorded; the rest end `Cancelled`.
//!
//! `StateBackend::record` is a blocking call made from the loop itself: the backend promises it is
//! cheap (an append), and making it inline is what orders a record before its dependents start.
//! Driver tasks keep running meanwhile on the other worker threads.
//!
//! Use: hand the receiving end of `events` to `ui::progress::show` and `tokio::join!` both; the
//! progress display ends when `apply` returns and drops its sender.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;

use crate::apply::dag::Dag;
use crate::apply::outcome::{ApplyOutcome, NodeResult};
use crate::apply::step::{self, StepOutput};
use crate::apply::{Event, EventSink};
use crate::drivers::{DriverContext, DriverError, DriverSet};
use crate::plan::{Change, Plan};
use crate::state::State;
use crate::state::backend::{StateBackend, StateError, StateUpdate};

/// Everything an apply needs.
pub(crate) struct ApplyRequest<'a> {
    /// What to do.
    pub(crate) plan: &'a Plan,
    /// Who does it, per kind.
    pub(crate) drivers: Arc<dyn DriverSet>,
    /// What every driver call gets.
    pub(crate) context: Arc<DriverContext>,
    /// How many driver calls may run at once (at least 1; the CLI's default is 10).
    pub(crate) parallelism: usize,
    /// The state loaded for this apply: the base of every record, updated as nodes finish.
    pub(crate) state: State,
    /// Where each finished node is recorded.
    pub(crate) backend: &'a mut dyn StateBackend,
    /// Where progress goes (to `ui::progress`).
    pub(crate) events: UnboundedSender<Event>,
    /// Turns true when the apply should stop starting new work.
    pub(crate) cancel: watch::Receiver<bool>,
}

/// Carries out `request.plan` and says how each change ended.
pub(crate) async fn apply(request: ApplyRequest<'_>) -> ApplyOutcome {
    let ApplyRequest { plan, drivers, context, parallelism, state, backend, events, mut cancel } = request;
    let mut walk = Walk::new(Dag::from_plan(plan), state, backend, events);
    let permits = Arc::new(Semaphore::new(parallelism.clamp(1, Semaphore::MAX_PERMITS)));
    let mut tasks: JoinSet<StepOutput> = JoinSet::new();
    let mut task_nodes: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut is_watching_cancel = true;
    walk.interrupted = *cancel.borrow_and_update();
    loop {
        while !walk.is_stopping() {
            let Some(&node) = walk.ready.first() else {
                break;
            };
            let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                break;
            };
            walk.ready.remove(&node);
            let change = Arc::clone(&walk.dag.nodes[node]);
            walk.send(Event::Started { address: change.address.clone(), action: change.action });
            walk.started[node] = Some(Instant::now());
            let sink = EventSink::new(change.address.clone(), walk.events.clone());
            let drivers = Arc::clone(&drivers);
            let context = Arc::clone(&context);
            let handle = tasks.spawn(async move {
                let _permit = permit;
                let driver = drivers.driver(change.address.kind);
                step::run(driver, &context, &sink, &change).await
            });
            task_nodes.insert(handle.id(), node);
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            changed = cancel.changed(), if is_watching_cancel => match changed {
                Ok(()) if *cancel.borrow_and_update() => {
                    walk.interrupted = true;
                    walk.send(Event::Interrupted { running: tasks.len() });
                }
                Ok(()) => {}
                // Nobody can cancel any more.
                Err(_) => is_watching_cancel = false,
            },
            Some(joined) = tasks.join_next_with_id() => {
                let (id, output) = match joined {
                    Ok((id, output)) => (id, output),
                    Err(error) => (error.id(), panicked(&error)),
                };
                if let Some(node) = task_nodes.remove(&id) {
                    walk.finish(node, output);
                }
            }
        }
    }
    walk.into_outcome()
}

/// The output of a driver task that panicked or was aborted.
fn panicked(error: &JoinError) -> StepOutput {
    let summary =
        if error.is_panic() { "the driver stopped unexpectedly (a bug in rave)" } else { "the step was aborted" };
    StepOutput { error: Some(DriverError::new(summary)), update: None }
}

/// The loop's bookkeeping.
struct Walk<'a> {
    dag: Dag,
    /// Nodes whose in-degree reached 0 and that have not started, lowest (address order) first.
    ready: BTreeSet<usize>,
    started: Vec<Option<Instant>>,
    results: Vec<Option<NodeResult>>,
    base: State,
    state: State,
    backend: &'a mut dyn StateBackend,
    events: UnboundedSender<Event>,
    interrupted: bool,
    state_error: Option<StateError>,
}

impl<'a> Walk<'a> {
    fn new(dag: Dag, state: State, backend: &'a mut dyn StateBackend, events: UnboundedSender<Event>) -> Self {
        let ready = (0..dag.nodes.len()).filter(|&node| dag.in_degree[node] == 0).collect();
        let count = dag.nodes.len();
        Self {
            dag,
            ready,
            started: vec![None; count],
            results: vec![None; count],
            base: state.clone(),
            state,
            backend,
            events,
            interrupted: false,
            state_error: None,
        }
    }

    /// Whether new work must not start.
    fn is_stopping(&self) -> bool {
        self.interrupted || self.state_error.is_some()
    }

    fn send(&self, event: Event) {
        // A closed channel means nobody is watching; the apply goes on regardless.
        let _ = self.events.send(event);
    }

    /// Records a finished node, then releases its dependents or skips them.
    fn finish(&mut self, node: usize, output: StepOutput) {
        let change = Arc::clone(&self.dag.nodes[node]);
        let elapsed = self.started[node].map(|started| started.elapsed()).unwrap_or_default();
        if let Some(update) = output.update {
            self.record(update);
        }
        match output.error {
            None => {
                self.send(Event::Succeeded { address: change.address.clone(), action: change.action, elapsed });
                self.results[node] = Some(NodeResult::Succeeded { action: change.action, elapsed });
                for index in 0..self.dag.dependents[node].len() {
                    let dependent = self.dag.dependents[node][index];
                    self.dag.in_degree[dependent] -= 1;
                    if self.dag.in_degree[dependent] == 0 && self.results[dependent].is_none() {
                        self.ready.insert(dependent);
                    }
                }
            }
            Some(error) => {
                self.send(Event::Failed {
                    address: change.address.clone(),
                    action: change.action,
                    error: error.to_string(),
                    elapsed,
                });
                self.results[node] = Some(NodeResult::Failed { action: change.action, error });
                self.skip_dependents_of(node, &change);
            }
        }
    }

    /// Folds `update` into the state and records it; a failure stops new work.
    fn record(&mut self, update: StateUpdate) {
        if let Err(error) = self.backend.record(&self.base, &update) {
            tracing::warn!(%error, "recording a finished node failed; starting nothing new");
            self.state_error.get_or_insert(error);
        }
        match update {
            StateUpdate::Put { address, resource } => {
                self.state.resources.insert(address, resource);
            }
            StateUpdate::Remove { address } => {
                self.state.resources.remove(&address);
            }
        }
    }

    /// Marks every node that waits, directly or not, for `failed` as skipped because of it.
    fn skip_dependents_of(&mut self, failed: usize, change: &Change) {
        let mut pending = self.dag.dependents[failed].clone();
        while let Some(node) = pending.pop() {
            if self.results[node].is_some() {
                continue;
            }
            self.ready.remove(&node);
            self.results[node] = Some(NodeResult::Skipped { because: change.address.clone() });
            self.send(Event::Skipped {
                address: self.dag.nodes[node].address.clone(),
                because: change.address.clone(),
            });
            pending.extend_from_slice(&self.dag.dependents[node]);
        }
    }

    /// Ends every node that never started and hands back what happened.
    fn into_outcome(mut self) -> ApplyOutcome {
        let is_stopped = self.is_stopping();
        let mut results = BTreeMap::new();
        for (node, result) in std::mem::take(&mut self.results).into_iter().enumerate() {
            let address = self.dag.nodes[node].address.clone();
            let result = result.unwrap_or_else(|| {
                if is_stopped {
                    self.send(Event::Cancelled { address: address.clone() });
                    NodeResult::Cancelled
                } else {
                    // Only a cycle in recorded dependencies leaves a node waiting with nothing running.
                    let error = DriverError::new(format!(
                        "`{address}` was not started: its recorded dependencies form a cycle"
                    ));
                    self.send(Event::Failed {
                        address: address.clone(),
                        action: self.dag.nodes[node].action,
                        error: error.to_string(),
                        elapsed: std::time::Duration::ZERO,
                    });
                    NodeResult::Failed { action: self.dag.nodes[node].action, error }
                }
            });
            results.insert(address, result);
        }
        ApplyOutcome { results, state: self.state, interrupted: self.interrupted, state_error: self.state_error }
    }
}
