//! Issue 21: the revenue-share report opens in the web page. Orders shipped over HTTP under a
//! licence with a 15% revenue-share condition; the page's "Revenue share" view, driven in
//! headless Chromium (`tests/browser/revenue.mjs`), shows the quarter's total and one row per
//! order. Needs `scripts/browser-setup.sh`, like `tests/browser.rs`.

use std::process::Command;

use crate::server_util::Server;
use serde_json::json;

#[test]
fn the_revenue_share_report_opens_in_the_web_page() {
    let (root, browser_dir) = crate::browser_ready();
    let srv = Server::start();
    let admin = srv.key("admin", "alice");
    let submitter = srv.key("submitter", "erp");
    let licence = json!({"number": "H20-CN-7", "holder": "Acme Systems", "items": ["nvidia-h20"],
        "destinations": ["CN"], "consignees": ["Customer CN"], "units": 1000,
        "valid_from": "2025-08-01", "valid_to": "2026-12-31",
        "conditions": [{"type": "revenue_share_percent", "value": 15}]});
    srv.add_licence(&admin, &licence);
    let order = |id: &str, date: &str, value: f64| {
        json!({"id": id, "date": date, "item": {"chip": "nvidia-h20"}, "quantity": 8,
            "destination": "CN", "exporter": {"name": "Acme Systems", "country": "US"},
            "consignee": {"name": "Customer CN", "country": "CN", "headquarters": "CN",
                "parent_headquarters": "CN"}, "value_usd": value})
    };
    let book = json!([
        order("w-1", "2025-10-02", 120_000.0),
        order("w-2", "2025-11-02", 80_000.5),
        order("w-3", "2025-09-02", 10_000.0),
    ]);
    let (s, d) = srv.call(
        "POST",
        "/v1/ship",
        Some(&submitter),
        Some(&book.to_string()),
    );
    assert_eq!(s, 200, "{d}");
    let (_, r) = srv.call(
        "GET",
        "/v1/reports/revenue-share?quarter=2025Q4",
        Some(&submitter),
        None,
    );
    // 15% of 12,000,000 + 8,000,050 cents = 1,800,000 + 1,200,008 (1,200,007.5 rounded up).
    assert_eq!(r["total_cents"], 3_000_008, "{r}");

    let shots = root.join("target/screenshots");
    let out = Command::new("node")
        .current_dir(&browser_dir)
        .args(["revenue.mjs", &srv.base, &submitter])
        .arg(&shots)
        .args(["2025Q4", "USD 30,000.08"])
        .output()
        .expect("run node (see scripts/browser-setup.sh)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser test failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ORDERS 2"), "{stdout}");
    assert!(shots.join("revenue-share.png").exists());
}
