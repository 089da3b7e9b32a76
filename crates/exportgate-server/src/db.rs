//! The server's own tables, in the same database as the ledger and the lists: users (the
//! persons keys belong to), API keys (stored as SHA-256 hashes only, with optional expiry),
//! review cases, and allow-list clearances. Tables are prefixed `server_`; their schema is part
//! of the database's one versioned schema (`exportgate_store::migrate`), applied on open.
//!
//! [`ServerDb`] is the backend-neutral handle: an SQLite file (the embedded default) or a
//! PostgreSQL database shared by several `exportgate serve` processes. Every function here
//! takes it and runs the same statements on either backend.

use std::cell::RefCell;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use exportgate_screen::AllowEntry;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Role;

/// A failure of the server's tables.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbError(pub String);

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        DbError(e.to_string())
    }
}

impl From<exportgate_store::StoreError> for DbError {
    fn from(e: exportgate_store::StoreError) -> Self {
        DbError(e.to_string())
    }
}

/// Results of the server's tables.
pub type DbResult<T> = Result<T, DbError>;

/// The server's tables on one backend. Callers hold it behind a mutex (one statement at a time).
pub enum ServerDb {
    /// An SQLite file.
    Sqlite(Connection),
    /// A PostgreSQL database (the schema first on the URL's `search_path`).
    Postgres(Box<RefCell<postgres::Client>>),
}

impl std::fmt::Debug for ServerDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend())
    }
}

/// True if `db` (a path or URL as given to `--db`) names a PostgreSQL database.
pub fn is_postgres(db: &Path) -> bool {
    db.to_str()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

impl ServerDb {
    /// Open `db`: a `postgres://` URL (given as a path) or an SQLite file; migrate it.
    pub fn open(db: &Path) -> DbResult<ServerDb> {
        match db.to_str() {
            Some(url) if is_postgres(db) => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
                    DbError(format!(
                        "cannot connect to `{}`: {e}",
                        exportgate_store::redact(url)
                    ))
                })?;
                exportgate_store::migrate::postgres(&mut client)?;
                Ok(ServerDb::Postgres(Box::new(RefCell::new(client))))
            }
            _ => open(db).map(ServerDb::Sqlite),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            ServerDb::Sqlite(_) => "sqlite",
            ServerDb::Postgres(_) => "postgres",
        }
    }

    /// One round trip: is the database reachable?
    pub fn ping(&self) -> bool {
        match self {
            ServerDb::Sqlite(c) => c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).is_ok(),
            ServerDb::Postgres(c) => c.borrow_mut().simple_query("SELECT 1").is_ok(),
        }
    }

    /// Begin resolving case `id`: on PostgreSQL a transaction holding the case's row lock
    /// (`SELECT ... FOR UPDATE`), so that a second resolution of the case, from any server,
    /// waits and then finds it resolved. On SQLite nothing: the caller's lock on this handle
    /// already serialises resolutions. End with [`CaseLock::finish`]; a lock dropped
    /// unfinished (an early return, a panic) rolls back.
    pub fn begin_case_lock(&self, id: i64) -> DbResult<CaseLock<'_>> {
        if let ServerDb::Postgres(c) = self {
            let mut c = c.borrow_mut();
            c.batch_execute("BEGIN")?;
            if let Err(e) = c.query(
                "SELECT id FROM server_cases WHERE id = $1 FOR UPDATE",
                &[&id],
            ) {
                let _ = c.batch_execute("ROLLBACK");
                return Err(e.into());
            }
        }
        Ok(CaseLock {
            db: self,
            open: true,
        })
    }
}

/// A case being resolved (see [`ServerDb::begin_case_lock`]).
pub struct CaseLock<'a> {
    db: &'a ServerDb,
    open: bool,
}

