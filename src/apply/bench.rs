//! Workloads for `benches/engine.rs` (feature `bench`), public only so the bench can reach them.
//!
//! They run the real executor against the engine's fake drivers and in-memory backend, so what
//! they measure is the engine itself: graph building, scheduling, events and records.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::apply::testing::{FakeDrivers, MemoryBackend, change, context, plan, state_before};
use crate::apply::{ApplyRequest, apply};
use crate::plan::{Action, Plan};

/// A plan, drivers for it and a runtime to apply it on.
pub struct Workload {
    runtime: tokio::runtime::Runtime,
    plan: Plan,
    delay: Duration,
    parallelism: usize,
}

impl Workload {
    /// `nodes` creates whose drivers return at once, at parallelism 10: a spine of chained
    /// nodes, every tenth, each fanning out to the nine after it.
    pub fn no_op(nodes: usize) -> Self {
        let names: Vec<String> = (0..nodes).map(|index| format!("vm.n{index:05}")).collect();
        let changes = names
            .iter()
            .enumerate()
            .map(|(index, name)| match index {
                0 => change(name, Action::Create, &[]),
                _ if index % 10 == 0 => change(name, Action::Create, &[&names[index - 10]]),
                _ => change(name, Action::Create, &[&names[index - index % 10]]),
            })
            .collect();
        Self::new(plan(changes), Duration::ZERO, 10)
    }

    /// `steps` independent creates whose drivers each sleep `step` (real time).
    pub fn fan_out(steps: usize, step: Duration, parallelism: usize) -> Self {
        let changes = (0..steps).map(|index| change(&format!("vm.n{index:05}"), Action::Create, &[])).collect();
        Self::new(plan(changes), step, parallelism)
    }

    fn new(plan: Plan, delay: Duration, parallelism: usize) -> Self {
        let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => panic!("cannot start a tokio runtime: {error}"),
        };
        Self { runtime, plan, delay, parallelism }
    }

    /// Applies the plan once from scratch and returns how long `apply` took.
    pub fn run(&self) -> Duration {
        let journal = Arc::new(Mutex::new(Vec::new()));
        let drivers = Arc::new(FakeDrivers::new(Arc::clone(&journal)).with_default_delay(self.delay));
        let mut backend = MemoryBackend::new(journal);
        let state = state_before(&self.plan);
        self.runtime.block_on(async {
            let (events, mut receiver) = mpsc::unbounded_channel();
            // Someone reads the events, as `ui::progress` does.
            let reader = tokio::spawn(async move { while receiver.recv().await.is_some() {} });
            let (_cancel_sender, cancel) = watch::channel(false);
            let started = tokio::time::Instant::now();
            let outcome = apply(ApplyRequest {
                plan: &self.plan,
                drivers,
                context: Arc::new(context()),
                parallelism: self.parallelism,
                state,
                backend: &mut backend,
                events,
                cancel,
            })
            .await;
            let elapsed = started.elapsed();
            assert!(outcome.is_success(), "the workload failed: {:?}", outcome.counts());
            drop(reader.await);
            elapsed
        })
    }
}
