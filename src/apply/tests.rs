//! The executor against fake drivers and an in-memory backend, on a paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::testing::{Behaviour, Call, FakeDrivers, Journal, MemoryBackend, change, context, id, plan, state_before};
use super::{ApplyOutcome, ApplyRequest, Event, NodeResult, apply};
use crate::drivers::DriverError;
use crate::plan::{Action, Plan};
use crate::state::backend::StateUpdate;

/// What one apply did, seen from every side.
struct Run {
    outcome: ApplyOutcome,
    events: Vec<Event>,
    journal: Vec<String>,
    records: Vec<StateUpdate>,
    max_running: usize,
}

/// A test: a plan, drivers built on the shared journal, and knobs.
struct Test {
    plan: Plan,
    journal: Journal,
    drivers: FakeDrivers,
    backend: MemoryBackend,
    parallelism: usize,
}

impl Test {
    fn new(plan: Plan) -> Self {
        let journal: Journal = Arc::new(Mutex::new(Vec::new()));
        Self {
            plan,
            drivers: FakeDrivers::new(Arc::clone(&journal)),
            backend: MemoryBackend::new(Arc::clone(&journal)),
            journal,
            parallelism: 10,
        }
    }

    fn drivers(mut self, configure: impl FnOnce(FakeDrivers) -> FakeDrivers) -> Self {
        self.drivers = configure(self.drivers);
        self
    }

    fn failing(self, address: &str, call: Call, error: DriverError) -> Self {
        let behaviour = Behaviour { failures: [(call, error)].into(), ..Behaviour::default() };
        self.drivers(|drivers| drivers.with(&id(address), behaviour))
    }

    fn parallelism(mut self, parallelism: usize) -> Self {
        self.parallelism = parallelism;
        self
    }

    async fn run(self) -> Run {
        let (_sender, cancel) = watch::channel(false);
        self.run_with_cancel(cancel).await
    }

    async fn run_with_cancel(mut self, cancel: watch::Receiver<bool>) -> Run {
        let drivers = Arc::new(self.drivers);
        let (events, mut receiver) = mpsc::unbounded_channel();
        let outcome = apply(ApplyRequest {
            plan: &self.plan,
            drivers: Arc::clone(&drivers) as _,
            context: Arc::new(context()),
            parallelism: self.parallelism,
            state: state_before(&self.plan),
            backend: &mut self.backend,
            events,
            cancel,
        })
        .await;
        let mut events = Vec::new();
        while let Ok(event) = receiver.try_recv() {
            events.push(event);
        }
        let journal = self.journal.lock().unwrap().clone();
        Run { outcome, events, journal, records: self.backend.records, max_running: drivers.max_running() }
    }
}

impl Run {
    fn result(&self, address: &str) -> &NodeResult {
        &self.outcome.results[&id(address)]
    }

    fn is_succeeded(&self, address: &str) -> bool {
        matches!(self.result(address), NodeResult::Succeeded { .. })
    }
}

fn seconds(seconds: u64) -> Behaviour {
    Behaviour { delay: Duration::from_secs(seconds), ..Behaviour::default() }
}

#[tokio::test(start_paused = true)]
async fn a_failure_skips_its_dependents_and_independent_branches_complete() {
    let run = Test::new(plan(vec![
        change("host.a", Action::Create, &[]),
        change("host.d", Action::Create, &[]),
        change("service.c", Action::Create, &["vm.b"]),
        change("service.f", Action::Create, &["vm.e", "vm.b"]),
        change("vm.b", Action::Create, &["host.a"]),
        change("vm.e", Action::Create, &["host.d"]),
    ]))
    .failing("host.a", Call::Create, DriverError::new("ssh refused").with_detail("exit status 255"))
    .drivers(|drivers| drivers.with(&id("vm.e"), seconds(3)))
    .run()
    .await;

    assert!(
        matches!(run.result("host.a"), NodeResult::Failed { action: Action::Create, error } if error.summary == "ssh refused")
    );
    for skipped in ["vm.b", "service.c", "service.f"] {
        assert_eq!(run.result(skipped), &NodeResult::Skipped { because: id("host.a") }, "{skipped}");
        assert!(run.events.contains(&Event::Skipped { address: id(skipped), because: id("host.a") }));
    }
    assert!(run.is_succeeded("host.d") && run.is_succeeded("vm.e"));
    assert!(!run.outcome.is_success());
    let counts = run.outcome.counts();
    assert_eq!((counts.added, counts.failed, counts.skipped), (2, 1, 3));
    let recorded: Vec<_> = run.outcome.state.resources.keys().map(ToString::to_string).collect();
    assert_eq!(recorded, ["host.d", "vm.e"]);
    assert!(!run.journal.iter().any(|line| line.contains("vm.b") || line.contains("service.")));
}

