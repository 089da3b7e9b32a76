//! Evidence that survives an investigation (issue 19), through the command line against a
//! real SQLite file and the real lists in `../shared/data`: decisions name their inputs,
//! `replay` after a list update reports exactly the order whose consignee became listed, with
//! the list update as the cause, an exported evidence pack verifies offline and any byte
//! edited in it fails naming the record or file, `audit prune` keeps the retention period,
//! and the pack's HTML summary is checked in headless Chromium (screenshot kept).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

fn exe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_exportgate"));
    // Hermetic: never read a developer's own database.
    c.env(
        "EXPORTGATE_DB",
        std::env::temp_dir().join("exportgate-evidence-tests-no-such.sqlite"),
    );
    c
}

fn run(args: &[&str]) -> Output {
    exe().args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    o
}

fn lists() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/lists")
}

/// The CSL of April 2022 (before 87 FR 38925 listed Gulf Trade House FZC) and of July 2026.
fn csl_2022() -> String {
    lists()
        .join("csl_2022-05/consolidated.csv")
        .display()
        .to_string()
}

fn csl_2026() -> String {
    lists()
        .join("csl_2026-07-31/screening-list.json")
        .display()
        .to_string()
}

/// An order of an uncontrolled chip (the L20 is not 3A090) to a consignee in the UAE.
fn order(id: &str, consignee: &str) -> String {
    format!(
        r#"{{"id":"{id}","date":"2025-09-01","item":{{"chip":"nvidia-l20"}},"quantity":4,"destination":"AE","exporter":{{"name":"Acme Systems","country":"US"}},"consignee":{{"name":"{consignee}","country":"AE","headquarters":"AE","parent_headquarters":"AE","owners":[],"ownership_checked":true}},"end_use":{{"text":"inference servers","tags":[]}}}}"#
    )
}

fn jsonl(o: &Output) -> Vec<Value> {
    text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A database with the 2022 CSL imported and three orders shipped against it, then the 2026
/// CSL imported: Gulf Trade House FZC (listed by 87 FR 38925, June 2022) is now on the
/// Entity List; the other two consignees are on no list.
fn shipped_then_listed(dir: &Path) -> String {
    let db = dir.join("ev.sqlite").display().to_string();
    ok(run(&["lists", "--db", &db, "import", &csl_2022()]));
    let book = dir.join("orders.jsonl");
    std::fs::write(
        &book,
        [
            order("o-1", "Desert Pixel Studios LLC"),
            order("o-2", "Gulf Trade House FZC"),
            order("o-3", "Oasis Render Farm LLC"),
        ]
        .join("\n"),
    )
    .unwrap();
    let shipped = ok(run(&[
        "ship",
        book.to_str().unwrap(),
        "--db",
        &db,
        "--max-list-age",
        "100000",
    ]));
    let ds = jsonl(&shipped);
    assert_eq!(ds.len(), 3);
    assert!(
        ds.iter().all(|d| d["outcome"] == "no_license_required"),
        "{ds:?}"
    );
    ok(run(&["lists", "--db", &db, "import", &csl_2026()]));
    db
}

#[test]
fn decisions_name_their_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o.jsonl");
    std::fs::write(&file, order("i-1", "Desert Pixel Studios LLC")).unwrap();
    let o = ok(run(&[
        "check",
        file.to_str().unwrap(),
        "--lists",
        &csl_2022(),
        "--max-list-age",
        "100000",
    ]));
    let d = &jsonl(&o)[0];
    let inputs = &d["inputs"];
    assert_eq!(
        inputs["engine"],
        format!("exportgate {}", env!("CARGO_PKG_VERSION"))
    );
    let rs = exportgate_core::Ruleset::embedded().unwrap();
    assert_eq!(inputs["rules"], rs.digests().rules());
    assert_eq!(inputs["data"]["countries"], rs.digests().countries);
    for k in [
        "regimes",
        "countries",
        "catalog",
        "screening",
        "end_use_tags",
    ] {
        assert_eq!(inputs["data"][k].as_str().unwrap().len(), 64, "{k}");
    }
    let bytes = std::fs::read(csl_2022()).unwrap();
    let list = &inputs["lists"][0];
    assert_eq!(list["source"], "consolidated");
    assert_eq!(list["sha256"], format!("{:x}", Sha256::digest(&bytes)));
    assert_eq!(list["data_date"], "2022-04-21");
    // Existing fields are unchanged.
    assert_eq!(d["screening"]["status"], "screened");
    assert_eq!(d["outcome"], "no_license_required");
}

