//! Who holds the state lock: [`LockInfo`], and the errors around taking it.

use serde::{Deserialize, Serialize};

/// Who holds a lock, for the message another process shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LockInfo {
    /// A random id, for `rave state unlock ID`.
    pub(crate) id: String,
    /// `user` of the holder.
    pub(crate) who: String,
    /// The holder's host name.
    pub(crate) host: String,
    /// The holder's process id.
    pub(crate) pid: u32,
    /// `plan`, `apply`, `destroy`, `state rm`…
    pub(crate) operation: String,
    /// When it was taken, RFC 3339 in UTC.
    pub(crate) since: String,
}

/// Why the lock could not be taken or released.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Someone else holds it and did not let go within the timeout.
    Held {
        /// The holder.
        holder: LockInfo,
        /// How long we waited.
        waited: std::time::Duration,
    },
    /// `state unlock` was given an id that is not the current lock's.
    WrongId {
        /// The id given.
        given: String,
        /// The current holder, if any.
        holder: Option<LockInfo>,
    },
    /// `state unlock` was asked to break a lock whose holder is still alive.
    HolderAlive {
        /// The holder.
        holder: LockInfo,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Held { holder, waited } => write!(
                f,
                "state is locked by {} on {} (pid {}, {} since {}, lock id `{}`); waited {}s",
                holder.who,
                holder.host,
                holder.pid,
                holder.operation,
                holder.since,
                holder.id,
                waited.as_secs()
            ),
            Self::WrongId { given, holder: Some(holder) } => {
                write!(f, "lock id `{given}` does not match the current lock `{}`", holder.id)
            }
            Self::WrongId { given, holder: None } => write!(f, "lock id `{given}` given, but the state is not locked"),
            Self::HolderAlive { holder } => write!(
                f,
                "lock `{}` is held by a running process (pid {} on {}, {}); stop it instead of unlocking",
                holder.id, holder.pid, holder.host, holder.operation
            ),
        }
    }
}
