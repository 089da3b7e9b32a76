//! [`MemoryStore`]: a [`LedgerStore`] that keeps everything in memory, for tests and for callers
//! that do not need durability. It runs the same batch driver as the database backends.

use crate::account::{Account, AccountId, AccountSpec, AccountStatus, Balance};
use crate::audit::{
    verify_chain, AuditBreak, AuditRecord, AuditSummary, GENESIS_HASH, KIND_DECISION,
    KIND_LICENCE_ADDED,
};
use crate::engine::{Changes, Ensured, Outcome};
use crate::licence::Licence;
use crate::request::{Key, Reply, Request, Transfer};
use crate::store::{
    check_balances, run_batch, run_ensure, run_set_status, run_ship_group, LedgerStore,
    LicenceView, Rows, ShipPlan, StoreError,
};
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// An in-memory ledger store.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    accounts: BTreeMap<AccountId, Account>,
    transfers: BTreeMap<Key, Transfer>,
    outcomes: BTreeMap<Key, Outcome>,
    licences: BTreeMap<String, Licence>,
    audit: Vec<AuditRecord>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl Rows for MemoryStore {
    fn load_outcomes(&mut self, keys: &[&Key]) -> Result<Vec<(Key, Outcome)>, StoreError> {
        Ok(keys
            .iter()
            .filter_map(|k| self.outcomes.get(*k).map(|o| ((*k).clone(), o.clone())))
            .collect())
    }
    fn load_transfers(&mut self, keys: &[&Key]) -> Result<Vec<Transfer>, StoreError> {
        Ok(keys
            .iter()
            .filter_map(|k| self.transfers.get(*k).cloned())
            .collect())
    }
    fn load_accounts(&mut self, ids: &[&AccountId]) -> Result<Vec<Account>, StoreError> {
        Ok(ids
            .iter()
            .filter_map(|id| self.accounts.get(*id).cloned())
            .collect())
    }
    fn write_changes(&mut self, changes: &Changes) -> Result<(), StoreError> {
        for account in &changes.accounts {
            self.accounts
                .insert(account.spec.id.clone(), account.clone());
        }
        for transfer in &changes.transfers {
            self.transfers
                .insert(transfer.key.clone(), transfer.clone());
        }
        for (key, outcome) in &changes.outcomes {
            self.outcomes.insert(key.clone(), outcome.clone());
        }
        Ok(())
    }
    fn audit_head(&mut self) -> Result<(u64, String), StoreError> {
        Ok(self
            .audit
            .last()
            .map(|r| (r.seq, r.hash.clone()))
            .unwrap_or((0, GENESIS_HASH.to_owned())))
    }
    fn append_audit(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        self.audit.extend_from_slice(records);
        Ok(())
    }
}

