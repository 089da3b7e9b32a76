//! exportgate-store: [`LedgerStore`] over SQLite (the embedded default) and PostgreSQL (for
//! several processes or servers sharing one ledger), plus a group-commit [`Batcher`].
//!
//! Open a store from a URL with [`open_store`]: `sqlite://PATH` or `postgres://...`. The one
//! versioned schema of the whole database (ledger, lists, server tables) is in [`migrate`]:
//! SQL files per backend (`migrations/sqlite`, `migrations/postgres`), applied on open and by
//! [`migrate_url`] (`exportgate db migrate`). Every write is one transaction in which the ledger's limits are checked, the
//! rows are written and the audit records are appended.

pub mod batcher;
mod codec;
pub mod migrate;
pub mod parties;
pub mod postgres;
pub mod sqlite;
pub mod testing;

pub use batcher::Batcher;
pub use exportgate_ledger::{LedgerStore, StoreError};

use std::fmt;

/// Where a ledger lives, parsed from a URL. `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite://PATH` (`sqlite:///abs/path` or `sqlite://relative/path`).
    Sqlite(std::path::PathBuf),
    /// `postgres://` or `postgresql://` connection URL.
    Postgres(String),
}

impl StoreUrl {
    /// Parses `sqlite://PATH` or `postgres://...`.
    pub fn parse(url: &str) -> Result<StoreUrl, StoreError> {
        let fail = |reason: &str| StoreError::Url {
            url: redact(url),
            reason: reason.to_owned(),
        };
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(fail("give a file path after `sqlite://`"));
            }
            return Ok(StoreUrl::Sqlite(path.into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url.to_owned()));
        }
        Err(fail("expected `sqlite://PATH` or `postgres://...`"))
    }
}

/// Replaces the password in `scheme://user:password@host/...` with `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return redact_query(url);
    };
    let user = userinfo
        .split_once(':')
        .map(|(u, _)| format!("{u}:***"))
        .unwrap_or_else(|| userinfo.to_owned());
    redact_query(&format!("{scheme}://{user}@{host}{tail}"))
}

fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => {
            let parts: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{base}?{}", parts.join("&"))
        }
        None => url.to_owned(),
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            StoreUrl::Postgres(url) => f.debug_tuple("Postgres").field(&redact(url)).finish(),
        }
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            StoreUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// Brings the database at `url` up to the newest schema (creating an SQLite file if missing);
/// a database newer than this build is refused.
pub fn migrate_url(url: &str) -> Result<migrate::Migrated, StoreError> {
    match StoreUrl::parse(url)? {
        StoreUrl::Sqlite(path) => {
            sqlite::prepare_private_file(&path).map_err(|e| {
                StoreError::Database(format!("cannot create `{}`: {e}", path.display()))
            })?;
            let mut conn = rusqlite::Connection::open(&path)
                .map_err(|e| StoreError::Database(e.to_string()))?;
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(|e| StoreError::Database(e.to_string()))?;
            migrate::sqlite(&mut conn)
        }
        StoreUrl::Postgres(url) => {
            let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).map_err(|e| {
                StoreError::Database(format!("cannot connect to `{}`: {e}", redact(&url)))
            })?;
            migrate::postgres(&mut client)
        }
    }
}

/// Opens (creating and migrating if needed) the party records at `url` (the ledger's
/// database: the same file or server, the same audit log).
pub fn open_party_store(url: &str) -> Result<Box<dyn parties::PartyStore>, StoreError> {
    match StoreUrl::parse(url)? {
        StoreUrl::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(&path)?)),
        StoreUrl::Postgres(url) => Ok(Box::new(postgres::PostgresStore::connect(&url)?)),
    }
}

/// Opens (creating and migrating if needed) the ledger at `url`.
pub fn open_store(url: &str) -> Result<Box<dyn LedgerStore>, StoreError> {
    match StoreUrl::parse(url)? {
        StoreUrl::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(&path)?)),
        StoreUrl::Postgres(url) => Ok(Box::new(postgres::PostgresStore::connect(&url)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_passwords() {
        assert_eq!(
            StoreUrl::parse("sqlite:///tmp/x.db").unwrap(),
            StoreUrl::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite://rel.db").unwrap(),
            StoreUrl::Sqlite("rel.db".into())
        );
        let pg = StoreUrl::parse("postgres://ledger:s3cret@127.0.0.1:5432/exportgate").unwrap();
        assert_eq!(
            format!("{pg:?}"),
            "Postgres(\"postgres://ledger:***@127.0.0.1:5432/exportgate\")"
        );
        assert_eq!(
            pg.to_string(),
            "postgres://ledger:***@127.0.0.1:5432/exportgate"
        );
        assert_eq!(
            redact("postgres://h/db?user=a&password=s3cret"),
            "postgres://h/db?user=a&password=***"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        let error = StoreUrl::parse("mysql://root:pw@h/db")
            .unwrap_err()
            .to_string();
        assert_eq!(error, "invalid database url `mysql://root:***@h/db`: expected `sqlite://PATH` or `postgres://...`");
        assert!(StoreUrl::parse("sqlite://").is_err());
    }
}
