//! Durable `reserve_and_post` throughput on SQLite and PostgreSQL (a bench binary, not a test).
//!
//! `cargo bench -p exportgate-store --bench ledger_throughput`
//!
//! Two shapes per backend, every operation committed durably before it counts:
//! - `batcher`: 16 client threads each submit one request at a time through one
//!   [`Batcher`] (group commit: the writer drains whatever is queued into one transaction);
//! - `batches`: 4 connections each submit explicit batches of 64 requests.
//!
//! PostgreSQL runs when `EXPORTGATE_TEST_POSTGRES_URL` is set. `EXPORTGATE_BENCH_SECONDS`
//! sets the duration of each run (default 10).

use exportgate_ledger::{
    AccountId, AccountKind, AccountSpec, Amounts, Key, LedgerStore, Limits, Request, Timestamp,
};
use exportgate_store::Batcher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENT_THREADS: u64 = 256;
const CONNECTIONS: u64 = 4;
const BATCH: u64 = 256;

fn account() -> AccountSpec {
    AccountSpec {
        id: AccountId::new("licence:BENCH").unwrap(),
        kind: AccountKind::Other {
            description: "benchmark".into(),
        },
        limits: Limits {
            units: Some(1 << 60),
            ..Limits::default()
        },
        valid_from: None,
        valid_to: None,
    }
}

fn request(prefix: &str, n: u64) -> Request {
    Request::ReserveAndPost {
        key: Key::new(format!("{prefix}-{n}")).unwrap(),
        accounts: vec![account().id],
        amounts: Amounts::units(1),
        at: Timestamp::from_micros(1_740_787_200_000_000 + n as i64),
    }
}

fn batcher_run(store: Box<dyn LedgerStore>, name: &str, seconds: u64) -> f64 {
    let batcher = Batcher::new(store, "bench".into(), 2048);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    std::thread::scope(|s| {
        for thread in 0..CLIENT_THREADS {
            let (batcher, done, stop) = (&batcher, &done, &stop);
            s.spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let reply = batcher
                        .submit(request(&format!("{name}-b{thread}"), n))
                        .unwrap();
                    assert!(reply.is_ok(), "{reply:?}");
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    let mut store = batcher.finish().expect("writer thread");
    store.check_invariants().unwrap();
    rate
}

fn batches_run(open: &(dyn Fn() -> Box<dyn LedgerStore> + Sync), name: &str, seconds: u64) -> f64 {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    std::thread::scope(|s| {
        for connection in 0..CONNECTIONS {
            let (done, stop) = (&done, &stop);
            s.spawn(move || {
                let mut store = open();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let requests: Vec<Request> = (n..n + BATCH)
                        .map(|i| request(&format!("{name}-c{connection}"), i))
                        .collect();
                    let replies = store.submit("bench", &requests).unwrap();
                    assert!(replies.iter().all(|r| r.is_ok()));
                    n += BATCH;
                    done.fetch_add(BATCH, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn report(backend: &str, shape: &str, rate: f64) {
    println!("{backend:<8} {shape:<48} {rate:>10.0} reserve_and_post/s");
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: run only for bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seconds: u64 = std::env::var("EXPORTGATE_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite");
    let open_sqlite = || -> Box<dyn LedgerStore> {
        Box::new(exportgate_store::sqlite::SqliteStore::open(&path).unwrap())
    };
    let mut setup = open_sqlite();
    setup
        .ensure_account(&account(), "bench", Timestamp::from_micros(0))
        .unwrap();
    drop(setup);
    report(
        "sqlite",
        &format!("batcher ({CLIENT_THREADS} threads, group commit)"),
        batcher_run(open_sqlite(), "s", seconds),
    );
    report(
        "sqlite",
        &format!("batches ({CONNECTIONS} connections x {BATCH})"),
        batches_run(&open_sqlite, "s", seconds),
    );
    if let Ok(url) = std::env::var("EXPORTGATE_TEST_POSTGRES_URL") {
        let run = format!("bench{}", std::process::id());
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {run} CASCADE; CREATE SCHEMA {run};"
            ))
            .unwrap();
        let separator = if url.contains('?') { '&' } else { '?' };
        let schema_url = format!("{url}{separator}options=-c%20search_path%3D{run}");
        let open_pg = || -> Box<dyn LedgerStore> {
            Box::new(exportgate_store::postgres::PostgresStore::connect(&schema_url).unwrap())
        };
        open_pg()
            .ensure_account(&account(), "bench", Timestamp::from_micros(0))
            .unwrap();
        report(
            "postgres",
            &format!("batcher ({CLIENT_THREADS} threads, group commit)"),
            batcher_run(open_pg(), "p", seconds),
        );
        report(
            "postgres",
            &format!("batches ({CONNECTIONS} connections x {BATCH})"),
            batches_run(&open_pg, "p", seconds),
        );
        admin
            .batch_execute(&format!("DROP SCHEMA {run} CASCADE"))
            .unwrap();
    } else {
        println!("postgres: EXPORTGATE_TEST_POSTGRES_URL is not set, skipped");
    }
}