#[test]
fn replay_after_a_list_update_reports_exactly_the_newly_listed_consignee() {
    let dir = tempfile::tempdir().unwrap();
    let db = shipped_then_listed(dir.path());
    let o = ok(run(&[
        "replay",
        "--from-audit",
        "--db",
        &db,
        "--max-list-age",
        "100000",
    ]));
    let changes = jsonl(&o);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let c = &changes[0];
    assert_eq!(c["id"], "o-2");
    assert_eq!(c["old"]["outcome"], "no_license_required");
    assert_eq!(c["new"]["outcome"], "license_required");
    assert_eq!(c["stricter"], true);
    assert_eq!(c["causes"], serde_json::json!(["list_update"]));
    assert_eq!(c["inputs"]["changed"], serde_json::json!(["lists.csl"]));
    assert_eq!(c["hits"]["added"][0]["list"], "EL");
    assert_eq!(c["hits"]["added"][0]["name"], "Gulf Trade House FZC");
    assert!(c["reasons"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "screening.EL"));
    assert!(text(&o.stderr).contains("replayed 3 decisions: 1 changed, 1 stricter"));

    // --since after the orders' date: nothing to replay.
    let o = ok(run(&[
        "replay",
        "--from-audit",
        "--db",
        &db,
        "--since",
        "2025-09-02",
        "--max-list-age",
        "100000",
    ]));
    assert!(jsonl(&o).is_empty());

    // The same from an evidence pack's records, offline from the ledger (lists from a file).
    let pack = dir.path().join("pack");
    ok(run(&[
        "audit",
        "export",
        "--db",
        &db,
        "--from",
        "2020-01-01",
        "--to",
        "2099-12-31",
        "--out",
        pack.to_str().unwrap(),
    ]));
    let o = ok(run(&[
        "replay",
        pack.join("records.jsonl").to_str().unwrap(),
        "--lists",
        &csl_2026(),
        "--max-list-age",
        "100000",
    ]));
    let changes = jsonl(&o);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["id"], "o-2");
    assert!(changes[0]["causes"]
        .as_array()
        .unwrap()
        .contains(&Value::from("list_update")));

    // A bad line is an error naming it, and nothing is written.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"decision\": {\"outcome\": \"no_license_required\"}, \"order\": {\"id\": 3}}\n",
    )
    .unwrap();
    let o = run(&["replay", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("line 1"), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());

    // A record is decided again under the regimes it was forced under: one today's ruleset
    // does not have is an error naming the order.
    let forced = dir.path().join("forced.jsonl");
    std::fs::write(
        &forced,
        format!(
            "{{\"order\": {}, \"decision\": {{\"outcome\": \"no_license_required\", \"forced_regimes\": [\"no-such-regime\"]}}}}\n",
            order("f-1", "Desert Pixel Studios LLC")
        ),
    )
    .unwrap();
    let o = run(&["replay", forced.to_str().unwrap(), "--screened-externally"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("`f-1`") && text(&o.stderr).contains("no-such-regime"),
        "{}",
        text(&o.stderr)
    );
}

fn verify(pack: &Path) -> Output {
    run(&["audit", "verify", "--pack", pack.to_str().unwrap()])
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn files(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, base, out);
        } else {
            out.push(p.strip_prefix(base).unwrap().to_path_buf());
        }
    }
}

/// The pack of a database with three shipments, in `dir/pack`.
fn exported(dir: &Path) -> (String, PathBuf) {
    let db = shipped_then_listed(dir);
    let pack = dir.join("pack");
    let o = ok(run(&[
        "audit",
        "export",
        "--db",
        &db,
        "--from",
        "2020-01-01",
        "--to",
        "2099-12-31",
        "--out",
        pack.to_str().unwrap(),
    ]));
    assert!(
        text(&o.stdout).contains("3 decision records"),
        "{}",
        text(&o.stdout)
    );
    (db, pack)
}

