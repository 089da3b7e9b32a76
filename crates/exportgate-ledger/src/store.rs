//! The one narrow storage trait, [`LedgerStore`], its error type, and the batch driver that
//! every backend shares ([`run_batch`] over [`Rows`]).
//!
//! A backend opens one transaction per call, implements [`Rows`] on it (load the rows a batch
//! names, write back the changes, append audit records, move the audit head), and lets
//! [`run_batch`] do the rest. Limits are therefore checked in the same transaction as the write.
//! Backends must serialise writers (SQLite `BEGIN IMMEDIATE`; PostgreSQL locks the audit head
//! row first), so the audit log's seq order is the commit order of ledger operations.

use crate::account::{AccountId, AccountSpec, AccountStatus, Balance};
use crate::audit::{
    AuditBreak, AuditRecord, AuditSummary, KIND_ACCOUNT_CREATED, KIND_ACCOUNT_STATUS,
    KIND_DECISION, KIND_LEDGER,
};
use crate::engine::{self, Changes, EnsureError, Ensured, InvariantViolation, Outcome, State};
use crate::licence::Licence;
use crate::request::{Key, Reply, Request, Transfer, BATCH_SIZE_MAX};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Errors from a store. Ledger outcomes (over a limit, unknown pending, ...) are not errors:
/// they are [`crate::ResultCode`]s in the replies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("licence `{0}` already exists")]
    DuplicateLicence(String),
    #[error("licence `{0}` not found")]
    LicenceNotFound(String),
    #[error("account `{0}` not found")]
    AccountNotFound(String),
    #[error(transparent)]
    Account(#[from] EnsureError),
    #[error(transparent)]
    Invariant(#[from] InvariantViolation),
    #[error("a batch holds at most {BATCH_SIZE_MAX} requests, got {0}")]
    BatchTooLarge(usize),
    #[error("invalid database url `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("a group of shipments was abandoned (nothing of it written): {0}")]
    Abandoned(String),
}

/// A licence with its balance and the transfers drawn on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceView {
    pub licence: Licence,
    pub balance: Balance,
    /// Transfers on the licence's account, oldest first.
    pub history: Vec<Transfer>,
}

/// The ledger's storage. One call is one transaction. Every method takes its time from the caller.
pub trait LedgerStore: Send {
    /// `sqlite`, `postgres` or `memory`.
    fn backend(&self) -> &'static str;

    /// Creates the account if missing (audited); an existing account must have an equal spec.
    fn ensure_account(
        &mut self,
        spec: &AccountSpec,
        actor: &str,
        at: Timestamp,
    ) -> Result<Ensured, StoreError>;

