//! Party records (issue 16) over SQLite and PostgreSQL: a customer file per party, stored as
//! the record's JSON (exportgate-core validates it before it is written). Every write appends
//! an audit record (`{"event": "party_added" | "party_reviewed", "party": ...}`) to the
//! ledger's hash-chained audit log in the same transaction, so a record never changes without
//! its audit record, nor the other way round.

use exportgate_ledger::audit::{AuditRecord, KIND_DECISION};
use exportgate_ledger::store::Rows;
use exportgate_ledger::{StoreError, Timestamp};
use rusqlite::OptionalExtension;

use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;

/// One stored party record.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyRow {
    pub id: String,
    /// The record as written (JSON).
    pub record: serde_json::Value,
    pub updated_at: Timestamp,
    pub updated_by: String,
    /// The audit record of the last change.
    pub audit_seq: u64,
}

/// A party record to write, and what must hold first.
#[derive(Debug, Clone)]
pub struct PartyWrite<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub country: &'a str,
    /// `YYYY-MM-DD`.
    pub review_by: &'a str,
    pub record: &'a serde_json::Value,
    /// `party_added` (the id must be new) or `party_reviewed` (the record must exist).
    pub event: &'a str,
}

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartyConflict {
    #[error("party `{0}` already exists (use `review` to change it)")]
    Exists(String),
    #[error("party `{0}` not found")]
    Missing(String),
}

/// Where party records are kept.
pub trait PartyStore: Send {
    /// Writes records and appends each change to the audit log, all in one transaction (a
    /// conflict writes nothing); returns the last audit record's seq.
    fn put_parties(
        &mut self,
        writes: &[PartyWrite<'_>],
        actor: &str,
        at: Timestamp,
    ) -> Result<Result<u64, PartyConflict>, StoreError>;

    /// One record written with its audit record; returns the audit record's seq.
    fn put_party(
        &mut self,
        w: &PartyWrite<'_>,
        actor: &str,
        at: Timestamp,
    ) -> Result<Result<u64, PartyConflict>, StoreError> {
        self.put_parties(std::slice::from_ref(w), actor, at)
    }

    /// One record, or `None`.
    fn party(&mut self, id: &str) -> Result<Option<PartyRow>, StoreError>;

    /// Every record, by id.
    fn parties(&mut self) -> Result<Vec<PartyRow>, StoreError>;

    /// Every record's JSON text as stored, by id: for loading many records at once (the
    /// caller parses them straight into its own type, in parallel).
    fn party_texts(&mut self) -> Result<Vec<String>, StoreError>;

    /// The audit seq of the last change to any record (0 when there is none): every write
    /// raises it, so a reader that saw this value has seen every record written up to it. One
    /// index lookup.
    fn parties_version(&mut self) -> Result<u64, StoreError>;

    /// The records changed after audit seq `seq`, in the order they were written.
    fn parties_since(&mut self, seq: u64) -> Result<Vec<PartyRow>, StoreError>;
}

fn db(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// The party rows an SQLite query of [`COLUMNS`] returns, decoded.
fn sqlite_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<PartyRow>, StoreError> {
    let mut st = conn.prepare(sql).map_err(db)?;
    let rows = st
        .query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, rec, at, by, seq) = row.map_err(db)?;
        out.push(decode(id, &rec, at, by, seq)?);
    }
    Ok(out)
}

fn decode(id: String, record: &str, at: i64, by: String, seq: i64) -> Result<PartyRow, StoreError> {
    Ok(PartyRow {
        record: serde_json::from_str(record)
            .map_err(|e| StoreError::Corrupt(format!("party `{id}`: {e}")))?,
        id,
        updated_at: Timestamp::from_micros(at),
        updated_by: by,
        audit_seq: u64::try_from(seq).unwrap_or(0),
    })
}

fn audit_payload(w: &PartyWrite<'_>) -> String {
    serde_json::json!({ "event": w.event, "party": w.record }).to_string()
}

