//! The SQL of the PostgreSQL backend, run on its one connection: reading state and journal,
//! the session advisory lock with its holder row, per-node records, compare-and-swap commits,
//! and the history.
//!
//! Every method runs on the worker thread ([`super::worker`]); deciding what to run is
//! [`super::PostgresBackend`]'s job.

use std::time::{Duration, Instant};

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::state::backend::{HistoryEntry, StateError, StateUpdate};
use crate::state::journal::JournalEntry;
use crate::state::lock::{LockError, LockInfo};
use crate::state::postgres::connection_url::ConnectionUrl;
use crate::state::state_head::StateHead;
use crate::state::{STATE_VERSION, State};

/// One connection, working for one project.
pub(crate) struct Session {
    /// The client; its connection runs as a task on the worker's runtime.
    client: Client,
    /// The project whose rows this session reads and writes.
    project: String,
    /// The key of the project's session advisory lock.
    lock_key: i64,
    /// `who@host`, recorded with each committed state in the history.
    written_by: String,
}

/// A [`StateError::Database`] for `error` while doing `action`, with the causes the client keeps.
pub(crate) fn database_error(action: &str, error: &tokio_postgres::Error) -> StateError {
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    StateError::Database { action: action.to_owned(), detail }
}

/// The advisory-lock key of `project`: the first 8 bytes of a digest of its name.
fn lock_key(project: &str) -> i64 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("rave-state\0{project}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Parses a stored state body, refusing a newer format.
fn parse_state(body: &str, project: &str) -> Result<State, StateError> {
    let location = || format!("postgres:{project}");
    match serde_json::from_str::<State>(body) {
        Ok(state) => {
            StateHead::of(&state).check_version()?;
            Ok(state)
        }
        Err(error) => {
            if let Ok(head) = serde_json::from_str::<StateHead>(body) {
                head.check_version()?;
            }
            Err(StateError::Corrupt { location: location(), detail: error.to_string() })
        }
    }
}

/// The SHA-256 of a stored body, in hex.
fn digest(body: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(body.as_bytes()).iter().fold(String::with_capacity(64), |mut hex, byte| {
        use std::fmt::Write as _;
        // Writing to a `String` cannot fail.
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// A state's stored form: the same bytes the local backend writes to its file.
fn encode(state: &State) -> Result<String, StateError> {
    state
        .to_json()
        .map_err(|error| StateError::Corrupt { location: "the state to write".to_owned(), detail: error.to_string() })
}

impl Session {
    /// Connects, starts the connection's task and brings the schema up to date.
    pub(crate) async fn open(
        url: ConnectionUrl,
        project: String,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), StateError> {
        let action = format!("connect to the state {}", url.describe());
        let (mut client, connection) =
            url.config.connect(tokio_postgres::NoTls).await.map_err(|error| database_error(&action, &error))?;
        let connection = tokio::spawn(async move {
            // A broken connection shows as an error on the next query; nothing to do here.
            let _ = connection.await;
        });
        super::schema::migrate(&mut client).await?;
        let holder = LockInfo::current("");
        let session = Self {
            client,
            lock_key: lock_key(&project),
            project,
            written_by: format!("{}@{}", holder.who, holder.host),
        };
        Ok((session, connection))
    }

    /// The committed state and the journal recorded since, read in one snapshot.
    pub(crate) async fn load(&mut self) -> Result<(Option<State>, Vec<JournalEntry<'static>>), StateError> {
        let context = |error: tokio_postgres::Error| database_error("read the state", &error);
        let transaction = self
            .client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(context)?;
        let body = transaction
            .query_opt("SELECT body FROM rave.states WHERE project = $1", &[&self.project])
            .await
            .map_err(context)?;
        let rows = transaction
            .query(
                "SELECT lineage, base_serial, entry FROM rave.journal WHERE project = $1 ORDER BY id",
                &[&self.project],
            )
            .await
            .map_err(context)?;
        transaction.commit().await.map_err(context)?;
        let state = body.map(|row| parse_state(row.get(0), &self.project)).transpose()?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let update: StateUpdate = serde_json::from_str(row.get(2)).map_err(|error| StateError::Corrupt {
                location: format!("postgres:{} journal", self.project),
                detail: error.to_string(),
            })?;
            let base_serial: i64 = row.get(1);
            entries.push(JournalEntry {
                lineage: std::borrow::Cow::Owned(row.get(0)),
                base_serial: u64::try_from(base_serial).unwrap_or(0),
                update: std::borrow::Cow::Owned(update),
            });
        }
        Ok((state, entries))
    }

    /// Takes the project's session advisory lock, waiting in the server's queue for up to
    /// `timeout`, and writes the holder row in the same statement, so that a waiter finds the row
    /// as soon as the lock is taken. A holder that dies releases the lock with its session.
    pub(crate) async fn lock(&mut self, info: &LockInfo, timeout: Duration) -> Result<(), StateError> {
        let context = |error: tokio_postgres::Error| database_error("take the state lock", &error);
        let started = Instant::now();
        let info_text = serde_json::to_string(info).map_err(|error| StateError::Corrupt {
            location: "the lock info to write".to_owned(),
            detail: error.to_string(),
        })?;
        let take = |taken: &str| {
            format!(
                "WITH taken AS ({taken})
                 INSERT INTO rave.locks (project, info) SELECT $2, $3 FROM taken WHERE ok
                 ON CONFLICT (project) DO UPDATE SET info = excluded.info"
            )
        };
        let parameters: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&self.lock_key, &self.project, &info_text];
        let taken =
            self.client.execute(&take("SELECT pg_try_advisory_lock($1) AS ok"), &parameters).await.map_err(context)?
                == 1;
        if taken {
            return Ok(());
        }
        if !timeout.is_zero() {
            // Waiting inside the server queues waiters in order, instead of polling.
            let milliseconds = timeout.saturating_sub(started.elapsed()).as_millis().clamp(1, i32::MAX as u128);
            self.client
                .execute("SELECT set_config('lock_timeout', $1, false)", &[&format!("{milliseconds}ms")])
                .await
                .map_err(context)?;
            // `pg_advisory_lock` returns once it has the lock, or fails at the timeout.
            let waited = self
                .client
                .execute(&take("SELECT true AS ok FROM (SELECT pg_advisory_lock($1)) AS waited"), &parameters)
                .await;
            self.client.execute("SELECT set_config('lock_timeout', '0', false)", &[]).await.map_err(context)?;
            match waited {
                Ok(_) => return Ok(()),
                Err(error) if error.code() != Some(&SqlState::LOCK_NOT_AVAILABLE) => return Err(context(error)),
                Err(_) => {}
            }
        }
        let holder = self.holder().await?.unwrap_or_else(LockInfo::unknown);
        Err(StateError::Lock(LockError::Held { holder: Box::new(holder), waited: started.elapsed() }))
    }

    /// Records `info` as the holder of the lock this session holds already.
    pub(crate) async fn write_holder(&mut self, info: &LockInfo) -> Result<(), StateError> {
        let text = serde_json::to_string(info).map_err(|error| StateError::Corrupt {
            location: "the lock info to write".to_owned(),
            detail: error.to_string(),
        })?;
        self.client
            .execute("UPDATE rave.locks SET info = $2 WHERE project = $1", &[&self.project, &text])
            .await
            .map_err(|error| database_error("record the state lock's holder", &error))?;
        Ok(())
    }

    /// The last holder's info, if any is recorded.
    pub(crate) async fn holder(&mut self) -> Result<Option<LockInfo>, StateError> {
        let row = self
            .client
            .query_opt("SELECT info FROM rave.locks WHERE project = $1", &[&self.project])
            .await
            .map_err(|error| database_error("read the state lock's holder", &error))?;
        Ok(row.and_then(|row| serde_json::from_str(row.get(0)).ok()))
    }

    /// Clears the holder row, then releases the lock.
    pub(crate) async fn unlock(&mut self) -> Result<(), StateError> {
        let context = |error: tokio_postgres::Error| database_error("release the state lock", &error);
        self.client.execute("DELETE FROM rave.locks WHERE project = $1", &[&self.project]).await.map_err(context)?;
        self.client.execute("SELECT pg_advisory_unlock($1)", &[&self.lock_key]).await.map_err(context)?;
        Ok(())
    }

    /// Releases the lock and leaves the holder row, as a holder that died would.
    pub(crate) async fn abandon_lock(&mut self) -> Result<(), StateError> {
        self.client
            .execute("SELECT pg_advisory_unlock($1)", &[&self.lock_key])
            .await
            .map_err(|error| database_error("release the state lock", &error))?;
        Ok(())
    }

    /// Clears the row of a holder that is gone, given its id; `holds` says whether this session
    /// holds the lock itself.
    pub(crate) async fn force_unlock(&mut self, lock_id: &str, holds: bool) -> Result<(), StateError> {
        let holder = match self.holder().await? {
            Some(holder) if holder.id == lock_id => Box::new(holder),
            holder => {
                let holder = holder.map(Box::new);
                return Err(StateError::Lock(LockError::WrongId { given: lock_id.to_owned(), holder }));
            }
        };
        let context = |error: tokio_postgres::Error| database_error("break the state lock", &error);
        let free: bool = !holds
            && self
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&self.lock_key])
                .await
                .map_err(context)?
                .get(0);
        if !free {
            return Err(StateError::Lock(LockError::HolderAlive { holder }));
        }
        self.unlock().await
    }

    /// Appends one update recorded on `base`, refused unless `base` is the stored state: one
    /// statement, whatever the size of the state.
    pub(crate) async fn record(&mut self, base: &State, update: &StateUpdate) -> Result<(), StateError> {
        let entry = serde_json::to_string(update).map_err(|error| StateError::Corrupt {
            location: "the update to record".to_owned(),
            detail: error.to_string(),
        })?;
        let serial = i64::try_from(base.serial).unwrap_or(i64::MAX);
        let version = i32::try_from(STATE_VERSION).unwrap_or(i32::MAX);
        let inserted = self
            .client
            .execute(
                "INSERT INTO rave.journal (project, lineage, base_serial, entry)
                 SELECT $1, $2, $3, $4
                 WHERE NOT EXISTS (SELECT 1 FROM rave.states WHERE project = $1
                                   AND (lineage <> $2 OR serial <> $3 OR format_version > $5))",
                &[&self.project, &base.lineage, &serial, &entry, &version],
            )
            .await
            .map_err(|error| database_error("record an update in the state journal", &error))?;
        if inserted == 1 {
            return Ok(());
        }
        let head = self.head().await?;
        if let Some(head) = &head {
            head.check_version()?;
            head.check_base(base)?;
        }
        Err(StateError::SerialMoved { expected: base.serial, found: head.map_or(0, |head| head.serial) })
    }

    /// The stored state's head.
    async fn head(&mut self) -> Result<Option<StateHead>, StateError> {
        let row = self
            .client
            .query_opt("SELECT format_version, lineage, serial FROM rave.states WHERE project = $1", &[&self.project])
            .await
            .map_err(|error| database_error("read the state's serial", &error))?;
        Ok(row.map(|row| StateHead {
            version: u32::try_from(row.get::<_, i32>(0)).unwrap_or(u32::MAX),
            lineage: row.get(1),
            serial: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
        }))
    }

    /// Writes `state` as the next serial by compare-and-swap, adds it to the history and forgets
    /// the journal, in one transaction. Writing exactly the stored state again only forgets the journal.
    pub(crate) async fn commit(&mut self, state: &State) -> Result<(), StateError> {
        let body = encode(state)?;
        let context = |error: tokio_postgres::Error| database_error("commit the state", &error);
        let transaction = self.client.transaction().await.map_err(context)?;
        let stored = transaction
            .query_opt(
                "SELECT format_version, lineage, serial, body_digest FROM rave.states WHERE project = $1 FOR UPDATE",
                &[&self.project],
            )
            .await
            .map_err(context)?;
        let serial = i64::try_from(state.serial).unwrap_or(i64::MAX);
        let version = i32::try_from(state.version).unwrap_or(i32::MAX);
        let digest = digest(&body);
        let is_same = stored.as_ref().is_some_and(|row| row.get::<_, &str>(3) == digest);
        if !is_same {
            let written = match &stored {
                Some(row) => {
                    let head = StateHead {
                        version: u32::try_from(row.get::<_, i32>(0)).unwrap_or(u32::MAX),
                        lineage: row.get(1),
                        serial: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                    };
                    head.check_successor(state)?;
                    transaction
                        .execute(
                            "UPDATE rave.states SET lineage = $2, serial = $3, format_version = $4, body = $5,
                                 body_digest = $6, updated_at = now()
                             WHERE project = $1 AND serial = $3::bigint - 1 AND lineage = $2",
                            &[&self.project, &state.lineage, &serial, &version, &body, &digest],
                        )
                        .await
                }
                None => {
                    transaction
                        .execute(
                            "INSERT INTO rave.states (project, lineage, serial, format_version, body, body_digest)
                             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project) DO NOTHING",
                            &[&self.project, &state.lineage, &serial, &version, &body, &digest],
                        )
                        .await
                }
            }
            .map_err(context)?;
            if written != 1 {
                // Only a writer that ignored the lock can get here: nothing was overwritten.
                return Err(StateError::SerialMoved { expected: state.serial.saturating_sub(1), found: state.serial });
            }
            let count = i32::try_from(state.resources.len()).unwrap_or(i32::MAX);
            transaction
                .execute(
                    // The body is copied from the row just written rather than sent twice.
                    "INSERT INTO rave.history (project, lineage, serial, body, resource_count, written_by)
                     SELECT project, lineage, serial, body, $2, $3 FROM rave.states WHERE project = $1
                     ON CONFLICT (project, lineage, serial) DO UPDATE
                     SET body = excluded.body, resource_count = excluded.resource_count,
                         written_at = now(), written_by = excluded.written_by",
                    &[&self.project, &count, &self.written_by],
                )
                .await
                .map_err(context)?;
        }
        transaction.execute("DELETE FROM rave.journal WHERE project = $1", &[&self.project]).await.map_err(context)?;
        transaction.commit().await.map_err(context)
    }

    /// Forgets journal entries recorded on a state that is no longer the stored one.
    pub(crate) async fn drop_journal(&mut self) -> Result<(), StateError> {
        self.client
            .execute("DELETE FROM rave.journal WHERE project = $1", &[&self.project])
            .await
            .map_err(|error| database_error("clear the state journal", &error))?;
        Ok(())
    }

    /// Every committed state kept, newest first.
    pub(crate) async fn history(&mut self) -> Result<Vec<HistoryEntry>, StateError> {
        let rows = self
            .client
            .query(
                "SELECT serial, lineage, resource_count, written_by,
                        to_char(written_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
                 FROM rave.history WHERE project = $1 ORDER BY written_at DESC, serial DESC",
                &[&self.project],
            )
            .await
            .map_err(|error| database_error("read the state history", &error))?;
        Ok(rows
            .into_iter()
            .map(|row| HistoryEntry {
                serial: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
                lineage: row.get(1),
                resource_count: usize::try_from(row.get::<_, i32>(2)).unwrap_or(0),
                written_by: row.get(3),
                written_at: row.get(4),
            })
            .collect())
    }

    /// The committed state with `serial` in the current lineage's history.
    pub(crate) async fn state_at(&mut self, serial: u64) -> Result<Option<State>, StateError> {
        let serial = i64::try_from(serial).unwrap_or(i64::MAX);
        let row = self
            .client
            .query_opt(
                "SELECT h.body FROM rave.history h
                 LEFT JOIN rave.states s ON s.project = h.project
                 WHERE h.project = $1 AND h.serial = $2
                 ORDER BY (h.lineage = s.lineage) DESC NULLS LAST, h.written_at DESC LIMIT 1",
                &[&self.project, &serial],
            )
            .await
            .map_err(|error| database_error("read the state history", &error))?;
        row.map(|row| parse_state(row.get(0), &self.project)).transpose()
    }
}
