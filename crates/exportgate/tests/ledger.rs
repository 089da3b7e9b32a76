//! The ledger through the command line: `licences add|list|show`, `audit verify`, licences and
//! LPP in `check` (read-only) and `ship` (reserve and post, idempotent), and four `ship`
//! processes at once against one SQLite file and one PostgreSQL database never passing a
//! licence's 100 units, nor (issue 21 item 2) a licence's 50% volume cap of a recorded US flow;
//! `flows add|list`; and (issue 21 item 3, `ledger/veu.rs`) VEU authorisations and four
//! shippers at once never passing a UVEU's 25 % / 7 % shares.

mod server_util;
#[path = "ledger/veu.rs"]
mod veu;
#[path = "ledger/veu_http.rs"]
mod veu_http;
#[path = "ledger/volume_cap_http.rs"]
mod volume_cap_http;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const LICENCE: &str = r#"{"number": "D1234567", "holder": "Acme Systems", "items": ["nvidia-h100-sxm"], "destinations": ["AE"],
 "consignees": ["Falcon Compute LLC"], "units": 100, "valid_from": "2025-01-01", "valid_to": "2027-12-31",
 "conditions": [{"type": "revenue_share_percent", "value": 15}]}"#;

fn exe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_exportgate"));
    // Hermetic: never read a developer's own database.
    c.env(
        "EXPORTGATE_DB",
        std::env::temp_dir().join("exportgate-ledger-tests-no-such.sqlite"),
    );
    c
}

fn spawn(args: &[&str], stdin: Option<&str>) -> Child {
    let mut child = exe()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    spawn(args, stdin).wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
    o
}

fn csl() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/lists/csl_2026-07-31/screening-list.json"
    )
    .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn licence_with(field: &str, value: &str) -> String {
    let mut v: Value = serde_json::from_str(LICENCE).unwrap();
    v[field] = serde_json::from_str(value).unwrap();
    v.to_string()
}

/// A known customer's due-diligence facts, none raising a red flag: without them the
/// due-diligence policy holds an H100 order outside A:5/A:6 (issue 16).
const KNOWN_CUSTOMER: &str = r#""due_diligence":{"customer_since":"2019-03-01","prior_orders":12,"business_history_years":9,"online_presence":"established","business_need_shown":true,"delivery_address_type":"commercial","delivery_address_consistent":true,"intermediary":"none","normal_distribution":true}"#;

/// One order line of `quantity` H100s to Falcon Compute in the UAE (a licence is required),
/// with its value (the test licence carries a revenue-share condition, which needs one).
fn order(id: &str, quantity: u64) -> String {
    let value = 25_000 * quantity;
    format!(
        r#"{{"id":"{id}","date":"2025-06-01","item":{{"chip":"nvidia-h100-sxm"}},"quantity":{quantity},"destination":"AE","consignee":{{"name":"Falcon Compute LLC","country":"AE","headquarters":"AE","parent_headquarters":"AE"}},"value_usd":{value},{KNOWN_CUSTOMER}}}"#
    )
}

fn orders(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| order(&format!("{prefix}-{i}"), 1) + "\n")
        .collect()
}

