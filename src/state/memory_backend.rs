//! A state backend in memory, for tests of the code above the backends: it keeps the same
//! promises as the local one (serial compare-and-swap, lineage check, recorded updates folded in
//! on load, a lock naming its holder) without touching the disk.
//!
//! Handles made with [`MemoryBackend::handle`] share one store, like processes sharing a file:
//! dropping a handle releases its lock, as the OS does for a process that exits.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::state::State;
use crate::state::backend::{StateBackend, StateError, StateUpdate};
use crate::state::journal::{self, JournalEntry};
use crate::state::lock::{LockError, LockInfo, WaitOutcome, wait_for};
use crate::state::state_head::StateHead;

/// What the handles of one store share.
#[derive(Debug, Default)]
struct Store {
    /// The committed state.
    state: Option<State>,
    /// The updates recorded since.
    journal: Vec<JournalEntry<'static>>,
    /// The handle holding the lock.
    holder: Option<u64>,
    /// The info of the last holder, left behind by a dropped one as a killed process leaves its
    /// lock file.
    info: Option<LockInfo>,
    /// The number the next handle gets.
    next_handle: u64,
}

/// One handle on a store of state kept in memory.
#[derive(Debug)]
pub(crate) struct MemoryBackend {
    /// The shared store.
    store: Arc<Mutex<Store>>,
    /// This handle's number, to tell lock holders apart.
    handle: u64,
}

impl MemoryBackend {
    /// A handle on a new, empty store.
    pub(crate) fn new() -> Self {
        Self::on(Arc::default())
    }

    /// Another handle on the same store, as another process would open the same state.
    pub(crate) fn handle(&self) -> Self {
        Self::on(Arc::clone(&self.store))
    }

    fn on(store: Arc<Mutex<Store>>) -> Self {
        let handle = {
            let mut locked = store.lock().unwrap_or_else(PoisonError::into_inner);
            locked.next_handle += 1;
            locked.next_handle
        };
        Self { store, handle }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic in another handle cannot leave the store half-written: every change is one
        // assignment or push.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store {
    /// Refuses a write from `handle` while another handle holds the lock.
    fn check_writer(&self, handle: u64) -> Result<(), StateError> {
        match (&self.holder, &self.info) {
            (Some(holder), Some(info)) if *holder != handle => {
                let holder = Box::new(info.clone());
                Err(StateError::Lock(LockError::Held { holder, waited: Duration::ZERO }))
            }
            _ => Ok(()),
        }
    }

    fn commit(&mut self, state: &State) -> Result<(), StateError> {
        if self.state.as_ref() != Some(state) {
            if let Some(stored) = &self.state {
                StateHead::of(stored).check_successor(state)?;
            }
            self.state = Some(state.clone());
        }
        self.journal.clear();
        Ok(())
    }
}

impl StateBackend for MemoryBackend {
    fn load(&mut self) -> Result<Option<State>, StateError> {
        let handle = self.handle;
        let mut store = self.store();
        let mut state = store.state.clone();
        let is_folded = journal::fold(&mut state, store.journal.iter().cloned());
        // Like the local backend, a holder of the lock commits the folded version at once.
        if let (true, Some(folded)) = (is_folded && store.holder == Some(handle), &state) {
            store.commit(folded)?;
        }
        Ok(state)
    }

    fn lock(&mut self, info: &LockInfo, timeout: Duration) -> Result<(), StateError> {
        let handle = self.handle;
        let outcome = wait_for::<StateError>(timeout, || {
            let mut store = self.store();
            if store.holder.is_some_and(|holder| holder != handle) {
                return Ok(false);
            }
            store.holder = Some(handle);
            store.info = Some(info.clone());
            Ok(true)
        })?;
        match outcome {
            WaitOutcome::Taken => Ok(()),
            WaitOutcome::TimedOut { waited } => {
                let holder = self.store().info.clone();
                let holder = Box::new(holder.unwrap_or_else(|| info.clone()));
                Err(StateError::Lock(LockError::Held { holder, waited }))
            }
        }
    }

    fn unlock(&mut self) -> Result<(), StateError> {
        let mut store = self.store();
        if store.holder == Some(self.handle) {
            store.holder = None;
            store.info = None;
        }
        Ok(())
    }

    fn record(&mut self, base: &State, update: &StateUpdate) -> Result<(), StateError> {
        let mut store = self.store();
        store.check_writer(self.handle)?;
        if let Some(stored) = &store.state {
            StateHead::of(stored).check_base(base)?;
        }
        store.journal.push(JournalEntry {
            lineage: base.lineage.clone().into(),
            base_serial: base.serial,
            update: std::borrow::Cow::Owned(update.clone()),
        });
        Ok(())
    }

    fn commit(&mut self, state: &State) -> Result<(), StateError> {
        let mut store = self.store();
        store.check_writer(self.handle)?;
        store.commit(state)
    }

    fn force_unlock(&mut self, lock_id: &str) -> Result<(), StateError> {
        let mut store = self.store();
        let holder = match &store.info {
            Some(info) if info.id == lock_id => Box::new(info.clone()),
            other => {
                let holder = other.clone().map(Box::new);
                return Err(StateError::Lock(LockError::WrongId { given: lock_id.to_owned(), holder }));
            }
        };
        if store.holder.is_some() {
            return Err(StateError::Lock(LockError::HolderAlive { holder }));
        }
        store.info = None;
        Ok(())
    }
}

impl Drop for MemoryBackend {
    fn drop(&mut self) {
        let mut store = self.store();
        if store.holder == Some(self.handle) {
            store.holder = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_backend_keeps_the_backend_promises() {
        let first = MemoryBackend::new();
        crate::state::conformance::conformance(|| first.handle());
    }
}
