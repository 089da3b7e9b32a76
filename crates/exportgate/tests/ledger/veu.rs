//! Issue 21 item 3: Data Center VEU authorisations through the CLI — `veu add|compute|list|
//! show`, orders naming a VEU in `check` (read-only: the VEU and its headroom) and `ship`
//! (drawn on the VEU's compute under `--regime ai-diffusion-2025`), and four `ship` processes
//! at once never passing a UVEU's 25 % outside Tier 1 nor its 7 % in one Tier 2 country, on
//! SQLite and PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::Child;

use serde_json::Value;

use super::{decisions, ok, on_postgres, run, spawn, stderr, stdout, write, KNOWN_CUSTOMER};

/// TPP one H100 SXM counts (15,831.2 rounded up).
const H100_TPP: u64 = 15_832;

fn uveu(id: &str, hq: &str) -> String {
    format!(
        r#"{{"id":"{id}","kind":"universal","holder":{{"name":"Cloud {id}","headquarters":"{hq}"}}}}"#
    )
}

fn veu_add(db: &str, dir: &Path, json: &str) -> std::process::Output {
    let f = write(dir, "veu.json", json);
    run(&["veu", "add", f.to_str().unwrap(), "--db", db], None)
}

fn compute(db: &str, veu: &str, country: &str, tpp: u64) {
    ok(run(
        &[
            "veu",
            "compute",
            "--veu",
            veu,
            "--country",
            country,
            "--tpp",
            &tpp.to_string(),
            "--date",
            "2025-07-01",
            "--db",
            db,
        ],
        None,
    ));
}

/// One H100 SXM to `country` for `veu`'s local company, on 2025-08-01.
fn veu_order(id: &str, veu: &str, country: &str, quantity: u64) -> String {
    format!(
        r#"{{"id":"{id}","date":"2025-08-01","item":{{"chip":"nvidia-h100-sxm"}},"quantity":{quantity},"destination":"{country}","consignee":{{"name":"{veu} {country}","country":"{country}","headquarters":"IE","parent_headquarters":"IE"}},"veu":"{veu}",{KNOWN_CUSTOMER}}}"#
    )
}

