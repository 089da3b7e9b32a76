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
        lists: vec![],
        screened_externally: false,
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
