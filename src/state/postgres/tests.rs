//! The PostgreSQL backend against a real server ([`super::test_server`]): the conformance test
//! every backend passes, then what only a shared database shows.

use std::time::Duration;

use super::PostgresBackend;
use super::test_server::database_url;
use crate::state::State;
use crate::state::backend::{StateBackend, StateError};
use crate::state::conformance::{conformance, put, updated};
use crate::state::lock::{LockError, LockInfo};

fn connect(url: &str, project: &str) -> PostgresBackend {
    PostgresBackend::connect(url, project).unwrap()
}

#[test]
fn the_postgres_backend_keeps_the_backend_promises() {
    let url = database_url();
    conformance(|| connect(&url, "p"));
}

#[test]
fn projects_in_one_database_are_apart() {
    let url = database_url();
    let mut first = connect(&url, "first");
    first.lock(&LockInfo::current("apply"), Duration::ZERO).unwrap();
    let state = updated(&State::new_lineage(), 1, &[put("host.a", "one")]);
    first.commit(&state).unwrap();
    let mut second = connect(&url, "second");
    assert_eq!(second.load().unwrap(), None);
    second.lock(&LockInfo::current("apply"), Duration::ZERO).unwrap();
}

#[test]
fn two_writers_on_one_serial_cannot_both_commit() {
    let url = database_url();
    let mut writer = connect(&url, "p");
    let state = updated(&State::new_lineage(), 1, &[put("host.a", "one")]);
    writer.commit(&state).unwrap();
    // Both loaded serial 1; the second to commit finds it moved and overwrites nothing.
    let mine = updated(&state, 2, &[put("host.b", "mine")]);
    let theirs = updated(&state, 2, &[put("host.c", "theirs")]);
    writer.commit(&mine).unwrap();
    let mut other = connect(&url, "p");
    assert!(matches!(other.commit(&theirs), Err(StateError::SerialMoved { expected: 1, found: 2 })));
    assert_eq!(other.load().unwrap(), Some(mine));
}

#[test]
fn every_commit_is_kept_in_the_history() {
    let url = database_url();
    let mut backend = connect(&url, "p");
    let first = updated(&State::new_lineage(), 1, &[put("host.a", "one")]);
    let second = updated(&first, 2, &[put("host.b", "two")]);
    backend.commit(&first).unwrap();
    backend.commit(&second).unwrap();
    let history = backend.history().unwrap();
    assert_eq!(history.iter().map(|entry| (entry.serial, entry.resource_count)).collect::<Vec<_>>(), [(2, 2), (1, 1)]);
    assert!(history.iter().all(|entry| entry.lineage == first.lineage && entry.written_by.contains('@')));
    assert_eq!(history[0].written_at.len(), "2024-02-29T12:34:56Z".len());
    assert_eq!(backend.state_at(1).unwrap(), Some(first));
    assert_eq!(backend.state_at(2).unwrap(), Some(second));
    assert_eq!(backend.state_at(3).unwrap(), None);
}

#[test]
fn a_waiter_queues_until_the_holder_lets_go() {
    let url = database_url();
    let mut holder = connect(&url, "p");
    holder.lock(&LockInfo::current("apply"), Duration::ZERO).unwrap();
    let waiter_url = url.clone();
    let waiter = std::thread::spawn(move || {
        let mut waiter = connect(&waiter_url, "p");
        waiter.lock(&LockInfo::current("apply"), Duration::from_secs(60)).map(|()| std::time::Instant::now())
    });
    std::thread::sleep(Duration::from_millis(500));
    let released = std::time::Instant::now();
    holder.unlock().unwrap();
    let taken = waiter.join().unwrap().unwrap();
    assert!(taken >= released);
}

#[test]
fn a_connection_failure_names_the_database_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgresql://rave:s3cr3t@127.0.0.1:{port}/state?connect_timeout=5");
    let error = PostgresBackend::connect(&url, "p").unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("failed to connect to the state database `state` on 127.0.0.1:{port} as `rave`: ")),
        "{error}"
    );
    assert!(!error.contains("s3cr3t"), "{error}");
}

/// Set for the child process of [`a_killed_holder_releases_the_lock`]: the database to lock.
const HOLDER_URL: &str = "RAVE_TEST_POSTGRES_HOLDER_URL";

/// Run only as that child: holds the lock for at most 60 s, until killed.
#[test]
#[ignore = "run as a child process by `a_killed_holder_releases_the_lock`"]
fn hold_the_postgres_lock_until_killed() {
    let Ok(url) = std::env::var(HOLDER_URL) else {
        return;
    };
    let mut holder = connect(&url, "p");
    holder.lock(&LockInfo::current("test"), Duration::from_secs(10)).unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
// Tests may start this test binary itself; only drivers start other programs.
#[allow(clippy::disallowed_methods)]
fn a_killed_holder_releases_the_lock() {
    let url = database_url();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "state::postgres::tests::hold_the_postgres_lock_until_killed", "--ignored"])
        .env(HOLDER_URL, &url)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut waiter = connect(&url, "p");
    let held = (0..600).find_map(|_| {
        std::thread::sleep(Duration::from_millis(50));
        match waiter.lock(&LockInfo::current("plan"), Duration::ZERO) {
            Err(StateError::Lock(LockError::Held { holder, .. })) if holder.pid == child.id() => Some(holder),
            // Taken before the child got to it: let the child have it.
            Ok(()) => {
                waiter.unlock().unwrap();
                None
            }
            _ => None,
        }
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let holder = held.expect("the child took the lock within 30 s");
    assert_eq!(holder.operation, "test");
    waiter.lock(&LockInfo::current("apply"), Duration::from_secs(20)).unwrap();
    // The dead holder's row is gone once the new holder wrote its own.
    waiter.unlock().unwrap();
    assert!(matches!(waiter.force_unlock(&holder.id), Err(StateError::Lock(LockError::WrongId { holder: None, .. }))));
}

/// Runs `sql` on the database at `url`, as another program (or a newer rave) would.
fn execute(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
        let connection = tokio::spawn(connection);
        client.batch_execute(sql).await.unwrap();
        drop(client);
        let _ = connection.await;
    });
}

#[test]
fn the_schema_is_created_once_and_a_newer_one_is_refused() {
    let url = database_url();
    // Concurrent first connections all find (or make) the same schema.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PostgresBackend::connect(&url, "p").map(drop))
        })
        .collect();
    for handle in handles {
        handle.join().unwrap().unwrap();
    }
    execute(&url, "INSERT INTO rave.schema_version (version) VALUES (99)");
    let error = PostgresBackend::connect(&url, "p").unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "failed to use the state database: its schema is at version 99, newer than this rave understands ({}); \
             upgrade rave",
            super::schema::current_version()
        )
    );
}
