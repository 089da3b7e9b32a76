//! The JSON Schemas `exportgate schema KIND` prints describe the files people write: every
//! line of `examples/orders.jsonl` and every corpus input validates against `schema order`,
//! the example licence and scenarios and spec against theirs, and decisions `check` writes
//! against `schema decision`. A field added to a type and not to a file (or the reverse) fails
//! here. The OpenAPI document carries the same order and decision schemas.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema(kind: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_exportgate"))
        .args(["schema", kind])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn validate_all(kind: &str, docs: &[(String, Value)]) {
    let schema = schema(kind);
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    assert!(!docs.is_empty());
    for (name, doc) in docs {
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{kind}: {name} does not validate: {errors:?}"
        );
    }
}

fn jsonl(path: &Path) -> Vec<(String, Value)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            (
                format!("{}:{}", path.display(), i + 1),
                serde_json::from_str(l).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_example_and_corpus_order_validates_against_the_order_schema() {
    let mut docs = jsonl(&root().join("examples/orders.jsonl"));
    docs.extend(jsonl(&root().join("examples/ship.jsonl")));
    docs.extend(jsonl(&root().join("examples/kyc-orders.jsonl")));
    docs.extend(jsonl(&root().join("examples/h200-ship.jsonl")));
    let order: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/order.json")).unwrap())
            .unwrap();
    docs.push(("examples/order.json".into(), order));
    for entry in std::fs::read_dir(root().join("tests/corpus/decisions")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in file["cases"].as_array().unwrap() {
            let name = format!("{} / {}", path.display(), case["name"]);
            if let Some(o) = case.get("order") {
                docs.push((name.clone(), o.clone()));
            }
            for o in case["orders"].as_array().into_iter().flatten() {
                docs.push((name.clone(), o.clone()));
            }
        }
    }
    assert!(docs.len() > 300, "{} orders", docs.len());
    validate_all("order", &docs);
}

#[test]
fn decisions_licences_scenarios_and_specs_validate_against_theirs() {
    let out = Command::new(env!("CARGO_BIN_EXE_exportgate"))
        .arg("check")
        .arg(root().join("examples/orders.jsonl"))
        .arg("--screened-externally")
        .output()
        .unwrap();
    let decisions: Vec<(String, Value)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("error").is_none())
        .map(|v| (v["id"].to_string(), v))
        .collect();
    validate_all("decision", &decisions);
    let read = |p: &str| -> (String, Value) {
        let text = std::fs::read_to_string(root().join(p)).unwrap();
        (p.to_string(), serde_json::from_str(&text).unwrap())
    };
    validate_all(
        "licence",
        &[
            read("examples/licence.json"),
            read("examples/h200-licence.json"),
        ],
    );
    validate_all("spec", &[read("examples/my-chip.json")]);
    validate_all("veu", &[read("examples/veu.json")]);
    // A VEU kind the types do not have fails the schema, as it fails the parser.
    let mut global = read("examples/veu.json");
    global.1["kind"] = Value::from("global");
    assert!(!jsonschema::validator_for(&schema("veu"))
        .unwrap()
        .is_valid(&global.1));
    let scenarios: Vec<(String, Value)> = std::fs::read_dir(root().join("examples/scenarios"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let rel = p
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            read(&rel)
        })
        .collect();
    validate_all("scenario", &scenarios);
    // A file with a field the types do not have fails the schema, as it fails the parser.
    let mut bad = read("examples/licence.json");
    bad.1["colour"] = Value::from("red");
    let validator = jsonschema::validator_for(&schema("licence")).unwrap();
    assert!(!validator.is_valid(&bad.1));
    // A bare string among the conditions is free text to the parser, and to the schema.
    let mut text = read("examples/licence.json");
    text.1["conditions"] =
        serde_json::json!(["Report shipments quarterly", {"type": "text", "text": "No re-export"}]);
    assert!(
        validator.is_valid(&text.1),
        "{:?}",
        validator.validate(&text.1).err()
    );
    let mut typo = read("examples/licence.json");
    typo.1["conditions"] = serde_json::json!([{"type": "royalty", "value": 5}]);
    assert!(!validator.is_valid(&typo.1));
}

/// The OpenAPI document carries the same order and decision schemas (`OrderLine`,
/// `DecisionRecord`), their types beside them, and every reference in it resolves.
#[test]
fn the_openapi_document_references_the_same_schemas() {
    let doc = exportgate_server::openapi::document();
    let schemas = &doc["components"]["schemas"];
    let mut order = schema("order");
    let defs = order.as_object_mut().unwrap().remove("$defs").unwrap();
    order.as_object_mut().unwrap().remove("$schema");
    let text = order
        .to_string()
        .replace("#/$defs/", "#/components/schemas/");
    assert_eq!(
        schemas["OrderLine"],
        serde_json::from_str::<Value>(&text).unwrap()
    );
    for name in defs.as_object().unwrap().keys() {
        assert!(
            schemas.get(name).is_some(),
            "{name} missing from components"
        );
    }
    assert!(schemas["DecisionRecord"]["properties"]["outcome"].is_object());
    let all = doc.to_string();
    for r in all.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(schemas.get(name).is_some(), "dangling reference to {name}");
    }
}