    /// Suspends, revokes, expires or reactivates an account (audited).
    fn set_account_status(
        &mut self,
        account: &AccountId,
        status: AccountStatus,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Applies `requests` in order in one transaction (group commit) and returns one reply each.
    /// Each executed request is appended to the audit log; replays are not.
    fn submit(&mut self, actor: &str, requests: &[Request]) -> Result<Vec<Reply>, StoreError>;

    /// An account's balance, or `None` if it does not exist.
    fn balance(&mut self, account: &AccountId) -> Result<Option<Balance>, StoreError>;

    /// A transfer, or `None`.
    fn transfer(&mut self, key: &Key) -> Result<Option<Transfer>, StoreError>;

    /// The reply recorded under a key (with `replayed: false`), or `None` if the key is unused.
    fn recorded_reply(&mut self, key: &Key) -> Result<Option<Reply>, StoreError>;

    /// Stores a licence and creates its account, in one audited transaction. A licence number
    /// that exists is [`StoreError::DuplicateLicence`] and nothing is written.
    fn add_licence(
        &mut self,
        licence: &Licence,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// All licences, by number.
    fn list_licences(&mut self) -> Result<Vec<Licence>, StoreError>;

    /// One licence with balance and history, or `None`.
    fn licence(&mut self, number: &str) -> Result<Option<LicenceView>, StoreError>;

    /// An account's balance and every transfer on it, oldest first (as
    /// [`LicenceView::history`]), read in one snapshot; `None` if the account does not exist.
    fn account_history(
        &mut self,
        account: &AccountId,
    ) -> Result<Option<(Balance, Vec<Transfer>)>, StoreError>;

    /// Appends a decision record (any JSON) to the audit log; returns its seq.
    fn append_decision(
        &mut self,
        actor: &str,
        at: Timestamp,
        decision: &serde_json::Value,
    ) -> Result<u64, StoreError>;

    /// Up to `limit` audit records with seq greater than `after_seq`, in seq order.
    fn audit_records(
        &mut self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// Walks the whole audit log; `Ok(Err(..))` names the first edited, inserted or deleted record.
    fn verify_audit(&mut self) -> Result<Result<AuditSummary, AuditBreak>, StoreError>;

    /// Recomputes every account's posted and pending from its transfers and checks them against
    /// the stored balances and limits.
    fn check_invariants(&mut self) -> Result<(), StoreError>;

    /// The whole audit log and every account, transfer and licence row, read in one snapshot.
    fn ledger_rows(&mut self) -> Result<(Vec<AuditRecord>, crate::LedgerRows), StoreError>;

    /// Replays the audit log and compares it with the stored rows, and recomputes every
    /// balance from the stored transfers; `Ok(Err(..))` names the first disagreement (see
    /// [`crate::reconcile::reconcile`]).
    fn reconcile(&mut self) -> Result<Result<crate::Reconciled, crate::Disagreement>, StoreError> {
        let (records, rows) = self.ledger_rows()?;
        Ok(crate::reconcile::reconcile(&records, &rows))
    }

    /// Every VEU authorisation on the ledger (the `veu:<id>` accounts' records), by id. The
    /// default reads them from [`LedgerStore::ledger_rows`]; a backend may read less.
    fn veus(&mut self) -> Result<Vec<crate::veu::Veu>, StoreError> {
        let (_, rows) = self.ledger_rows()?;
        let mut out: Vec<crate::veu::Veu> = rows
            .accounts
            .into_iter()
            .filter_map(|a| match a.spec.kind {
                crate::AccountKind::Veu { record } => Some(*record),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// The stored chain base, when `audit prune` removed a prefix of the log (`None`: the log
    /// starts at record 1).
    fn audit_base(&mut self) -> Result<Option<crate::AuditBase>, StoreError> {
        Ok(None)
    }

    /// Removes the audit records up to `plan.base.seq` and, in the same transaction, stores
    /// `plan.base` (seq, hash, checkpoint) as the chain base and appends an `audit_pruned`
    /// record with `plan.payload`; returns that record's seq. Fails, removing nothing, when the
    /// head or the base is no longer the one the plan was made against. See
    /// [`crate::retention`]. Backends that cannot prune say so.
    fn prune_audit(
        &mut self,
        plan: &crate::PrunePlan,
        actor: &str,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let _ = (plan, actor, at);
        Err(StoreError::Database(format!(
            "the {} backend cannot prune its audit log",
            self.backend()
        )))
    }

    /// Runs a group of shipments in one transaction (group commit): each shipment's requests,
    /// chosen by `plan` one at a time from the replies before them, with limits checked as
    /// each executes, then its decision record appended to the audit log. All of it is
    /// written, or (on an error or [`ShipStep::Abandon`]) none of it. A backend may run the
    /// plan more than once (a retried transaction): [`ShipPlan::begin`] starts it afresh.
    fn ship_group(&mut self, actor: &str, plan: &mut dyn ShipPlan) -> Result<(), StoreError>;
}

/// One step of a shipment in [`LedgerStore::ship_group`].
#[derive(Debug)]
pub enum ShipStep {
    /// Create this account if it does not exist (audited), then ask again.
    Ensure(AccountSpec, Timestamp),
    /// Execute this request, then ask again with its reply.
    Submit(Request),
    /// The shipment is done: append its decision record (any JSON) at this time.
    Done(Timestamp, serde_json::Value),
    /// Stop the whole group and write nothing.
    Abandon(String),
}

/// The balances a plan can read inside the group's transaction, as of the steps so far.
pub trait Balances {
    /// An account's balance, or `None` if it does not exist.
    fn balance(&self, account: &AccountId) -> Option<Balance>;
    /// The reply recorded under `key` before this group or earlier in it, if the key was
    /// among those the plan said it touches or has been submitted (`None` otherwise).
    fn recorded(&self, key: &Key) -> Option<Reply> {
        let _ = key;
        None
    }
}

/// Chooses the requests of a group of shipments from the ledger's replies.
pub trait ShipPlan {
    /// Starts (or restarts) the plan: forget every earlier step.
    fn begin(&mut self);
    /// How many shipments the group has.
    fn shipments(&self) -> usize;
    /// Keys and accounts the group may touch, read up front (anything else is read when first
    /// needed).
    fn touches(&self) -> (Vec<Key>, Vec<AccountId>);
    /// The next step of shipment `i`, given the replies to its requests so far.
    fn next(&mut self, i: usize, replies: &[Reply], balances: &dyn Balances) -> ShipStep;
}

impl Balances for State {
    fn balance(&self, account: &AccountId) -> Option<Balance> {
        self.account(account).map(crate::Account::balance)
    }
    fn recorded(&self, key: &Key) -> Option<Reply> {
        self.outcome(key).map(|o| o.reply.clone())
    }
}

/// The most steps one shipment may take (a plan that never finishes is abandoned).
const SHIP_STEPS_MAX: usize = 64;

/// The rows a group of shipments has read so far, read lazily: each key and account once.
#[derive(Default)]
struct LazyState {
    state: State,
    keys: BTreeSet<Key>,
    ids: BTreeSet<AccountId>,
}

impl LazyState {
    /// Loads the rows for `keys` and `ids` (and the accounts their transfers name) not read yet.
    fn load<R: Rows + ?Sized>(
        &mut self,
        rows: &mut R,
        keys: &[&Key],
        ids: &[&AccountId],
    ) -> Result<(), StoreError> {
        let keys: Vec<&Key> = keys
            .iter()
            .copied()
            .filter(|k| self.keys.insert((*k).clone()))
            .collect();
        let transfers = if keys.is_empty() {
            Vec::new()
        } else {
            for (key, outcome) in rows.load_outcomes(&keys)? {
                self.state.load_outcome(key, outcome);
            }
            rows.load_transfers(&keys)?
        };
        let mut ids: Vec<&AccountId> = ids
            .iter()
            .copied()
            .chain(transfers.iter().flat_map(|t| &t.accounts))
            .filter(|id| !self.ids.contains(*id))
            .collect();
        ids.sort();
        ids.dedup();
        if !ids.is_empty() {
            for account in rows.load_accounts(&ids)? {
                self.state.load_account(account)?;
            }
            self.ids.extend(ids.into_iter().cloned());
        }
        for transfer in transfers {
            if self.state.transfer(&transfer.key).is_none() {
                self.state.load_transfer(transfer);
            }
        }
        Ok(())
    }
}

/// Runs a [`ShipPlan`] inside an open transaction (see [`LedgerStore::ship_group`]). The caller
/// owns the transaction (commit on `Ok`, roll back on `Err`).
pub fn run_ship_group<R: Rows + ?Sized>(
    rows: &mut R,
    actor: &str,
    plan: &mut dyn ShipPlan,
) -> Result<(), StoreError> {
    plan.begin();
    // The head is read first: on PostgreSQL this locks it and so serialises writers.
    let (mut seq, mut hash) = rows.audit_head()?;
    let mut lazy = LazyState::default();
    let (keys, ids) = plan.touches();
    let keys: Vec<&Key> = keys.iter().collect();
    let ids: Vec<&AccountId> = ids.iter().collect();
    lazy.load(rows, &keys, &ids)?;
    let mut records = Vec::new();
    let mut push = |at: Timestamp, kind: &str, payload: String| {
        let record = AuditRecord::next(seq, &hash, at, actor, kind, payload);
        (seq, hash) = (record.seq, record.hash.clone());
        records.push(record);
    };
    for i in 0..plan.shipments() {
        let mut replies = Vec::new();
        let mut steps = 0;
        loop {
            steps += 1;
            if steps > SHIP_STEPS_MAX {
                return Err(StoreError::Abandoned(format!(
                    "shipment {i} took more than {SHIP_STEPS_MAX} steps"
                )));
            }
            match plan.next(i, &replies, &lazy.state) {
                ShipStep::Ensure(spec, at) => {
                    lazy.load(rows, &[], &[&spec.id])?;
                    if engine::ensure_account(&mut lazy.state, &spec)? == Ensured::Created {
                        let payload = serde_json::to_string(&spec).expect("specs serialise");
                        push(at, KIND_ACCOUNT_CREATED, payload);
                    }
                }
                ShipStep::Submit(request) => {
                    let keys: Vec<&Key> = std::iter::once(request.key())
                        .chain(request.pending())
                        .collect();
                    let ids: Vec<&AccountId> = request.accounts().iter().collect();
                    lazy.load(rows, &keys, &ids)?;
                    let executed = engine::execute(&mut lazy.state, &request)?;
                    if executed.recorded {
                        push(
                            request.at(),
                            KIND_LEDGER,
                            ledger_payload(&request, &executed.reply),
                        );
                    }
                    replies.push(executed.reply);
                }
                ShipStep::Done(at, decision) => {
                    push(at, KIND_DECISION, decision.to_string());
                    break;
                }
                ShipStep::Abandon(why) => return Err(StoreError::Abandoned(why)),
            }
        }
    }
    let changes = lazy.state.take_changes();
    for account in &changes.accounts {
        // INVARIANT (pair): checked when loaded, after each change, and again before writing.
        engine::check_account(account)?;
    }
    rows.write_changes(&changes)?;
    rows.append_audit(&records)?;
    Ok(())
}

/// Row access inside one open write transaction.
pub trait Rows {
    /// Outcomes recorded under any of `keys`.
    fn load_outcomes(&mut self, keys: &[&Key]) -> Result<Vec<(Key, Outcome)>, StoreError>;
    /// Transfers with any of these keys.
    fn load_transfers(&mut self, keys: &[&Key]) -> Result<Vec<Transfer>, StoreError>;
    /// Accounts with any of these ids (a backend with row locks locks them, in id order).
    fn load_accounts(&mut self, ids: &[&AccountId]) -> Result<Vec<crate::Account>, StoreError>;
    /// Writes changed accounts, transfers and new outcomes.
    fn write_changes(&mut self, changes: &Changes) -> Result<(), StoreError>;
    /// The last audit record's (seq, hash); (0, genesis) for an empty log.
    fn audit_head(&mut self) -> Result<(u64, String), StoreError>;
    /// Appends records (already chained) and moves the head to the last.
    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<(), StoreError>;
}

/// Loads what `requests` touch, executes them in order, writes the changes and the audit
/// records. The caller owns the transaction (commit on `Ok`, roll back on `Err`).
pub fn run_batch<R: Rows + ?Sized>(
    rows: &mut R,
    actor: &str,
    requests: &[Request],
) -> Result<Vec<Reply>, StoreError> {
    if requests.len() > BATCH_SIZE_MAX {
        return Err(StoreError::BatchTooLarge(requests.len()));
    }
    // The head is read first: on PostgreSQL this locks it and so serialises writers.
    let (mut seq, mut hash) = rows.audit_head()?;
    let mut state = State::new();
    let keys: BTreeSet<&Key> = requests
        .iter()
        .flat_map(|r| std::iter::once(r.key()).chain(r.pending()))
        .collect();
    let keys: Vec<&Key> = keys.into_iter().collect();
    for (key, outcome) in rows.load_outcomes(&keys)? {
        state.load_outcome(key, outcome);
    }
    let transfers = rows.load_transfers(&keys)?;
    let mut ids: BTreeSet<&AccountId> = requests.iter().flat_map(|r| r.accounts()).collect();
    ids.extend(transfers.iter().flat_map(|t| &t.accounts));
    let ids: Vec<&AccountId> = ids.into_iter().collect();
    for account in rows.load_accounts(&ids)? {
        state.load_account(account)?;
    }
    for transfer in transfers {
        state.load_transfer(transfer);
    }
    let mut replies = Vec::with_capacity(requests.len());
    let mut records = Vec::new();
    for request in requests {
        let executed = engine::execute(&mut state, request)?;
        if executed.recorded {
            let payload = ledger_payload(request, &executed.reply);
            let record = AuditRecord::next(seq, &hash, request.at(), actor, KIND_LEDGER, payload);
            (seq, hash) = (record.seq, record.hash.clone());
            records.push(record);
        }
        replies.push(executed.reply);
    }
    let changes = state.take_changes();
    for account in &changes.accounts {
        // INVARIANT (pair): checked when loaded, after each change, and again before writing.
        engine::check_account(account)?;
    }
    rows.write_changes(&changes)?;
    rows.append_audit(&records)?;
    Ok(replies)
}

/// The audit payload of a ledger operation: `{"request": ..., "reply": ...}`.
fn ledger_payload(request: &Request, reply: &Reply) -> String {
    #[derive(Serialize)]
    struct Payload<'a> {
        request: &'a Request,
        reply: &'a Reply,
    }
    serde_json::to_string(&Payload { request, reply }).expect("requests and replies serialise")
}

/// Ensures an account inside an open transaction, auditing a creation.
pub fn run_ensure<R: Rows + ?Sized>(
    rows: &mut R,
    spec: &AccountSpec,
    actor: &str,
    at: Timestamp,
) -> Result<Ensured, StoreError> {
    let (seq, hash) = rows.audit_head()?;
    let mut state = State::new();
    for account in rows.load_accounts(&[&spec.id])? {
        state.load_account(account)?;
    }
    let ensured = engine::ensure_account(&mut state, spec)?;
    if ensured == Ensured::Created {
        rows.write_changes(&state.take_changes())?;
        let payload = serde_json::to_string(spec).expect("specs serialise");
        rows.append_audit(&[AuditRecord::next(
            seq,
            &hash,
            at,
            actor,
            KIND_ACCOUNT_CREATED,
            payload,
        )])?;
    }
    Ok(ensured)
}

/// Changes an account's status inside an open transaction, audited.
pub fn run_set_status<R: Rows + ?Sized>(
    rows: &mut R,
    id: &AccountId,
    status: AccountStatus,
    actor: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let (seq, hash) = rows.audit_head()?;
    let mut state = State::new();
    for account in rows.load_accounts(&[id])? {
        state.load_account(account)?;
    }
    if !state.set_status(id, status) {
        return Err(StoreError::AccountNotFound(id.to_string()));
    }
    rows.write_changes(&state.take_changes())?;
    let payload = serde_json::json!({ "account": id, "status": status }).to_string();
    rows.append_audit(&[AuditRecord::next(
        seq,
        &hash,
        at,
        actor,
        KIND_ACCOUNT_STATUS,
        payload,
    )])
}

/// Recomputes balances from transfers and compares them with the accounts (for `check_invariants`).
pub fn check_balances(
    accounts: &[crate::Account],
    transfers: &[Transfer],
) -> Result<(), StoreError> {
    use crate::amount::Amounts;
    use crate::request::TransferState;
    use std::collections::BTreeMap;
    let mut sums: BTreeMap<&AccountId, (Amounts, Amounts)> = accounts
        .iter()
        .map(|a| (&a.spec.id, (Amounts::ZERO, Amounts::ZERO)))
        .collect();
    for transfer in transfers {
        for id in &transfer.accounts {
            let entry = sums.get_mut(id).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "transfer `{}` names missing account `{id}`",
                    transfer.key
                ))
            })?;
            let slot = match transfer.state {
                TransferState::Posted => &mut entry.0,
                TransferState::Pending => &mut entry.1,
                TransferState::Voided | TransferState::Expired => continue,
            };
            *slot = slot
                .checked_add(&transfer.amounts)
                .ok_or_else(|| StoreError::Corrupt(format!("sum overflows on `{id}`")))?;
        }
    }
    for account in accounts {
        engine::check_account(account)?;
        let (posted, pending) = sums[&account.spec.id];
        if posted != account.posted || pending != account.pending {
            return Err(StoreError::Invariant(InvariantViolation {
                account: account.spec.id.to_string(),
                what: format!(
                    "stored posted/pending {:?}/{:?} differ from the transfers' {:?}/{:?}",
                    account.posted, account.pending, posted, pending
                ),
            }));
        }
    }
    Ok(())
}
