//! Issue 21 item 3 over HTTP: `POST /v1/veus` adds a VEU record once (another record under the
//! id is 409), `POST /v1/veus/{id}/compute` records installed compute once per reference,
//! `POST /v1/ship?regime=ai-diffusion-2025` draws a Tier 2 order on the VEU within its 7 % and
//! refuses the next with the numbers, as the CLI does, `GET /v1/veus[/{id}]` reads the compute
//! and headroom back, and the routes and the `VeuRecord` schema are in the OpenAPI document.

use crate::server_util::Server;
use serde_json::{json, Value};

fn h100(id: &str, quantity: u64) -> Value {
    json!({"id": id, "date": "2025-08-01", "item": {"chip": "nvidia-h100-sxm"}, "quantity": quantity,
        "destination": "IN", "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": "Cloud Nine India", "country": "IN",
            "headquarters": "IE", "parent_headquarters": "IE"},
        "veu": "u9",
        "due_diligence": {"customer_since": "2019-03-01", "prior_orders": 12,
            "business_history_years": 9, "online_presence": "established",
            "business_need_shown": true, "delivery_address_type": "commercial",
            "delivery_address_consistent": true, "intermediary": "none",
            "normal_distribution": true, "training_operations": 0}})
}

#[test]
fn veus_over_http_and_ship_draws_within_the_share() {
    let srv = Server::start();
    let admin = srv.key("admin", "ops");
    let submitter = srv.key("submitter", "erp");
    let record = json!({"id": "u9", "kind": "universal",
        "holder": {"name": "Cloud Nine", "headquarters": "IE"}});
    let (s, r) = srv.call(
        "POST",
        "/v1/veus",
        Some(&submitter),
        Some(&record.to_string()),
    );
    assert_eq!(s, 403, "{r}");
    let (s, r) = srv.call("POST", "/v1/veus", Some(&admin), Some(&record.to_string()));
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["created"], true);
    let (s, r) = srv.call("POST", "/v1/veus", Some(&admin), Some(&record.to_string()));
    assert_eq!(s, 200, "{r}");
    let mut other = record.clone();
    other["holder"]["headquarters"] = json!("US");
    let (s, r) = srv.call("POST", "/v1/veus", Some(&admin), Some(&other.to_string()));
    assert_eq!(s, 409, "{r}");
    let (s, r) = srv.call(
        "POST",
        "/v1/veus",
        Some(&admin),
        Some(r#"{"id":"n9","kind":"national","holder":{"name":"X","headquarters":"IN"},"country":"IN"}"#),
    );
    assert_eq!(s, 400, "{r}");
    assert!(r.to_string().contains("caps"), "{r}");

    let compute = json!({"country": "DE", "tpp": 500_000_000u64, "date": "2025-07-01",
        "reference": "dc-frankfurt"});
    for expect in [201, 200] {
        let (s, r) = srv.call(
            "POST",
            "/v1/veus/u9/compute",
            Some(&submitter),
            Some(&compute.to_string()),
        );
        assert_eq!(s, expect, "{r}");
    }

    // 2,000 H100s (31,662,400 TPP) fit 7% of 531,662,400; a second 2,000 would make 11.2%.
    let book = json!([h100("h-1", 2000), h100("h-2", 2000)]);
    let (s, d) = srv.call(
        "POST",
        "/v1/ship?regime=ai-diffusion-2025",
        Some(&submitter),
        Some(&book.to_string()),
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(d[0]["outcome"], "licensed", "{d}");
    assert!(
        d[0]["reasons"]
            .to_string()
            .contains("authorised under universal VEU `u9`"),
        "{d}"
    );
    assert_eq!(d[1]["outcome"], "license_required", "{d}");
    // The refusal is a `veu` reason, as `check`'s note is.
    let veu_reasons: Vec<&Value> = d[1]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "veu")
        .collect();
    assert_eq!(veu_reasons.len(), 1, "{d}");
    assert!(
        veu_reasons[0]["summary"]
            .to_string()
            .contains("exceeds_limit"),
        "{d}"
    );
    assert!(d[1]["reasons"].to_string().contains(
        "exceeds_limit: compute in India 63,324,800 TPP would pass 7% of `u9`'s total 563,324,800 TPP"
    ), "{d}");

    let (s, v) = srv.call("GET", "/v1/veus/u9?date=2025-08-01", Some(&submitter), None);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["total_tpp"], 531_662_400u64);
    assert_eq!(v["outside_tier1_tpp"], 31_662_400u64);
    let (s, all) = srv.call("GET", "/v1/veus", Some(&submitter), None);
    assert_eq!(s, 200, "{all}");
    assert_eq!(all[0]["veu"]["id"], "u9");
    let (s, _) = srv.call("GET", "/v1/veus/nope", Some(&submitter), None);
    assert_eq!(s, 404);

    let (_, api) = srv.call("GET", "/openapi.json", Some(&submitter), None);
    for (path, method) in [
        ("/v1/veus", "get"),
        ("/v1/veus", "post"),
        ("/v1/veus/{id}", "get"),
        ("/v1/veus/{id}/compute", "post"),
    ] {
        assert!(api["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(api["components"]["schemas"]["VeuRecord"]["properties"]["kind"].is_object());
}
