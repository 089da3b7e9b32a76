//! The yente-compatible API (`POST /match/{dataset}`, `GET /search/{dataset}`) against the
//! router in-process, with the real 2026 CSL and the FtM fixture as two datasets, and with
//! requests and a response shape written from yente's documentation (`tests/data/yente`).
//!
//! With `EXPORTGATE_YENTE_PYTHON` set to a Python that has `pip install yente`, the answers
//! are also validated by yente's own pydantic response models (`yente_client.py`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use exportgate_server::auth::Role;
use exportgate_server::{app, AppState, Config, Shared};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const YENTE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/yente");

struct Fixture {
    state: Shared,
    key: String,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        db: dir.path().join("db.sqlite"),
        lists: vec![
            root.join("../../../shared/data/lists/csl_2026-07-31/screening-list.json"),
            root.join("../exportgate-screen/tests/data/ftm/targets.nested.json"),
        ],
        screened_externally: false,
        max_list_age_days: 36_500,
        policy: None,
    };
    let state = Arc::new(AppState::open(&config).unwrap());
    let key = exportgate_server::db::create_key(&state.conn(), "client", Role::Submitter)
        .unwrap()
        .1;
    Fixture {
        state,
        key,
        _dir: dir,
    }
}

impl Fixture {
    fn send(
        &self,
        method: &str,
        uri: &str,
        auth: Option<&str>,
        body: &[u8],
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let req = req
            .header("content-type", "application/json")
            .body(Body::from(body.to_vec()))
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let resp = app(self.state.clone()).oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        })
    }

    fn post(&self, uri: &str, body: &str) -> (StatusCode, Value) {
        self.send(
            "POST",
            uri,
            Some(&format!("Bearer {}", self.key)),
            body.as_bytes(),
        )
    }

    fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.send("GET", uri, Some(&format!("Bearer {}", self.key)), b"")
    }
}

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{YENTE}/{name}")).unwrap()
}

/// Every key of `doc`, at every level (the first element of arrays), is in `ours` with a
/// value of the same JSON type (`null` in the documentation allows anything).
fn has_shape(doc: &Value, ours: &Value, path: &str) {
    match (doc, ours) {
        (Value::Object(d), Value::Object(o)) => {
            for (k, dv) in d {
                // Keys of maps keyed by the caller or the matcher are examples, not fields.
                let ov = match o.get(k) {
                    Some(v) => v,
                    None if matches!(
                        path,
                        ".responses" | ".features" | ".explanations" | ".matcher"
                    ) || path.ends_with(".features")
                        || path.ends_with(".explanations")
                        || path.ends_with(".properties") =>
                    {
                        match o.values().next() {
                            Some(v) => v,
                            None => continue,
                        }
                    }
                    None => panic!("{path}.{k} is missing in {ours}"),
                };
                has_shape(dv, ov, &format!("{path}.{k}"));
            }
        }
        (Value::Array(d), Value::Array(o)) => {
            if let (Some(dv), Some(ov)) = (d.first(), o.first()) {
                has_shape(dv, ov, path);
            }
        }
        (Value::Null, _) => {}
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        (d, o) => panic!("{path}: documented {d}, answered {o}"),
    }
}

/// Saves an answer for `yente_client.py`, and runs it when a Python with yente is named.
fn check_with_yente_models(dir: &Path) {
    let Ok(python) = std::env::var("EXPORTGATE_YENTE_PYTHON") else {
        eprintln!("EXPORTGATE_YENTE_PYTHON unset: yente's own models not run (see the README)");
        return;
    };
    let out = std::process::Command::new(python)
        .arg(format!("{YENTE}/yente_client.py"))
        .arg(dir)
        .output()
        .expect("runs yente_client.py");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    assert!(
        out.status.success(),
        "yente's models rejected an answer:\n{text}"
    );
    assert!(text.contains("ok match_tutorial.json"), "{text}");
}

fn save(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p
}

#[test]
fn documented_requests_get_yente_shaped_answers() {
    let f = fixture();
    let out = tempfile::tempdir().unwrap();

    // The tutorial's Person example finds the SDN entry, in yente's shape.
    let (status, body) = f.post("/match/default", &read("match_request_tutorial.json"));
    assert_eq!(status, StatusCode::OK, "{body}");
    save(out.path(), "match_tutorial.json", &body);
    let doc: Value = serde_json::from_str(&read("match_response_example.json")).unwrap();
    has_shape(&doc, &body, "");
    let r = &body["responses"]["q1"];
    assert_eq!(r["status"], 200);
    assert_eq!(r["query"]["schema"], "Person");
    assert_eq!(
        r["query"]["properties"]["name"][0],
        "Arkadiii Romanovich Rotenberg"
    );
    let top = &r["results"][0];
    assert_eq!(top["caption"], "ROTENBERG, Arkady Romanovich");
    assert_eq!(top["schema"], "Person");
    assert_eq!(top["datasets"][0], "screening-list");
    assert_eq!(top["properties"]["country"][0], "ru");
    assert_eq!(top["match"], true);
    assert!(top["score"].as_f64().unwrap() >= 0.8);
    assert_eq!(
        top["explanations"]["name"]["query"],
        "Arkadiii Romanovich Rotenberg"
    );
    assert_eq!(top["explanation"]["list"], "SDN");
    assert_eq!(body["limit"], 5);
    assert!(body["matcher"]["token_alignment"]["description"].is_string());
    // Results are ordered by score, at most `limit`, and `total` counts all above the cutoff.
    let results = r["results"].as_array().unwrap();
    assert!(results.len() <= 5);
    assert!(results
        .windows(2)
        .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));
    assert!(r["total"]["value"].as_u64().unwrap() >= results.len() as u64);

    // The docstring's two examples: one response each, under the caller's keys.
    let (status, body) = f.post("/match/default", &read("match_request_docstring.json"));
    assert_eq!(status, StatusCode::OK, "{body}");
    save(out.path(), "match_docstring.json", &body);
    let keys: Vec<&String> = body["responses"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["entity1", "entity2"]);
    for k in keys {
        assert_eq!(body["responses"][k]["status"], 200);
        assert!(body["responses"][k]["results"].is_array());
        assert_eq!(body["responses"][k]["total"]["relation"], "eq");
    }

    let (status, body) = f.get("/search/default?q=Huawei%20Technologies&limit=3");
    assert_eq!(status, StatusCode::OK, "{body}");
    save(out.path(), "search_huawei.json", &body);
    assert_eq!(body["limit"], 3);
    assert_eq!(body["offset"], 0);
    assert_eq!(body["results"].as_array().unwrap().len(), 3);
    assert!(body["results"][0]["caption"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("huawei"));
    assert!(body["total"]["value"].as_u64().unwrap() >= 3);
    assert!(body["facets"].is_object());

    check_with_yente_models(out.path());
}

