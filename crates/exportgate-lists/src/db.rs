//! Where the imported lists are kept, and the few statements the list store runs on it: an
//! SQLite file (the embedded default) or a PostgreSQL database that several servers share,
//! through the same operations. Both hold the `list_*` tables of the one versioned schema
//! (`exportgate_store::migrate`), brought up to date when the database is opened.
//!
//! A version is stored in one transaction that first takes the writers' lock (SQLite's
//! `BEGIN IMMEDIATE`; on PostgreSQL a transaction-scoped advisory lock), so two imports at
//! once never both pass the refusal rules against the same version in force.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use exportgate_screen::{Format, ListVersion};
use rusqlite::{params, Connection, OptionalExtension};

use crate::ListsError;

/// The key of the advisory lock PostgreSQL list imports take (any fixed number: it only has
/// to be the same for every writer of the lists).
const PG_IMPORT_LOCK: i64 = 0x6c69_7374_735f_696d; // "lists_im"

/// Where the lists are: an SQLite file, or a PostgreSQL database (`postgres://...` or
/// `postgresql://...`, the schema first on the URL's `search_path`). A `postgres://` URL
/// given as a path (as `--db` hands it on) is recognised as PostgreSQL.
#[derive(Clone, PartialEq, Eq)]
pub enum ListsDb {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl ListsDb {
    /// `postgres://...`/`postgresql://...` is PostgreSQL; `sqlite://PATH` or anything else a
    /// path to an SQLite file.
    pub fn parse(text: &str) -> ListsDb {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            ListsDb::Postgres(text.to_string())
        } else {
            ListsDb::Sqlite(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }

    /// True for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, ListsDb::Postgres(_))
    }

    /// Whether there may be lists in it without creating anything: an SQLite file that does
    /// not exist holds none; a PostgreSQL database is always asked.
    pub fn exists(&self) -> bool {
        match self {
            ListsDb::Sqlite(p) => p.exists(),
            ListsDb::Postgres(_) => true,
        }
    }
}

impl From<&Path> for ListsDb {
    fn from(p: &Path) -> ListsDb {
        match p.to_str() {
            Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                ListsDb::Postgres(s.to_string())
            }
            _ => ListsDb::Sqlite(p.to_path_buf()),
        }
    }
}

impl From<&PathBuf> for ListsDb {
    fn from(p: &PathBuf) -> ListsDb {
        ListsDb::from(p.as_path())
    }
}

impl From<PathBuf> for ListsDb {
    fn from(p: PathBuf) -> ListsDb {
        ListsDb::from(p.as_path())
    }
}

impl From<&ListsDb> for ListsDb {
    fn from(d: &ListsDb) -> ListsDb {
        d.clone()
    }
}

/// Never shows a password.
impl fmt::Display for ListsDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListsDb::Sqlite(p) => write!(f, "{}", p.display()),
            ListsDb::Postgres(u) => f.write_str(&exportgate_store::redact(u)),
        }
    }
}

impl fmt::Debug for ListsDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ListsDb({self})")
    }
}

/// A new version to store.
pub(crate) struct NewVersion<'a> {
    pub source: &'a str,
    pub format: Format,
    pub data_date: Option<NaiveDate>,
    pub imported_on: NaiveDate,
    pub sha256: &'a str,
    pub origin: &'a str,
    /// The entries, each as its JSON record.
    pub entries: Vec<String>,
}

/// An open connection to the lists.
pub(crate) enum Conn {
    Sqlite(Connection),
    Postgres(Box<postgres::Client>),
}

const VERSION_COLUMNS: &str =
    "id, source, format, data_date, imported_on, entry_count, sha256, origin";

/// One `list_versions` row as read: id, source, format, data date, import date, entries,
/// digest, origin.
type RawVersion = (
    i64,
    String,
    String,
    Option<String>,
    String,
    i64,
    String,
    String,
);

