//! The PostgreSQL state backend (`state: { backend: postgres, url: env:RAVE_PG_URL }`): state
//! shared by a team, with the same promises as the local backend.
//!
//! - The committed state is one row per project, written only by compare-and-swap on its serial;
//!   every commit is also kept in `rave.history`.
//! - A per-node record is one `INSERT` into `rave.journal`, whatever the size of the state; the
//!   next load folds it in, as the local backend folds its journal file.
//! - The lock is a session advisory lock, so a holder whose connection dies (a killed process)
//!   releases it; `rave.locks` keeps the holder's info for the message others see. The lock and
//!   the writes share one dedicated connection, owned by a thread of its own ([`worker`]).
//!
//! The SQL is [`session`]'s, the tables [`schema`]'s; this module decides what to run.

mod connection_url;
mod schema;
mod session;
#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
mod tests;
mod worker;

use std::time::Duration;

use crate::state::State;
use crate::state::backend::{HistoryEntry, StateBackend, StateError, StateUpdate, write_under_lock};
use crate::state::journal;
use crate::state::lock::LockInfo;
use connection_url::ConnectionUrl;
use session::Session;
use worker::Worker;

/// State kept in a PostgreSQL database, for one project.
#[derive(Debug)]
pub(crate) struct PostgresBackend {
    /// The connection's thread.
    worker: Worker,
    /// Whether this backend holds the project's lock.
    holds_lock: bool,
}

impl PostgresBackend {
    /// Connects to the database at `url` (creating or migrating rave's tables) for the state of
    /// `project`. Errors name the database without the URL's password.
    pub(crate) fn connect(url: &str, project: &str) -> Result<Self, StateError> {
        let url = ConnectionUrl::parse(url)?;
        let project = project.to_owned();
        let worker = Worker::start(move || Box::pin(Session::open(url, project)))?;
        Ok(Self { worker, holds_lock: false })
    }

    /// Runs `write` under the lock: see [`write_under_lock`].
    fn with_lock<T>(
        &mut self,
        operation: &str,
        write: impl FnOnce(&mut Self) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        let is_held = self.holds_lock;
        write_under_lock(self, is_held, operation, write)
    }
}

impl StateBackend for PostgresBackend {
    fn load(&mut self) -> Result<Option<State>, StateError> {
        let (mut state, entries) = self.worker.call(|session| Box::pin(session.load()))?;
        let has_entries = !entries.is_empty();
        let is_folded = journal::fold(&mut state, entries);
        if self.holds_lock {
            match &state {
                // As in the local backend: the folded state is a new version, committed at once.
                Some(folded) if is_folded => {
                    let folded = folded.clone();
                    self.worker.call(move |session| Box::pin(async move { session.commit(&folded).await }))?;
                }
                _ if has_entries => self.worker.call(|session| Box::pin(session.drop_journal()))?,
                _ => {}
            }
        }
        Ok(state)
    }

    fn lock(&mut self, info: &LockInfo, timeout: Duration) -> Result<(), StateError> {
        let info = info.clone();
        if self.holds_lock {
            return self.worker.call(move |session| Box::pin(async move { session.write_holder(&info).await }));
        }
        self.worker.call(move |session| Box::pin(async move { session.lock(&info, timeout).await }))?;
        self.holds_lock = true;
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), StateError> {
        if !self.holds_lock {
            return Ok(());
        }
        self.holds_lock = false;
        self.worker.call(|session| Box::pin(session.unlock()))
    }

    fn record(&mut self, base: &State, update: &StateUpdate) -> Result<(), StateError> {
        // Only the head is needed to check the base; the resources stay here.
        let base = State {
            version: base.version,
            serial: base.serial,
            lineage: base.lineage.clone(),
            resources: std::collections::BTreeMap::new(),
        };
        let update = update.clone();
        self.with_lock("record", move |this| {
            this.worker.call(move |session| Box::pin(async move { session.record(&base, &update).await }))
        })
    }

    fn commit(&mut self, state: &State) -> Result<(), StateError> {
        let state = state.clone();
        self.with_lock("commit", move |this| {
            this.worker.call(move |session| Box::pin(async move { session.commit(&state).await }))
        })
    }

    fn force_unlock(&mut self, lock_id: &str) -> Result<(), StateError> {
        let lock_id = lock_id.to_owned();
        let holds = self.holds_lock;
        self.worker.call(move |session| Box::pin(async move { session.force_unlock(&lock_id, holds).await }))
    }

    fn history(&mut self) -> Result<Vec<HistoryEntry>, StateError> {
        self.worker.call(|session| Box::pin(session.history()))
    }

    fn state_at(&mut self, serial: u64) -> Result<Option<State>, StateError> {
        self.worker.call(move |session| Box::pin(session.state_at(serial)))
    }
}

impl Drop for PostgresBackend {
    /// Releases the lock now, leaving the holder row as a killed holder would: the server would
    /// release it when the connection closes anyway, but only a moment later.
    fn drop(&mut self) {
        if self.holds_lock {
            // Closing the connection releases the lock anyway, so a failure here changes nothing.
            let _ = self.worker.call(|session| Box::pin(session.abandon_lock()));
        }
    }
}
