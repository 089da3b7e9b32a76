//! Editing, inserting or deleting one audit record is caught, on SQLite and PostgreSQL, and the
//! append-only triggers refuse ordinary updates and deletes.

mod common;

use exportgate_ledger::audit::{record_hash, AuditBreak, BreakKind};
use exportgate_ledger::conformance::{example_licence, t0};
use exportgate_ledger::{Amounts, Key, LedgerStore, Request};
use exportgate_store::postgres::PostgresStore;
use exportgate_store::sqlite::SqliteStore;

/// Eight records: a licence, its account, five ledger operations and a decision.
fn fill(store: &mut dyn LedgerStore) {
    let licence = example_licence("D7");
    store.add_licence(&licence, "t", t0()).unwrap();
    for i in 0..5 {
        let request = Request::ReserveAndPost {
            key: Key::new(format!("o{i}")).unwrap(),
            accounts: vec![licence.account_id()],
            amounts: Amounts::units(1),
            at: t0(),
        };
        store.submit("t", &[request]).unwrap();
    }
    store
        .append_decision("ship", t0(), &serde_json::json!({"order": "o9"}))
        .unwrap();
    assert_eq!(store.verify_audit().unwrap().unwrap().records, 8);
}

/// SQL each tamper applies, for a backend's dialect.
struct Dialect {
    drop_triggers: &'static str,
    forged_insert: fn(prev_hash: &str, hash: &str) -> String,
}

fn forged_hash(prev_hash: &str) -> String {
    record_hash(prev_hash, 3, t0(), "mallory", "decision", "{}")
}

fn check_all(
    mut fresh: impl FnMut() -> (Box<dyn LedgerStore>, Box<dyn FnMut(&str)>),
    dialect: &Dialect,
) {
    // Edited.
    let (mut store, mut sql) = fresh();
    fill(store.as_mut());
    sql(dialect.drop_triggers);
    sql("UPDATE audit_log SET payload = '{\"order\": \"forged\"}' WHERE seq = 4");
    assert_eq!(
        store.verify_audit().unwrap(),
        Err(AuditBreak {
            seq: 4,
            kind: BreakKind::Edited
        })
    );
    // Deleted.
    let (mut store, mut sql) = fresh();
    fill(store.as_mut());
    sql(dialect.drop_triggers);
    sql("DELETE FROM audit_log WHERE seq = 5");
    assert_eq!(
        store.verify_audit().unwrap(),
        Err(AuditBreak {
            seq: 5,
            kind: BreakKind::Deleted
        })
    );
    // Inserted: records from 3 on move up one and a well-formed record takes seq 3.
    let (mut store, mut sql) = fresh();
    fill(store.as_mut());
    let prev = store.audit_records(1, 1).unwrap()[0].hash.clone();
    sql(dialect.drop_triggers);
    sql("UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= 3");
    sql("UPDATE audit_log SET seq = -seq WHERE seq < 0");
    sql(&(dialect.forged_insert)(&prev, &forged_hash(&prev)));
    assert_eq!(
        store.verify_audit().unwrap(),
        Err(AuditBreak {
            seq: 3,
            kind: BreakKind::Inserted
        })
    );
}

const SQLITE: Dialect = Dialect {
    drop_triggers: "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
    forged_insert: |prev, hash| {
        format!(
            "INSERT INTO audit_log (seq, at, actor, kind, payload, prev_hash, hash) VALUES (3, {}, 'mallory', 'decision', '{{}}', '{prev}', '{hash}')",
            t0().micros()
        )
    },
};

const POSTGRES: Dialect = Dialect {
    drop_triggers: "DROP TRIGGER audit_log_append_only ON audit_log;",
    forged_insert: SQLITE.forged_insert,
};

#[test]
fn sqlite_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    check_all(
        || {
            let path = common::fresh_sqlite_path(&dir);
            let store = SqliteStore::open(&path).unwrap();
            let raw = rusqlite::Connection::open(&path).unwrap();
            (
                Box::new(store),
                Box::new(move |sql: &str| raw.execute_batch(sql).unwrap()),
            )
        },
        &SQLITE,
    );
}

