//! The one versioned schema: a database from before it (ledger versioned in
//! `ledger_migrations`, lists and server tables made by `CREATE TABLE IF NOT EXISTS`, server
//! tables from before users) upgrades in place keeping its rows; a newer one is refused; both
//! backends end with the same versions.

mod common;

use exportgate_store::migrate::{latest, SQLITE_MIGRATIONS};
use rusqlite::Connection;

/// The server's tables as `exportgate serve` created them before the migrations (and before
/// keys belonged to users).
const OLD_SERVER: &str = "
CREATE TABLE IF NOT EXISTS server_keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS server_cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, submitted_by TEXT NOT NULL,
    submitted_name TEXT NOT NULL, order_id TEXT NOT NULL, outcome TEXT NOT NULL, why TEXT NOT NULL,
    order_json TEXT NOT NULL, decision_json TEXT NOT NULL, trace_json TEXT NOT NULL,
    screening_json TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open', resolved_by TEXT,
    resolved_name TEXT, resolved_at TEXT, resolution_reason TEXT, audit_seq INTEGER
);
CREATE TABLE IF NOT EXISTS server_allow (
    id INTEGER PRIMARY KEY AUTOINCREMENT, party_name TEXT NOT NULL, entry TEXT NOT NULL,
    reviewer TEXT NOT NULL, reason TEXT NOT NULL, expires TEXT NOT NULL, case_id INTEGER,
    created_at TEXT NOT NULL
);
INSERT INTO server_keys VALUES ('k1', 'Carol  Smith', 'submitter', 'h1', '2026-01-01T00:00:00Z', NULL);
INSERT INTO server_keys VALUES ('k2', 'carol smith', 'reviewer', 'h2', '2026-01-02T00:00:00Z', NULL);
INSERT INTO server_cases (created_at, submitted_by, submitted_name, order_id, outcome, why,
    order_json, decision_json, trace_json, screening_json)
    VALUES ('2026-01-03T00:00:00Z', 'k1', 'Carol  Smith', 'o-1', 'hold_for_review', '[]', '{}', '{}', '[]', '[]');
";

/// The lists' tables as `exportgate lists import` created them.
const OLD_LISTS: &str = "
CREATE TABLE IF NOT EXISTS list_versions (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, format TEXT NOT NULL, data_date TEXT,
    imported_on TEXT NOT NULL, entry_count INTEGER NOT NULL, sha256 TEXT NOT NULL, origin TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS list_entries (
    version_id INTEGER NOT NULL REFERENCES list_versions (id), seq INTEGER NOT NULL,
    entry TEXT NOT NULL, PRIMARY KEY (version_id, seq)
);
INSERT INTO list_versions VALUES (1, 'csl', 'csl-json', NULL, '2026-01-01', 1, 'ab', 'x.json');
INSERT INTO list_entries VALUES (1, 0, '{}');
";

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn an_old_sqlite_file_with_three_schema_styles_upgrades_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(SQLITE_MIGRATIONS[0].2).unwrap();
        conn.execute_batch(
            "CREATE TABLE ledger_migrations (version INTEGER PRIMARY KEY);
             INSERT INTO ledger_migrations VALUES (1);",
        )
        .unwrap();
        conn.execute_batch(OLD_LISTS).unwrap();
        conn.execute_batch(OLD_SERVER).unwrap();
    }
    let url = format!("sqlite://{}", path.display());
    let done = exportgate_store::migrate_url(&url).unwrap();
    assert!(done.adopted);
    assert_eq!(done.from, 1, "the ledger's version is adopted");
    assert_eq!(done.to, latest());
    assert_eq!(
        done.applied.iter().map(|a| a.0).collect::<Vec<_>>(),
        // Every version after 1 this build embeds (numbers may skip while branches merge).
        SQLITE_MIGRATIONS
            .iter()
            .map(|m| m.0)
            .filter(|v| *v >= 2)
            .collect::<Vec<_>>()
    );
    let conn = Connection::open(&path).unwrap();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM exportgate_migrations"),
        SQLITE_MIGRATIONS.len() as i64
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE name = 'ledger_migrations'"
        ),
        0
    );
    // Rows kept; both keys of the one person belong to one user, and so does her case.
    assert_eq!(count(&conn, "SELECT count(*) FROM list_entries"), 1);
    assert_eq!(count(&conn, "SELECT count(*) FROM server_users"), 1);
    assert_eq!(
        count(
            &conn,
            "SELECT count(DISTINCT user_id) FROM server_keys WHERE user_id IS NOT NULL"
        ),
        1
    );
    let name: String = conn
        .query_row("SELECT name FROM server_users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "Carol Smith");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM server_cases WHERE submitted_user IS NOT NULL"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM server_keys WHERE expires_at IS NULL"
        ),
        2
    );
    // Run again: nothing to do.
    let again = exportgate_store::migrate_url(&url).unwrap();
    assert!(again.applied.is_empty() && !again.adopted);
    // And the ledger opens on it.
    exportgate_store::open_store(&url).unwrap();
}

#[test]
fn a_newer_sqlite_file_is_refused_by_every_opener() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    let url = format!("sqlite://{}", path.display());
    exportgate_store::migrate_url(&url).unwrap();
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO exportgate_migrations VALUES (?1, 'from_the_future', 'x')",
            [latest() + 1],
        )
        .unwrap();
    for error in [
        exportgate_store::migrate_url(&url).unwrap_err().to_string(),
        exportgate_store::open_store(&url)
            .err()
            .unwrap()
            .to_string(),
    ] {
        assert!(
            error.contains(&format!("schema is at version {}", latest() + 1))
                && error.contains("newer than this exportgate knows"),
            "{error}"
        );
    }
}

#[test]
fn postgres_fresh_old_and_newer_databases() {
    let Some(base) = common::postgres_url() else {
        eprintln!(
            "EXPORTGATE_TEST_POSTGRES_URL is unset: the PostgreSQL migration test is skipped"
        );
        return;
    };
    // Fresh: every migration.
    let url = common::fresh_postgres_url(&base, "migrate_fresh");
    let done = exportgate_store::migrate_url(&url).unwrap();
    assert_eq!((done.from, done.to), (0, latest()));
    assert!(!done.adopted);
    assert!(exportgate_store::migrate_url(&url)
        .unwrap()
        .applied
        .is_empty());
    // A ledger from before: versioned in `schema_migrations`.
    let url = common::fresh_postgres_url(&base, "migrate_old");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(exportgate_store::migrate::POSTGRES_MIGRATIONS[0].2)
        .unwrap();
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY);
             INSERT INTO schema_migrations VALUES (1);",
        )
        .unwrap();
    let done = exportgate_store::migrate_url(&url).unwrap();
    assert!(done.adopted);
    assert_eq!(done.from, 1);
    assert_eq!(done.to, latest());
    let gone: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NULL", &[])
        .unwrap()
        .get(0);
    assert!(gone);
    exportgate_store::open_store(&url).unwrap();
    // Newer: refused.
    client
        .execute(
            "INSERT INTO exportgate_migrations VALUES ($1, 'from_the_future', 'x')",
            &[&(latest() + 1)],
        )
        .unwrap();
    let error = exportgate_store::open_store(&url)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("newer than this exportgate knows"),
        "{error}"
    );
}
