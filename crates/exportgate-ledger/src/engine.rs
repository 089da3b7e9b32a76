//! The state machine: applies requests to a [`State`] of accounts, transfers and recorded outcomes.
//!
//! The storage backends load the rows a batch needs into a [`State`], run [`execute`] for each
//! request in order, and write back [`State::take_changes`] in the same transaction. The
//! in-memory [`crate::MemoryStore`] keeps everything in one [`State`]. The independent
//! reference model used to check all of them is [`crate::Auditor`].

use crate::account::{Account, AccountId, AccountSpec, AccountStatus, InvalidAccountSpec};
use crate::amount::Amounts;
use crate::request::{
    Key, Reply, Request, ResultCode, Transfer, TransferState, ACCOUNTS_PER_TRANSFER_MAX,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The outcome recorded under an idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// [`Request::fingerprint`] of the request that first used the key.
    pub fingerprint: String,
    /// Its reply (with `replayed: false`).
    pub reply: Reply,
}

/// A broken ledger invariant: a bug or a corrupted database, never a user error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ledger invariant violated on account `{account}`: {what}")]
pub struct InvariantViolation {
    pub account: String,
    pub what: String,
}

/// Checks one account's invariants. Called after every change and after every load.
pub fn check_account(account: &Account) -> Result<(), InvariantViolation> {
    let violation = |what: String| InvariantViolation {
        account: account.spec.id.to_string(),
        what,
    };
    // INVARIANT (no-overflow): posted + pending fits in AMOUNT_MAX in every dimension.
    let used = account
        .used()
        .ok_or_else(|| violation("posted + pending overflows".to_owned()))?;
    // INVARIANT (within-limit): posted + pending never passes a limit.
    if let Some(dimension) = account.spec.limits.first_exceeded(&used) {
        return Err(violation(format!(
            "posted + pending {} exceeds its limit",
            dimension.name()
        )));
    }
    // INVARIANT (non-negative): balances are u64, and every subtraction below is checked, so a
    // balance can never go below zero without an InvariantViolation being raised there.
    Ok(())
}

/// Rows loaded for (or created by) a batch, and which of them changed.
#[derive(Clone, Debug, Default)]
pub struct State {
    accounts: BTreeMap<AccountId, Account>,
    transfers: BTreeMap<Key, Transfer>,
    outcomes: BTreeMap<Key, Outcome>,
    changed_accounts: BTreeSet<AccountId>,
    changed_transfers: BTreeSet<Key>,
    new_outcomes: Vec<Key>,
}

/// Everything a batch changed, to be written in the batch's transaction.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// Accounts whose balances changed (or that were created).
    pub accounts: Vec<Account>,
    /// Transfers created or changed.
    pub transfers: Vec<Transfer>,
    /// Outcomes recorded under new keys, in execution order.
    pub outcomes: Vec<(Key, Outcome)>,
}

/// What [`ensure_account`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ensured {
    Created,
    AlreadyExists,
}

impl Ensured {
    /// The name `POST /v1/ledger/allocations` answers with in `ensured` (`created`,
    /// `alreadyexists`: the contract as first written, from the variant names).
    pub fn as_str(self) -> &'static str {
        match self {
            Ensured::Created => "created",
            Ensured::AlreadyExists => "alreadyexists",
        }
    }
}

/// Why [`ensure_account`] refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnsureError {
    #[error(transparent)]
    Invalid(#[from] InvalidAccountSpec),
    #[error("account `{0}` already exists with a different kind, limits or validity")]
    Conflict(AccountId),
}

impl State {
    /// An empty state.
    pub fn new() -> State {
        State::default()
    }

    /// Adds a row read from storage (not marked changed).
    pub fn load_account(&mut self, account: Account) -> Result<(), InvariantViolation> {
        check_account(&account)?;
        self.accounts.insert(account.spec.id.clone(), account);
        Ok(())
    }

    /// Adds a row read from storage (not marked changed).
    pub fn load_transfer(&mut self, transfer: Transfer) {
        self.transfers.insert(transfer.key.clone(), transfer);
    }

    /// Adds a row read from storage (not marked changed).
    pub fn load_outcome(&mut self, key: Key, outcome: Outcome) {
        self.outcomes.insert(key, outcome);
    }

    /// An account, if present.
    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// All accounts present.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    /// A transfer, if present.
    pub fn transfer(&self, key: &Key) -> Option<&Transfer> {
        self.transfers.get(key)
    }

