//! Issue 19 item 4: `audit prune` and the retention setting, through the command line on
//! SQLite and PostgreSQL. The old records are written through the ledger's library with old
//! times (the binary stamps the time of now); the prune, verify, anchor and pack checks run
//! through the binary.

use std::path::Path;
use std::process::{Command, Output};

use chrono::NaiveDate;
use exportgate_ledger::{
    AccountId, AccountSpec, Amounts, AnyIds, Key, LedgerStore, Licence, Request, Timestamp,
};

fn exe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_exportgate"));
    c.env(
        "EXPORTGATE_DB",
        std::env::temp_dir().join("exportgate-retention-tests-no-such.sqlite"),
    );
    c
}

fn run(args: &[&str]) -> Output {
    exe().args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "command failed: {}", text(&o));
    o
}

fn at(day: &str) -> Timestamp {
    Timestamp::start_of(NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap()).plus_seconds(3600)
}

const LICENCE: &str = r#"{"number": "D7000001", "holder": "Acme Systems", "items": ["nvidia-h100-sxm"], "destinations": ["AE"],
 "consignees": ["Falcon Compute LLC"], "units": 100, "valid_from": "2019-01-01", "valid_to": "2027-12-31"}"#;

fn amounts(units: u64, tpp: u64) -> Amounts {
    Amounts {
        units,
        value: 0,
        tpp,
    }
}

/// A ledger with records from 2019 (a licence, an LPP account, a posted and a pending
/// reservation, a decision) and from 2026 (the pending one posted, a new draw, a decision).
/// Returns the two accounts.
fn seed(store: &mut dyn LedgerStore) -> (AccountId, AccountId) {
    let licence = Licence::from_json(LICENCE, &AnyIds).unwrap();
    store
        .add_licence(&licence, "seed", at("2019-01-10"))
        .unwrap();
    let lpp = AccountSpec::lpp(
        "Falcon Compute LLC",
        NaiveDate::from_ymd_opt(2019, 2, 1).unwrap(),
    );
    store
        .ensure_account(&lpp, "seed", at("2019-02-01"))
        .unwrap();
    let key = |k: &str| Key::new(k).unwrap();
    let lic = licence.account_id();
    let replies = store
        .submit(
            "seed",
            &[
                Request::Reserve {
                    key: key("old-pending"),
                    accounts: vec![lpp.id.clone()],
                    amounts: amounts(0, 1_000),
                    at: at("2019-03-01"),
                },
                Request::ReserveAndPost {
                    key: key("old-posted"),
                    accounts: vec![lic.clone()],
                    amounts: amounts(5, 0),
                    at: at("2019-03-02"),
                },
            ],
        )
        .unwrap();
    assert!(replies.iter().all(|r| r.code.name() == "ok"), "{replies:?}");
    store
        .append_decision(
            "seed",
            at("2019-03-03"),
            &serde_json::json!({"order": {"id": "o-2019"}}),
        )
        .unwrap();
    let replies = store
        .submit(
            "seed",
            &[
                Request::Post {
                    key: key("old-pending-post"),
                    pending: key("old-pending"),
                    at: at("2026-01-05"),
                },
                Request::ReserveAndPost {
                    key: key("new-posted"),
                    accounts: vec![lic.clone()],
                    amounts: amounts(3, 0),
                    at: at("2026-01-06"),
                },
            ],
        )
        .unwrap();
    assert!(replies.iter().all(|r| r.code.name() == "ok"), "{replies:?}");
    store
        .append_decision(
            "seed",
            at("2026-01-06"),
            &serde_json::json!({"order": {"id": "o-2026"}}),
        )
        .unwrap();
    (lic, lpp.id)
}

