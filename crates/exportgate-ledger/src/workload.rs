//! A seeded random workload and the checks that compare a store with the [`Auditor`].
//!
//! Each client gets its own deterministic stream of operations (from `seed` and its client
//! number) over a shared set of small-limit accounts, so clients contend for the same limits
//! and pending transfers. The store's audit log records the commit order; replaying it into
//! the auditor must reproduce every logged reply exactly, and every reply a client saw.

use crate::account::{AccountId, AccountKind, AccountSpec, AccountStatus};
use crate::amount::{Amounts, Limits};
use crate::audit::{AuditRecord, KIND_ACCOUNT_STATUS, KIND_LEDGER};
use crate::auditor::Auditor;
use crate::request::{Key, Reply, Request, ResultCode};
use crate::time::Timestamp;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

/// SplitMix64: tiny, deterministic across platforms and versions.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn day(year: i32, month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, d).expect("valid date")
}

/// The accounts every workload run starts with.
pub fn workload_accounts() -> Vec<AccountSpec> {
    let mut specs = Vec::new();
    for i in 0..6u64 {
        specs.push(AccountSpec {
            id: AccountId::new(format!("licence:W{i}")).expect("short id"),
            kind: AccountKind::Licence {
                number: format!("W{i}"),
            },
            limits: Limits {
                units: Some(200 + 100 * i),
                value: (i % 2 == 0).then_some(5_000_000),
                tpp: None,
            },
            valid_from: Some(day(2025, 1, 1)),
            valid_to: Some(if i == 5 {
                day(2025, 6, 30)
            } else {
                day(2027, 12, 31)
            }),
        });
    }
    specs.push(AccountSpec::country_allocation("AE", false));
    specs.push(AccountSpec::lpp("Falcon Compute LLC", day(2025, 1, 1)));
    specs.push(AccountSpec::lpp("Falcon Compute LLC", day(2026, 1, 1)));
    specs.push(AccountSpec::uveu_tier2_country(
        "Big Cloud",
        "IN",
        50_000_000_000,
    ));
    specs
}

/// One step of a client.
#[derive(Clone, Debug)]
pub enum Op {
    /// Submit these requests as one batch.
    Submit(Vec<Request>),
    /// Change an account's status.
    SetStatus {
        account: AccountId,
        status: AccountStatus,
        at: Timestamp,
    },
}

/// One client's deterministic stream of operations.
#[derive(Clone, Debug)]
pub struct ClientWorkload {
    rng: Rng,
    client: u64,
    clients: u64,
    next_key: u64,
    accounts: Vec<AccountId>,
    sent: Vec<Request>,
}

const SENT_REMEMBERED_MAX: usize = 256;
/// Most requests per generated batch.
pub const WORKLOAD_BATCH_MAX: u64 = 48;

impl ClientWorkload {
    /// Client `client` of `clients`, seeded from `seed`.
    pub fn new(seed: u64, client: u64, clients: u64) -> ClientWorkload {
        let accounts = workload_accounts().into_iter().map(|s| s.id).collect();
        let rng = Rng::new(seed ^ (client.wrapping_add(1)).wrapping_mul(0xA076_1D64_78BD_642F));
        ClientWorkload {
            rng,
            client,
            clients,
            next_key: 0,
            accounts,
            sent: Vec::new(),
        }
    }

    fn at(&mut self) -> Timestamp {
        // Mostly inside 2025–2027, sometimes before or after, to hit validity windows.
        let days = self.rng.below(3 * 365 + 60) as i64 - 30;
        let base = Timestamp::start_of(day(2025, 1, 1)).micros();
        Timestamp::from_micros(base + days * 86_400_000_000 + self.rng.below(86_400_000_000) as i64)
    }

    fn key(&mut self) -> Key {
        self.next_key += 1;
        Key::new(format!("c{}-{}", self.client, self.next_key)).expect("short key")
    }

    /// A key some client has used or will use (maybe this one, maybe none yet).
    fn some_key(&mut self) -> Key {
        let client = self.rng.below(self.clients);
        let n = 1 + self.rng.below(self.next_key.max(1) + 2);
        Key::new(format!("c{client}-{n}")).expect("short key")
    }

    fn amounts(&mut self) -> Amounts {
        if self.rng.percent(2) {
            return Amounts::ZERO;
        }
        let units = 1 + self.rng.below(20);
        Amounts {
            units,
            value: units * (10_000 + self.rng.below(30_000)),
            tpp: units * 15_832,
        }
    }

    fn reserve_accounts(&mut self) -> Vec<AccountId> {
        if self.rng.percent(1) {
            return vec![AccountId::new("licence:missing").expect("short id")];
        }
        let n = 1 + self.rng.below(2) as usize;
        let mut chosen: Vec<AccountId> = Vec::new();
        while chosen.len() < n {
            let id = self.accounts[self.rng.below(self.accounts.len() as u64) as usize].clone();
            if !chosen.contains(&id) || self.rng.percent(5) {
                chosen.push(id);
            }
        }
        chosen
    }