    /// All transfers present.
    pub fn transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.transfers.values()
    }

    /// All outcomes present, by key.
    pub fn outcomes(&self) -> impl Iterator<Item = (&Key, &Outcome)> {
        self.outcomes.iter()
    }

    /// The outcome recorded under a key, if present.
    pub fn outcome(&self, key: &Key) -> Option<&Outcome> {
        self.outcomes.get(key)
    }

    /// Sets an account's status (the caller records why).
    pub fn set_status(&mut self, id: &AccountId, status: AccountStatus) -> bool {
        match self.accounts.get_mut(id) {
            Some(account) => {
                account.status = status;
                self.changed_accounts.insert(id.clone());
                true
            }
            None => false,
        }
    }

    /// Hands over the changed rows and forgets that they changed.
    pub fn take_changes(&mut self) -> Changes {
        let accounts = std::mem::take(&mut self.changed_accounts)
            .iter()
            .map(|id| self.accounts[id].clone())
            .collect();
        let transfers = std::mem::take(&mut self.changed_transfers)
            .iter()
            .map(|k| self.transfers[k].clone())
            .collect();
        let outcomes = std::mem::take(&mut self.new_outcomes)
            .into_iter()
            .map(|k| {
                let outcome = self.outcomes[&k].clone();
                (k, outcome)
            })
            .collect();
        Changes {
            accounts,
            transfers,
            outcomes,
        }
    }

    fn record(&mut self, request: &Request, reply: &Reply) {
        let outcome = Outcome {
            fingerprint: request.fingerprint(),
            reply: reply.clone(),
        };
        let previous = self.outcomes.insert(request.key().clone(), outcome);
        assert!(previous.is_none(), "an outcome is recorded once per key");
        self.new_outcomes.push(request.key().clone());
    }
}

/// Creates the account if missing; an existing one must have an equal spec.
pub fn ensure_account(state: &mut State, spec: &AccountSpec) -> Result<Ensured, EnsureError> {
    spec.validate()?;
    match state.accounts.get(&spec.id) {
        Some(existing) if existing.spec == *spec => Ok(Ensured::AlreadyExists),
        Some(_) => Err(EnsureError::Conflict(spec.id.clone())),
        None => {
            state
                .accounts
                .insert(spec.id.clone(), Account::new(spec.clone()));
            state.changed_accounts.insert(spec.id.clone());
            Ok(Ensured::Created)
        }
    }
}

/// The result of executing one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    pub reply: Reply,
    /// True when the reply was recorded under the key (false for replays and key conflicts,
    /// which change nothing and are not appended to the audit log).
    pub recorded: bool,
}

/// Applies one request. The state must hold every row the request can touch.
pub fn execute(state: &mut State, request: &Request) -> Result<Executed, InvariantViolation> {
    let key = request.key();
    if let Some(outcome) = state.outcomes.get(key) {
        let reply = if outcome.fingerprint == request.fingerprint() {
            Reply {
                replayed: true,
                ..outcome.reply.clone()
            }
        } else {
            reply(
                key,
                ResultCode::IdempotencyKeyReusedWithDifferentRequest,
                None,
            )
        };
        return Ok(Executed {
            reply,
            recorded: false,
        });
    }
    let reply = match request {
        Request::Reserve {
            accounts, amounts, ..
        } => reserve(state, request, accounts, amounts, TransferState::Pending)?,
        Request::ReserveAndPost {
            accounts, amounts, ..
        } => reserve(state, request, accounts, amounts, TransferState::Posted)?,
        Request::Post { pending, .. }
        | Request::Void { pending, .. }
        | Request::Expire { pending, .. } => resolve(state, request, pending)?,
    };
    state.record(request, &reply);
    Ok(Executed {
        reply,
        recorded: true,
    })
}

fn reply(key: &Key, code: ResultCode, account: Option<&AccountId>) -> Reply {
    Reply {
        key: key.clone(),
        code,
        account: account.cloned(),
        replayed: false,
    }
}

/// Checks a reserve against every account; `Err` carries the failing code and account.
fn check_reserve(
    state: &State,
    request: &Request,
    accounts: &[AccountId],
    amounts: &Amounts,
) -> Result<(), (ResultCode, Option<AccountId>)> {
    let distinct: BTreeSet<&AccountId> = accounts.iter().collect();
    if accounts.is_empty()
        || accounts.len() > ACCOUNTS_PER_TRANSFER_MAX
        || distinct.len() != accounts.len()
    {
        return Err((ResultCode::InvalidAccounts, None));
    }
    if amounts.is_zero() {
        return Err((ResultCode::AmountsZero, None));
    }
    if !amounts.is_within_max() {
        return Err((ResultCode::Overflow, None));
    }
    let day = request.at().date();
    for id in accounts {
        let fail = |code| Err((code, Some(id.clone())));
        let Some(account) = state.accounts.get(id) else {
            return fail(ResultCode::AccountNotFound);
        };
        if account.status != AccountStatus::Active {
            return fail(ResultCode::AccountNotActive);
        }
        if !account.spec.is_valid_on(day) {
            return fail(ResultCode::AccountNotValidOnDate);
        }
        let Some(used) = account.used().and_then(|u| u.checked_add(amounts)) else {
            // A sum past AMOUNT_MAX also passes any limit in that dimension; report the limit,
            // which is what a user acts on, and `overflow` only for unlimited dimensions.
            let exceeds = account
                .spec
                .limits
                .first_exceeded(&max_used(account, amounts))
                .is_some();
            return fail(if exceeds {
                ResultCode::ExceedsLimit
            } else {
                ResultCode::Overflow
            });
        };
        if account.spec.limits.first_exceeded(&used).is_some() {
            return fail(ResultCode::ExceedsLimit);
        }
    }
    Ok(())
}