fn decode(raw: RawVersion) -> Result<(ListVersion, String), ListsError> {
    let (id, source, format, data_date, imported_on, entries, sha256, origin) = raw;
    let bad = |what: String| ListsError::Schema(format!("list version {id}: {what}"));
    Ok((
        ListVersion {
            id,
            source,
            format: Format::from_name(&format)
                .ok_or_else(|| bad(format!("unknown format `{format}`")))?,
            data_date: data_date
                .map(|d| {
                    d.parse::<NaiveDate>()
                        .map_err(|_| bad(format!("bad date `{d}`")))
                })
                .transpose()?,
            imported_on: imported_on
                .parse::<NaiveDate>()
                .map_err(|_| bad(format!("bad date `{imported_on}`")))?,
            entry_count: usize::try_from(entries)
                .map_err(|_| bad(format!("bad entry count {entries}")))?,
            sha256,
        },
        origin,
    ))
}

fn sqlite_raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawVersion> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn pg_raw(r: &postgres::Row) -> Result<RawVersion, postgres::Error> {
    Ok((
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        r.try_get(5)?,
        r.try_get(6)?,
        r.try_get(7)?,
    ))
}

/// A missing database file is created 0600 (and a missing directory 0700) before SQLite opens
/// it: SQLite gives its `-wal`, `-shm` and `-journal` files the database file's mode.
fn prepare_private_file(path: &Path) -> Result<(), ListsError> {
    let io = |source| ListsError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir).map_err(io)?;
        }
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}