impl CaseLock<'_> {
    /// Commit (`ok`) or roll back.
    pub fn finish(mut self, ok: bool) -> DbResult<()> {
        self.open = false;
        if let ServerDb::Postgres(c) = self.db {
            c.borrow_mut()
                .batch_execute(if ok { "COMMIT" } else { "ROLLBACK" })?;
        }
        Ok(())
    }
}

impl Drop for CaseLock<'_> {
    fn drop(&mut self) {
        if self.open {
            if let ServerDb::Postgres(c) = self.db {
                if let Ok(mut c) = c.try_borrow_mut() {
                    let _ = c.batch_execute("ROLLBACK");
                }
            }
        }
    }
}

/// Open the SQLite file and bring its schema up to date.
/// A missing file is created 0600 in a 0700 directory first (see
/// [`exportgate_store::sqlite::prepare_private_file`]); if that fails, opening it fails too.
pub fn open(path: &Path) -> DbResult<Connection> {
    let _ = exportgate_store::sqlite::prepare_private_file(path);
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    exportgate_store::migrate::sqlite(&mut conn)?;
    Ok(conn)
}

/// A person's name as stored: trimmed, runs of white space collapsed to one space.
pub fn user_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What makes two names the same person: [`user_name`], lower-cased.
pub fn user_name_key(name: &str) -> String {
    user_name(name).to_lowercase()
}

/// A person keys belong to. The four-eyes rule compares users, not keys.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub created_at: String,
}

/// Hex SHA-256 of an API key: what is stored.
pub fn key_hash(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// A stored API key (without the key).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyRecord {
    pub id: String,
    /// The name the key was created with.
    pub name: String,
    /// Id of the user (person) the key belongs to.
    pub user_id: i64,
    /// That user's name.
    pub user: String,
    pub role: Role,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// When the key stops working (RFC 3339), if it expires; then it is refused like a
    /// revoked key.
    pub expires_at: Option<String>,
}

impl KeyRecord {
    /// Has the key expired by `now`? A stored expiry that cannot be read counts as expired
    /// (fail closed).
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        match &self.expires_at {
            None => false,
            Some(t) => DateTime::parse_from_rfc3339(t).map_or(true, |t| t <= now),
        }
    }
}

fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(hex::encode(buf))
}

/// The instant a key given `--expires DATE` stops working: the start of the next day (UTC), so
/// the key works through `DATE`. A date before today (`now`) is refused.
pub fn key_expiry(date: NaiveDate, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if date < now.date_naive() {
        return Err(format!("{date} is in the past"));
    }
    date.succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{date} is too far ahead"))
}

/// Reads a column of a row of either backend.
trait Col {
    fn text(&self, i: usize) -> DbResult<String>;
    fn opt_text(&self, i: usize) -> DbResult<Option<String>>;
    fn int(&self, i: usize) -> DbResult<i64>;
    fn opt_int(&self, i: usize) -> DbResult<Option<i64>>;
}

impl Col for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> DbResult<String> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> DbResult<Option<String>> {
        Ok(self.get(i)?)
    }
    fn int(&self, i: usize) -> DbResult<i64> {
        Ok(self.get(i)?)
    }
    fn opt_int(&self, i: usize) -> DbResult<Option<i64>> {
        Ok(self.get(i)?)
    }
}

impl Col for postgres::Row {
    fn text(&self, i: usize) -> DbResult<String> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> DbResult<Option<String>> {
        Ok(self.try_get(i)?)
    }
    fn int(&self, i: usize) -> DbResult<i64> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> DbResult<Option<i64>> {
        Ok(self.try_get(i)?)
    }
}

/// Rows of an SQLite query, decoded by `f`.
fn sqlite_rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl Fn(&rusqlite::Row) -> DbResult<T>,
) -> DbResult<Vec<T>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(f(r)?);
    }
    Ok(out)
}