/// The whole scenario against one database; `sql` runs SQL on it behind the ledger's back.
fn prune_then_verify(db: &str, dir: &Path, sql: &mut dyn FnMut(&str)) {
    let mut store = exportgate_store::open_store(db).unwrap();
    let (lic, lpp) = seed(store.as_mut());
    let before_balances = (
        store.balance(&lic).unwrap().unwrap(),
        store.balance(&lpp).unwrap().unwrap(),
    );
    let all = store.audit_records(0, 100).unwrap();
    assert_eq!(all.len(), 9, "{all:#?}");
    // 2019: licence_added, account_created (licence), account_created (LPP), two ledger
    // records, a decision; 2026: two ledger records, a decision.
    let old: Vec<_> = all.iter().filter(|r| r.at < at("2020-01-01")).collect();
    let youngest_old = old.last().unwrap().seq;
    drop(store);

    // Too recent for five years: refused, naming the youngest record that would go.
    let o = run(&[
        "audit",
        "prune",
        "--before",
        "2026-01-02",
        "--db",
        db,
        "--no-pack",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("15 CFR 762.6"), "{t}");
    assert!(
        t.contains(&format!(
            "youngest record that would go is record {youngest_old}"
        )),
        "{t}"
    );
    // A shorter period needs the override.
    let o = run(&[
        "audit",
        "prune",
        "--before",
        "2019-06-01",
        "--db",
        db,
        "--retention-years",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--i-know-part-762"), "{}", text(&o));
    let mut store = exportgate_store::open_store(db).unwrap();
    assert_eq!(store.audit_records(0, 100).unwrap(), all, "nothing removed");
    drop(store);

    // An anchor before the prune, one into the prefix about to go.
    let pre = dir.join("pre.jsonl");
    ok(run(&[
        "audit",
        "anchor",
        "--db",
        db,
        "--out",
        pre.to_str().unwrap(),
    ]));
    let old_anchor = dir.join("old.jsonl");
    std::fs::write(
        &old_anchor,
        format!("{{\"seq\": 2, \"hash\": \"{}\"}}\n", all[1].hash),
    )
    .unwrap();

    let pack = dir.join("pack");
    let o = ok(run(&[
        "audit",
        "prune",
        "--before",
        "2020-01-01",
        "--db",
        db,
        "--out",
        pack.to_str().unwrap(),
    ]));
    let t = text(&o);
    assert!(
        t.contains(&format!("pruned audit records 1 to {youngest_old}")),
        "{t}"
    );

    let mut store = exportgate_store::open_store(db).unwrap();
    let left = store.audit_records(0, 100).unwrap();
    assert_eq!(left[0].seq, youngest_old + 1);
    assert_eq!(left.last().unwrap().kind, "audit_pruned");
    assert_eq!(left.len(), all.len() - old.len() + 1);
    assert_eq!(
        (
            store.balance(&lic).unwrap().unwrap(),
            store.balance(&lpp).unwrap().unwrap()
        ),
        before_balances,
        "balances unchanged"
    );
    drop(store);

    // The rest verifies, against an anchor from before the prune too; the pack verifies.
    let t = text(&ok(run(&["audit", "verify", "--db", db])));
    assert!(t.contains("ledger agrees with the audit log"), "{t}");
    assert!(
        t.contains(&format!(
            "audit log intact: records {} to {}",
            youngest_old + 1,
            all.len() + 1
        )),
        "{t}"
    );
    ok(run(&[
        "audit",
        "verify",
        "--db",
        db,
        "--anchor",
        pre.to_str().unwrap(),
    ]));
    let post = dir.join("post.jsonl");
    ok(run(&[
        "audit",
        "anchor",
        "--db",
        db,
        "--out",
        post.to_str().unwrap(),
    ]));
    ok(run(&[
        "audit",
        "verify",
        "--db",
        db,
        "--anchor",
        post.to_str().unwrap(),
    ]));
    let t = text(&ok(run(&[
        "audit",
        "verify",
        "--pack",
        pack.to_str().unwrap(),
    ])));
    assert!(
        t.contains(&format!("pack intact: records 1 to {youngest_old}")),
        "{t}"
    );
    ok(run(&[
        "audit",
        "verify",
        "--pack",
        pack.to_str().unwrap(),
        "--anchor",
        old_anchor.to_str().unwrap(),
    ]));

    // An anchor into the removed prefix is reported as pruned, not as tampering; alone it
    // checks nothing that remains, so verify fails closed.
    let o = run(&[
        "audit",
        "verify",
        "--db",
        db,
        "--anchor",
        old_anchor.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("record 2 was removed by `audit prune`"), "{t}");
    assert!(!t.contains("tampered"), "{t}");
    let both = dir.join("both.jsonl");
    std::fs::write(
        &both,
        std::fs::read_to_string(&old_anchor).unwrap() + &std::fs::read_to_string(&post).unwrap(),
    )
    .unwrap();
    let t = text(&ok(run(&[
        "audit",
        "verify",
        "--db",
        db,
        "--anchor",
        both.to_str().unwrap(),
    ])));
    assert!(t.contains("1 naming pruned records not checked"), "{t}");

    // Nothing more to prune.
    let t = text(&ok(run(&[
        "audit",
        "prune",
        "--before",
        "2020-01-01",
        "--db",
        db,
        "--no-pack",
    ])));
    assert!(t.contains("nothing to prune"), "{t}");

    // A tampered chain base or checkpoint fails verify.
    for edit in [
        "UPDATE audit_base SET hash = 'ab' || substr(hash, 3)",
        // The licence's posted units in the checkpoint (and so its replayed balance).
        "UPDATE audit_base SET checkpoint = replace(checkpoint, '\"units\":5', '\"units\":4')",
        "UPDATE audit_base SET seq = seq - 1",
    ] {
        let saved = {
            let mut store = exportgate_store::open_store(db).unwrap();
            store.audit_base().unwrap().unwrap()
        };
        sql(edit);
        let o = run(&["audit", "verify", "--db", db]);
        assert_eq!(o.status.code(), Some(1), "{edit}: {}", text(&o));
        assert!(text(&o).contains("chain base"), "{edit}: {}", text(&o));
        sql(&format!(
            "UPDATE audit_base SET seq = {}, hash = '{}', checkpoint = '{}'",
            saved.seq,
            saved.hash,
            saved.checkpoint.replace('\'', "''")
        ));
        ok(run(&["audit", "verify", "--db", db]));
    }
}

#[test]
fn prune_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let db = format!("sqlite://{}", path.display());
    prune_then_verify(&db, dir.path(), &mut |sql| {
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    });
}

#[test]
fn prune_on_postgres() {
    let Some(base) = std::env::var("EXPORTGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: the PostgreSQL run is skipped");
        return;
    };
    let schema = format!("cli_retention_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
        ))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let dir = tempfile::tempdir().unwrap();
    prune_then_verify(&url, dir.path(), &mut |sql| {
        admin
            .batch_execute(&format!(
                "SET search_path = {schema}; {sql}; RESET search_path"
            ))
            .unwrap();
    });
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

mod server_util;

/// `GET /v1/audit/verify` after a prune: the rest holds; an edited base is a `base` break.
#[test]
fn http_verify_after_prune() {
    let srv = server_util::Server::start();
    let reviewer = srv.key("reviewer", "rita");
    let path = srv.dir.path().join("db.sqlite");
    let db = format!("sqlite://{}", path.display());
    {
        let mut store = exportgate_store::open_store(&db).unwrap();
        seed(store.as_mut());
    }
    ok(run(&[
        "audit",
        "prune",
        "--before",
        "2020-01-01",
        "--db",
        &db,
        "--no-pack",
    ]));
    let (s, v) = srv.call("GET", "/v1/audit/verify", Some(&reviewer), None);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["ledger"]["ok"], true, "{v}");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE audit_base SET hash = 'ab' || substr(hash, 3)")
        .unwrap();
    let (_, v) = srv.call("GET", "/v1/audit/verify", Some(&reviewer), None);
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["break"]["kind"], "base", "{v}");
}
