//! Ties the ledger's tables to its audit log: replays every audit record into a fresh
//! [`State`] and compares the result with the stored accounts, transfers and licences, and
//! recomputes every account's balance from the stored transfers ([`check_balances`]).
//!
//! The hash chain ([`crate::audit`]) proves the *log* unchanged; this proves the *tables*
//! follow from the log. Together with an anchor kept outside the database (the head's seq and
//! hash), an attacker who can write the database cannot change a balance, a transfer, an
//! account's limits or a licence without `audit verify` naming the first disagreement.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::{Account, AccountId, AccountSpec, AccountStatus};
use crate::audit::{
    AuditBase, AuditRecord, NamedBase, KIND_ACCOUNT_CREATED, KIND_ACCOUNT_STATUS,
    KIND_AUDIT_PRUNED, KIND_DECISION, KIND_LEDGER, KIND_LICENCE_ADDED,
};
use crate::engine::{self, Ensured, State};
use crate::request::{Key, Reply, Request, Transfer};
use crate::store::{check_balances, StoreError};

/// Every ledger row, read in one snapshot together with the audit log.
#[derive(Clone, Debug, Default)]
pub struct LedgerRows {
    pub accounts: Vec<Account>,
    pub transfers: Vec<Transfer>,
    /// Licence number and the licence's stored JSON text.
    pub licences: Vec<(String, String)>,
    /// Where the stored log starts, when `audit prune` removed a prefix.
    pub base: Option<AuditBase>,
}

/// The first place where the ledger's tables and its audit log disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{what}")]
pub struct Disagreement {
    /// The audit record involved, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<String>,
    pub what: String,
}

/// What agreed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciled {
    pub accounts: usize,
    pub transfers: usize,
    pub licences: usize,
    pub ledger_records: usize,
}

fn at_seq(seq: u64, what: String) -> Disagreement {
    Disagreement {
        seq: Some(seq),
        account: None,
        transfer: None,
        what: format!("audit record {seq}: {what}"),
    }
}

fn licence_without_status(json: &str) -> Option<Value> {
    let mut v: Value = serde_json::from_str(json).ok()?;
    v.as_object_mut()?.remove("status");
    Some(v)
}

/// The ledger's state after a prefix of the log, stored with the chain base by `audit prune`
/// so that reconciliation can start there: every account (spec, status, balances), every
/// transfer, every recorded outcome and every licence as it was added.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub accounts: Vec<Account>,
    pub transfers: Vec<Transfer>,
    pub outcomes: Vec<(Key, engine::Outcome)>,
    /// Licence number and the `licence_added` payload.
    pub licences: Vec<(String, String)>,
}

/// Replays audit records into a fresh state, from the start of the log or from a checkpoint.
pub struct Replay {
    state: State,
    transfer_seq: BTreeMap<Key, u64>,
    account_seq: BTreeMap<AccountId, u64>,
    licences: BTreeMap<String, (u64, String)>,
    ledger_records: usize,
}

impl Replay {
    /// A replay starting after `base` (its checkpoint loaded), or at the start of the log.
    pub fn new(base: Option<&AuditBase>) -> Result<Replay, Disagreement> {
        let mut replay = Replay {
            state: State::new(),
            transfer_seq: BTreeMap::new(),
            account_seq: BTreeMap::new(),
            licences: BTreeMap::new(),
            ledger_records: 0,
        };
        let Some(base) = base else {
            return Ok(replay);
        };
        let seq = base.seq;
        let fail = |what: String| Disagreement {
            seq: Some(seq),
            account: None,
            transfer: None,
            what: format!("the checkpoint stored with the chain base (record {seq}) {what}"),
        };
        let checkpoint: Checkpoint = serde_json::from_str(&base.checkpoint)
            .map_err(|e| fail(format!("is unreadable: {e}")))?;
        for account in checkpoint.accounts {
            replay.account_seq.insert(account.spec.id.clone(), seq);
            replay
                .state
                .load_account(account)
                .map_err(|e| fail(format!("breaks an invariant: {e}")))?;
        }
        for transfer in checkpoint.transfers {
            replay.transfer_seq.insert(transfer.key.clone(), seq);
            replay.state.load_transfer(transfer);
        }
        for (key, outcome) in checkpoint.outcomes {
            replay.state.load_outcome(key, outcome);
        }
        for (number, payload) in checkpoint.licences {
            replay.licences.insert(number, (seq, payload));
        }
        Ok(replay)
    }

