//! Real servers the integration tests run against, started by the tests themselves.

/// A PostgreSQL 15 server per test binary run, a fresh database per test; the same file the
/// library's unit tests use.
#[path = "../../../src/state/postgres/test_server.rs"]
pub(crate) mod postgres;
