//! `exportgate serve` end to end: the real binary on a free port with the real CSL file.
//! Creates keys with `exportgate keys create`, checks orders, reviews held cases to release
//! (clearing a near-miss hit on the allow-list) and to block, enforces roles and the
//! four-eyes rule, and verifies the hash-chained audit log.

mod server_util;

use serde_json::{json, Value};
use server_util::{order, Server};

#[test]
fn serve_check_review_and_audit() {
    let srv = Server::start();
    let admin = srv.key("admin", "alice");
    let submitter = srv.key("submitter", "order-system");
    let rita = srv.key("reviewer", "rita");
    let rob = srv.key("reviewer", "rob");

    // Health and metrics need no key; everything else does.
    assert_eq!(srv.call("GET", "/healthz", None, None).0, 200);
    assert_eq!(srv.call("GET", "/readyz", None, None).0, 200);
    let (s, v) = srv.call("POST", "/v1/check", None, Some("{}"));
    assert_eq!(s, 401);
    assert_eq!(v["error"]["field"], "authorization");
    assert_eq!(
        srv.call("GET", "/v1/regimes", Some("eg_not-a-key"), None).0,
        401
    );
    assert_eq!(srv.call("GET", "/v1/cases", Some(&submitter), None).0, 403);
    assert_eq!(
        srv.call(
            "POST",
            "/v1/keys",
            Some(&rita),
            Some(r#"{"name":"x","role":"admin"}"#)
        )
        .0,
        403
    );

    // Bad input: 400 naming the field, never a 5xx.
    let (s, v) = srv.call("POST", "/v1/check", Some(&submitter), Some("{\"id\": "));
    assert_eq!(s, 400);
    assert_eq!(v["error"]["field"], "body");
    let mut bad = order("b1", "Tel Aviv Inference Ltd", "IL");
    bad["date"] = json!("2025-02-30");
    let (s, v) = srv.call(
        "POST",
        "/v1/check",
        Some(&submitter),
        Some(&bad.to_string()),
    );
    assert_eq!((s, v["error"]["field"].as_str()), (400, Some("date")));
    // A body over the limit is refused: 413, or (when the server answers before we have
    // written it all and closes the connection) a connection cut off under us; never
    // accepted, never a 5xx, and the server keeps serving.
    let big = format!("[{}]", "1,".repeat(600_000) + "1");
    match srv.try_call("POST", "/v1/check", Some(&submitter), &big) {
        Ok((s, v)) => assert_eq!(s, 413, "{v}"),
        Err(e) => assert!(
            e.contains("Broken pipe") || e.contains("reset"),
            "the oversized body: {e}"
        ),
    }
    assert_eq!(srv.call("GET", "/healthz", None, None).0, 200);

    // A clean order: decided as `check` writes it, no case.
    let clean = order("c1", "Tel Aviv Inference Ltd", "IL");
    let (s, d) = srv.call(
        "POST",
        "/v1/check",
        Some(&submitter),
        Some(&clean.to_string()),
    );
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["outcome"], "no_license_required");
    assert_eq!(d["screening"]["status"], "screened");
    assert!(d.get("review_case").is_none());

    // A Denied Persons List hit holds the order and opens a case.
    let dpl = order("h1", "KAL TEK LABS", "US");
    let (s, d) = srv.call(
        "POST",
        "/v1/check",
        Some(&submitter),
        Some(&dpl.to_string()),
    );
    assert_eq!(s, 200);
    assert_eq!(d["outcome"], "hold_for_review");
    let blocked_case = d["review_case"].as_i64().expect("a case");

    // A near miss on the Unverified List: below certainty, a case too.
    let near = order("h2", "Pirucas Tarding", "AM");
    let (_, d) = srv.call(
        "POST",
        "/v1/check",
        Some(&submitter),
        Some(&near.to_string()),
    );
    let near_case = d["review_case"].as_i64().expect("a case for the near miss");
    assert_eq!(d["screening"]["hits"][0]["certain"], false);

    // An array: one record per order, errors in place.
    let batch = json!([clean, {"id": "e1"}, dpl]);
    let (s, v) = srv.call(
        "POST",
        "/v1/check",
        Some(&submitter),
        Some(&batch.to_string()),
    );
    assert_eq!(s, 200);
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["outcome"], "no_license_required");
    assert_eq!(v[1]["index"], 1);
    assert!(v[1]["error"]["field"].as_str().unwrap().starts_with("[1]"));
    assert_eq!(v[2]["outcome"], "hold_for_review");

    // The queue holds the cases with the decision, trace and screening explanation.
    // The DPL order sent again in the batch (same id, same decision) kept its one case.
    let (s, queue) = srv.call("GET", "/v1/cases", Some(&rita), None);
    assert_eq!(s, 200);
    assert_eq!(queue.as_array().unwrap().len(), 2);
    let (_, case) = srv.call("GET", &format!("/v1/cases/{near_case}"), Some(&rita), None);
    assert!(!case["trace"].as_array().unwrap().is_empty());
    let hit = &case["screening"][0]["hits"][0];
    assert_eq!(hit["list"], "UVL");
    assert!(hit["tokens_matched"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));

    // Release the near miss, clearing the hit on the allow-list until a date.
    let (s, v) = srv.call(
        "POST",
        &format!("/v1/cases/{near_case}/release"),
        Some(&rita),
        Some(r#"{"reason": "different company: Yerevan registry 123 checked", "allow_until": "2099-01-01"}"#),
    );
    assert_eq!(s, 400, "too far ahead: {v}");
    assert_eq!(v["error"]["field"], "allow_until");
    let (s, v) = srv.call(
        "POST",
        &format!("/v1/cases/{near_case}/release"),
        Some(&rita),
        Some(&json!({"reason": "different company: Yerevan registry 123 checked", "allow_until": today_plus(30)}).to_string()),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "released");
    assert_eq!(v["resolved_name"], "rita");
    // Released once only.
    let (s, _) = srv.call(
        "POST",
        &format!("/v1/cases/{near_case}/release"),
        Some(&rob),
        Some(r#"{"reason": "again"}"#),
    );
    assert_eq!(s, 409);
    // The cleared party no longer opens a case (the hit is recorded as cleared).
    let mut again = near.clone();
    again["date"] = json!(today_plus(0));
    // Today the affiliates rule binds: state that ownership was checked.
    again["consignee"]["ownership_checked"] = json!(true);
    let (_, d) = srv.call(
        "POST",
        "/v1/check",
        Some(&submitter),
        Some(&again.to_string()),
    );
    assert!(d.get("review_case").is_none(), "{d}");
    assert!(d["screening"]["hits"][0]["cleared"].is_string(), "{d}");

    // Block the Denied Persons hit.
    let (s, v) = srv.call(
        "POST",
        &format!("/v1/cases/{blocked_case}/block"),
        Some(&rob),
        Some(r#"{"reason": "on the Denied Persons List"}"#),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "blocked");
    let (s, v) = srv.call(
        "POST",
        &format!("/v1/cases/{blocked_case}/block"),
        Some(&rob),
        Some(r#"{"reason": ""}"#),
    );
    assert_eq!((s, v["error"]["field"].as_str()), (400, Some("reason")));

    // A reviewer cannot release a case they submitted; another reviewer can.
    let (_, d) = srv.call("POST", "/v1/check", Some(&rita), Some(&dpl.to_string()));
    let own = d["review_case"].as_i64().unwrap();
    let (s, v) = srv.call(
        "POST",
        &format!("/v1/cases/{own}/release"),
        Some(&rita),
        Some(r#"{"reason": "mine"}"#),
    );
    assert_eq!(s, 403, "{v}");
    // Nor with a second key for the same person (name compared with case and spacing ignored).
    let rita_again = srv.key("reviewer", "  RITA ");
    let (s, v) = srv.call(
        "POST",
        &format!("/v1/cases/{own}/release"),
        Some(&rita_again),
        Some(r#"{"reason": "mine, with another key"}"#),
    );
    assert_eq!(s, 403, "{v}");
    let (s, _) = srv.call(
        "POST",
        &format!("/v1/cases/{own}/release"),
        Some(&rob),
        Some(r#"{"reason": "licence D999 covers this party"}"#),
    );
    assert_eq!(s, 200);

    // Admins manage licences and keys.
    let licence = json!({"number": "D100001", "holder": "Acme Systems", "items": ["nvidia-h20"],
        "destinations": ["CN"], "consignees": ["Example Cloud Co."], "units": 1000,
        "valid_from": "2025-08-01", "valid_to": "2027-07-31"});
    assert_eq!(
        srv.call(
            "POST",
            "/v1/licences",
            Some(&submitter),
            Some(&licence.to_string())
        )
        .0,
        403
    );
    let (s, v) = srv.call(
        "POST",
        "/v1/licences",
        Some(&admin),
        Some(&licence.to_string()),
    );
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        srv.call(
            "POST",
            "/v1/licences",
            Some(&admin),
            Some(&licence.to_string())
        )
        .0,
        409
    );
    let (s, v) = srv.call(
        "POST",
        "/v1/licences",
        Some(&admin),
        Some(r#"{"number": "D2", "holder": "x", "units": "many"}"#),
    );
    assert_eq!(s, 400);
    assert!(v["error"]["field"].is_string());
    let (_, b) = srv.call("GET", "/v1/balances", Some(&submitter), None);
    assert_eq!(b["licences"][0]["balance"]["limits"]["units"], 1000);
    let (s, k) = srv.call(
        "POST",
        "/v1/keys",
        Some(&admin),
        Some(r#"{"name": "temp", "role": "submitter"}"#),
    );
    assert_eq!(s, 201);
    let temp = k["key"].as_str().unwrap().to_string();
    assert_eq!(srv.call("GET", "/v1/regimes", Some(&temp), None).0, 200);
    let id = k["id"].as_str().unwrap();
    assert_eq!(
        srv.call("DELETE", &format!("/v1/keys/{id}"), Some(&admin), None)
            .0,
        200
    );
    assert_eq!(srv.call("GET", "/v1/regimes", Some(&temp), None).0, 401);

    // The audit log: every opening and resolution, chained and intact.
    let (s, v) = srv.call("GET", "/v1/audit/verify", Some(&rob), None);
    assert_eq!(s, 200);
    assert_eq!(v["ok"], true, "{v}");
    let (_, records) = srv.call("GET", "/v1/audit?limit=1000", Some(&rob), None);
    let events: Vec<(String, String)> = records
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "decision")
        .map(|r| {
            let p: Value = serde_json::from_str(r["payload"].as_str().unwrap()).unwrap();
            (
                p["event"].as_str().unwrap().to_string(),
                r["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let count = |e: &str| events.iter().filter(|(k, _)| k == e).count();
    // Four decisions needed review; the DPL order sent twice while open kept one case.
    assert_eq!(count("case_opened"), 3, "{events:?}");
    assert_eq!(count("case_released"), 2);
    assert_eq!(count("case_blocked"), 1);
    assert!(events
        .iter()
        .any(|(k, who)| k == "case_blocked" && who.ends_with(":rob")));
    assert!(records
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["kind"] == "licence_added"));

    // Metrics in the Prometheus text format.
    let text = srv.text("/metrics");
    assert!(text.contains(
        "exportgate_http_requests_total{method=\"POST\",route=\"/v1/check\",status=\"200\"}"
    ));
    assert!(text.contains("exportgate_cases_opened_total 3"));

    // The OpenAPI document names every endpoint.
    let (_, doc) = srv.call("GET", "/openapi.json", Some(&submitter), None);
    for p in [
        "/v1/check",
        "/v1/screen",
        "/v1/cases/{id}/release",
        "/v1/licences",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
}

fn today_plus(days: u64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(days)).to_string()
}

/// The server answers many connections at once (one listener per worker thread on the same
/// port) and stops cleanly, exit status 0, on SIGTERM.
#[test]
fn serve_answers_concurrent_connections_and_stops_on_sigterm() {
    let mut srv = Server::start();
    let submitter = srv.key("submitter", "order-system");
    let body = order("c1", "Tel Aviv Inference Ltd", "IL").to_string();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (srv, key, body) = (&srv, &submitter, &body);
                s.spawn(move || {
                    // A fresh agent per thread: a connection of its own.
                    let agent = ureq::AgentBuilder::new().build();
                    for _ in 0..25 {
                        let resp = agent
                            .post(&format!("{}/v1/check", srv.base))
                            .set("Authorization", &format!("Bearer {key}"))
                            .send_string(body)
                            .unwrap_or_else(|e| panic!("thread {i}: {e}"));
                        let v: serde_json::Value =
                            serde_json::from_str(&resp.into_string().unwrap()).unwrap();
                        assert_eq!(v["outcome"], "no_license_required", "{v}");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    let metrics = srv.text("/metrics");
    // Worker threads count into shards of their own; the exposition adds them up.
    for line in [
        "exportgate_decisions_total 200",
        "exportgate_http_requests_total{method=\"POST\",route=\"/v1/check\",status=\"200\"} 200",
        "exportgate_http_request_duration_seconds_count{route=\"/v1/check\"} 200",
    ] {
        assert!(metrics.contains(line), "{line} not in {metrics}");
    }
    let status = srv.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Issue 15 item 1: `serve` never gives a clean answer on lists older than `--max-list-age`
/// (default 7 days): the real CSL is dated 2026-07-31, far more than 7 days before any run of
/// this test.
#[test]
fn issue15_item1_serve_holds_decisions_made_with_stale_lists() {
    let clean = order("o1", "Tel Aviv Inference Ltd", "IL");
    let huawei = order("o2", "Huawei Technologies Co., Ltd.", "CN");
    let book = Value::Array(vec![clean, huawei]).to_string();

    let fresh = Server::start();
    let key = fresh.key("submitter", "orders");
    let (s, v) = fresh.call("POST", "/v1/check", Some(&key), Some(&book));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v[0]["outcome"], "no_license_required", "{v}");
    assert!(!v.to_string().contains("screening.stale-lists"), "{v}");

    let stale = Server::start_with(&[]);
    let key = stale.key("submitter", "orders");
    let (s, v) = stale.call("POST", "/v1/check", Some(&key), Some(&book));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v[0]["outcome"], "hold_for_review", "{v}");
    let reasons = v[0]["reasons"].to_string();
    assert!(reasons.contains("screening.stale-lists"), "{reasons}");
    assert!(
        reasons.contains("more than the 7 days allowed"),
        "{reasons}"
    );
    // The decision still names the list version it used, and a hit still requires a licence.
    assert!(
        v[0]["screening"]["lists"][0]
            .as_str()
            .unwrap()
            .contains("2026-07-31"),
        "{v}"
    );
    assert_eq!(v[1]["outcome"], "license_required", "{v}");
}

/// Issue 15 item 6: connections that never finish their headers are closed after the
/// header-read timeout, idle kept-alive connections too, at most `--max-connections` are open
/// at once, and `/healthz` keeps answering through it.
#[test]
fn item_6_slow_headers_are_closed_and_healthz_keeps_answering() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let srv = Server::start_with(&[
        "--header-read-timeout",
        "1",
        "--idle-timeout",
        "5",
        "--max-connections",
        "32",
    ]);
    let addr = srv.base.strip_prefix("http://").unwrap().to_string();
    // 100 connections that start a request and never finish its headers.
    let mut slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    // /healthz answers while they are open (queued behind at most 32 at a time, each closed
    // after a second).
    let started = Instant::now();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(15))
        .build();
    let resp = agent.get(&format!("{}/healthz", srv.base)).call().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(15));
    // Every slow connection was closed by the server (EOF or reset, not a read timeout).
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = Vec::new();
        match s.read_to_end(&mut buf) {
            Ok(_) => {}
            Err(e) => assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "a connection without complete headers stayed open: {e}"
            ),
        }
    }
    // A kept-alive connection idle after its response is closed too.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut buf = Vec::new();
    let r = s.read_to_end(&mut buf);
    assert!(
        r.is_ok()
            || !matches!(
                r.as_ref().unwrap_err().kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        "{r:?}"
    );
    assert!(
        String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf)
    );
    // Still serving.
    assert_eq!(srv.call("GET", "/healthz", None, None).0, 200);
}
