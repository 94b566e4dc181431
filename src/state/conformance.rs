//! The one test every state backend passes (the pattern of opentofu's `statemgr/testing.go`): each
//! backend's tests call [`conformance`] with a function opening handles on one fresh, empty store.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::state::backend::{StateBackend, StateError, StateUpdate};
use crate::state::lock::{LockError, LockInfo};
use crate::state::{ResourceState, State};

/// A put of `address` with one attribute, `value`.
pub(crate) fn put(address: &str, value: &str) -> StateUpdate {
    StateUpdate::Put {
        address: address.parse().unwrap(),
        resource: ResourceState {
            attributes: BTreeMap::from([("value".to_owned(), serde_json::Value::from(value))]),
            secret_digests: BTreeMap::new(),
            outputs: BTreeMap::new(),
            dependencies: Vec::new(),
            tainted: false,
        },
    }
}

/// `state` with `updates` applied and the given serial.
pub(crate) fn updated(state: &State, serial: u64, updates: &[StateUpdate]) -> State {
    let mut next = State { serial, ..state.clone() };
    for update in updates {
        next.apply(update.clone());
    }
    next
}

/// Checks the promises of [`StateBackend`]; `make` opens another handle on the same store each
/// time it is called, as another process would, and dropping a handle is that process dying.
pub(crate) fn conformance<B: StateBackend>(make: impl Fn() -> B) {
    let (first, committed) = commits(&make);
    let (second, next) = records(&make, first, &committed);
    locks(&make, second, &next);
}

/// From an empty store, commits a first state and checks what a commit refuses; returns the
/// handle holding the lock and the state committed.
fn commits<B: StateBackend>(make: &impl Fn() -> B) -> (B, State) {
    let zero = Duration::ZERO;

    // Nothing stored yet.
    let mut first = make();
    assert_eq!(first.load().unwrap(), None);

    // A commit is what every handle loads next; committing it again changes nothing.
    first.lock(&LockInfo::current("apply"), zero).unwrap();
    let state = updated(&State::new_lineage(), 1, &[put("host.a", "one")]);
    first.commit(&state).unwrap();
    assert_eq!(first.load().unwrap().as_ref(), Some(&state));
    assert_eq!(make().load().unwrap().as_ref(), Some(&state));
    first.commit(&state).unwrap();

    // A commit must be the next serial of the same lineage.
    let same_serial = updated(&state, 1, &[put("host.b", "two")]);
    assert!(matches!(first.commit(&same_serial), Err(StateError::SerialMoved { expected: 0, found: 1 })));
    let skipping = updated(&state, 3, &[]);
    assert!(matches!(first.commit(&skipping), Err(StateError::SerialMoved { expected: 2, found: 1 })));
    let foreign = State { serial: 2, ..State::new_lineage() };
    match first.commit(&foreign) {
        Err(StateError::LineageMismatch { expected, found }) => {
            assert_eq!((expected, found), (foreign.lineage.clone(), state.lineage.clone()));
        }
        other => panic!("expected a lineage mismatch, got {other:?}"),
    }
    assert_eq!(make().load().unwrap().as_ref(), Some(&state));
    (first, state)
}