#[tokio::test(start_paused = true)]
async fn destroys_run_in_reverse_dependency_order() {
    let run = Test::new(plan(vec![
        change("host.h", Action::Delete, &[]),
        change("service.s", Action::Delete, &["vm.v"]),
        change("service.t", Action::Delete, &["vm.v"]),
        change("vm.v", Action::Delete, &["host.h"]),
        change("vm.w", Action::Delete, &["host.h"]),
    ]))
    .drivers(|drivers| drivers.with(&id("service.t"), seconds(5)))
    .run()
    .await;

    assert!(run.outcome.is_success(), "{:?}", run.outcome.results);
    let deletes: Vec<&str> = run.journal.iter().filter_map(|line| line.strip_prefix("delete ")).collect();
    assert_eq!(deletes, ["service.s", "service.t", "vm.w", "vm.v", "host.h"]);
    assert!(run.outcome.state.resources.is_empty());
    assert_eq!(run.outcome.counts().destroyed, 5);
}

#[tokio::test(start_paused = true)]
async fn never_more_driver_calls_at_once_than_the_parallelism() {
    let mut changes = vec![change("host.root", Action::Create, &[])];
    let names: Vec<String> = (0..49).map(|index| format!("vm.v{index:02}")).collect();
    changes.extend(names.iter().map(|name| change(name, Action::Create, &["host.root"])));
    let run = Test::new(plan(changes))
        .drivers(|drivers| drivers.with_default_delay(Duration::from_secs(1)))
        .parallelism(3)
        .run()
        .await;

    assert!(run.outcome.is_success());
    assert_eq!(run.outcome.results.len(), 50);
    assert_eq!(run.max_running, 3);
    assert_eq!(run.records.len(), 50);
}

#[tokio::test(start_paused = true)]
async fn a_stop_lets_the_running_step_finish_and_records_it() {
    let (sender, cancel) = watch::channel(false);
    let test = Test::new(plan(vec![
        change("host.a", Action::Create, &[]),
        change("host.b", Action::Create, &[]),
        change("vm.c", Action::Create, &["host.a"]),
    ]))
    .drivers(|drivers| drivers.with_default_delay(Duration::from_secs(10)))
    .parallelism(1);
    let interrupt = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        sender.send(true).unwrap();
        // A second signal while the step still runs changes nothing but the message.
        tokio::time::sleep(Duration::from_secs(1)).await;
        sender.send(true).unwrap();
        sender
    });
    let run = test.run_with_cancel(cancel).await;
    drop(interrupt.await);

    assert!(run.outcome.interrupted);
    assert!(!run.outcome.is_success());
    assert!(run.is_succeeded("host.a"));
    assert_eq!(run.result("host.b"), &NodeResult::Cancelled);
    assert_eq!(run.result("vm.c"), &NodeResult::Cancelled);
    assert_eq!(run.journal, ["create host.a", "record put host.a"]);
    assert!(run.outcome.state.resources.contains_key(&id("host.a")));
    let interruptions = run.events.iter().filter(|event| **event == Event::Interrupted { running: 1 }).count();
    assert_eq!(interruptions, 2);
    assert!(run.events.contains(&Event::Cancelled { address: id("host.b") }));
    assert!(run.events.contains(&Event::Cancelled { address: id("vm.c") }));
}

#[tokio::test(start_paused = true)]
async fn a_stop_before_the_start_starts_nothing() {
    let (_sender, cancel) = watch::channel(true);
    let run = Test::new(plan(vec![change("host.a", Action::Create, &[])])).run_with_cancel(cancel).await;
    assert_eq!(run.result("host.a"), &NodeResult::Cancelled);
    assert!(run.journal.is_empty());
    assert!(run.outcome.interrupted);
}

#[tokio::test(start_paused = true)]
async fn each_node_is_recorded_before_its_dependents_start() {
    let run = Test::new(plan(vec![
        change("host.a", Action::Create, &[]),
        change("service.c", Action::Update, &["vm.b"]),
        change("vm.b", Action::Create, &["host.a"]),
    ]))
    .run()
    .await;

    assert_eq!(
        run.journal,
        [
            "create host.a",
            "record put host.a",
            "create vm.b",
            "record put vm.b",
            "update service.c",
            "record put service.c"
        ]
    );
    for address in ["host.a", "vm.b", "service.c"] {
        assert!(run.events.iter().any(|event| matches!(event, Event::Started { address: a, .. } if *a == id(address))));
        assert!(
            run.events.iter().any(|event| matches!(event, Event::Succeeded { address: a, .. } if *a == id(address)))
        );
    }
    let recorded = &run.outcome.state.resources[&id("service.c")];
    assert_eq!(recorded.dependencies, [id("vm.b")]);
    assert_eq!(recorded.outputs["updated"], serde_json::Value::Bool(true));
    assert!(recorded.attributes.contains_key("local"));
}

