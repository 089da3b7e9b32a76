//! A seeded random workload from concurrent clients (threads, one connection each) against
//! SQLite and PostgreSQL, checked against the auditor: the audit log gives the commit order,
//! replaying it into the auditor must reproduce every reply, every client's replies must agree,
//! and the final balances must match; no balance is negative and no limit passed.
//!
//! `EXPORTGATE_WORKLOAD_OPS` sets the operation count per backend (default 100,000);
//! `EXPORTGATE_WORKLOAD_SEED` the seed (default 2025).

mod common;

use exportgate_ledger::workload::{
    check_client_replies, logged_replies, replay_audit_log, workload_accounts, ClientWorkload, Op,
};
use exportgate_ledger::{Auditor, LedgerStore, Reply, Request};

const CLIENTS: u64 = 4;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run_concurrent(open: &(dyn Fn() -> Box<dyn LedgerStore> + Sync)) {
    let operations = env_number("EXPORTGATE_WORKLOAD_OPS", 100_000);
    let seed = env_number("EXPORTGATE_WORKLOAD_SEED", 2025);
    let mut setup = open();
    for spec in workload_accounts() {
        setup
            .ensure_account(&spec, "setup", exportgate_ledger::conformance::t0())
            .unwrap();
    }
    let per_client = operations.div_ceil(CLIENTS) as usize;
    let seen: Vec<(Request, Reply)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                s.spawn(move || {
                    let mut store = open();
                    let mut workload = ClientWorkload::new(seed, client, CLIENTS);
                    let mut seen = Vec::with_capacity(per_client);
                    while seen.len() < per_client {
                        match workload.next_op() {
                            Op::Submit(requests) => {
                                let replies = store
                                    .submit(&format!("client-{client}"), &requests)
                                    .unwrap();
                                assert_eq!(replies.len(), requests.len());
                                seen.extend(requests.into_iter().zip(replies));
                            }
                            Op::SetStatus {
                                account,
                                status,
                                at,
                            } => {
                                store
                                    .set_account_status(
                                        &account,
                                        status,
                                        &format!("client-{client}"),
                                        at,
                                    )
                                    .unwrap();
                            }
                        }
                    }
                    seen
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("client thread"))
            .collect()
    });
    assert!(seen.len() as u64 >= operations);
    let records = setup.audit_records(0, usize::MAX).unwrap();
    let mut auditor = Auditor::new();
    workload_accounts()
        .into_iter()
        .for_each(|spec| auditor.add_account(spec));
    let logged = replay_audit_log(&mut auditor, &records)
        .unwrap_or_else(|e| panic!("{}: {e}", setup.backend()));
    check_client_replies(&auditor, &logged_replies(&records), &seen)
        .unwrap_or_else(|e| panic!("{}: {e}", setup.backend()));
    let ok = seen
        .iter()
        .filter(|(_, r)| r.is_ok() && !r.replayed)
        .count();
    assert!(
        ok > 1_000.min(seen.len() / 20),
        "the workload should succeed often: {ok} ok of {}",
        seen.len()
    );
    for account in auditor.account_ids() {
        let balance = setup.balance(&account).unwrap().expect("account exists");
        assert_eq!(
            Some((balance.posted, balance.pending)),
            auditor.balance(&account),
            "{}: {account}",
            setup.backend()
        );
        assert!(balance
            .limits
            .first_exceeded(&balance.posted.checked_add(&balance.pending).unwrap())
            .is_none());
    }
    setup.check_invariants().unwrap();
    let summary = setup.verify_audit().unwrap().expect("audit log intact");
    // Issue 15 item 3: the tables follow from the log on every backend.
    let reconciled = setup
        .reconcile()
        .unwrap()
        .unwrap_or_else(|d| panic!("{}: {d}", setup.backend()));
    assert!(reconciled.ledger_records > 0);
    eprintln!(
        "{}: {} operations from {CLIENTS} clients, {} logged, {} audit records",
        setup.backend(),
        seen.len(),
        logged.len(),
        summary.records
    );
}

#[test]
fn sqlite_concurrent_workload_matches_the_auditor() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::fresh_sqlite_path(&dir);
    run_concurrent(&|| Box::new(exportgate_store::sqlite::SqliteStore::open(&path).unwrap()));
}

#[test]
fn postgres_concurrent_workload_matches_the_auditor() {
    let Some(base) = common::postgres_url() else {
        eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: PostgreSQL workload not run");
        return;
    };
    let url = common::fresh_postgres_url(&base, "workload");
    run_concurrent(&|| Box::new(exportgate_store::postgres::PostgresStore::connect(&url).unwrap()));
}
