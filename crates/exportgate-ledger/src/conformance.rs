//! The backend conformance suite: behaviour every [`LedgerStore`] must show. Each function
//! takes a fresh, empty store and panics with a message on the first difference. The memory
//! store runs it in this crate's tests; `exportgate-store` runs it on SQLite and PostgreSQL.

use crate::account::{AccountId, AccountKind, AccountSpec, AccountStatus};
use crate::amount::{Amounts, Limits};
use crate::auditor::Auditor;
use crate::engine::Ensured;
use crate::licence::{AnyIds, Licence};
use crate::request::{Key, Request, ResultCode, TransferState};
use crate::store::{LedgerStore, StoreError};
use crate::time::Timestamp;
use crate::workload::{
    check_client_replies, logged_replies, replay_audit_log, workload_accounts, ClientWorkload, Op,
};
use chrono::NaiveDate;
use std::collections::HashSet;

/// 2025-03-01T00:00:00Z.
pub fn t0() -> Timestamp {
    Timestamp::start_of(NaiveDate::from_ymd_opt(2025, 3, 1).expect("date"))
}

fn key(k: &str) -> Key {
    Key::new(k).expect("test key")
}

fn id(i: &str) -> AccountId {
    AccountId::new(i).expect("test id")
}

/// The example licence of issue 5 (100 units of `nvidia-h100-sxm` to AE).
pub fn example_licence(number: &str) -> Licence {
    let json = format!(
        r#"{{"number": "{number}", "holder": "Acme Systems", "items": ["nvidia-h100-sxm"], "destinations": ["AE"],
        "consignees": ["Falcon Compute LLC"], "units": 100, "valid_from": "2025-01-01", "valid_to": "2027-12-31",
        "conditions": [{{"type": "revenue_share_percent", "value": 15}}]}}"#
    );
    Licence::from_json(&json, &AnyIds).expect("example licence is valid")
}

