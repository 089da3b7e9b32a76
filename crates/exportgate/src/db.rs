//! The database the CLI works on: where it is (`--db`, else `$EXPORTGATE_DB`, else
//! `exportgate.sqlite` in the user's data directory), opening the ledger in it, the clock for
//! and ledger operations.
//!
//! One SQLite file holds both the imported restricted-party lists (`list_*` tables, created by
//! `exportgate-lists`) and the ledger (its own tables and `ledger_migrations` version table), so
//! the two never share a table. A PostgreSQL database holds the same tables, lists included.

use std::path::{Path, PathBuf};

use exportgate_ledger::{LedgerStore, StoreError, Timestamp};

use crate::user;

/// Where the database is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbUrl {
    /// An SQLite file (`sqlite://PATH` or a plain path).
    Sqlite(PathBuf),
    /// A PostgreSQL ledger (`postgres://...` or `postgresql://...`).
    Postgres(String),
}

impl DbUrl {
    /// Parses `sqlite://PATH`, `postgres://...`, `postgresql://...` or a plain path.
    pub fn parse(text: &str) -> anyhow::Result<DbUrl> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(text.to_string()));
        }
        let path = text.strip_prefix("sqlite://").unwrap_or(text);
        if path.is_empty() {
            return Err(user(format!(
                "invalid database `{text}`: give `sqlite://PATH`, a path, or `postgres://...`"
            )));
        }
        if path.contains("://") {
            return Err(user(format!(
                "invalid database `{}`: expected `sqlite://PATH`, a path, or `postgres://...`",
                exportgate_store::redact(text)
            )));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(path)))
    }

    /// `--db` if given, else `$EXPORTGATE_DB`, else the user's data directory. Only the binary
    /// reads the environment.
    pub fn resolve(arg: Option<&str>) -> anyhow::Result<Option<DbUrl>> {
        if let Some(a) = arg {
            return DbUrl::parse(a).map(Some);
        }
        if let Some(v) = std::env::var_os("EXPORTGATE_DB") {
            let v = v
                .into_string()
                .map_err(|_| user("EXPORTGATE_DB is not valid UTF-8"))?;
            if !v.is_empty() {
                return DbUrl::parse(&v).map(Some);
            }
        }
        Ok(data_dir_db().map(DbUrl::Sqlite))
    }

    /// The URL `exportgate_store::open_store` takes.
    pub fn store_url(&self) -> String {
        match self {
            DbUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbUrl::Postgres(u) => u.clone(),
        }
    }

    /// Where the imported lists are, as `exportgate-lists` takes it: this SQLite file, or
    /// this PostgreSQL URL given as a path.
    pub fn lists_path(&self) -> Option<PathBuf> {
        match self {
            DbUrl::Sqlite(p) => Some(p.clone()),
            DbUrl::Postgres(u) => Some(PathBuf::from(u)),
        }
    }

    /// Opens the ledger, creating the SQLite file (and its directory) if needed.
    pub fn open(&self) -> anyhow::Result<Box<dyn LedgerStore>> {
        if let DbUrl::Sqlite(p) = self {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                exportgate_store::sqlite::create_private_dir(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the directory `{}`: {e}", dir.display())
                })?;
            }
        }
        exportgate_store::open_store(&self.store_url()).map_err(store_error)
    }

    /// Opens the ledger if it exists: an SQLite file that does not exist is `None` (and is not
    /// created); a PostgreSQL ledger is always opened.
    pub fn open_existing(&self) -> anyhow::Result<Option<Box<dyn LedgerStore>>> {
        match self {
            DbUrl::Sqlite(p) if !p.exists() => Ok(None),
            _ => self.open().map(Some),
        }
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Sqlite(p) => write!(f, "{}", p.display()),
            DbUrl::Postgres(u) => f.write_str(&exportgate_store::redact(u)),
        }
    }
}

/// `exportgate.sqlite` in the user's data directory.
pub fn data_dir_db() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("exportgate").join("exportgate.sqlite"))
}

/// The ledger's store errors as CLI errors: a bad URL or a duplicate licence is the user's
/// (exit 2); anything else is not.
pub fn store_error(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Url { .. } | StoreError::DuplicateLicence(_) => user(e.to_string()),
        other => anyhow::anyhow!("ledger: {other}"),
    }
}

/// Now, for ledger operations and audit records. Only the binary reads the clock.
pub fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}

/// Who writes to the ledger: the command and the process id.
pub fn actor(command: &str) -> String {
    format!("exportgate {command} (pid {})", std::process::id())
}

pub use exportgate_pipeline::CatalogIds;

/// Reads a whole file (or standard input for `-`) as UTF-8.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = crate::input::read_all(path)?;
    String::from_utf8(bytes).map_err(|_| user(format!("`{}` is not valid UTF-8", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/a.sqlite").unwrap(),
            DbUrl::Sqlite("/tmp/a.sqlite".into())
        );
        assert_eq!(
            DbUrl::parse("rel/a.sqlite").unwrap(),
            DbUrl::Sqlite("rel/a.sqlite".into())
        );
        assert!(matches!(
            DbUrl::parse("postgresql://u:p@h/db").unwrap(),
            DbUrl::Postgres(_)
        ));
        let e = DbUrl::parse("mysql://root:pw@h/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mysql://root:***@h/db"), "{e}");
        assert!(DbUrl::parse("sqlite://").is_err());
    }
}
