//! The decision's wire format (`exportgate_pipeline::wire`) against committed snapshots: its
//! JSON Schema (what `exportgate schema decision` prints and the OpenAPI document's
//! `DecisionRecord` is made from) and two whole decisions of corpus orders — a licence
//! required and an order held for want of due-diligence facts — compared byte for byte. Any
//! change to a field's name, order, type or omission fails here.
//!
//! To accept a deliberate change, re-bless the files and review their diff:
//! `BLESS=1 cargo test -p exportgate-pipeline --test wire`.

use std::path::{Path, PathBuf};

use exportgate_core::{DataDigests, Decision, DecisionInputs, ListInput, Order, Ruleset};
use exportgate_lists::source::ScreeningSource;
use exportgate_pipeline::{wire, CheckRun, Parsed, Pipeline};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// Compares `actual` with the snapshot `name` byte for byte, or writes it with `BLESS=1`.
fn assert_snapshot(name: &str, actual: &str) {
    let path = snapshot_dir().join(name);
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(snapshot_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (write it with BLESS=1 cargo test -p exportgate-pipeline --test wire)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the wire format, first at line {}:\n  snapshot: {:?}\n  now:      {:?}\n\
             (a deliberate change: BLESS=1 cargo test -p exportgate-pipeline --test wire, and review the diff)",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

/// The order of the corpus case `name` in `tests/corpus/decisions/<file>`.
fn corpus_order(file: &str, name: &str) -> Order {
    let path = root().join("tests/corpus/decisions").join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name} in {}", path.display()));
    Order::from_json(&case["order"].to_string()).unwrap()
}

/// The pipeline's decision for `order` (parties screened by the caller), with fixed `inputs`
/// so the snapshot does not change whenever a data file or the engine version does (the
/// field's shape is still in it).
fn decide(order: Order) -> Decision {
    let rs = Ruleset::embedded().unwrap();
    let source = ScreeningSource::open(&[], None, true, order.date).unwrap();
    let pipeline = Pipeline::new(&rs, &[], &source).unwrap();
    let lines: Vec<Parsed> = vec![(1, Ok(order))];
    let mut d = pipeline
        .check_lines(&lines, &mut CheckRun::new(), None)
        .unwrap()
        .pop()
        .unwrap()
        .unwrap();
    assert!(d.inputs.is_some(), "the pipeline sets a decision's inputs");
    let data = DataDigests {
        regimes: "regimes-digest".into(),
        countries: "countries-digest".into(),
        catalog: "catalog-digest".into(),
        screening: "screening-digest".into(),
        end_use_tags: "end-use-tags-digest".into(),
        due_diligence: "due-diligence-digest".into(),
    };
    let list = ListInput {
        source: "csl".into(),
        version: 3,
        data_date: Some("2026-07-31".parse().unwrap()),
        entries: 12,
        sha256: "list-digest".into(),
    };
    let mut inputs = (*DecisionInputs::new(&data, vec![list])).clone();
    inputs.engine = "engine-version".into();
    d.inputs = Some(std::sync::Arc::new(inputs));
    d
}

/// The pretty JSON of a decision, as the snapshot holds it; the compact forms the doors write
/// (`to_writer`, `to_string`) and `to_value` say the same.
fn pretty(d: &Decision) -> String {
    let text = serde_json::to_string_pretty(&wire::json(d)).unwrap() + "\n";
    let mut compact = Vec::new();
    wire::to_writer(&mut compact, d).unwrap();
    assert_eq!(
        String::from_utf8(compact).unwrap(),
        wire::to_string(d).unwrap()
    );
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, wire::to_value(d).unwrap());
    text
}

#[test]
fn the_decision_schema_is_the_committed_one() {
    // As `exportgate schema decision` prints it, byte for byte.
    let value = serde_json::to_value(wire::root_schema()).unwrap();
    let schema = serde_json::to_string_pretty(&value).unwrap() + "\n";
    assert_snapshot("decision.schema.json", &schema);
}

#[test]
fn a_licence_required_decision_is_written_as_committed() {
    let d = decide(corpus_order("acs-2023.json", "h800-china-2023-11-17"));
    assert_eq!(d.outcome.as_str(), "license_required");
    let text = pretty(&d);
    // Internal fields never reach the wire.
    for internal in [
        "trace",
        "allocation",
        "quota_checked",
        "rules_evaluated",
        "classification",
    ] {
        assert!(!text.contains(&format!("\"{internal}\"")), "{internal}");
    }
    assert_snapshot("decision-license-required.json", &text);
}

#[test]
fn a_decision_held_for_due_diligence_is_written_as_committed() {
    let d = decide(corpus_order(
        "due-diligence.json",
        "h100-malaysia-distributor-without-record-holds",
    ));
    assert_eq!(d.outcome.as_str(), "hold_for_review");
    assert!(d.due_diligence.is_some() && !d.red_flags.is_empty());
    assert_snapshot("decision-kyc-hold.json", &pretty(&d));
}

#[test]
fn fields_left_out_when_empty_are_absent_not_null() {
    let mut d = decide(corpus_order("acs-2023.json", "h800-china-2023-11-17"));
    d.inputs = None;
    d.chip = None;
    d.forced_regimes.clear();
    d.red_flags.clear();
    d.due_diligence = None;
    d.licence = None;
    let v = wire::to_value(&d).unwrap();
    for absent in [
        "inputs",
        "chip",
        "forced_regimes",
        "red_flags",
        "due_diligence",
        "licence",
    ] {
        assert!(v.get(absent).is_none(), "{absent} written: {v}");
    }
    // Fields that are always written, null when unset.
    d.exception = None;
    let v = wire::to_value(&d).unwrap();
    assert_eq!(v["exception"], Value::Null);
    assert!(v["tpp_total"].is_number() || v["tpp_total"].is_null());
}
