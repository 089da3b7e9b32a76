//! The `simulate` command: JSON contract, HTML and table output, and bad scenarios rejected
//! with exit code 2 before anything runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn exportgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exportgate"))
        .args(args)
        // Hermetic: never read a developer's own database.
        .env(
            "EXPORTGATE_DB",
            std::env::temp_dir().join("exportgate-simulate-tests-no-such.sqlite"),
        )
        .output()
        .unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("simulate-{name}"));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn book(d: &Path, n: usize) -> String {
    let p = d.join("book.jsonl");
    let o = exportgate(&[
        "sample-orders",
        &n.to_string(),
        "--seed",
        "5",
        "--out",
        p.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    p.to_str().unwrap().to_string()
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn json_has_by_outcome_counts_and_flips() {
    let d = dir("json");
    let b = book(&d, 2_000);
    let o = exportgate(&[
        "simulate",
        &b,
        "--scenario",
        "current",
        "--scenario",
        "ai-diffusion-2025",
        "--scenario",
        &example("ai-diffusion-lpp-halved.json"),
        "--screened-externally",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let scenarios = v["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["current", "ai-diffusion-2025", "ai-diffusion-lpp-halved"]
    );
    for s in scenarios {
        let by = s["by_outcome"].as_object().unwrap();
        assert_eq!(by.len(), 5);
        let total: u64 = by.values().map(|x| x["orders"].as_u64().unwrap()).sum();
        assert_eq!(total, 2_000);
        for k in ["units", "tpp", "value_usd"] {
            assert!(by["no_license_required"][k].is_number(), "{k}");
        }
        for k in ["by_destination", "by_tier", "by_chip"] {
            assert!(!s[k].as_object().unwrap().is_empty(), "{k}");
        }
    }
    let flips = v["flips"].as_array().unwrap();
    assert!(!flips.is_empty());
    for f in flips {
        assert!(f["id"].is_string());
        assert_eq!(f["outcomes"].as_object().unwrap().len(), 3);
        assert!(!f["rules"].as_array().unwrap().is_empty(), "{f}");
    }
    assert!(flips.iter().any(|f| f["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "ai-diffusion-2025.worldwide")));
}

#[test]
fn html_and_table_outputs() {
    let d = dir("html");
    let b = book(&d, 600);
    let out = d.join("report.html");
    let o = exportgate(&[
        "simulate",
        &b,
        "--screened-externally",
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("<svg") && html.contains("ai-diffusion-2025"));
    let o = exportgate(&["simulate", &b, "--screened-externally"]);
    assert!(o.status.success());
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("ORDERS BY OUTCOME"), "{table}");
    assert!(table.contains("FLIPS against `current`"), "{table}");
}

#[test]
fn a_bad_scenario_exits_2_naming_the_field_before_anything_runs() {
    let d = dir("bad");
    let bad = d.join("negative.json");
    std::fs::write(
        &bad,
        r#"{"name": "neg", "force": ["ai-diffusion-2025"], "patches": {"ai-diffusion-2025": {"rules": {"ai-diffusion-2025.worldwide": {"effect": {"exceptions": {"LPP": {"tpp_per_consignee_year": -5}}}}}}}}"#,
    )
    .unwrap();
    let out = d.join("report.json");
    // The orders file does not even exist: the scenario is rejected first.
    let o = exportgate(&[
        "simulate",
        d.join("no-such-book.jsonl").to_str().unwrap(),
        "--scenario",
        "current",
        "--scenario",
        bad.to_str().unwrap(),
        "--screened-externally",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("scenario `neg`"), "{err}");
    assert!(err.contains("tpp_per_consignee_year"), "{err}");
    assert!(err.contains("must not be negative"), "{err}");
    assert!(!out.exists());

    let o = exportgate(&["simulate", "x.jsonl", "--scenario", "ai-diffusion-2024"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a built-in scenario"));

    let o = exportgate(&[
        "simulate",
        "x.jsonl",
        "--scenario",
        "current",
        "--scenario",
        "current",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already given"));
}

/// `simulate --policy FILE` decides every scenario under that due-diligence policy, as
/// `check --policy` does: H100 orders to the United Kingdom (Country Group A:5) with no
/// due-diligence facts are reported only under the embedded policy, and held for review
/// ("due diligence incomplete") under a stricter one that holds everywhere; a bad policy file
/// is refused with exit code 2 before the book is read.
#[test]
fn a_stricter_due_diligence_policy_holds_orders_in_the_simulation() {
    let d = dir("policy");
    let book = d.join("gb.jsonl");
    let lines: Vec<String> = (0..10)
        .map(|i| {
            serde_json::json!({"id": format!("gb-{i}"), "date": "2026-03-02",
                "item": {"chip": "nvidia-h100-sxm"}, "quantity": 8, "destination": "GB",
                "exporter": {"name": "Acme Systems", "country": "US"},
                "consignee": {"name": format!("Albion Compute {i} Ltd"), "country": "GB",
                    "headquarters": "GB", "parent_headquarters": "GB"}})
            .to_string()
        })
        .collect();
    std::fs::write(&book, lines.join("\n") + "\n").unwrap();
    let strict = d.join("strict.json");
    std::fs::write(
        &strict,
        r#"{"summary": "hold everywhere", "hold": [{"id": "strict.everywhere",
            "title": "any 3A090.a item anywhere", "citation": "test policy",
            "when": {"items": {"eccns": ["3A090.a"]}, "destination": {"all": true}}}]}"#,
    )
    .unwrap();
    let held = |extra: &[&str]| -> (u64, u64) {
        let mut args = vec![
            "simulate",
            book.to_str().unwrap(),
            "--scenario",
            "current",
            "--screened-externally",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let o = exportgate(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let by = &v["scenarios"][0]["by_outcome"];
        (
            by["hold_for_review"]["orders"].as_u64().unwrap(),
            by["no_license_required"]["orders"].as_u64().unwrap(),
        )
    };
    assert_eq!(
        held(&[]),
        (0, 10),
        "reported only under the embedded policy"
    );
    assert_eq!(
        held(&["--policy", strict.to_str().unwrap()]),
        (10, 0),
        "held under the stricter policy"
    );

    let bad = d.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"hold": [{"id": "x", "title": "t", "citation": "c",
            "when": {"destination": {"groups": ["Z:9"]}}}]}"#,
    )
    .unwrap();
    let o = exportgate(&[
        "simulate",
        "/no/such/book.jsonl",
        "--policy",
        bad.to_str().unwrap(),
        "--screened-externally",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown country group `Z:9`"), "{err}");
}

/// Issue 21 item 3: `simulate --veu FILE` says, under `ai-diffusion-2025`, which orders that
/// need a licence only because of the Tier 2 requirement each VEU could absorb in book order
/// within its 7 % per Tier 2 country, with its headroom; a bad VEU file exits 2 naming the entry.
#[test]
fn veus_absorb_tier_2_orders_within_their_shares() {
    let d = dir("veu");
    let known = r#""due_diligence":{"customer_since":"2019-03-01","prior_orders":12,"business_history_years":9,"online_presence":"established","business_need_shown":true,"delivery_address_type":"commercial","delivery_address_consistent":true,"intermediary":"none","normal_distribution":true}"#;
    // Eight orders of 2,000 H100s (31,662,400 TPP each) to India: past LPP, a licence each.
    let book: String = (0..8)
        .map(|i| {
            format!(
                r#"{{"id":"in-{i}","date":"2025-08-01","item":{{"chip":"nvidia-h100-sxm"}},"quantity":2000,"destination":"IN","consignee":{{"name":"Cloud India","country":"IN","headquarters":"IE","parent_headquarters":"IE"}},{known}}}"#
            ) + "\n"
        })
        .collect();
    let b = d.join("veu-book.jsonl");
    std::fs::write(&b, book).unwrap();
    let veus = d.join("veus.json");
    std::fs::write(
        &veus,
        r#"[{"veu":{"id":"u1","kind":"universal","holder":{"name":"One","headquarters":"IE"}},"compute":{"DE":1000000000}},
            {"veu":{"id":"u2","kind":"universal","holder":{"name":"Two","headquarters":"IE"}},"compute":{"DE":2000000000}}]"#,
    )
    .unwrap();
    let o = exportgate(&[
        "simulate",
        b.to_str().unwrap(),
        "--screened-externally",
        "--veu",
        veus.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let diffusion = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ai-diffusion-2025")
        .unwrap();
    let v = &diffusion["veu"];
    assert_eq!(v["eligible_orders"], 8);
    // u1 takes two (7% of 1,063,324,800 ≥ 63,324,800), u2 the next four, two are left.
    assert_eq!(v["absorbed_orders"], 6);
    assert_eq!(v["not_absorbed_orders"], 2);
    assert_eq!(
        v["veus"][0]["order_ids"],
        serde_json::json!(["in-0", "in-1"])
    );
    assert_eq!(
        v["veus"][1]["order_ids"],
        serde_json::json!(["in-2", "in-3", "in-4", "in-5"])
    );
    assert_eq!(v["veus"][0]["countries"]["IN"]["tpp"], 63_324_800);
    let room = v["veus"][0]["countries"]["IN"]["headroom_tpp"]
        .as_u64()
        .unwrap();
    assert!(room < 31_662_400, "{room}");
    // `current` binds no Tier 2 requirement: nothing to absorb.
    let current = &r["scenarios"][0]["veu"];
    assert_eq!(current["eligible_orders"], 0);
    let o = exportgate(&[
        "simulate",
        b.to_str().unwrap(),
        "--screened-externally",
        "--veu",
        veus.to_str().unwrap(),
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("VEU ABSORPTION — ai-diffusion-2025 (8 orders"),
        "{table}"
    );
    assert!(table.contains("orders: in-2, in-3, in-4, in-5"), "{table}");
    std::fs::write(
        &veus,
        r#"[{"veu":{"id":"u1","kind":"universal","holder":{"name":"One","headquarters":"ZZ"}}}]"#,
    )
    .unwrap();
    let o = exportgate(&[
        "simulate",
        b.to_str().unwrap(),
        "--veu",
        veus.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[0].veu.`holder.headquarters`"));
}

/// Issue 21 item 4: `simulate` with a database applies volume caps.
mod volume_caps {
    use super::*;

    const KNOWN_CUSTOMER: &str = r#""due_diligence":{"customer_since":"2019-03-01","prior_orders":12,"business_history_years":9,"online_presence":"established","business_need_shown":true,"delivery_address_type":"commercial","delivery_address_consistent":true,"intermediary":"none","normal_distribution":true}"#;

    /// 91 FR 1684's volume cap on an H200 licence for China: China-bound shipments at most
    /// 50% of those to US end users. Its unit limit is far above the cap.
    const H200_LICENCE: &str = r#"{"number": "H200-CN-1", "holder": "Acme Systems", "items": ["nvidia-h200"], "destinations": ["CN"],
 "consignees": ["Customer CN"], "units": 1000000, "valid_from": "2026-01-15", "valid_to": "2027-12-31",
 "conditions": [{"type": "volume_cap_percent", "value": 50}]}"#;

    fn h200_order(id: &str, destination: &str, quantity: u64) -> String {
        format!(
            r#"{{"id":"{id}","date":"2026-03-02","item":{{"chip":"nvidia-h200"}},"quantity":{quantity},"destination":"{destination}","exporter":{{"name":"Acme Systems","country":"US"}},"consignee":{{"name":"Customer {destination}","country":"{destination}","headquarters":"{destination}","parent_headquarters":"{destination}"}},"value_usd":{},{KNOWN_CUSTOMER}}}"#,
            30_000 * quantity
        ) + "\n"
    }

    fn ok(o: Output) -> Output {
        assert!(
            o.status.success(),
            "exit {:?}\nstdout: {}\nstderr: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    /// `flows list`: the nvidia-h200 (US-bound, capped) units.
    fn h200_flow(db: &str) -> (u64, u64) {
        let o = ok(exportgate(&[
            "flows", "list", "--db", db, "--format", "json",
        ]));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let f = v
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["product"] == "nvidia-h200")
            .expect("an nvidia-h200 flow")
            .clone();
        (
            f["us_units"].as_u64().unwrap(),
            f["capped_units"].as_u64().unwrap(),
        )
    }

    /// A database with the capped licence, 10,000 H200s recorded to US end users and 100
    /// already shipped to China under the licence; a book of 1,000-unit China orders with a
    /// 2,000-unit US order in the middle.
    fn setup(d: &Path) -> (String, String) {
        let db = d.join("caps.sqlite");
        std::fs::remove_file(&db).ok();
        let db = format!("sqlite://{}", db.display());
        let licence = d.join("licence.json");
        std::fs::write(&licence, H200_LICENCE).unwrap();
        ok(exportgate(&[
            "licences",
            "add",
            licence.to_str().unwrap(),
            "--db",
            &db,
        ]));
        ok(exportgate(&[
            "flows",
            "add",
            "--product",
            "nvidia-h200",
            "--units",
            "10000",
            "--date",
            "2026-02-01",
            "--reference",
            "bol-1",
            "--db",
            &db,
        ]));
        let pre = d.join("pre.jsonl");
        std::fs::write(&pre, h200_order("pre-1", "CN", 100)).unwrap();
        let o = ok(exportgate(&[
            "ship",
            pre.to_str().unwrap(),
            "--db",
            &db,
            "--screened-externally",
        ]));
        assert!(String::from_utf8_lossy(&o.stdout).contains("\"licensed\""));
        assert_eq!(h200_flow(&db), (10_000, 100));
        let mut book = String::new();
        for i in 1..=5 {
            book += &h200_order(&format!("cn-{i}"), "CN", 1_000);
        }
        book += &h200_order("us-1", "US", 2_000);
        book += &h200_order("cn-6", "CN", 1_000);
        book += &h200_order("cn-7", "CN", 1_000);
        let path = d.join("caps-book.jsonl");
        std::fs::write(&path, book).unwrap();
        (db, path.to_str().unwrap().to_owned())
    }

    /// China orders pass the cap part-way: 100 recorded + 4 × 1,000 fit 50% of 10,000; the
    /// fifth would make 5,100; the US order then raises the flow to 12,000, so the sixth fits
    /// and the seventh would make 6,100. Nothing is written to the database.
    #[test]
    fn capped_draws_are_counted_against_the_recorded_and_the_books_us_flow() {
        let d = dir("volume-caps");
        let (db, book) = setup(&d);
        let o = ok(exportgate(&[
            "simulate",
            &book,
            "--scenario",
            "current",
            "--db",
            &db,
            "--screened-externally",
            "--format",
            "json",
        ]));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let c = &v["scenarios"][0]["volume_caps"];
        assert_eq!(c["applied"], true, "{c}");
        assert_eq!(c["capped_orders"], 7);
        assert_eq!(c["drawn_orders"], 5);
        assert_eq!(c["refused_orders"], 2);
        assert_eq!(c["uncapped_orders"], 0);
        assert_eq!(
            c["products"],
            serde_json::json!([{"product": "nvidia-h200", "us_units_recorded": 10000,
                "us_units_book": 2000, "capped_units_recorded": 100, "capped_units_book": 5000}])
        );
        let refused: Vec<(String, String)> = c["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_owned(),
                    r["refusals"][0]["refusal"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            refused,
            [
                (
                    "cn-5".to_owned(),
                    "exceeds_limit: China-bound 5,100 would pass 50% of US-bound 10,000".to_owned()
                ),
                (
                    "cn-7".to_owned(),
                    "exceeds_limit: China-bound 6,100 would pass 50% of US-bound 12,000".to_owned()
                ),
            ]
        );
        assert_eq!(c["refused"][0]["refusals"][0]["licence"], "H200-CN-1");
        // Read, never written.
        assert_eq!(h200_flow(&db), (10_000, 100));

        let o = ok(exportgate(&[
            "simulate",
            &book,
            "--scenario",
            "current",
            "--db",
            &db,
            "--screened-externally",
        ]));
        let table = String::from_utf8_lossy(&o.stdout);
        assert!(
            table.contains("VOLUME CAPS — current (7 orders under a capped licence: 5 within the cap, 0 left to an uncapped licence, 2 refused for the cap)"),
            "{table}"
        );
        assert!(
            table.contains("cn-5 (CN): licence H200-CN-1: exceeds_limit: China-bound 5,100 would pass 50% of US-bound 10,000"),
            "{table}"
        );
        let o = ok(exportgate(&[
            "simulate",
            &book,
            "--scenario",
            "current",
            "--db",
            &db,
            "--screened-externally",
            "--format",
            "html",
        ]));
        let html = String::from_utf8_lossy(&o.stdout);
        assert!(
            html.contains("<td class=\"l\">cn-7</td><td class=\"l\">CN</td><td class=\"l\">H200-CN-1</td><td class=\"l\">exceeds_limit: China-bound 6,100 would pass 50% of US-bound 12,000</td>"),
            "{html}"
        );
    }

    /// Without a database the report says the caps were not applied, in JSON and the table.
    #[test]
    fn without_a_database_the_report_says_caps_were_not_applied() {
        let d = dir("volume-caps-no-db");
        let (_, book) = setup(&d);
        let o = ok(exportgate(&[
            "simulate",
            &book,
            "--scenario",
            "current",
            "--screened-externally",
            "--format",
            "json",
        ]));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let c = &v["scenarios"][0]["volume_caps"];
        assert_eq!(c["applied"], false, "{c}");
        assert!(
            c["note"].as_str().unwrap().starts_with("no database"),
            "{c}"
        );
        assert_eq!(c["refused_orders"], 0);
        let o = ok(exportgate(&[
            "simulate",
            &book,
            "--scenario",
            "current",
            "--screened-externally",
        ]));
        let table = String::from_utf8_lossy(&o.stdout);
        assert!(
            table.contains("VOLUME CAPS — current: not applied (no database"),
            "{table}"
        );
        let o = ok(exportgate(&[
            "simulate",
            &book,
            "--scenario",
            "current",
            "--screened-externally",
            "--format",
            "html",
        ]));
        let html = String::from_utf8_lossy(&o.stdout);
        assert!(
            html.contains(
                "<h3>Volume caps — current</h3><p class=\"note\">Not applied: no database"
            ),
            "{html}"
        );
    }
}
