//! Issue 15 (hardening): one test per item, named after it, against the router in-process.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use exportgate_server::auth::Role;
use exportgate_server::{app, AppState, Config, Shared};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Fixture {
    state: Shared,
    submitter: String,
    reviewer: String,
    admin: String,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        db: dir.path().join("db.sqlite"),
        lists: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/lists/csl_2026-07-31/screening-list.json")],
        screened_externally: false,
        // The real CSL is dated 2026-07-31: keep it in force for these tests.
        max_list_age_days: 36_500,
    };
    let state = Arc::new(AppState::open(&config).unwrap());
    let key = |r| {
        exportgate_server::db::create_key(&state.conn(), "t", r)
            .unwrap()
            .1
    };
    Fixture {
        submitter: key(Role::Submitter),
        reviewer: key(Role::Reviewer),
        admin: key(Role::Admin),
        state,
        _dir: dir,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

impl Fixture {
    fn raw(&self, req: Request<Body>) -> (StatusCode, Vec<u8>) {
        runtime().block_on(async {
            let resp = app(self.state.clone()).oneshot(req).await.unwrap();
            let status = resp.status();
            (
                status,
                resp.into_body()
                    .collect()
                    .await
                    .unwrap()
                    .to_bytes()
                    .to_vec(),
            )
        })
    }

    fn call(&self, method: &str, uri: &str, key: &str, body: Option<&[u8]>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_vec())))
            .unwrap();
        let (status, bytes) = self.raw(req);
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

const LICENCE: &str = r#"{"number": "D900001", "holder": "Acme Systems", "items": ["nvidia-h100-sxm"],
    "destinations": ["AE"], "consignees": ["Gulf Compute LLC"], "units": 100,
    "valid_from": "2025-01-01", "valid_to": "2027-12-31"}"#;

#[test]
fn item_4_raw_ledger_requests_are_admin_only() {
    let f = fixture();
    let (s, v) = f.call("POST", "/v1/licences", &f.admin, Some(LICENCE.as_bytes()));
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let requests = json!({"requests": [
        {"op": "reserve_and_post", "key": "raw-1", "accounts": ["licence:D900001"],
         "amounts": {"units": 100}, "at": "2025-09-01T00:00:00Z"}]})
    .to_string();
    for key in [&f.submitter, &f.reviewer] {
        let (s, v) = f.call(
            "POST",
            "/v1/ledger/requests",
            key,
            Some(requests.as_bytes()),
        );
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    let (s, v) = f.call(
        "GET",
        "/v1/ledger/accounts/licence:D900001",
        &f.submitter,
        None,
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["posted"]["units"], 0,
        "nothing drawn by the refused calls: {v}"
    );
    let (s, v) = f.call(
        "POST",
        "/v1/ledger/requests",
        &f.admin,
        Some(requests.as_bytes()),
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v[0]["code"], "ok", "{v}");
    // The contract says so.
    let (_, doc) = f.call("GET", "/openapi.json", &f.submitter, None);
    let op = &doc["paths"]["/v1/ledger/requests"]["post"];
    assert!(op.to_string().contains("Admin only"), "{op}");
}

#[test]
fn item_7_metrics_labels_come_from_a_closed_set() {
    let f = fixture();
    for i in 0..200 {
        let method = format!("XM{i}ETHOD");
        let req = Request::builder()
            .method(method.as_str())
            .uri("/v1/check")
            .body(Body::empty())
            .unwrap();
        let (s, _) = f.raw(req);
        assert!(!s.is_server_error());
        let req = Request::builder()
            .method(method.as_str())
            .uri(format!("/no/such/path/{i}"))
            .body(Body::empty())
            .unwrap();
        let (s, _) = f.raw(req);
        assert!(!s.is_server_error());
        let req = Request::builder()
            .uri(format!("/random-{i}"))
            .body(Body::empty())
            .unwrap();
        let (s, _) = f.raw(req);
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let (s, bytes) = f.raw(req);
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains("XM1ETHOD"), "{text}");
    assert!(!text.contains("random-"), "{text}");
    assert!(!text.contains("/no/such"), "{text}");
    assert!(
        text.contains("method=\"other\",route=\"/v1/check\""),
        "{text}"
    );
    assert!(
        text.contains("method=\"other\",route=\"unmatched\""),
        "{text}"
    );
    assert!(
        text.contains("method=\"GET\",route=\"unmatched\",status=\"404\"} 200"),
        "{text}"
    );
    let series = text
        .lines()
        .filter(|l| l.starts_with("exportgate_http_requests_total{"))
        .count();
    assert!(series <= 6, "{series} series:\n{text}");
}

/// An order to a Denied Persons List party: held for review, so it opens a case.
fn order(id: &str) -> Value {
    json!({"id": id, "date": "2025-06-01", "item": {"chip": "nvidia-l2"}, "quantity": 8,
        "destination": "US", "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": "KAL TEK LABS", "country": "US", "headquarters": "US",
            "parent_headquarters": "US"}})
}

