//! Kill a loaded SQLite ledger with SIGKILL at random points, at least 50 times. After each
//! restart every acknowledged operation is present with its acknowledged reply, no operation
//! is half-applied (balances equal the sums of transfers, every recorded outcome has its audit
//! record), the audit chain verifies and replaying it into the auditor reproduces the balances.
//!
//! `EXPORTGATE_CRASH_KILLS` sets the number of kills (default 50).

mod common;

use exportgate_ledger::workload::{logged_replies, replay_audit_log, workload_accounts, Rng};
use exportgate_ledger::{Auditor, LedgerStore, Reply, ResultCode};
use exportgate_store::sqlite::SqliteStore;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn acknowledged(stdout: std::process::ChildStdout) -> Vec<Reply> {
    let mut reader = BufReader::new(stdout);
    let mut acks = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        // A line cut short by the kill was never fully acknowledged.
        if let Some(json) = line.strip_suffix('\n').and_then(|l| l.strip_prefix("ack ")) {
            acks.push(serde_json::from_str(json).expect("ack lines are reply JSON"));
        }
        line.clear();
    }
    acks
}

fn check_after_restart(path: &std::path::Path, acks: &[Reply]) -> usize {
    let mut store = SqliteStore::open(path).expect("the ledger reopens after SIGKILL");
    for ack in acks {
        let recorded = store.recorded_reply(&ack.key).unwrap();
        let recorded = recorded
            .unwrap_or_else(|| panic!("acknowledged `{}` is missing after restart", ack.key));
        if ack.code != ResultCode::IdempotencyKeyReusedWithDifferentRequest {
            assert_eq!(
                recorded,
                Reply {
                    replayed: false,
                    ..ack.clone()
                },
                "acknowledged reply changed"
            );
        }
    }
    store
        .check_invariants()
        .expect("no partial operation: balances equal the transfers");
    store
        .verify_audit()
        .unwrap()
        .expect("audit chain intact after SIGKILL");
    let records = store.audit_records(0, usize::MAX).unwrap();
    let outcomes: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM outcomes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        outcomes as usize,
        logged_replies(&records).len(),
        "every outcome has its audit record and no more"
    );
    let mut auditor = Auditor::new();
    workload_accounts()
        .into_iter()
        .for_each(|spec| auditor.add_account(spec));
    replay_audit_log(&mut auditor, &records).expect("the log replays into the auditor");
    for id in auditor.account_ids() {
        let balance = store.balance(&id).unwrap().expect("exists");
        assert_eq!(
            Some((balance.posted, balance.pending)),
            auditor.balance(&id),
            "{id}"
        );
    }
    outcomes as usize
}

#[test]
fn sigkill_never_loses_an_acknowledged_operation() {
    let kills = std::env::var("EXPORTGATE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50u64);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    let url = format!("sqlite://{}", path.display());
    let mut rng = Rng::new(0xC0FFEE);
    let (mut acked_total, mut runs_with_acks) = (0, 0);
    for generation in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-load"))
            .args([&url, "99", &generation.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ledger-load");
        let stdout = child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || acknowledged(stdout));
        std::thread::sleep(Duration::from_millis(30 + rng.below(270)));
        child.kill().expect("SIGKILL ledger-load");
        let status = child.wait().expect("reap ledger-load");
        assert!(
            status.code().is_none(),
            "ledger-load ended by itself ({status}) instead of being killed"
        );
        let acks = reader.join().expect("reader thread");
        acked_total += acks.len();
        runs_with_acks += usize::from(!acks.is_empty());
        check_after_restart(&path, &acks);
    }
    assert!(
        runs_with_acks as u64 * 2 >= kills,
        "too few runs got work done before the kill: {runs_with_acks} of {kills}"
    );
    eprintln!("{kills} kills, {acked_total} acknowledged operations, all present");
}