#[test]
fn thresholds_limits_schemata_and_datasets() {
    let f = fixture();
    let q = |schema: &str, name: &str| {
        format!(
            r#"{{"queries": {{"q": {{"schema": "{schema}", "properties": {{"name": ["{name}"]}}}}}}}}"#
        )
    };
    // `threshold` decides `match`; `limit` caps the results.
    let (_, b) = f.post(
        "/match/default?threshold=0.999&cutoff=0.5&limit=1",
        &q("Person", "Arkadiy Rotenberg"),
    );
    let r = &b["responses"]["q"];
    assert_eq!(r["results"].as_array().unwrap().len(), 1);
    assert!(r["results"][0]["score"].as_f64().unwrap() < 0.999);
    assert_eq!(r["results"][0]["match"], false);
    assert_eq!(b["limit"], 1);
    // A Company query never meets a person.
    let (_, b) = f.post("/match/default", &q("Company", "Arkady Rotenberg"));
    assert!(
        b["responses"]["q"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["schema"] != "Person"),
        "{b}"
    );
    // Datasets: one per loaded list, plus `default`.
    let (s, b) = f.post("/match/targets.nested", &q("Company", "雷神导弹与防务公司"));
    assert_eq!(s, StatusCode::OK, "{b}");
    let top = &b["responses"]["q"]["results"][0];
    assert_eq!(top["caption"], "Raytheon Missiles & Defense");
    assert_eq!(top["datasets"][0], "targets.nested");
    let (_, b) = f.post("/match/screening-list", &q("Company", "雷神导弹与防务公司"));
    assert!(b["responses"]["q"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["datasets"][0] == "screening-list"));
    let (_, b) = f.post(
        "/match/default?exclude_dataset=targets.nested",
        &q("Company", "Cambricon Technologies"),
    );
    assert!(b["responses"]["q"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["datasets"][0] != "targets.nested"));
    let (s, b) = f.post("/match/us_ofac_sdn", &q("Person", "John Doe"));
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        b["detail"].as_str().unwrap().contains("screening-list"),
        "{b}"
    );
    // `ApiKey KEY`, as yente's hosted API takes it, is accepted; no key is 401.
    let (s, _) = f.send(
        "POST",
        "/match/default",
        Some(&format!("ApiKey {}", f.key)),
        q("Person", "John Doe").as_bytes(),
    );
    assert_eq!(s, StatusCode::OK);
    // The routes are in the OpenAPI document.
    let (_, doc) = f.get("/openapi.json");
    assert!(
        doc["paths"]["/match/{dataset}"]["post"].is_object(),
        "{}",
        doc["paths"]
    );
    assert!(doc["paths"]["/search/{dataset}"]["get"].is_object());
    let (s, b) = f.send(
        "POST",
        "/match/default",
        None,
        q("Person", "John Doe").as_bytes(),
    );
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(b["detail"].is_string());
}

#[test]
fn bad_requests_name_the_field_in_both_shapes() {
    let f = fixture();
    let cases: [(&str, &str, &str); 7] = [
        (
            "/match/default",
            r#"{"queries": {"a": {"schema": "Person", "properties": {"birthDate": ["1950"]}}}}"#,
            "queries.a.properties.name",
        ),
        (
            "/match/default",
            r#"{"queries": {"a": {"schema": "Address", "properties": {"name": ["x"]}}}}"#,
            "queries.a.schema",
        ),
        (
            "/match/default",
            r#"{"queries": {"a": {"schema": "Person", "properties": {"name": [42]}}}}"#,
            "queries.a.properties.name",
        ),
        ("/match/default", r#"{"queries": {}}"#, "queries"),
        (
            "/match/default?algorithm=magic",
            r#"{"queries": {"a": {"schema": "Person", "properties": {"name": ["x"]}}}}"#,
            "algorithm",
        ),
        (
            "/match/default?topics=sanction",
            r#"{"queries": {"a": {"schema": "Person", "properties": {"name": ["x"]}}}}"#,
            "topics",
        ),
        (
            "/match/default?threshold=2",
            r#"{"queries": {"a": {"schema": "Person", "properties": {"name": ["x"]}}}}"#,
            "threshold",
        ),
    ];
    for (uri, body, field) in cases {
        let (s, b) = f.post(uri, body);
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri} {body}: {b}");
        assert_eq!(b["error"]["field"], field, "{b}");
        assert!(b["detail"].is_string(), "{b}");
    }
    let (s, b) = f.get("/search/default");
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("q"))
    );
    let (s, b) = f.get("/search/default?q=x&fuzzy=true");
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("fuzzy"))
    );
}