fn decisions(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count(ds: &[Value], outcome: &str) -> usize {
    ds.iter().filter(|d| d["outcome"] == outcome).count()
}

fn add_licence(db: &str, dir: &Path, json: &str) -> Output {
    let f = write(dir, "licence.json", json);
    run(&["licences", "add", f.to_str().unwrap(), "--db", db], None)
}

fn show(db: &str, number: &str) -> Value {
    let o = ok(run(
        &["licences", "show", number, "--db", db, "--format", "json"],
        None,
    ));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ship(db: &str, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["ship", file.to_str().unwrap(), "--db", db];
    if !extra.contains(&"--lists") {
        args.push("--screened-externally");
    }
    args.extend_from_slice(extra);
    run(&args, None)
}

#[test]
fn licences_add_list_show_and_bad_files_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("ledger.sqlite");
    let db = db_path.to_str().unwrap();

    // A bad file on a fresh database: exit 2, and the database is not even created.
    let o = add_licence(db, dir.path(), "{\"number\": ");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid licence JSON at line 1"));
    assert!(!db_path.exists());

    let o = ok(add_licence(&format!("sqlite://{db}"), dir.path(), LICENCE));
    assert!(
        stdout(&o).contains("added licence D1234567"),
        "{}",
        stdout(&o)
    );

    let bad: Vec<(String, &str)> = vec![
        ("{\"number\": ".into(), "invalid licence JSON"),
        ("[1, 2]".into(), "must be a JSON object"),
        (LICENCE.into(), "licence `D1234567` already exists"),
        (licence_with("units", "0"), "`units` must be a positive"),
        (licence_with("units", "-5"), "`units` must be a positive"),
        (
            licence_with("valid_to", "\"2024-12-31\""),
            "`valid_to` `2024-12-31` is before `valid_from` `2025-01-01`",
        ),
        (
            licence_with("items", "[\"acme-x9\"]"),
            "`items[0]` is not a known catalog id or ECCN: `acme-x9`",
        ),
        (
            licence_with("destinations", "[\"ZZ\"]"),
            "`destinations[0]` is not a known ISO 3166 alpha-2 country code: `ZZ`",
        ),
    ];
    for (i, (json, expect)) in bad.iter().enumerate() {
        let mut v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        if v.is_object() && *expect != "licence `D1234567` already exists" {
            v["number"] = Value::from(format!("BAD{i}"));
        }
        let text = if v.is_object() {
            v.to_string()
        } else {
            json.clone()
        };
        let o = add_licence(db, dir.path(), &text);
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{text}: {}", stderr(&o));
    }
    // A missing file is the user's too.
    let o = run(
        &["licences", "add", "/no/such/licence.json", "--db", db],
        None,
    );
    assert_eq!(o.status.code(), Some(2));

    // Only the one licence was written; an item may be an ECCN.
    ok(add_licence(
        db,
        dir.path(),
        &licence_with("items", "[\"3A090.a\"]").replace("D1234567", "D7654321"),
    ));
    let o = ok(run(
        &["licences", "list", "--db", db, "--format", "json"],
        None,
    ));
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let numbers: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["licence"]["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["D1234567", "D7654321"]);
    let text = stdout(&ok(run(&["licences", "list", "--db", db], None)));
    assert!(
        text.contains("D1234567") && text.contains("100 units"),
        "{text}"
    );

    let v = show(db, "D1234567");
    assert_eq!(v["licence"]["holder"], "Acme Systems");
    assert_eq!(v["licence"]["conditions"][0]["value"], 15);
    assert_eq!(v["balance"]["available"]["units"], 100);
    assert_eq!(v["history"].as_array().unwrap().len(), 0);
    let text = stdout(&ok(run(
        &["licences", "show", "D1234567", "--db", db],
        None,
    )));
    assert!(text.contains("revenue share 15 %"), "{text}");

    let o = run(&["licences", "show", "D0000000", "--db", db], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("licence `D0000000` not found"));

    let o = run(
        &["licences", "list", "--db", "mysql://root:pw@localhost/x"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("pw@"), "{}", stderr(&o));

    let o = ok(run(&["audit", "verify", "--db", db], None));
    assert!(stdout(&o).contains("audit log intact"), "{}", stdout(&o));
}

#[test]
fn check_licenses_orders_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.sqlite");
    let db = db.to_str().unwrap();
    ok(add_licence(db, dir.path(), &licence_with("units", "3")));
    let file = write(dir.path(), "orders.jsonl", &orders("c", 5));
    let before = show(db, "D1234567");
    let audit_before = stdout(&ok(run(&["audit", "verify", "--db", db], None)));
    let o = ok(run(
        &[
            "check",
            file.to_str().unwrap(),
            "--db",
            db,
            "--lists",
            &csl(),
        ],
        None,
    ));
    let ds = decisions(&o);
    assert_eq!(count(&ds, "licensed"), 3, "{}", stdout(&o));
    assert_eq!(count(&ds, "license_required"), 2, "{}", stdout(&o));
    let first = &ds[0];
    assert_eq!(first["licence"]["number"], "D1234567");
    assert_eq!(first["licence"]["balance_left"]["units"], 2);
    assert!(first["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "revenue_share_percent" && c["value"] == 15.0));
    assert_eq!(ds[2]["licence"]["balance_left"]["units"], 0);
    let refused = ds[3]["reasons"].to_string();
    assert!(
        refused.contains("0 units left, this order needs 1"),
        "{refused}"
    );
    // Read-only: same balance, no transfer, no audit record.
    assert_eq!(show(db, "D1234567"), before);
    let o = ok(run(&["audit", "verify", "--db", db], None));
    assert_eq!(stdout(&o), audit_before);

    // CSV and table name the licence.
    let o = ok(run(
        &[
            "check",
            file.to_str().unwrap(),
            "--db",
            db,
            "--screened-externally",
            "--format",
            "csv",
        ],
        None,
    ));
    let csv = stdout(&o);
    assert!(csv.lines().next().unwrap().ends_with(",licence"), "{csv}");
    assert!(
        csv.contains(",licensed,") && csv.contains(",D1234567"),
        "{csv}"
    );
    let o = ok(run(
        &[
            "check",
            file.to_str().unwrap(),
            "--db",
            db,
            "--screened-externally",
            "--format",
            "table",
        ],
        None,
    ));
    assert!(stdout(&o).contains("D1234567"), "{}", stdout(&o));

    // Without a ledger the same orders need a licence, and no database is created.
    let none = dir.path().join("none.sqlite");
    let o = ok(run(
        &[
            "check",
            file.to_str().unwrap(),
            "--db",
            none.to_str().unwrap(),
            "--screened-externally",
        ],
        None,
    ));
    assert_eq!(count(&decisions(&o), "license_required"), 5);
    assert!(!none.exists());
}

#[test]
fn ship_posts_once_and_a_rerun_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.sqlite");
    let db = db.to_str().unwrap();
    ok(add_licence(db, dir.path(), &licence_with("units", "3")));
    let file = write(dir.path(), "orders.jsonl", &orders("s", 5));
    let o = ok(ship(db, &file, &["--lists", &csl()]));
    let ds = decisions(&o);
    assert_eq!(count(&ds, "licensed"), 3, "{}", stdout(&o));
    assert_eq!(count(&ds, "license_required"), 2);
    assert_eq!(ds[2]["licence"]["balance_left"]["units"], 0);
    let why = ds[4]["reasons"].to_string();
    assert!(
        why.contains("`exceeds_limit` on `licence:D1234567`: 0 units left, this order needs 1"),
        "{why}"
    );
    let v = show(db, "D1234567");
    assert_eq!(v["balance"]["posted"]["units"], 3);
    assert_eq!(v["balance"]["available"]["units"], 0);
    assert_eq!(v["history"].as_array().unwrap().len(), 3);

    // The same file again: the same decisions, nothing drawn again.
    let again = decisions(&ok(ship(db, &file, &["--lists", &csl()])));
    let outcomes =
        |ds: &[Value]| -> Vec<String> { ds.iter().map(|d| d["outcome"].to_string()).collect() };
    assert_eq!(outcomes(&again), outcomes(&ds));
    assert!(again[0]["reasons"].to_string().contains("replayed"));
    assert_eq!(show(db, "D1234567"), v);
    // One licence reason on a replayed order, saying it shipped before.
    let licence_reasons: Vec<&Value> = again[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "licence")
        .collect();
    assert_eq!(licence_reasons.len(), 1, "{}", again[0]["reasons"]);
    assert!(licence_reasons[0]["summary"]
        .as_str()
        .unwrap()
        .starts_with("already shipped under licence D1234567"));

    // `check` after `ship`: the shipped orders are reported as shipped under their licence
    // (not as new orders the empty balance cannot cover); the refused ones stay refused.
    let checked = decisions(&ok(run(
        &[
            "check",
            file.to_str().unwrap(),
            "--db",
            db,
            "--lists",
            &csl(),
        ],
        None,
    )));
    assert_eq!(count(&checked, "licensed"), 3, "{checked:?}");
    assert!(checked[0]["reasons"]
        .to_string()
        .contains("already shipped under licence D1234567"));
    assert_eq!(count(&checked, "license_required"), 2);
    assert_eq!(show(db, "D1234567"), v);

    // A bigger licence later: the refused orders now ship under it, the shipped ones don't move.
    ok(add_licence(
        db,
        dir.path(),
        &licence_with("valid_to", "\"2028-01-01\"").replace("D1234567", "D2"),
    ));
    let third = decisions(&ok(ship(db, &file, &[])));
    assert_eq!(count(&third, "licensed"), 5);
    assert_eq!(third[4]["licence"]["number"], "D2");
    assert_eq!(show(db, "D2")["balance"]["posted"]["units"], 2);
    assert_eq!(show(db, "D1234567"), v);

    // Table and CSV output.
    let o = ok(ship(db, &file, &["--format", "table"]));
    assert!(stdout(&o).contains("licensed"), "{}", stdout(&o));
    let o = ok(ship(db, &file, &["--format", "csv"]));
    assert!(stdout(&o).starts_with("id,date,outcome"), "{}", stdout(&o));

    // Every decision went to the audit log, and the chain holds.
    let o = ok(run(&["audit", "verify", "--db", db], None));
    assert!(stdout(&o).contains("audit log intact"), "{}", stdout(&o));
}

#[test]
fn ship_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.sqlite");
    let db = db.to_str().unwrap();
    ok(add_licence(db, dir.path(), LICENCE));
    // One order id is one shipment: a repeat in the same file is an error, and draws nothing.
    let text = order("dup", 1) + "\n" + &order("dup", 2) + "\n";
    let file = write(dir.path(), "dup.jsonl", &text);
    let o = ship(db, &file, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("appears earlier in this file"),
        "{}",
        stderr(&o)
    );
    let ds = decisions(&o);
    assert_eq!(ds[0]["outcome"], "licensed");
    assert!(ds[1]["error"]["message"].as_str().is_some());
    assert_eq!(show(db, "D1234567")["balance"]["posted"]["units"], 1);
    // The same id with a different order on a re-run is refused by the ledger, fail closed.
    let file = write(dir.path(), "changed.jsonl", &(order("dup", 5) + "\n"));
    let ds = decisions(&ok(ship(db, &file, &[])));
    assert_eq!(ds[0]["outcome"], "license_required");
    assert!(ds[0]["reasons"]
        .to_string()
        .contains("idempotency_key_reused_with_different_request"));
    assert_eq!(show(db, "D1234567")["balance"]["posted"]["units"], 1);
    // A bad database URL and a missing orders file are the user's.
    let o = ship("mysql://x/y", &file, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = ship(db, Path::new("/no/such/orders.jsonl"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = ship(db, &file, &["--regime", "no-such-regime"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// H100s to India under AI Diffusion: LPP while the consignee's calendar-year TPP stays within
/// 26,900,000, counting what the ledger holds; beyond it a licence, counted against India's
/// Tier 2 allocation.
#[test]
fn lpp_and_the_country_allocation_under_ai_diffusion() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.sqlite");
    let db = db.to_str().unwrap();
    let india = |id: &str, q: u64| {
        format!(
            r#"{{"id":"{id}","date":"2025-06-01","item":{{"chip":"nvidia-h100-sxm"}},"quantity":{q},"destination":"IN","consignee":{{"name":"Bharat AI Pvt Ltd","country":"IN","headquarters":"IN","parent_headquarters":"IN"}},{KNOWN_CUSTOMER}}}"#
        ) + "\n"
    };
    // 1,000 H100s are 15,831,200 TPP: one order fits in LPP's 26,900,000, two do not.
    let file = write(
        dir.path(),
        "in.jsonl",
        &(india("in-1", 1000) + &india("in-2", 1000)),
    );
    let diffusion = ["--regime", "ai-diffusion-2025"];
    let args = |cmd: &'static str| -> Vec<String> {
        vec![
            cmd.into(),
            file.to_str().unwrap().into(),
            "--db".into(),
            db.into(),
            "--screened-externally".into(),
            diffusion[0].into(),
            diffusion[1].into(),
        ]
    };
    let run_s = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        ok(run(&a, None))
    };
    let ds = decisions(&run_s(args("check")));
    assert_eq!(ds[0]["exception"], "LPP", "{:?}", ds[0]);
    assert_eq!(ds[1]["outcome"], "license_required");

    let ds = decisions(&run_s(args("ship")));
    assert_eq!(ds[0]["exception"], "LPP", "{:?}", ds[0]);
    assert!(ds[0]["reasons"]
        .to_string()
        .contains("recorded on the ledger"));
    assert_eq!(ds[1]["outcome"], "license_required");
    // `check` now counts what the ledger holds: even the first order is past the cap.
    let ds = decisions(&run_s(args("check")));
    assert_eq!(ds[0]["outcome"], "license_required", "{:?}", ds[0]);
    assert!(
        ds[0]["reasons"]
            .to_string()
            .contains("has used 15831200 TPP in 2025"),
        "{:?}",
        ds[0]
    );

    // A licence covers the second order; it counts against India's allocation too.
    let lic = r#"{"number": "IN-1", "holder": "Acme Systems", "items": ["3A090.a"], "destinations": ["IN"],
      "consignees": ["Bharat AI Pvt Ltd"], "units": 5000, "valid_from": "2025-01-01", "valid_to": "2027-12-31"}"#;
    ok(add_licence(db, dir.path(), lic));
    let ds = decisions(&run_s(args("ship")));
    assert_eq!(ds[0]["exception"], "LPP");
    assert_eq!(ds[1]["outcome"], "licensed", "{:?}", ds[1]);
    let why = ds[1]["reasons"].to_string();
    assert!(why.contains("LPP refused by the ledger"), "{why}");
    assert!(
        why.contains("allocation:IN:2025-2027") && why.contains("774168800 tpp left"),
        "{why}"
    );
    let v = show(db, "IN-1");
    assert_eq!(v["balance"]["posted"]["units"], 1000);
    assert_eq!(v["balance"]["posted"]["tpp"], 15_831_200);
}

#[test]
fn audit_verify_catches_edits_insertions_and_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str| -> String {
        let db = dir.path().join(name);
        let db = db.to_str().unwrap().to_string();
        ok(add_licence(&db, dir.path(), LICENCE));
        let file = write(dir.path(), "a.jsonl", &orders("a", 3));
        ok(ship(&db, &file, &[]));
        ok(run(&["audit", "verify", "--db", &db], None));
        db
    };
    let tamper = |db: &str, sql: &str| {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap();
        conn.execute_batch(sql).unwrap();
    };
    let verify = |db: &str| {
        let o = run(&["audit", "verify", "--db", db], None);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        stdout(&o)
    };

    let db = make("edit.sqlite");
    tamper(
        &db,
        "UPDATE audit_log SET payload = replace(payload, 'licensed', 'no_license_required') WHERE kind = 'decision' AND seq = (SELECT min(seq) FROM audit_log WHERE kind = 'decision')",
    );
    let out = verify(&db);
    assert!(out.contains("record edited"), "{out}");

    let db = make("delete.sqlite");
    tamper(&db, "DELETE FROM audit_log WHERE seq = 3");
    let out = verify(&db);
    assert!(out.contains("record 3") && out.contains("deleted"), "{out}");

    // Inserted: records from 3 on move up one and a well-formed record takes seq 3.
    let db = make("insert.sqlite");
    let (at, prev): (i64, String) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT at, hash FROM audit_log WHERE seq = 2", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let at = exportgate_ledger::Timestamp::from_micros(at);
    let forged = exportgate_ledger::audit::record_hash(&prev, 3, at, "mallory", "decision", "{}");
    tamper(
        &db,
        &format!(
            "UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= 3; UPDATE audit_log SET seq = -seq WHERE seq < 0;
             INSERT INTO audit_log (seq, at, actor, kind, payload, prev_hash, hash)
               VALUES (3, {}, 'mallory', 'decision', '{{}}', '{prev}', '{forged}');",
            at.micros()
        ),
    );
    let out = verify(&db);
    assert!(
        out.contains("record 3") && out.contains("inserted"),
        "{out}"
    );

    let o = run(
        &[
            "audit",
            "verify",
            "--db",
            dir.path().join("none.sqlite").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}

/// Imported lists and the ledger live in one SQLite file without getting in each other's way.
#[test]
fn lists_and_ledger_share_one_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.sqlite");
    let dpl = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/lists/bis_dpl/dpl_2022-09.txt"
    );
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
    exportgate_lists::import(&db, Path::new(dpl), None, day).unwrap();
    let dbs = db.to_str().unwrap();
    ok(add_licence(dbs, dir.path(), LICENCE));
    // Lists imported after the ledger exists, too.
    exportgate_lists::import(&db, Path::new(&csl()), None, day).unwrap();
    let file = write(dir.path(), "o.jsonl", &orders("l", 2));
    // No --lists: the lists come from the same file as the ledger.
    let o = ok(run(&["ship", file.to_str().unwrap(), "--db", dbs], None));
    let ds = decisions(&o);
    assert_eq!(count(&ds, "licensed"), 2, "{}", stdout(&o));
    assert!(
        ds[0]["screening"].to_string().contains("dpl"),
        "{:?}",
        ds[0]["screening"]
    );
    assert_eq!(exportgate_lists::versions_in_force(&db).unwrap().len(), 2);
    ok(run(&["audit", "verify", "--db", dbs], None));
}

/// The issue's acceptance test: four `ship` processes started at once, each shipping 40
/// single-unit orders against one 100-unit licence.
fn four_shippers_at_once(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    ok(add_licence(db, dir.path(), LICENCE));
    let files: Vec<PathBuf> = (0..4)
        .map(|p| {
            write(
                dir.path(),
                &format!("p{p}.jsonl"),
                &orders(&format!("p{p}"), 40),
            )
        })
        .collect();
    let children: Vec<Child> = files
        .iter()
        .map(|f| {
            spawn(
                &[
                    "ship",
                    f.to_str().unwrap(),
                    "--db",
                    db,
                    "--screened-externally",
                ],
                None,
            )
        })
        .collect();
    let mut all = Vec::new();
    for child in children {
        let o = ok(child.wait_with_output().unwrap());
        let ds = decisions(&o);
        assert_eq!(ds.len(), 40);
        all.extend(ds);
    }
    let licensed: u64 = all
        .iter()
        .filter(|d| d["outcome"] == "licensed")
        .map(|d| d["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(licensed, 100);
    assert_eq!(count(&all, "license_required"), 60);
    let v = show(db, "D1234567");
    assert_eq!(v["balance"]["posted"]["units"], 100);
    assert_eq!(v["balance"]["pending"]["units"], 0);
    assert_eq!(v["balance"]["available"]["units"], 0);
    assert_eq!(v["history"].as_array().unwrap().len(), 100);
    let o = ok(run(&["audit", "verify", "--db", db], None));
    assert!(stdout(&o).contains("audit log intact"));
}

#[test]
fn four_shippers_at_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ledger.sqlite").display());
    four_shippers_at_once(&db);
}

/// Runs `test` against a fresh schema `<name>_<pid>` of the PostgreSQL database at
/// `EXPORTGATE_TEST_POSTGRES_URL` (skipped, saying so, when the variable is not set).
fn on_postgres(name: &str, test: impl FnOnce(&str)) {
    let Some(base) = std::env::var("EXPORTGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: the PostgreSQL run is skipped");
        return;
    };
    let schema = format!("{name}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
        ))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    test(&url);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

#[test]
fn four_shippers_at_once_on_postgres() {
    on_postgres("cli_ship", four_shippers_at_once);
}

/// Issue 15 item 3: `audit verify` ties the balances to the transfers and the transfers to the
/// audit log; an anchor kept outside the database catches a rewritten tail.
#[test]
fn item_3_audit_verify_ties_balances_to_the_log_and_checks_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str| -> String {
        let db = dir.path().join(name);
        let db = db.to_str().unwrap().to_string();
        ok(add_licence(&db, dir.path(), LICENCE));
        let file = write(dir.path(), &format!("{name}.jsonl"), &orders(name, 4));
        ok(ship(&db, &file, &[]));
        let o = ok(run(&["audit", "verify", "--db", &db], None));
        assert!(
            stdout(&o).contains("ledger agrees with the audit log"),
            "{}",
            stdout(&o)
        );
        db
    };
    let tamper = |db: &str, sql: &str| {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch(sql).unwrap();
    };
    let fails = |db: &str, extra: &[&str]| -> String {
        let mut args = vec!["audit", "verify", "--db", db];
        args.extend_from_slice(extra);
        let o = run(&args, None);
        assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
        stdout(&o)
    };

    // A balance edited to 0: the stored balance no longer follows from the transfers.
    let db = make("balance");
    tamper(
        &db,
        "UPDATE accounts SET posted_units = 0 WHERE id = 'licence:D1234567'",
    );
    let out = fails(&db, &[]);
    assert!(
        out.contains("licence:D1234567") && out.contains("transfers"),
        "{out}"
    );

    // A transfer row deleted (and its balance lowered to match): the log still has it.
    let db = make("transfer");
    tamper(
        &db,
        "DELETE FROM transfer_accounts WHERE key = (SELECT min(key) FROM transfers);
         DELETE FROM transfers WHERE key = (SELECT min(key) FROM transfers);
         UPDATE accounts SET posted_units = posted_units - 1 WHERE id = 'licence:D1234567'",
    );
    let out = fails(&db, &[]);
    assert!(out.contains("missing from the database"), "{out}");

    // A licence's limit raised in the account's spec and limit column.
    let db = make("limit");
    tamper(
        &db,
        "UPDATE accounts SET limit_units = 1000000, spec = replace(spec, '\"units\":100', '\"units\":1000000') WHERE id = 'licence:D1234567'",
    );
    let out = fails(&db, &[]);
    assert!(out.contains("licence:D1234567"), "{out}");

    // The tail deleted and the head rewound: the chain is consistent, the anchor is not.
    let db = make("tail");
    let anchor = dir.path().join("tail.anchor");
    let o = ok(run(
        &[
            "audit",
            "anchor",
            "--db",
            &db,
            "--out",
            anchor.to_str().unwrap(),
        ],
        None,
    ));
    let line: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let head = line["seq"].as_u64().unwrap();
    assert!(head > 3, "{line}");
    assert_eq!(
        std::fs::read_to_string(&anchor).unwrap().trim(),
        stdout(&o).trim()
    );
    ok(run(
        &[
            "audit",
            "verify",
            "--db",
            &db,
            "--anchor",
            anchor.to_str().unwrap(),
        ],
        None,
    ));
    tamper(
        &db,
        &format!(
            "DROP TRIGGER audit_log_no_delete;
             DELETE FROM audit_log WHERE seq = {head};
             UPDATE audit_head SET seq = {prev}, hash = (SELECT hash FROM audit_log WHERE seq = {prev});",
            prev = head - 1
        ),
    );
    let out = fails(&db, &["--anchor", anchor.to_str().unwrap()]);
    assert!(out.contains("anchor"), "{out}");

    // An edit with everything after it re-hashed: the chain is consistent, the anchor is not.
    let db = make("rehash");
    let anchor = dir.path().join("rehash.anchor");
    ok(run(
        &[
            "audit",
            "anchor",
            "--db",
            &db,
            "--out",
            anchor.to_str().unwrap(),
        ],
        None,
    ));
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("DROP TRIGGER audit_log_no_update;")
            .unwrap();
        let records: Vec<(i64, i64, String, String, String)> = conn
            .prepare("SELECT seq, at, actor, kind, payload FROM audit_log ORDER BY seq")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut prev = exportgate_ledger::audit::GENESIS_HASH.to_string();
        for (seq, at, actor, kind, payload) in records {
            let actor = if seq == 2 {
                "mallory".to_string()
            } else {
                actor
            };
            let hash = exportgate_ledger::audit::record_hash(
                &prev,
                seq as u64,
                exportgate_ledger::Timestamp::from_micros(at),
                &actor,
                &kind,
                &payload,
            );
            conn.execute(
                "UPDATE audit_log SET actor = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
                rusqlite::params![actor, prev, hash, seq],
            )
            .unwrap();
            prev = hash;
        }
        conn.execute("UPDATE audit_head SET hash = ?1", [prev])
            .unwrap();
    }
    // Without the anchor the forgery is consistent; with it, it is caught.
    ok(run(&["audit", "verify", "--db", &db], None));
    let out = fails(&db, &["--anchor", anchor.to_str().unwrap()]);
    assert!(out.contains("anchor"), "{out}");

    // A bad anchor file is the user's error.
    let bad = write(dir.path(), "bad.anchor", "not json\n");
    let o = run(
        &[
            "audit",
            "verify",
            "--db",
            &db,
            "--anchor",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Issue 15 item 12: `audit verify` on a database whose audit log was deleted says so, and a
/// UTF-8 byte-order mark before the orders is accepted.
#[test]
fn item_12_audit_verify_names_a_deleted_log_and_a_bom_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gone.sqlite");
    let db = db.to_str().unwrap().to_string();
    ok(add_licence(&db, dir.path(), LICENCE));
    let file = write(dir.path(), "o.jsonl", &orders("g", 2));
    ok(ship(&db, &file, &[]));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log; DELETE FROM audit_head;",
    )
    .unwrap();
    drop(conn);
    let o = run(&["audit", "verify", "--db", &db], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let all = stdout(&o) + &stderr(&o);
    assert!(!all.contains("Query returned no rows"), "{all}");
    assert!(
        all.contains("audit_head") && all.contains("deleted"),
        "{all}"
    );
    // The table itself dropped.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TABLE audit_log;")
        .unwrap();
    let o = run(&["audit", "verify", "--db", &db], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let all = stdout(&o) + &stderr(&o);
    assert!(all.contains("`audit_log` is missing"), "{all}");

    // A byte-order mark before the first order.
    let bom = write(
        dir.path(),
        "bom.jsonl",
        &format!("\u{feff}{}", orders("b", 1)),
    );
    let o = ok(run(
        &["check", bom.to_str().unwrap(), "--screened-externally"],
        None,
    ));
    let ds = decisions(&o);
    assert_eq!(ds.len(), 1);
    assert!(ds[0]["outcome"].is_string(), "{:?}", ds[0]);
}

/// An H200 licence for China with 91 FR 1684's volume cap: China-bound shipments of the
/// product at most 50% of those to US end users. Its unit limit is far above the cap, so the
/// cap is what binds.
const H200_LICENCE: &str = r#"{"number": "H200-CN-1", "holder": "Acme Systems", "items": ["nvidia-h200"], "destinations": ["CN"],
 "consignees": ["Customer CN"], "units": 1000000, "valid_from": "2026-01-15", "valid_to": "2027-12-31",
 "conditions": [{"type": "volume_cap_percent", "value": 50}]}"#;

/// One order line of `quantity` H200s to a known customer in China (licence required).
fn h200_order(id: &str, destination: &str, quantity: u64) -> String {
    format!(
        r#"{{"id":"{id}","date":"2026-03-02","item":{{"chip":"nvidia-h200"}},"quantity":{quantity},"destination":"{destination}","exporter":{{"name":"Acme Systems","country":"US"}},"consignee":{{"name":"Customer {destination}","country":"{destination}","headquarters":"{destination}","parent_headquarters":"{destination}"}},"value_usd":{},{KNOWN_CUSTOMER}}}"#,
        30_000 * quantity
    ) + "\n"
}

fn h200_orders(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| h200_order(&format!("{prefix}-{i}"), "CN", 1))
        .collect()
}

/// `flows list --format json`: the nvidia-h200 entry's (US-bound, capped) units.
fn h200_flow(db: &str) -> (u64, u64) {
    let o = ok(run(
        &["flows", "list", "--db", db, "--format", "json"],
        None,
    ));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["product"] == "nvidia-h200")
        .expect("an nvidia-h200 flow");
    (
        f["us_units"].as_u64().unwrap(),
        f["capped_units"].as_u64().unwrap(),
    )
}

fn licensed_units(ds: &[Value]) -> u64 {
    ds.iter()
        .filter(|d| d["outcome"] == "licensed")
        .map(|d| d["quantity"].as_u64().unwrap())
        .sum()
}

/// Issue 21 item 2: four `ship` processes at once, 20 single-unit H200 China orders each,
/// against a 50% cap of a recorded US flow of 100 units: exactly 50 ship, the rest are
/// refused with the numbers; a flow recorded later raises the cap for later draws; shipping
/// a book again draws nothing twice.
fn four_capped_shippers_at_once(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    ok(add_licence(db, dir.path(), H200_LICENCE));
    let o = ok(run(
        &[
            "flows",
            "add",
            "--product",
            "NVIDIA-H200",
            "--units",
            "100",
            "--date",
            "2026-02-01",
            "--reference",
            "bol-1",
            "--db",
            db,
        ],
        None,
    ));
    assert!(stdout(&o).contains("US-bound 100 so far"), "{}", stdout(&o));
    let files: Vec<PathBuf> = (0..4)
        .map(|p| {
            write(
                dir.path(),
                &format!("p{p}.jsonl"),
                &h200_orders(&format!("p{p}"), 20),
            )
        })
        .collect();
    let children: Vec<Child> = files
        .iter()
        .map(|f| {
            spawn(
                &[
                    "ship",
                    f.to_str().unwrap(),
                    "--db",
                    db,
                    "--screened-externally",
                ],
                None,
            )
        })
        .collect();
    let mut all = Vec::new();
    for child in children {
        let ds = decisions(&ok(child.wait_with_output().unwrap()));
        assert_eq!(ds.len(), 20);
        all.extend(ds);
    }
    assert_eq!(licensed_units(&all), 50);
    assert_eq!(count(&all, "license_required"), 30);
    // The refusals name the numbers; the first refused draw would have made it 51.
    let refusals: Vec<String> = all
        .iter()
        .filter(|d| d["outcome"] == "license_required")
        .map(|d| d["reasons"].to_string())
        .collect();
    assert!(refusals.iter().all(|r| r
        .contains("licence H200-CN-1 covers the order but the ledger refused it: exceeds_limit: China-bound 51 would pass 50% of US-bound 100")));
    assert_eq!(h200_flow(db), (100, 50));
    let v = show(db, "H200-CN-1");
    assert_eq!(v["balance"]["posted"]["units"], 50);
    assert_eq!(
        v["volume_cap"],
        serde_json::json!([{"product": "nvidia-h200", "percent": 50, "us_units": 100,
            "cap_units": 50, "capped_units": 50, "left_units": 0}])
    );

    // `check` (read-only) refuses a new order the same way, and writes nothing.
    let more = write(dir.path(), "more.jsonl", &h200_order("more-1", "CN", 1));
    let o = ok(run(
        &[
            "check",
            more.to_str().unwrap(),
            "--db",
            db,
            "--screened-externally",
        ],
        None,
    ));
    let d = &decisions(&o)[0];
    assert_eq!(d["outcome"], "license_required");
    assert!(d["reasons"]
        .to_string()
        .contains("exceeds_limit: China-bound 51 would pass 50% of US-bound 100"));

    // An order to the US ships and raises the flow: 100 + 20 units, a cap of 60.
    let us = write(dir.path(), "us.jsonl", &h200_order("us-1", "US", 20));
    let ds = decisions(&ok(ship(db, &us, &[])));
    assert_eq!(ds[0]["outcome"], "no_license_required");
    assert!(ds[0]["reasons"].to_string().contains("120 units so far"));
    assert_eq!(h200_flow(db), (120, 50));
    let o = ok(run(
        &[
            "check",
            more.to_str().unwrap(),
            "--db",
            db,
            "--screened-externally",
        ],
        None,
    ));
    assert_eq!(decisions(&o)[0]["outcome"], "licensed");

    // Shipping every book again: the 50 drawn replay (nothing drawn twice), 10 refused
    // before now fit the raised cap, the other 20 are refused at 61.
    let mut again = Vec::new();
    for f in &files {
        again.extend(decisions(&ok(ship(db, f, &[]))));
    }
    assert_eq!(licensed_units(&again), 60);
    assert_eq!(h200_flow(db), (120, 60));
    assert!(again
        .iter()
        .filter(|d| d["outcome"] == "license_required")
        .all(|d| d["reasons"]
            .to_string()
            .contains("exceeds_limit: China-bound 61 would pass 50% of US-bound 120")));
    // And again: everything replays or is refused; nothing moves.
    for f in &files {
        ok(ship(db, f, &[]));
    }
    ok(ship(db, &us, &[]));
    assert_eq!(h200_flow(db), (120, 60));
    assert_eq!(show(db, "H200-CN-1")["balance"]["posted"]["units"], 60);
    let o = ok(run(&["audit", "verify", "--db", db], None));
    assert!(stdout(&o).contains("audit log intact"));
}

#[test]
fn four_capped_shippers_at_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ledger.sqlite").display());
    four_capped_shippers_at_once(&db);
}

