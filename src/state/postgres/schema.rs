//! The tables rave keeps state in, created and migrated by rave itself.
//!
//! Everything lives in the `rave` schema of the database the URL names; one database serves many
//! projects, each row keyed by the project name. `rave.schema_version` counts the migrations
//! applied. A connection checks the version with one query and migrates only when it is behind,
//! under a transaction-level advisory lock so that concurrent first runs do not race on DDL.

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::state::backend::StateError;
use crate::state::postgres::session::database_error;

/// The advisory-lock key serialising migrations ("rave" and "mig" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x7261_7665_006d_6967;

/// Every migration, in order; the schema version is how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: the committed state per project, its history, the per-node journal and the lock holders.
    // Bodies (megabytes at 10,000 resources) use lz4, several times faster than the default pglz;
    // `body_digest` lets a commit tell "the same state again" without reading the body back.
    "CREATE TABLE rave.states (
        project text PRIMARY KEY,
        lineage text NOT NULL,
        serial bigint NOT NULL,
        format_version integer NOT NULL,
        body text COMPRESSION lz4 NOT NULL,
        body_digest text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE rave.history (
        project text NOT NULL,
        lineage text NOT NULL,
        serial bigint NOT NULL,
        body text COMPRESSION lz4 NOT NULL,
        resource_count integer NOT NULL,
        written_at timestamptz NOT NULL DEFAULT now(),
        written_by text NOT NULL,
        PRIMARY KEY (project, lineage, serial)
    );
    CREATE TABLE rave.journal (
        id bigserial PRIMARY KEY,
        project text NOT NULL,
        lineage text NOT NULL,
        base_serial bigint NOT NULL,
        entry text NOT NULL
    );
    CREATE INDEX journal_by_project ON rave.journal (project, id);
    CREATE TABLE rave.locks (
        project text PRIMARY KEY,
        info text NOT NULL
    );",
];

/// The schema version this rave writes.
pub(crate) fn current_version() -> i32 {
    i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX)
}

/// Brings the schema up to [`current_version`], refusing a database migrated by a newer rave.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), StateError> {
    // The common case: already migrated; one query.
    match stored_version(client).await {
        Ok(version) if version == current_version() => return Ok(()),
        Ok(version) if version > current_version() => return Err(newer(version)),
        Ok(_) => {}
        Err(error) if matches!(error.code(), Some(code) if *code == SqlState::UNDEFINED_TABLE || *code == SqlState::INVALID_SCHEMA_NAME) =>
            {}
        Err(error) => return Err(database_error("read the state schema version", &error)),
    }
    let context = |error: tokio_postgres::Error| database_error("migrate the state schema", &error);
    let transaction = client.transaction().await.map_err(context)?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY]).await.map_err(context)?;
    transaction
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS rave;
             CREATE TABLE IF NOT EXISTS rave.schema_version (
                 version integer NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );",
        )
        .await
        .map_err(context)?;
    let version: i32 = transaction
        .query_one("SELECT coalesce(max(version), 0) FROM rave.schema_version", &[])
        .await
        .map_err(context)?
        .get(0);
    if version > current_version() {
        return Err(newer(version));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
        let next = i32::try_from(index + 1).unwrap_or(i32::MAX);
        transaction.batch_execute(migration).await.map_err(context)?;
        transaction
            .execute("INSERT INTO rave.schema_version (version) VALUES ($1)", &[&next])
            .await
            .map_err(context)?;
    }
    transaction.commit().await.map_err(context)
}

/// The version recorded in the database.
async fn stored_version(client: &Client) -> Result<i32, tokio_postgres::Error> {
    Ok(client.query_one("SELECT coalesce(max(version), 0) FROM rave.schema_version", &[]).await?.get(0))
}

/// The error for a schema newer than this rave's.
fn newer(version: i32) -> StateError {
    StateError::Database {
        action: "use the state database".to_owned(),
        detail: format!(
            "its schema is at version {version}, newer than this rave understands ({}); upgrade rave",
            current_version()
        ),
    }
}
