//! The embedded state backend: a JSON file `P` on the local disk, with `P.backup` (the state before
//! the last commit), `P.journal` (updates recorded since) and `P.lock` beside it.
//!
//! Every file is 0600 and a directory it creates is 0700. A commit replaces `P` atomically and
//! drops the journal; a record appends one synced line to the journal. A crash at any point leaves
//! a state that loads and forgets nothing committed or recorded: the journal is folded back in on
//! the next load. Writes happen under the lock; a write made without it takes it for that write.
//! The format of the journal is `journal`'s, the lock is `file_lock`'s.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::state::State;
use crate::state::backend::{HistoryEntry, StateBackend, StateError, StateUpdate, write_under_lock};
use crate::state::file_lock::FileLock;
use crate::state::journal::{self, JournalEntry, JournalWriter};
use crate::state::lock::LockInfo;
use crate::state::private_files::{
    io_error, link_atomically, read_private, remove_if_present, replace_atomically, with_suffix,
};
use crate::state::state_head::StateHead;

/// State kept in a file on the local disk.
#[derive(Debug)]
pub(crate) struct LocalBackend {
    /// `P`: the committed state.
    state_path: PathBuf,
    /// `P.backup`: the committed state before the last commit.
    backup_path: PathBuf,
    /// `P.journal`: the updates recorded since the last commit.
    journal_path: PathBuf,
    /// `P.lock`.
    lock: FileLock,
    /// The journal, open for appending while the lock is held.
    journal: Option<JournalWriter>,
    /// What `P` holds, as last read or written while the lock is held, so that a record need not
    /// read `P`.
    committed: Committed,
}

/// What a backend knows of the committed state.
#[derive(Debug, Clone)]
enum Committed {
    /// Nothing: the lock was not held since it was last read.
    Unknown,
    /// Its head, or `None` when there is no committed state.
    Known(Option<StateHead>),
}

impl LocalBackend {
    /// The backend for the state file at `state_path` (the caller picks `.rave/state.json` by
    /// default). Nothing is read or created until it is used.
    pub(crate) fn new(state_path: PathBuf) -> Self {
        Self {
            backup_path: with_suffix(&state_path, ".backup"),
            journal_path: with_suffix(&state_path, ".journal"),
            lock: FileLock::new(with_suffix(&state_path, ".lock")),
            state_path,
            journal: None,
            committed: Committed::Unknown,
        }
    }

    /// Runs `write` under the lock: see [`write_under_lock`].
    fn with_lock<T>(
        &mut self,
        operation: &str,
        write: impl FnOnce(&mut Self) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        let is_held = self.lock.is_held();
        write_under_lock(self, is_held, operation, write)
    }

    /// The head of the committed state, read from `P` unless known.
    fn committed_head(&mut self) -> Result<Option<StateHead>, StateError> {
        if let Committed::Known(head) = &self.committed {
            return Ok(head.clone());
        }
        let head = match read_private(&self.state_path)? {
            Some(bytes) => Some(parse_head(&bytes, &self.state_path)?),
            None => None,
        };
        self.committed = Committed::Known(head.clone());
        Ok(head)
    }

    /// Commits `state` while holding the lock: see [`StateBackend::commit`].
    fn commit_locked(&mut self, state: &State) -> Result<(), StateError> {
        let bytes = state
            .to_json()
            .map_err(|error| io_error("encode the state for", &self.state_path)(std::io::Error::other(error)))?
            .into_bytes();
        let current = read_private(&self.state_path)?;
        // Committing exactly the stored state again changes nothing, so the file is left alone.
        if current.as_deref() != Some(bytes.as_slice()) {
            if let Some(current) = &current {
                parse_head(current, &self.state_path)?.check_successor(state)?;
                link_atomically(&self.state_path, &self.backup_path)?;
            }
            replace_atomically(&self.state_path, &bytes)?;
        }
        self.committed = Committed::Known(Some(StateHead::of(state)));
        self.drop_journal()
    }