/// The user with this name (compared by [`user_name_key`]), created if there is none.
pub fn ensure_user(conn: &ServerDb, name: &str) -> DbResult<User> {
    let display = user_name(name);
    let key = user_name_key(name);
    let now = Utc::now().to_rfc3339();
    let user = |r: &dyn Col| -> DbResult<User> {
        Ok(User {
            id: r.int(0)?,
            name: r.text(1)?,
            created_at: r.text(2)?,
        })
    };
    match conn {
        ServerDb::Sqlite(c) => {
            c.execute(
                "INSERT INTO server_users (name, name_key, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name_key) DO NOTHING",
                params![display, key, now],
            )?;
            let r = sqlite_rows(
                c,
                "SELECT id, name, created_at FROM server_users WHERE name_key = ?1",
                [&key],
                |r| user(r),
            )?;
            r.into_iter()
                .next()
                .ok_or_else(|| DbError("user vanished".into()))
        }
        ServerDb::Postgres(c) => {
            let mut c = c.borrow_mut();
            c.execute(
                "INSERT INTO server_users (name, name_key, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name_key) DO NOTHING",
                &[&display, &key, &now],
            )?;
            let r = c.query_one(
                "SELECT id, name, created_at FROM server_users WHERE name_key = $1",
                &[&key],
            )?;
            user(&r)
        }
    }
}

/// Create a key: returns the record and the key itself (shown once, never stored).
/// The key belongs to the user named `name` (compared case-insensitively, spaces collapsed),
/// created if there is none: whoever may create keys can therefore act as any person.
pub fn create_key(conn: &ServerDb, name: &str, role: Role) -> Result<(KeyRecord, String), String> {
    create_key_expiring(conn, name, role, None)
}

/// [`create_key`] with an optional expiry instant.
pub fn create_key_expiring(
    conn: &ServerDb,
    name: &str,
    role: Role,
    expires: Option<DateTime<Utc>>,
) -> Result<(KeyRecord, String), String> {
    if user_name(name).is_empty() {
        return Err("a key needs a name (the person or system holding it)".into());
    }
    let id = random_hex(6)?;
    let key = format!("eg_{}", random_hex(32)?);
    let created_at = Utc::now().to_rfc3339();
    let expires_at = expires.map(|t| t.to_rfc3339());
    let hash = key_hash(&key);
    let user = match conn {
        ServerDb::Sqlite(c) => {
            let tx = c.unchecked_transaction().map_err(|e| e.to_string())?;
            let user = ensure_user(conn, name).map_err(|e| e.to_string())?;
            tx.execute(
                "INSERT INTO server_keys (id, name, role, key_sha256, created_at, user_id, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, name, role.as_str(), hash, created_at, user.id, expires_at],
            )
            .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            user
        }
        ServerDb::Postgres(c) => {
            let user = ensure_user(conn, name).map_err(|e| e.to_string())?;
            c.borrow_mut()
                .execute(
                    "INSERT INTO server_keys (id, name, role, key_sha256, created_at, user_id, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[&id, &name, &role.as_str(), &hash, &created_at, &user.id, &expires_at],
                )
                .map_err(|e| e.to_string())?;
            user
        }
    };
    Ok((
        KeyRecord {
            id,
            name: name.to_string(),
            user_id: user.id,
            user: user.name,
            role,
            created_at,
            revoked_at: None,
            expires_at,
        },
        key,
    ))
}

const KEY_COLUMNS: &str =
    "k.id, k.name, k.role, k.created_at, k.revoked_at, u.id, u.name, k.expires_at
    FROM server_keys k JOIN server_users u ON u.id = k.user_id";

fn key_row(r: &dyn Col) -> DbResult<KeyRecord> {
    let role = r.text(2)?;
    Ok(KeyRecord {
        id: r.text(0)?,
        name: r.text(1)?,
        // An unknown stored role is the least one (fail closed).
        role: Role::parse(&role).unwrap_or(Role::Submitter),
        created_at: r.text(3)?,
        revoked_at: r.opt_text(4)?,
        user_id: r.int(5)?,
        user: r.text(6)?,
        expires_at: r.opt_text(7)?,
    })
}

