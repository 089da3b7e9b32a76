//! The decision corpus (`tests/corpus/decisions/*.json`), run through the library and through
//! the `exportgate check` command: every case's outcome, exception, review policy, ECCN,
//! conditions and rule ids must match.

use std::path::{Path, PathBuf};
use std::process::Command;

use exportgate_core::decide::LppTally;
use exportgate_core::{decide, Order, Ruleset};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/decisions")
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
            let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
            for k in &keys {
                assert!(
                    ["name", "regimes", "order", "orders", "expect"].contains(k),
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
    let mut failures = Vec::new();
    for case in load_cases() {
        let mut tally = LppTally::default();
        let mut last = None;
        for o in &case.orders {
            let order: Order = serde_json::from_value(o.clone()).unwrap();
            let d = decide(&rs, &order, &case.regimes, &tally)
                .unwrap_or_else(|e| panic!("{} / {}: {e}", case.file, case.name));
            tally.record(&order.consignee.name, &d);
            last = Some(d);
        }
        let got = serde_json::to_value(last.unwrap()).unwrap();
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

#[test]
fn corpus_through_the_cli() {
    let dir = std::env::temp_dir().join(format!("exportgate-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (i, case) in load_cases().iter().enumerate() {
        let file = dir.join(format!("case-{i}.jsonl"));
        let lines: Vec<String> = case.orders.iter().map(|o| o.to_string()).collect();
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_exportgate"));
        cmd.arg("check").arg(&file);
        for r in &case.regimes {
            cmd.arg("--regime").arg(r);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}: exit {:?}: {}",
            case.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        let bad = mismatches(&last, &case.expect);
        if !bad.is_empty() {
            failures.push(format!(
                "{} / {}:\n    {}",
                case.file,
                case.name,
                bad.join("\n    ")
            ));
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