fn show(db: &str, id: &str) -> Value {
    let o = ok(run(
        &[
            "veu",
            "show",
            id,
            "--date",
            "2025-08-01",
            "--format",
            "json",
            "--db",
            db,
        ],
        None,
    ));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn ship_diffusion(db: &str, file: &Path) -> Vec<Value> {
    decisions(&ok(run(
        &[
            "ship",
            file.to_str().unwrap(),
            "--db",
            db,
            "--screened-externally",
            "--regime",
            "ai-diffusion-2025",
        ],
        None,
    )))
}

fn on_veu(ds: &[Value], veu: &str) -> Vec<Value> {
    ds.iter()
        .filter(|d| d["id"].as_str().unwrap().contains(&format!("-{veu}-")))
        .cloned()
        .collect()
}

fn licensed(ds: &[Value]) -> usize {
    ds.iter().filter(|d| d["outcome"] == "licensed").count()
}

/// Four `ship` processes at once, each with 60 one-unit orders for UVEU `u1` spread over five
/// Tier 2 countries (10,000,000 TPP installed in Germany: the 25 % outside Tier 1 binds at 210
/// orders) and 30 for UVEU `u2` to India (20,000,000 TPP in Germany: 7 % binds at 95).
fn four_veu_shippers_at_once(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    for (id, tpp) in [("u1", 10_000_000), ("u2", 20_000_000)] {
        ok(veu_add(db, dir.path(), &uveu(id, "IE")));
        compute(db, id, "DE", tpp);
    }
    let countries = ["IN", "SA", "BR", "MX", "ID"];
    let files: Vec<PathBuf> = (0..4)
        .map(|p| {
            let mut text = String::new();
            for i in 0..60 {
                let c = countries[i % countries.len()];
                text += &(veu_order(&format!("p{p}-u1-{i}"), "u1", c, 1) + "\n");
            }
            for i in 0..30 {
                text += &(veu_order(&format!("p{p}-u2-{i}"), "u2", "IN", 1) + "\n");
            }
            write(dir.path(), &format!("p{p}.jsonl"), &text)
        })
        .collect();
    let children: Vec<Child> = files
        .iter()
        .map(|f| {
            spawn(
                &[
                    "ship",
                    f.to_str().unwrap(),
                    "--db",
                    db,
                    "--screened-externally",
                    "--regime",
                    "ai-diffusion-2025",
                ],
                None,
            )
        })
        .collect();
    let mut all = Vec::new();
    for child in children {
        let ds = decisions(&ok(child.wait_with_output().unwrap()));
        assert_eq!(ds.len(), 90);
        all.extend(ds);
    }
    let (u1, u2) = (on_veu(&all, "u1"), on_veu(&all, "u2"));
    assert_eq!(licensed(&u1), 210);
    assert_eq!(licensed(&u2), 95);
    // The refused orders fall back to License Exception LPP, naming the VEU's numbers.
    for (ds, text) in [
        (&u1, "exceeds_limit: compute outside Tier 1 3,340,552 TPP would pass 25% of `u1`'s total 13,340,552 TPP"),
        (&u2, "exceeds_limit: compute in India 1,519,872 TPP would pass 7% of `u2`'s total 21,519,872 TPP"),
    ] {
        for d in ds.iter().filter(|d| d["outcome"] != "licensed") {
            assert_eq!(d["exception"], "LPP", "{d}");
            assert!(d["reasons"].to_string().contains(text), "{}", d["reasons"]);
        }
        for d in ds.iter().filter(|d| d["outcome"] == "licensed") {
            assert!(d.get("licence").is_none());
            assert!(d["reasons"].to_string().contains("not counted against the country allocation"));
            assert!(!d["reasons"].to_string().contains("LE-LPP"));
        }
    }
    let s1 = show(db, "u1");
    assert_eq!(s1["total_tpp"], 10_000_000 + 210 * H100_TPP);
    assert_eq!(s1["outside_tier1_tpp"], 210 * H100_TPP);
    let s2 = show(db, "u2");
    let india = s2["countries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["country"] == "IN")
        .unwrap()
        .clone();
    assert_eq!(india["tpp"], 95 * H100_TPP);
    assert_eq!(india["tier"], 2);
    // Never past the limits: 7 % in India, 25 % outside Tier 1.
    let total2 = s2["total_tpp"].as_u64().unwrap();
    assert!(95 * H100_TPP * 100 <= total2 * 7);
    assert!(india["headroom_tpp"].as_u64().unwrap() < H100_TPP);
    let total1 = s1["total_tpp"].as_u64().unwrap();
    assert!(s1["outside_tier1_tpp"].as_u64().unwrap() * 100 <= total1 * 25);

    // Shipping every book again draws nothing twice.
    let mut again = Vec::new();
    for f in &files {
        again.extend(ship_diffusion(db, f));
    }
    assert_eq!(licensed(&again), 210 + 95);
    assert!(again
        .iter()
        .filter(|d| d["outcome"] == "licensed")
        .all(|d| d["reasons"]
            .to_string()
            .contains("by an earlier run (replayed; nothing drawn again)")));
    assert_eq!(show(db, "u1")["total_tpp"], s1["total_tpp"]);
    assert_eq!(show(db, "u2")["total_tpp"], s2["total_tpp"]);
    let o = ok(run(&["audit", "verify", "--db", db], None));
    assert!(stdout(&o).contains("audit log intact"));
    assert!(stdout(&o).contains("ledger agrees with the audit log"));
}

#[test]
fn four_veu_shippers_at_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ledger.sqlite").display());
    four_veu_shippers_at_once(&db);
}

#[test]
fn four_veu_shippers_at_once_on_postgres() {
    on_postgres("cli_veu", four_veu_shippers_at_once);
}

/// `veu add` validates the whole record before writing and refuses other terms under an id;
/// `veu compute` refuses a Tier 3 country and an NVEU's other countries; `check` notes the VEU
/// and its headroom and writes nothing; without the AI Diffusion regime no VEU draw is made;
/// an NVEU draws up to its (unconfirmed) cap.
#[test]
fn veu_records_check_and_a_national_veu_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ledger.sqlite").display());
    let db = db.as_str();
    let o = veu_add(
        db,
        dir.path(),
        r#"{"id":"u1","kind":"universal","holder":{"name":"A","headquarters":"XX"}}"#,
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("`holder.headquarters`"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&ok(run(&["veu", "list", "--db", db], None))).contains("no VEUs"));
    ok(veu_add(db, dir.path(), &uveu("u1", "IE")));
    assert!(stdout(&ok(veu_add(db, dir.path(), &uveu("u1", "IE")))).contains("nothing written"));
    let o = veu_add(db, dir.path(), &uveu("u1", "US"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("other terms"), "{}", stderr(&o));
    let o = run(
        &[
            "veu",
            "compute",
            "--veu",
            "u1",
            "--country",
            "CN",
            "--tpp",
            "5",
            "--date",
            "2025-07-01",
            "--db",
            db,
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("`--country`"), "{}", stderr(&o));
    compute(db, "u1", "DE", 10_000_000);
    compute(db, "u1", "DE", 10_000_000); // the same reference: recorded once
    assert_eq!(show(db, "u1")["total_tpp"], 10_000_000);

    // `check`: 40 H100s to India (633,280 TPP); the VEU and its headroom are named.
    let big = write(dir.path(), "big.jsonl", &veu_order("big-1", "u1", "IN", 40));
    let checked = decisions(&ok(run(
        &[
            "check",
            big.to_str().unwrap(),
            "--db",
            db,
            "--screened-externally",
            "--regime",
            "ai-diffusion-2025",
        ],
        None,
    )));
    let reasons = checked[0]["reasons"].to_string();
    assert!(reasons.contains("universal VEU `u1`"), "{reasons}");
    assert!(
        reasons.contains("headroom 752,688 TPP in India"),
        "{reasons}"
    );
    assert_ne!(checked[0]["outcome"], "licensed");
    assert_eq!(show(db, "u1")["total_tpp"], 10_000_000);
    // Without the regime forced, no licence is needed for India: nothing is drawn.
    let ds = decisions(&ok(run(
        &[
            "ship",
            big.to_str().unwrap(),
            "--db",
            db,
            "--screened-externally",
        ],
        None,
    )));
    assert_eq!(ds[0]["outcome"], "no_license_required");
    assert_eq!(show(db, "u1")["total_tpp"], 10_000_000);

    // An NVEU in India with a cap of 100,000 TPP from 2025Q3: 6 H100s fit, a 7th does not.
    let nveu = r#"{"id":"n1","kind":"national","holder":{"name":"Local DC","headquarters":"IN"},"country":"IN","caps":[{"from":"2025Q3","tpp":100000}]}"#;
    ok(veu_add(db, dir.path(), nveu));
    let o = run(
        &[
            "veu",
            "compute",
            "--veu",
            "n1",
            "--country",
            "AE",
            "--tpp",
            "5",
            "--date",
            "2025-07-01",
            "--db",
            db,
        ],
        None,
    );
    assert!(
        stderr(&o).contains("authorised in IN only"),
        "{}",
        stderr(&o)
    );
    let f = write(
        dir.path(),
        "n.jsonl",
        &(veu_order("n-a", "n1", "IN", 6) + "\n" + &veu_order("n-b", "n1", "IN", 1) + "\n"),
    );
    let ds = ship_diffusion(db, &f);
    assert_eq!(ds[0]["outcome"], "licensed");
    assert_eq!(ds[0]["unconfirmed"], true);
    assert_ne!(ds[1]["outcome"], "licensed");
    assert!(ds[1]["reasons"].to_string().contains(
        "exceeds_limit: compute in India 110,820 TPP would pass `n1`'s cap of 100,000 TPP for 2025Q3 (unconfirmed)"
    ), "{}", ds[1]["reasons"]);
    let list = ok(run(
        &[
            "veu",
            "list",
            "--date",
            "2025-08-01",
            "--db",
            db,
            "--format",
            "json",
        ],
        None,
    ));
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["veu"]["id"], "n1");
    assert_eq!(list[0]["total_tpp"], 94_988); // 6 × 15,831.2 rounded up
    assert_eq!(list[0]["cap"], serde_json::json!(["2025Q3", 100000]));
    ok(run(&["audit", "verify", "--db", db], None));
}

/// A UVEU's holder is headquartered in Tier 1 (15 CFR 748.15): a record saying India draws
/// nothing — `check` and `ship` name why, and the order stays licence-required.
#[test]
fn a_universal_veu_held_outside_tier_1_takes_no_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ledger.sqlite").display());
    let db = db.as_str();
    ok(veu_add(db, dir.path(), &uveu("u-in", "IN")));
    compute(db, "u-in", "DE", 100_000_000);
    let f = write(dir.path(), "o.jsonl", &veu_order("o-1", "u-in", "IN", 1));
    let why = "holder is headquartered in India, not a Tier 1 country on 2025-08-01";
    let checked = decisions(&ok(run(
        &[
            "check",
            f.to_str().unwrap(),
            "--db",
            db,
            "--screened-externally",
            "--regime",
            "ai-diffusion-2025",
        ],
        None,
    )));
    assert!(
        checked[0]["reasons"].to_string().contains(why),
        "{}",
        checked[0]["reasons"]
    );
    let ds = ship_diffusion(db, &f);
    assert_ne!(ds[0]["outcome"], "licensed");
    assert!(
        ds[0]["reasons"].to_string().contains(why),
        "{}",
        ds[0]["reasons"]
    );
    assert_eq!(show(db, "u-in")["total_tpp"], 100_000_000);
}