/// The unrevoked key with this hash (a key without a user is not found: fail closed). Whether
/// it has expired is the caller's to check ([`KeyRecord::expired`]).
pub fn find_key(conn: &ServerDb, hash: &str) -> DbResult<Option<KeyRecord>> {
    let rows = match conn {
        ServerDb::Sqlite(c) => sqlite_rows(
            c,
            &format!("SELECT {KEY_COLUMNS} WHERE k.key_sha256 = ?1 AND k.revoked_at IS NULL"),
            [hash],
            |r| key_row(r),
        )?,
        ServerDb::Postgres(c) => c
            .borrow_mut()
            .query(
                &format!("SELECT {KEY_COLUMNS} WHERE k.key_sha256 = $1 AND k.revoked_at IS NULL"),
                &[&hash],
            )?
            .iter()
            .map(|r| key_row(r))
            .collect::<DbResult<_>>()?,
    };
    Ok(rows.into_iter().next())
}

/// Every key, newest first.
pub fn list_keys(conn: &ServerDb) -> DbResult<Vec<KeyRecord>> {
    match conn {
        ServerDb::Sqlite(c) => sqlite_rows(
            c,
            &format!("SELECT {KEY_COLUMNS} ORDER BY k.created_at DESC, k.rowid DESC"),
            [],
            |r| key_row(r),
        ),
        ServerDb::Postgres(c) => c
            .borrow_mut()
            .query(
                &format!("SELECT {KEY_COLUMNS} ORDER BY k.created_at DESC, k.id DESC"),
                &[],
            )?
            .iter()
            .map(|r| key_row(r))
            .collect(),
    }
}

/// Revoke a key; false if there is no such unrevoked key.
pub fn revoke_key(conn: &ServerDb, id: &str) -> DbResult<bool> {
    let now = Utc::now().to_rfc3339();
    let n = match conn {
        ServerDb::Sqlite(c) => c.execute(
            "UPDATE server_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now],
        )? as u64,
        ServerDb::Postgres(c) => c.borrow_mut().execute(
            "UPDATE server_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &now],
        )?,
    };
    Ok(n == 1)
}

/// A review case as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Case {
    pub id: i64,
    pub created_at: String,
    /// Key id of the submitter.
    pub submitted_by: String,
    pub submitted_name: String,
    /// User id of the submitter (the person; absent on cases opened before users existed
    /// whose key is gone).
    pub submitted_user: Option<i64>,
    pub order_id: String,
    pub outcome: String,
    /// Why the case was opened.
    pub why: Vec<String>,
    /// `open`, `released` or `blocked`.
    pub status: String,
    pub resolved_by: Option<String>,
    pub resolved_name: Option<String>,
    pub resolved_at: Option<String>,
    pub resolution_reason: Option<String>,
    /// The order as submitted.
    #[schema(value_type = Object)]
    pub order: serde_json::Value,
    /// The decision as `check` returns it.
    #[schema(value_type = Object)]
    pub decision: serde_json::Value,
    /// Every rule considered and why it applied or not.
    #[schema(value_type = Vec<Object>)]
    pub trace: serde_json::Value,
    /// Full screening results per party, each hit with its explanation.
    #[schema(value_type = Vec<Object>)]
    pub screening: serde_json::Value,
    /// Seq of the audit record of the case's opening.
    pub audit_seq: Option<i64>,
}

/// What a new case holds.
pub struct NewCase<'a> {
    pub submitted_by: &'a str,
    pub submitted_name: &'a str,
    pub submitted_user: i64,
    pub order_id: &'a str,
    pub outcome: &'a str,
    pub why: &'a [String],
    pub order: &'a serde_json::Value,
    pub decision: &'a serde_json::Value,
    pub trace: &'a serde_json::Value,
    pub screening: &'a serde_json::Value,
    pub audit_seq: u64,
}

