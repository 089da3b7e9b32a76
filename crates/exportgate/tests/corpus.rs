//! The decision corpus (`tests/corpus/decisions/*.json`), run through the library and through
//! the `exportgate check` command: every case's outcome, exception, review policy, ECCN,
//! conditions and rule ids must match. Every party is screened against the real 2026
//! Consolidated Screening List.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use exportgate_core::decide::LppTally;
use exportgate_core::{decide, Order, Ruleset};
use exportgate_lists::source::ScreeningSource;
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/decisions")
}

/// The real 2026 Consolidated Screening List.
fn csl() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/lists/csl_2026-07-31/screening-list.json")
}

struct Case {
    file: String,
    name: String,
    regimes: Vec<String>,
    orders: Vec<Value>,
    expect: Value,
}

fn load_cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for c in v["cases"].as_array().unwrap() {
            for k in c.as_object().unwrap().keys() {
                assert!(
                    ["name", "note", "regimes", "order", "orders", "expect"].contains(&k.as_str()),
                    "{}: unknown key `{k}`",
                    path.display()
                );
            }
            let orders = match (c.get("order"), c.get("orders")) {
                (Some(o), None) => vec![o.clone()],
                (None, Some(v)) => v.as_array().unwrap().clone(),
                _ => panic!("{}: case needs `order` or `orders`", path.display()),
            };
            out.push(Case {
                file: path.file_name().unwrap().to_string_lossy().into(),
                name: c["name"].as_str().unwrap().into(),
                regimes: c
                    .get("regimes")
                    .map(|r| serde_json::from_value(r.clone()).unwrap())
                    .unwrap_or_default(),
                orders,
                expect: c["expect"].clone(),
            });
        }
    }
    out
}

/// Compare a decision (as JSON) with the expectation; returns the mismatches.
fn mismatches(decision: &Value, expect: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    // A rejected order: `{"error": {"field": F, "message_contains": [..]}}`.
    if let Some(want) = expect.get("error") {
        let got = &decision["error"];
        if got.is_null() {
            bad.push(format!(
                "expected a rejection, got a decision {}",
                decision["outcome"]
            ));
            return bad;
        }
        if got["field"] != want["field"] {
            bad.push(format!(
                "error field: expected {}, got {}",
                want["field"], got["field"]
            ));
        }
        let message = got["message"].as_str().unwrap_or_default();
        for m in want["message_contains"].as_array().into_iter().flatten() {
            if !message.contains(m.as_str().unwrap()) {
                bad.push(format!("error message {message:?} does not contain {m}"));
            }
        }
        return bad;
    }
    if !decision["error"].is_null() {
        bad.push(format!("rejected: {}", decision["error"]));
        return bad;
    }
    let rules: Vec<&str> = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    let conditions: Vec<&str> = decision["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    for (key, want) in expect.as_object().unwrap() {
        match key.as_str() {
            "outcome" | "exception" | "review_policy" | "eccn" | "unconfirmed" | "tpp_total" => {
                if &decision[key] != want {
                    bad.push(format!("{key}: expected {want}, got {}", decision[key]));
                }
            }
            "rules" => {
                for r in want.as_array().unwrap() {
                    if !rules.contains(&r.as_str().unwrap()) {
                        bad.push(format!("rule {r} missing from {rules:?}"));
                    }
                }
            }
            "not_rules" => {
                for r in want.as_array().unwrap() {
                    if rules.contains(&r.as_str().unwrap()) {
                        bad.push(format!("rule {r} should not be among {rules:?}"));
                    }
                }
            }
            "conditions" => {
                let want: Vec<&str> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect();
                if want.is_empty() && !conditions.is_empty() {
                    bad.push(format!("expected no conditions, got {conditions:?}"));
                }
                for c in want {
                    if !conditions.contains(&c) {
                        bad.push(format!("condition {c} missing from {conditions:?}"));
                    }
                }
            }
            "screening_hits" => {
                let lists: Vec<&str> = decision["screening"]["hits"]
                    .as_array()
                    .map(|h| h.iter().map(|x| x["list"].as_str().unwrap()).collect())
                    .unwrap_or_default();
                for l in want.as_array().unwrap() {
                    if !lists.contains(&l.as_str().unwrap()) {
                        bad.push(format!("screening hit on {l} missing from {lists:?}"));
                    }
                }
            }
            other => bad.push(format!("unknown expectation `{other}`")),
        }
    }
    bad
}

