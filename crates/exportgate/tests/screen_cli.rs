//! `exportgate screen` and `exportgate lists`: the real 2026 CSL imported into a temporary
//! list database, single and batch screening (with bad lines), status, and `update` against a
//! local HTTP server (success, and a 404 that keeps the previous version in force).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn csl() -> PathBuf {
    PathBuf::from(format!("{DATA}/lists/csl_2026-07-31/screening-list.json"))
}

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exportgate"))
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("EXPORTGATE_DB")
        .output()
        .expect("runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One database with the real CSL imported, shared by the read-only tests.
fn shared_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("lists.sqlite");
        let out = run(
            &db,
            &["lists", "import", csl().to_str().expect("utf-8 path")],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        (dir, db)
    });
    path
}

#[test]
fn screen_finds_huawei_entity_list_entry_from_chinese_script() {
    let out = run(
        shared_db(),
        &["screen", "华为技术有限公司", "--format", "json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["query"], "华为技术有限公司");
    let hits = v["hits"].as_array().expect("hits");
    let h = hits
        .iter()
        .find(|h| h["list"] == "EL" && h["name"] == "Huawei Technologies Co., Ltd.")
        .unwrap_or_else(|| panic!("no Huawei EL hit: {v:#}"));
    assert!(h["score"].as_f64().expect("score") >= 0.8);
    assert!(
        h["citation"].as_str().is_some_and(|c| !c.is_empty()),
        "{h:#}"
    );
    assert!(h["matched_alias"].is_string());
    // The text form names the entry too.
    let out = run(
        shared_db(),
        &["screen", "华为技术有限公司", "--country", "CN"],
    );
    assert!(out.status.success());
    let t = text(&out.stdout);
    assert!(
        t.contains("Huawei Technologies Co., Ltd.") && t.contains("EL"),
        "{t}"
    );
}

#[test]
fn batch_gives_bad_lines_an_error_record_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("names.txt");
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend_from_slice("Huawei Technologies\n".as_bytes());
    bytes.extend_from_slice(b"\n"); // empty
    bytes.extend_from_slice(b"bad\x07name\n"); // control character
    bytes.extend_from_slice(format!("{}\n", "x".repeat(5000)).as_bytes()); // too long
    bytes.extend_from_slice(b"caf\xff\xfe\n"); // invalid UTF-8
    bytes.extend_from_slice("Maria Schmidt\n".as_bytes());
    std::fs::write(&file, &bytes).expect("write");
    let out = run(
        shared_db(),
        &[
            "screen",
            "--batch",
            file.to_str().expect("utf-8"),
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let recs: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(recs.len(), 6, "{recs:#?}");
    assert_eq!(recs[0]["query"], "Huawei Technologies");
    let hits = recs[0]["hits"].as_array().expect("hits");
    assert!(hits.iter().any(|h| h["list"] == "EL"
        && h["name"].is_string()
        && h["score"].is_number()
        && h["matched_alias"].is_string()
        && h.get("citation").is_some()));
    for (i, rec) in recs.iter().enumerate().take(5).skip(1) {
        assert!(rec["error"].is_string(), "line {}: {rec}", i + 1);
        assert!(rec.get("hits").is_none());
        assert_eq!(rec["line"], i + 1);
    }
    assert!(recs[4]["error"].as_str().expect("error").contains("UTF-8"));
    assert_eq!(recs[5]["hits"].as_array().map(Vec::len), Some(0));
    assert!(text(&out.stderr).contains("4 of 6 lines"));
}

#[test]
fn batch_reads_csv_with_name_and_country() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("parties.csv");
    std::fs::write(
        &file,
        "name,country\n\"Sophgo Technologies, Ltd.\",CN\nNordic Fishing Supplies AS,NO\n",
    )
    .expect("write");
    let out = run(
        shared_db(),
        &[
            "screen",
            "--batch",
            file.to_str().expect("utf-8"),
            "--format",
            "jsonl",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let recs: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["query"], "Sophgo Technologies, Ltd.");
    assert_eq!(recs[0]["country"], "CN");
    assert!(recs[0]["hits"].as_array().is_some_and(|h| !h.is_empty()));
    assert_eq!(recs[1]["hits"].as_array().map(Vec::len), Some(0));
}

#[test]
fn screen_without_lists_says_how_to_import_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&dir.path().join("empty.sqlite"), &["screen", "Huawei"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("hint:") && err.contains("exportgate lists import"),
        "{err}"
    );
    assert!(err.contains("screening-list.json"), "{err}");
}

#[test]
fn status_shows_source_dates_count_and_checksum() {
    let out = run(shared_db(), &["lists", "status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    for col in ["source", "data date", "imported", "entries", "sha256"] {
        assert!(t.contains(col), "{col}: {t}");
    }
    let row = t
        .lines()
        .find(|l| l.starts_with("csl"))
        .unwrap_or_else(|| panic!("no csl row: {t}"));
    assert!(row.contains("2026-"), "{row}");
    assert!(row.contains("25921"), "{row}");
    assert!(
        row.split_whitespace()
            .any(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit())),
        "{row}"
    );
}

/// Serves `files` (URL path -> body) on 127.0.0.1 until dropped; other paths get 404.
struct TestServer {
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    base: String,
}

impl TestServer {
    fn start(files: HashMap<String, Vec<u8>>) -> TestServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("binds"));
        let base = format!("http://{}", server.server_addr().to_ip().expect("ip"));
        let s = Arc::clone(&server);
        let thread = std::thread::spawn(move || {
            for req in s.incoming_requests() {
                let resp = match files.get(req.url()) {
                    Some(body) => tiny_http::Response::from_data(body.clone()),
                    None => {
                        tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404)
                    }
                };
                let _ = req.respond(resp);
            }
        });
        TestServer {
            server,
            thread: Some(thread),
            base,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn update_from_a_local_server_and_a_404_keeps_the_previous_version() {
    let un =
        std::fs::read(format!("{DATA}/lists/un/UN_consolidated_2026-02-27.xml")).expect("UN list");
    let mut files = HashMap::new();
    files.insert("/un.xml".to_string(), un);
    let server = TestServer::start(files);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("lists.sqlite");
    let ok_url = format!("{}/un.xml", server.base);
    let out = run(
        &db,
        &["lists", "update", "--source", "un", "--url", &ok_url],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("updated un"),
        "{}",
        text(&out.stdout)
    );

    let missing = format!("{}/gone.xml", server.base);
    let out = run(
        &db,
        &["lists", "update", "--source", "un", "--url", &missing],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("404"), "{err}");
    assert!(err.contains("previous version stays in force"), "{err}");

    let out = run(&db, &["lists", "status"]);
    let t = text(&out.stdout);
    let rows: Vec<&str> = t.lines().filter(|l| l.starts_with("un ")).collect();
    assert_eq!(rows.len(), 1, "{t}");
    assert!(rows[0].contains("yes") && rows[0].contains(&ok_url), "{t}");
    // Screening still works against the version kept.
    let out = run(&db, &["screen", "--format", "json", "Taliban"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `screen --lists FILE` screens against the file, with no list database at all (as `check
/// --lists` does), so the README's `screen` works on a fresh machine before `lists import`.
#[test]
fn screen_takes_a_list_file_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("never-created.sqlite");
    let csl = csl();
    let o = run(
        &missing,
        &[
            "screen",
            "Huawei Technologies Co., Ltd.",
            "--lists",
            csl.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("certain"), "{}", text(&o.stdout));
    assert!(!missing.exists(), "no database is created");
    let o = run(&missing, &["screen", "Huawei"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--lists FILE"),
        "{}",
        text(&o.stderr)
    );
}