#[tokio::test(start_paused = true)]
async fn a_partial_failure_records_the_resource_tainted() {
    let partial = DriverError::new("activation failed").partial();
    let run = Test::new(plan(vec![
        change("host.a", Action::Create, &[]),
        change("host.b", Action::Update, &[]),
        change("host.c", Action::Update, &[]),
    ]))
    .failing("host.a", Call::Create, partial.clone())
    .failing("host.b", Call::Update, partial)
    .failing("host.c", Call::Update, DriverError::new("refused"))
    .run()
    .await;

    let state = &run.outcome.state.resources;
    assert!(state[&id("host.a")].tainted, "a half-created resource is recorded, tainted");
    assert!(state[&id("host.a")].attributes.contains_key("local"));
    assert!(state[&id("host.b")].tainted, "a half-updated resource keeps its old record, tainted");
    assert!(!state[&id("host.c")].tainted, "a clean failure changes nothing");
    assert!(run.journal.contains(&"record tainted host.a".to_owned()));
    assert!(run.journal.contains(&"record tainted host.b".to_owned()));
    assert!(!run.journal.iter().any(|line| line.starts_with("record") && line.ends_with("host.c")));
}

#[tokio::test(start_paused = true)]
async fn replacements_do_both_halves_in_the_order_their_action_names() {
    let run = Test::new(plan(vec![
        change("vm.first", Action::CreateThenDelete, &[]),
        change("vm.gone", Action::DeleteThenCreate, &[]),
        change("vm.later", Action::DeleteThenCreate, &[]),
    ]))
    .failing("vm.gone", Call::Create, DriverError::new("no space left"))
    .parallelism(1)
    .run()
    .await;

    assert_eq!(
        run.journal,
        [
            "create vm.first",
            "delete vm.first",
            "record put vm.first",
            "delete vm.gone",
            "create vm.gone",
            "record remove vm.gone",
            "delete vm.later",
            "create vm.later",
            "record put vm.later",
        ]
    );
    assert!(!run.outcome.state.resources.contains_key(&id("vm.gone")), "deleted, then not created again");
    let counts = run.outcome.counts();
    assert_eq!((counts.added, counts.destroyed, counts.failed), (2, 2, 1));
}

#[tokio::test(start_paused = true)]
async fn a_failed_record_stops_new_work() {
    let mut test = Test::new(plan(vec![
        change("host.a", Action::Create, &[]),
        change("host.b", Action::Create, &[]),
        change("vm.c", Action::Create, &["host.a"]),
    ]))
    .drivers(|drivers| drivers.with(&id("host.b"), seconds(5)));
    test.backend.fail_from = Some(1);
    let run = test.run().await;

    assert!(run.outcome.state_error.is_some());
    assert!(run.is_succeeded("host.a") && run.is_succeeded("host.b"), "running steps finish");
    assert_eq!(run.result("vm.c"), &NodeResult::Cancelled);
    assert!(!run.outcome.interrupted);
    assert!(run.outcome.state.resources.contains_key(&id("host.a")), "the state to commit still has it");
}

#[tokio::test(start_paused = true)]
async fn a_cycle_in_recorded_dependencies_is_reported_not_waited_on() {
    let run =
        Test::new(plan(vec![change("vm.a", Action::Delete, &["vm.b"]), change("vm.b", Action::Delete, &["vm.a"])]))
            .run()
            .await;
    let NodeResult::Failed { error, .. } = run.result("vm.a") else { panic!("{:?}", run.result("vm.a")) };
    assert_eq!(error.summary, "`vm.a` was not started: its recorded dependencies form a cycle");
    assert!(run.journal.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_panicking_driver_fails_its_node_only() {
    let panicking = Behaviour { is_panicking: true, ..Behaviour::default() };
    let run = Test::new(plan(vec![
        change("host.a", Action::Create, &[]),
        change("host.b", Action::Create, &[]),
        change("vm.c", Action::Create, &["host.a"]),
    ]))
    .drivers(|drivers| drivers.with(&id("host.a"), panicking))
    .run()
    .await;
    let NodeResult::Failed { error, .. } = run.result("host.a") else { panic!("{:?}", run.result("host.a")) };
    assert_eq!(error.summary, "the driver stopped unexpectedly (a bug in rave)");
    assert_eq!(run.result("vm.c"), &NodeResult::Skipped { because: id("host.a") });
    assert!(run.is_succeeded("host.b"));
}
