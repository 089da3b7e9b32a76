//! Property test: random bodies, query strings, path parameters and headers sent to every
//! endpoint never produce a 5xx, errors are JSON naming a field, and the server keeps
//! serving afterwards. Runs the router in-process over the real CSL file.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use exportgate_server::auth::Role;
use exportgate_server::{app, AppState, Config, Shared};
use http_body_util::BodyExt;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use serde_json::{json, Value};
use tower::ServiceExt;

struct Fixture {
    state: Shared,
    keys: Vec<String>,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let csl = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/lists/csl_2026-07-31/screening-list.json");
        let config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            db: dir.path().join("db.sqlite"),
            lists: vec![csl],
            screened_externally: false,
            max_list_age_days: 36_500,
            policy: None,
        };
        let state = Arc::new(AppState::open(&config).unwrap());
        let keys = [Role::Submitter, Role::Reviewer, Role::Admin]
            .iter()
            .map(|r| {
                exportgate_server::db::create_key(&state.conn(), "fuzz", *r)
                    .unwrap()
                    .1
            })
            .collect();
        Fixture {
            state,
            keys,
            _dir: dir,
        }
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/check"),
    ("POST", "/v1/classify"),
    ("GET", "/v1/screen"),
    ("POST", "/v1/screen"),
    ("GET", "/v1/regimes"),
    ("GET", "/v1/countries"),
    ("GET", "/v1/licences"),
    ("POST", "/v1/licences"),
    ("GET", "/v1/licences/{}"),
    ("GET", "/v1/balances"),
    ("GET", "/v1/ledger/accounts/{}"),
    ("POST", "/v1/ledger/requests"),
    ("POST", "/v1/ledger/allocations"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/audit/verify"),
    ("GET", "/v1/keys"),
    ("POST", "/v1/keys"),
    ("DELETE", "/v1/keys/{}"),
    ("GET", "/v1/cases"),
    ("GET", "/v1/cases/{}"),
    ("POST", "/match/{}"),
    ("GET", "/search/{}"),
    ("POST", "/v1/cases/{}/release"),
    ("POST", "/v1/cases/{}/block"),
    ("GET", "/"),
    ("GET", "/ui/app.js"),
    ("PUT", "/v1/check"),
    ("GET", "/no/such/path"),
];

fn valid_order() -> Value {
    json!({"id": "f1", "date": "2025-06-01", "item": {"chip": "nvidia-h100-sxm"}, "quantity": 8,
        "destination": "CN", "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": "Example Cloud Co.", "country": "CN", "headquarters": "CN",
            "parent_headquarters": "CN"}, "end_use": {"text": "inference", "tags": ["iaas"]}})
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        "(19|20|99)[0-9]{2}-[0-1][0-9]-[0-3][0-9]".prop_map(Value::String),
        Just(json!("nvidia-h100-sxm")),
        Just(json!("Huawei Technologies Co., Ltd.")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies: raw bytes, random JSON, valid orders with one field replaced, known request shapes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let fields = prop::sample::select(vec![
        "id",
        "date",
        "item",
        "quantity",
        "destination",
        "exporter",
        "consignee",
        "end_user",
        "end_use",
        "value_usd",
        "extra",
    ]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (fields.clone(), json_value()).prop_map(|(f, v)| {
            let mut o = valid_order();
            o[f] = v;
            o.to_string().into_bytes()
        }),
        (fields, json_value()).prop_map(|(f, v)| {
            let mut o = valid_order();
            o[f] = v;
            json!([o, valid_order()]).to_string().into_bytes()
        }),
        ".{0,60}".prop_map(|n| json!({"name": n, "country": "CN"}).to_string().into_bytes()),
        (json_value(), json_value()).prop_map(|(a, b)| json!({"reason": a, "allow_until": b})
            .to_string()
            .into_bytes()),
        (json_value(), json_value())
            .prop_map(|(a, b)| json!({"chip": a, "as_of": b}).to_string().into_bytes()),
        json_value().prop_map(|v| json!({"requests": [v]}).to_string().into_bytes()),
        json_value().prop_map(|v| json!({"name": "k", "role": v}).to_string().into_bytes()),
        Just(vec![b'['; 2 * exportgate_server::BODY_LIMIT]),
    ]
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Key(usize),
    Raw(String),
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        Just(Auth::None),
        (0usize..3).prop_map(Auth::Key),
        "[ -~]{0,80}".prop_map(Auth::Raw),
        "[ -~]{0,80}".prop_map(|k| Auth::Raw(format!("Bearer {k}"))),
    ]
}

#[test]
fn random_requests_never_5xx_and_the_server_keeps_serving() {
    let f = fixture();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (
        prop::sample::select(ENDPOINTS),
        "[A-Za-z0-9._~-]{0,14}|-1|0|99999999999999999999|%2e%2e|%00|1",
        prop::option::of("[A-Za-z0-9_=&%+.-]{0,40}"),
        body(),
        auth(),
        prop::option::of("[ -~]{0,30}"),
        prop::option::of(("[a-z-]{1,12}", "[ -~]{0,30}")),
    );
    runner
        .run(
            &strategy,
            |(endpoint, segment, query, body, auth, content_type, extra)| {
                let (method, template) = endpoint;
                let mut uri = template.replace("{}", &segment);
                if let Some(q) = &query {
                    uri.push('?');
                    uri.push_str(q);
                }
                let mut req = Request::builder().method(method).uri(&uri);
                match &auth {
                    Auth::None => {}
                    Auth::Key(i) => {
                        req = req.header("authorization", format!("Bearer {}", f.keys[*i]))
                    }
                    Auth::Raw(v) => req = req.header("authorization", v.as_str()),
                }
                if let Some(ct) = &content_type {
                    req = req.header("content-type", ct.as_str());
                }
                if let Some((k, v)) = &extra {
                    req = req.header(k.as_str(), v.as_str());
                }
                let Ok(req) = req.body(Body::from(body)) else {
                    // Not a request an HTTP client could send.
                    return Ok(());
                };
                let (status, bytes) = send(f, req);
                let text = String::from_utf8_lossy(&bytes);
                prop_assert!(
                    !status.is_server_error(),
                    "{} {} -> {}: {}",
                    method,
                    uri,
                    status,
                    text
                );
                if status.is_client_error() && status != StatusCode::METHOD_NOT_ALLOWED {
                    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    prop_assert!(
                        v["error"]["field"].is_string(),
                        "{} {} -> {}: {}",
                        method,
                        uri,
                        status,
                        text
                    );
                }
                Ok(())
            },
        )
        .unwrap();
    // Still serving: a valid order is decided and health is fine.
    let req = Request::builder()
        .method("POST")
        .uri("/v1/check")
        .header("authorization", format!("Bearer {}", f.keys[0]))
        .body(Body::from(valid_order().to_string()))
        .unwrap();
    let (status, bytes) = send(f, req);
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let health = Request::builder()
        .uri("/healthz")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(f, health).0, StatusCode::OK);
}

fn send(f: &Fixture, req: Request<Body>) -> (StatusCode, axum::body::Bytes) {
    runtime().block_on(async {
        let resp = app(f.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        (status, resp.into_body().collect().await.unwrap().to_bytes())
    })
}
