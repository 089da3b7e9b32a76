//! The backend conformance suite on SQLite (always) and PostgreSQL (when
//! `EXPORTGATE_TEST_POSTGRES_URL` is set), plus URL handling and migrations.

mod common;

use exportgate_ledger::conformance::{self, run_all};
use exportgate_ledger::{Request, ResultCode};

#[test]
fn sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    run_all(&mut || common::fresh_sqlite(&dir));
}

#[test]
fn postgres_conforms() {
    let Some(base) = common::postgres_url() else {
        eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: PostgreSQL conformance not run");
        return;
    };
    run_all(&mut || common::fresh_postgres(&base, "conformance"));
}

#[test]
fn open_store_by_url_and_reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("l.sqlite").display());
    let mut store = exportgate_store::open_store(&url).unwrap();
    assert_eq!(store.backend(), "sqlite");
    store
        .add_licence(&conformance::example_licence("D1"), "t", conformance::t0())
        .unwrap();
    drop(store);
    let mut store = exportgate_store::open_store(&url).unwrap();
    assert_eq!(
        store.list_licences().unwrap().len(),
        1,
        "reopening applies no migration twice and keeps data"
    );
    assert!(exportgate_store::open_store("ftp://x").is_err());
    if let Some(base) = common::postgres_url() {
        let mut pg =
            exportgate_store::open_store(&common::fresh_postgres_url(&base, "open")).unwrap();
        assert_eq!(pg.backend(), "postgres");
        pg.add_licence(&conformance::example_licence("D1"), "t", conformance::t0())
            .unwrap();
        let mut again =
            exportgate_store::open_store(&common::fresh_postgres_url(&base, "open")).unwrap();
        assert!(again.list_licences().unwrap().is_empty());
    }
}

#[test]
fn batcher_groups_requests_from_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::fresh_sqlite(&dir);
    let licence = conformance::example_licence("D2");
    store.add_licence(&licence, "t", conformance::t0()).unwrap();
    let batcher = exportgate_store::Batcher::new(store, "batcher".into(), 64);
    let ok = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for thread in 0..8 {
            let (batcher, ok, account) = (&batcher, &ok, licence.account_id());
            s.spawn(move || {
                for i in 0..20 {
                    let request = Request::ReserveAndPost {
                        key: exportgate_ledger::Key::new(format!("t{thread}-{i}")).unwrap(),
                        accounts: vec![account.clone()],
                        amounts: exportgate_ledger::Amounts::units(1),
                        at: conformance::t0(),
                    };
                    if batcher.submit(request).unwrap().code == ResultCode::Ok {
                        ok.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            });
        }
    });
    assert_eq!(
        ok.into_inner(),
        100,
        "exactly the licence's 100 units ship out of 160 requests"
    );
    let mut store = batcher.finish().unwrap();
    assert_eq!(
        store.licence("D2").unwrap().unwrap().balance.posted.units,
        100
    );
    store.check_invariants().unwrap();
}

/// Four writers with their own connections (as four `ship` processes have), 40 single-unit
/// orders each, against a 100-unit licence: exactly 100 ship.
fn four_writers_never_over_ship(
    open: &(dyn Fn() -> Box<dyn exportgate_ledger::LedgerStore> + Sync),
) {
    let licence = conformance::example_licence("D4");
    open()
        .add_licence(&licence, "t", conformance::t0())
        .unwrap();
    let shipped: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|writer| {
                let account = licence.account_id();
                s.spawn(move || {
                    let mut store = open();
                    (0..40)
                        .filter(|order| {
                            let request = Request::ReserveAndPost {
                                key: exportgate_ledger::Key::new(format!("w{writer}-order{order}"))
                                    .unwrap(),
                                accounts: vec![account.clone()],
                                amounts: exportgate_ledger::Amounts::units(1),
                                at: conformance::t0(),
                            };
                            store.submit("ship", &[request]).unwrap()[0].code == ResultCode::Ok
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(shipped, 100);
    let mut store = open();
    assert_eq!(
        store.licence("D4").unwrap().unwrap().balance.posted.units,
        100
    );
    store.check_invariants().unwrap();
}

#[test]
fn sqlite_four_connections_ship_exactly_the_licence() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::fresh_sqlite_path(&dir);
    four_writers_never_over_ship(&|| {
        Box::new(exportgate_store::sqlite::SqliteStore::open(&path).unwrap())
    });
}

#[test]
fn postgres_four_connections_ship_exactly_the_licence() {
    let Some(base) = common::postgres_url() else {
        return;
    };
    let url = common::fresh_postgres_url(&base, "four");
    four_writers_never_over_ship(&|| {
        Box::new(exportgate_store::postgres::PostgresStore::connect(&url).unwrap())
    });
}
