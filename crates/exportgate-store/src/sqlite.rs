//! [`SqliteStore`]: the embedded default backend.
//!
//! Durability and concurrency choices:
//! - `journal_mode=WAL` so readers never block the writer.
//! - `synchronous=FULL`: in WAL mode this fsyncs the WAL at every commit, so an acknowledged
//!   commit survives power loss, not just a process crash. (`NORMAL` would only fsync at
//!   checkpoints: safe against SIGKILL but may lose the last commits on power loss, which a
//!   compliance ledger must not.) Group commit ([`crate::Batcher`]) pays for the fsync.
//! - Every write starts with `BEGIN IMMEDIATE`, which takes the database's write lock before
//!   reading anything, so concurrent processes serialise and a limit check can never act on a
//!   stale balance. `busy_timeout` makes waiting writers retry for up to 60 s.

use crate::codec::{self, corrupt};
use exportgate_ledger::audit::{
    AuditBase, AuditBreak, AuditRecord, AuditSummary, ChainVerifier, KIND_AUDIT_PRUNED,
    KIND_DECISION, KIND_LICENCE_ADDED,
};
use exportgate_ledger::engine::{Changes, Ensured, Outcome};
use exportgate_ledger::store::{
    check_balances, run_batch, run_ensure, run_set_status, run_ship_group, Rows, ShipPlan,
};
use exportgate_ledger::{
    Account, AccountId, AccountSpec, AccountStatus, Balance, Key, LedgerStore, Licence,
    LicenceView, Reply, Request, StoreError, Timestamp, Transfer,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// Creates a directory (and any missing parents) readable by its owner only (0700 on Unix).
/// Directories that already exist are left as they are.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Prepares the path of an SQLite database: a missing parent directory is created 0700 and a
/// missing database file is created empty, 0600, so SQLite never creates it world-readable.
/// SQLite creates the `-wal`, `-shm` and `-journal` files with the mode of the database file,
/// so they are 0600 too. An existing file keeps its mode.
pub fn prepare_private_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            create_private_dir(dir)?;
        }
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// A ledger in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

const ACCOUNT_COLUMNS: &str =
    "spec, status, posted_units, posted_value, posted_tpp, pending_units, pending_value, pending_tpp";
const TRANSFER_COLUMNS: &str = "key, accounts, units, value, tpp, state, reserved_at, resolved_at";
const AUDIT_COLUMNS: &str = "seq, at, actor, kind, payload, prev_hash, hash";

fn account_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, [i64; 3], [i64; 3])> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        [row.get(2)?, row.get(3)?, row.get(4)?],
        [row.get(5)?, row.get(6)?, row.get(7)?],
    ))
}

type TransferRow = (String, String, i64, i64, i64, String, i64, Option<i64>);

fn transfer_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TransferRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

fn decode_transfer(r: TransferRow) -> Result<Transfer, StoreError> {
    codec::transfer(r.0, &r.1, r.2, r.3, r.4, &r.5, r.6, r.7)
}

fn audit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    let seq: i64 = row.get(0)?;
    Ok(AuditRecord {
        seq: seq as u64,
        at: Timestamp::from_micros(row.get(1)?),
        actor: row.get(2)?,
        kind: row.get(3)?,
        payload: row.get(4)?,
        prev_hash: row.get(5)?,
        hash: row.get(6)?,
    })
}

impl SqliteStore {
    /// Opens or creates the ledger file at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        prepare_private_file(path).map_err(|e| {
            StoreError::Database(format!("cannot create `{}`: {e}", path.display()))
        })?;
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        let mut store = SqliteStore {
            conn,
            path: path.to_owned(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        crate::migrate::sqlite(&mut self.conn).map(|_| ())
    }

    /// The underlying connection, for tools and tamper tests that must bypass the ledger.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction; commits on `Ok`, rolls back on `Err`.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&mut SqliteRows<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let out = f(&mut SqliteRows { conn: &tx })?;
        tx.commit().map_err(db)?;
        Ok(out)
    }

    /// Runs `f` in a read transaction (one consistent snapshot).
    pub(crate) fn read<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(db)?;
        let out = f(&tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

fn load_account(conn: &Connection, id: &AccountId) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1");
    let row = conn
        .prepare_cached(&sql)
        .map_err(db)?
        .query_row([id.as_str()], account_row)
        .optional()
        .map_err(db)?;
    row.map(|(spec, status, posted, pending)| codec::account(&spec, &status, posted, pending))
        .transpose()
}

