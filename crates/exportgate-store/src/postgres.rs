//! [`PostgresStore`]: the backend for several processes or servers sharing one ledger.
//!
//! Concurrency: every write transaction (READ COMMITTED) first locks the single `audit_head`
//! row with `SELECT ... FOR UPDATE`. That serialises writers exactly like SQLite's
//! `BEGIN IMMEDIATE`: each later statement of the transaction takes a fresh snapshot that
//! includes every earlier writer's commit, so limits are checked against the latest balances in
//! the same transaction as the write, and the audit log's order is the commit order. The
//! hash chain needs that total order anyway. A transaction that still fails with a
//! serialization failure, deadlock or unique violation is retried (up to [`RETRIES_MAX`] times).
//!
//! Each batch costs a fixed number of round trips whatever its size: loads use `= ANY($1)`
//! and writes use `UNNEST` arrays. Durability is PostgreSQL's default (`synchronous_commit=on`).

use crate::codec::{self, corrupt};
use crate::sqlite::decode_licence;
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
use postgres::error::SqlState;
use postgres::{Client, NoTls, Row, Transaction};

/// Most attempts of one transaction that fails with a retryable error.
pub const RETRIES_MAX: u32 = 20;

fn db(e: postgres::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::UNIQUE_VIOLATION
    )
}

/// A ledger in a PostgreSQL database.
pub struct PostgresStore {
    client: Client,
    url: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &crate::redact(&self.url))
            .finish()
    }
}

const ACCOUNT_COLUMNS: &str =
    "spec, status, posted_units, posted_value, posted_tpp, pending_units, pending_value, pending_tpp";
const TRANSFER_COLUMNS: &str = "key, accounts, units, value, tpp, state, reserved_at, resolved_at";
const AUDIT_COLUMNS: &str = "seq, at, actor, kind, payload, prev_hash, hash";

fn account_row(row: &Row) -> Result<Account, StoreError> {
    let spec: String = row.get(0);
    let status: String = row.get(1);
    codec::account(
        &spec,
        &status,
        [row.get(2), row.get(3), row.get(4)],
        [row.get(5), row.get(6), row.get(7)],
    )
}

fn account_row_unchecked(row: &Row) -> Result<Account, StoreError> {
    let spec: String = row.get(0);
    let status: String = row.get(1);
    codec::account_unchecked(
        &spec,
        &status,
        [row.get(2), row.get(3), row.get(4)],
        [row.get(5), row.get(6), row.get(7)],
    )
}

fn transfer_row(row: &Row) -> Result<Transfer, StoreError> {
    let accounts: String = row.get(1);
    let state: String = row.get(5);
    codec::transfer(
        row.get(0),
        &accounts,
        row.get(2),
        row.get(3),
        row.get(4),
        &state,
        row.get(6),
        row.get(7),
    )
}

fn audit_row(row: &Row) -> AuditRecord {
    let seq: i64 = row.get(0);
    AuditRecord {
        seq: seq as u64,
        at: Timestamp::from_micros(row.get(1)),
        actor: row.get(2),
        kind: row.get(3),
        payload: row.get(4),
        prev_hash: row.get(5),
        hash: row.get(6),
    }
}

/// A store error that keeps whether PostgreSQL asked for a retry.
enum Attempt {
    Retry(StoreError),
    Fail(StoreError),
}

impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Attempt {
        Attempt::Fail(e)
    }
}

fn attempt(e: postgres::Error) -> Attempt {
    if retryable(&e) {
        Attempt::Retry(db(e))
    } else {
        Attempt::Fail(db(e))
    }
}

