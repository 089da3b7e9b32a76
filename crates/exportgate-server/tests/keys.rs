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