/// Store a new open case; returns its id.
pub fn insert_case(conn: &ServerDb, c: &NewCase) -> DbResult<i64> {
    let now = Utc::now().to_rfc3339();
    let why = serde_json::to_string(c.why).unwrap_or_default();
    let (order, decision, trace, screening) = (
        c.order.to_string(),
        c.decision.to_string(),
        c.trace.to_string(),
        c.screening.to_string(),
    );
    let seq = c.audit_seq as i64;
    match conn {
        ServerDb::Sqlite(conn) => {
            conn.execute(
                "INSERT INTO server_cases (created_at, submitted_by, submitted_name, order_id, outcome, why,
                    order_json, decision_json, trace_json, screening_json, audit_seq, submitted_user)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    now,
                    c.submitted_by,
                    c.submitted_name,
                    c.order_id,
                    c.outcome,
                    why,
                    order,
                    decision,
                    trace,
                    screening,
                    seq,
                    c.submitted_user,
                ],
            )?;
            Ok(conn.last_insert_rowid())
        }
        ServerDb::Postgres(conn) => {
            let row = conn.borrow_mut().query_one(
                "INSERT INTO server_cases (created_at, submitted_by, submitted_name, order_id, outcome, why,
                    order_json, decision_json, trace_json, screening_json, audit_seq, submitted_user)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                &[
                    &now,
                    &c.submitted_by,
                    &c.submitted_name,
                    &c.order_id,
                    &c.outcome,
                    &why,
                    &order,
                    &decision,
                    &trace,
                    &screening,
                    &seq,
                    &c.submitted_user,
                ],
            )?;
            Ok(row.try_get(0)?)
        }
    }
}

/// Record the seq of the audit record of a case's opening.
pub fn set_case_audit_seq(conn: &ServerDb, id: i64, seq: i64) -> DbResult<()> {
    match conn {
        ServerDb::Sqlite(c) => {
            c.execute(
                "UPDATE server_cases SET audit_seq = ?2 WHERE id = ?1",
                params![id, seq],
            )?;
        }
        ServerDb::Postgres(c) => {
            c.borrow_mut().execute(
                "UPDATE server_cases SET audit_seq = $2 WHERE id = $1",
                &[&id, &seq],
            )?;
        }
    }
    Ok(())
}

/// Remove a case whose opening could not be audited (it never existed).
pub fn delete_case(conn: &ServerDb, id: i64) -> DbResult<()> {
    match conn {
        ServerDb::Sqlite(c) => {
            c.execute("DELETE FROM server_cases WHERE id = ?1", [id])?;
        }
        ServerDb::Postgres(c) => {
            c.borrow_mut()
                .execute("DELETE FROM server_cases WHERE id = $1", &[&id])?;
        }
    }
    Ok(())
}

const CASE_COLUMNS: &str = "id, created_at, submitted_by, submitted_name, order_id, outcome, why,
    status, resolved_by, resolved_name, resolved_at, resolution_reason,
    order_json, decision_json, trace_json, screening_json, audit_seq, submitted_user";

fn json_col(r: &dyn Col, i: usize) -> DbResult<serde_json::Value> {
    Ok(serde_json::from_str(&r.text(i)?).unwrap_or(serde_json::Value::Null))
}

fn case_row(r: &dyn Col, full: bool) -> DbResult<Case> {
    let why = r.text(6)?;
    Ok(Case {
        id: r.int(0)?,
        created_at: r.text(1)?,
        submitted_by: r.text(2)?,
        submitted_name: r.text(3)?,
        order_id: r.text(4)?,
        outcome: r.text(5)?,
        why: serde_json::from_str(&why).unwrap_or_default(),
        status: r.text(7)?,
        resolved_by: r.opt_text(8)?,
        resolved_name: r.opt_text(9)?,
        resolved_at: r.opt_text(10)?,
        resolution_reason: r.opt_text(11)?,
        order: json_col(r, 12)?,
        decision: json_col(r, 13)?,
        trace: if full {
            json_col(r, 14)?
        } else {
            serde_json::Value::Null
        },
        screening: if full {
            json_col(r, 15)?
        } else {
            serde_json::Value::Null
        },
        audit_seq: r.opt_int(16)?,
        submitted_user: r.opt_int(17)?,
    })
}

