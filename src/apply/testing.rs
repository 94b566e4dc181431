//! Test doubles for the engine only: a driver set whose behaviour is set per address, and a state
//! backend in memory. They exist for the executor's tests and benchmarks; drivers themselves are
//! tested against the real programs.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::apply::EventSink;
use crate::drivers::{BoxFuture, Driver, DriverContext, DriverError, DriverSet, Outputs};
use crate::model::{ResourceId, ResourceKind};
use crate::plan::{Action, Change, Desired, Plan};
use crate::state::backend::{StateBackend, StateError, StateUpdate};
use crate::state::lock::LockInfo;
use crate::state::{ResourceState, State};

/// Which driver method was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Call {
    /// `Driver::create`.
    Create,
    /// `Driver::update`.
    Update,
    /// `Driver::delete`.
    Delete,
}

/// How the fake driver behaves for one address.
#[derive(Debug, Clone, Default)]
pub(crate) struct Behaviour {
    /// How long every call takes (tokio time, so a paused clock makes it instant and exact).
    pub(crate) delay: Duration,
    /// Calls that fail, with the error they return.
    pub(crate) failures: HashMap<Call, DriverError>,
    /// Whether every call panics (a driver bug).
    pub(crate) is_panicking: bool,
}

/// What happened, in order: driver calls as `create vm.a` (when they start) and records as
/// `record put vm.a` / `record remove vm.a`.
pub(crate) type Journal = Arc<Mutex<Vec<String>>>;

fn push(journal: &Journal, entry: String) {
    journal.lock().unwrap_or_else(PoisonError::into_inner).push(entry);
}

/// One driver for every kind, behaving as configured per address.
#[derive(Debug, Default)]
pub(crate) struct FakeDrivers {
    behaviours: BTreeMap<ResourceId, Behaviour>,
    /// Delay for addresses without a behaviour.
    default_delay: Duration,
    journal: Journal,
    running: AtomicUsize,
    max_running: AtomicUsize,
}

impl FakeDrivers {
    /// Drivers that succeed at once for every address, writing to `journal`.
    pub(crate) fn new(journal: Journal) -> Self {
        Self { journal, ..Self::default() }
    }

    /// Every address without its own behaviour takes `delay`.
    #[must_use]
    pub(crate) fn with_default_delay(mut self, delay: Duration) -> Self {
        self.default_delay = delay;
        self
    }

    /// `address` behaves as `behaviour`.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn with(mut self, address: &ResourceId, behaviour: Behaviour) -> Self {
        self.behaviours.insert(address.clone(), behaviour);
        self
    }

    /// The most calls that ever ran at once.
    #[cfg(test)]
    pub(crate) fn max_running(&self) -> usize {
        self.max_running.load(Ordering::SeqCst)
    }

    async fn call(&self, call: Call, address: &ResourceId) -> Result<(), DriverError> {
        let verb = match call {
            Call::Create => "create",
            Call::Update => "update",
            Call::Delete => "delete",
        };
        push(&self.journal, format!("{verb} {address}"));
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let behaviour = self.behaviours.get(address);
        let delay = behaviour.map_or(self.default_delay, |behaviour| behaviour.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        assert!(!behaviour.is_some_and(|behaviour| behaviour.is_panicking), "{verb} {address} panics");
        match behaviour.and_then(|behaviour| behaviour.failures.get(&call)) {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

impl Driver for FakeDrivers {
    fn replace_attributes(&self) -> &'static [&'static str] {
        &[]
    }

    fn create<'a>(
        &'a self,
        _: &'a DriverContext,
        _: &'a EventSink,
        address: &'a ResourceId,
        _: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(async move {
            self.call(Call::Create, address).await?;
            Ok(Outputs::from([("created".to_owned(), serde_json::Value::Bool(true))]))
        })
    }

    fn update<'a>(
        &'a self,
        _: &'a DriverContext,
        _: &'a EventSink,
        address: &'a ResourceId,
        _: &'a ResourceState,
        _: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(async move {
            self.call(Call::Update, address).await?;
            Ok(Outputs::from([("updated".to_owned(), serde_json::Value::Bool(true))]))
        })
    }

    fn delete<'a>(
        &'a self,
        _: &'a DriverContext,
        _: &'a EventSink,
        address: &'a ResourceId,
        _: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(self.call(Call::Delete, address))
    }
}