    /// The state so far, as a checkpoint.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            accounts: self.state.accounts().cloned().collect(),
            transfers: self.state.transfers().cloned().collect(),
            outcomes: self
                .state
                .outcomes()
                .map(|(k, o)| (k.clone(), o.clone()))
                .collect(),
            licences: self
                .licences
                .iter()
                .map(|(n, (_, p))| (n.clone(), p.clone()))
                .collect(),
        }
    }

    /// Replays the next record.
    pub fn push(&mut self, record: &AuditRecord) -> Result<(), Disagreement> {
        let seq = record.seq;
        let fail = |what: String| at_seq(seq, what);
        let state = &mut self.state;
        match record.kind.as_str() {
            KIND_DECISION => {}
            KIND_AUDIT_PRUNED => {
                NamedBase::of(record)
                    .ok_or_else(|| fail("audit_pruned payload names no base".into()))?;
            }
            KIND_LICENCE_ADDED => {
                let number = serde_json::from_str::<Value>(&record.payload)
                    .ok()
                    .and_then(|v| v["number"].as_str().map(str::to_owned))
                    .ok_or_else(|| fail("licence_added payload has no number".into()))?;
                if self
                    .licences
                    .insert(number.clone(), (seq, record.payload.clone()))
                    .is_some()
                {
                    return Err(fail(format!("licence `{number}` added twice")));
                }
            }
            KIND_ACCOUNT_CREATED => {
                let spec: AccountSpec = serde_json::from_str(&record.payload)
                    .map_err(|e| fail(format!("account_created payload: {e}")))?;
                match engine::ensure_account(state, &spec) {
                    Ok(Ensured::Created) => {
                        self.account_seq.insert(spec.id.clone(), seq);
                    }
                    Ok(Ensured::AlreadyExists) => {
                        return Err(fail(format!("account `{}` created twice", spec.id)))
                    }
                    Err(e) => return Err(fail(format!("account_created: {e}"))),
                }
            }
            KIND_ACCOUNT_STATUS => {
                #[derive(Deserialize)]
                struct Status {
                    account: AccountId,
                    status: AccountStatus,
                }
                let s: Status = serde_json::from_str(&record.payload)
                    .map_err(|e| fail(format!("account_status payload: {e}")))?;
                if !state.set_status(&s.account, s.status) {
                    return Err(fail(format!(
                        "status of account `{}`, which the log never created",
                        s.account
                    )));
                }
                self.account_seq.insert(s.account, seq);
            }
            KIND_LEDGER => {
                #[derive(Deserialize)]
                struct Ledger {
                    request: Request,
                    reply: Reply,
                }
                let l: Ledger = serde_json::from_str(&record.payload)
                    .map_err(|e| fail(format!("ledger payload: {e}")))?;
                let executed = engine::execute(state, &l.request)
                    .map_err(|e| fail(format!("replaying it breaks an invariant: {e}")))?;
                if !executed.recorded || executed.reply != l.reply {
                    return Err(fail(format!(
                        "logged reply {:?} for key `{}`, but replaying the log gives {:?}",
                        l.reply.code,
                        l.request.key(),
                        executed.reply.code
                    )));
                }
                self.ledger_records += 1;
                self.transfer_seq.insert(l.request.key().clone(), seq);
                if let Some(pending) = l.request.pending() {
                    self.transfer_seq.insert(pending.clone(), seq);
                }
                for id in l.request.accounts() {
                    self.account_seq.insert(id.clone(), seq);
                }
            }
            other => return Err(fail(format!("unknown record kind `{other}`"))),
        }
        Ok(())
    }
}