    /// Forgets the recorded updates. Only once the committed state holding them is durable: if this
    /// removal is lost in a crash, the lines left name the old serial and are ignored.
    fn drop_journal(&mut self) -> Result<(), StateError> {
        self.journal = None;
        remove_if_present(&self.journal_path)
    }
}

impl StateBackend for LocalBackend {
    fn load(&mut self) -> Result<Option<State>, StateError> {
        let mut state = match read_private(&self.state_path)? {
            Some(bytes) => Some(parse_state(&bytes, &self.state_path)?),
            None => None,
        };
        let committed = state.as_ref().map(StateHead::of);
        let journal_bytes = read_private(&self.journal_path)?.unwrap_or_default();
        let entries = journal::parse(&journal_bytes, &self.journal_path)?.entries;
        let is_folded = journal::fold(&mut state, entries);
        if self.lock.is_held() {
            match &state {
                // The folded state is a new version: committing it now gives its serial one meaning.
                Some(folded) if is_folded => self.commit_locked(folded)?,
                _ => {
                    self.committed = Committed::Known(committed);
                    if !journal_bytes.is_empty() {
                        self.drop_journal()?;
                    }
                }
            }
        }
        Ok(state)
    }

    fn lock(&mut self, info: &LockInfo, timeout: Duration) -> Result<(), StateError> {
        if !self.lock.is_held() {
            // Whatever was known about `P` may have changed while the lock was not held.
            self.committed = Committed::Unknown;
        }
        self.lock.acquire(info, timeout)
    }

    fn unlock(&mut self) -> Result<(), StateError> {
        // Once the lock is gone another process may commit and remove the journal under us.
        self.journal = None;
        self.committed = Committed::Unknown;
        self.lock.release()
    }

    fn record(&mut self, base: &State, update: &StateUpdate) -> Result<(), StateError> {
        self.with_lock("record", |this| {
            if let Some(head) = this.committed_head()? {
                head.check_base(base)?;
            }
            let journal = match &mut this.journal {
                Some(journal) => journal,
                None => this.journal.insert(JournalWriter::open(&this.journal_path)?),
            };
            journal.append(&JournalEntry {
                lineage: base.lineage.as_str().into(),
                base_serial: base.serial,
                update: std::borrow::Cow::Borrowed(update),
            })
        })
    }

    fn commit(&mut self, state: &State) -> Result<(), StateError> {
        self.with_lock("commit", |this| this.commit_locked(state))
    }

    fn force_unlock(&mut self, lock_id: &str) -> Result<(), StateError> {
        self.lock.force_release(lock_id)
    }

    /// The current state and the one before the last commit (`P.backup`): all this backend keeps.
    fn history(&mut self) -> Result<Vec<HistoryEntry>, StateError> {
        let current = self.load()?;
        let backup = self.backup()?.filter(|backup| current.as_ref().is_none_or(|state| state.serial != backup.serial));
        Ok(current.iter().chain(backup.iter()).map(HistoryEntry::unknown_origin).collect())
    }

    fn state_at(&mut self, serial: u64) -> Result<Option<State>, StateError> {
        match self.load()? {
            Some(current) if current.serial == serial => Ok(Some(current)),
            _ => Ok(self.backup()?.filter(|backup| backup.serial == serial)),
        }
    }
}

impl LocalBackend {
    /// The state before the last commit, if kept.
    fn backup(&self) -> Result<Option<State>, StateError> {
        read_private(&self.backup_path)?.map(|bytes| parse_state(&bytes, &self.backup_path)).transpose()
    }
}

/// Parses the state file's `bytes`, refusing a newer format and naming the position of bad JSON.
fn parse_state(bytes: &[u8], path: &Path) -> Result<State, StateError> {
    match serde_json::from_slice::<State>(bytes) {
        Ok(state) => {
            StateHead::of(&state).check_version()?;
            Ok(state)
        }
        Err(error) => {
            // A newer format may not parse as this one; its version is the message worth giving.
            if let Ok(head) = serde_json::from_slice::<StateHead>(bytes) {
                head.check_version()?;
            }
            Err(StateError::corrupt_json(path, error.line(), &error))
        }
    }
}

