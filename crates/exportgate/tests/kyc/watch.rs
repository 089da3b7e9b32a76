//! Issue 16: a running server sees party records written by other processes — the CLI
//! (`exportgate parties add|review`) on the same SQLite file, or another server on the same
//! PostgreSQL database — without a restart: its watcher reads the records changed since the
//! last audit seq it saw (every 250 ms), so the next decision through it draws on them.
//!
//! The PostgreSQL test needs `EXPORTGATE_TEST_POSTGRES_URL` (set by `.ci/postgres.sh`); without
//! it the test says so and skips.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server_util::{csl, Server};
use serde_json::{json, Value};

fn exe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_exportgate"));
    // Hermetic: never read a developer's own database.
    c.env(
        "EXPORTGATE_DB",
        std::env::temp_dir().join("exportgate-kyc-watch-no-such.sqlite"),
    );
    c
}

fn cli_ok(args: &[&str], db: &str) {
    let out = exe().args(args).args(["--db", db]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A known customer's record, every fact but `delivery_address_consistent` (a high-severity
/// flag's fact): an H100 order to it is held for that one fact.
fn partial_record() -> Value {
    let mut facts = serde_json::Map::new();
    for (k, v) in [
        ("customer_since", json!("2019-03-01")),
        ("prior_orders", json!(14)),
        ("business_history_years", json!(11)),
        ("online_presence", json!("established")),
        ("business_need_shown", json!(true)),
        ("data_centre_capacity_shown", json!(true)),
        ("delivery_address_type", json!("commercial")),
        ("intermediary", json!("none")),
        ("normal_distribution", json!(true)),
        ("end_use_statement", json!(true)),
    ] {
        facts.insert(
            k.into(),
            json!({"value": v, "established": "2026-01-10", "by": "Alice (compliance)"}),
        );
    }
    json!({"id": "p-kl", "name": "KL Distribution Sdn Bhd", "kinds": ["customer", "consignee"],
        "country": "MY", "headquarters": "MY", "parent_headquarters": "MY",
        "role": "distributor", "ownership_checked": true, "facts": facts,
        "review_by": "2026-07-10"})
}

/// The H100 order to the Malaysian distributor, by name and country only.
fn h100(id: &str) -> Value {
    json!({"id": id, "date": "2026-03-02", "item": {"chip": "nvidia-h100-sxm"}, "quantity": 8,
        "destination": "MY", "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": "KL Distribution Sdn Bhd", "country": "MY"}})
}

/// Decides `order` through the server at `base` until `done` holds of the decision, for up to
/// 5 s (the watcher reads every 250 ms; the margin is for a loaded machine); the decision and
/// how long it took.
fn decide_until(
    base: &str,
    key: &str,
    order: &Value,
    done: impl Fn(&Value) -> bool,
) -> (Value, Duration) {
    let start = Instant::now();
    loop {
        let (status, d) = post(base, "/v1/check", key, order);
        assert_eq!(status, 200, "{d}");
        if done(&d) || start.elapsed() > Duration::from_secs(5) {
            return (d, start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// POST a JSON body with a key; the status and the JSON answer.
fn post(base: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let res = ureq::post(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST {path}: {e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn uses_record(d: &Value) -> bool {
    d["due_diligence"]["parties"][0]["id"] == "p-kl"
}

fn missing(d: &Value) -> Value {
    let facts: Vec<Value> = d["due_diligence"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["facts"].as_array().unwrap().clone())
        .collect();
    Value::Array(facts)
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn a_server_sees_party_records_the_cli_writes_to_its_sqlite_file() {
    let server = Server::start();
    let key = server.key("submitter", "orders");
    let db = server.dir.path().join("db.sqlite");
    let db = db.to_str().unwrap();

    // No record yet: held, the consignee unknown to the party records.
    let (d, _) = decide_until(&server.base, &key, &h100("o-1"), |_| true);
    assert_eq!(d["outcome"], "hold_for_review", "{d}");
    assert!(!uses_record(&d), "{d}");

    // Added by the CLI while the server runs: the server's decisions draw on it.
    let file = write(server.dir.path(), "party.json", &partial_record());
    cli_ok(&["parties", "add", &file], db);
    let (d, took) = decide_until(&server.base, &key, &h100("o-2"), uses_record);
    assert!(uses_record(&d), "not seen after {took:?}: {d}");
    assert_eq!(d["outcome"], "hold_for_review", "{d}");
    assert_eq!(missing(&d), json!(["delivery_address_consistent"]), "{d}");

    // Reviewed by the CLI: the record the server holds is replaced, and the order is clean.
    cli_ok(
        &[
            "parties",
            "review",
            "p-kl",
            "--set",
            "delivery_address_consistent=true",
            "--by",
            "Bob (compliance)",
            "--on",
            "2026-02-01",
        ],
        db,
    );
    let (d, took) = decide_until(&server.base, &key, &h100("o-3"), |d| {
        d["outcome"] == "no_license_required"
    });
    assert_eq!(
        d["outcome"], "no_license_required",
        "review not seen after {took:?}: {d}"
    );
    assert!(
        d["due_diligence"]["sources"]["party:p-kl"]
            .as_array()
            .unwrap()
            .contains(&json!("delivery_address_consistent")),
        "{d}"
    );
}

/// One `exportgate serve` on a PostgreSQL URL, killed on drop.
struct Srv {
    child: Child,
    base: String,
}

impl Srv {
    fn start(url: &str) -> Srv {
        let mut child = exe()
            .args(["serve", "--addr", "127.0.0.1:0", "--db", url, "--lists"])
            .arg(csl())
            .args(["--max-list-age", "36500"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start exportgate serve");
        let base = crate::server_util::listening_on(&mut child);
        Srv { child, base }
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn servers_on_one_postgres_database_see_each_others_party_records() {
    let Ok(base_url) = std::env::var("EXPORTGATE_TEST_POSTGRES_URL") else {
        eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: skipping the PostgreSQL test");
        return;
    };
    let schema = format!("kyc_watch_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base_url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
        ))
        .unwrap();
    let sep = if base_url.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{sep}options=-c%20search_path%3D{schema}");
    cli_ok(&["db", "migrate"], &url);
    let key_of = |role: &str, name: &str| -> String {
        let out = exe()
            .args([
                "keys", "create", "--role", role, "--name", name, "--db", &url,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let submitter = key_of("submitter", "orders");
    let reviewer = key_of("reviewer", "compliance");
    let (a, b) = (Srv::start(&url), Srv::start(&url));

    // Added through server A: server B decides with it.
    let (d, _) = decide_until(&b.base, &submitter, &h100("pg-1"), |_| true);
    assert!(!uses_record(&d), "{d}");
    let (status, body) = post(&a.base, "/v1/parties", &reviewer, &partial_record());
    assert_eq!(status, 201, "{body}");
    let (d, took) = decide_until(&b.base, &submitter, &h100("pg-2"), uses_record);
    assert!(uses_record(&d), "not seen by B after {took:?}: {d}");
    assert_eq!(missing(&d), json!(["delivery_address_consistent"]), "{d}");

    // Reviewed by the CLI: both servers decide the order clean.
    cli_ok(
        &[
            "parties",
            "review",
            "p-kl",
            "--set",
            "delivery_address_consistent=true",
            "--by",
            "Bob (compliance)",
            "--on",
            "2026-02-01",
        ],
        &url,
    );
    for (name, srv) in [("A", &a), ("B", &b)] {
        let (d, took) = decide_until(&srv.base, &submitter, &h100("pg-3"), |d| {
            d["outcome"] == "no_license_required"
        });
        assert_eq!(
            d["outcome"], "no_license_required",
            "server {name}: review not seen after {took:?}: {d}"
        );
    }
    drop((a, b));
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
}
