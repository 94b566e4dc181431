//! The local backend's lock: an exclusive OS lock on the file `P.lock`, with the holder's
//! [`LockInfo`] written inside it for whoever waits.
//!
//! The OS drops the lock when its holder's file closes, including when the process is killed, so
//! a dead holder never blocks anyone: what it leaves is only its info, which the next holder
//! overwrites and `force_release` clears. What the lock protects is the caller's business.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::state::backend::StateError;
use crate::state::lock::{LockError, LockInfo, WaitOutcome, wait_for};
use crate::state::private_files::{create_directory, directory_of, io_error, open_private};

/// The lock file, and the open file holding the OS lock while this process has it.
#[derive(Debug)]
pub(crate) struct FileLock {
    /// `P.lock`.
    path: PathBuf,
    /// `Some` while held; closing it releases the lock.
    held: Option<File>,
}

impl FileLock {
    /// The lock kept in the file at `path`; nothing is opened yet.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path, held: None }
    }

    /// Whether this process holds the lock through this value.
    pub(crate) fn is_held(&self) -> bool {
        self.held.is_some()
    }

    /// Takes the lock, trying again every 100 ms for up to `timeout`, then writes `info` into it.
    /// Taking it again while held only rewrites `info`.
    pub(crate) fn acquire(&mut self, info: &LockInfo, timeout: Duration) -> Result<(), StateError> {
        if let Some(file) = &self.held {
            return write_info(file, &self.path, Some(info));
        }
        create_directory(directory_of(&self.path))?;
        let file = open_private(&self.path, false)?;
        let outcome = wait_for(timeout, || match file.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(error)) => Err(io_error("lock", &self.path)(error)),
        })?;
        if let WaitOutcome::TimedOut { waited } = outcome {
            let holder = self.holder()?.unwrap_or_else(LockInfo::unknown);
            return Err(StateError::Lock(LockError::Held { holder: Box::new(holder), waited }));
        }
        // Dropping `file` on failure releases the lock again.
        write_info(&file, &self.path, Some(info))?;
        self.held = Some(file);
        Ok(())
    }

    /// Clears the holder's info and releases the lock; not holding it is fine.
    pub(crate) fn release(&mut self) -> Result<(), StateError> {
        let Some(file) = self.held.take() else {
            return Ok(());
        };
        write_info(&file, &self.path, None)?;
        file.unlock().map_err(io_error("unlock", &self.path))
    }

    /// Clears the info left by a holder that is gone, given its id: refused when the id is not the
    /// one in the file, or when the holder still holds the OS lock.
    pub(crate) fn force_release(&mut self, lock_id: &str) -> Result<(), StateError> {
        let holder = match self.holder()? {
            Some(holder) if holder.id == lock_id => Box::new(holder),
            holder => {
                let holder = holder.map(Box::new);
                return Err(StateError::Lock(LockError::WrongId { given: lock_id.to_owned(), holder }));
            }
        };
        if self.held.is_some() {
            return Err(StateError::Lock(LockError::HolderAlive { holder }));
        }
        let file = open_private(&self.path, false)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Lock(LockError::HolderAlive { holder }));
            }
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(io_error("lock", &self.path)(error));
            }
        }
        write_info(&file, &self.path, None)?;
        file.unlock().map_err(io_error("unlock", &self.path))
    }

    /// The info of the last holder, if the file has any that parses.
    pub(crate) fn holder(&self) -> Result<Option<LockInfo>, StateError> {
        match std::fs::read(&self.path) {
            // A holder caught between taking the lock and writing its info reads as no info.
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error("read", &self.path)(error)),
        }
    }
}

impl Drop for FileLock {
    /// Releases the OS lock now rather than when the file closes: a process forked by another
    /// thread shares the open file until it execs, and would hold the lock that long. The info
    /// stays, as a killed holder's would.
    fn drop(&mut self) {
        if let Some(file) = &self.held {
            // Closing the file releases the lock anyway, so a failure here changes nothing.
            let _ = file.unlock();
        }
    }
}

/// Replaces the info in the lock `file` with `info` (or nothing). Not synced: the info only names
/// the holder in messages, the page cache keeps it for a killed holder, and after a machine crash
/// the OS lock it describes is gone anyway (a sync cost each plan a millisecond or more of disk).
fn write_info(file: &File, path: &Path, info: Option<&LockInfo>) -> Result<(), StateError> {
    let bytes = match info {
        Some(info) => serde_json::to_vec_pretty(info)
            .map_err(|error| io_error("encode the lock info for", path)(std::io::Error::other(error)))?,
        None => Vec::new(),
    };
    file.set_len(0).and_then(|()| file.write_all_at(&bytes, 0)).map_err(io_error("write the lock info to", path))
}
