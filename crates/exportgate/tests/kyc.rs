//! Issue 16 end to end: the same H100 order to a Malaysian distributor is held without a
//! party record (listing the facts to collect), clean with a current record whose facts raise
//! no flag, and held again once the record is past its review date — through the CLI
//! (`exportgate parties`, `exportgate check`) and the API (`POST /v1/parties`,
//! `POST /v1/check`, `POST /v1/cases/{id}/due-diligence`) alike. Also: every party change is
//! in the audit log, bad records are refused naming the field and write nothing, and
//! `--policy FILE` replaces the embedded due-diligence policy.

mod server_util;
#[path = "kyc/watch.rs"]
mod watch;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use server_util::{csl, Server};

fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exportgate"))
}

fn run(args: &[&str], db: &Path) -> (i32, String, String) {
    let out = exe().args(args).arg("--db").arg(db).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The distributor's record: every fact a known customer has, none raising a flag.
fn record() -> Value {
    let by = "Alice (compliance)";
    let on = "2026-01-10";
    let mut facts = serde_json::Map::new();
    for (k, v) in [
        ("customer_since", json!("2019-03-01")),
        ("prior_orders", json!(14)),
        ("business_history_years", json!(11)),
        ("online_presence", json!("established")),
        ("business_need_shown", json!(true)),
        ("delivery_address_type", json!("commercial")),
        ("delivery_address_consistent", json!(true)),
        ("intermediary", json!("none")),
        ("normal_distribution", json!(true)),
        ("end_use_statement", json!(true)),
    ] {
        facts.insert(k.into(), json!({"value": v, "established": on, "by": by}));
    }
    json!({"id": "p-kl", "name": "KL Distribution Sdn Bhd", "kinds": ["customer", "consignee"],
        "country": "MY", "headquarters": "MY", "parent_headquarters": "MY",
        "role": "distributor", "ownership_checked": true, "facts": facts,
        "review_by": "2026-07-10"})
}

/// The H100 order on `date`, its consignee named by name and country only.
fn order(id: &str, date: &str) -> Value {
    json!({"id": id, "date": date, "item": {"chip": "nvidia-h100-sxm"}, "quantity": 8,
        "destination": "MY", "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": "KL Distribution Sdn Bhd", "country": "MY"}})
}

fn facts_to_collect(d: &Value) -> Vec<String> {
    let mut out: Vec<String> = d["due_diligence"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["severity"] == "high")
        .flat_map(|m| m["facts"].as_array().unwrap().clone())
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn held_for_due_diligence(d: &Value) {
    assert_eq!(d["outcome"], "hold_for_review", "{d}");
    assert_eq!(d["due_diligence"]["policy"], "hold", "{d}");
    let reason = d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "dd-policy.advanced-outside-a5-a6")
        .unwrap_or_else(|| panic!("no due-diligence reason in {d}"));
    let summary = reason["summary"].as_str().unwrap();
    assert!(summary.starts_with("due diligence incomplete"), "{summary}");
    for f in facts_to_collect(d) {
        assert!(summary.contains(&f), "{f} not listed in {summary}");
    }
    assert_eq!(
        facts_to_collect(d),
        [
            "business_need_shown",
            "data_centre_capacity_shown",
            "delivery_address_consistent",
            "delivery_address_type",
            "intermediary",
            "normal_distribution"
        ]
    );
}

