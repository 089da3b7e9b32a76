//! Issue 21 item 1 through the command line: `ship` accrues a licence's revenue share per
//! calendar quarter on the ledger, in the draw's transaction; replays accrue nothing twice; an
//! order without a value under such a licence is held naming `value_usd`; `licences show` and
//! `report revenue-share` read the accruals back; a `ship` killed with SIGKILL loses no
//! accrual of an order it acknowledged.

#[path = "revenue_share/http.rs"]
mod http;
mod server_util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// An H20 licence for China with the August 2025 condition: 15% of revenue.
const LICENCE: &str = r#"{"number": "H20-CN-1", "holder": "Acme Systems", "items": ["nvidia-h20"], "destinations": ["CN"],
 "consignees": ["Customer CN"], "units": 1000000, "valid_from": "2025-08-01", "valid_to": "2026-12-31",
 "conditions": [{"type": "revenue_share_percent", "value": 15}]}"#;

fn exe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_exportgate"));
    c.env(
        "EXPORTGATE_DB",
        std::env::temp_dir().join("exportgate-revenue-share-tests-no-such.sqlite"),
    );
    c
}

fn run(args: &[&str]) -> Output {
    exe().args(args).stdin(Stdio::null()).output().unwrap()
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `value_cents` as a JSON number of dollars (`1234.05`), or no `value_usd` at all.
fn order(id: &str, date: &str, value_cents: Option<u64>) -> String {
    let value = value_cents
        .map(|c| format!(r#","value_usd":{}.{:02}"#, c / 100, c % 100))
        .unwrap_or_default();
    format!(
        r#"{{"id":"{id}","date":"{date}","item":{{"chip":"nvidia-h20"}},"quantity":8,"destination":"CN","exporter":{{"name":"Acme Systems","country":"US"}},"consignee":{{"name":"Customer CN","country":"CN","headquarters":"CN","parent_headquarters":"CN"}}{value}}}"#
    ) + "\n"
}

/// 15% of `cents`, rounded up to the cent, computed independently of the code under test.
fn fifteen_percent(cents: u64) -> u64 {
    (cents * 15).div_ceil(100)
}

fn decisions(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn setup(dir: &Path) -> String {
    let db = format!("sqlite://{}", dir.join("ledger.sqlite").display());
    let f = write(dir, "licence.json", LICENCE);
    ok(run(&["licences", "add", f.to_str().unwrap(), "--db", &db]));
    db
}

fn ship(db: &str, file: &Path) -> Output {
    run(&[
        "ship",
        file.to_str().unwrap(),
        "--db",
        db,
        "--screened-externally",
    ])
}

fn report(db: &str, quarter: &str) -> Value {
    let o = ok(run(&[
        "report",
        "revenue-share",
        "--quarter",
        quarter,
        "--format",
        "json",
        "--db",
        db,
    ]));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// order id -> share in cents, from a report; asserts the report's sums.
fn shares(report: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut total = 0;
    for l in report["licences"].as_array().unwrap() {
        let mut sum = 0;
        for o in l["orders"].as_array().unwrap() {
            let share = o["share_cents"].as_u64().unwrap();
            sum += share;
            assert!(
                out.insert(o["order_id"].as_str().unwrap().to_owned(), share)
                    .is_none(),
                "an order twice in one report: {o}"
            );
        }
        assert_eq!(l["accrued_cents"].as_u64().unwrap(), sum, "{l}");
        assert_eq!(l["currency"], "USD");
        total += sum;
    }
    assert_eq!(report["total_cents"].as_u64().unwrap(), total);
    assert_eq!(report["currency"], "USD");
    out
}

#[test]
fn accrues_fifteen_percent_per_quarter_once_and_holds_orders_without_value() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    // Q3 and Q4 2025, values with odd cents; one order without a value.
    let book: Vec<(&str, &str, Option<u64>)> = vec![
        ("q3-a", "2025-09-01", Some(100_000_000)),
        ("q3-b", "2025-09-30", Some(1_234_567)),
        ("q4-a", "2025-10-01", Some(250_000_001)),
        ("q4-b", "2025-12-31", Some(99)),
        ("q4-c", "2025-11-15", Some(77_777_777)),
        ("no-value", "2025-11-16", None),
    ];
    let text: String = book.iter().map(|(i, d, v)| order(i, d, *v)).collect();
    let file = write(dir.path(), "orders.jsonl", &text);
    let first = decisions(&ok(ship(&db, &file)));
    for d in &first[..5] {
        assert_eq!(d["outcome"], "licensed", "{d}");
        let why = d["reasons"].to_string();
        assert!(why.contains("revenue share 15% of USD"), "{why}");
    }
    let held = &first[5];
    assert_eq!(held["outcome"], "hold_for_review", "{held}");
    let why = held["reasons"].to_string();
    assert!(
        why.contains("missing field `value_usd`") && why.contains("H20-CN-1"),
        "{why}"
    );

    // `check` says the same without writing anything.
    let lone = write(
        dir.path(),
        "lone.jsonl",
        &order("no-value-2", "2025-11-17", None),
    );
    let o = ok(run(&[
        "check",
        lone.to_str().unwrap(),
        "--db",
        &db,
        "--screened-externally",
    ]));
    let checked = decisions(&o);
    assert_eq!(checked[0]["outcome"], "hold_for_review", "{:?}", checked);
    assert!(checked[0]["reasons"]
        .to_string()
        .contains("missing field `value_usd`"));

    let expect = |quarter: &str| -> BTreeMap<String, u64> {
        book.iter()
            .filter(|(id, _, v)| v.is_some() && id.starts_with(&quarter[4..].to_lowercase()))
            .map(|(id, _, v)| (id.to_string(), fifteen_percent(v.unwrap())))
            .collect()
    };
    let q3 = report(&db, "2025Q3");
    let q4 = report(&db, "2025Q4");
    assert_eq!(shares(&q3), expect("2025Q3"));
    assert_eq!(shares(&q4), expect("2025Q4"));
    assert_eq!(q3["total_cents"], 15_000_000 + 185_186); // 15% of 1,234,567 cents is 185,185.05: rounded up
    let q4_orders = &q4["licences"][0]["orders"];
    assert_eq!(q4_orders.as_array().unwrap().len(), 3);
    assert!(q4_orders
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["order_id"] == "q4-b" && o["value_cents"] == 99 && o["share_cents"] == 15));
    assert_eq!(shares(&report(&db, "2026Q1")).len(), 0);

    // The same book again: every draw and accrual replays, nothing accrues twice.
    let again = decisions(&ok(ship(&db, &file)));
    assert!(again[0]["reasons"]
        .to_string()
        .contains("nothing accrued again"));
    assert_eq!(report(&db, "2025Q3"), q3);
    assert_eq!(report(&db, "2025Q4"), q4);

    // `licences show`: the accrued amounts per quarter.
    let o = ok(run(&[
        "licences", "show", "H20-CN-1", "--db", &db, "--format", "json",
    ]));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rs = v["revenue_share"].as_array().unwrap();
    assert_eq!(rs.len(), 2);
    assert_eq!(rs[0]["quarter"], "2025Q3");
    assert_eq!(rs[0]["accrued_cents"], q3["total_cents"]);
    assert_eq!(rs[1]["quarter"], "2025Q4");
    assert_eq!(rs[1]["accrued_cents"], q4["total_cents"]);
    assert_eq!(rs[1]["orders"].as_array().unwrap().len(), 3);
    let o = ok(run(&["licences", "show", "H20-CN-1", "--db", &db]));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("accrued      2025Q3 USD 151,851.86 (2 orders"),
        "{text}"
    );

    // CSV and text forms of the report.
    let o = ok(run(&[
        "report",
        "revenue-share",
        "--quarter",
        "2025Q4",
        "--format",
        "csv",
        "--db",
        &db,
    ]));
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(csv.starts_with("quarter,licence,holder,percent,currency,order_id,value_cents,share_cents,accrued_at,licence_accrued_cents\n"), "{csv}");
    assert_eq!(csv.lines().count(), 4);
    assert!(
        csv.contains("2025Q4,H20-CN-1,Acme Systems,15,USD,q4-b,99,15,"),
        "{csv}"
    );
    let o = ok(run(&[
        "report",
        "revenue-share",
        "--quarter",
        "2025q3",
        "--db",
        &db,
    ]));
    assert!(String::from_utf8_lossy(&o.stdout)
        .starts_with("revenue share accrued in 2025Q3: USD 151,851.86"));

    // A bad quarter is a usage error naming the flag.
    let o = run(&[
        "report",
        "revenue-share",
        "--quarter",
        "2025Q5",
        "--db",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`--quarter`"));

    // The accrual accounts reconcile with the log like every other account.
    let o = ok(run(&["audit", "verify", "--db", &db]));
    assert!(String::from_utf8_lossy(&o.stdout).contains("audit log intact"));
}

/// Reads decisions from a killed `ship`'s stdout: only whole lines were acknowledged.
fn acknowledged(child: Child, after: Duration) -> Vec<Value> {
    let pid = child.id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(after);
        // SIGKILL, by this process's own child's pid.
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    });
    let out = child.wait_with_output().unwrap();
    killer.join().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| serde_json::from_str(l).expect("a whole line is a whole decision"))
        .collect()
}

#[test]
fn a_killed_ship_loses_no_acknowledged_accrual() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let n = 5_000u64;
    let cents = |i: u64| 100_000 + 7 * i;
    let text: String = (0..n)
        .map(|i| order(&format!("k-{i}"), "2025-10-02", Some(cents(i))))
        .collect();
    let file = write(dir.path(), "orders.jsonl", &text);
    let mut partial = 0;
    for k in 0..8u64 {
        let child = exe()
            .args([
                "ship",
                file.to_str().unwrap(),
                "--db",
                &db,
                "--screened-externally",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let acks = acknowledged(child, Duration::from_millis(150 + 90 * k));
        partial += usize::from(!acks.is_empty() && acks.len() < n as usize);
        let accrued = shares(&report(&db, "2025Q4"));
        for d in &acks {
            assert_eq!(d["outcome"], "licensed", "{d}");
            let id = d["id"].as_str().unwrap();
            let i: u64 = id[2..].parse().unwrap();
            assert_eq!(
                accrued.get(id),
                Some(&fifteen_percent(cents(i))),
                "acknowledged `{id}` lost its accrual after SIGKILL"
            );
        }
        let o = ok(run(&["audit", "verify", "--db", &db]));
        assert!(String::from_utf8_lossy(&o.stdout).contains("audit log intact"));
    }
    // Finished: every order accrued exactly once, whatever the kills interrupted.
    let all = decisions(&ok(ship(&db, &file)));
    assert_eq!(all.len(), n as usize);
    let accrued = shares(&report(&db, "2025Q4"));
    let expect: BTreeMap<String, u64> = (0..n)
        .map(|i| (format!("k-{i}"), fifteen_percent(cents(i))))
        .collect();
    assert_eq!(accrued, expect);
    // Timing-dependent, so reported rather than asserted: the checks above hold either way.
    eprintln!("kills that cut a run short after some acknowledged groups: {partial}");
}
