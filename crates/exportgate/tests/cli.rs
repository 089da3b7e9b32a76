//! The command-line contract: JSON fields, exit codes and error messages on bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_exportgate"))
        .args(args)
        // Hermetic: never read a developer's own database.
        .env(
            "EXPORTGATE_DB",
            std::env::temp_dir().join("exportgate-cli-tests-no-such.sqlite"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn csl() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/lists/csl_2026-07-31/screening-list.json"
    )
    .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn classify_json_has_the_contract_fields() {
    let o = run(
        &[
            "classify",
            "--chip",
            "nvidia-h100-sxm",
            "--as-of",
            "2025-06-01",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["eccn"], "3A090.a");
    assert_eq!(v["paragraph"], "3A090.a.1");
    assert_eq!(v["tpp"], 15831.2);
    assert!(v["performance_density"].as_f64().unwrap() > 19.0);
    assert_eq!(v["flags"]["nac_aca_eligible"], false);
    assert!(v["reasons"][0]["citation"]
        .as_str()
        .unwrap()
        .contains("88 FR 73458"));
}

#[test]
fn classify_text_explains_the_numbers() {
    let o = run(
        &["classify", "--chip", "nvidia-l40", "--as-of", "2025-06-01"],
        None,
    );
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("3A090.b"), "{out}");
    assert!(
        out.contains("2896.8") && out.contains("4.764") && out.contains("88 FR 73458"),
        "{out}"
    );
}

#[test]
fn classify_spec_from_stdin() {
    let spec = r#"{"name": "example", "kind": "ic", "datacenter": true, "designer_country": "US",
      "dense_tops": {"fp64": 67, "tf32": 494.7, "fp16": 989.5, "bf16": 989.5, "fp8": 1979, "int8": 1979},
      "die_area_mm2": 814, "non_planar": true, "process_nm": 4, "transistors_billion": 80,
      "memory_bandwidth_gbs": 3350, "interconnect_gbs": 900}"#;
    let o = run(
        &[
            "classify",
            "--spec",
            "-",
            "--format",
            "json",
            "--as-of",
            "2026-01-01",
        ],
        Some(spec),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["eccn"], "3A090.a");
    assert_eq!(v["tpp"], 15832.0);
}

#[test]
fn unknown_chip_suggests_the_nearest_ids() {
    let o = run(&["classify", "--chip", "nvidia-h100"], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("unknown chip id `nvidia-h100`") && e.contains("nvidia-h100-sxm"),
        "{e}"
    );
}

#[test]
fn bad_specs_name_the_field_and_exit_2() {
    let cases = [
        (
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp8":-1}}"#,
            "dense_tops.fp8",
        ),
        (
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp12":1}}"#,
            "fp12",
        ),
        (
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp8":1},"colour":"red"}"#,
            "colour",
        ),
        (
            r#"{"name":"x","kind":"ic","dense_tops":{"fp8":1}}"#,
            "datacenter",
        ),
        (
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp8":1e999}}"#,
            "dense_tops",
        ),
        (
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp8":NaN}}"#,
            "not valid JSON",
        ),
        (
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp8":1},"die_area_mm2":0}"#,
            "die_area_mm2",
        ),
        (
            r#"{"name":"x","kind":"hbm","hbm_bandwidth_gbs":1}"#,
            "package_area_mm2",
        ),
        (
            r#"{"name":"x","kind":"computer","ics":[{"chip":"nvidia-h1000","count":8}]}"#,
            "nvidia-h1000",
        ),
        (
            r#"{"name":"x","kind":"ic","datacenter":true,"dense_tops":{"fp8":1}"#,
            "not valid JSON",
        ),
        ("", "not valid JSON"),
    ];
    for (spec, field) in cases {
        let o = run(&["classify", "--spec", "-"], Some(spec));
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{spec}: {e}");
        assert!(e.contains(field), "{spec}: expected `{field}` in {e}");
        assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
        assert!(!e.contains("panicked"), "{e}");
    }
}

