//! Issue 21 item 2 over HTTP: `POST /v1/flows` records a US-bound flow (once per reference),
//! `POST /v1/ship` refuses a draw past a licence's `volume_cap_percent` of it with the numbers
//! exactly as the CLI does (same pipeline) and ships within it, an order to the US raises the
//! flow, `GET /v1/flows` reads it back, and both routes are in the OpenAPI document.

use crate::server_util::Server;
use serde_json::{json, Value};

fn h200(id: &str, destination: &str, quantity: u64) -> Value {
    json!({"id": id, "date": "2026-03-02", "item": {"chip": "nvidia-h200"}, "quantity": quantity,
        "destination": destination, "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": format!("Customer {destination}"), "country": destination,
            "headquarters": destination, "parent_headquarters": destination},
        "value_usd": 30_000 * quantity,
        "due_diligence": {"customer_since": "2019-03-01", "prior_orders": 12,
            "business_history_years": 9, "online_presence": "established",
            "business_need_shown": true, "delivery_address_type": "commercial",
            "delivery_address_consistent": true, "intermediary": "none",
            "normal_distribution": true}})
}

#[test]
fn ship_over_http_keeps_the_volume_cap_and_flows_are_recorded_once() {
    let srv = Server::start();
    let admin = srv.key("admin", "ops");
    let submitter = srv.key("submitter", "erp");
    let licence = json!({"number": "H200-CN-7", "holder": "Acme Systems", "items": ["nvidia-h200"],
        "destinations": ["CN"], "consignees": ["Customer CN"], "units": 1000000,
        "valid_from": "2026-01-15", "valid_to": "2027-12-31",
        "conditions": [{"type": "volume_cap_percent", "value": 50}]});
    srv.add_licence(&admin, &licence);

    let flow = json!({"product": "NVIDIA-H200", "units": 10000, "date": "2026-02-01",
        "reference": "bol-77"});
    let (s, r) = srv.call(
        "POST",
        "/v1/flows",
        Some(&submitter),
        Some(&flow.to_string()),
    );
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["us_units"], 10000);
    let (s, r) = srv.call(
        "POST",
        "/v1/flows",
        Some(&submitter),
        Some(&flow.to_string()),
    );
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["replayed"], true);
    assert_eq!(r["us_units"], 10000);
    let (s, r) = srv.call(
        "POST",
        "/v1/flows",
        Some(&submitter),
        Some(&json!({"product": "acme-x9", "units": 1, "date": "2026-02-01"}).to_string()),
    );
    assert_eq!(s, 400, "{r}");
    assert!(r.to_string().contains("product"), "{r}");

    let book = json!([h200("c-1", "CN", 5000), h200("c-2", "CN", 100)]);
    let (s, d) = srv.call(
        "POST",
        "/v1/ship",
        Some(&submitter),
        Some(&book.to_string()),
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(d[0]["outcome"], "licensed", "{d}");
    assert_eq!(d[1]["outcome"], "license_required", "{d}");
    assert!(
        d[1]["reasons"]
            .to_string()
            .contains("exceeds_limit: China-bound 5,100 would pass 50% of US-bound 10,000"),
        "{d}"
    );

    // 200 more to US end users: the cap is now 5,100 and the refused order fits.
    let us = json!([h200("u-1", "US", 200)]);
    let (s, d) = srv.call("POST", "/v1/ship", Some(&submitter), Some(&us.to_string()));
    assert_eq!(s, 200, "{d}");
    assert_eq!(d[0]["outcome"], "no_license_required", "{d}");
    let (s, d) = srv.call(
        "POST",
        "/v1/ship",
        Some(&submitter),
        Some(&book.to_string()),
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(d[0]["outcome"], "licensed", "{d}");
    assert!(d[0]["reasons"].to_string().contains("replayed"), "{d}");
    assert_eq!(d[1]["outcome"], "licensed", "{d}");

    let (s, f) = srv.call("GET", "/v1/flows", Some(&submitter), None);
    assert_eq!(s, 200, "{f}");
    assert_eq!(f[0]["product"], "nvidia-h200");
    assert_eq!(f[0]["us_units"], 10200);
    assert_eq!(f[0]["capped_units"], 5100);
    assert_eq!(f[0]["shipments"].as_array().unwrap().len(), 2);

    let (s, l) = srv.call("GET", "/v1/licences/H200-CN-7", Some(&submitter), None);
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["volume_cap"][0]["cap_units"], 5100);
    assert_eq!(l["volume_cap"][0]["left_units"], 0);

    let (s, api) = srv.call("GET", "/openapi.json", Some(&submitter), None);
    assert_eq!(s, 200);
    assert!(api["paths"]["/v1/flows"]["get"].is_object());
    assert!(api["paths"]["/v1/flows"]["post"].is_object());
}
