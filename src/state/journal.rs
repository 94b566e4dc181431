//! The journal of updates recorded during an apply: one JSON line per update, naming the state it
//! was recorded on (`lineage`, `base_serial`), folded into that state when it is next loaded.
//!
//! Recording appends a line and syncs it, so saving after every node costs one small write
//! whatever the size of the state. The whole state is rewritten only by a commit, which then
//! drops the journal. Reading and folding are shared with the in-memory backend; the file itself
//! ([`JournalWriter`]) is the local backend's.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::state::backend::{StateError, StateUpdate};
use crate::state::private_files::{io_error, open_private};
use crate::state::{STATE_VERSION, State};

/// One recorded update and the state it was recorded on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JournalEntry<'a> {
    /// The lineage of the state it was recorded on.
    pub(crate) lineage: Cow<'a, str>,
    /// The serial of the state it was recorded on.
    pub(crate) base_serial: u64,
    /// The update.
    pub(crate) update: Cow<'a, StateUpdate>,
}

impl JournalEntry<'_> {
    /// Whether this entry was recorded on the state with `lineage` and `serial`.
    fn is_on(&self, lineage: &str, serial: u64) -> bool {
        self.lineage == lineage && self.base_serial == serial
    }
}

/// What a journal file holds.
#[derive(Debug)]
pub(crate) struct JournalContents {
    /// Every whole entry, in the order recorded.
    pub(crate) entries: Vec<JournalEntry<'static>>,
    /// How many leading bytes hold those entries; a torn last line lies beyond.
    valid_length: usize,
}

/// Parses the journal `bytes` read from `path`.
///
/// A crash while appending leaves a last line without its newline, or with its bytes not all
/// written; that line was never acknowledged as recorded, so it is dropped. Any other line that
/// does not parse means the file was damaged, and is an error.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<JournalContents, StateError> {
    let mut entries = Vec::new();
    let mut offset = 0;
    let mut line_number = 0;
    while let Some(length) = bytes[offset..].iter().position(|&byte| byte == b'\n') {
        line_number += 1;
        let end = offset + length;
        match serde_json::from_slice(&bytes[offset..end]) {
            Ok(entry) => entries.push(entry),
            Err(_) if end + 1 == bytes.len() => break,
            Err(error) => return Err(StateError::corrupt_json(path, line_number, &error)),
        }
        offset = end + 1;
    }
    Ok(JournalContents { entries, valid_length: offset })
}

/// Applies to `state` the entries recorded on it, in order, and returns whether any applied; when
/// some did, the result is a new version of the state and its serial moves on by one.
///
/// Entries recorded on another state are left out: they belong to an apply whose commit already
/// holds them. With no stored state, the first entry names the new state it was recorded on.
pub(crate) fn fold<'a>(state: &mut Option<State>, entries: impl IntoIterator<Item = JournalEntry<'a>>) -> bool {
    let mut entries = entries.into_iter().peekable();
    let (lineage, base_serial) = match (&*state, entries.peek()) {
        (Some(stored), _) => (stored.lineage.clone(), stored.serial),
        (None, Some(first)) => (first.lineage.clone().into_owned(), first.base_serial),
        (None, None) => return false,
    };
    let mut is_changed = false;
    for entry in entries.filter(|entry| entry.is_on(&lineage, base_serial)) {
        let folded = state.get_or_insert_with(|| State {
            version: STATE_VERSION,
            serial: base_serial,
            lineage: lineage.clone(),
            resources: BTreeMap::new(),
        });
        folded.apply(entry.update.into_owned());
        is_changed = true;
    }
    if let (true, Some(folded)) = (is_changed, state) {
        folded.serial += 1;
    }
    is_changed
}

/// The journal file, open for appending for as long as its backend holds the lock.
#[derive(Debug)]
pub(crate) struct JournalWriter {
    /// Opened in append mode.
    file: File,
    /// For messages.
    path: PathBuf,
    /// The length of the whole lines in it, to cut a failed append back to.
    length: u64,
}

