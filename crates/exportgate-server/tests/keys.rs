//! Issue 14 item 4: keys expire (`expires`), and an expired key is refused like a revoked one;
//! a date in the past is refused when creating a key.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use exportgate_server::auth::Role;
use exportgate_server::{app, db, AppState, Config};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn call(
    state: &Arc<AppState>,
    method: &str,
    uri: &str,
    key: &str,
    body: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(if body.is_empty() {
            Body::empty()
        } else {
            Body::from(body.to_string())
        })
        .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let resp = app(state.clone()).oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        })
}

#[test]
fn item_4_an_expired_key_is_refused_like_a_revoked_one() {
    let dir = tempfile::tempdir().unwrap();
    let state = Arc::new(
        AppState::open(&Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            db: dir.path().join("db.sqlite"),
            lists: vec![],
            screened_externally: true,
            max_list_age_days: 36_500,
            policy: None,
        })
        .unwrap(),
    );
    let now = chrono::Utc::now();
    let (admin, key) = {
        let conn = state.conn();
        let admin = db::create_key(&conn, "alice", Role::Admin).unwrap().1;
        let expired = db::create_key_expiring(
            &conn,
            "old-system",
            Role::Submitter,
            Some(now - chrono::Duration::seconds(1)),
        )
        .unwrap()
        .1;
        (admin, expired)
    };
    let (s, v) = call(&state, "GET", "/v1/regimes", &key, "");
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("expired"),
        "{v}"
    );

    // Through the API: a key expiring today works (through the end of the day, UTC) and is
    // listed with its expiry; a date in the past is refused naming the field.
    let today = now.date_naive();
    let (s, v) = call(
        &state,
        "POST",
        "/v1/keys",
        &admin,
        &format!(r#"{{"name": "erp", "role": "submitter", "expires": "{today}"}}"#),
    );
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let expires = v["expires_at"].as_str().unwrap().to_string();
    assert!(
        expires.starts_with(&today.succ_opt().unwrap().to_string()),
        "{expires}"
    );
    let (s, _) = call(&state, "GET", "/v1/regimes", v["key"].as_str().unwrap(), "");
    assert_eq!(s, StatusCode::OK);
    let (s, v) = call(
        &state,
        "POST",
        "/v1/keys",
        &admin,
        r#"{"name": "erp", "role": "submitter", "expires": "2020-01-01"}"#,
    );
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("expires"))
    );
    let (_, keys) = call(&state, "GET", "/v1/keys", &admin, "");
    let old = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "old-system")
        .unwrap();
    assert!(old["expires_at"].is_string(), "{old}");
}

/// Issue 14 item 5: authentication, the query and the body are extractors, run in that order:
/// a request is refused for its key (401, or 403 for too small a role) before its query or
/// body are looked at, and a bad query or body of an authorised request is a 400 naming
/// `query` or the field, in the API's error shape.
#[test]
fn item_5_the_key_is_checked_before_the_query_and_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let state = Arc::new(
        AppState::open(&Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            db: dir.path().join("db.sqlite"),
            lists: vec![],
            screened_externally: true,
            max_list_age_days: 36_500,
            policy: None,
        })
        .unwrap(),
    );
    let (submitter, reviewer) = {
        let conn = state.conn();
        (
            db::create_key(&conn, "erp", Role::Submitter).unwrap().1,
            db::create_key(&conn, "rita", Role::Reviewer).unwrap().1,
        )
    };
    // A malformed body with no key, an unknown key, and a key with too small a role.
    let (s, v) = call(&state, "POST", "/v1/cases/1/release", "", "{not json");
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["error"]["field"], "authorization", "{v}");
    let (s, _) = call(&state, "POST", "/v1/cases/1/release", "nope", "{not json");
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = call(
        &state,
        "POST",
        "/v1/cases/1/release",
        &submitter,
        "{not json",
    );
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("reviewer"),
        "{v}"
    );
    // With a reviewer's key the body is read: malformed JSON is a 400 naming the body.
    let (s, v) = call(
        &state,
        "POST",
        "/v1/cases/1/release",
        &reviewer,
        "{not json",
    );
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"]["field"].is_string(), "{v}");
    // A query string that is not a map of names to values: 403 without the role, 400 with it.
    let (s, _) = call(
        &state,
        "GET",
        "/v1/cases?status=open&status",
        &submitter,
        "",
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = call(&state, "GET", "/v1/audit?limit=ten", &reviewer, "");
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "limit", "{v}");
    // An unknown regime in `POST /v1/check`'s query is refused naming it, for a submitter.
    let (s, v) = call(
        &state,
        "POST",
        "/v1/check?regime=no-such-regime",
        &submitter,
        "{}",
    );
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "regime[0]", "{v}");
}