impl PostgresStore {
    /// Connects (without TLS) and applies pending migrations.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let client = Client::connect(url, NoTls).map_err(|e| {
            StoreError::Database(format!("cannot connect to `{}`: {e}", crate::redact(url)))
        })?;
        let mut store = PostgresStore {
            client,
            url: url.to_owned(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        crate::migrate::postgres(&mut self.client).map(|_| ())
    }

    /// The underlying client, for tools and tamper tests that must bypass the ledger.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Runs `f` in a write transaction that first locks the audit head; retries retryable failures.
    pub(crate) fn write<T>(
        &mut self,
        mut f: impl FnMut(&mut PgRows<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.write_once(&mut f) {
                Ok(out) => return Ok(out),
                Err(Attempt::Retry(e)) if tries >= RETRIES_MAX => return Err(e),
                Err(Attempt::Retry(_)) => continue,
                Err(Attempt::Fail(e)) => return Err(e),
            }
        }
    }

    fn write_once<T>(
        &mut self,
        f: &mut impl FnMut(&mut PgRows<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<T, Attempt> {
        let mut tx = self.client.transaction().map_err(attempt)?;
        // INVARIANT (serial-writers): the head lock is the first thing every write takes.
        tx.query_one("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE", &[])
            .map_err(attempt)?;
        let mut rows = PgRows {
            tx: &mut tx,
            failed: None,
        };
        let out = f(&mut rows);
        if let Some(e) = rows.failed.take() {
            return Err(attempt(e));
        }
        let out = out?;
        tx.commit().map_err(attempt)?;
        Ok(out)
    }

    pub(crate) fn read<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self
            .client
            .build_transaction()
            .read_only(true)
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()
            .map_err(db)?;
        let out = f(&mut tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

pub(crate) struct PgRows<'a, 'b> {
    pub(crate) tx: &'a mut Transaction<'b>,
    /// The last PostgreSQL error, kept so that the caller can tell a retryable one.
    failed: Option<postgres::Error>,
}

impl PgRows<'_, '_> {
    fn fail(&mut self, e: postgres::Error) -> StoreError {
        let message = match e.as_db_error() {
            Some(d) => format!("{}: {}", d.severity(), d.message()),
            None => e.to_string(),
        };
        self.failed = Some(e);
        StoreError::Database(message)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        self.tx.query(sql, params).map_err(|e| self.fail(e))
    }

    fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        self.tx.execute(sql, params).map_err(|e| self.fail(e))
    }
}

/// The stored chain base, if a prefix of the log was pruned.
fn audit_base(rows: &[Row]) -> Option<AuditBase> {
    rows.first().map(|r| AuditBase {
        seq: r.get::<_, i64>(0) as u64,
        hash: r.get(1),
        checkpoint: r.get(2),
    })
}

const AUDIT_BASE_SQL: &str = "SELECT seq, hash, checkpoint FROM audit_base WHERE id = 1";

fn key_strs<'k>(keys: &[&'k Key]) -> Vec<&'k str> {
    keys.iter().map(|k| k.as_str()).collect()
}

impl Rows for PgRows<'_, '_> {
    fn load_outcomes(&mut self, keys: &[&Key]) -> Result<Vec<(Key, Outcome)>, StoreError> {
        let rows = self.query(
            "SELECT key, fingerprint, reply FROM outcomes WHERE key = ANY($1)",
            &[&key_strs(keys)],
        )?;
        rows.iter()
            .map(|r| {
                let reply: String = r.get(2);
                Ok((
                    Key::new(r.get::<_, String>(0)).map_err(corrupt)?,
                    codec::outcome(r.get(1), &reply)?,
                ))
            })
            .collect()
    }

    fn load_transfers(&mut self, keys: &[&Key]) -> Result<Vec<Transfer>, StoreError> {
        let sql =
            format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE key = ANY($1) FOR UPDATE");
        let rows = self.query(&sql, &[&key_strs(keys)])?;
        rows.iter().map(transfer_row).collect()
    }

