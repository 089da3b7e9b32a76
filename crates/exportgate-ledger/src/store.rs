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
    AuditBreak, AuditRecord, AuditSummary, KIND_ACCOUNT_CREATED, KIND_ACCOUNT_STATUS, KIND_LEDGER,
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