#[test]
fn check_reports_bad_lines_and_keeps_going() {
    let orders = [
        // A known customer's facts: without them the due-diligence policy holds it (issue 16).
        r#"{"id":"ok","date":"2025-06-01","item":{"chip":"nvidia-h100-sxm"},"quantity":8,"destination":"CN","consignee":{"name":"X","country":"CN","headquarters":"CN","parent_headquarters":"CN"},"due_diligence":{"business_need_shown":true,"delivery_address_type":"commercial","delivery_address_consistent":true,"intermediary":"none","normal_distribution":true}}"#,
        r#"{"id":"bad-date","date":"2025-02-30","item":{"chip":"nvidia-h100-sxm"},"quantity":8,"destination":"CN","consignee":{"name":"X"}}"#,
        r#"{"id":"bad-country","date":"2025-06-01","item":{"chip":"nvidia-h100-sxm"},"quantity":8,"destination":"Narnia","consignee":{"name":"X"}}"#,
        r#"{"id":"bad-chip","date":"2025-06-01","item":{"chip":"h100"},"quantity":8,"destination":"CN","consignee":{"name":"X"}}"#,
        r#"{"id":"no-consignee","date":"2025-06-01","item":{"chip":"nvidia-h100-sxm"},"quantity":8,"destination":"CN"}"#,
        "{not json",
    ];
    let o = run(&["check", "-"], Some(&orders.join("\n")));
    assert_eq!(o.status.code(), Some(2));
    let lines: Vec<Value> = String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "one record per input line");
    assert_eq!(lines[0]["outcome"], "license_required");
    let expect = [
        (2, "date"),
        (3, "destination"),
        (4, "item.chip"),
        (5, "consignee"),
        (6, "line"),
    ];
    for (i, (line, field)) in expect.iter().enumerate() {
        let rec = &lines[i + 1];
        assert_eq!(rec["line"], *line);
        assert!(
            rec["error"]["field"].as_str().unwrap().contains(field),
            "{rec}"
        );
    }
    assert!(stderr(&o).contains("errors 5"), "{}", stderr(&o));
}

