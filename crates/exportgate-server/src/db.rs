//! The server's own tables, in the same SQLite file as the ledger and the lists: users (the
//! persons keys belong to), API keys (stored as SHA-256 hashes only), review cases, and
//! allow-list clearances. Tables are prefixed `server_` and created if missing; older
//! databases are migrated when opened (see [`migrate`]).

use std::path::Path;

use chrono::{NaiveDate, Utc};
use exportgate_screen::AllowEntry;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Role;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS server_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS server_cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_name TEXT NOT NULL,
    order_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    why TEXT NOT NULL,
    order_json TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    trace_json TEXT NOT NULL,
    screening_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    resolved_by TEXT,
    resolved_name TEXT,
    resolved_at TEXT,
    resolution_reason TEXT,
    audit_seq INTEGER
);
CREATE INDEX IF NOT EXISTS server_cases_status ON server_cases (status, id);
CREATE INDEX IF NOT EXISTS server_cases_order ON server_cases (order_id, status);
CREATE TABLE IF NOT EXISTS server_allow (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    party_name TEXT NOT NULL,
    entry TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires TEXT NOT NULL,
    case_id INTEGER,
    created_at TEXT NOT NULL
);
";

/// Open the file and create the tables.
/// A missing file is created 0600 in a 0700 directory first (see
/// [`exportgate_store::sqlite::prepare_private_file`]); if that fails, opening it fails too.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let _ = exportgate_store::sqlite::prepare_private_file(path);
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(SCHEMA)?;
    migrate(&conn)?;
    Ok(conn)
}

fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut st = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = st.query_map([], |r| r.get::<_, String>(1))?;
    for n in names {
        if n? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Bring an older database up to date, in one transaction: every key gets a user
/// (`server_keys.user_id`; existing keys join the user named like them, created if missing)
/// and every case the user who submitted it (`server_cases.submitted_user`, from its key's
/// user where that key is still stored; otherwise left empty, and the four-eyes rule falls
/// back to comparing names). Running it again changes nothing.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    // Immediate: two processes opening an old file at once migrate it one after the other.
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    if !has_column(&tx, "server_keys", "user_id")? {
        tx.execute_batch(
            "ALTER TABLE server_keys ADD COLUMN user_id INTEGER REFERENCES server_users (id)",
        )?;
    }
    if !has_column(&tx, "server_cases", "submitted_user")? {
        tx.execute_batch(
            "ALTER TABLE server_cases ADD COLUMN submitted_user INTEGER REFERENCES server_users (id)",
        )?;
    }
    let orphans: Vec<(String, String)> = {
        let mut st = tx.prepare("SELECT id, name FROM server_keys WHERE user_id IS NULL")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (id, name) in orphans {
        let user = ensure_user(&tx, &name)?;
        tx.execute(
            "UPDATE server_keys SET user_id = ?2 WHERE id = ?1",
            params![id, user.id],
        )?;
    }
    tx.execute_batch(
        "UPDATE server_cases SET submitted_user =
            (SELECT user_id FROM server_keys WHERE server_keys.id = server_cases.submitted_by)
         WHERE submitted_user IS NULL",
    )?;
    tx.commit()
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

/// The user with this name (compared by [`user_name_key`]), created if there is none.
pub fn ensure_user(conn: &Connection, name: &str) -> rusqlite::Result<User> {
    let display = user_name(name);
    let key = user_name_key(name);
    conn.execute(
        "INSERT INTO server_users (name, name_key, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name_key) DO NOTHING",
        params![display, key, Utc::now().to_rfc3339()],
    )?;
    conn.query_row(
        "SELECT id, name, created_at FROM server_users WHERE name_key = ?1",
        [key],
        |r| {
            Ok(User {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
            })
        },
    )
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
}

fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Create a key: returns the record and the key itself (shown once, never stored).
/// The key belongs to the user named `name` (compared case-insensitively, spaces collapsed),
/// created if there is none: whoever may create keys can therefore act as any person.
pub fn create_key(
    conn: &Connection,
    name: &str,
    role: Role,
) -> Result<(KeyRecord, String), String> {
    if user_name(name).is_empty() {
        return Err("a key needs a name (the person or system holding it)".into());
    }
    let id = random_hex(6)?;
    let key = format!("eg_{}", random_hex(32)?);
    let created_at = Utc::now().to_rfc3339();
    let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
    let user = ensure_user(&tx, name).map_err(|e| e.to_string())?;
    tx.execute(
        "INSERT INTO server_keys (id, name, role, key_sha256, created_at, user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, name, role.as_str(), key_hash(&key), created_at, user.id],
    )
    .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok((
        KeyRecord {
            id,
            name: name.to_string(),
            user_id: user.id,
            user: user.name,
            role,
            created_at,
            revoked_at: None,
        },
        key,
    ))
}

const KEY_COLUMNS: &str = "k.id, k.name, k.role, k.created_at, k.revoked_at, u.id, u.name
    FROM server_keys k JOIN server_users u ON u.id = k.user_id";

fn key_row(r: &rusqlite::Row) -> rusqlite::Result<KeyRecord> {
    let role: String = r.get(2)?;
    Ok(KeyRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Submitter),
        created_at: r.get(3)?,
        revoked_at: r.get(4)?,
        user_id: r.get(5)?,
        user: r.get(6)?,
    })
}