    fn load_accounts(&mut self, ids: &[&AccountId]) -> Result<Vec<Account>, StoreError> {
        let ids: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE"
        );
        let rows = self.query(&sql, &[&ids])?;
        rows.iter().map(account_row).collect()
    }

    fn write_changes(&mut self, changes: &Changes) -> Result<(), StoreError> {
        if !changes.accounts.is_empty() {
            let a = &changes.accounts;
            let ids: Vec<&str> = a.iter().map(|a| a.spec.id.as_str()).collect();
            let specs: Vec<String> = a.iter().map(|a| codec::spec_json(&a.spec)).collect();
            let statuses: Vec<&str> = a.iter().map(|a| a.status.name()).collect();
            let limit = |f: fn(&Account) -> Option<u64>| -> Vec<Option<i64>> {
                a.iter().map(|x| codec::limit(f(x))).collect()
            };
            let amount = |f: fn(&Account) -> u64| -> Vec<i64> {
                a.iter().map(|x| codec::to_i64(f(x))).collect()
            };
            self.execute(
                "INSERT INTO accounts (id, spec, status, limit_units, limit_value, limit_tpp, posted_units, posted_value, posted_tpp, \
                 pending_units, pending_value, pending_tpp) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], \
                 $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[]) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, posted_units = excluded.posted_units, \
                 posted_value = excluded.posted_value, posted_tpp = excluded.posted_tpp, pending_units = excluded.pending_units, \
                 pending_value = excluded.pending_value, pending_tpp = excluded.pending_tpp",
                &[
                    &ids,
                    &specs,
                    &statuses,
                    &limit(|x| x.spec.limits.units),
                    &limit(|x| x.spec.limits.value),
                    &limit(|x| x.spec.limits.tpp),
                    &amount(|x| x.posted.units),
                    &amount(|x| x.posted.value),
                    &amount(|x| x.posted.tpp),
                    &amount(|x| x.pending.units),
                    &amount(|x| x.pending.value),
                    &amount(|x| x.pending.tpp),
                ],
            )?;
        }
        if !changes.transfers.is_empty() {
            let t = &changes.transfers;
            let keys: Vec<&str> = t.iter().map(|t| t.key.as_str()).collect();
            let accounts: Vec<String> = t
                .iter()
                .map(|t| codec::accounts_json(&t.accounts))
                .collect();
            let amount = |f: fn(&Transfer) -> u64| -> Vec<i64> {
                t.iter().map(|x| codec::to_i64(f(x))).collect()
            };
            let states: Vec<&str> = t.iter().map(|t| t.state.name()).collect();
            let reserved: Vec<i64> = t.iter().map(|t| t.reserved_at.micros()).collect();
            let resolved: Vec<Option<i64>> = t
                .iter()
                .map(|t| t.resolved_at.map(Timestamp::micros))
                .collect();
            self.execute(
                "INSERT INTO transfers (key, accounts, units, value, tpp, state, reserved_at, resolved_at) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[]) \
                 ON CONFLICT (key) DO UPDATE SET state = excluded.state, resolved_at = excluded.resolved_at",
                &[&keys, &accounts, &amount(|x| x.amounts.units), &amount(|x| x.amounts.value), &amount(|x| x.amounts.tpp), &states, &reserved, &resolved],
            )?;
            let (link_accounts, link_keys): (Vec<&str>, Vec<&str>) = t
                .iter()
                .flat_map(|t| t.accounts.iter().map(move |a| (a.as_str(), t.key.as_str())))
                .unzip();
            self.execute(
                "INSERT INTO transfer_accounts (account_id, key) SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                &[&link_accounts, &link_keys],
            )?;
        }
        if !changes.outcomes.is_empty() {
            let o = &changes.outcomes;
            let keys: Vec<&str> = o.iter().map(|(k, _)| k.as_str()).collect();
            let fingerprints: Vec<&str> = o.iter().map(|(_, o)| o.fingerprint.as_str()).collect();
            let replies: Vec<String> = o.iter().map(|(_, o)| codec::reply_json(&o.reply)).collect();
            self.execute(
                "INSERT INTO outcomes (key, fingerprint, reply) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])",
                &[&keys, &fingerprints, &replies],
            )?;
        }
        Ok(())
    }

    fn audit_head(&mut self) -> Result<(u64, String), StoreError> {
        let rows = self.query("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
        let row = rows
            .first()
            .ok_or_else(|| corrupt("audit_head row is missing"))?;
        Ok((row.get::<_, i64>(0) as u64, row.get(1)))
    }

    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        let Some(last) = records.last() else {
            return Ok(());
        };
        let seqs: Vec<i64> = records.iter().map(|r| r.seq as i64).collect();
        let ats: Vec<i64> = records.iter().map(|r| r.at.micros()).collect();
        let actors: Vec<&str> = records.iter().map(|r| r.actor.as_str()).collect();
        let kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
        let payloads: Vec<&str> = records.iter().map(|r| r.payload.as_str()).collect();
        let prevs: Vec<&str> = records.iter().map(|r| r.prev_hash.as_str()).collect();
        let hashes: Vec<&str> = records.iter().map(|r| r.hash.as_str()).collect();
        self.execute(
            &format!(
                "INSERT INTO audit_log ({AUDIT_COLUMNS}) SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], \
                 $5::text[], $6::text[], $7::text[])"
            ),
            &[&seqs, &ats, &actors, &kinds, &payloads, &prevs, &hashes],
        )?;
        self.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[&(last.seq as i64), &last.hash],
        )?;
        Ok(())
    }
}

fn load_account(tx: &mut Transaction<'_>, id: &AccountId) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
    tx.query_opt(&sql, &[&id.as_str()])
        .map_err(db)?
        .as_ref()
        .map(account_row)
        .transpose()
}