fn check_cli(db: &Path, dir: &Path, orders: &[Value], extra: &[&str]) -> Vec<Value> {
    let file = dir.join("orders.jsonl");
    let text: Vec<String> = orders.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    let out = exe()
        .arg("check")
        .arg(&file)
        .arg("--lists")
        .arg(csl())
        .arg("--db")
        .arg(db)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn h100_to_a_malaysian_distributor_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let orders = [order("before", "2026-03-02"), order("after", "2026-08-03")];

    // Without a party record: held, listing the facts to collect.
    let d = check_cli(&db, dir.path(), &orders[..1], &[]);
    held_for_due_diligence(&d[0]);

    // A bad record is refused, naming the field, and writes nothing.
    let mut bad = record();
    bad["facts"]["business_need_shown"]["value"] = json!("yes");
    let file = dir.path().join("bad.json");
    std::fs::write(&file, bad.to_string()).unwrap();
    let (code, _, err) = run(&["parties", "add", file.to_str().unwrap()], &db);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("facts.business_need_shown.value"), "{err}");
    let (_, list, _) = run(&["parties", "list", "--format", "json"], &db);
    assert_eq!(serde_json::from_str::<Value>(&list).unwrap(), json!([]));

    // With a current record: no licence required; every fact from the record, by name.
    let file = dir.path().join("party.json");
    std::fs::write(&file, record().to_string()).unwrap();
    let (code, _, err) = run(&["parties", "add", file.to_str().unwrap()], &db);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["parties", "add", file.to_str().unwrap()], &db);
    assert_eq!(code, 2, "adding the same id twice: {err}");
    let d = check_cli(&db, dir.path(), &orders, &[]);
    assert_eq!(d[0]["outcome"], "no_license_required", "{}", d[0]);
    let dd = &d[0]["due_diligence"];
    assert_eq!(dd["parties"][0]["id"], "p-kl");
    assert_eq!(dd["parties"][0]["matched_by"], "name");
    assert_eq!(dd["missing"], json!([]));
    assert!(
        dd["sources"]["party:p-kl"]
            .as_array()
            .unwrap()
            .contains(&json!("business_need_shown")),
        "{dd}"
    );
    assert!(dd["sources"].get("order").is_none(), "{dd}");

    // Past its review date (10 July 2026): held again.
    held_for_due_diligence(&d[1]);
    assert_eq!(d[1]["due_diligence"]["parties"][0]["current"], false);

    // Reviewed: current again, and the review is in the audit log.
    let (code, _, err) = run(
        &[
            "parties",
            "review",
            "p-kl",
            "--set",
            "business_need_shown=true",
            "--by",
            "Bob (compliance)",
            "--on",
            "2026-07-20",
            "--review-by",
            "2027-01-20",
        ],
        &db,
    );
    assert_eq!(code, 0, "{err}");
    let d = check_cli(&db, dir.path(), &orders[1..], &[]);
    assert_eq!(d[0]["outcome"], "no_license_required", "{}", d[0]);
    let (_, shown, _) = run(
        &[
            "parties",
            "show",
            "p-kl",
            "--as-of",
            "2026-08-03",
            "--format",
            "json",
        ],
        &db,
    );
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["current"], true);
    assert_eq!(
        shown["facts"]["business_need_shown"]["by"],
        "Bob (compliance)"
    );
    assert_eq!(shown["facts"]["business_need_shown"]["age_days"], 14);
    assert_eq!(shown["facts"]["customer_since"]["age_days"], 205);
    let (code, out, err) = run(&["audit", "verify"], &db);
    assert_eq!(code, 0, "{out}{err}");

    // A policy that holds nowhere: the unknown flags are reported only.
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"summary": "report only", "hold": []}"#).unwrap();
    let fresh = dir.path().join("fresh.sqlite");
    let mut standalone = orders[0].clone();
    standalone["consignee"]["headquarters"] = json!("MY");
    standalone["consignee"]["parent_headquarters"] = json!("MY");
    let d = check_cli(&fresh, dir.path(), &[standalone.clone()], &[]);
    held_for_due_diligence(&d[0]);
    let d = check_cli(
        &fresh,
        dir.path(),
        &[standalone],
        &["--policy", policy.to_str().unwrap()],
    );
    assert_eq!(d[0]["outcome"], "no_license_required", "{}", d[0]);
    assert_eq!(d[0]["due_diligence"]["policy"], "report");
    std::fs::write(&policy, r#"{"hold": [{"id": "x", "title": "t", "citation": "c", "when": {"destination": {"groups": ["Z:9"]}}}]}"#).unwrap();
    let out = exe()
        .args(["check", "-", "--screened-externally", "--policy"])
        .arg(&policy)
        .arg("--db")
        .arg(&fresh)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown country group `Z:9`"), "{err}");
}