fn load_transfer(conn: &Connection, key: &Key) -> Result<Option<Transfer>, StoreError> {
    let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE key = ?1");
    let row = conn
        .prepare_cached(&sql)
        .map_err(db)?
        .query_row([key.as_str()], transfer_row)
        .optional()
        .map_err(db)?;
    row.map(decode_transfer).transpose()
}

fn load_outcome(conn: &Connection, key: &Key) -> Result<Option<Outcome>, StoreError> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT fingerprint, reply FROM outcomes WHERE key = ?1")
        .map_err(db)?
        .query_row([key.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    row.map(|(fingerprint, reply)| codec::outcome(fingerprint, &reply))
        .transpose()
}

/// What is wrong when the audit log's tables or head row are gone.
pub(crate) const HEAD_MISSING: &str = "the audit log's head row (table `audit_head`, id 1) is missing: the audit log was deleted or truncated outside exportgate; restore the database from a backup";

fn audit_head(conn: &Connection) -> Result<(u64, String), StoreError> {
    let (seq, hash): (i64, String) = conn
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => corrupt(HEAD_MISSING),
            other => missing_table(other),
        })?;
    Ok((seq as u64, hash))
}

/// The stored chain base, if a prefix of the log was pruned.
fn audit_base(conn: &Connection) -> Result<Option<AuditBase>, StoreError> {
    conn.query_row(
        "SELECT seq, hash, checkpoint FROM audit_base WHERE id = 1",
        [],
        |r| {
            Ok(AuditBase {
                seq: r.get::<_, i64>(0)? as u64,
                hash: r.get(1)?,
                checkpoint: r.get(2)?,
            })
        },
    )
    .optional()
    .map_err(missing_table)
}

/// A missing ledger table, named as such.
fn missing_table(e: rusqlite::Error) -> StoreError {
    let text = e.to_string();
    match text.strip_prefix("no such table: ") {
        Some(table) => corrupt(format!(
            "the ledger's table `{table}` is missing: it was dropped outside exportgate; restore the database from a backup"
        )),
        None => db(e),
    }
}

pub(crate) struct SqliteRows<'a> {
    pub(crate) conn: &'a Connection,
}