/// posted + pending + amounts, saturating per dimension (only for classifying an overflow).
fn max_used(account: &Account, amounts: &Amounts) -> Amounts {
    let sum = |a: u64, b: u64, c: u64| a.saturating_add(b).saturating_add(c);
    Amounts {
        units: sum(account.posted.units, account.pending.units, amounts.units),
        value: sum(account.posted.value, account.pending.value, amounts.value),
        tpp: sum(account.posted.tpp, account.pending.tpp, amounts.tpp),
    }
}

fn reserve(
    state: &mut State,
    request: &Request,
    accounts: &[AccountId],
    amounts: &Amounts,
    target: TransferState,
) -> Result<Reply, InvariantViolation> {
    let key = request.key();
    if let Err((code, account)) = check_reserve(state, request, accounts, amounts) {
        return Ok(reply(key, code, account.as_ref()));
    }
    for id in accounts {
        let account = state.accounts.get_mut(id).expect("checked above");
        let balance = if target == TransferState::Posted {
            &mut account.posted
        } else {
            &mut account.pending
        };
        *balance = balance.checked_add(amounts).expect("checked above");
        check_account(account)?;
        state.changed_accounts.insert(id.clone());
    }
    let resolved_at = (target == TransferState::Posted).then(|| request.at());
    let transfer = Transfer {
        key: key.clone(),
        accounts: accounts.to_vec(),
        amounts: *amounts,
        state: target,
        reserved_at: request.at(),
        resolved_at,
    };
    // INVARIANT (transfer-id-unique): a transfer's id is the key of its reserve, recorded once.
    assert!(
        state.transfers.insert(key.clone(), transfer).is_none(),
        "transfer ids are unique"
    );
    state.changed_transfers.insert(key.clone());
    Ok(reply(key, ResultCode::Ok, None))
}

fn resolve(
    state: &mut State,
    request: &Request,
    pending: &Key,
) -> Result<Reply, InvariantViolation> {
    let key = request.key();
    let Some(transfer) = state.transfers.get(pending) else {
        return Ok(reply(key, ResultCode::PendingNotFound, None));
    };
    let code = match transfer.state {
        TransferState::Pending => None,
        TransferState::Posted => Some(ResultCode::AlreadyPosted),
        TransferState::Voided => Some(ResultCode::AlreadyVoided),
        TransferState::Expired => Some(ResultCode::Expired),
    };
    if let Some(code) = code {
        return Ok(reply(key, code, None));
    }
    let target = match request {
        Request::Post { .. } => TransferState::Posted,
        Request::Void { .. } => TransferState::Voided,
        Request::Expire {
            timeout_seconds,
            at,
            ..
        } => {
            if *at < transfer.reserved_at.plus_seconds(*timeout_seconds) {
                return Ok(reply(key, ResultCode::PendingNotExpired, None));
            }
            TransferState::Expired
        }
        Request::Reserve { .. } | Request::ReserveAndPost { .. } => {
            unreachable!("resolve is only called for post, void, expire")
        }
    };
    let (accounts, amounts) = (transfer.accounts.clone(), transfer.amounts);
    for id in &accounts {
        let account = state
            .accounts
            .get_mut(id)
            .ok_or_else(|| InvariantViolation {
                account: id.to_string(),
                what: format!("transfer `{pending}` names an account that is missing"),
            })?;
        // INVARIANT (non-negative): pending never goes below zero.
        account.pending =
            account
                .pending
                .checked_sub(&amounts)
                .ok_or_else(|| InvariantViolation {
                    account: id.to_string(),
                    what: format!("releasing transfer `{pending}` would take pending below zero"),
                })?;
        if target == TransferState::Posted {
            account.posted =
                account
                    .posted
                    .checked_add(&amounts)
                    .ok_or_else(|| InvariantViolation {
                        account: id.to_string(),
                        what: "posted overflows".to_owned(),
                    })?;
        }
        check_account(account)?;
        state.changed_accounts.insert(id.clone());
    }
    let transfer = state.transfers.get_mut(pending).expect("found above");
    transfer.state = target;
    transfer.resolved_at = Some(request.at());
    state.changed_transfers.insert(pending.clone());
    Ok(reply(key, ResultCode::Ok, None))
}