/// Records updates, lets their recorder die, and checks they come back; returns a handle holding
/// the lock and the state it committed last.
fn records<B: StateBackend>(make: &impl Fn() -> B, mut first: B, state: &State) -> (B, State) {
    // Updates recorded and never committed (the recorder died) are folded into the next load, as
    // a new version of the state; a handle holding the lock commits that version at once.
    let base = first.load().unwrap().unwrap();
    assert_eq!(&base, state);
    let updates =
        [put("host.b", "two"), put("host.c", "three"), StateUpdate::Remove { address: "host.a".parse().unwrap() }];
    for update in &updates {
        first.record(&base, update).unwrap();
    }
    drop(first);
    let folded = updated(&base, 2, &updates);
    let mut second = make();
    assert_eq!(second.load().unwrap().as_ref(), Some(&folded));
    assert_eq!(second.load().unwrap().as_ref(), Some(&folded));
    second.lock(&LockInfo::current("apply"), Duration::ZERO).unwrap();
    assert_eq!(second.load().unwrap().as_ref(), Some(&folded));
    assert_eq!(make().load().unwrap().as_ref(), Some(&folded));
    // Committed: an update on the old serial would now be lost, so it is refused.
    assert!(matches!(
        second.record(&base, &put("host.x", "lost")),
        Err(StateError::SerialMoved { expected: 1, found: 2 })
    ));

    // A commit forgets what was recorded before it: the committed state is the truth.
    second.record(&folded, &put("host.d", "four")).unwrap();
    let next = updated(&folded, 3, &[put("host.e", "five")]);
    second.commit(&next).unwrap();
    assert_eq!(second.load().unwrap().as_ref(), Some(&next));
    assert_eq!(make().load().unwrap().as_ref(), Some(&next));
    (second, next)
}

/// Checks who may take, break and write past the lock that `second` holds on `next`.
fn locks<B: StateBackend>(make: &impl Fn() -> B, mut second: B, next: &State) {
    let zero = Duration::ZERO;

    // A held lock names its holder to whoever waits, and to a write made without the lock.
    let holder_info = LockInfo::current("apply");
    second.lock(&holder_info, zero).unwrap();
    let mut third = make();
    match third.lock(&LockInfo::current("plan"), Duration::from_millis(150)) {
        Err(StateError::Lock(LockError::Held { holder, waited })) => {
            assert_eq!(*holder, holder_info);
            assert!(waited >= Duration::from_millis(150), "{waited:?}");
        }
        other => panic!("expected the lock to be held, got {other:?}"),
    }
    let after_next = updated(next, 4, &[]);
    for refused in [third.commit(&after_next), third.record(next, &put("host.f", "six"))] {
        assert!(
            matches!(&refused, Err(StateError::Lock(LockError::Held { holder, .. })) if **holder == holder_info),
            "{refused:?}"
        );
    }

    // Breaking a lock needs its id, and its holder gone.
    match third.force_unlock("not-the-id") {
        Err(StateError::Lock(LockError::WrongId { given, holder })) => {
            assert_eq!((given.as_str(), holder.as_deref()), ("not-the-id", Some(&holder_info)));
        }
        other => panic!("expected a wrong id, got {other:?}"),
    }
    for alive in [third.force_unlock(&holder_info.id), second.force_unlock(&holder_info.id)] {
        assert!(
            matches!(&alive, Err(StateError::Lock(LockError::HolderAlive { holder })) if **holder == holder_info),
            "{alive:?}"
        );
    }
    drop(second);
    third.force_unlock(&holder_info.id).unwrap();
    assert!(matches!(
        third.force_unlock(&holder_info.id),
        Err(StateError::Lock(LockError::WrongId { holder: None, .. }))
    ));

    // A holder that died without unlocking blocks nobody; an unlock lets the next one in.
    let mut dying = make();
    dying.lock(&LockInfo::current("apply"), zero).unwrap();
    drop(dying);
    third.lock(&LockInfo::current("apply"), zero).unwrap();
    third.unlock().unwrap();
    let mut fourth = make();
    fourth.lock(&LockInfo::current("apply"), zero).unwrap();
    fourth.unlock().unwrap();
    assert!(matches!(
        fourth.force_unlock(&holder_info.id),
        Err(StateError::Lock(LockError::WrongId { holder: None, .. }))
    ));

    // Without a holder, writes need no lock taken first.
    fourth.commit(&after_next).unwrap();
    fourth.record(&after_next, &put("host.g", "seven")).unwrap();
    let last = updated(&after_next, 5, &[put("host.g", "seven")]);
    assert_eq!(make().load().unwrap().as_ref(), Some(&last));
}