fn check(exists: bool, w: &PartyWrite<'_>) -> Result<(), PartyConflict> {
    match (w.event, exists) {
        ("party_added", true) => Err(PartyConflict::Exists(w.id.to_owned())),
        ("party_added", false) => Ok(()),
        (_, false) => Err(PartyConflict::Missing(w.id.to_owned())),
        _ => Ok(()),
    }
}

/// A conflict, carried out of the write transaction as an error so that it rolls back.
struct Conflict(PartyConflict);

const CONFLICT: &str = "party write conflict: ";

impl From<Conflict> for StoreError {
    fn from(c: Conflict) -> StoreError {
        let (kind, id) = match c.0 {
            PartyConflict::Exists(id) => ("exists", id),
            PartyConflict::Missing(id) => ("missing", id),
        };
        StoreError::Abandoned(format!("{CONFLICT}{kind} {id}"))
    }
}

/// The conflict again, once its transaction has rolled back.
fn rollback_on_conflict(
    out: Result<Result<u64, PartyConflict>, StoreError>,
) -> Result<Result<u64, PartyConflict>, StoreError> {
    match out {
        Err(StoreError::Abandoned(m)) if m.starts_with(CONFLICT) => {
            let rest = &m[CONFLICT.len()..];
            let (kind, id) = rest.split_once(' ').unwrap_or((rest, ""));
            Ok(Err(if kind == "exists" {
                PartyConflict::Exists(id.to_owned())
            } else {
                PartyConflict::Missing(id.to_owned())
            }))
        }
        other => other,
    }
}

const COLUMNS: &str = "id, record, updated_at, updated_by, audit_seq";

impl PartyStore for SqliteStore {
    fn put_parties(
        &mut self,
        writes: &[PartyWrite<'_>],
        actor: &str,
        at: Timestamp,
    ) -> Result<Result<u64, PartyConflict>, StoreError> {
        let out = self.write(|rows| {
            let mut last = 0;
            for w in writes {
                let exists: bool = rows
                    .conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM parties WHERE id = ?1)",
                        [w.id],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                if let Err(c) = check(exists, w) {
                    return Err(Conflict(c).into());
                }
                let (seq, hash) = rows.audit_head()?;
                rows.append_audit(&[AuditRecord::next(
                    seq,
                    &hash,
                    at,
                    actor,
                    KIND_DECISION,
                    audit_payload(w),
                )])?;
                rows.conn
                    .execute(
                        "INSERT INTO parties (id, name, country, review_by, record, updated_at, \
                     updated_by, audit_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     country = excluded.country, review_by = excluded.review_by, \
                     record = excluded.record, updated_at = excluded.updated_at, \
                     updated_by = excluded.updated_by, audit_seq = excluded.audit_seq",
                        rusqlite::params![
                            w.id,
                            w.name,
                            w.country,
                            w.review_by,
                            w.record.to_string(),
                            at.micros(),
                            actor,
                            (seq + 1) as i64
                        ],
                    )
                    .map_err(db)?;
                last = seq + 1;
            }
            Ok(Ok(last))
        });
        rollback_on_conflict(out)
    }

    fn party(&mut self, id: &str) -> Result<Option<PartyRow>, StoreError> {
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM parties WHERE id = ?1"),
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(db)?
            .map(|(id, rec, at, by, seq)| decode(id, &rec, at, by, seq))
            .transpose()
        })
    }

    fn parties(&mut self) -> Result<Vec<PartyRow>, StoreError> {
        self.read(|conn| {
            sqlite_rows(
                conn,
                &format!("SELECT {COLUMNS} FROM parties ORDER BY id"),
                [],
            )
        })
    }

    fn party_texts(&mut self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut st = conn
                .prepare("SELECT record FROM parties ORDER BY id")
                .map_err(db)?;
            let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
            rows.map(|r| r.map_err(db)).collect()
        })
    }

    fn parties_version(&mut self) -> Result<u64, StoreError> {
        self.read(|conn| {
            conn.query_row("SELECT COALESCE(MAX(audit_seq), 0) FROM parties", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|v| u64::try_from(v).unwrap_or(0))
            .map_err(db)
        })
    }

    fn parties_since(&mut self, seq: u64) -> Result<Vec<PartyRow>, StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.read(|conn| {
            sqlite_rows(
                conn,
                &format!("SELECT {COLUMNS} FROM parties WHERE audit_seq > ?1 ORDER BY audit_seq"),
                [seq],
            )
        })
    }
}