impl LedgerStore for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
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
        self.read(|tx| Ok(load_account(tx, account)?.map(|a| a.balance())))
    }

    fn transfer(&mut self, key: &Key) -> Result<Option<Transfer>, StoreError> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE key = $1");
        self.read(|tx| {
            tx.query_opt(&sql, &[&key.as_str()])
                .map_err(db)?
                .as_ref()
                .map(transfer_row)
                .transpose()
        })
    }

    fn recorded_reply(&mut self, key: &Key) -> Result<Option<Reply>, StoreError> {
        self.read(|tx| {
            let row = tx
                .query_opt(
                    "SELECT fingerprint, reply FROM outcomes WHERE key = $1",
                    &[&key.as_str()],
                )
                .map_err(db)?;
            row.map(|r| codec::outcome(r.get(0), &r.get::<_, String>(1)).map(|o| o.reply))
                .transpose()
        })
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
        let json = licence.to_json().to_string();
        self.write(|rows| {
            let exists = rows.query(
                "SELECT 1 FROM licences WHERE number = $1",
                &[&licence.number],
            )?;
            if !exists.is_empty() || !rows.load_accounts(&[&spec.id])?.is_empty() {
                return Err(StoreError::DuplicateLicence(licence.number.clone()));
            }
            let (seq, hash) = rows.audit_head()?;
            rows.append_audit(&[AuditRecord::next(
                seq,
                &hash,
                at,
                actor,
                KIND_LICENCE_ADDED,
                json.clone(),
            )])?;
            run_ensure(rows, &spec, actor, at)?;
            if licence.status != AccountStatus::Active {
                run_set_status(rows, &spec.id, licence.status, actor, at)?;
            }
            rows.execute(
                "INSERT INTO licences (number, licence, account_id) VALUES ($1, $2, $3)",
                &[&licence.number, &json, &spec.id.as_str()],
            )?;
            Ok(())
        })
    }

    fn veus(&mut self) -> Result<Vec<exportgate_ledger::Veu>, StoreError> {
        // The `veu:<id>` accounts (ids with no second `:`), decoded as every account is.
        self.read(|tx| {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id >= 'veu:' AND id < 'veu;' \
                 AND strpos(substr(id, 5), ':') = 0 ORDER BY id"
            );
            let rows = tx.query(&sql, &[]).map_err(db)?;
            let mut out = Vec::new();
            for row in &rows {
                if let exportgate_ledger::AccountKind::Veu { record } = account_row(row)?.spec.kind
                {
                    out.push(*record);
                }
            }
            Ok(out)
        })
    }

    fn list_licences(&mut self) -> Result<Vec<Licence>, StoreError> {
        self.read(|tx| {
            let rows = tx
                .query("SELECT l.licence, a.status FROM licences l JOIN accounts a ON a.id = l.account_id ORDER BY l.number", &[])
                .map_err(db)?;
            rows.iter().map(|r| decode_licence(&r.get::<_, String>(0), &r.get::<_, String>(1))).collect()
        })
    }

    fn licence(&mut self, number: &str) -> Result<Option<LicenceView>, StoreError> {
        self.read(|tx| {
            let Some(row) = tx.query_opt("SELECT licence, account_id FROM licences WHERE number = $1", &[&number]).map_err(db)? else {
                return Ok(None);
            };
            let id = AccountId::new(row.get::<_, String>(1)).map_err(corrupt)?;
            let account = load_account(tx, &id)?.ok_or_else(|| corrupt(format!("licence `{number}` has no account")))?;
            let licence = decode_licence(&row.get::<_, String>(0), account.status.name())?;
            let columns = TRANSFER_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT {columns} FROM transfer_accounts ta JOIN transfers t ON t.key = ta.key WHERE ta.account_id = $1 \
                 ORDER BY t.reserved_at, t.key"
            );
            let history = tx.query(&sql, &[&id.as_str()]).map_err(db)?.iter().map(transfer_row).collect::<Result<Vec<_>, _>>()?;
            Ok(Some(LicenceView { licence, balance: account.balance(), history }))
        })
    }

    fn account_history(
        &mut self,
        account: &AccountId,
    ) -> Result<Option<(Balance, Vec<Transfer>)>, StoreError> {
        self.read(|tx| {
            let Some(a) = load_account(tx, account)? else { return Ok(None) };
            let columns = TRANSFER_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT {columns} FROM transfer_accounts ta JOIN transfers t ON t.key = ta.key WHERE ta.account_id = $1 \
                 ORDER BY t.reserved_at, t.key"
            );
            let history = tx.query(&sql, &[&account.as_str()]).map_err(db)?.iter().map(transfer_row).collect::<Result<Vec<_>, _>>()?;
            Ok(Some((a.balance(), history)))
        })
    }

    fn append_decision(
        &mut self,
        actor: &str,
        at: Timestamp,
        decision: &serde_json::Value,
    ) -> Result<u64, StoreError> {
        let payload = decision.to_string();
        self.write(|rows| {
            let (seq, hash) = rows.audit_head()?;
            rows.append_audit(&[AuditRecord::next(
                seq,
                &hash,
                at,
                actor,
                KIND_DECISION,
                payload.clone(),
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
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
        self.read(|tx| {
            Ok(tx
                .query(
                    &sql,
                    &[&i64::try_from(after_seq).unwrap_or(i64::MAX), &limit],
                )
                .map_err(db)?
                .iter()
                .map(audit_row)
                .collect())
        })
    }

    fn audit_base(&mut self) -> Result<Option<AuditBase>, StoreError> {
        self.read(|tx| Ok(audit_base(&tx.query(AUDIT_BASE_SQL, &[]).map_err(db)?)))
    }

    fn prune_audit(
        &mut self,
        plan: &exportgate_ledger::PrunePlan,
        actor: &str,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        self.write(|rows| {
            let head = rows.audit_head()?;
            let old = audit_base(&rows.query(AUDIT_BASE_SQL, &[])?).map_or(0, |b| b.seq);
            if head != plan.head || old != plan.old_base_seq {
                return Err(StoreError::Database(
                    "the audit log changed since the prune was planned; nothing removed, run it again".into(),
                ));
            }
            let base = &plan.base;
            // The base first: the delete trigger lets only records up to it go.
            rows.execute(
                "INSERT INTO audit_base (id, seq, hash, checkpoint) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, checkpoint = excluded.checkpoint",
                &[&(base.seq as i64), &base.hash, &base.checkpoint],
            )?;
            let removed = rows.execute(
                "DELETE FROM audit_log WHERE seq <= $1",
                &[&(base.seq as i64)],
            )?;
            let expected = plan.removed.1 - plan.removed.0 + 1;
            if removed != expected {
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
        self.read(|tx| {
            let base = audit_base(&tx.query(AUDIT_BASE_SQL, &[]).map_err(db)?);
            let mut verifier = ChainVerifier::from_base(base.as_ref());
            let mut after: i64 = 0;
            loop {
                let sql = format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 10000"
                );
                let rows = tx.query(&sql, &[&after]).map_err(db)?;
                let Some(last) = rows.last() else { break };
                after = last.get(0);
                for row in &rows {
                    if let Err(broken) = verifier.push(&audit_row(row)) {
                        return Ok(Err(broken));
                    }
                }
            }
            let head = tx
                .query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
                .map_err(db)?
                .ok_or_else(|| corrupt(crate::sqlite::HEAD_MISSING))?;
            Ok(verifier.finish(Some((head.get::<_, i64>(0) as u64, head.get(1)))))
        })
    }

    fn ledger_rows(
        &mut self,
    ) -> Result<(Vec<AuditRecord>, exportgate_ledger::LedgerRows), StoreError> {
        self.read(|tx| {
            let records = tx
                .query(
                    &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"),
                    &[],
                )
                .map_err(db)?
                .iter()
                .map(audit_row)
                .collect();
            let accounts = tx
                .query(
                    &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id"),
                    &[],
                )
                .map_err(db)?
                .iter()
                .map(account_row_unchecked)
                .collect::<Result<Vec<_>, _>>()?;
            let transfers = tx
                .query(
                    &format!("SELECT {TRANSFER_COLUMNS} FROM transfers ORDER BY key"),
                    &[],
                )
                .map_err(db)?
                .iter()
                .map(transfer_row)
                .collect::<Result<Vec<_>, _>>()?;
            let licences = tx
                .query("SELECT number, licence FROM licences ORDER BY number", &[])
                .map_err(db)?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let base = audit_base(&tx.query(AUDIT_BASE_SQL, &[]).map_err(db)?);
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
        self.read(|tx| {
            let accounts = tx
                .query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts"), &[])
                .map_err(db)?
                .iter()
                .map(account_row)
                .collect::<Result<Vec<_>, _>>()?;
            let transfers = tx
                .query(&format!("SELECT {TRANSFER_COLUMNS} FROM transfers"), &[])
                .map_err(db)?
                .iter()
                .map(transfer_row)
                .collect::<Result<Vec<_>, _>>()?;
            check_balances(&accounts, &transfers)
        })
    }
}