/// One case with everything it holds.
pub fn get_case(conn: &ServerDb, id: i64) -> DbResult<Option<Case>> {
    let rows = match conn {
        ServerDb::Sqlite(c) => sqlite_rows(
            c,
            &format!("SELECT {CASE_COLUMNS} FROM server_cases WHERE id = ?1"),
            [id],
            |r| case_row(r, true),
        )?,
        ServerDb::Postgres(c) => c
            .borrow_mut()
            .query(
                &format!("SELECT {CASE_COLUMNS} FROM server_cases WHERE id = $1"),
                &[&id],
            )?
            .iter()
            .map(|r| case_row(r, true))
            .collect::<DbResult<_>>()?,
    };
    Ok(rows.into_iter().next())
}

/// Cases (without trace and screening), oldest first, optionally by status.
/// Up to `limit` cases with ids above `after`, oldest first.
pub fn list_cases(
    conn: &ServerDb,
    status: Option<&str>,
    after: i64,
    limit: usize,
) -> DbResult<Vec<Case>> {
    let limit = limit as i64;
    match conn {
        ServerDb::Sqlite(c) => sqlite_rows(
            c,
            &format!(
                "SELECT {CASE_COLUMNS} FROM server_cases WHERE (?1 IS NULL OR status = ?1) AND id > ?3 ORDER BY id LIMIT ?2"
            ),
            params![status, limit, after],
            |r| case_row(r, false),
        ),
        ServerDb::Postgres(c) => c
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {CASE_COLUMNS} FROM server_cases WHERE ($1::TEXT IS NULL OR status = $1) AND id > $3 ORDER BY id LIMIT $2"
                ),
                &[&status, &limit, &after],
            )?
            .iter()
            .map(|r| case_row(r, false))
            .collect(),
    }
}

/// The newest cases (up to `limit`, without trace and screening) whose recorded decision
/// contains `needle` (a JSON string such as a party id): candidates for "the orders of a
/// party", which the caller confirms against the decision itself.
pub fn cases_mentioning(conn: &ServerDb, needle: &str, limit: usize) -> DbResult<Vec<Case>> {
    let limit = limit as i64;
    match conn {
        ServerDb::Sqlite(c) => sqlite_rows(
            c,
            &format!(
                "SELECT {CASE_COLUMNS} FROM server_cases WHERE instr(decision_json, ?1) > 0 ORDER BY id DESC LIMIT ?2"
            ),
            params![needle, limit],
            |r| case_row(r, false),
        ),
        ServerDb::Postgres(c) => c
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {CASE_COLUMNS} FROM server_cases WHERE strpos(decision_json, $1) > 0 ORDER BY id DESC LIMIT $2"
                ),
                &[&needle, &limit],
            )?
            .iter()
            .map(|r| case_row(r, false))
            .collect(),
    }
}

/// The open case for this order id with this decision, if there is one (so that submitting
/// the same order again does not open a second case).
pub fn open_case_for(
    conn: &ServerDb,
    order_id: &str,
    decision_json: &str,
) -> DbResult<Option<i64>> {
    match conn {
        ServerDb::Sqlite(c) => Ok(c
            .prepare_cached(
                "SELECT id FROM server_cases WHERE order_id = ?1 AND status = 'open' AND decision_json = ?2 ORDER BY id LIMIT 1",
            )?
            .query_row(params![order_id, decision_json], |r| r.get(0))
            .optional()?),
        ServerDb::Postgres(c) => Ok(c
            .borrow_mut()
            .query_opt(
                "SELECT id FROM server_cases WHERE order_id = $1 AND status = 'open' AND decision_json = $2 ORDER BY id LIMIT 1",
                &[&order_id, &decision_json],
            )?
            .map(|r| r.get(0))),
    }
}

