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

/// Why the lock could not be taken or released. Holders are boxed to keep `Result`s small.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Someone else holds it and did not let go within the timeout.
    Held {
        /// The holder.
        holder: Box<LockInfo>,
        /// How long we waited.
        waited: std::time::Duration,
    },
    /// `state unlock` was given an id that is not the current lock's.
    WrongId {
        /// The id given.
        given: String,
        /// The current holder, if any.
        holder: Option<Box<LockInfo>>,
    },
    /// `state unlock` was asked to break a lock whose holder is still alive.
    HolderAlive {
        /// The holder.
        holder: Box<LockInfo>,
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

/// How often a waiting process tries the lock again.
pub(crate) const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// How a wait for the lock ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitOutcome {
    /// The lock was taken.
    Taken,
    /// It was still held when the time ran out.
    TimedOut {
        /// How long it waited.
        waited: std::time::Duration,
    },
}

/// Calls `try_take` (true when it took the lock) every [`POLL_INTERVAL`] until it succeeds or
/// `timeout` has passed; the number of attempts is bounded by the timeout.
pub(crate) fn wait_for<E>(
    timeout: std::time::Duration,
    mut try_take: impl FnMut() -> Result<bool, E>,
) -> Result<WaitOutcome, E> {
    let started = std::time::Instant::now();
    loop {
        if try_take()? {
            return Ok(WaitOutcome::Taken);
        }
        let waited = started.elapsed();
        let Some(remaining) = timeout.checked_sub(waited).filter(|remaining| !remaining.is_zero()) else {
            return Ok(WaitOutcome::TimedOut { waited });
        };
        std::thread::sleep(remaining.min(POLL_INTERVAL));
    }
}

impl LockInfo {
    /// Describes this process taking the lock now for `operation`.
    pub(crate) fn current(operation: &str) -> Self {
        let who = ["USER", "LOGNAME"]
            .into_iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.is_empty())
            .or_else(|| {
                use std::os::unix::fs::MetadataExt;
                std::fs::metadata("/proc/self").ok().map(|metadata| format!("uid {}", metadata.uid()))
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let host = hostname::get().map_or_else(|_| "unknown".to_owned(), |name| name.to_string_lossy().into_owned());
        Self {
            id: super::random_hex(),
            who,
            host,
            pid: std::process::id(),
            operation: operation.to_owned(),
            since: rfc3339_utc(std::time::SystemTime::now()),
        }
    }
}

impl LockInfo {
    /// The holder named when the lock is held but its info cannot be read: a process that has
    /// only just taken it, or a program other than rave.
    pub(crate) fn unknown() -> Self {
        let unknown = || "unknown".to_owned();
        Self { id: unknown(), who: unknown(), host: unknown(), pid: 0, operation: unknown(), since: unknown() }
    }
}

/// `time` as an RFC 3339 timestamp in UTC, to the second: `2024-02-29T12:34:56Z`.
fn rfc3339_utc(time: std::time::SystemTime) -> String {
    let seconds = time.duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    let (year, month, day) = civil_date(seconds / 86_400);
    let time_of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        time_of_day / 3600,
        time_of_day % 3600 / 60,
        time_of_day % 60
    )
}

/// The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01, after Howard
/// Hinnant's `civil_from_days`; days before 1970 never occur here, so it stays unsigned.
fn civil_date(days_since_epoch: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let days = days_since_epoch + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        for (seconds, expected) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_210_096, "2024-02-29T12:34:56Z"),
            (1_735_689_599, "2024-12-31T23:59:59Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
        ] {
            assert_eq!(rfc3339_utc(UNIX_EPOCH + Duration::from_secs(seconds)), expected);
        }
    }

    #[test]
    fn the_current_holder_is_described() {
        let info = LockInfo::current("apply");
        assert_eq!((info.operation.as_str(), info.pid), ("apply", std::process::id()));
        assert_eq!(info.id.len(), 32);
        assert_ne!(info.id, LockInfo::current("apply").id);
        assert!(!info.who.is_empty() && !info.host.is_empty());
        assert_eq!(info.since.len(), "2024-02-29T12:34:56Z".len());
    }

    #[test]
    fn waiting_is_bounded_by_the_timeout() {
        let mut attempts = 0;
        let outcome = wait_for::<()>(Duration::from_millis(250), || {
            attempts += 1;
            Ok(false)
        });
        let Ok(WaitOutcome::TimedOut { waited }) = outcome else { panic!("{outcome:?}") };
        assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(2), "{waited:?}");
        // At 0, 100 and 200 ms, then once more when the last 50 ms are up.
        assert!((3..=5).contains(&attempts), "{attempts}");
        let mut zero_attempts = 0;
        let zero = wait_for::<()>(Duration::ZERO, || {
            zero_attempts += 1;
            Ok(false)
        });
        assert!(matches!(zero, Ok(WaitOutcome::TimedOut { .. })) && zero_attempts == 1);
        let mut calls = 0;
        let taken = wait_for::<()>(Duration::from_secs(5), || {
            calls += 1;
            Ok(calls == 2)
        });
        assert_eq!(taken, Ok(WaitOutcome::Taken));
    }
}