#[test]
fn four_capped_shippers_at_once_on_postgres() {
    on_postgres("cli_capped", four_capped_shippers_at_once);
}

/// `flows add` records a reference once, names the bad field, and refuses a future date; a
/// licence with a bad `volume_cap_percent` is refused naming the field.
#[test]
fn flows_add_and_list_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ledger.sqlite").display());
    let add = |args: &[&str]| {
        let mut all = vec!["flows", "add", "--db", &db];
        all.extend_from_slice(args);
        run(&all, None)
    };
    let o = ok(add(&[
        "--product",
        "nvidia-h200",
        "--units",
        "10000",
        "--date",
        "2026-02-01",
    ]));
    assert!(
        stdout(&o).contains("US-bound 10,000 so far"),
        "{}",
        stdout(&o)
    );
    let o = ok(add(&[
        "--product",
        "nvidia-h200",
        "--units",
        "10000",
        "--date",
        "2026-02-01",
    ]));
    assert!(
        stdout(&o).contains("recorded before: nothing added"),
        "{}",
        stdout(&o)
    );
    assert_eq!(h200_flow(&db), (10_000, 0));
    let o = add(&[
        "--product",
        "acme-x9",
        "--units",
        "1",
        "--date",
        "2026-02-01",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("`--product`"), "{}", stderr(&o));
    let o = add(&[
        "--product",
        "nvidia-h200",
        "--units",
        "0",
        "--date",
        "2026-02-01",
    ]);
    assert!(stderr(&o).contains("`--units`"), "{}", stderr(&o));
    let o = add(&[
        "--product",
        "nvidia-h200",
        "--units",
        "5",
        "--date",
        "2999-01-01",
    ]);
    assert!(stderr(&o).contains("`--date`"), "{}", stderr(&o));
    let o = add(&[
        "--product",
        "nvidia-h200",
        "--units",
        "5",
        "--date",
        "2026-02-01",
        "--reference",
        "nvidia-h200:2026-02-01:10000",
    ]);
    assert!(stderr(&o).contains("`--reference`"), "{}", stderr(&o));
    assert_eq!(h200_flow(&db), (10_000, 0));
    let bad = H200_LICENCE.replace("\"value\": 50", "\"value\": 0");
    let o = add_licence(&db, dir.path(), &bad);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("conditions[0].value"), "{}", stderr(&o));
}

