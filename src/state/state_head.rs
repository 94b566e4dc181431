//! The identity of a stored state (format version, lineage, serial) and the checks every backend
//! makes against it before a write: a newer format is never overwritten, a commit must be the
//! next serial of the same lineage, and a recorded update must sit on the stored state.

use serde::Deserialize;

use crate::state::backend::StateError;
use crate::state::{STATE_VERSION, State};

/// The header of a stored state; parsing only this skips the resources.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct StateHead {
    /// The format version it was written in.
    pub(crate) version: u32,
    /// Its lineage.
    pub(crate) lineage: String,
    /// Its serial.
    pub(crate) serial: u64,
}

impl StateHead {
    /// The head of `state`.
    pub(crate) fn of(state: &State) -> Self {
        Self { version: state.version, lineage: state.lineage.clone(), serial: state.serial }
    }

    /// Refuses a state written by a newer rave.
    pub(crate) fn check_version(&self) -> Result<(), StateError> {
        if self.version > STATE_VERSION {
            return Err(StateError::UnsupportedVersion { found: self.version });
        }
        Ok(())
    }

    /// Refuses to commit `next` over this stored state unless it is the same lineage's next serial.
    pub(crate) fn check_successor(&self, next: &State) -> Result<(), StateError> {
        self.check_version()?;
        self.check_lineage(next)?;
        if next.serial.checked_sub(1) != Some(self.serial) {
            return Err(StateError::SerialMoved { expected: next.serial.saturating_sub(1), found: self.serial });
        }
        Ok(())
    }

    /// Refuses to record an update on top of `base` unless `base` is this stored state: an update
    /// recorded on anything else would be ignored when the journal is folded, and so lost.
    pub(crate) fn check_base(&self, base: &State) -> Result<(), StateError> {
        self.check_lineage(base)?;
        if base.serial != self.serial {
            return Err(StateError::SerialMoved { expected: base.serial, found: self.serial });
        }
        Ok(())
    }

    fn check_lineage(&self, other: &State) -> Result<(), StateError> {
        if other.lineage != self.lineage {
            return Err(StateError::LineageMismatch { expected: other.lineage.clone(), found: self.lineage.clone() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(lineage: &str, serial: u64) -> State {
        State { serial, lineage: lineage.to_owned(), ..State::new_lineage() }
    }

    #[test]
    fn a_commit_must_be_the_next_serial_of_the_same_lineage() {
        let head = StateHead::of(&state("a", 4));
        assert!(head.check_successor(&state("a", 5)).is_ok());
        for (serial, expected) in [(4, 3), (6, 5), (0, 0)] {
            let error = head.check_successor(&state("a", serial)).unwrap_err();
            assert!(matches!(error, StateError::SerialMoved { expected: e, found: 4 } if e == expected), "{error}");
        }
        let error = head.check_successor(&state("b", 5)).unwrap_err();
        assert_eq!(error.to_string(), "state lineage is `a`, expected `b`: this is another project's state");
    }

    #[test]
    fn a_record_must_sit_on_the_stored_state() {
        let head = StateHead::of(&state("a", 4));
        assert!(head.check_base(&state("a", 4)).is_ok());
        assert!(matches!(head.check_base(&state("a", 5)), Err(StateError::SerialMoved { expected: 5, found: 4 })));
        assert!(matches!(head.check_base(&state("b", 4)), Err(StateError::LineageMismatch { .. })));
    }

    #[test]
    fn a_newer_format_is_refused() {
        let head = StateHead { version: STATE_VERSION + 1, lineage: "a".into(), serial: 1 };
        assert!(
            matches!(head.check_version(), Err(StateError::UnsupportedVersion { found }) if found == STATE_VERSION + 1)
        );
        assert!(matches!(head.check_successor(&state("a", 2)), Err(StateError::UnsupportedVersion { .. })));
    }
}