#[test]
fn postgres_tampering_is_caught() {
    let Some(base) = common::postgres_url() else {
        eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: PostgreSQL tamper tests not run");
        return;
    };
    check_all(
        || {
            let url = common::fresh_postgres_url(&base, "tamper");
            let store = PostgresStore::connect(&url).unwrap();
            let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            (
                Box::new(store),
                Box::new(move |sql: &str| raw.batch_execute(sql).unwrap()),
            )
        },
        &POSTGRES,
    );
}

#[test]
fn append_only_triggers_refuse_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::fresh_sqlite_path(&dir);
    let mut store = SqliteStore::open(&path).unwrap();
    fill(&mut store);
    let error = store
        .connection()
        .execute("UPDATE audit_log SET actor = 'x' WHERE seq = 1", [])
        .unwrap_err();
    assert!(error.to_string().contains("append-only"), "{error}");
    assert!(store
        .connection()
        .execute("DELETE FROM audit_log WHERE seq = 1", [])
        .is_err());
    if let Some(base) = common::postgres_url() {
        let mut pg = PostgresStore::connect(&common::fresh_postgres_url(&base, "trigger")).unwrap();
        fill(&mut pg);
        let error = pg
            .client()
            .batch_execute("DELETE FROM audit_log WHERE seq = 1")
            .unwrap_err();
        assert!(format!("{error:?}").contains("append-only"), "{error:?}");
    }
}

/// A store and a way to run raw SQL on its database.
type Backend = (Box<dyn LedgerStore>, Box<dyn FnMut(&str)>);

/// Every backend, fresh, with raw SQL beside it.
fn backends(dir: &tempfile::TempDir) -> Vec<Backend> {
    let path = common::fresh_sqlite_path(dir);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mut out: Vec<Backend> = vec![(
        Box::new(SqliteStore::open(&path).unwrap()),
        Box::new(move |sql: &str| raw.execute_batch(sql).unwrap()),
    )];
    if let Some(base) = common::postgres_url() {
        let url = common::fresh_postgres_url(&base, "items");
        let store = PostgresStore::connect(&url).unwrap();
        let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        out.push((
            Box::new(store),
            Box::new(move |sql: &str| raw.batch_execute(sql).unwrap()),
        ));
    }
    out
}

/// Issue 15 item 3, on every backend: a balance edited, or a transfer deleted, disagrees with
/// the log.
#[test]
fn item_3_tables_reconcile_with_the_log_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    for (mut store, mut sql) in backends(&dir) {
        fill(store.as_mut());
        let r = store.reconcile().unwrap().unwrap();
        assert_eq!((r.ledger_records, r.transfers, r.licences), (5, 5, 1));
        sql("UPDATE accounts SET posted_units = 0 WHERE id = 'licence:D7'");
        let d = store.reconcile().unwrap().unwrap_err();
        assert_eq!(d.account.as_deref(), Some("licence:D7"), "{d}");
        sql("UPDATE accounts SET posted_units = 4 WHERE id = 'licence:D7'");
        sql("DELETE FROM transfer_accounts WHERE key = 'o2'; DELETE FROM transfers WHERE key = 'o2'");
        let d = store.reconcile().unwrap().unwrap_err();
        assert_eq!(d.transfer.as_deref(), Some("o2"), "{d}");
        assert!(d.what.contains("missing"), "{d}");
    }
}

/// Issue 15 item 12, on every backend: paging past i64::MAX is empty, and a deleted head is
/// named.
#[test]
fn item_12_audit_after_u64_max_and_a_deleted_head() {
    let dir = tempfile::tempdir().unwrap();
    for (mut store, mut sql) in backends(&dir) {
        fill(store.as_mut());
        assert!(store.audit_records(u64::MAX, 10).unwrap().is_empty());
        assert!(store
            .audit_records(i64::MAX as u64 + 1, 10)
            .unwrap()
            .is_empty());
        sql("DELETE FROM audit_head");
        let e = store.verify_audit().unwrap_err().to_string();
        assert!(e.contains("audit_head") && e.contains("missing"), "{e}");
    }
}
