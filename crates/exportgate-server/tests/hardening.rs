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
    fixture_in(tempfile::tempdir().unwrap())
}

/// The fixture on `dir/db.sqlite` (which may exist already).
fn fixture_in(dir: tempfile::TempDir) -> Fixture {
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        db: dir.path().join("db.sqlite"),
        lists: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/lists/csl_2026-07-31/screening-list.json")],
        screened_externally: false,
        // The real CSL is dated 2026-07-31: keep it in force for these tests.
        max_list_age_days: 36_500,
        policy: None,
    };
    let state = Arc::new(AppState::open(&config).unwrap());
    // One person per role: the four-eyes rule compares persons.
    let key = |r: Role| {
        exportgate_server::db::create_key(&state.conn(), r.as_str(), r)
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

#[test]
fn item_5_four_eyes_compares_persons_not_keys() {
    let f = fixture();
    let mint = |name: &str, role: &str| {
        let body = json!({"name": name, "role": role}).to_string();
        let (s, v) = f.call("POST", "/v1/keys", &f.admin, Some(body.as_bytes()));
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    };
    let release = |case: i64, key: &str| {
        f.call(
            "POST",
            &format!("/v1/cases/{case}/release"),
            key,
            Some(br#"{"reason": "checked"}"#),
        )
    };

    // A second key with the same name (other case, other spacing) is the same person.
    let alice = mint("Alice  Smith", "reviewer");
    let alice_again = mint("  alice SMITH ", "reviewer");
    assert_eq!(
        alice["user_id"], alice_again["user_id"],
        "{alice} {alice_again}"
    );
    assert_eq!(alice_again["user"], "Alice Smith");
    let someone_else = mint("Alice Smithe", "reviewer");
    assert_ne!(alice["user_id"], someone_else["user_id"]);
    let (s, v) = f.call(
        "POST",
        "/v1/check",
        alice["key"].as_str().unwrap(),
        Some(order("i5-a").to_string().as_bytes()),
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    let case = v["review_case"].as_i64().expect("a case");
    let (s, v) = release(case, alice_again["key"].as_str().unwrap());
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["field"], "authorization");
    let (s, v) = f.call("GET", &format!("/v1/cases/{case}"), &f.reviewer, None);
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("open")));
    assert_eq!(v["submitted_user"], alice["user_id"]);
    // Another person can.
    let (s, v) = release(case, &f.reviewer);
    assert_eq!(s, StatusCode::OK, "{v}");

    // An admin's self-minted reviewer key cannot release a case the admin submitted.
    let (_, keys) = f.call("GET", "/v1/keys", &f.admin, None);
    let me = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "admin")
        .unwrap()
        .clone();
    let mine = mint(&me["name"].as_str().unwrap().to_uppercase(), "reviewer");
    assert_eq!(mine["user_id"], me["user_id"], "{mine} {me}");
    let (s, v) = f.call(
        "POST",
        "/v1/check",
        &f.admin,
        Some(order("i5-b").to_string().as_bytes()),
    );
    assert_eq!(s, StatusCode::OK, "{v}");
    let case = v["review_case"].as_i64().expect("a case");
    let (s, v) = release(case, mine["key"].as_str().unwrap());
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = release(case, &f.reviewer);
    assert_eq!(s, StatusCode::OK, "{v}");

    // A name of only spaces is refused naming the field.
    let (s, v) = f.call(
        "POST",
        "/v1/keys",
        &f.admin,
        Some(br#"{"name": "   ", "role": "reviewer"}"#),
    );
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name"))
    );
}

#[test]
fn item_5_an_older_database_gets_users_and_old_cases_compare_names() {
    // A database from before users: keys and a case with no user columns.
    let dir = tempfile::tempdir().unwrap();
    let old = rusqlite::Connection::open(dir.path().join("db.sqlite")).unwrap();
    old.execute_batch(
        "CREATE TABLE server_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
            key_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT);
         CREATE TABLE server_cases (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
            submitted_by TEXT NOT NULL, submitted_name TEXT NOT NULL, order_id TEXT NOT NULL,
            outcome TEXT NOT NULL, why TEXT NOT NULL, order_json TEXT NOT NULL,
            decision_json TEXT NOT NULL, trace_json TEXT NOT NULL, screening_json TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open', resolved_by TEXT, resolved_name TEXT,
            resolved_at TEXT, resolution_reason TEXT, audit_seq INTEGER);",
    )
    .unwrap();
    let hash = exportgate_server::db::key_hash;
    for (id, name, key) in [("k1", "carol", "eg_carol1"), ("k2", "Carol ", "eg_carol2")] {
        old.execute(
            "INSERT INTO server_keys (id, name, role, key_sha256, created_at) VALUES (?1, ?2, 'reviewer', ?3, '2026-01-01T00:00:00Z')",
            rusqlite::params![id, name, hash(key)],
        )
        .unwrap();
    }
    // Case 1 by key k1; case 2 by a key no longer stored, under the name `CAROL`.
    for by in ["k1", "gone"] {
        old.execute(
            "INSERT INTO server_cases (created_at, submitted_by, submitted_name, order_id, outcome,
                why, order_json, decision_json, trace_json, screening_json)
             VALUES ('2026-01-01T00:00:00Z', ?1, ?2, 'o', 'hold_for_review', '[]', '{}', '{}', '[]', '[]')",
            rusqlite::params![by, if by == "k1" { "carol" } else { "CAROL" }],
        )
        .unwrap();
    }
    drop(old);

    let f = fixture_in(dir);
    let (_, keys) = f.call("GET", "/v1/keys", &f.admin, None);
    let users: Vec<&Value> = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["id"] == "k1" || k["id"] == "k2")
        .map(|k| &k["user_id"])
        .collect();
    assert_eq!(users.len(), 2, "{keys}");
    assert!(users[0].is_i64() && users[0] == users[1], "{keys}");
    let (_, case1) = f.call("GET", "/v1/cases/1", &f.reviewer, None);
    assert_eq!(&case1["submitted_user"], users[0], "{case1}");
    let (_, case2) = f.call("GET", "/v1/cases/2", &f.reviewer, None);
    assert!(case2["submitted_user"].is_null(), "{case2}");
    // Carol's other key cannot release case 1; neither key case 2 (same name, no user).
    for (case, key) in [(1, "eg_carol2"), (2, "eg_carol1"), (2, "eg_carol2")] {
        let (s, v) = f.call(
            "POST",
            &format!("/v1/cases/{case}/release"),
            key,
            Some(br#"{"reason": "checked"}"#),
        );
        assert_eq!(s, StatusCode::FORBIDDEN, "case {case} by {key}: {v}");
    }
    // Opening the file again changes nothing.
    let conn = exportgate_server::db::open(&f._dir.path().join("db.sqlite")).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM server_users WHERE name_key = 'carol'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

/// `POST /v1/ledger/allocations` says what it did in `ensured`, by the names it has always
/// used (written from `Ensured::as_str`, no longer from Debug output): `created` the first
/// time, `alreadyexists` after.
#[test]
fn an_allocation_answers_created_then_alreadyexists() {
    let f = fixture();
    let body = br#"{"country": "IN"}"#;
    let (s, v) = f.call("POST", "/v1/ledger/allocations", &f.admin, Some(body));
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ensured"], "created", "{v}");
    let (s, v) = f.call("POST", "/v1/ledger/allocations", &f.admin, Some(body));
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ensured"], "alreadyexists", "{v}");
}