impl Rows for SqliteRows<'_> {
    fn load_outcomes(&mut self, keys: &[&Key]) -> Result<Vec<(Key, Outcome)>, StoreError> {
        let mut out = Vec::new();
        for key in keys {
            if let Some(outcome) = load_outcome(self.conn, key)? {
                out.push(((*key).clone(), outcome));
            }
        }
        Ok(out)
    }

    fn load_transfers(&mut self, keys: &[&Key]) -> Result<Vec<Transfer>, StoreError> {
        keys.iter()
            .filter_map(|k| load_transfer(self.conn, k).transpose())
            .collect()
    }

    fn load_accounts(&mut self, ids: &[&AccountId]) -> Result<Vec<Account>, StoreError> {
        ids.iter()
            .filter_map(|id| load_account(self.conn, id).transpose())
            .collect()
    }

    fn write_changes(&mut self, changes: &Changes) -> Result<(), StoreError> {
        let mut upsert_account = self
            .conn
            .prepare_cached(
                "INSERT INTO accounts (id, spec, status, limit_units, limit_value, limit_tpp, posted_units, posted_value, posted_tpp, \
                 pending_units, pending_value, pending_tpp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, posted_units = excluded.posted_units, \
                 posted_value = excluded.posted_value, posted_tpp = excluded.posted_tpp, pending_units = excluded.pending_units, \
                 pending_value = excluded.pending_value, pending_tpp = excluded.pending_tpp",
            )
            .map_err(db)?;
        for a in &changes.accounts {
            let (l, p, q) = (&a.spec.limits, &a.posted, &a.pending);
            upsert_account
                .execute(params![
                    a.spec.id.as_str(),
                    codec::spec_json(&a.spec),
                    a.status.name(),
                    codec::limit(l.units),
                    codec::limit(l.value),
                    codec::limit(l.tpp),
                    codec::to_i64(p.units),
                    codec::to_i64(p.value),
                    codec::to_i64(p.tpp),
                    codec::to_i64(q.units),
                    codec::to_i64(q.value),
                    codec::to_i64(q.tpp),
                ])
                .map_err(db)?;
        }
        let mut upsert_transfer = self
            .conn
            .prepare_cached(
                "INSERT INTO transfers (key, accounts, units, value, tpp, state, reserved_at, resolved_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (key) DO UPDATE SET state = excluded.state, resolved_at = excluded.resolved_at",
            )
            .map_err(db)?;
        let mut link = self
            .conn
            .prepare_cached("INSERT INTO transfer_accounts (account_id, key) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
            .map_err(db)?;
        for t in &changes.transfers {
            upsert_transfer
                .execute(params![
                    t.key.as_str(),
                    codec::accounts_json(&t.accounts),
                    codec::to_i64(t.amounts.units),
                    codec::to_i64(t.amounts.value),
                    codec::to_i64(t.amounts.tpp),
                    t.state.name(),
                    t.reserved_at.micros(),
                    t.resolved_at.map(Timestamp::micros),
                ])
                .map_err(db)?;
            for account in &t.accounts {
                link.execute(params![account.as_str(), t.key.as_str()])
                    .map_err(db)?;
            }
        }
        let mut insert_outcome = self
            .conn
            .prepare_cached("INSERT INTO outcomes (key, fingerprint, reply) VALUES (?1, ?2, ?3)")
            .map_err(db)?;
        for (key, outcome) in &changes.outcomes {
            insert_outcome
                .execute(params![
                    key.as_str(),
                    outcome.fingerprint,
                    codec::reply_json(&outcome.reply)
                ])
                .map_err(db)?;
        }
        Ok(())
    }

    fn audit_head(&mut self) -> Result<(u64, String), StoreError> {
        audit_head(self.conn)
    }

    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        let Some(last) = records.last() else {
            return Ok(());
        };
        let mut insert = self
            .conn
            .prepare_cached(&format!(
                "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))
            .map_err(db)?;
        for r in records {
            insert
                .execute(params![
                    r.seq as i64,
                    r.at.micros(),
                    r.actor,
                    r.kind,
                    r.payload,
                    r.prev_hash,
                    r.hash
                ])
                .map_err(db)?;
        }
        self.conn
            .prepare_cached("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1")
            .map_err(db)?
            .execute(params![last.seq as i64, last.hash])
            .map_err(db)?;
        Ok(())
    }
}

fn licence_exists(conn: &Connection, number: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM licences WHERE number = ?1)",
        [number],
        |r| r.get(0),
    )
    .map_err(db)
}

