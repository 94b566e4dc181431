//! The interface every state backend offers, and the conformance test they all pass.

use crate::model::ResourceId;
use crate::state::lock::{LockError, LockInfo};
use crate::state::{ResourceState, State};

/// One change to record for a resource during an apply.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum StateUpdate {
    /// The resource was created or updated and now looks like this.
    Put {
        /// Which resource.
        address: ResourceId,
        /// Its new recorded state.
        resource: ResourceState,
    },
    /// The resource was destroyed.
    Remove {
        /// Which resource.
        address: ResourceId,
    },
}

/// Errors from a state backend.
#[derive(Debug)]
pub(crate) enum StateError {
    /// Reading or writing failed.
    Io {
        /// What was being done, for the message: "read state file `.rave/state.json`".
        action: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The stored state is not valid.
    Corrupt {
        /// Where.
        location: String,
        /// What is wrong.
        detail: String,
    },
    /// Written by a newer rave.
    UnsupportedVersion {
        /// The version found.
        found: u32,
    },
    /// Someone else committed since this writer loaded.
    SerialMoved {
        /// The serial this writer expected.
        expected: u64,
        /// The serial found.
        found: u64,
    },
    /// The lineage differs from the one expected.
    LineageMismatch {
        /// The lineage expected.
        expected: String,
        /// The lineage found.
        found: String,
    },
    /// The lock could not be taken or released.
    Lock(LockError),
    /// The database holding the state failed or could not be reached.
    Database {
        /// What was being done: "connect to `postgresql://rave:***@db/rave`".
        action: String,
        /// What the database or the client said; never holds a password.
        detail: String,
    },
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io { action, source } => write!(f, "failed to {action}: {source}"),
            Self::Corrupt { location, detail } => {
                write!(f, "state `{location}` is corrupt: {detail}")
            }
            Self::UnsupportedVersion { found } => write!(
                f,
                "state format version {found} is newer than this rave understands ({}); upgrade rave",
                super::STATE_VERSION
            ),
            Self::SerialMoved { expected, found } => write!(
                f,
                "state serial moved on from {expected} to {found}: someone else applied in the meantime; plan again"
            ),
            Self::LineageMismatch { expected, found } => {
                write!(f, "state lineage is `{found}`, expected `{expected}`: this is another project's state")
            }
            Self::Lock(error) => error.fmt(f),
            Self::Database { action, detail } => write!(f, "failed to {action}: {detail}"),
        }
    }
}

impl StateError {
    /// A `Corrupt` error for JSON in `path` that did not parse, located at `path:line:column`
    /// (`line` counted in the whole file), with serde's message stripped of its own position.
    pub(crate) fn corrupt_json(path: &std::path::Path, line: usize, error: &serde_json::Error) -> Self {
        let message = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let detail = message.strip_suffix(&position).unwrap_or(&message).to_owned();
        Self::Corrupt { location: format!("{}:{line}:{}", path.display(), error.column()), detail }
    }
}

impl std::error::Error for StateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A place where state is kept. Every method is blocking and cheap enough to call per node.
pub(crate) trait StateBackend: Send {
    /// Loads the latest state (with any recorded-but-uncommitted updates folded in), or `None`
    /// when there is no state yet.
    fn load(&mut self) -> Result<Option<State>, StateError>;

    /// Takes the lock for `info.operation`, waiting up to `timeout` for a holder to let go.
    fn lock(&mut self, info: &LockInfo, timeout: std::time::Duration) -> Result<(), StateError>;

    /// Releases the lock this backend holds.
    fn unlock(&mut self) -> Result<(), StateError>;

    /// Durably records one update on top of `base` (the state loaded for this apply), without
    /// rewriting the whole state. Survives a crash right after it returns.
    fn record(&mut self, base: &State, update: &StateUpdate) -> Result<(), StateError>;

    /// Writes `state` as the new committed state with serial `state.serial`, which must be one
    /// more than the stored serial (compare-and-swap), and forgets recorded updates.
    fn commit(&mut self, state: &State) -> Result<(), StateError>;

    /// Breaks a lock left by a holder that is gone, given its id.
    fn force_unlock(&mut self, lock_id: &str) -> Result<(), StateError>;

    /// The committed states this backend keeps, newest first; by default only the latest.
    fn history(&mut self) -> Result<Vec<HistoryEntry>, StateError> {
        Ok(self.load()?.iter().map(HistoryEntry::unknown_origin).collect())
    }

    /// The committed state with `serial`, if this backend still keeps it; by default only the latest.
    fn state_at(&mut self, serial: u64) -> Result<Option<State>, StateError> {
        Ok(self.load()?.filter(|state| state.serial == serial))
    }
}

/// One committed state in a backend's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryEntry {
    /// Its serial.
    pub(crate) serial: u64,
    /// Its lineage.
    pub(crate) lineage: String,
    /// How many resources it records.
    pub(crate) resource_count: usize,
    /// When it was committed, RFC 3339 in UTC (empty when the backend does not know).
    pub(crate) written_at: String,
    /// `who@host` that committed it (empty when the backend does not know).
    pub(crate) written_by: String,
}

impl HistoryEntry {
    /// The entry for `state` when nothing is known of when and by whom it was committed.
    pub(crate) fn unknown_origin(state: &State) -> Self {
        Self {
            serial: state.serial,
            lineage: state.lineage.clone(),
            resource_count: state.resources.len(),
            written_at: String::new(),
            written_by: String::new(),
        }
    }
}

/// Runs `write` on `backend` under its lock: as is when `is_held`, otherwise taking the lock just
/// for this write, so that a holder elsewhere makes it fail at once with that holder's name.
pub(crate) fn write_under_lock<B: StateBackend, T>(
    backend: &mut B,
    is_held: bool,
    operation: &str,
    write: impl FnOnce(&mut B) -> Result<T, StateError>,
) -> Result<T, StateError> {
    if is_held {
        return write(backend);
    }
    backend.lock(&LockInfo::current(operation), std::time::Duration::ZERO)?;
    let written = write(backend);
    let released = backend.unlock();
    let value = written?;
    released?;
    Ok(value)
}