/// Parses only the head of the state file's `bytes`.
fn parse_head(bytes: &[u8], path: &Path) -> Result<StateHead, StateError> {
    let head: StateHead =
        serde_json::from_slice(bytes).map_err(|error| StateError::corrupt_json(path, error.line(), &error))?;
    head.check_version()?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;
    use crate::state::conformance::{conformance, put, updated};
    use crate::state::lock::LockError;
    use crate::state::sample::sample_state;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A backend holding the lock on `path`, waiting for it a little: a holder just dropped may
    /// still be shared for a moment with a child that another test is starting.
    fn locked(path: &Path) -> LocalBackend {
        let mut backend = LocalBackend::new(path.to_owned());
        backend.lock(&LockInfo::current("test"), Duration::from_secs(5)).unwrap();
        backend
    }

    /// Commits a first state with one resource and returns it.
    fn committed(backend: &mut LocalBackend) -> State {
        let state = updated(&State::new_lineage(), 1, &[put("host.a", "one")]);
        backend.commit(&state).unwrap();
        state
    }

    #[test]
    fn the_local_backend_keeps_the_backend_promises() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        conformance(|| LocalBackend::new(path.clone()));
    }

    #[test]
    fn files_are_0600_in_a_0700_directory_and_loading_creates_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let state_directory = directory.path().join("project/.rave");
        let path = state_directory.join("state.json");
        assert_eq!(LocalBackend::new(path.clone()).load().unwrap(), None);
        assert!(!state_directory.exists());

        let mut backend = locked(&path);
        let state = committed(&mut backend);
        backend.record(&state, &put("host.b", "two")).unwrap();
        backend.commit(&updated(&state, 2, &[put("host.b", "two")])).unwrap();
        backend.record(&updated(&state, 2, &[]), &put("host.c", "three")).unwrap();
        assert_eq!(mode(&state_directory), 0o700);
        assert_eq!(mode(&directory.path().join("project")), 0o700);
        for suffix in ["", ".backup", ".journal", ".lock"] {
            assert_eq!(mode(&with_suffix(&path, suffix)), 0o600, "{suffix}");
        }

        // A file someone opened up is narrowed again when it is next read.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        LocalBackend::new(path.clone()).load().unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_commit_keeps_the_previous_state_as_backup() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let mut backend = locked(&path);
        let first = committed(&mut backend);
        assert!(!with_suffix(&path, ".backup").exists());
        let first_bytes = fs::read(&path).unwrap();
        backend.commit(&updated(&first, 2, &[put("host.b", "two")])).unwrap();
        assert_eq!(fs::read(with_suffix(&path, ".backup")).unwrap(), first_bytes);
        assert_ne!(fs::read(&path).unwrap(), first_bytes);
        // The written form is pretty, deterministic JSON.
        assert_eq!(first_bytes, format!("{}\n", serde_json::to_string_pretty(&first).unwrap()).into_bytes());
    }

    #[test]
    fn committing_the_same_bytes_does_not_rewrite_the_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let mut backend = locked(&path);
        let state = committed(&mut backend);
        let before = fs::metadata(&path).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        backend.commit(&state).unwrap();
        let after = fs::metadata(&path).unwrap();
        assert_eq!((before.ino(), before.mtime_nsec()), (after.ino(), after.mtime_nsec()));
        assert!(!with_suffix(&path, ".backup").exists());
    }

    #[test]
    fn a_torn_last_journal_line_is_ignored_and_cut_before_the_next_record() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let journal_path = with_suffix(&path, ".journal");
        let mut backend = locked(&path);
        let state = committed(&mut backend);
        backend.record(&state, &put("host.b", "two")).unwrap();
        backend.unlock().unwrap();
        let whole = fs::read(&journal_path).unwrap();
        let mut torn = whole.clone();
        torn.extend_from_slice(&whole[..whole.len() / 2]);
        fs::write(&journal_path, &torn).unwrap();

        let expected = updated(&state, 2, &[put("host.b", "two")]);
        assert_eq!(LocalBackend::new(path.clone()).load().unwrap(), Some(expected));

        let mut recorder = locked(&path);
        recorder.record(&state, &put("host.c", "three")).unwrap();
        drop(recorder);
        let expected = updated(&state, 2, &[put("host.b", "two"), put("host.c", "three")]);
        assert_eq!(LocalBackend::new(path.clone()).load().unwrap(), Some(expected));
    }

    #[test]
    fn damage_in_the_middle_of_the_journal_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let journal_path = with_suffix(&path, ".journal");
        let mut backend = locked(&path);
        let state = committed(&mut backend);
        backend.record(&state, &put("host.b", "two")).unwrap();
        backend.unlock().unwrap();
        let mut text = fs::read_to_string(&journal_path).unwrap();
        text = format!("{text}{{\"lineage\": 7}}\n{text}");
        fs::write(&journal_path, text).unwrap();
        let error = LocalBackend::new(path.clone()).load().unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("state `{}:2:13` is corrupt: invalid type: integer `7`, expected a string", journal_path.display())
        );
    }

    #[test]
    fn a_damaged_or_newer_state_file_is_refused_with_its_position() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        fs::write(&path, "{\n  \"version\": 1,\n  \"serial\": ,\n}\n").unwrap();
        let error = LocalBackend::new(path.clone()).load().unwrap_err();
        assert_eq!(error.to_string(), format!("state `{}:3:13` is corrupt: expected value", path.display()));
        fs::write(&path, "{\"version\": 2, \"serial\": 1, \"lineage\": \"l\", \"resources\": {}, \"new\": []}")
            .unwrap();
        assert!(matches!(LocalBackend::new(path.clone()).load(), Err(StateError::UnsupportedVersion { found: 2 })));
        fs::write(&path, "{\"version\": 9, \"serial\": 1, \"lineage\": \"l\", \"entirely\": \"different\"}").unwrap();
        assert!(matches!(LocalBackend::new(path.clone()).load(), Err(StateError::UnsupportedVersion { found: 9 })));
        let mut backend = locked(&path);
        let next = State { serial: 2, lineage: "l".into(), ..State::new_lineage() };
        assert!(matches!(backend.commit(&next), Err(StateError::UnsupportedVersion { found: 9 })));
    }

    #[test]
    fn a_crash_at_any_step_of_a_commit_loses_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let journal_path = with_suffix(&path, ".journal");
        let mut backend = locked(&path);
        let state = committed(&mut backend);
        let updates = [put("host.b", "two"), put("host.c", "three")];
        for update in &updates {
            backend.record(&state, update).unwrap();
        }
        let journal = fs::read(&journal_path).unwrap();
        let next = updated(&state, 2, &updates);

        // Before the rename: the old state and the journal give the new one.
        fs::copy(&path, with_suffix(&path, ".backup.tmp")).unwrap();
        assert_eq!(LocalBackend::new(path.clone()).load().unwrap().as_ref(), Some(&next));

        // Between the rename and the journal's removal: the journal's lines name the old serial.
        backend.commit(&next).unwrap();
        assert!(!journal_path.exists());
        fs::write(&journal_path, &journal).unwrap();
        assert_eq!(LocalBackend::new(path.clone()).load().unwrap().as_ref(), Some(&next));
        drop(backend);

        // The next holder's load drops the stale journal; a backup left staged is replaced.
        let mut next_holder = locked(&path);
        assert_eq!(next_holder.load().unwrap().as_ref(), Some(&next));
        assert!(!journal_path.exists());
        let last = updated(&next, 3, &[put("host.d", "four")]);
        next_holder.commit(&last).unwrap();
        assert!(!with_suffix(&path, ".backup.tmp").exists());
        assert_eq!(LocalBackend::new(path.clone()).load().unwrap(), Some(last));
    }

    #[test]
    fn a_locked_load_commits_what_the_journal_folded_in() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let mut crashed = locked(&path);
        let base = State::new_lineage();
        crashed.record(&base, &put("host.a", "one")).unwrap();
        drop(crashed);
        assert!(!path.exists());

        let expected = updated(&base, 1, &[put("host.a", "one")]);
        assert_eq!(LocalBackend::new(path.clone()).load().unwrap().as_ref(), Some(&expected));
        assert!(!path.exists());
        assert_eq!(locked(&path).load().unwrap().as_ref(), Some(&expected));
        assert!(path.exists() && !with_suffix(&path, ".journal").exists());
    }

    #[test]
    fn recording_on_a_large_state_writes_one_small_line() {
        let directory = tempfile::tempdir().unwrap();
        let mut line_lengths = Vec::new();
        for count in [1, 10_000] {
            let path = directory.path().join(format!("state-{count}.json"));
            let journal_path = with_suffix(&path, ".journal");
            let mut backend = locked(&path);
            let state = sample_state(count);
            backend.commit(&state).unwrap();
            let before = fs::metadata(&path).unwrap();
            for _ in 0..3 {
                backend.record(&state, &put("host.new", "value")).unwrap();
            }
            let after = fs::metadata(&path).unwrap();
            assert_eq!((before.ino(), before.mtime_nsec()), (after.ino(), after.mtime_nsec()));
            line_lengths.push(fs::metadata(&journal_path).unwrap().len());
        }
        assert_eq!(line_lengths[0], line_lengths[1]);
        assert!(line_lengths[1] < 3 * 512, "{line_lengths:?}");
    }

    /// Set for the child process of [`a_killed_holder_blocks_nobody`]: the lock path to hold.
    const HOLDER_PATH: &str = "RAVE_TEST_LOCK_HOLDER_PATH";

    /// Run only as that child: holds the lock for at most 30 s, until killed.
    #[test]
    #[ignore = "run as a child process by `a_killed_holder_blocks_nobody`"]
    fn hold_the_lock_until_killed() {
        let Some(path) = std::env::var_os(HOLDER_PATH) else {
            return;
        };
        let _holder = locked(Path::new(&path));
        std::thread::sleep(Duration::from_secs(30));
    }

    #[test]
    // Tests may start this test binary itself; only drivers start other programs.
    #[allow(clippy::disallowed_methods)]
    fn a_killed_holder_blocks_nobody() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "state::local_backend::tests::hold_the_lock_until_killed", "--ignored"])
            .env(HOLDER_PATH, &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut waiter = LocalBackend::new(path.clone());
        let held = (0..100).find_map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            match waiter.lock(&LockInfo::current("plan"), Duration::ZERO) {
                Err(StateError::Lock(LockError::Held { holder, .. })) if holder.pid == child.id() => Some(holder),
                _ => None,
            }
        });
        child.kill().unwrap();
        child.wait().unwrap();
        let holder = held.expect("the child took the lock within 5 s");
        assert_eq!(holder.operation, "test");
        waiter.lock(&LockInfo::current("apply"), Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn the_lock_file_names_the_holder_and_is_cleared_on_unlock() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let lock_path = with_suffix(&path, ".lock");
        let info = LockInfo::current("apply");
        let mut backend = LocalBackend::new(path.clone());
        backend.lock(&info, Duration::ZERO).unwrap();
        let written: LockInfo = serde_json::from_slice(&fs::read(&lock_path).unwrap()).unwrap();
        assert_eq!(written, info);
        backend.unlock().unwrap();
        assert_eq!(fs::read(&lock_path).unwrap(), b"");

        // A killed holder leaves its info but not the OS lock.
        fs::write(&lock_path, serde_json::to_vec(&info).unwrap()).unwrap();
        let mut next = LocalBackend::new(path.clone());
        next.force_unlock(&info.id).unwrap();
        assert_eq!(fs::read(&lock_path).unwrap(), b"");
    }
}