impl JournalWriter {
    /// Opens (or creates, 0600) the journal at `path`, cutting off a torn last line so that the
    /// next line appended does not land after it and turn it into damage in the middle.
    pub(crate) fn open(path: &Path) -> Result<Self, StateError> {
        let mut file = open_private(path, true)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_error("read", path))?;
        let contents = parse(&bytes, path)?;
        let length = contents.valid_length as u64;
        if contents.valid_length < bytes.len() {
            file.set_len(length).map_err(io_error("cut the torn last line of", path))?;
        }
        Ok(Self { file, path: path.to_owned(), length })
    }

    /// Appends `entry` as one line and syncs it to disk; a failed write is cut back off.
    pub(crate) fn append(&mut self, entry: &JournalEntry<'_>) -> Result<(), StateError> {
        let mut line = serde_json::to_vec(entry)
            .map_err(|error| io_error("encode an update for", &self.path)(std::io::Error::other(error)))?;
        line.push(b'\n');
        let written = self.file.write_all(&line).and_then(|()| self.file.sync_data());
        if let Err(error) = written {
            // Best effort: if even this fails, loading drops the torn line as a crash would.
            let _ = self.file.set_len(self.length);
            return Err(io_error("append to", &self.path)(error));
        }
        self.length += line.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    fn put(name: &str) -> StateUpdate {
        StateUpdate::Put {
            address: format!("host.{name}").parse().unwrap(),
            resource: ResourceState {
                attributes: BTreeMap::new(),
                secret_digests: BTreeMap::new(),
                outputs: BTreeMap::new(),
                dependencies: Vec::new(),
                tainted: false,
            },
        }
    }

    fn line(lineage: &str, base_serial: u64, update: &StateUpdate) -> String {
        let entry = JournalEntry { lineage: lineage.into(), base_serial, update: Cow::Borrowed(update) };
        format!("{}\n", serde_json::to_string(&entry).unwrap())
    }

    fn parse_text(text: &str) -> Result<Vec<JournalEntry<'static>>, String> {
        parse(text.as_bytes(), Path::new("j")).map(|contents| contents.entries).map_err(|error| error.to_string())
    }

    #[test]
    fn a_line_has_the_documented_shape() {
        assert_eq!(
            line("l", 3, &StateUpdate::Remove { address: "vm.a".parse().unwrap() }),
            "{\"lineage\":\"l\",\"base_serial\":3,\"update\":{\"op\":\"remove\",\"address\":\"vm.a\"}}\n"
        );
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_damage_in_the_middle_is_refused() {
        let good = line("l", 0, &put("a"));
        let torn = &good[..good.len() / 2];
        assert_eq!(parse_text(&format!("{good}{torn}")).unwrap().len(), 1);
        assert_eq!(parse_text(&format!("{good}{torn}\n")).unwrap().len(), 1);
        assert_eq!(parse_text(&format!("{good}\0\0\0\n")).unwrap().len(), 1);
        assert_eq!(parse_text("").unwrap().len(), 0);
        assert_eq!(
            parse_text(&format!("{good}{torn}\n{good}")).unwrap_err(),
            "state `j:2:51` is corrupt: EOF while parsing an object"
        );
    }

    #[test]
    fn folding_applies_only_the_entries_on_the_stored_state() {
        let mut stored = Some(State { serial: 4, lineage: "l".into(), ..State::new_lineage() });
        let entries = [
            JournalEntry { lineage: "l".into(), base_serial: 3, update: Cow::Owned(put("old")) },
            JournalEntry { lineage: "l".into(), base_serial: 4, update: Cow::Owned(put("a")) },
            JournalEntry { lineage: "x".into(), base_serial: 4, update: Cow::Owned(put("other")) },
        ];
        assert!(fold(&mut stored, entries.clone()));
        let folded = stored.unwrap();
        assert_eq!(folded.serial, 5);
        let names: Vec<String> = folded.resources.keys().map(ToString::to_string).collect();
        assert_eq!(names, ["host.a"]);

        let mut unchanged = Some(State { serial: 9, lineage: "l".into(), ..State::new_lineage() });
        assert!(!fold(&mut unchanged, entries.clone()));
        assert_eq!(unchanged.unwrap().serial, 9);
    }

    #[test]
    fn folding_without_a_stored_state_starts_from_the_first_entry() {
        let mut none = None;
        let entries = [
            JournalEntry { lineage: "new".into(), base_serial: 0, update: Cow::Owned(put("a")) },
            JournalEntry { lineage: "new".into(), base_serial: 0, update: Cow::Owned(put("b")) },
            JournalEntry {
                lineage: "new".into(),
                base_serial: 0,
                update: Cow::Owned(StateUpdate::Remove { address: "host.a".parse().unwrap() }),
            },
        ];
        assert!(fold(&mut none, entries));
        let folded = none.unwrap();
        assert_eq!((folded.lineage.as_str(), folded.serial, folded.version), ("new", 1, STATE_VERSION));
        assert_eq!(folded.resources.len(), 1);
        let mut still_none = None;
        assert!(!fold(&mut still_none, Vec::new()));
        assert!(still_none.is_none());
    }
}