/// Replays `records` (the whole stored log, in seq order, starting after `rows.base` when a
/// prefix was pruned) and compares the outcome with `rows`.
/// Checks, in this order: the chain base and its checkpoint are the ones the newest
/// `audit_pruned` record names; every ledger record's reply is what the ledger gives when the log is
/// replayed; every transfer in the log is stored as the log leaves it and no other transfer
/// is stored; every stored balance equals the sum of its stored transfers (and every account
/// keeps its invariants); every account is stored with the spec, status and balance the log
/// gives and no other account exists; every licence is stored as it was added.
pub fn reconcile(records: &[AuditRecord], rows: &LedgerRows) -> Result<Reconciled, Disagreement> {
    let base = rows.base.as_ref();
    let named = records
        .iter()
        .rev()
        .find(|r| r.kind == KIND_AUDIT_PRUNED)
        .map(|r| (r.seq, NamedBase::of(r)));
    let base_problem = match (base, &named) {
        (None, None) => None,
        (Some(b), Some((_, Some(n)))) if n.names(b) => None,
        (Some(_), Some((seq, _))) => Some(format!(
            "the stored chain base or its checkpoint is not the one audit record {seq} (audit_pruned) names"
        )),
        (Some(b), None) => Some(format!(
            "a chain base (record {}) is stored but no audit_pruned record names it",
            b.seq
        )),
        (None, Some((seq, _))) => Some(format!(
            "audit record {seq} (audit_pruned) names a chain base, but none is stored"
        )),
    };
    if let Some(what) = base_problem {
        return Err(Disagreement {
            seq: base.map(|b| b.seq),
            account: None,
            transfer: None,
            what,
        });
    }
    let mut replay = Replay::new(base)?;
    for record in records {
        replay.push(record)?;
    }
    let Replay {
        state,
        transfer_seq,
        account_seq,
        licences,
        ledger_records,
    } = replay;

    // Transfers: the log's against the table's.
    let stored: BTreeMap<&Key, &Transfer> = rows.transfers.iter().map(|t| (&t.key, t)).collect();
    for replayed in state.transfers() {
        let seq = transfer_seq.get(&replayed.key).copied();
        let problem = match stored.get(&replayed.key) {
            None => "is missing from the database".to_owned(),
            Some(t) if *t != replayed => format!(
                "is stored as {:?} {:?} on {:?}, the audit log gives {:?} {:?} on {:?}",
                t.state, t.amounts, t.accounts, replayed.state, replayed.amounts, replayed.accounts
            ),
            Some(_) => continue,
        };
        return Err(Disagreement {
            seq,
            account: None,
            transfer: Some(replayed.key.to_string()),
            what: format!(
                "transfer `{}` (audit record {}) {problem}",
                replayed.key,
                seq.map_or("?".to_owned(), |s| s.to_string())
            ),
        });
    }
    for t in &rows.transfers {
        if state.transfer(&t.key).is_none() {
            return Err(Disagreement {
                seq: None,
                account: None,
                transfer: Some(t.key.to_string()),
                what: format!(
                    "transfer `{}` is in the database but not in the audit log",
                    t.key
                ),
            });
        }
    }

    // Balances: recomputed from the stored transfers.
    if let Err(e) = check_balances(&rows.accounts, &rows.transfers) {
        let account = match &e {
            StoreError::Invariant(v) => Some(v.account.clone()),
            _ => None,
        };
        return Err(Disagreement {
            seq: None,
            account,
            transfer: None,
            what: format!("balances do not follow from the transfers: {e}"),
        });
    }

    // Accounts: the log's against the table's.
    let stored: BTreeMap<&AccountId, &Account> =
        rows.accounts.iter().map(|a| (&a.spec.id, a)).collect();
    for replayed in state.accounts() {
        let id = &replayed.spec.id;
        let seq = account_seq.get(id).copied();
        let problem = match stored.get(id) {
            None => "is missing from the database".to_owned(),
            Some(a) if a.spec != replayed.spec => format!(
                "is stored with limits {:?}, the audit log gives {:?}",
                a.spec.limits, replayed.spec.limits
            ),
            Some(a) if *a != replayed => format!(
                "is stored {} with posted {:?} pending {:?}, the audit log gives {} with posted {:?} pending {:?}",
                a.status.name(), a.posted, a.pending,
                replayed.status.name(), replayed.posted, replayed.pending
            ),
            Some(_) => continue,
        };
        return Err(Disagreement {
            seq,
            account: Some(id.to_string()),
            transfer: None,
            what: format!(
                "account `{id}` (last audit record {}) {problem}",
                seq.map_or("?".to_owned(), |s| s.to_string())
            ),
        });
    }
    for a in &rows.accounts {
        if state.account(&a.spec.id).is_none() {
            return Err(Disagreement {
                seq: None,
                account: Some(a.spec.id.to_string()),
                transfer: None,
                what: format!(
                    "account `{}` is in the database but not in the audit log",
                    a.spec.id
                ),
            });
        }
    }

    // Licences: as added.
    for (number, json) in &rows.licences {
        let Some((seq, logged)) = licences.get(number) else {
            return Err(Disagreement {
                seq: None,
                account: None,
                transfer: None,
                what: format!("licence `{number}` is in the database but not in the audit log"),
            });
        };
        let same = match (licence_without_status(json), licence_without_status(logged)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        if !same {
            return Err(at_seq(
                *seq,
                format!("licence `{number}` is stored differently from how it was added"),
            ));
        }
    }
    if let Some(number) = licences
        .keys()
        .find(|n| !rows.licences.iter().any(|(m, _)| m == *n))
    {
        let seq = licences[number].0;
        return Err(at_seq(
            seq,
            format!("licence `{number}` is missing from the database"),
        ));
    }
    Ok(Reconciled {
        accounts: rows.accounts.len(),
        transfers: rows.transfers.len(),
        licences: rows.licences.len(),
        ledger_records,
    })
}
