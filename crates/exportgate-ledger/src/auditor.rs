//! The auditor: an independent, deliberately plain reference model of the ledger.
//!
//! It shares no code with [`crate::engine`] beyond the data types, so that checking the stores
//! (which run the engine) against it catches mistakes in either. Tests drive it with the same
//! requests, in the same order, as a store, and compare every reply and every final balance.

// Plain index loops over the three dimensions keep the model obviously parallel to the spec.
#![allow(clippy::needless_range_loop)]

use crate::account::{AccountId, AccountSpec, AccountStatus};
use crate::amount::{Amounts, AMOUNT_MAX};
use crate::request::{Key, Reply, Request, ResultCode, TransferState};
use std::collections::HashMap;

#[derive(Clone, Debug)]
struct AuditedAccount {
    spec: AccountSpec,
    status: AccountStatus,
    posted: [u128; 3],
    pending: [u128; 3],
}

#[derive(Clone, Debug)]
struct AuditedTransfer {
    accounts: Vec<AccountId>,
    amounts: [u128; 3],
    state: TransferState,
    reserved_at_micros: i64,
}

/// The reference model.
#[derive(Clone, Debug, Default)]
pub struct Auditor {
    accounts: HashMap<AccountId, AuditedAccount>,
    transfers: HashMap<Key, AuditedTransfer>,
    replies: HashMap<Key, (String, Reply)>,
}

fn widen(amounts: &Amounts) -> [u128; 3] {
    [
        u128::from(amounts.units),
        u128::from(amounts.value),
        u128::from(amounts.tpp),
    ]
}

fn limits_of(spec: &AccountSpec) -> [Option<u128>; 3] {
    [spec.limits.units, spec.limits.value, spec.limits.tpp].map(|l| l.map(u128::from))
}

impl Auditor {
    /// An empty model.
    pub fn new() -> Auditor {
        Auditor::default()
    }

    /// Adds an account (an existing id is left alone, as the stores do for an equal spec).
    pub fn add_account(&mut self, spec: AccountSpec) {
        self.accounts
            .entry(spec.id.clone())
            .or_insert(AuditedAccount {
                spec,
                status: AccountStatus::Active,
                posted: [0; 3],
                pending: [0; 3],
            });
    }

    /// Changes an account's status.
    pub fn set_status(&mut self, id: &AccountId, status: AccountStatus) {
        if let Some(account) = self.accounts.get_mut(id) {
            account.status = status;
        }
    }

    /// The expected reply to `request` given everything applied so far.
    pub fn apply(&mut self, request: &Request) -> Reply {
        let key = request.key().clone();
        let fingerprint = request.fingerprint();
        if let Some((original_fingerprint, original)) = self.replies.get(&key) {
            if *original_fingerprint == fingerprint {
                let mut replay = original.clone();
                replay.replayed = true;
                return replay;
            }
            return Reply {
                key,
                code: ResultCode::IdempotencyKeyReusedWithDifferentRequest,
                account: None,
                replayed: false,
            };
        }
        let (code, account) = match request {
            Request::Reserve {
                accounts,
                amounts,
                at,
                ..
            } => self.reserve(&key, accounts, amounts, at.micros(), request, false),
            Request::ReserveAndPost {
                accounts,
                amounts,
                at,
                ..
            } => self.reserve(&key, accounts, amounts, at.micros(), request, true),
            Request::Post { pending, .. } => {
                (self.finish(pending, TransferState::Posted, None, 0), None)
            }
            Request::Void { pending, .. } => {
                (self.finish(pending, TransferState::Voided, None, 0), None)
            }
            Request::Expire {
                pending,
                timeout_seconds,
                at,
                ..
            } => (
                self.finish(
                    pending,
                    TransferState::Expired,
                    Some(*timeout_seconds),
                    at.micros(),
                ),
                None,
            ),
        };
        let reply = Reply {
            key: key.clone(),
            code,
            account,
            replayed: false,
        };
        self.replies.insert(key, (fingerprint, reply.clone()));
        reply
    }