impl Conn {
    /// Connects (creating an SQLite file 0600 if missing) and brings the schema up to date.
    pub(crate) fn open(db: &ListsDb) -> Result<Conn, ListsError> {
        let schema = |e: exportgate_store::StoreError| ListsError::Schema(e.to_string());
        match db {
            ListsDb::Sqlite(path) => {
                prepare_private_file(path)?;
                let mut conn = Connection::open(path)?;
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                conn.execute_batch("PRAGMA foreign_keys = ON;")?;
                exportgate_store::migrate::sqlite(&mut conn).map_err(schema)?;
                Ok(Conn::Sqlite(conn))
            }
            ListsDb::Postgres(url) => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
                    ListsError::Schema(format!(
                        "cannot connect to `{}`: {e}",
                        exportgate_store::redact(url)
                    ))
                })?;
                exportgate_store::migrate::postgres(&mut client).map_err(schema)?;
                Ok(Conn::Postgres(Box::new(client)))
            }
        }
    }

    /// The version in force for `source` (its newest), outside any transaction.
    pub(crate) fn in_force(&mut self, source: &str) -> Result<Option<ListVersion>, ListsError> {
        let sql_lite = format!(
            "SELECT {VERSION_COLUMNS} FROM list_versions WHERE source = ?1 ORDER BY id DESC LIMIT 1"
        );
        let sql_pg = format!(
            "SELECT {VERSION_COLUMNS} FROM list_versions WHERE source = $1 ORDER BY id DESC LIMIT 1"
        );
        let raw = match self {
            Conn::Sqlite(c) => c
                .query_row(&sql_lite, params![source], sqlite_raw)
                .optional()?,
            Conn::Postgres(c) => c
                .query_opt(&sql_pg, &[&source])?
                .map(|r| pg_raw(&r))
                .transpose()?,
        };
        Ok(raw.map(decode).transpose()?.map(|(v, _)| v))
    }

    /// Every stored version with its origin, oldest first.
    pub(crate) fn versions(&mut self) -> Result<Vec<(ListVersion, String)>, ListsError> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM list_versions ORDER BY id");
        let raws: Vec<RawVersion> = match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map([], sqlite_raw)?;
                rows.collect::<Result<_, _>>()?
            }
            Conn::Postgres(c) => c
                .query(&sql, &[])?
                .iter()
                .map(pg_raw)
                .collect::<Result<_, _>>()?,
        };
        raws.into_iter().map(decode).collect()
    }

    /// The newest version id of each source: what a server compares to see whether the lists
    /// in force changed (one small indexed query).
    pub(crate) fn newest_ids(&mut self) -> Result<Vec<(String, i64)>, ListsError> {
        let sql = "SELECT source, MAX(id) FROM list_versions GROUP BY source ORDER BY source";
        Ok(match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            }
            Conn::Postgres(c) => c
                .query(sql, &[])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()?,
        })
    }

    /// The entries of one version, each as `(seq, JSON)`, in order.
    pub(crate) fn entries(&mut self, version: i64) -> Result<Vec<(i64, String)>, ListsError> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(
                    "SELECT seq, entry FROM list_entries WHERE version_id = ?1 ORDER BY seq",
                )?;
                let rows = stmt.query_map(params![version], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            }
            Conn::Postgres(c) => c
                .query(
                    "SELECT seq, entry FROM list_entries WHERE version_id = $1 ORDER BY seq",
                    &[&version],
                )?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()?,
        })
    }

    /// In one transaction holding the writers' lock: reads the version in force for
    /// `source`, asks `check` whether to store (`Ok(None)`), keep the version in force
    /// (`Ok(Some(v))`, nothing written) or refuse (`Err`, nothing written), and stores the new
    /// version built by `build` with its entries. Returns the new version's id, or the kept
    /// version.
    pub(crate) fn store<'v>(
        &mut self,
        source: &str,
        check: impl FnOnce(Option<&ListVersion>) -> Result<Option<ListVersion>, ListsError>,
        build: impl FnOnce() -> Result<NewVersion<'v>, ListsError>,
    ) -> Result<Result<i64, ListVersion>, ListsError> {
        match self {
            Conn::Sqlite(c) => {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let current = tx
                    .query_row(
                        &format!(
                            "SELECT {VERSION_COLUMNS} FROM list_versions WHERE source = ?1 \
                             ORDER BY id DESC LIMIT 1"
                        ),
                        params![source],
                        sqlite_raw,
                    )
                    .optional()?
                    .map(decode)
                    .transpose()?
                    .map(|(v, _)| v);
                if let Some(kept) = check(current.as_ref())? {
                    return Ok(Err(kept));
                }
                let v = build()?;
                tx.execute(
                    "INSERT INTO list_versions (source, format, data_date, imported_on, \
                     entry_count, sha256, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        v.source,
                        v.format.name(),
                        v.data_date.map(|d| d.to_string()),
                        v.imported_on.to_string(),
                        v.entries.len() as i64,
                        v.sha256,
                        v.origin
                    ],
                )?;
                let id = tx.last_insert_rowid();
                {
                    let mut stmt = tx.prepare(
                        "INSERT INTO list_entries (version_id, seq, entry) VALUES (?1, ?2, ?3)",
                    )?;
                    for (seq, json) in v.entries.iter().enumerate() {
                        stmt.execute(params![id, seq as i64, json])?;
                    }
                }
                tx.commit()?;
                Ok(Ok(id))
            }
            Conn::Postgres(c) => {
                let mut tx = c.transaction()?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_IMPORT_LOCK])?;
                let current = tx
                    .query_opt(
                        &format!(
                            "SELECT {VERSION_COLUMNS} FROM list_versions WHERE source = $1 \
                             ORDER BY id DESC LIMIT 1"
                        ),
                        &[&source],
                    )?
                    .map(|r| pg_raw(&r))
                    .transpose()?
                    .map(decode)
                    .transpose()?
                    .map(|(v, _)| v);
                if let Some(kept) = check(current.as_ref())? {
                    return Ok(Err(kept));
                }
                let v = build()?;
                let id: i64 = tx
                    .query_one(
                        "INSERT INTO list_versions (source, format, data_date, imported_on, \
                         entry_count, sha256, origin) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         RETURNING id",
                        &[
                            &v.source,
                            &v.format.name(),
                            &v.data_date.map(|d| d.to_string()),
                            &v.imported_on.to_string(),
                            &(v.entries.len() as i64),
                            &v.sha256,
                            &v.origin,
                        ],
                    )?
                    .try_get(0)?;
                // The entries in one binary COPY: tens of thousands of rows in one round trip.
                let sink =
                    tx.copy_in("COPY list_entries (version_id, seq, entry) FROM STDIN BINARY")?;
                let mut w = postgres::binary_copy::BinaryCopyInWriter::new(
                    sink,
                    &[
                        postgres::types::Type::INT8,
                        postgres::types::Type::INT8,
                        postgres::types::Type::TEXT,
                    ],
                );
                for (seq, json) in v.entries.iter().enumerate() {
                    w.write(&[&id, &(seq as i64), json])?;
                }
                w.finish()?;
                tx.commit()?;
                Ok(Ok(id))
            }
        }
    }
}