#[test]
fn corpus_has_at_least_eighty_cases() {
    assert!(load_cases().len() >= 80);
}

#[test]
fn corpus_through_the_library() {
    let rs = Ruleset::embedded().unwrap();
    let source =
        ScreeningSource::open(&[csl()], None, false, "2026-11-23".parse().unwrap()).unwrap();
    let mut failures = Vec::new();
    for case in load_cases() {
        let mut tally = LppTally::default();
        let mut last = None;
        for o in &case.orders {
            let order: Order = serde_json::from_value(o.clone()).unwrap();
            let hits = source.hits(&order).unwrap();
            match decide(&rs, &order, &case.regimes, &tally, source.screening(&hits)) {
                Ok(d) => {
                    tally.record(&order.consignee.name, &d);
                    last = Some(serde_json::to_value(d).unwrap());
                }
                Err(e) => {
                    last =
                        Some(serde_json::json!({"error": {"field": e.field, "message": e.problem}}))
                }
            }
        }
        let got = last.unwrap();
        let bad = mismatches(&got, &case.expect);
        if !bad.is_empty() {
            failures.push(format!(
                "{} / {}:\n    {}",
                case.file,
                case.name,
                bad.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The CLI run batches every case with the same `--regime` flags into one `check` process:
/// order ids get the case's index, and (where LPP can count) consignee names a suffix, so one
/// case's LPP tally cannot reach another's.
#[test]
fn corpus_through_the_cli() {
    let dir = std::env::temp_dir().join(format!("exportgate-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = load_cases();
    let mut groups: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        groups.entry(c.regimes.clone()).or_default().push(i);
    }
    let mut failures = Vec::new();
    for (regimes, members) in groups {
        let mut lines = Vec::new();
        for &i in &members {
            for o in &cases[i].orders {
                let mut o = o.clone();
                o["id"] = Value::String(format!("c{i}:{}", o["id"].as_str().unwrap()));
                if !regimes.is_empty() || cases[i].orders.len() > 1 {
                    // Keep LPP tallies apart; these cases' parties are made up, not list names.
                    let name = o["consignee"]["name"].as_str().unwrap().to_string();
                    o["consignee"]["name"] = Value::String(format!("{name} {i}"));
                }
                lines.push(o.to_string());
            }
        }
        let file = dir.join(format!("group-{}.jsonl", members[0]));
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_exportgate"));
        cmd.arg("check").arg(&file).arg("--lists").arg(csl());
        for r in &regimes {
            cmd.arg("--regime").arg(r);
        }
        let out = cmd.output().unwrap();
        // Exit 2 says some lines were rejected: allowed where a case expects a rejection.
        let rejects = members
            .iter()
            .any(|&i| cases[i].expect.get("error").is_some());
        assert!(
            out.status.success() || rejects && out.status.code() == Some(2),
            "exit {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let decisions: HashMap<String, Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["id"].as_str().unwrap().to_string(), v)
            })
            .collect();
        for &i in &members {
            let case = &cases[i];
            let last_id = format!(
                "c{i}:{}",
                case.orders.last().unwrap()["id"].as_str().unwrap()
            );
            let bad = mismatches(&decisions[&last_id], &case.expect);
            if !bad.is_empty() {
                failures.push(format!(
                    "{} / {}:\n    {}",
                    case.file,
                    case.name,
                    bad.join("\n    ")
                ));
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        failures.is_empty(),
        "{} corpus cases failed through the CLI:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