impl LedgerStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn ensure_account(
        &mut self,
        spec: &AccountSpec,
        actor: &str,
        at: Timestamp,
    ) -> Result<Ensured, StoreError> {
        run_ensure(self, spec, actor, at)
    }

    fn set_account_status(
        &mut self,
        account: &AccountId,
        status: AccountStatus,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        run_set_status(self, account, status, actor, at)
    }

    fn submit(&mut self, actor: &str, requests: &[Request]) -> Result<Vec<Reply>, StoreError> {
        run_batch(self, actor, requests)
    }

    fn ship_group(&mut self, actor: &str, plan: &mut dyn ShipPlan) -> Result<(), StoreError> {
        // Nothing is written before the group ends: an error leaves the store as it was.
        run_ship_group(self, actor, plan)
    }

    fn balance(&mut self, account: &AccountId) -> Result<Option<Balance>, StoreError> {
        Ok(self.accounts.get(account).map(Account::balance))
    }

    fn transfer(&mut self, key: &Key) -> Result<Option<Transfer>, StoreError> {
        Ok(self.transfers.get(key).cloned())
    }

    fn recorded_reply(&mut self, key: &Key) -> Result<Option<Reply>, StoreError> {
        Ok(self.outcomes.get(key).map(|o| o.reply.clone()))
    }

    fn add_licence(
        &mut self,
        licence: &Licence,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        if self.licences.contains_key(&licence.number) {
            return Err(StoreError::DuplicateLicence(licence.number.clone()));
        }
        let spec = licence.account_spec();
        spec.validate().map_err(crate::engine::EnsureError::from)?;
        if self.accounts.contains_key(&spec.id) {
            return Err(StoreError::DuplicateLicence(licence.number.clone()));
        }
        let (seq, hash) = self.audit_head()?;
        let record = AuditRecord::next(
            seq,
            &hash,
            at,
            actor,
            KIND_LICENCE_ADDED,
            licence.to_json().to_string(),
        );
        self.append_audit(&[record])?;
        run_ensure(self, &spec, actor, at)?;
        if licence.status != AccountStatus::Active {
            run_set_status(self, &spec.id, licence.status, actor, at)?;
        }
        self.licences
            .insert(licence.number.clone(), licence.clone());
        Ok(())
    }

    fn list_licences(&mut self) -> Result<Vec<Licence>, StoreError> {
        Ok(self.licences.values().cloned().collect())
    }

    fn licence(&mut self, number: &str) -> Result<Option<LicenceView>, StoreError> {
        let Some(licence) = self.licences.get(number).cloned() else {
            return Ok(None);
        };
        let id = licence.account_id();
        let account = self
            .accounts
            .get(&id)
            .ok_or_else(|| StoreError::Corrupt(format!("licence `{number}` has no account")))?;
        let mut licence = licence;
        licence.status = account.status;
        let mut history: Vec<Transfer> = self
            .transfers
            .values()
            .filter(|t| t.accounts.contains(&id))
            .cloned()
            .collect();
        history.sort_by(|a, b| (a.reserved_at, &a.key).cmp(&(b.reserved_at, &b.key)));
        Ok(Some(LicenceView {
            licence,
            balance: account.balance(),
            history,
        }))
    }

    fn account_history(
        &mut self,
        account: &AccountId,
    ) -> Result<Option<(Balance, Vec<Transfer>)>, StoreError> {
        let Some(a) = self.accounts.get(account) else {
            return Ok(None);
        };
        let mut history: Vec<Transfer> = self
            .transfers
            .values()
            .filter(|t| t.accounts.contains(account))
            .cloned()
            .collect();
        history.sort_by(|a, b| (a.reserved_at, &a.key).cmp(&(b.reserved_at, &b.key)));
        Ok(Some((a.balance(), history)))
    }

    fn append_decision(
        &mut self,
        actor: &str,
        at: Timestamp,
        decision: &serde_json::Value,
    ) -> Result<u64, StoreError> {
        let (seq, hash) = self.audit_head()?;
        let record = AuditRecord::next(seq, &hash, at, actor, KIND_DECISION, decision.to_string());
        self.append_audit(&[record])?;
        Ok(seq + 1)
    }

    fn audit_records(
        &mut self,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(self
            .audit
            .iter()
            .filter(|r| r.seq > after_seq)
            .take(limit)
            .cloned()
            .collect())
    }

    fn verify_audit(&mut self) -> Result<Result<AuditSummary, AuditBreak>, StoreError> {
        let head = self.audit.last().map(|r| (r.seq, r.hash.clone()));
        Ok(verify_chain(&self.audit, head))
    }

    fn ledger_rows(&mut self) -> Result<(Vec<AuditRecord>, crate::LedgerRows), StoreError> {
        Ok((
            self.audit.clone(),
            crate::LedgerRows {
                accounts: self.accounts.values().cloned().collect(),
                transfers: self.transfers.values().cloned().collect(),
                licences: self
                    .licences
                    .values()
                    .map(|l| (l.number.clone(), l.to_json().to_string()))
                    .collect(),
                base: None,
            },
        ))
    }

    fn check_invariants(&mut self) -> Result<(), StoreError> {
        let accounts: Vec<Account> = self.accounts.values().cloned().collect();
        let transfers: Vec<Transfer> = self.transfers.values().cloned().collect();
        check_balances(&accounts, &transfers)
    }
}
