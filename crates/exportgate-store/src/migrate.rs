//! The one versioned schema of an exportgate database, for both backends: the ledger, the
//! imported lists (`list_*`) and the server's tables (`server_*`).
//!
//! Migrations are plain SQL files, `migrations/{sqlite,postgres}/NNNN_name.sql`, embedded at
//! build time (`build.rs`); both directories hold the same versions. Applied versions are
//! recorded in `exportgate_migrations` (version, name, applied_at). [`sqlite`] and [`postgres`]
//! apply the missing ones in order in one transaction (SQLite `BEGIN IMMEDIATE`; PostgreSQL an
//! advisory lock), so processes opening one database at once migrate it once. A database whose
//! recorded version is newer than this build knows is refused ([`StoreError::Database`] saying
//! so) and left untouched.
//!
//! Older databases are adopted in place, the first time: a ledger versioned in
//! `ledger_migrations` or (older still, with an `accounts` table) `schema_migrations` has those
//! versions recorded and the old table dropped; list and server tables made by
//! `CREATE TABLE IF NOT EXISTS` are kept (their migrations are `IF NOT EXISTS` too), and server
//! tables from before users existed get `user_id` / `submitted_user` and a user per key name.

use exportgate_ledger::StoreError;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

pub use embedded::{POSTGRES as POSTGRES_MIGRATIONS, SQLITE as SQLITE_MIGRATIONS};

const LOCK: i64 = 0x6578_706f_7274; // "export"

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The schema version before (0: an empty database).
    pub from: i64,
    /// The schema version now.
    pub to: i64,
    /// The migrations applied, (version, name), in order.
    pub applied: Vec<(i64, String)>,
    /// True when an older database's version tables were adopted.
    pub adopted: bool,
}

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    SQLITE_MIGRATIONS.last().map_or(0, |m| m.0)
}

fn too_new(found: i64) -> StoreError {
    StoreError::Database(format!(
        "the database's schema is at version {found}, newer than this exportgate knows ({}): \
         use the exportgate that wrote it, or a newer one",
        latest()
    ))
}

fn sq(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn pg(e: ::postgres::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS exportgate_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

/// Now as RFC 3339 text, for `applied_at` and users created while adopting old tables.
fn now_text() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(since.as_secs() as i64, since.subsec_nanos())
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// A person's name as the server stores it: trimmed, runs of white space collapsed.
fn user_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn name_of(version: i64) -> &'static str {
    SQLITE_MIGRATIONS
        .iter()
        .find(|m| m.0 == version)
        .map_or("adopted", |m| m.1)
}

fn sqlite_has_table(conn: &Connection, table: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |r| r.get(0),
    )
    .map_err(sq)
}

fn sqlite_has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, StoreError> {
    let mut st = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .map_err(sq)?;
    let names = st.query_map([], |r| r.get::<_, String>(1)).map_err(sq)?;
    for n in names {
        if n.map_err(sq)? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Brings an SQLite database (the ledger, lists and server tables of one file) up to
/// [`latest`].
pub fn sqlite(conn: &mut Connection) -> Result<Migrated, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sq)?;
    let fresh = !sqlite_has_table(&tx, "exportgate_migrations")?;
    tx.execute_batch(VERSION_TABLE).map_err(sq)?;
    let mut adopted = false;
    if fresh {
        adopted = sqlite_adopt(&tx)?;
    }
    let from: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM exportgate_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(sq)?;
    if from > latest() {
        return Err(too_new(from));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in SQLITE_MIGRATIONS {
        let done: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM exportgate_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(sq)?;
        if done {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Database(format!("migration {version} ({name}): {e}")))?;
        tx.execute(
            "INSERT INTO exportgate_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, now_text()],
        )
        .map_err(sq)?;
        applied.push((*version, (*name).to_owned()));
    }
    tx.commit().map_err(sq)?;
    Ok(Migrated {
        from,
        to: latest().max(from),
        applied,
        adopted,
    })
}

/// The first run on a file from before `exportgate_migrations`: record what its old version
/// tables say, and bring server tables from before users up to the shape of `0003_server`.
fn sqlite_adopt(tx: &Connection) -> Result<bool, StoreError> {
    let mut adopted = false;
    let ledger_table = if sqlite_has_table(tx, "ledger_migrations")? {
        Some("ledger_migrations")
    } else if sqlite_has_table(tx, "schema_migrations")? && sqlite_has_table(tx, "accounts")? {
        Some("schema_migrations")
    } else {
        None
    };
    if let Some(table) = ledger_table {
        let versions: Vec<i64> = {
            let mut st = tx
                .prepare(&format!("SELECT version FROM {table} ORDER BY version"))
                .map_err(sq)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(sq)?;
            rows.collect::<Result<_, _>>().map_err(sq)?
        };
        for v in versions {
            tx.execute(
                "INSERT INTO exportgate_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (version) DO NOTHING",
                params![v, name_of(v), now_text()],
            )
            .map_err(sq)?;
        }
        tx.execute_batch(&format!("DROP TABLE {table}"))
            .map_err(sq)?;
        adopted = true;
    }
    if sqlite_has_table(tx, "server_keys")? {
        adopted = true;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS server_users (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                name_key TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL
            )",
        )
        .map_err(sq)?;
        if !sqlite_has_column(tx, "server_keys", "user_id")? {
            tx.execute_batch(
                "ALTER TABLE server_keys ADD COLUMN user_id INTEGER REFERENCES server_users (id)",
            )
            .map_err(sq)?;
        }
        let orphans: Vec<(String, String)> = {
            let mut st = tx
                .prepare("SELECT id, name FROM server_keys WHERE user_id IS NULL")
                .map_err(sq)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(sq)?;
            rows.collect::<Result<_, _>>().map_err(sq)?
        };
        for (id, name) in orphans {
            let display = user_name(&name);
            let key = display.to_lowercase();
            tx.execute(
                "INSERT INTO server_users (name, name_key, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name_key) DO NOTHING",
                params![display, key, now_text()],
            )
            .map_err(sq)?;
            let user: i64 = tx
                .query_row(
                    "SELECT id FROM server_users WHERE name_key = ?1",
                    [&key],
                    |r| r.get(0),
                )
                .map_err(sq)?;
            tx.execute(
                "UPDATE server_keys SET user_id = ?2 WHERE id = ?1",
                params![id, user],
            )
            .map_err(sq)?;
        }
    }
    if sqlite_has_table(tx, "server_cases")? {
        adopted = true;
        if !sqlite_has_column(tx, "server_cases", "submitted_user")? {
            tx.execute_batch(
                "ALTER TABLE server_cases ADD COLUMN submitted_user INTEGER REFERENCES server_users (id)",
            )
            .map_err(sq)?;
        }
        if sqlite_has_table(tx, "server_keys")? {
            tx.execute_batch(
                "UPDATE server_cases SET submitted_user =
                    (SELECT user_id FROM server_keys WHERE server_keys.id = server_cases.submitted_by)
                 WHERE submitted_user IS NULL",
            )
            .map_err(sq)?;
        }
    }
    if sqlite_has_table(tx, "list_versions")? {
        adopted = true;
    }
    Ok(adopted)
}