#[test]
fn an_exported_pack_verifies_offline_and_any_edited_byte_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (db, pack) = exported(dir.path());
    // A pack is never written over an existing one.
    let o = run(&[
        "audit",
        "export",
        "--db",
        &db,
        "--from",
        "2020-01-01",
        "--to",
        "2099-12-31",
        "--out",
        pack.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not empty"), "{}", text(&o.stderr));
    // The log's head, kept outside the database.
    let kept = dir.path().join("kept-anchor.jsonl");
    ok(run(&[
        "audit",
        "anchor",
        "--db",
        &db,
        "--out",
        kept.to_str().unwrap(),
    ]));
    // Offline: the database is gone.
    std::fs::remove_file(&db).unwrap();
    let o = ok(verify(&pack));
    assert!(
        text(&o.stdout).contains("pack intact"),
        "{}",
        text(&o.stdout)
    );
    let o = ok(run(&[
        "audit",
        "verify",
        "--pack",
        pack.to_str().unwrap(),
        "--anchor",
        kept.to_str().unwrap(),
    ]));
    assert!(
        text(&o.stdout).contains("anchors: 1 of 1 within the pack, all hold"),
        "{}",
        text(&o.stdout)
    );
    let mut all = Vec::new();
    files(&pack, &pack, &mut all);
    for f in [
        "records.jsonl",
        "chain.json",
        "inputs.json",
        "summary.html",
        "manifest.json",
    ] {
        assert!(all.contains(&PathBuf::from(f)), "{f} missing from {all:?}");
    }
    assert!(all.contains(&PathBuf::from("rules/countries.json")));
    // The records: the 3 decisions, with their orders and inputs.
    let records = std::fs::read_to_string(pack.join("records.jsonl")).unwrap();
    let decisions: Vec<Value> = records
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["kind"] == "decision")
        .map(|r| serde_json::from_str(r["payload"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(decisions.len(), 3);
    assert!(decisions
        .iter()
        .all(|p| p["order"]["id"].is_string()
            && p["decision"]["inputs"]["lists"][0]["source"] == "csl"));

    // One byte changed in the second decision's record: that record is named.
    let seq2 = records
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| {
            r["payload"]
                .as_str()
                .unwrap()
                .contains("Gulf Trade House FZC")
        })
        .unwrap()["seq"]
        .as_u64()
        .unwrap();
    let edited = dir.path().join("edited");
    copy_dir(&pack, &edited);
    let recs = std::fs::read_to_string(edited.join("records.jsonl")).unwrap();
    std::fs::write(
        edited.join("records.jsonl"),
        recs.replacen("Gulf Trade House FZC", "Gulf Trade House FZD", 1),
    )
    .unwrap();
    let o = verify(&edited);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains(&format!("record {seq2}: edited")),
        "{}",
        text(&o.stdout)
    );
    // The summary page of that decision edited: the same record is named.
    std::fs::remove_dir_all(&edited).unwrap();
    copy_dir(&pack, &edited);
    let html = std::fs::read_to_string(edited.join("summary.html")).unwrap();
    std::fs::write(
        edited.join("summary.html"),
        html.replacen("Gulf Trade House FZC", "Gulf Trade House FZD", 1),
    )
    .unwrap();
    let o = verify(&edited);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains(&format!("record {seq2}: edited: its page in summary.html")),
        "{}",
        text(&o.stdout)
    );

    // records.jsonl, every 61st byte flipped in turn: each fails, naming a record.
    std::fs::remove_dir_all(&edited).unwrap();
    copy_dir(&pack, &edited);
    let original = std::fs::read(pack.join("records.jsonl")).unwrap();
    for i in (0..original.len()).step_by(61) {
        let mut bytes = original.clone();
        bytes[i] ^= 0x01;
        std::fs::write(edited.join("records.jsonl"), &bytes).unwrap();
        let o = verify(&edited);
        assert_eq!(o.status.code(), Some(1), "byte {i} flipped still verifies");
        assert!(
            text(&o.stdout).starts_with("record ") || text(&o.stdout).starts_with("records.jsonl"),
            "byte {i}: {}",
            text(&o.stdout)
        );
    }

    // Every file, one byte flipped in its middle: the pack fails.
    for f in &all {
        std::fs::remove_dir_all(&edited).unwrap();
        copy_dir(&pack, &edited);
        let path = edited.join(f);
        let mut bytes = std::fs::read(&path).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let o = verify(&edited);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{} edited at byte {i} still verifies: {}",
            f.display(),
            text(&o.stdout)
        );
        let said = text(&o.stdout);
        assert!(
            said.starts_with("record ")
                || said.contains(f.to_str().unwrap())
                || said.contains("manifest"),
            "{}: {said}",
            f.display()
        );
    }

    // An anchor kept outside: a forged but self-consistent pack is caught by it.
    let anchor = dir.path().join("anchor.jsonl");
    std::fs::write(
        &anchor,
        format!("{{\"seq\": 1, \"hash\": \"{}\"}}\n", "ab".repeat(32)),
    )
    .unwrap();
    let o = run(&[
        "audit",
        "verify",
        "--pack",
        pack.to_str().unwrap(),
        "--anchor",
        anchor.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("record 1: does not match the anchor"));
}

#[test]
fn pack_summary_in_headless_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser_dir = root.join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists()
            && Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and playwright-core: run `bash scripts/browser-setup.sh`"
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, pack) = exported(dir.path());
    let shots = root.join("target/screenshots");
    let status = Command::new("node")
        .current_dir(&browser_dir)
        .arg("pack.mjs")
        .arg(pack.join("summary.html"))
        .arg(&shots)
        .status()
        .expect("run node (see scripts/browser-setup.sh)");
    assert!(status.success(), "the pack summary browser test failed");
    assert!(shots.join("evidence-pack.png").exists());
}

mod server_util;

