//! The web page end to end in Debian's headless Chromium, driven by playwright-core
//! (`tests/browser/review.mjs`) against the real `exportgate serve` binary. Screenshots of
//! each page are kept in `target/screenshots/`. Needs `scripts/browser-setup.sh` (Chromium,
//! Node.js and `npm ci` in `tests/browser`), which `scripts/test.sh` runs first. One test
//! binary for the page: the review queue here, the know-your-customer views in `kyc_page`,
//! the revenue-share report in `revenue_page`.

#[path = "browser/kyc_page.rs"]
mod kyc_page;
#[path = "browser/revenue_page.rs"]
mod revenue_page;
mod server_util;

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;
use server_util::{order, Server};

/// The repository root and `tests/browser`, once Chromium and playwright-core are there (a
/// clear failure otherwise, naming the set-up script).
fn browser_ready() -> (PathBuf, PathBuf) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser_dir = root.join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and playwright-core: run `bash scripts/browser-setup.sh`"
    );
    (root, browser_dir)
}

#[test]
fn web_page_in_headless_chromium() {
    let (root, browser_dir) = browser_ready();
    let srv = Server::start();
    let admin = srv.key("admin", "alice");
    let submitter = srv.key("submitter", "order-system");
    let reviewer = srv.key("reviewer", "rita");

    // Two held orders for the queue: a Denied Persons hit and a near miss.
    for (id, name, country) in [
        ("w1", "KAL TEK LABS", "US"),
        ("w2", "Piricas Trading", "AM"),
    ] {
        let (s, d) = srv.call(
            "POST",
            "/v1/check",
            Some(&submitter),
            Some(&order(id, name, country).to_string()),
        );
        assert_eq!(s, 200);
        assert!(d["review_case"].is_i64(), "{d}");
    }
    // A licence and an allocation with balances drawn on them, for the charts.
    let licence = json!({"number": "D100001", "holder": "Acme Systems", "items": ["nvidia-h20"],
        "destinations": ["CN"], "consignees": ["Example Cloud Co."], "units": 1000, "value": 12000000,
        "valid_from": "2025-08-01", "valid_to": "2027-07-31"});
    assert_eq!(
        srv.call(
            "POST",
            "/v1/licences",
            Some(&admin),
            Some(&licence.to_string())
        )
        .0,
        201
    );
    let (s, v) = srv.call(
        "POST",
        "/v1/ledger/allocations",
        Some(&admin),
        Some(r#"{"country": "IN"}"#),
    );
    assert_eq!(s, 200, "{v}");
    let requests = json!({"requests": [
        {"op": "reserve_and_post", "key": "ship-1", "accounts": ["licence:D100001"],
         "amounts": {"units": 420, "value": 5040000}, "at": "2025-09-01T00:00:00Z"},
        {"op": "reserve", "key": "ship-2", "accounts": ["licence:D100001"],
         "amounts": {"units": 150, "value": 1800000}, "at": "2025-09-02T00:00:00Z"},
        {"op": "reserve_and_post", "key": "ship-3", "accounts": ["allocation:IN:2025-2027"],
         "amounts": {"tpp": 310000000}, "at": "2025-09-03T00:00:00Z"},
    ]});
    let (s, v) = srv.call(
        "POST",
        "/v1/ledger/requests",
        Some(&admin),
        Some(&requests.to_string()),
    );
    assert_eq!(s, 200, "{v}");
    assert!(
        v.as_array().unwrap().iter().all(|r| r["code"] == "ok"),
        "{v}"
    );

    let shots = root.join("target/screenshots");
    let status = Command::new("node")
        .current_dir(&browser_dir)
        .arg("review.mjs")
        .arg(&srv.base)
        .arg(&reviewer)
        .arg(&shots)
        .status()
        .expect("run node (see scripts/browser-setup.sh)");
    assert!(
        status.success(),
        "the browser test failed; see {}",
        shots.display()
    );
    for name in [
        "queue",
        "case",
        "case-released",
        "charts",
        "map-tiers",
        "check",
    ] {
        assert!(
            shots.join(format!("{name}.png")).exists(),
            "{name}.png missing"
        );
    }
    // The page's release went through the API and the audit log.
    let (_, v) = srv.call("GET", "/v1/audit/verify", Some(&reviewer), None);
    assert_eq!(v["ok"], true);
    let (_, released) = srv.call("GET", "/v1/cases?status=released", Some(&reviewer), None);
    assert_eq!(released.as_array().unwrap().len(), 1);
}
