//! One pipeline behind every door, end to end with the real binary: a licence added with
//! `exportgate licences add` is read by `POST /v1/check` and drawn by `POST /v1/ship`
//! (idempotent by order id, refused past the balance with the ledger's numbers, and
//! `exportgate licences show` agrees); LPP use on the ledger is refused alike by
//! `POST /v1/check?regime=ai-diffusion-2025` and `exportgate check --regime ai-diffusion-2025`.

mod server_util;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use server_util::{csl, Server};

fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exportgate"))
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `quantity` H100s to `consignee` in `country` on `date` (a licence is required to the UAE),
/// from a known customer (the due-diligence facts are on the order, so the policy does not hold
/// it).
fn h100(id: &str, date: &str, country: &str, consignee: &str, quantity: u64) -> Value {
    json!({"id": id, "date": date, "item": {"chip": "nvidia-h100-sxm"}, "quantity": quantity,
        "destination": country, "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": consignee, "country": country, "headquarters": country,
            "parent_headquarters": country},
        "due_diligence": {"customer_since": "2019-03-01", "prior_orders": 12,
            "business_history_years": 9, "online_presence": "established",
            "business_need_shown": true, "delivery_address_type": "commercial",
            "delivery_address_consistent": true, "intermediary": "none",
            "normal_distribution": true}})
}

fn show(db: &Path, number: &str) -> Value {
    let out = run_ok(
        exe()
            .args(["licences", "show", number, "--format", "json", "--db"])
            .arg(db),
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_licence_on_the_ledger_is_read_by_check_and_drawn_by_ship_over_http() {
    let srv = Server::start();
    let db = srv.dir.path().join("db.sqlite");
    let submitter = srv.key("submitter", "erp");
    let licence = json!({"number": "D9000001", "holder": "Acme Systems",
        "items": ["nvidia-h100-sxm"], "destinations": ["AE"], "consignees": ["Falcon Compute LLC"],
        "units": 3, "valid_from": "2025-01-01", "valid_to": "2027-12-31"});
    let file = srv.dir.path().join("licence.json");
    std::fs::write(&file, licence.to_string()).unwrap();
    run_ok(
        exe()
            .args(["licences", "add"])
            .arg(&file)
            .arg("--db")
            .arg(&db),
    );

    // Check: licensed, the consignee written in other case and spacing; nothing drawn.
    let spelled = "falcon   COMPUTE llc";
    let o = h100("erp-1", "2025-06-01", "AE", spelled, 2);
    let (s, d) = srv.call("POST", "/v1/check", Some(&submitter), Some(&o.to_string()));
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["outcome"], "licensed", "{d}");
    assert_eq!(d["licence"]["number"], "D9000001");
    assert_eq!(d["licence"]["balance_left"]["units"], 1);
    assert_eq!(show(&db, "D9000001")["balance"]["posted"]["units"], 0);

    // Ship: drawn once, however often the same order id is sent.
    for _ in 0..2 {
        let (s, d) = srv.call("POST", "/v1/ship", Some(&submitter), Some(&o.to_string()));
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["outcome"], "licensed", "{d}");
        assert_eq!(d["licence"]["number"], "D9000001");
    }
    let v = show(&db, "D9000001");
    assert_eq!(v["balance"]["posted"]["units"], 2, "{v}");
    assert_eq!(v["history"].as_array().unwrap().len(), 1, "{v}");

    // Beyond the balance: license_required with the ledger's numbers, nothing drawn.
    let more = h100("erp-2", "2025-06-01", "AE", "Falcon Compute LLC", 2);
    let (s, d) = srv.call(
        "POST",
        "/v1/ship",
        Some(&submitter),
        Some(&json!([more]).to_string()),
    );
    assert_eq!(s, 200, "{d}");
    let d = &d[0];
    assert_eq!(d["outcome"], "license_required", "{d}");
    let why = d["reasons"].to_string();
    assert!(
        why.contains("`exceeds_limit` on `licence:D9000001`: 1 units left, this order needs 2"),
        "{why}"
    );
    let v = show(&db, "D9000001");
    assert_eq!(v["balance"]["posted"]["units"], 2);
    assert_eq!(v["balance"]["available"]["units"], 1);

    // An order id repeated within one request is an error record for the later one.
    let (s, d) = srv.call(
        "POST",
        "/v1/ship",
        Some(&submitter),
        Some(
            &json!([
                h100("erp-3", "2025-06-01", "AE", "Falcon Compute LLC", 1),
                h100("erp-3", "2025-06-01", "AE", "Falcon Compute LLC", 1)
            ])
            .to_string(),
        ),
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(d[0]["outcome"], "licensed", "{d}");
    assert_eq!(d[1]["error"]["field"], "[1].id", "{d}");
    assert_eq!(show(&db, "D9000001")["balance"]["posted"]["units"], 3);

    // Ship needs a key (any role from submitter up).
    assert_eq!(srv.call("POST", "/v1/ship", None, Some("{}")).0, 401);
    // Every shipped decision is in the audit log, and the chain holds.
    let out = run_ok(exe().args(["audit", "verify", "--db"]).arg(&db));
    assert!(out.contains("audit log intact"), "{out}");
}

#[test]
fn lpp_used_on_the_ledger_is_refused_by_check_over_http_and_the_cli_alike() {
    let srv = Server::start();
    let db = srv.dir.path().join("db.sqlite");
    let submitter = srv.key("submitter", "erp");
    // 1,650 H100s (26,121,480 TPP of LPP's 26,900,000 a year) shipped under LPP, over HTTP.
    let first = h100("in-1", "2025-06-01", "IN", "Bharat AI Pvt Ltd", 1650);
    let (s, d) = srv.call(
        "POST",
        "/v1/ship?regime=ai-diffusion-2025",
        Some(&submitter),
        Some(&first.to_string()),
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["exception"], "LPP", "{d}");

    // 100 more (1,583,120 TPP) would pass the cap: refused by both doors.
    let next = h100("in-2", "2025-07-01", "IN", "BHARAT ai pvt  ltd", 100);
    let (s, http) = srv.call(
        "POST",
        "/v1/check?regime=ai-diffusion-2025",
        Some(&submitter),
        Some(&next.to_string()),
    );
    assert_eq!(s, 200, "{http}");
    let file = srv.dir.path().join("next.jsonl");
    std::fs::write(&file, next.to_string() + "\n").unwrap();
    let out = run_ok(
        exe()
            .arg("check")
            .arg(&file)
            .args(["--regime", "ai-diffusion-2025", "--lists"])
            .arg(csl())
            .arg("--db")
            .arg(&db),
    );
    let cli: Value = serde_json::from_str(out.trim()).unwrap();
    for d in [&http, &cli] {
        assert_eq!(d["outcome"], "license_required", "{d}");
        assert_ne!(d["exception"], "LPP");
        assert!(
            d["reasons"]
                .to_string()
                .contains("has used 26121480 TPP in 2025"),
            "{d}"
        );
    }
    assert_eq!(http["reasons"], cli["reasons"]);

    // An unknown regime is a 400 naming it.
    let (s, v) = srv.call(
        "POST",
        "/v1/check?regime=no-such-rule",
        Some(&submitter),
        Some(&next.to_string()),
    );
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (400, Some("regime[0]")),
        "{v}"
    );
}