#[test]
fn item_12_audit_paging_cases_paging_one_case_per_order_and_bom() {
    let f = fixture();
    // Audit records exist (a licence added); after=u64::MAX is past all of them.
    let (s, v) = f.call("POST", "/v1/licences", &f.admin, Some(LICENCE.as_bytes()));
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = f.call("GET", "/v1/audit", &f.reviewer, None);
    assert_eq!(s, StatusCode::OK);
    assert!(!v.as_array().unwrap().is_empty(), "{v}");
    for after in [u64::MAX.to_string(), (i64::MAX as u64 + 1).to_string()] {
        let (s, v) = f.call(
            "GET",
            &format!("/v1/audit?after={after}"),
            &f.reviewer,
            None,
        );
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v, json!([]), "after={after}");
    }

    // Cases: the same order again (same id, same decision) keeps its one open case.
    let body = order("dup-1").to_string();
    let (s, first) = f.call("POST", "/v1/check", &f.submitter, Some(body.as_bytes()));
    assert_eq!(s, StatusCode::OK, "{first}");
    let case = first["review_case"]
        .as_i64()
        .expect("the order opens a case");
    let (_, again) = f.call("POST", "/v1/check", &f.submitter, Some(body.as_bytes()));
    assert_eq!(again["review_case"], json!(case), "{again}");
    let batch = json!([order("dup-1"), order("dup-1")]).to_string();
    let (_, v) = f.call("POST", "/v1/check", &f.submitter, Some(batch.as_bytes()));
    assert_eq!(v[0]["review_case"], json!(case), "{v}");
    assert_eq!(v[1]["review_case"], json!(case), "{v}");
    let (_, open) = f.call("GET", "/v1/cases", &f.reviewer, None);
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");

    // More cases, then pages of 2 with `after`.
    let batch = Value::Array((0..5).map(|i| order(&format!("p-{i}"))).collect()).to_string();
    let (s, v) = f.call("POST", "/v1/check", &f.submitter, Some(batch.as_bytes()));
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let req = Request::builder()
            .uri(format!("/v1/cases?limit=2&after={after}"))
            .header("authorization", format!("Bearer {}", f.reviewer))
            .body(Body::empty())
            .unwrap();
        let resp = runtime()
            .block_on(app(f.state.clone()).oneshot(req))
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let next = resp
            .headers()
            .get("x-next-after")
            .map(|h| h.to_str().unwrap().parse::<i64>().unwrap());
        let bytes = runtime()
            .block_on(resp.into_body().collect())
            .unwrap()
            .to_bytes();
        let page: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|c| c["id"].as_i64().unwrap()));
        match next {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    let (s, v) = f.call("GET", "/v1/cases?after=x", &f.reviewer, None);
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "after", "{v}");

    // A UTF-8 byte-order mark before the JSON.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(order("bom-1").to_string().as_bytes());
    let (s, v) = f.call("POST", "/v1/check", &f.submitter, Some(&bom));
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["outcome"].is_string(), "{v}");
}

#[test]
fn item_8_a_batch_opening_many_cases_does_not_block_its_worker() {
    let f = fixture();
    let batch = Value::Array((0..200).map(|i| order(&format!("many-{i}"))).collect()).to_string();
    let rt = runtime();
    let (batch_done_first, cases) = rt.block_on(async {
        let req = Request::builder()
            .method("POST")
            .uri("/v1/check")
            .header("authorization", format!("Bearer {}", f.submitter))
            .body(Body::from(batch))
            .unwrap();
        let batch = tokio::spawn(app(f.state.clone()).oneshot(req));
        // Let the batch start on this (single) thread.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let health = Request::builder()
            .uri("/healthz")
            .body(Body::empty())
            .unwrap();
        let resp = app(f.state.clone()).oneshot(health).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let batch_done_first = batch.is_finished();
        let resp = batch.await.unwrap().unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let cases = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["review_case"].is_i64())
            .count();
        (batch_done_first, cases)
    });
    assert_eq!(cases, 200);
    assert!(
        !batch_done_first,
        "/healthz waited for the whole batch on the same worker"
    );
}

#[test]
fn item_3_audit_verify_over_http_reconciles_the_ledger() {
    let f = fixture();
    let (s, v) = f.call("POST", "/v1/licences", &f.admin, Some(LICENCE.as_bytes()));
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let requests = json!({"requests": [
        {"op": "reserve_and_post", "key": "k-1", "accounts": ["licence:D900001"],
         "amounts": {"units": 10}, "at": "2025-09-01T00:00:00Z"}]})
    .to_string();
    let (s, v) = f.call(
        "POST",
        "/v1/ledger/requests",
        &f.admin,
        Some(requests.as_bytes()),
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = f.call("GET", "/v1/audit/verify", &f.reviewer, None);
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["ledger"]["ok"], true, "{v}");
    rusqlite::Connection::open(f._dir.path().join("db.sqlite"))
        .unwrap()
        .execute_batch("UPDATE accounts SET posted_units = 0 WHERE id = 'licence:D900001'")
        .unwrap();
    let (s, v) = f.call("GET", "/v1/audit/verify", &f.reviewer, None);
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(
        v["ledger"]["disagreement"]["account"], "licence:D900001",
        "{v}"
    );
}