/// Under AI Diffusion a licensed order to a Tier 2 country draws on the country allocation
/// and, under a licence with a revenue-share condition, accrues its share in the same group:
/// the accrual account is created before it is drawn on (the allocation's creation step does
/// not stand in for it).
#[test]
fn revenue_share_beside_the_country_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ledger.sqlite").display());
    let lic = r#"{"number": "IN-RS", "holder": "Acme Systems", "items": ["3A090.a"], "destinations": ["IN"],
      "consignees": ["Bharat AI Pvt Ltd"], "units": 5000, "valid_from": "2025-01-01", "valid_to": "2027-12-31",
      "conditions": [{"type": "revenue_share_percent", "value": 15}]}"#;
    ok(add_licence(&db, dir.path(), lic));
    let order = format!(
        r#"{{"id":"in-1","date":"2025-06-01","item":{{"chip":"nvidia-h100-sxm"}},"quantity":2000,"destination":"IN","consignee":{{"name":"Bharat AI Pvt Ltd","country":"IN","headquarters":"IN","parent_headquarters":"IN"}},"value_usd":50000000,{KNOWN_CUSTOMER}}}"#
    ) + "\n";
    let f = write(dir.path(), "in.jsonl", &order);
    let ds = decisions(&ok(ship(&db, &f, &["--regime", "ai-diffusion-2025"])));
    assert_eq!(ds[0]["outcome"], "licensed", "{:?}", ds[0]);
    let why = ds[0]["reasons"].to_string();
    assert!(why.contains("allocation:IN:2025-2027"), "{why}");
    assert!(
        why.contains("USD 7,500,000.00 accrued to `revenue-share:IN-RS:2025Q2`"),
        "{why}"
    );
}
