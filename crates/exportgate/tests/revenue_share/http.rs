//! Issue 21 item 1 over HTTP: `POST /v1/ship` accrues a licence's revenue share like the CLI
//! (same pipeline), `GET /v1/reports/revenue-share?quarter=` returns the quarter's accruals
//! matching the sum of its orders' shares and the CLI's report, `GET /v1/licences/{number}`
//! shows them per quarter, and the report is in the OpenAPI document.

use std::process::Command;

use crate::server_util::Server;
use serde_json::{json, Value};

fn h20(id: &str, date: &str, value_usd: Option<f64>) -> Value {
    let mut o = json!({"id": id, "date": date, "item": {"chip": "nvidia-h20"}, "quantity": 8,
        "destination": "CN", "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": "Customer CN", "country": "CN", "headquarters": "CN",
            "parent_headquarters": "CN"}});
    if let Some(v) = value_usd {
        o["value_usd"] = json!(v);
    }
    o
}

#[test]
fn ship_over_http_accrues_and_the_report_matches_its_orders() {
    let srv = Server::start();
    let db = srv.dir.path().join("db.sqlite");
    let admin = srv.key("admin", "ops");
    let submitter = srv.key("submitter", "erp");
    let licence = json!({"number": "H20-CN-9", "holder": "Acme Systems", "items": ["nvidia-h20"],
        "destinations": ["CN"], "consignees": ["Customer CN"], "units": 10000,
        "valid_from": "2025-08-01", "valid_to": "2026-12-31",
        "conditions": [{"type": "revenue_share_percent", "value": 15}]});
    srv.add_licence(&admin, &licence);

    let book = json!([
        h20("h-1", "2025-10-03", Some(100_000.00)),
        h20("h-2", "2025-11-20", Some(33_333.33)),
        h20("h-3", "2025-09-15", Some(50_000.10)),
        h20("h-4", "2025-12-01", None),
    ]);
    for _ in 0..2 {
        // Twice: the second request replays every draw and accrual.
        let (s, d) = srv.call(
            "POST",
            "/v1/ship",
            Some(&submitter),
            Some(&book.to_string()),
        );
        assert_eq!(s, 200, "{d}");
        assert_eq!(d[0]["outcome"], "licensed", "{d}");
        assert_eq!(d[3]["outcome"], "hold_for_review", "{d}");
        assert!(d[3]["reasons"].to_string().contains("`value_usd`"), "{d}");
    }

    let (s, r) = srv.call(
        "GET",
        "/v1/reports/revenue-share?quarter=2025Q4",
        Some(&submitter),
        None,
    );
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["quarter"], "2025Q4");
    assert_eq!(r["currency"], "USD");
    let orders = r["licences"][0]["orders"].as_array().unwrap();
    let shares: Vec<(String, u64)> = orders
        .iter()
        .map(|o| {
            (
                o["order_id"].as_str().unwrap().to_owned(),
                o["share_cents"].as_u64().unwrap(),
            )
        })
        .collect();
    // 15% of 10,000,000 cents; of 3,333,333 cents (499,999.95, rounded up).
    assert_eq!(
        shares,
        vec![("h-1".to_owned(), 1_500_000), ("h-2".to_owned(), 500_000)]
    );
    assert_eq!(r["licences"][0]["accrued_cents"], 2_000_000);
    assert_eq!(r["total_cents"], 2_000_000);

    // The CLI's report of the same database is the same document.
    let out = Command::new(env!("CARGO_BIN_EXE_exportgate"))
        .args([
            "report",
            "revenue-share",
            "--quarter",
            "2025Q4",
            "--format",
            "json",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, r);

    // The licence shows its accruals per quarter.
    let (s, v) = srv.call("GET", "/v1/licences/H20-CN-9", Some(&submitter), None);
    assert_eq!(s, 200, "{v}");
    let quarters: Vec<&str> = v["revenue_share"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["quarter"].as_str().unwrap())
        .collect();
    assert_eq!(quarters, ["2025Q3", "2025Q4"]);
    assert_eq!(v["revenue_share"][0]["accrued_cents"], 750_002); // 15% of 5,000,010 cents, rounded up

    // Bad or missing quarter: 400 naming the field; a key is needed.
    let (s, e) = srv.call(
        "GET",
        "/v1/reports/revenue-share?quarter=2025Q9",
        Some(&submitter),
        None,
    );
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["error"]["field"], "quarter", "{e}");
    let (s, _) = srv.call("GET", "/v1/reports/revenue-share", Some(&submitter), None);
    assert_eq!(s, 400);
    let (s, _) = srv.call(
        "GET",
        "/v1/reports/revenue-share?quarter=2025Q4",
        None,
        None,
    );
    assert_eq!(s, 401);

    // In the OpenAPI document.
    let (s, api) = srv.call("GET", "/openapi.json", Some(&submitter), None);
    assert_eq!(s, 200);
    assert!(api["paths"]["/v1/reports/revenue-share"]["get"].is_object());
}