impl PartyStore for PostgresStore {
    fn put_parties(
        &mut self,
        writes: &[PartyWrite<'_>],
        actor: &str,
        at: Timestamp,
    ) -> Result<Result<u64, PartyConflict>, StoreError> {
        let out = self.write(|rows| {
            let mut last = 0;
            for w in writes {
                let exists = rows
                    .tx
                    .query_opt("SELECT 1 FROM parties WHERE id = $1 FOR UPDATE", &[&w.id])
                    .map_err(db)?
                    .is_some();
                if let Err(c) = check(exists, w) {
                    return Err(Conflict(c).into());
                }
                let (seq, hash) = rows.audit_head()?;
                rows.append_audit(&[AuditRecord::next(
                    seq,
                    &hash,
                    at,
                    actor,
                    KIND_DECISION,
                    audit_payload(w),
                )])?;
                rows.tx
                    .execute(
                        "INSERT INTO parties (id, name, country, review_by, record, updated_at, \
                     updated_by, audit_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     country = excluded.country, review_by = excluded.review_by, \
                     record = excluded.record, updated_at = excluded.updated_at, \
                     updated_by = excluded.updated_by, audit_seq = excluded.audit_seq",
                        &[
                            &w.id,
                            &w.name,
                            &w.country,
                            &w.review_by,
                            &w.record.to_string(),
                            &at.micros(),
                            &actor,
                            &((seq + 1) as i64),
                        ],
                    )
                    .map_err(db)?;
                last = seq + 1;
            }
            Ok(Ok(last))
        });
        rollback_on_conflict(out)
    }

    fn party(&mut self, id: &str) -> Result<Option<PartyRow>, StoreError> {
        self.read(|tx| {
            tx.query_opt(
                &format!("SELECT {COLUMNS} FROM parties WHERE id = $1"),
                &[&id],
            )
            .map_err(db)?
            .map(|r| decode(r.get(0), r.get::<_, &str>(1), r.get(2), r.get(3), r.get(4)))
            .transpose()
        })
    }

    fn parties(&mut self) -> Result<Vec<PartyRow>, StoreError> {
        self.read(|tx| {
            tx.query(&format!("SELECT {COLUMNS} FROM parties ORDER BY id"), &[])
                .map_err(db)?
                .iter()
                .map(|r| decode(r.get(0), r.get::<_, &str>(1), r.get(2), r.get(3), r.get(4)))
                .collect()
        })
    }

    fn party_texts(&mut self) -> Result<Vec<String>, StoreError> {
        self.read(|tx| {
            Ok(tx
                .query("SELECT record FROM parties ORDER BY id", &[])
                .map_err(db)?
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect())
        })
    }

    fn parties_version(&mut self) -> Result<u64, StoreError> {
        self.read(|tx| {
            let v: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(audit_seq), 0)::BIGINT FROM parties",
                    &[],
                )
                .map_err(db)?
                .get(0);
            Ok(u64::try_from(v).unwrap_or(0))
        })
    }

    fn parties_since(&mut self, seq: u64) -> Result<Vec<PartyRow>, StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.read(|tx| {
            tx.query(
                &format!("SELECT {COLUMNS} FROM parties WHERE audit_seq > $1 ORDER BY audit_seq"),
                &[&seq],
            )
            .map_err(db)?
            .iter()
            .map(|r| decode(r.get(0), r.get::<_, &str>(1), r.get(2), r.get(3), r.get(4)))
            .collect()
        })
    }
}
