//! Helpers shared by the integration tests: fresh SQLite files and fresh PostgreSQL schemas.
#![allow(dead_code)]

use exportgate_ledger::LedgerStore;
use exportgate_store::postgres::PostgresStore;
use exportgate_store::sqlite::SqliteStore;
use std::sync::atomic::{AtomicU64, Ordering};

/// The PostgreSQL URL from `EXPORTGATE_TEST_POSTGRES_URL`, if set.
pub fn postgres_url() -> Option<String> {
    std::env::var("EXPORTGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh SQLite file in `dir`.
pub fn fresh_sqlite_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join(format!(
        "ledger-{}.sqlite",
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ))
}

/// A fresh SQLite store in `dir`.
pub fn fresh_sqlite(dir: &tempfile::TempDir) -> Box<dyn LedgerStore> {
    Box::new(SqliteStore::open(&fresh_sqlite_path(dir)).expect("open sqlite"))
}

/// A URL whose connections use schema `schema` (dropped and recreated empty first).
pub fn fresh_postgres_url(base: &str, schema: &str) -> String {
    let schema = format!(
        "{schema}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin =
        postgres::Client::connect(base, postgres::NoTls).expect("connect to test postgres");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
        ))
        .expect("create test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// A fresh PostgreSQL store in its own schema.
pub fn fresh_postgres(base: &str, schema: &str) -> Box<dyn LedgerStore> {
    Box::new(
        PostgresStore::connect(&fresh_postgres_url(base, schema)).expect("connect postgres store"),
    )
}