    fn reserve(
        &mut self,
        key: &Key,
        accounts: &[AccountId],
        amounts: &Amounts,
        at_micros: i64,
        request: &Request,
        post: bool,
    ) -> (ResultCode, Option<AccountId>) {
        let mut seen = std::collections::HashSet::new();
        if accounts.is_empty() || accounts.len() > 4 || !accounts.iter().all(|a| seen.insert(a)) {
            return (ResultCode::InvalidAccounts, None);
        }
        let amount = widen(amounts);
        if amount == [0; 3] {
            return (ResultCode::AmountsZero, None);
        }
        if amount.iter().any(|a| *a > u128::from(AMOUNT_MAX)) {
            return (ResultCode::Overflow, None);
        }
        let day = request.at().date();
        for id in accounts {
            let Some(account) = self.accounts.get(id) else {
                return (ResultCode::AccountNotFound, Some(id.clone()));
            };
            if account.status != AccountStatus::Active {
                return (ResultCode::AccountNotActive, Some(id.clone()));
            }
            let starts_later = account.spec.valid_from.is_some_and(|from| day < from);
            let ended = account.spec.valid_to.is_some_and(|to| day > to);
            if starts_later || ended {
                return (ResultCode::AccountNotValidOnDate, Some(id.clone()));
            }
            let limits = limits_of(&account.spec);
            let mut over_limit = false;
            let mut over_max = false;
            for i in 0..3 {
                let total = account.posted[i] + account.pending[i] + amount[i];
                if limits[i].is_some_and(|limit| total > limit) {
                    over_limit = true;
                }
                if total > u128::from(AMOUNT_MAX) {
                    over_max = true;
                }
            }
            if over_limit {
                return (ResultCode::ExceedsLimit, Some(id.clone()));
            }
            if over_max {
                return (ResultCode::Overflow, Some(id.clone()));
            }
        }
        for id in accounts {
            let account = self.accounts.get_mut(id).expect("checked");
            for i in 0..3 {
                if post {
                    account.posted[i] += amount[i];
                } else {
                    account.pending[i] += amount[i];
                }
            }
        }
        let state = if post {
            TransferState::Posted
        } else {
            TransferState::Pending
        };
        let transfer = AuditedTransfer {
            accounts: accounts.to_vec(),
            amounts: amount,
            state,
            reserved_at_micros: at_micros,
        };
        self.transfers.insert(key.clone(), transfer);
        (ResultCode::Ok, None)
    }

    fn finish(
        &mut self,
        pending: &Key,
        target: TransferState,
        timeout_seconds: Option<u64>,
        at_micros: i64,
    ) -> ResultCode {
        let Some(transfer) = self.transfers.get_mut(pending) else {
            return ResultCode::PendingNotFound;
        };
        match transfer.state {
            TransferState::Posted => return ResultCode::AlreadyPosted,
            TransferState::Voided => return ResultCode::AlreadyVoided,
            TransferState::Expired => return ResultCode::Expired,
            TransferState::Pending => {}
        }
        if let Some(timeout) = timeout_seconds {
            let deadline =
                i128::from(transfer.reserved_at_micros) + i128::from(timeout) * 1_000_000;
            if i128::from(at_micros) < deadline.min(i128::from(i64::MAX)) {
                return ResultCode::PendingNotExpired;
            }
        }
        transfer.state = target;
        for id in &transfer.accounts {
            let account = self
                .accounts
                .get_mut(id)
                .expect("transfers name existing accounts");
            for i in 0..3 {
                account.pending[i] -= transfer.amounts[i];
                if target == TransferState::Posted {
                    account.posted[i] += transfer.amounts[i];
                }
            }
        }
        ResultCode::Ok
    }

    /// The fingerprint recorded under a key, if any.
    pub fn fingerprint(&self, key: &Key) -> Option<&str> {
        self.replies.get(key).map(|(f, _)| f.as_str())
    }

    /// Expected (posted, pending) of an account.
    pub fn balance(&self, id: &AccountId) -> Option<(Amounts, Amounts)> {
        let account = self.accounts.get(id)?;
        let narrow = |a: [u128; 3]| Amounts {
            units: a[0] as u64,
            value: a[1] as u64,
            tpp: a[2] as u64,
        };
        Some((narrow(account.posted), narrow(account.pending)))
    }

    /// Expected state of a transfer.
    pub fn transfer_state(&self, key: &Key) -> Option<TransferState> {
        self.transfers.get(key).map(|t| t.state)
    }

    /// All account ids.
    pub fn account_ids(&self) -> Vec<AccountId> {
        let mut ids: Vec<AccountId> = self.accounts.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Checks the model's own invariants: nothing above a limit.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (id, account) in &self.accounts {
            let limits = limits_of(&account.spec);
            for i in 0..3 {
                let used = account.posted[i] + account.pending[i];
                if limits[i].is_some_and(|limit| used > limit) {
                    return Err(format!("auditor: account `{id}` is above its limit"));
                }
            }
        }
        Ok(())
    }
}