fn small_account(name: &str, units: u64) -> AccountSpec {
    AccountSpec {
        id: id(name),
        kind: AccountKind::Other {
            description: name.to_owned(),
        },
        limits: Limits {
            units: Some(units),
            ..Limits::default()
        },
        valid_from: Some(NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")),
        valid_to: Some(NaiveDate::from_ymd_opt(2025, 12, 31).expect("date")),
    }
}

/// Runs one request and returns its reply.
fn one(store: &mut dyn LedgerStore, request: Request) -> crate::Reply {
    let mut replies = store
        .submit("conformance", &[request])
        .expect("submit works");
    assert_eq!(replies.len(), 1);
    replies.remove(0)
}

/// Every result code, each produced on purpose, with balances checked after.
pub fn every_result_code(store: &mut dyn LedgerStore) {
    let at = t0();
    let a = small_account("acct:a", 10);
    let b = small_account("acct:b", 100);
    assert_eq!(store.ensure_account(&a, "t", at).unwrap(), Ensured::Created);
    assert_eq!(
        store.ensure_account(&a, "t", at).unwrap(),
        Ensured::AlreadyExists
    );
    store.ensure_account(&b, "t", at).unwrap();
    let mut conflicting = a.clone();
    conflicting.limits.units = Some(11);
    assert!(matches!(
        store.ensure_account(&conflicting, "t", at),
        Err(StoreError::Account(_))
    ));
    store
        .ensure_account(&small_account("acct:off", 5), "t", at)
        .unwrap();
    store
        .set_account_status(&id("acct:off"), AccountStatus::Suspended, "t", at)
        .unwrap();
    let mut big = small_account("acct:big", 1);
    big.limits = Limits {
        value: Some(1),
        ..Limits::default()
    };
    store.ensure_account(&big, "t", at).unwrap();

    let reserve = |k: &str, accounts: &[&str], units: u64, at: Timestamp| Request::Reserve {
        key: key(k),
        accounts: accounts.iter().map(|a| id(a)).collect(),
        amounts: Amounts::units(units),
        at,
    };
    let later = at.plus_seconds(3_600);
    let cases: Vec<(Request, ResultCode)> = vec![
        (reserve("r1", &["acct:a", "acct:b"], 4, at), ResultCode::Ok),
        (
            reserve("r1", &["acct:a", "acct:b"], 5, at),
            ResultCode::IdempotencyKeyReusedWithDifferentRequest,
        ),
        (reserve("r2", &[], 1, at), ResultCode::InvalidAccounts),
        (
            reserve("r3", &["acct:a", "acct:a"], 1, at),
            ResultCode::InvalidAccounts,
        ),
        (reserve("r4", &["acct:a"], 0, at), ResultCode::AmountsZero),
        (
            reserve("r5", &["acct:zzz"], 1, at),
            ResultCode::AccountNotFound,
        ),
        (
            reserve("r6", &["acct:off"], 1, at),
            ResultCode::AccountNotActive,
        ),
        (
            reserve(
                "r7",
                &["acct:a"],
                1,
                Timestamp::start_of(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            ),
            ResultCode::AccountNotValidOnDate,
        ),
        (
            reserve("r8", &["acct:b", "acct:a"], 7, at),
            ResultCode::ExceedsLimit,
        ),
        (
            Request::Reserve {
                key: key("r9"),
                accounts: vec![id("acct:big")],
                amounts: Amounts {
                    units: crate::AMOUNT_MAX,
                    ..Amounts::ZERO
                },
                at,
            },
            ResultCode::Ok,
        ),
        (
            Request::Reserve {
                key: key("r10"),
                accounts: vec![id("acct:big")],
                amounts: Amounts::units(1),
                at,
            },
            ResultCode::Overflow,
        ),
        (
            Request::Post {
                key: key("p1"),
                pending: key("nope"),
                at,
            },
            ResultCode::PendingNotFound,
        ),
        (
            Request::Post {
                key: key("p2"),
                pending: key("r5"),
                at,
            },
            ResultCode::PendingNotFound,
        ),
        (
            Request::Expire {
                key: key("e1"),
                pending: key("r1"),
                timeout_seconds: 7_200,
                at: later,
            },
            ResultCode::PendingNotExpired,
        ),
        (
            Request::Post {
                key: key("p3"),
                pending: key("r1"),
                at: later,
            },
            ResultCode::Ok,
        ),
        (
            Request::Post {
                key: key("p4"),
                pending: key("r1"),
                at: later,
            },
            ResultCode::AlreadyPosted,
        ),
        (reserve("r11", &["acct:a"], 6, at), ResultCode::Ok),
        (
            Request::Void {
                key: key("v1"),
                pending: key("r11"),
                at,
            },
            ResultCode::Ok,
        ),
        (
            Request::Void {
                key: key("v2"),
                pending: key("r11"),
                at,
            },
            ResultCode::AlreadyVoided,
        ),
        (reserve("r12", &["acct:a"], 6, at), ResultCode::Ok),
        (
            Request::Expire {
                key: key("e2"),
                pending: key("r12"),
                timeout_seconds: 60,
                at: later,
            },
            ResultCode::Ok,
        ),
        (
            Request::Post {
                key: key("p5"),
                pending: key("r12"),
                at: later,
            },
            ResultCode::Expired,
        ),
        (
            Request::ReserveAndPost {
                key: key("rp1"),
                accounts: vec![id("acct:a")],
                amounts: Amounts::units(6),
                at,
            },
            ResultCode::Ok,
        ),
        (
            Request::Void {
                key: key("v3"),
                pending: key("rp1"),
                at,
            },
            ResultCode::AlreadyPosted,
        ),
        (
            Request::ReserveAndPost {
                key: key("rp2"),
                accounts: vec![id("acct:a")],
                amounts: Amounts::units(1),
                at,
            },
            ResultCode::ExceedsLimit,
        ),
    ];
    let mut seen = HashSet::new();
    for (request, expected) in cases {
        let reply = one(store, request.clone());
        assert_eq!(
            reply.code,
            expected,
            "{}: {request:?} gave {reply:?}",
            store.backend()
        );
        seen.insert(expected);
    }
    for code in ResultCode::ALL {
        assert!(
            seen.contains(&code),
            "result code `{code}` is not exercised"
        );
    }
    let a_balance = store.balance(&id("acct:a")).unwrap().expect("exists");
    assert_eq!(
        (
            a_balance.posted.units,
            a_balance.pending.units,
            a_balance.available.units
        ),
        (10, 0, Some(0))
    );
    let b_balance = store.balance(&id("acct:b")).unwrap().expect("exists");
    assert_eq!((b_balance.posted.units, b_balance.pending.units), (4, 0));
    assert_eq!(
        store.transfer(&key("r12")).unwrap().expect("exists").state,
        TransferState::Expired
    );
    assert!(store.balance(&id("acct:zzz")).unwrap().is_none());
    let rejected = store
        .submit("t", &[reserve("r13", &["acct:a"], 1, at)])
        .unwrap();
    assert_eq!(rejected[0].code, ResultCode::ExceedsLimit);
    assert_eq!(rejected[0].account, Some(id("acct:a")));
    store.check_invariants().unwrap();
    store.verify_audit().unwrap().expect("audit log intact");
}

/// A replayed key returns the original reply and changes nothing, in later batches and within one.
pub fn idempotency_replay(store: &mut dyn LedgerStore) {
    let at = t0();
    store
        .ensure_account(&small_account("acct:i", 3), "t", at)
        .unwrap();
    let ship = |k: &str, at| Request::ReserveAndPost {
        key: key(k),
        accounts: vec![id("acct:i")],
        amounts: Amounts::units(2),
        at,
    };
    let first = one(store, ship("order-1", at));
    assert!(first.is_ok() && !first.replayed);
    let audit_before = store.audit_records(0, usize::MAX).unwrap().len();
    let again = one(store, ship("order-1", at.plus_seconds(99)));
    assert_eq!((again.code, again.replayed), (ResultCode::Ok, true));
    assert_eq!(
        store.audit_records(0, usize::MAX).unwrap().len(),
        audit_before,
        "a replay is not audited"
    );
    assert_eq!(
        store.balance(&id("acct:i")).unwrap().unwrap().posted.units,
        2
    );
    // A failure is remembered too: replaying it gives the same failure even after room appears.
    let over = one(store, ship("order-2", at));
    assert_eq!(over.code, ResultCode::ExceedsLimit);
    let replies = store
        .submit(
            "t",
            &[
                ship("order-3", at),
                ship("order-3", at),
                ship("order-2", at),
            ],
        )
        .unwrap();
    assert_eq!(replies[0].code, ResultCode::ExceedsLimit);
    assert_eq!(
        (replies[1].code, replies[1].replayed),
        (ResultCode::ExceedsLimit, true)
    );
    assert_eq!(
        (replies[2].code, replies[2].replayed),
        (ResultCode::ExceedsLimit, true)
    );
    let different = one(
        store,
        Request::Void {
            key: key("order-1"),
            pending: key("order-1"),
            at,
        },
    );
    assert_eq!(
        different.code,
        ResultCode::IdempotencyKeyReusedWithDifferentRequest
    );
    assert_eq!(
        store
            .recorded_reply(&key("order-1"))
            .unwrap()
            .expect("recorded")
            .code,
        ResultCode::Ok
    );
    assert!(store.recorded_reply(&key("never")).unwrap().is_none());
    assert_eq!(
        store.balance(&id("acct:i")).unwrap().unwrap().posted.units,
        2
    );
    store.check_invariants().unwrap();
}

/// Licences: add, duplicate rejection with nothing written, list, show with balance and history, status.
pub fn licences(store: &mut dyn LedgerStore) {
    let at = t0();
    let licence = example_licence("D1234567");
    store.add_licence(&licence, "t", at).unwrap();
    let audit_before = store.audit_records(0, usize::MAX).unwrap().len();
    let mut changed = licence.clone();
    changed.holder = "Someone Else".into();
    assert!(
        matches!(store.add_licence(&changed, "t", at), Err(StoreError::DuplicateLicence(n)) if n == "D1234567")
    );
    assert_eq!(
        store.audit_records(0, usize::MAX).unwrap().len(),
        audit_before,
        "a rejected licence writes nothing"
    );
    store
        .add_licence(&example_licence("A0000001"), "t", at)
        .unwrap();
    let numbers: Vec<String> = store
        .list_licences()
        .unwrap()
        .into_iter()
        .map(|l| l.number)
        .collect();
    assert_eq!(numbers, ["A0000001", "D1234567"]);
    let account = licence.account_id();
    let replies = store
        .submit(
            "t",
            &[
                Request::ReserveAndPost {
                    key: key("s1"),
                    accounts: vec![account.clone()],
                    amounts: Amounts::units(60),
                    at,
                },
                Request::Reserve {
                    key: key("s2"),
                    accounts: vec![account.clone()],
                    amounts: Amounts::units(30),
                    at: at.plus_seconds(1),
                },
                Request::ReserveAndPost {
                    key: key("s3"),
                    accounts: vec![account.clone()],
                    amounts: Amounts::units(11),
                    at,
                },
            ],
        )
        .unwrap();
    let codes: Vec<ResultCode> = replies.iter().map(|r| r.code).collect();
    assert_eq!(
        codes,
        [ResultCode::Ok, ResultCode::Ok, ResultCode::ExceedsLimit]
    );
    let view = store.licence("D1234567").unwrap().expect("licence exists");
    assert_eq!(view.licence, licence);
    assert_eq!(
        (
            view.balance.posted.units,
            view.balance.pending.units,
            view.balance.available.units
        ),
        (60, 30, Some(10))
    );
    let history: Vec<(&str, TransferState)> = view
        .history
        .iter()
        .map(|t| (t.key.as_str(), t.state))
        .collect();
    assert_eq!(
        history,
        [
            ("s1", TransferState::Posted),
            ("s2", TransferState::Pending)
        ]
    );
    assert!(store.licence("X9").unwrap().is_none());
    store
        .set_account_status(&account, AccountStatus::Suspended, "t", at)
        .unwrap();
    assert_eq!(
        store.licence("D1234567").unwrap().unwrap().licence.status,
        AccountStatus::Suspended
    );
    let refused = one(
        store,
        Request::Reserve {
            key: key("s4"),
            accounts: vec![account],
            amounts: Amounts::units(1),
            at,
        },
    );
    assert_eq!(refused.code, ResultCode::AccountNotActive);
    assert!(matches!(
        store.set_account_status(&id("licence:none"), AccountStatus::Active, "t", at),
        Err(StoreError::AccountNotFound(_))
    ));
    store.verify_audit().unwrap().expect("audit log intact");
}

/// Decisions are appended to the same chain and the chain verifies.
pub fn audit_chain(store: &mut dyn LedgerStore) {
    let at = t0();
    let first = store
        .append_decision(
            "ship",
            at,
            &serde_json::json!({"order": "o-1", "outcome": "licensed"}),
        )
        .unwrap();
    store
        .ensure_account(&small_account("acct:c", 5), "t", at)
        .unwrap();
    let second = store
        .append_decision(
            "ship",
            at,
            &serde_json::json!({"order": "o-2", "outcome": "license_required"}),
        )
        .unwrap();
    assert_eq!((first, second), (1, 3));
    let records = store.audit_records(0, 10).unwrap();
    assert_eq!(
        records.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
        ["decision", "account_created", "decision"]
    );
    assert_eq!(records[1].prev_hash, records[0].hash);
    assert_eq!(store.audit_records(1, 1).unwrap()[0].seq, 2);
    let summary = store.verify_audit().unwrap().expect("intact");
    assert_eq!(
        (summary.records, summary.head_hash.as_str()),
        (3, records[2].hash.as_str())
    );
}

/// A test plan: shipment `i` creates `acct:g` (5 units) if missing, then tries to draw
/// `units[i]` under key `{prefix}-{i}`, and records its reply; with `abandon_at`, that shipment
/// abandons the group.
struct TestPlan {
    prefix: &'static str,
    units: Vec<u64>,
    abandon_at: Option<usize>,
    /// (reply code, units available after), per shipment, as seen inside the transaction.
    seen: Vec<(crate::ResultCode, u64)>,
    began: usize,
}

impl crate::ShipPlan for TestPlan {
    fn begin(&mut self) {
        self.seen.clear();
        self.began += 1;
    }
    fn shipments(&self) -> usize {
        self.units.len()
    }
    fn touches(&self) -> (Vec<Key>, Vec<AccountId>) {
        (vec![key(&format!("{}-0", self.prefix))], vec![id("acct:g")])
    }
    fn next(
        &mut self,
        i: usize,
        replies: &[crate::Reply],
        balances: &dyn crate::Balances,
    ) -> crate::ShipStep {
        if self.abandon_at == Some(i) {
            return crate::ShipStep::Abandon("test".into());
        }
        let spec = small_account("acct:g", 5);
        if balances.balance(&spec.id).is_none() {
            return crate::ShipStep::Ensure(spec, t0());
        }
        match replies.last() {
            None => crate::ShipStep::Submit(Request::ReserveAndPost {
                key: key(&format!("{}-{i}", self.prefix)),
                accounts: vec![spec.id],
                amounts: Amounts {
                    units: self.units[i],
                    ..Amounts::ZERO
                },
                at: t0(),
            }),
            Some(reply) => {
                let left = balances
                    .balance(&spec.id)
                    .and_then(|b| b.available.units)
                    .unwrap_or(0);
                self.seen.push((reply.code, left));
                crate::ShipStep::Done(t0(), serde_json::json!({"shipment": i, "code": reply.code}))
            }
        }
    }
}

/// Groups of shipments: limits checked as each request executes, balances seen inside the
/// transaction, every executed request (a refusal too) and every decision appended; an abandoned group writes nothing; a group sent again
/// replays its draws.
pub fn ship_groups(store: &mut dyn LedgerStore) {
    let mut plan = TestPlan {
        prefix: "g",
        units: vec![2, 2, 2],
        abandon_at: None,
        seen: Vec::new(),
        began: 0,
    };
    store.ship_group("ship", &mut plan).expect("group runs");
    assert_eq!(
        plan.seen,
        [
            (ResultCode::Ok, 3),
            (ResultCode::Ok, 1),
            (ResultCode::ExceedsLimit, 1)
        ]
    );
    let balance = store.balance(&id("acct:g")).unwrap().expect("created");
    assert_eq!(balance.posted.units, 4);
    let kinds = |store: &mut dyn LedgerStore| -> Vec<String> {
        store
            .audit_records(0, 100)
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect()
    };
    assert_eq!(
        kinds(store),
        [
            "account_created",
            "ledger",
            "decision",
            "ledger",
            "decision",
            "ledger",
            "decision"
        ]
    );
    // Abandoned in its second shipment: the first's draw and record are not written either.
    let mut abandoned = TestPlan {
        prefix: "h",
        units: vec![1, 1],
        abandon_at: Some(1),
        seen: Vec::new(),
        began: 0,
    };
    assert!(matches!(
        store.ship_group("ship", &mut abandoned),
        Err(StoreError::Abandoned(_))
    ));
    assert_eq!(
        store.balance(&id("acct:g")).unwrap().unwrap().posted.units,
        4
    );
    assert_eq!(kinds(store).len(), 7);
    // The same group again: the draws replay, nothing more is drawn, the decisions are recorded.
    plan.began = 0;
    store.ship_group("ship", &mut plan).expect("group runs");
    assert!(plan.began >= 1);
    assert_eq!(plan.seen[0], (ResultCode::Ok, 1));
    assert_eq!(
        store.balance(&id("acct:g")).unwrap().unwrap().posted.units,
        4
    );
    assert_eq!(kinds(store).len(), 10);
    store.verify_audit().unwrap().expect("intact");
    store.check_invariants().unwrap();
}

/// A single client's seeded workload, checked reply by reply against the auditor, then by log replay.
pub fn sequential_workload(store: &mut dyn LedgerStore, seed: u64, operations: usize) {
    let at = t0();
    let mut auditor = Auditor::new();
    for spec in workload_accounts() {
        store.ensure_account(&spec, "t", at).unwrap();
        auditor.add_account(spec);
    }
    let mut client = ClientWorkload::new(seed, 0, 1);
    let mut done = 0;
    let mut seen = Vec::new();
    while done < operations {
        match client.next_op() {
            Op::Submit(requests) => {
                let replies = store.submit("w", &requests).unwrap();
                for (request, reply) in requests.into_iter().zip(replies) {
                    assert_eq!(
                        reply,
                        auditor.apply(&request),
                        "{}: {request:?}",
                        store.backend()
                    );
                    seen.push((request, reply));
                    done += 1;
                }
            }
            Op::SetStatus {
                account,
                status,
                at,
            } => {
                store.set_account_status(&account, status, "w", at).unwrap();
                auditor.set_status(&account, status);
            }
        }
    }
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (_, reply) in &seen {
        *counts
            .entry(format!(
                "{}{}",
                reply.code,
                if reply.replayed { "(replayed)" } else { "" }
            ))
            .or_default() += 1;
    }
    for code in [
        "ok",
        "exceeds_limit",
        "pending_not_found",
        "already_posted",
        "already_voided",
        "account_not_valid_on_date",
        "ok(replayed)",
    ] {
        assert!(
            counts.contains_key(code) || operations < 1_000,
            "workload never produced `{code}`: {counts:?}"
        );
    }
    if std::env::var_os("EXPORTGATE_WORKLOAD_PRINT").is_some() {
        eprintln!("{counts:?}");
    }
    for account in auditor.account_ids() {
        let balance = store.balance(&account).unwrap().expect("exists");
        assert_eq!(
            Some((balance.posted, balance.pending)),
            auditor.balance(&account),
            "{account}"
        );
    }
    let records = store.audit_records(0, usize::MAX).unwrap();
    let mut replayed = Auditor::new();
    workload_accounts()
        .into_iter()
        .for_each(|s| replayed.add_account(s));
    replay_audit_log(&mut replayed, &records).unwrap();
    check_client_replies(&replayed, &logged_replies(&records), &seen).unwrap();
    store.check_invariants().unwrap();
    store.verify_audit().unwrap().expect("audit log intact");
}

/// Revenue-share accrual accounts (issue 21): created per licence and quarter, drawn by
/// reserve-and-post with idempotency keys, read back by `account_history`, reconciled.
pub fn revenue_share_accrual(store: &mut dyn LedgerStore) {
    use crate::accrual::Quarter;
    let at = t0();
    let q = Quarter::of(at.date());
    let spec = AccountSpec::revenue_share("D1234567", 15, q);
    store.ensure_account(&spec, "t", at).unwrap();
    let accrue = |k: &str, cents: u64| Request::ReserveAndPost {
        key: key(k),
        accounts: vec![spec.id.clone()],
        amounts: Amounts {
            value: cents,
            ..Amounts::ZERO
        },
        at,
    };
    let replies = store
        .submit("t", &[accrue("a1", 150_000), accrue("a2", 15)])
        .unwrap();
    assert!(replies.iter().all(|r| r.is_ok()), "{replies:?}");
    let again = one(store, accrue("a1", 150_000));
    assert!(again.is_ok() && again.replayed);
    let (balance, history) = store
        .account_history(&spec.id)
        .unwrap()
        .expect("the account");
    assert_eq!(balance.posted.value, 150_015);
    assert_eq!(
        history
            .iter()
            .map(|t| (t.key.as_str(), t.amounts.value, t.state))
            .collect::<Vec<_>>(),
        [
            ("a1", 150_000, TransferState::Posted),
            ("a2", 15, TransferState::Posted)
        ]
    );
    assert!(store
        .account_history(&id("revenue-share:none:2025Q1"))
        .unwrap()
        .is_none());
    // Outside its quarter the account takes nothing.
    let late = Timestamp::start_of(q.next().first_day());
    let refused = one(
        store,
        Request::ReserveAndPost {
            key: key("a3"),
            accounts: vec![spec.id.clone()],
            amounts: Amounts {
                value: 1,
                ..Amounts::ZERO
            },
            at: late,
        },
    );
    assert_eq!(refused.code, ResultCode::AccountNotValidOnDate);
    store.check_invariants().unwrap();
    store
        .reconcile()
        .unwrap()
        .expect("accruals reconcile with the log");
}

/// A plan keeping a 50% volume cap of a reference flow, as `ship` does (see [`crate::flow`]):
/// each shipment draws `units[i]` on the capped-draws account only if the cap allows, or it
/// was drawn by an earlier group (`Balances::recorded`). `seen[i]`: drawn (replayed?) or refused.
struct CapPlan {
    units: Vec<u64>,
    seen: Vec<Option<bool>>,
}

impl crate::ShipPlan for CapPlan {
    fn begin(&mut self) {
        self.seen.clear();
    }
    fn shipments(&self) -> usize {
        self.units.len()
    }
    fn touches(&self) -> (Vec<Key>, Vec<AccountId>) {
        let keys = (0..self.units.len())
            .map(|i| key(&format!("cap-{i}")))
            .collect();
        let ids = vec![
            crate::flow::reference_flow_account("chip"),
            crate::flow::capped_draws_account("chip"),
        ];
        (keys, ids)
    }
    fn next(
        &mut self,
        i: usize,
        replies: &[crate::Reply],
        balances: &dyn crate::Balances,
    ) -> crate::ShipStep {
        let capped = AccountSpec::capped_draws("chip");
        if balances.balance(&capped.id).is_none() {
            return crate::ShipStep::Ensure(capped, t0());
        }
        if let Some(reply) = replies.last() {
            self.seen.push(reply.is_ok().then_some(reply.replayed));
            return crate::ShipStep::Done(t0(), serde_json::json!({"i": i}));
        }
        let k = key(&format!("cap-{i}"));
        let units = |id: &AccountId| {
            balances
                .balance(id)
                .map(|b| b.posted.units + b.pending.units)
                .unwrap_or(0)
        };
        let flow = units(&crate::flow::reference_flow_account("chip"));
        let fits = crate::flow::volume_cap("X-bound", units(&capped.id), self.units[i], flow, 50);
        if balances.recorded(&k).is_none() && fits.is_err() {
            self.seen.push(None);
            return crate::ShipStep::Done(t0(), serde_json::json!({"i": i}));
        }
        crate::ShipStep::Submit(Request::ReserveAndPost {
            key: k,
            accounts: vec![capped.id],
            amounts: Amounts {
                units: self.units[i],
                ..Amounts::ZERO
            },
            at: t0(),
        })
    }
}

/// Volume caps (issue 21 item 2): the reference flow and capped-draws accounts on every
/// backend; a ship group reads their balances and the keys recorded before it inside its
/// transaction, so a cap of 50% of a 10-unit flow takes 3 + 2 units and refuses 1 more, a
/// second run replays the draws, and a flow credited later raises the cap.
pub fn volume_caps(store: &mut dyn LedgerStore) {
    let at = t0();
    let flow = AccountSpec::reference_flow("chip");
    store.ensure_account(&flow, "t", at).unwrap();
    let credit = |k: &str, units: u64| Request::ReserveAndPost {
        key: key(k),
        accounts: vec![flow.id.clone()],
        amounts: Amounts {
            units,
            ..Amounts::ZERO
        },
        at,
    };
    assert!(one(store, credit("flow:1", 10)).is_ok());
    let mut plan = CapPlan {
        units: vec![3, 2, 1],
        seen: Vec::new(),
    };
    store.ship_group("ship", &mut plan).expect("group runs");
    assert_eq!(plan.seen, [Some(false), Some(false), None]);
    store.ship_group("ship", &mut plan).expect("group runs");
    assert_eq!(plan.seen, [Some(true), Some(true), None]);
    assert!(one(store, credit("flow:2", 2)).is_ok());
    store.ship_group("ship", &mut plan).expect("group runs");
    assert_eq!(plan.seen, [Some(true), Some(true), Some(false)]);
    let capped = store
        .balance(&crate::flow::capped_draws_account("chip"))
        .unwrap()
        .expect("the account");
    assert_eq!(capped.posted.units, 6);
    store.check_invariants().unwrap();
    store
        .reconcile()
        .unwrap()
        .expect("flows and capped draws reconcile with the log");
}

/// A group of VEU draws of `tpp[i]` TPP to one Tier 2 country (`IN`), each checked with
/// [`crate::veu::veu_draw`] from the balances inside the transaction, as `ship` does.
struct VeuPlan {
    veu: crate::veu::Veu,
    tpp: Vec<u64>,
    /// Per draw: `Some(replayed)` when drawn, `None` when refused by the shares.
    seen: Vec<Option<bool>>,
}

impl crate::ShipPlan for VeuPlan {
    fn begin(&mut self) {
        self.seen.clear();
    }
    fn shipments(&self) -> usize {
        self.tpp.len()
    }
    fn touches(&self) -> (Vec<Key>, Vec<AccountId>) {
        let keys = (0..self.tpp.len())
            .map(|i| key(&format!("veu-{i}")))
            .collect();
        (
            keys,
            crate::veu::veu_draw_accounts(&self.veu.id, "IN", true),
        )
    }
    fn next(
        &mut self,
        i: usize,
        replies: &[crate::Reply],
        balances: &dyn crate::Balances,
    ) -> crate::ShipStep {
        let v = &self.veu.id;
        if let Some(reply) = replies.last() {
            self.seen.push(reply.is_ok().then_some(reply.replayed));
            return crate::ShipStep::Done(t0(), serde_json::json!({"i": i}));
        }
        let used = |id: &AccountId| {
            balances
                .balance(id)
                .map(|b| b.posted.tpp + b.pending.tpp)
                .unwrap_or(0)
        };
        let h = crate::veu::VeuHoldings {
            total: used(&crate::veu::veu_account(v)),
            outside_tier1: used(&crate::veu::veu_scope_account(v, crate::veu::OUTSIDE_TIER1)),
            country: used(&crate::veu::veu_scope_account(v, "IN")),
            us: used(&crate::veu::veu_scope_account(v, "US")),
        };
        let k = key(&format!("veu-{i}"));
        let day = t0().date();
        let fits = crate::veu::veu_draw(
            &self.veu,
            &h,
            "IN",
            "India",
            crate::veu::Tier::Two,
            self.tpp[i],
            day,
        );
        if balances.recorded(&k).is_none() && fits.is_err() {
            self.seen.push(None);
            return crate::ShipStep::Done(t0(), serde_json::json!({"i": i}));
        }
        crate::ShipStep::Submit(Request::ReserveAndPost {
            key: k,
            accounts: crate::veu::veu_draw_accounts(v, "IN", true),
            amounts: Amounts {
                tpp: self.tpp[i],
                ..Amounts::ZERO
            },
            at: t0(),
        })
    }
}

/// VEU compute shares (issue 21 item 3) on every backend: the record is an account whose
/// spec never changes; with 930 TPP installed in Tier 1 and none in India, a UVEU's draws to
/// India stop at 7 % of its total (40 and 30 taken, 31 refused between them), a second run
/// replays the draws, and compute installed later in Tier 1 raises the headroom; every VEU account
/// reconciles with the log.
pub fn veu_limits(store: &mut dyn LedgerStore) {
    let at = t0();
    let veu = crate::veu::Veu {
        id: "u1".into(),
        kind: crate::veu::VeuKind::Universal,
        holder: crate::veu::VeuHolder {
            name: "Big Cloud".into(),
            headquarters: "IE".into(),
        },
        country: None,
        caps: Vec::new(),
    };
    assert_eq!(
        store.ensure_account(&veu.account_spec(), "t", at).unwrap(),
        Ensured::Created
    );
    assert_eq!(
        store.ensure_account(&veu.account_spec(), "t", at).unwrap(),
        Ensured::AlreadyExists
    );
    let mut other = veu.clone();
    other.holder.headquarters = "US".into();
    assert!(store
        .ensure_account(&other.account_spec(), "t", at)
        .is_err());
    assert_eq!(store.veus().unwrap(), vec![veu.clone()]);
    for spec in crate::veu::veu_scope_specs("u1", "IN", true)
        .into_iter()
        .chain(crate::veu::veu_scope_specs("u1", "DE", false))
    {
        store.ensure_account(&spec, "t", at).unwrap();
    }
    let install = |k: &str, tpp: u64| Request::ReserveAndPost {
        key: key(k),
        accounts: crate::veu::veu_draw_accounts("u1", "DE", false),
        amounts: Amounts {
            tpp,
            ..Amounts::ZERO
        },
        at,
    };
    assert!(one(store, install("veu-compute:u1:de-1", 930)).is_ok());
    // 40 of 970 fits; 71 of 1,001 passes 7% (70.07); 70 of 1,000 is exactly 7%.
    let mut plan = VeuPlan {
        veu: veu.clone(),
        tpp: vec![40, 31, 30],
        seen: Vec::new(),
    };
    store.ship_group("ship", &mut plan).expect("group runs");
    assert_eq!(plan.seen, [Some(false), None, Some(false)]);
    store.ship_group("ship", &mut plan).expect("group runs");
    assert_eq!(plan.seen, [Some(true), None, Some(true)]);
    // 500 more in Germany: 101 of 1,531 is within 7% (107.17).
    assert!(one(store, install("veu-compute:u1:de-2", 500)).is_ok());
    store.ship_group("ship", &mut plan).expect("group runs");
    assert_eq!(plan.seen, [Some(true), Some(false), Some(true)]);
    let india = store
        .balance(&crate::veu::veu_scope_account("u1", "IN"))
        .unwrap()
        .expect("the account");
    assert_eq!(india.posted.tpp, 101);
    let total = store
        .balance(&crate::veu::veu_account("u1"))
        .unwrap()
        .expect("the account");
    assert_eq!(total.posted.tpp, 1_531);
    assert!(india.posted.tpp * 100 <= total.posted.tpp * 7);
    // The compute accounts are not records.
    assert_eq!(store.veus().unwrap(), vec![veu]);
    store.check_invariants().unwrap();
    store
        .reconcile()
        .unwrap()
        .expect("VEU records and compute reconcile with the log");
}

/// Runs every function above, each on a fresh store from `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<dyn LedgerStore>) {
    ship_groups(fresh().as_mut());
    every_result_code(fresh().as_mut());
    idempotency_replay(fresh().as_mut());
    licences(fresh().as_mut());
    revenue_share_accrual(fresh().as_mut());
    volume_caps(fresh().as_mut());
    veu_limits(fresh().as_mut());
    audit_chain(fresh().as_mut());
    sequential_workload(fresh().as_mut(), 7, 3_000);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[test]
    fn memory_store_conforms() {
        run_all(&mut || Box::new(MemoryStore::new()));
    }

    #[test]
    fn memory_store_long_workload_matches_the_auditor() {
        for seed in 1..3 {
            sequential_workload(&mut MemoryStore::new(), seed, 10_000);
        }
    }
}