    fn request(&mut self) -> Request {
        let roll = self.rng.below(100);
        if roll < 8 && !self.sent.is_empty() {
            // Replay an earlier request unchanged (a retry), at a later time.
            let earlier = self.sent[self.rng.below(self.sent.len() as u64) as usize].clone();
            return with_at(earlier, self.at());
        }
        if roll < 10 {
            // Reuse someone's key with a fresh request: usually a conflict.
            let (key, at) = (self.some_key(), self.at());
            return Request::Void {
                key,
                pending: self.some_key(),
                at,
            };
        }
        let at = self.at();
        let request = match roll {
            10..=39 => Request::Reserve {
                key: self.key(),
                accounts: self.reserve_accounts(),
                amounts: self.amounts(),
                at,
            },
            40..=64 => Request::ReserveAndPost {
                key: self.key(),
                accounts: self.reserve_accounts(),
                amounts: self.amounts(),
                at,
            },
            65..=79 => Request::Post {
                key: self.key(),
                pending: self.pending_key(),
                at,
            },
            80..=89 => Request::Void {
                key: self.key(),
                pending: self.pending_key(),
                at,
            },
            _ => Request::Expire {
                key: self.key(),
                pending: self.pending_key(),
                timeout_seconds: self.rng.below(200) * 86_400,
                at,
            },
        };
        if self.sent.len() == SENT_REMEMBERED_MAX {
            self.sent
                .swap_remove(self.rng.below(SENT_REMEMBERED_MAX as u64) as usize);
        }
        self.sent.push(request.clone());
        request
    }

    fn pending_key(&mut self) -> Key {
        // Mostly one of this client's recent reserves, sometimes anyone's key.
        let reserves: Vec<&Request> = self
            .sent
            .iter()
            .filter(|r| matches!(r, Request::Reserve { .. }))
            .collect();
        if reserves.is_empty() || self.rng.percent(8) {
            return self.some_key();
        }
        reserves[self.rng.below(reserves.len() as u64) as usize]
            .key()
            .clone()
    }

    /// The next operation.
    pub fn next_op(&mut self) -> Op {
        if self.rng.percent(1) {
            let account = self.accounts[self.rng.below(6) as usize].clone();
            let status = if self.rng.percent(30) {
                AccountStatus::Suspended
            } else {
                AccountStatus::Active
            };
            return Op::SetStatus {
                account,
                status,
                at: self.at(),
            };
        }
        let n = 1 + self.rng.below(WORKLOAD_BATCH_MAX);
        Op::Submit((0..n).map(|_| self.request()).collect())
    }
}

fn with_at(request: Request, new_at: Timestamp) -> Request {
    match request {
        Request::Reserve {
            key,
            accounts,
            amounts,
            ..
        } => Request::Reserve {
            key,
            accounts,
            amounts,
            at: new_at,
        },
        Request::ReserveAndPost {
            key,
            accounts,
            amounts,
            ..
        } => Request::ReserveAndPost {
            key,
            accounts,
            amounts,
            at: new_at,
        },
        Request::Post { key, pending, .. } => Request::Post {
            key,
            pending,
            at: new_at,
        },
        Request::Void { key, pending, .. } => Request::Void {
            key,
            pending,
            at: new_at,
        },
        Request::Expire {
            key,
            pending,
            timeout_seconds,
            ..
        } => Request::Expire {
            key,
            pending,
            timeout_seconds,
            at: new_at,
        },
    }
}

/// Replays a store's audit log (in seq order) into `auditor`, checking each logged reply.
/// Returns the keys of logged ledger requests.
pub fn replay_audit_log(
    auditor: &mut Auditor,
    records: &[AuditRecord],
) -> Result<HashSet<Key>, String> {
    let mut logged = HashSet::new();
    for record in records {
        let payload: serde_json::Value = serde_json::from_str(&record.payload)
            .map_err(|e| format!("record {}: payload is not JSON: {e}", record.seq))?;
        match record.kind.as_str() {
            KIND_LEDGER => {
                let request: Request = serde_json::from_value(payload["request"].clone())
                    .map_err(|e| format!("record {}: bad request: {e}", record.seq))?;
                let reply: Reply = serde_json::from_value(payload["reply"].clone())
                    .map_err(|e| format!("record {}: bad reply: {e}", record.seq))?;
                let expected = auditor.apply(&request);
                if expected != reply {
                    return Err(format!(
                        "record {}: store replied {reply:?}, the auditor expects {expected:?}",
                        record.seq
                    ));
                }
                logged.insert(request.key().clone());
            }
            KIND_ACCOUNT_STATUS => {
                let account: AccountId = serde_json::from_value(payload["account"].clone())
                    .map_err(|e| e.to_string())?;
                let status: AccountStatus =
                    serde_json::from_value(payload["status"].clone()).map_err(|e| e.to_string())?;
                auditor.set_status(&account, status);
            }
            _ => {}
        }
    }
    auditor.check_invariants()?;
    Ok(logged)
}

/// Checks every reply a client received against the replayed auditor: a logged request's
/// reply must be the logged one; a replay must equal the recorded reply; a key conflict must
/// name a key recorded with a different request.
pub fn check_client_replies(
    auditor: &Auditor,
    log: &HashMap<Key, Reply>,
    seen: &[(Request, Reply)],
) -> Result<(), String> {
    for (request, reply) in seen {
        let key = request.key();
        let recorded = log
            .get(key)
            .ok_or_else(|| format!("key `{key}` got {reply:?} but is not in the audit log"))?;
        let fine = match reply.code {
            ResultCode::IdempotencyKeyReusedWithDifferentRequest => auditor
                .fingerprint(key)
                .is_some_and(|f| f != request.fingerprint()),
            _ if reply.replayed => {
                Reply {
                    replayed: false,
                    ..reply.clone()
                } == *recorded
            }
            _ => reply == recorded,
        };
        if !fine {
            return Err(format!(
                "key `{key}`: client saw {reply:?}, log has {recorded:?}"
            ));
        }
    }
    Ok(())
}

/// Logged replies by key, from audit records.
pub fn logged_replies(records: &[AuditRecord]) -> HashMap<Key, Reply> {
    records
        .iter()
        .filter(|r| r.kind == KIND_LEDGER)
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r.payload).ok())
        .filter_map(|v| serde_json::from_value::<Reply>(v["reply"].clone()).ok())
        .map(|reply| (reply.key.clone(), reply))
        .collect()
}