#[test]
fn h100_to_a_malaysian_distributor_through_the_api() {
    let server = Server::start();
    let submitter = server.key("submitter", "orders");
    let reviewer = server.key("reviewer", "compliance");
    let check = |o: &Value| -> Value {
        let (status, body) =
            server.call("POST", "/v1/check", Some(&submitter), Some(&o.to_string()));
        assert_eq!(status, 200, "{body}");
        body
    };
    let mut by_id = order("api-before", "2026-03-02");
    by_id["consignee"] = json!({"party_id": "p-kl"});

    // Without a record: held; by id, the order is rejected naming the field.
    held_for_due_diligence(&check(&order("api-none", "2026-03-02")));
    let (status, body) = server.call(
        "POST",
        "/v1/check",
        Some(&submitter),
        Some(&by_id.to_string()),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "consignee.party_id", "{body}");

    // Only reviewers write records; a bad one is refused naming the field.
    let (status, _) = server.call(
        "POST",
        "/v1/parties",
        Some(&submitter),
        Some(&record().to_string()),
    );
    assert_eq!(status, 403);
    let mut bad = record();
    bad["country"] = json!("Atlantis");
    let (status, body) = server.call(
        "POST",
        "/v1/parties",
        Some(&reviewer),
        Some(&bad.to_string()),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "country", "{body}");

    // A record missing one fact: the order is held and a case opened; the reviewer completes
    // the record from the case, and the order is decided again: clean.
    let mut partial = record();
    partial["facts"]
        .as_object_mut()
        .unwrap()
        .remove("delivery_address_consistent");
    let (status, body) = server.call(
        "POST",
        "/v1/parties",
        Some(&reviewer),
        Some(&partial.to_string()),
    );
    assert_eq!(status, 201, "{body}");
    let d = check(&by_id);
    assert_eq!(d["outcome"], "hold_for_review", "{d}");
    assert_eq!(
        d["due_diligence"]["missing"][0]["facts"],
        json!(["delivery_address_consistent"])
    );
    let (status, cases) = server.call("GET", "/v1/cases", Some(&reviewer), None);
    assert_eq!(status, 200, "{cases}");
    let case = cases
        .as_array()
        .or_else(|| cases["cases"].as_array())
        .unwrap()
        .iter()
        .find(|c| c["order_id"] == "api-before")
        .unwrap_or_else(|| panic!("no case in {cases}"))["id"]
        .clone();
    let (status, body) = server.call(
        "POST",
        &format!("/v1/cases/{case}/due-diligence"),
        Some(&reviewer),
        Some(r#"{"facts": {"delivery_address_consistent": true}, "on": "2026-02-01"}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"]["outcome"], "no_license_required", "{body}");
    assert_eq!(check(&by_id)["outcome"], "no_license_required");
    let (status, page) = server.call("GET", "/v1/parties/p-kl", Some(&submitter), None);
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["facts"]["delivery_address_consistent"]["value"], true);
    assert!(page["facts"]["delivery_address_consistent"]["by"]
        .as_str()
        .unwrap()
        .contains("compliance"));
    assert_eq!(page["orders"][0]["order"], "api-before", "{page}");

    // Past its review date: held again.
    let mut later = by_id.clone();
    later["id"] = json!("api-after");
    later["date"] = json!("2026-08-03");
    held_for_due_diligence(&check(&later));

    // Every change is in the audit log.
    let (status, audit) = server.call("GET", "/v1/audit", Some(&reviewer), None);
    assert_eq!(status, 200, "{audit}");
    let text = audit.to_string();
    assert!(
        text.contains("party_added")
            && text.contains("party_reviewed")
            && text.contains("case_redecided"),
        "{text}"
    );
    let (status, list) = server.call("GET", "/v1/parties", Some(&submitter), None);
    assert_eq!(status, 200);
    assert_eq!(list[0]["id"], "p-kl");
}