/// Resolve an open case; false when it was not open (someone else resolved it first).
pub fn resolve_case(
    conn: &ServerDb,
    id: i64,
    status: &str,
    by: &str,
    by_name: &str,
    at: &str,
    reason: &str,
) -> DbResult<bool> {
    let n = match conn {
        ServerDb::Sqlite(c) => c.execute(
            "UPDATE server_cases SET status = ?2, resolved_by = ?3, resolved_name = ?4, resolved_at = ?5,
                resolution_reason = ?6 WHERE id = ?1 AND status = 'open'",
            params![id, status, by, by_name, at, reason],
        )? as u64,
        ServerDb::Postgres(c) => c.borrow_mut().execute(
            "UPDATE server_cases SET status = $2, resolved_by = $3, resolved_name = $4, resolved_at = $5,
                resolution_reason = $6 WHERE id = $1 AND status = 'open'",
            &[&id, &status, &by, &by_name, &at, &reason],
        )?,
    };
    Ok(n == 1)
}

/// Store a clearance.
pub fn insert_allow(conn: &ServerDb, e: &AllowEntry, case_id: i64) -> DbResult<()> {
    let (expires, now) = (e.expires.to_string(), Utc::now().to_rfc3339());
    match conn {
        ServerDb::Sqlite(c) => {
            c.execute(
                "INSERT INTO server_allow (party_name, entry, reviewer, reason, expires, case_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![e.party_name, e.entry, e.reviewer, e.reason, expires, case_id, now],
            )?;
        }
        ServerDb::Postgres(c) => {
            c.borrow_mut().execute(
                "INSERT INTO server_allow (party_name, entry, reviewer, reason, expires, case_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&e.party_name, &e.entry, &e.reviewer, &e.reason, &expires, &case_id, &now],
            )?;
        }
    }
    Ok(())
}

fn allow_row(r: &dyn Col) -> DbResult<AllowEntry> {
    Ok(AllowEntry {
        party_name: r.text(0)?,
        entry: r.text(1)?,
        reviewer: r.text(2)?,
        reason: r.text(3)?,
        // An unreadable date clears nothing (fail closed).
        expires: r.text(4)?.parse::<NaiveDate>().unwrap_or(NaiveDate::MIN),
    })
}

/// Every stored clearance (expired ones included: the screener checks the date).
pub fn load_allow(conn: &ServerDb) -> DbResult<Vec<AllowEntry>> {
    const SQL: &str =
        "SELECT party_name, entry, reviewer, reason, expires FROM server_allow ORDER BY id";
    match conn {
        ServerDb::Sqlite(c) => sqlite_rows(c, SQL, [], |r| allow_row(r)),
        ServerDb::Postgres(c) => c
            .borrow_mut()
            .query(SQL, &[])?
            .iter()
            .map(|r| allow_row(r))
            .collect(),
    }
}

/// What changes whenever a clearance is added: (count, highest id). Servers poll it to reload
/// the allow-list that another server changed.
pub fn allow_version(conn: &ServerDb) -> DbResult<(i64, i64)> {
    const SQL: &str = "SELECT count(*), COALESCE(MAX(id), 0) FROM server_allow";
    match conn {
        ServerDb::Sqlite(c) => Ok(c.query_row(SQL, [], |r| Ok((r.get(0)?, r.get(1)?)))?),
        ServerDb::Postgres(c) => {
            let r = c.borrow_mut().query_one(
                "SELECT count(*)::BIGINT, COALESCE(MAX(id), 0)::BIGINT FROM server_allow",
                &[],
            )?;
            Ok((r.try_get(0)?, r.try_get(1)?))
        }
    }
}