impl DriverSet for FakeDrivers {
    fn driver(&self, _: ResourceKind) -> &dyn Driver {
        self
    }
}

/// A backend keeping every record in memory, optionally failing from the `fail_from`th record on.
#[derive(Debug, Default)]
pub(crate) struct MemoryBackend {
    /// Every update recorded, in order.
    pub(crate) records: Vec<StateUpdate>,
    /// The 1-based record from which recording fails.
    pub(crate) fail_from: Option<usize>,
    journal: Journal,
}

impl MemoryBackend {
    /// A backend writing to `journal`.
    pub(crate) fn new(journal: Journal) -> Self {
        Self { journal, ..Self::default() }
    }
}

impl StateBackend for MemoryBackend {
    fn load(&mut self) -> Result<Option<State>, StateError> {
        Ok(None)
    }

    fn lock(&mut self, _: &LockInfo, _: Duration) -> Result<(), StateError> {
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), StateError> {
        Ok(())
    }

    fn record(&mut self, _: &State, update: &StateUpdate) -> Result<(), StateError> {
        if self.fail_from.is_some_and(|from| self.records.len() + 1 >= from) {
            return Err(StateError::Io {
                action: "write state journal".into(),
                source: std::io::Error::other("disk full"),
            });
        }
        let entry = match update {
            StateUpdate::Put { address, resource } if resource.tainted => {
                format!("record tainted {address}")
            }
            StateUpdate::Put { address, .. } => format!("record put {address}"),
            StateUpdate::Remove { address } => format!("record remove {address}"),
        };
        push(&self.journal, entry);
        self.records.push(update.clone());
        Ok(())
    }

    fn commit(&mut self, _: &State) -> Result<(), StateError> {
        Ok(())
    }

    fn force_unlock(&mut self, _: &str) -> Result<(), StateError> {
        Ok(())
    }
}

/// A resource id from text known to be valid.
pub(crate) fn id(text: &str) -> ResourceId {
    match text.parse() {
        Ok(id) => id,
        Err(error) => panic!("test address `{text}`: {error}"),
    }
}

/// A plan change for `address`: `after` for everything but a delete, `before` for everything but
/// a create, each with the given dependencies.
pub(crate) fn change(address: &str, action: Action, dependencies: &[&str]) -> Change {
    let before = (action != Action::Create).then_some(dependencies);
    let after = (action != Action::Delete).then_some(dependencies);
    change_between(address, action, before, after)
}

/// A plan change for `address` with a recorded side depending on `before` and a desired side
/// depending on `after`, each only when given.
pub(crate) fn change_between(address: &str, action: Action, before: Option<&[&str]>, after: Option<&[&str]>) -> Change {
    let ids = |texts: &[&str]| texts.iter().map(|text| id(text)).collect::<Vec<_>>();
    let spec = match serde_json::from_value(serde_json::json!({ "kind": "host", "spec": { "local": true } })) {
        Ok(spec) => spec,
        Err(error) => panic!("test spec: {error}"),
    };
    let after = after.map(|dependencies| Desired {
        spec,
        dependencies: ids(dependencies),
        secret_digests: BTreeMap::new(),
        derivation: None,
    });
    let before = before.map(|dependencies| ResourceState {
        attributes: BTreeMap::new(),
        secret_digests: BTreeMap::new(),
        outputs: BTreeMap::new(),
        dependencies: ids(dependencies),
        tainted: false,
    });
    Change {
        address: id(address),
        action,
        reasons: Vec::new(),
        attributes: Vec::new(),
        before,
        after,
        closure: Vec::new(),
        inputs_changed: Vec::new(),
    }
}

/// A plan made of `changes`.
pub(crate) fn plan(changes: Vec<Change>) -> Plan {
    Plan {
        format_version: crate::plan::PLAN_FORMAT_VERSION,
        project: "test".into(),
        lineage: None,
        serial: 0,
        is_destroy: false,
        changes,
        drift: Vec::new(),
        moves: Vec::new(),
        is_refresh_only: false,
    }
}

/// A state holding the recorded side of every change that has one.
pub(crate) fn state_before(plan: &Plan) -> State {
    let mut state = State::new_lineage();
    for change in &plan.changes {
        if let Some(before) = &change.before {
            state.resources.insert(change.address.clone(), before.clone());
        }
    }
    state
}

/// A context pointing nowhere: the fake drivers never read it.
pub(crate) fn context() -> DriverContext {
    DriverContext::default()
}