impl LedgerStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn ensure_account(
        &mut self,
        spec: &AccountSpec,
        actor: &str,
        at: Timestamp,
    ) -> Result<Ensured, StoreError> {
        self.write(|rows| run_ensure(rows, spec, actor, at))
    }

    fn set_account_status(
        &mut self,
        account: &AccountId,
        status: AccountStatus,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(|rows| run_set_status(rows, account, status, actor, at))
    }

    fn submit(&mut self, actor: &str, requests: &[Request]) -> Result<Vec<Reply>, StoreError> {
        self.write(|rows| run_batch(rows, actor, requests))
    }

    fn ship_group(&mut self, actor: &str, plan: &mut dyn ShipPlan) -> Result<(), StoreError> {
        self.write(|rows| run_ship_group(rows, actor, plan))
    }

    fn balance(&mut self, account: &AccountId) -> Result<Option<Balance>, StoreError> {
        Ok(load_account(&self.conn, account)?.map(|a| a.balance()))
    }

    fn transfer(&mut self, key: &Key) -> Result<Option<Transfer>, StoreError> {
        load_transfer(&self.conn, key)
    }

    fn recorded_reply(&mut self, key: &Key) -> Result<Option<Reply>, StoreError> {
        Ok(load_outcome(&self.conn, key)?.map(|o| o.reply))
    }

    fn add_licence(
        &mut self,
        licence: &Licence,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let spec = licence.account_spec();
        spec.validate()
            .map_err(exportgate_ledger::EnsureError::from)?;
        self.write(|rows| {
            if licence_exists(rows.conn, &licence.number)?
                || load_account(rows.conn, &spec.id)?.is_some()
            {
                return Err(StoreError::DuplicateLicence(licence.number.clone()));
            }
            let (seq, hash) = rows.audit_head()?;
            let payload = licence.to_json().to_string();
            rows.append_audit(&[AuditRecord::next(
                seq,
                &hash,
                at,
                actor,
                KIND_LICENCE_ADDED,
                payload,
            )])?;
            run_ensure(rows, &spec, actor, at)?;
            if licence.status != AccountStatus::Active {
                run_set_status(rows, &spec.id, licence.status, actor, at)?;
            }
            rows.conn
                .execute(
                    "INSERT INTO licences (number, licence, account_id) VALUES (?1, ?2, ?3)",
                    params![
                        licence.number,
                        licence.to_json().to_string(),
                        spec.id.as_str()
                    ],
                )
                .map_err(db)?;
            Ok(())
        })
    }

    fn veus(&mut self) -> Result<Vec<exportgate_ledger::Veu>, StoreError> {
        // The `veu:<id>` accounts (ids with no second `:`), decoded as every account is.
        self.read(|conn| {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id >= 'veu:' AND id < 'veu;' \
                 AND instr(substr(id, 5), ':') = 0 ORDER BY id"
            );
            let mut statement = conn.prepare(&sql).map_err(db)?;
            let rows = statement.query_map([], account_row).map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                let (spec, status, posted, pending) = row.map_err(db)?;
                let account = codec::account(&spec, &status, posted, pending)?;
                if let exportgate_ledger::AccountKind::Veu { record } = account.spec.kind {
                    out.push(*record);
                }
            }
            Ok(out)
        })
    }

    fn list_licences(&mut self) -> Result<Vec<Licence>, StoreError> {
        self.read(|conn| {
            let mut statement = conn
                .prepare("SELECT l.licence, a.status FROM licences l JOIN accounts a ON a.id = l.account_id ORDER BY l.number")
                .map_err(db)?;
            let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(db)?;
            rows.map(|row| {
                let (json, status) = row.map_err(db)?;
                decode_licence(&json, &status)
            })
            .collect()
        })
    }

    fn licence(&mut self, number: &str) -> Result<Option<LicenceView>, StoreError> {
        self.read(|conn| {
            let row: Option<(String, String)> = conn
                .query_row(
                    "SELECT l.licence, l.account_id FROM licences l WHERE l.number = ?1",
                    [number],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db)?;
            let Some((json, account_id)) = row else { return Ok(None) };
            let id = AccountId::new(account_id).map_err(corrupt)?;
            let account = load_account(conn, &id)?.ok_or_else(|| corrupt(format!("licence `{number}` has no account")))?;
            let licence = decode_licence(&json, account.status.name())?;
            let sql = format!(
                "SELECT {} FROM transfer_accounts ta JOIN transfers t ON t.key = ta.key WHERE ta.account_id = ?1 \
                 ORDER BY t.reserved_at, t.key",
                TRANSFER_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ")
            );
            let mut statement = conn.prepare(&sql).map_err(db)?;
            let history = statement
                .query_map([id.as_str()], transfer_row)
                .map_err(db)?
                .map(|r| decode_transfer(r.map_err(db)?))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(LicenceView { licence, balance: account.balance(), history }))
        })
    }

    fn account_history(
        &mut self,
        account: &AccountId,
    ) -> Result<Option<(Balance, Vec<Transfer>)>, StoreError> {
        self.read(|conn| {
            let Some(a) = load_account(conn, account)? else { return Ok(None) };
            let sql = format!(
                "SELECT {} FROM transfer_accounts ta JOIN transfers t ON t.key = ta.key WHERE ta.account_id = ?1 \
                 ORDER BY t.reserved_at, t.key",
                TRANSFER_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ")
            );
            let mut statement = conn.prepare(&sql).map_err(db)?;
            let history = statement
                .query_map([account.as_str()], transfer_row)
                .map_err(db)?
                .map(|r| decode_transfer(r.map_err(db)?))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some((a.balance(), history)))
        })
    }

    fn append_decision(
        &mut self,
        actor: &str,
        at: Timestamp,
        decision: &serde_json::Value,
    ) -> Result<u64, StoreError> {
        self.write(|rows| {
            let (seq, hash) = rows.audit_head()?;
            rows.append_audit(&[AuditRecord::next(
                seq,
                &hash,
                at,
                actor,
                KIND_DECISION,
                decision.to_string(),
            )])?;
            Ok(seq + 1)
        })
    }

    fn audit_records(
        &mut self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2");
        let mut statement = self.conn.prepare_cached(&sql).map_err(db)?;
        let rows = statement
            // Past i64::MAX there is nothing (a cast would wrap to -1: the whole log).
            .query_map(
                params![i64::try_from(after_seq).unwrap_or(i64::MAX), limit],
                audit_row,
            )
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn audit_base(&mut self) -> Result<Option<AuditBase>, StoreError> {
        audit_base(&self.conn)
    }

    fn prune_audit(
        &mut self,
        plan: &exportgate_ledger::PrunePlan,
        actor: &str,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.write(|rows| {
            let head = rows.audit_head()?;
            let old = audit_base(rows.conn)?.map_or(0, |b| b.seq);
            if head != plan.head || old != plan.old_base_seq {
                return Err(StoreError::Database(
                    "the audit log changed since the prune was planned; nothing removed, run it again".into(),
                ));
            }
            let base = &plan.base;
            // The base first: the delete trigger lets only records up to it go.
            rows.conn
                .execute(
                    "INSERT INTO audit_base (id, seq, hash, checkpoint) VALUES (1, ?1, ?2, ?3) \
                     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, checkpoint = excluded.checkpoint",
                    params![base.seq as i64, base.hash, base.checkpoint],
                )
                .map_err(db)?;
            let removed = rows
                .conn
                .execute("DELETE FROM audit_log WHERE seq <= ?1", [base.seq as i64])
                .map_err(db)?;
            let expected = plan.removed.1 - plan.removed.0 + 1;
            if removed as u64 != expected {
                return Err(StoreError::Database(format!(
                    "the prune would remove {removed} records where {expected} were planned; nothing removed"
                )));
            }
            let record = AuditRecord::next(
                head.0,
                &head.1,
                at,
                actor,
                KIND_AUDIT_PRUNED,
                plan.payload.clone(),
            );
            let seq = record.seq;
            rows.append_audit(&[record])?;
            Ok(seq)
        })
    }

    fn verify_audit(&mut self) -> Result<Result<AuditSummary, AuditBreak>, StoreError> {
        self.read(|conn| {
            let mut verifier = ChainVerifier::from_base(audit_base(conn)?.as_ref());
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"
                ))
                .map_err(missing_table)?;
            for record in statement.query_map([], audit_row).map_err(db)? {
                if let Err(broken) = verifier.push(&record.map_err(db)?) {
                    return Ok(Err(broken));
                }
            }
            Ok(verifier.finish(Some(audit_head(conn)?)))
        })
    }

    fn ledger_rows(
        &mut self,
    ) -> Result<(Vec<AuditRecord>, exportgate_ledger::LedgerRows), StoreError> {
        self.read(|conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"
                ))
                .map_err(missing_table)?;
            let records = statement
                .query_map([], audit_row)
                .map_err(db)?
                .map(|r| r.map_err(db))
                .collect::<Result<Vec<_>, _>>()?;
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id"
                ))
                .map_err(db)?;
            let accounts = statement
                .query_map([], account_row)
                .map_err(db)?
                .map(|r| {
                    let (spec, status, posted, pending) = r.map_err(db)?;
                    codec::account_unchecked(&spec, &status, posted, pending)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {TRANSFER_COLUMNS} FROM transfers ORDER BY key"
                ))
                .map_err(db)?;
            let transfers = statement
                .query_map([], transfer_row)
                .map_err(db)?
                .map(|r| decode_transfer(r.map_err(db)?))
                .collect::<Result<Vec<_>, _>>()?;
            let mut statement = conn
                .prepare("SELECT number, licence FROM licences ORDER BY number")
                .map_err(db)?;
            let licences = statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db)?
                .map(|r| r.map_err(db))
                .collect::<Result<Vec<_>, _>>()?;
            let base = audit_base(conn)?;
            Ok((
                records,
                exportgate_ledger::LedgerRows {
                    accounts,
                    transfers,
                    licences,
                    base,
                },
            ))
        })
    }

    fn check_invariants(&mut self) -> Result<(), StoreError> {
        self.read(|conn| {
            let mut statement = conn
                .prepare(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts"))
                .map_err(db)?;
            let accounts = statement
                .query_map([], account_row)
                .map_err(db)?
                .map(|r| {
                    let (spec, status, posted, pending) = r.map_err(db)?;
                    codec::account(&spec, &status, posted, pending)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut statement = conn
                .prepare(&format!("SELECT {TRANSFER_COLUMNS} FROM transfers"))
                .map_err(db)?;
            let transfers = statement
                .query_map([], transfer_row)
                .map_err(db)?
                .map(|r| decode_transfer(r.map_err(db)?))
                .collect::<Result<Vec<_>, _>>()?;
            check_balances(&accounts, &transfers)
        })
    }
}

pub(crate) fn decode_licence(json: &str, status: &str) -> Result<Licence, StoreError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| corrupt(format!("licence: {e}")))?;
    let mut licence = Licence::from_value(&value, &exportgate_ledger::AnyIds).map_err(corrupt)?;
    licence.status =
        AccountStatus::parse(status).ok_or_else(|| corrupt(format!("status `{status}`")))?;
    Ok(licence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledgers_versioned_in_the_old_tables_keep_working() {
        let dir = tempfile::tempdir().unwrap();
        let at = exportgate_ledger::Timestamp::from_micros(0);
        let spec = AccountSpec::lpp("x", at.date());
        // As before the one migration mechanism: the ledger's tables, versioned in
        // `schema_migrations` (older) or `ledger_migrations`.
        for old in ["schema_migrations", "ledger_migrations"] {
            let path = dir.path().join(format!("{old}.sqlite"));
            Connection::open(&path)
                .unwrap()
                .execute_batch(&format!(
                    "{}; CREATE TABLE {old} (version INTEGER PRIMARY KEY); INSERT INTO {old} VALUES (1);",
                    crate::migrate::SQLITE_MIGRATIONS[0].2
                ))
                .unwrap();
            let mut store = SqliteStore::open(&path).unwrap();
            store.ensure_account(&spec, "t", at).unwrap();
            assert!(store.balance(&spec.id).unwrap().is_some());
            let versions: i64 = store
                .connection()
                .query_row("SELECT count(*) FROM exportgate_migrations", [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(versions, crate::migrate::SQLITE_MIGRATIONS.len() as i64);
            let left: i64 = store
                .connection()
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = ?1",
                    [old],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(left, 0, "{old} is dropped once adopted");
        }
        // An unrelated `schema_migrations` in a file without a ledger is left alone.
        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY); INSERT INTO schema_migrations VALUES (1);",
            )
            .unwrap();
        let mut store = SqliteStore::open(&other).unwrap();
        store.ensure_account(&spec, "t", at).unwrap();
        let kept: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1);
    }
}