/// The unrevoked key with this hash (a key without a user is not found: fail closed).
pub fn find_key(conn: &Connection, hash: &str) -> rusqlite::Result<Option<KeyRecord>> {
    conn.query_row(
        &format!("SELECT {KEY_COLUMNS} WHERE k.key_sha256 = ?1 AND k.revoked_at IS NULL"),
        [hash],
        key_row,
    )
    .optional()
}

/// Every key, newest first.
pub fn list_keys(conn: &Connection) -> rusqlite::Result<Vec<KeyRecord>> {
    let mut st = conn.prepare(&format!(
        "SELECT {KEY_COLUMNS} ORDER BY k.created_at DESC, k.rowid DESC"
    ))?;
    let rows = st.query_map([], key_row)?;
    rows.collect()
}

/// Revoke a key; false if there is no such unrevoked key.
pub fn revoke_key(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE server_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, Utc::now().to_rfc3339()],
    )?;
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
pub fn insert_case(conn: &Connection, c: &NewCase) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO server_cases (created_at, submitted_by, submitted_name, order_id, outcome, why,
            order_json, decision_json, trace_json, screening_json, audit_seq, submitted_user)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            Utc::now().to_rfc3339(),
            c.submitted_by,
            c.submitted_name,
            c.order_id,
            c.outcome,
            serde_json::to_string(c.why).unwrap_or_default(),
            c.order.to_string(),
            c.decision.to_string(),
            c.trace.to_string(),
            c.screening.to_string(),
            c.audit_seq as i64,
            c.submitted_user,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

const CASE_COLUMNS: &str = "id, created_at, submitted_by, submitted_name, order_id, outcome, why,
    status, resolved_by, resolved_name, resolved_at, resolution_reason,
    order_json, decision_json, trace_json, screening_json, audit_seq, submitted_user";

fn json_col(r: &rusqlite::Row, i: usize) -> rusqlite::Result<serde_json::Value> {
    let s: String = r.get(i)?;
    Ok(serde_json::from_str(&s).unwrap_or(serde_json::Value::Null))
}

fn case_row(r: &rusqlite::Row, full: bool) -> rusqlite::Result<Case> {
    let why: String = r.get(6)?;
    Ok(Case {
        id: r.get(0)?,
        created_at: r.get(1)?,
        submitted_by: r.get(2)?,
        submitted_name: r.get(3)?,
        order_id: r.get(4)?,
        outcome: r.get(5)?,
        why: serde_json::from_str(&why).unwrap_or_default(),
        status: r.get(7)?,
        resolved_by: r.get(8)?,
        resolved_name: r.get(9)?,
        resolved_at: r.get(10)?,
        resolution_reason: r.get(11)?,
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
        audit_seq: r.get(16)?,
        submitted_user: r.get(17)?,
    })
}

/// One case with everything it holds.
pub fn get_case(conn: &Connection, id: i64) -> rusqlite::Result<Option<Case>> {
    conn.query_row(
        &format!("SELECT {CASE_COLUMNS} FROM server_cases WHERE id = ?1"),
        [id],
        |r| case_row(r, true),
    )
    .optional()
}

/// Cases (without trace and screening), oldest first, optionally by status.
/// Up to `limit` cases with ids above `after`, oldest first.
pub fn list_cases(
    conn: &Connection,
    status: Option<&str>,
    after: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Case>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM server_cases WHERE (?1 IS NULL OR status = ?1) AND id > ?3 ORDER BY id LIMIT ?2"
    ))?;
    let rows = st.query_map(params![status, limit as i64, after], |r| case_row(r, false))?;
    rows.collect()
}

/// The open case for this order id with this decision, if there is one (so that submitting
/// the same order again does not open a second case).
pub fn open_case_for(
    conn: &Connection,
    order_id: &str,
    decision_json: &str,
) -> rusqlite::Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(
        "SELECT id FROM server_cases WHERE order_id = ?1 AND status = 'open' AND decision_json = ?2 ORDER BY id LIMIT 1",
    )?
    .query_row(params![order_id, decision_json], |r| r.get(0))
    .optional()
}

/// Resolve an open case; false when it was not open (someone else resolved it first).
pub fn resolve_case(
    conn: &Connection,
    id: i64,
    status: &str,
    by: &str,
    by_name: &str,
    at: &str,
    reason: &str,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE server_cases SET status = ?2, resolved_by = ?3, resolved_name = ?4, resolved_at = ?5,
            resolution_reason = ?6 WHERE id = ?1 AND status = 'open'",
        params![id, status, by, by_name, at, reason],
    )?;
    Ok(n == 1)
}

/// Store a clearance.
pub fn insert_allow(conn: &Connection, e: &AllowEntry, case_id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO server_allow (party_name, entry, reviewer, reason, expires, case_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            e.party_name,
            e.entry,
            e.reviewer,
            e.reason,
            e.expires.to_string(),
            case_id,
            Utc::now().to_rfc3339()
        ],
    )?;
    Ok(())
}

/// Every stored clearance (expired ones included: the screener checks the date).
pub fn load_allow(conn: &Connection) -> rusqlite::Result<Vec<AllowEntry>> {
    let mut st = conn.prepare(
        "SELECT party_name, entry, reviewer, reason, expires FROM server_allow ORDER BY id",
    )?;
    let rows = st.query_map([], |r| {
        let expires: String = r.get(4)?;
        Ok(AllowEntry {
            party_name: r.get(0)?,
            entry: r.get(1)?,
            reviewer: r.get(2)?,
            reason: r.get(3)?,
            expires: expires.parse::<NaiveDate>().unwrap_or(NaiveDate::MIN),
        })
    })?;
    rows.collect()
}