#[test]
fn check_accepts_csv_with_flattened_fields() {
    let csv = "id,date,item.chip,quantity,destination,consignee.name,consignee.country,consignee.headquarters,consignee.parent_headquarters,end_use.tags\n\
               c1,2024-05-01,nvidia-l40,4,VN,Hanoi AI JSC,VN,VN,VN,inference\n\
               c2,2024-05-01,nvidia-h100-sxm,4,IL,TLV AI Ltd,IL,IL,IL,\n";
    let dir = std::env::temp_dir().join(format!("exportgate-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("orders.csv");
    std::fs::write(&path, csv).unwrap();
    let o = run(
        &[
            "check",
            path.to_str().unwrap(),
            "--format",
            "csv",
            "--lists",
            &csl(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.starts_with("id,date,outcome,exception,review_policy,eccn"),
        "{out}"
    );
    assert!(out.contains("c1,2024-05-01,license_exception,ACA"), "{out}");
    assert!(out.contains("c2,2024-05-01,no_license_required"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn check_out_writes_the_file() {
    let dir = std::env::temp_dir().join(format!("exportgate-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("decisions.jsonl");
    let order = r#"{"id":"o","date":"2024-05-01","item":{"chip":"nvidia-h100-sxm"},"quantity":1,"destination":"IL","consignee":{"name":"TLV AI Ltd","country":"IL","headquarters":"IL","parent_headquarters":"IL"}}"#;
    let o = run(
        &[
            "check",
            "-",
            "--out",
            out.to_str().unwrap(),
            "--lists",
            &csl(),
        ],
        Some(order),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("no_license_required"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_regime_is_a_usage_error() {
    let o = run(&["check", "-", "--regime", "ai-diffusion-2024"], Some(""));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ai-diffusion-2025"));
}

#[test]
fn regimes_show_their_state_on_a_date() {
    let o = run(
        &["regimes", "--as-of", "2025-06-01", "--format", "json"],
        None,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let state = |v: &Value, id: &str| {
        v["regimes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state(&v, "ai-diffusion-2025"), "not_enforced");
    assert_eq!(state(&v, "acs-2023"), "in_force");
    assert_eq!(state(&v, "acs-2022"), "superseded");
    assert_eq!(state(&v, "review-policy-2026"), "not_yet_in_force");
    let o = run(
        &[
            "regimes",
            "--as-of",
            "2025-06-01",
            "--format",
            "json",
            "--regime",
            "ai-diffusion-2025",
        ],
        None,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(state(&v, "ai-diffusion-2025"), "in_force");
    let o = run(
        &["regimes", "--as-of", "2025-12-01", "--format", "json"],
        None,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(state(&v, "affiliates-2025"), "suspended");
}

#[test]
fn explain_lists_every_rule_considered() {
    let order = r#"{"id":"x","date":"2025-06-01","item":{"chip":"nvidia-h100-sxm"},"quantity":8,"destination":"MY","consignee":{"name":"Kuala Compute","country":"MY","headquarters":"MY","parent_headquarters":"CN"}}"#;
    let o = run(&["explain", "-"], Some(order));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("acs-2023.headquarters") && out.contains("APPLIES"),
        "{out}"
    );
    assert!(
        out.contains("acs-2023.country-scope") && out.contains("does not apply"),
        "{out}"
    );
    assert!(
        out.contains("ai-diffusion-2025.worldwide") && out.contains("not enforced"),
        "{out}"
    );
}

#[test]
fn chips_lists_the_catalog() {
    let o = run(&["chips"], None);
    let out = String::from_utf8(o.stdout).unwrap();
    for id in [
        "nvidia-h100-sxm",
        "huawei-ascend-910c",
        "hbm3e",
        "nvidia-hgx-h100-8gpu",
    ] {
        assert!(out.contains(id), "{id}");
    }
}

#[test]
fn unscreened_parties_never_get_a_clean_decision() {
    let order = r#"{"id":"o","date":"2024-05-01","item":{"chip":"nvidia-h100-sxm"},"quantity":1,"destination":"IL","consignee":{"name":"TLV AI Ltd","country":"IL","headquarters":"IL","parent_headquarters":"IL"}}"#;
    let o = run(&["check", "-"], Some(order));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["outcome"], "hold_for_review");
    assert_eq!(v["screening"]["status"], "not_screened");
    assert!(v["reasons"].to_string().contains("screening.not-screened"));
    assert!(
        stderr(&o).contains("hint: run `exportgate lists import"),
        "{}",
        stderr(&o)
    );
    let o = run(&["check", "-", "--screened-externally"], Some(order));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["outcome"], "no_license_required");
    assert_eq!(v["screening"]["status"], "external");
}

#[test]
fn decisions_name_the_list_versions_screened_against() {
    let order = r#"{"id":"o","date":"2025-06-01","item":{"chip":"nvidia-l2"},"quantity":1,"destination":"CN","consignee":{"name":"Huawei Technologies Co., Ltd.","country":"CN","headquarters":"CN","parent_headquarters":"CN"}}"#;
    let o = run(&["check", "-", "--lists", &csl()], Some(order));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["outcome"], "license_required");
    assert_eq!(v["review_policy"], "presumption_of_denial");
    assert!(
        v["screening"]["lists"][0]
            .as_str()
            .unwrap()
            .contains("screening-list"),
        "{}",
        v["screening"]
    );
    let hit = v["screening"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["list"] == "EL")
        .unwrap();
    assert!(hit["citation"].as_str().unwrap().contains("FR"), "{hit}");
}

#[test]
fn allow_list_clears_a_false_positive_and_still_records_it() {
    let dir = std::env::temp_dir().join(format!("exportgate-allow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let order = r#"{"id":"o","date":"2025-06-01","item":{"chip":"nvidia-l2"},"quantity":1,"destination":"US","consignee":{"name":"KAL TEK LABS","country":"US","headquarters":"US","parent_headquarters":"US"}}"#;
    let allow = |expires: &str| {
        let path = dir.join(format!("allow-{expires}.json"));
        let text = format!(
            r#"{{"entries":[{{"party_name":"KAL TEK LABS","entry":"KAL TEK LABS","reviewer":"j.doe","reason":"a different company: other address and registration","expires":"{expires}"}}]}}"#
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let held = run(&["check", "-", "--lists", &csl()], Some(order));
    let v: Value = serde_json::from_slice(&held.stdout).unwrap();
    assert_eq!(v["outcome"], "hold_for_review", "{v}");
    let cleared = run(
        &[
            "check",
            "-",
            "--lists",
            &csl(),
            "--allow",
            allow("2030-12-31").to_str().unwrap(),
        ],
        Some(order),
    );
    let v: Value = serde_json::from_slice(&cleared.stdout).unwrap();
    assert_eq!(v["outcome"], "no_license_required", "{v}");
    assert!(
        v["reasons"].to_string().contains("screening.DPL.cleared"),
        "{v}"
    );
    assert!(v["screening"]["hits"][0]["cleared"]
        .as_str()
        .unwrap()
        .contains("j.doe"));
    let expired = run(
        &[
            "check",
            "-",
            "--lists",
            &csl(),
            "--allow",
            allow("2025-05-31").to_str().unwrap(),
        ],
        Some(order),
    );
    let v: Value = serde_json::from_slice(&expired.stdout).unwrap();
    assert_eq!(
        v["outcome"], "hold_for_review",
        "an expired clearance does not clear: {v}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn h100_order(id: &str) -> String {
    serde_json::json!({
        "id": id, "date": "2025-06-01", "item": {"chip": "nvidia-h100-sxm"}, "quantity": 1,
        "destination": "IL",
        "consignee": {"name": "TLV AI Ltd", "country": "IL", "headquarters": "IL", "parent_headquarters": "IL"}
    })
    .to_string()
}

#[test]
fn issue15_item9_csv_formula_injection_is_neutralised() {
    let ids = [
        "=HYPERLINK(\"http://x\")",
        "+1+2",
        "-3",
        "@SUM(A1)",
        "\tx",
        "\rx",
    ];
    let orders: Vec<String> = ids.iter().map(|id| h100_order(id)).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orders.jsonl");
    std::fs::write(&file, orders.join("\n") + "\n").unwrap();
    let db = dir.path().join("ledger.sqlite");
    let check = run(
        &[
            "check",
            file.to_str().unwrap(),
            "--format",
            "csv",
            "--screened-externally",
        ],
        None,
    );
    let ship = run(
        &[
            "ship",
            file.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--format",
            "csv",
            "--screened-externally",
        ],
        None,
    );
    for (door, o) in [("check", check), ("ship", ship)] {
        // Ids starting with a tab or CR are rejected (control characters, item 10): those lines
        // are error rows, exit 2, and their id cell is neutralised as well.
        assert_eq!(o.status.code(), Some(2), "{door}: {}", stderr(&o));
        assert!(stderr(&o).contains("errors 2"), "{door}: {}", stderr(&o));
        let mut rdr = csv::ReaderBuilder::new().from_reader(o.stdout.as_slice());
        let got: Vec<String> = rdr
            .records()
            .map(|r| r.unwrap().get(0).unwrap().to_string())
            .collect();
        let want: Vec<String> = ids.iter().map(|id| format!("'{id}")).collect();
        assert_eq!(got, want, "{door}");
        for r in csv::Reader::from_reader(o.stdout.as_slice()).records() {
            for cell in r.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{door}: {cell:?}"
                );
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn issue15_item11_cli_creates_databases_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().unwrap();
    let lists_db = tmp.path().join("a").join("lists.sqlite");
    let o = run(
        &[
            "lists",
            "import",
            "--db",
            lists_db.to_str().unwrap(),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/data/lists/bis_dpl/dpl_2022-09.txt"
            ),
            "--source",
            "bis-dpl",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let keys_db = tmp.path().join("b").join("c").join("server.sqlite");
    let o = run(
        &[
            "keys",
            "create",
            "--role",
            "admin",
            "--name",
            "ops",
            "--db",
            keys_db.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ledger_db = tmp.path().join("d").join("ledger.sqlite");
    let orders = tmp.path().join("orders.jsonl");
    std::fs::write(&orders, h100_order("o1") + "\n").unwrap();
    let o = run(
        &[
            "ship",
            orders.to_str().unwrap(),
            "--db",
            ledger_db.to_str().unwrap(),
            "--screened-externally",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for db in [&lists_db, &keys_db, &ledger_db] {
        assert_eq!(mode(db.parent().unwrap()), 0o700, "{}", db.display());
        assert_eq!(mode(db), 0o600, "{}", db.display());
        for ext in ["-wal", "-shm", "-journal"] {
            let side = std::path::PathBuf::from(format!("{}{ext}", db.display()));
            if side.exists() {
                assert_eq!(mode(&side), 0o600, "{}", side.display());
            }
        }
    }
    assert_eq!(mode(&tmp.path().join("b")), 0o700);
}

#[test]
fn issue15_item10_control_characters_in_ids_are_rejected_and_escaped() {
    let ids = [
        "clear\u{1b}[2J\u{1b}[H",
        "forged\nrow",
        "bell\u{7}",
        "c1\u{9b}2J",
    ];
    let orders: Vec<String> = ids.iter().map(|id| h100_order(id)).collect();
    let input = orders.join("\n") + "\n";
    // JSONL: each line is an error naming the field `id`.
    let o = run(&["check", "-", "--screened-externally"], Some(&input));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let lines: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), ids.len());
    for l in &lines {
        assert_eq!(l["error"]["field"], "id", "{l}");
        assert!(
            l["error"]["message"]
                .as_str()
                .unwrap()
                .contains("control character"),
            "{l}"
        );
    }
    // Table: no control character reaches the terminal; one row per order.
    let o = run(
        &["check", "-", "--screened-externally", "--format", "table"],
        Some(&input),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    assert_eq!(out.lines().count(), 1 + ids.len(), "{out}");
    assert!(out.contains("clear\\u{1b}[2J"), "{out}");
    assert!(out.contains("forged\\nrow"), "{out}");
}

#[test]
fn issue15_item1_lists_import_refuses_shrunken_or_older_lists_and_check_warns_when_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("lists.sqlite");
    let db_s = db.to_str().unwrap();
    let full = csl();
    let o = run(&["lists", "import", "--db", db_s, &full], None);
    assert!(o.status.success(), "{}", stderr(&o));

    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap();
    let mut cut = v.clone();
    cut["entries"].as_array_mut().unwrap().truncate(10);
    let cut_path = tmp.path().join("cut.json");
    std::fs::write(&cut_path, cut.to_string()).unwrap();
    v["sourceGeneratedAt"] = "2019-03-01T00:00:00+00:00".into();
    let old_path = tmp.path().join("old.json");
    std::fs::write(&old_path, v.to_string()).unwrap();

    let huawei = r#"{"id":"o","date":"2025-06-01","item":{"chip":"nvidia-l2"},"quantity":1,"destination":"CN","consignee":{"name":"Huawei Technologies Co., Ltd.","country":"CN","headquarters":"CN","parent_headquarters":"CN"}}"#;
    for (path, why) in [(&cut_path, "25921"), (&old_path, "older than 2026-07-31")] {
        let o = run(
            &["lists", "import", "--db", db_s, path.to_str().unwrap()],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("refusing to import") && err.contains(why),
            "{err}"
        );
        assert!(err.contains("--force"), "{err}");
        // The version in force is unchanged: Huawei still needs a licence, and the decision
        // names the list version it used.
        let o = run(&["check", "-", "--db", db_s], Some(huawei));
        let d: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(d["outcome"], "license_required", "{d}");
        let lists = d["screening"]["lists"].to_string();
        assert!(lists.contains("csl 2026-07-31 (25921 entries"), "{lists}");
        // `check` warns (only) that the lists are older than --max-list-age (default 7 days).
        let err = stderr(&o);
        assert!(
            err.contains("warning: the lists screened against are"),
            "{err}"
        );
        let o = run(
            &["check", "-", "--db", db_s, "--max-list-age", "36500"],
            Some(huawei),
        );
        assert!(!stderr(&o).contains("warning: the lists"), "{}", stderr(&o));
    }
    let o = run(
        &[
            "lists",
            "import",
            "--db",
            db_s,
            cut_path.to_str().unwrap(),
            "--force",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("10 entries"));
}

/// A reader that goes away (`exportgate regimes | head -1`) ends a listing quietly with the
/// shell's code for a broken pipe, never with a panic.
#[test]
fn listings_stop_quietly_when_the_reader_goes_away() {
    for args in [
        &["regimes"][..],
        &["tags"],
        &["regimes", "--format", "json"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_exportgate"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close our end before the command writes (it loads the rules first).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(141)),
            "{args:?}: exit {code:?}, stderr: {}",
            stderr(&out)
        );
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
