//! Apply-then-plan as a property, over generated specs: planning against no state, applying with
//! the engine's fake drivers into the in-memory backend and planning again shows no changes.
//! Then a random subset of resources (with whatever depends on them) leaves the spec: the plan
//! destroys exactly those, and after that apply the state holds exactly the rest and the next
//! plan is empty again. Plans are made and applied as `commands::planning` and
//! `commands::apply` do; only the drivers are doubles, because the engine and the diff are
//! under test here, not a driver.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tokio::sync::{mpsc, watch};

use super::testing::FakeDrivers;
use super::{ApplyRequest, apply};
use crate::drivers::{DriverContext, DriverSet};
use crate::model::arbitrary::{document, lowered};
use crate::model::{ResourceId, Spec};
use crate::plan::diff::{DiffInput, PlanOptions, ReplaceRules, diff};
use crate::plan::{Action, Plan};
use crate::state::State;
use crate::state::backend::StateBackend;
use crate::state::lock::LockInfo;
use crate::state::memory_backend::MemoryBackend;

/// More than the most resources a generated document has: one removal choice per resource.
const MAX_RESOURCES: usize = 32;

/// One project's state and the drivers that act on it.
struct Project {
    runtime: tokio::runtime::Runtime,
    drivers: Arc<FakeDrivers>,
    backend: MemoryBackend,
}

impl Project {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let drivers = Arc::new(FakeDrivers::new(Arc::new(Mutex::new(Vec::new()))));
        Self { runtime, drivers, backend: MemoryBackend::new() }
    }

    /// What the state holds now.
    fn recorded(&mut self) -> BTreeSet<ResourceId> {
        self.backend.load().unwrap().map(|state| state.resources.into_keys().collect()).unwrap_or_default()
    }

    /// Plans `spec` against the recorded state, as `commands::planning::make_plan` does with
    /// refresh off.
    fn plan(&mut self, spec: &Spec) -> (Plan, State) {
        let state = self.backend.load().unwrap().unwrap_or_else(State::new_lineage);
        let digests = secret_digests(spec);
        let drivers = Arc::clone(&self.drivers);
        let rules = move |kind| ReplaceRules::of(drivers.driver(kind));
        let recorded = if state.resources.is_empty() && state.serial == 0 { None } else { Some(&state) };
        let options = PlanOptions::default();
        let input = DiffInput {
            spec,
            state: recorded,
            observed: &BTreeMap::new(),
            secret_digests: &digests,
            rules: &rules,
            options: &options,
            derivations: None,
        };
        let mut plan = diff(&input).unwrap();
        plan.lineage = Some(state.lineage.clone());
        plan.serial = state.serial;
        (plan, state)
    }

    /// Locks, plans, applies what changes and commits the next serial, as `commands::apply`
    /// does; returns the plan carried out.
    fn converge(&mut self, spec: &Spec) -> Plan {
        self.backend.lock(&LockInfo::current("apply"), Duration::ZERO).unwrap();
        let (plan, base) = self.plan(spec);
        if plan.has_changes() {
            let desired =
                plan.changes.iter().filter_map(|change| Some((&change.address, &*change.after.as_ref()?.spec)));
            let context =
                Arc::new(DriverContext { hosts: DriverContext::hosts_of(desired), ..DriverContext::default() });
            let (events, _progress) = mpsc::unbounded_channel();
            let (_stop, cancel) = watch::channel(false);
            let drivers: Arc<dyn DriverSet> = Arc::clone(&self.drivers) as _;
            let request = ApplyRequest {
                plan: &plan,
                drivers,
                context,
                parallelism: 4,
                state: base.clone(),
                backend: &mut self.backend,
                events,
                cancel,
            };
            let outcome = self.runtime.block_on(apply(request));
            assert!(outcome.is_success(), "{:#?}", outcome.results);
            let mut next = outcome.state;
            next.serial = base.serial + 1;
            self.backend.commit(&next).unwrap();
        }
        self.backend.unlock().unwrap();
        plan
    }
}

/// A stand-in digest per secret reference: the diff only compares them.
fn secret_digests(spec: &Spec) -> BTreeMap<ResourceId, BTreeMap<String, String>> {
    spec.resources
        .iter()
        .map(|(address, resource)| {
            let digests =
                resource.spec.secret_refs().into_iter().map(|(path, secret)| (path, format!("digest of {secret}")));
            (address.clone(), digests.collect())
        })
        .filter(|(_, digests): &(ResourceId, BTreeMap<String, String>)| !digests.is_empty())
        .collect()
}

/// The chosen resources and everything that depends on them, transitively: what can leave the
/// spec together and leave it valid.
fn removal(spec: &Spec, choices: &[bool]) -> BTreeSet<ResourceId> {
    let mut removed: BTreeSet<ResourceId> =
        spec.resources.keys().zip(choices).filter(|(_, chosen)| **chosen).map(|(address, _)| address.clone()).collect();
    loop {
        let dependents: Vec<ResourceId> = spec
            .resources
            .values()
            .filter(|resource| !removed.contains(&resource.id))
            .filter(|resource| resource.dependencies.iter().any(|dependency| removed.contains(dependency)))
            .map(|resource| resource.id.clone())
            .collect();
        if dependents.is_empty() {
            return removed;
        }
        removed.extend(dependents);
    }
}

fn actions(plan: &Plan) -> BTreeMap<ResourceId, Action> {
    plan.changes.iter().map(|change| (change.address.clone(), change.action)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn apply_then_plan_shows_no_changes_before_and_after_removals(
        written in document(),
        choices in proptest::collection::vec(any::<bool>(), MAX_RESOURCES),
    ) {
        let (_, spec) = lowered("rave.yaml", &serde_json::to_string(&written).unwrap());
        prop_assert!(spec.resources.len() <= MAX_RESOURCES);
        let mut project = Project::new();

        let first = project.converge(&spec);
        prop_assert!(first.changes.iter().all(|change| change.action == Action::Create), "{:#?}", actions(&first));
        let (again, _) = project.plan(&spec);
        prop_assert!(!again.has_changes(), "{:#?}", again.changes);
        prop_assert_eq!(project.recorded(), spec.resources.keys().cloned().collect::<BTreeSet<_>>());

        let removed = removal(&spec, &choices);
        let mut rest = spec.clone();
        rest.resources.retain(|address, _| !removed.contains(address));
        let second = project.converge(&rest);
        let expected: BTreeMap<ResourceId, Action> = spec
            .resources
            .keys()
            .map(|address| (address.clone(), if removed.contains(address) { Action::Delete } else { Action::NoOp }))
            .collect();
        prop_assert_eq!(actions(&second), expected);
        let (third, _) = project.plan(&rest);
        prop_assert!(!third.has_changes(), "{:#?}", third.changes);
        prop_assert_eq!(project.recorded(), rest.resources.keys().cloned().collect::<BTreeSet<_>>());
    }
}