/// Brings a PostgreSQL database (the schema first on its `search_path`) up to [`latest`].
pub fn postgres(client: &mut ::postgres::Client) -> Result<Migrated, StoreError> {
    let mut tx = client.transaction().map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .map_err(pg)?;
    let exists = |tx: &mut ::postgres::Transaction<'_>, table: &str| -> Result<bool, StoreError> {
        let row = tx
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .map_err(pg)?;
        Ok(row.get(0))
    };
    let fresh = !exists(&mut tx, "exportgate_migrations")?;
    tx.batch_execute(VERSION_TABLE).map_err(pg)?;
    let mut adopted = false;
    if fresh && exists(&mut tx, "schema_migrations")? && exists(&mut tx, "accounts")? {
        let versions: Vec<i64> = tx
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .map_err(pg)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for v in versions {
            tx.execute(
                "INSERT INTO exportgate_migrations (version, name, applied_at) VALUES ($1, $2, $3)
                 ON CONFLICT (version) DO NOTHING",
                &[&v, &name_of(v), &now_text()],
            )
            .map_err(pg)?;
        }
        tx.batch_execute("DROP TABLE schema_migrations")
            .map_err(pg)?;
        adopted = true;
    }
    let from: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM exportgate_migrations",
            &[],
        )
        .map_err(pg)?
        .get(0);
    if from > latest() {
        return Err(too_new(from));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in POSTGRES_MIGRATIONS {
        let done = tx
            .query_opt(
                "SELECT 1 FROM exportgate_migrations WHERE version = $1",
                &[version],
            )
            .map_err(pg)?
            .is_some();
        if done {
            continue;
        }
        tx.batch_execute(sql)
            .map_err(|e| StoreError::Database(format!("migration {version} ({name}): {e}")))?;
        tx.execute(
            "INSERT INTO exportgate_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[version, name, &now_text()],
        )
        .map_err(pg)?;
        applied.push((*version, (*name).to_owned()));
    }
    tx.commit().map_err(pg)?;
    Ok(Migrated {
        from,
        to: latest().max(from),
        applied,
        adopted,
    })
}

/// The schema version recorded in an SQLite database (0 if none), without migrating.
pub fn sqlite_version(conn: &Connection) -> Result<i64, StoreError> {
    if !sqlite_has_table(conn, "exportgate_migrations")? {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM exportgate_migrations",
        [],
        |r| r.get(0),
    )
    .optional()
    .map(|v| v.unwrap_or(0))
    .map_err(sq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_versions_in_order() {
        let s: Vec<(i64, &str)> = SQLITE_MIGRATIONS.iter().map(|m| (m.0, m.1)).collect();
        let p: Vec<(i64, &str)> = POSTGRES_MIGRATIONS.iter().map(|m| (m.0, m.1)).collect();
        assert_eq!(s, p);
        assert!(s.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(s[0], (1, "ledger"));
        assert!(latest() >= 4);
    }

    #[test]
    fn a_fresh_file_gets_every_migration_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("a.sqlite")).unwrap();
        let first = sqlite(&mut conn).unwrap();
        assert_eq!(first.from, 0);
        assert_eq!(first.to, latest());
        assert_eq!(first.applied.len(), SQLITE_MIGRATIONS.len());
        assert!(!first.adopted);
        let again = sqlite(&mut conn).unwrap();
        assert!(again.applied.is_empty());
        assert_eq!(again.from, latest());
        for table in [
            "accounts",
            "list_versions",
            "server_keys",
            "server_cases",
            "server_allow",
        ] {
            assert!(sqlite_has_table(&conn, table).unwrap(), "{table}");
        }
        assert!(sqlite_has_column(&conn, "server_keys", "expires_at").unwrap());
    }

    #[test]
    fn a_newer_database_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("a.sqlite")).unwrap();
        sqlite(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO exportgate_migrations VALUES (?1, 'future', 'x')",
            [latest() + 1],
        )
        .unwrap();
        let e = sqlite(&mut conn).unwrap_err().to_string();
        assert!(
            e.contains(&format!("version {}", latest() + 1)) && e.contains("newer"),
            "{e}"
        );
        assert_eq!(sqlite_version(&conn).unwrap(), latest() + 1);
    }
}
