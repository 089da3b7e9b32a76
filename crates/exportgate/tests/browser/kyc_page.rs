//! The know-your-customer parts of the web page in headless Chromium (`tests/browser/kyc.mjs`)
//! against the real `exportgate serve`: a case held because due diligence is incomplete shows
//! the facts to collect; the reviewer completes the party record from the case and the order
//! is decided again; the party's page shows its facts, their age and its orders. Needs
//! `scripts/browser-setup.sh`, like `browser.rs`.

use std::process::Command;

use crate::server_util::Server;
use serde_json::json;

#[test]
fn held_case_completes_the_party_record_in_headless_chromium() {
    let (root, browser_dir) = crate::browser_ready();
    let srv = Server::start();
    let submitter = srv.key("submitter", "order-system");
    let reviewer = srv.key("reviewer", "rita");
    let fact =
        |v: serde_json::Value| json!({"value": v, "established": "2026-01-10", "by": "Alice"});
    let party = json!({"id": "p-web", "name": "KL Web Distribution Sdn Bhd", "country": "MY",
        "headquarters": "MY", "parent_headquarters": "MY", "ownership_checked": true,
        "facts": {"customer_since": fact(json!("2019-03-01")), "prior_orders": fact(json!(3)),
            "business_history_years": fact(json!(8)), "online_presence": fact(json!("established")),
            "business_need_shown": fact(json!(true)), "delivery_address_type": fact(json!("commercial")),
            "intermediary": fact(json!("none")), "normal_distribution": fact(json!(true))},
        "review_by": "2030-12-31"});
    let (s, v) = srv.call(
        "POST",
        "/v1/parties",
        Some(&reviewer),
        Some(&party.to_string()),
    );
    assert_eq!(s, 201, "{v}");
    // Dated today: the reviewer establishes the missing fact today (the server's clock), and a
    // fact counts for the orders dated on or after the day it was established.
    let today = chrono::Utc::now().date_naive().to_string();
    let order = json!({"id": "kyc-web-1", "date": today, "item": {"chip": "nvidia-h100-sxm"},
        "quantity": 8, "destination": "MY", "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"party_id": "p-web"}});
    let (s, d) = srv.call(
        "POST",
        "/v1/check",
        Some(&submitter),
        Some(&order.to_string()),
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["outcome"], "hold_for_review", "{d}");
    let case = d["review_case"]
        .as_i64()
        .unwrap_or_else(|| panic!("no case: {d}"));

    let shots = root.join("target/screenshots");
    let status = Command::new("node")
        .current_dir(&browser_dir)
        .arg("kyc.mjs")
        .arg(&srv.base)
        .arg(&reviewer)
        .arg(case.to_string())
        .arg("p-web")
        .arg(&shots)
        .status()
        .expect("run node (see scripts/browser-setup.sh)");
    assert!(
        status.success(),
        "the browser test failed; see {}",
        shots.display()
    );
    // The page's completion went through the API: the record holds the fact, audited.
    let (_, p) = srv.call("GET", "/v1/parties/p-web", Some(&reviewer), None);
    assert_eq!(
        p["facts"]["delivery_address_consistent"]["value"], true,
        "{p}"
    );
    let (_, v) = srv.call("GET", "/v1/audit/verify", Some(&reviewer), None);
    assert_eq!(v["ok"], true);
}