/// The server's scheduled replay: orders shipped against the 2022 CSL into the server's
/// database; the server screens against the 2026 CSL and replays every second. The order not
/// yet shipped (dated ahead) to the newly listed consignee gets a review case naming the list
/// update; the same consignee's order already shipped (dated in the past) does not.
#[test]
fn scheduled_replay_opens_a_case_for_an_unshipped_order_that_got_stricter() {
    let srv = server_util::Server::start_with(&["--max-list-age", "36500", "--replay-every", "1"]);
    let reviewer = srv.key("reviewer", "rita");
    let db = srv.dir.path().join("db.sqlite");
    let ahead = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let book = srv.dir.path().join("book.jsonl");
    std::fs::write(
        &book,
        [
            order("past-1", "Gulf Trade House FZC"),
            order("ahead-1", "Gulf Trade House FZC").replace("2025-09-01", &ahead),
            order("ahead-2", "Desert Pixel Studios LLC").replace("2025-09-01", &ahead),
        ]
        .join("\n"),
    )
    .unwrap();
    let shipped = ok(run(&[
        "ship",
        book.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--lists",
        &csl_2022(),
        "--max-list-age",
        "100000",
    ]));
    assert!(jsonl(&shipped)
        .iter()
        .all(|d| d["outcome"] == "no_license_required"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let cases = loop {
        let (s, v) = srv.call("GET", "/v1/cases?status=open", Some(&reviewer), None);
        assert_eq!(s, 200, "{v}");
        let cases = v.as_array().unwrap().clone();
        if !cases.is_empty() {
            // One more period: nothing else (and nothing twice) is opened.
            std::thread::sleep(std::time::Duration::from_secs(3));
            let (_, v) = srv.call("GET", "/v1/cases?status=open", Some(&reviewer), None);
            break v.as_array().unwrap().clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no case opened by the scheduled replay"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert_eq!(cases.len(), 1, "{cases:?}");
    let case = &cases[0];
    assert_eq!(case["order_id"], "ahead-1");
    assert_eq!(case["outcome"], "license_required");
    let why = case["why"].to_string();
    // The lists are files here, named by their stems.
    assert!(
        why.contains("(list_update;") && why.contains("lists.screening-list"),
        "{why}"
    );
    // Opened in the audit log, which still verifies.
    let (_, v) = srv.call("GET", "/v1/audit/verify", Some(&reviewer), None);
    assert_eq!(v["ok"], true, "{v}");

    // A reviewer blocks it; the evidence pack shows the reviewer's actions on the order's page.
    let (s, v) = srv.call(
        "POST",
        &format!("/v1/cases/{}/block", case["id"]),
        Some(&reviewer),
        Some(r#"{"reason": "consignee on the Entity List since 87 FR 38925"}"#),
    );
    assert_eq!(s, 200, "{v}");
    let pack = srv.dir.path().join("pack");
    ok(run(&[
        "audit",
        "export",
        "--db",
        db.to_str().unwrap(),
        "--from",
        "2020-01-01",
        "--to",
        "2099-12-31",
        "--out",
        pack.to_str().unwrap(),
    ]));
    ok(verify(&pack));
    let html = std::fs::read_to_string(pack.join("summary.html")).unwrap();
    let page = html
        .split("<section class=\"decision\"")
        .find(|p| p.contains("Order ahead-1"))
        .unwrap();
    assert!(
        page.contains("case_opened") && page.contains("case_blocked"),
        "{page}"
    );
    assert!(page.contains("87 FR 38925"), "{page}");
}

/// Replay and the evidence pack on a PostgreSQL ledger (lists from files).
#[test]
fn replay_and_pack_on_postgres() {
    let Some(base) = std::env::var("EXPORTGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: the PostgreSQL run is skipped");
        return;
    };
    let schema = format!("cli_evidence_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
        ))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("orders.jsonl");
    std::fs::write(
        &book,
        [
            order("p-1", "Desert Pixel Studios LLC"),
            order("p-2", "Gulf Trade House FZC"),
        ]
        .join("\n"),
    )
    .unwrap();
    let shipped = ok(run(&[
        "ship",
        book.to_str().unwrap(),
        "--db",
        &url,
        "--lists",
        &csl_2022(),
        "--max-list-age",
        "100000",
    ]));
    assert_eq!(jsonl(&shipped).len(), 2);
    let o = ok(run(&[
        "replay",
        "--from-audit",
        "--db",
        &url,
        "--lists",
        &csl_2026(),
        "--max-list-age",
        "100000",
    ]));
    let changes = jsonl(&o);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["id"], "p-2");
    assert_eq!(changes[0]["causes"], serde_json::json!(["list_update"]));
    let pack = dir.path().join("pack");
    ok(run(&[
        "audit",
        "export",
        "--db",
        &url,
        "--from",
        "2020-01-01",
        "--to",
        "2099-12-31",
        "--out",
        pack.to_str().unwrap(),
    ]));
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    // Offline: the schema is gone.
    ok(verify(&pack));
}
