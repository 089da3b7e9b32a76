//! Helpers for the integration tests of the crates that keep data in the database: the test
//! PostgreSQL server from `EXPORTGATE_TEST_POSTGRES_URL`, and a fresh schema of it per test
//! (dropped and created empty), named by a URL whose connections use it. Not for production
//! code: nothing here is called outside tests.

use std::sync::atomic::{AtomicU64, Ordering};

/// The test PostgreSQL URL from `EXPORTGATE_TEST_POSTGRES_URL`, if it is set (tests that need
/// PostgreSQL say so and skip without it). Tests read the environment; the crates never do.
pub fn postgres_url() -> Option<String> {
    std::env::var("EXPORTGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates a fresh, empty schema named after `prefix`, this process and a counter in the
/// database at `base`, and returns a URL whose connections use it (first on their
/// `search_path`).
pub fn fresh_schema_url(base: &str, prefix: &str) -> Result<String, ::postgres::Error> {
    let schema = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = ::postgres::Client::connect(base, ::postgres::NoTls)?;
    admin.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
    ))?;
    let separator = if base.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{base}{separator}options=-c%20search_path%3D{schema}"
    ))
}
