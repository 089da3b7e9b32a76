//! Import, status, load and update against the real list files, with a local HTTP server
//! on 127.0.0.1 standing in for the official download sites. Each test runs on SQLite and,
//! when `EXPORTGATE_TEST_POSTGRES_URL` is set, on PostgreSQL (its own schema per test; without
//! the variable the PostgreSQL run says so and skips).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use exportgate_lists::{
    import, load_screener, status, update, ListsDb, ListsError, UpdateOutcome, UpdateSource,
};
use exportgate_screen::{AllowList, Format, Party};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn data(rel: &str) -> PathBuf {
    Path::new(DATA).join(rel)
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 8, d).expect("date")
}

/// A fresh database path in the system temp directory.
fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "exportgate-lists-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("lists.sqlite")
}

/// Where a test keeps its lists.
#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty list database on `backend` and a scratch directory for the test's files.
fn fresh(backend: Backend, name: &str) -> (ListsDb, PathBuf) {
    let sqlite = temp_db(&format!("{backend:?}-{name}"));
    let dir = sqlite.parent().expect("dir").to_path_buf();
    match backend {
        Backend::Sqlite => (ListsDb::Sqlite(sqlite), dir),
        Backend::Postgres => {
            let base = exportgate_store::testing::postgres_url().expect("checked by the caller");
            let url = exportgate_store::testing::fresh_schema_url(&base, "lists_test")
                .expect("create a test schema");
            (ListsDb::Postgres(url), dir)
        }
    }
}

/// One `#[test]` per backend for a test body taking the backend.
macro_rules! on_both {
    ($body:ident, $sqlite:ident, $postgres:ident) => {
        #[test]
        fn $sqlite() {
            $body(Backend::Sqlite);
        }
        #[test]
        fn $postgres() {
            if exportgate_store::testing::postgres_url().is_none() {
                eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: skipping the PostgreSQL run");
                return;
            }
            $body(Backend::Postgres);
        }
    };
}

on_both!(
    import_real_files_status_and_load,
    import_real_files_status_and_load_sqlite,
    import_real_files_status_and_load_postgres
);

fn import_real_files_status_and_load(backend: Backend) {
    let (db, dir) = fresh(backend, "import");
    let csl = import(
        &db,
        &data("lists/csl_2026-07-31/screening-list.json"),
        None,
        day(1),
    )
    .expect("CSL imports");
    assert!(csl.changed);
    assert_eq!(csl.version.entry_count, 25_921);
    assert_eq!(csl.version.source, "csl");
    assert_eq!(csl.version.data_date, NaiveDate::from_ymd_opt(2026, 7, 31));
    assert_eq!(csl.version.sha256.len(), 64);

    let un = import(
        &db,
        &data("lists/un/UN_consolidated_2026-02-27.xml"),
        None,
        day(1),
    )
    .expect("UN imports");
    assert_eq!(un.version.entry_count, 1003);
    let sdn =
        import(&db, &data("lists/ofac_sdn_2021-07/sdn.csv"), None, day(1)).expect("SDN imports");
    assert_eq!(sdn.version.entry_count, 8_976);
    assert_eq!(sdn.version.source, "ofac-sdn");
    let cons = import(
        &db,
        &data("lists/ofac_2025-12/cons_prim.csv"),
        Some("ofac-cons"),
        day(1),
    )
    .expect("cons imports");
    assert_eq!(cons.version.entry_count, 442);
    let dpl = import(
        &db,
        &data("lists/bis_dpl/dpl_2022-09.txt"),
        Some("bis-dpl"),
        day(1),
    )
    .expect("DPL imports");
    assert_eq!(dpl.version.entry_count, 581);
    let cn = import(
        &db,
        &data("lists/other_countries/cn_entity_lists.json"),
        None,
        day(1),
    )
    .expect("CN imports");
    assert_eq!(
        (cn.version.source.as_str(), cn.version.entry_count),
        ("cn", 240)
    );
    let jp = import(
        &db,
        &data("lists/other_countries/jp_end_user_list.json"),
        None,
        day(1),
    )
    .expect("JP imports");
    assert_eq!(
        (jp.version.source.as_str(), jp.version.entry_count),
        ("jp", 835)
    );

    // The same file again is not a new version.
    let again = import(
        &db,
        &data("lists/un/UN_consolidated_2026-02-27.xml"),
        None,
        day(2),
    )
    .expect("re-import");
    assert!(!again.changed);
    assert_eq!(again.version.id, un.version.id);

    let st = status(&db).expect("status");
    assert_eq!(st.len(), 7);
    assert!(st.iter().all(|s| s.in_force));

    let screener = load_screener(&db).expect("loads");
    assert_eq!(screener.list_versions().len(), 7);
    assert_eq!(
        screener.entries().len(),
        25_921 + 1003 + 8_976 + 442 + 581 + 240 + 835
    );
    let r = screener
        .screen(&Party::named("华为技术有限公司"), day(3), &AllowList::new())
        .expect("screens");
    assert!(r
        .hits
        .iter()
        .any(|h| h.list == "EL" && h.name == "Huawei Technologies Co., Ltd."));
    let _ = std::fs::remove_dir_all(dir);
}

on_both!(
    a_malformed_file_leaves_the_lists_in_force_unchanged,
    a_malformed_file_leaves_the_lists_in_force_unchanged_sqlite,
    a_malformed_file_leaves_the_lists_in_force_unchanged_postgres
);

fn a_malformed_file_leaves_the_lists_in_force_unchanged(backend: Backend) {
    let (db, dir) = fresh(backend, "malformed");
    let good = import(&db, &data("lists/bis_dpl/dpl_2022-09.txt"), None, day(1)).expect("imports");
    // A DPL file whose third record has a missing field.
    let text = std::fs::read_to_string(data("lists/bis_dpl/dpl_2022-09.txt")).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[3] = lines[3].split('\t').take(5).collect::<Vec<_>>().join("\t");
    let bad = dir.join("dpl_bad.txt");
    std::fs::write(&bad, lines.join("\n")).expect("write");
    let err = import(&db, &bad, Some("bis-dpl"), day(2)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ListsError::Parse(_)), "{msg}");
    assert!(
        msg.contains("dpl_bad.txt") && msg.contains("line 4") && msg.contains("unchanged"),
        "{msg}"
    );
    let st = status(&db).expect("status");
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].version, good.version);

    // Unknown formats and names are clear errors too.
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"\x00\x01 not a list").expect("write");
    assert!(matches!(
        import(&db, &junk, None, day(2)),
        Err(ListsError::Undetected(_))
    ));
    assert!(matches!(
        import(&db, &junk, Some("nope"), day(2)),
        Err(ListsError::UnknownSource(_))
    ));
    assert!(matches!(
        import(&db, &dir.join("missing.csv"), None, day(2)),
        Err(ListsError::Io { .. })
    ));
    assert_eq!(status(&db).expect("status").len(), 1);
    let _ = std::fs::remove_dir_all(dir);
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
        let base = format!(
            "http://{}",
            server.server_addr().to_ip().expect("ip address")
        );
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

fn src(base: &str, source: &str, format: Format, path: &str) -> UpdateSource {
    UpdateSource {
        source: source.into(),
        format,
        url: format!("{base}{path}"),
        add_url: None,
        alt_url: None,
    }
}

on_both!(
    update_downloads_and_keeps_the_previous_version_on_failure,
    update_downloads_and_keeps_the_previous_version_on_failure_sqlite,
    update_downloads_and_keeps_the_previous_version_on_failure_postgres
);

fn update_downloads_and_keeps_the_previous_version_on_failure(backend: Backend) {
    let (db, dir) = fresh(backend, "update");
    let read = |rel: &str| std::fs::read(data(rel)).expect("read");
    let un = read("lists/un/UN_consolidated_2026-02-27.xml");
    let mut files = HashMap::new();
    files.insert("/un.xml".to_string(), un.clone());
    files.insert(
        "/dpl.txt".to_string(),
        read("lists/bis_dpl/dpl_2022-09.txt"),
    );
    files.insert(
        "/sdn.csv".to_string(),
        read("lists/ofac_sdn_2021-07/sdn.csv"),
    );
    files.insert(
        "/add.csv".to_string(),
        read("lists/ofac_sdn_2021-07/add.csv"),
    );
    files.insert(
        "/alt.csv".to_string(),
        read("lists/ofac_sdn_2021-07/alt.csv"),
    );
    files.insert("/un-corrupt.xml".to_string(), un[..un.len() / 2].to_vec());
    let server = TestServer::start(files);
    let base = server.base.clone();

    let mut sdn = src(&base, "ofac-sdn", Format::OfacSdn, "/sdn.csv");
    sdn.add_url = Some(format!("{base}/add.csv"));
    sdn.alt_url = Some(format!("{base}/alt.csv"));
    let first = update(
        &db,
        &[
            src(&base, "un", Format::UnXml, "/un.xml"),
            src(&base, "dpl", Format::BisDpl, "/dpl.txt"),
            sdn,
        ],
        day(1),
    )
    .expect("update runs");
    assert!(matches!(&first[0], UpdateOutcome::Updated { version } if version.entry_count == 1003));
    assert!(matches!(&first[1], UpdateOutcome::Updated { version } if version.entry_count == 581));
    assert!(
        matches!(&first[2], UpdateOutcome::Updated { version } if version.entry_count == 8_976)
    );
    let UpdateOutcome::Updated { version: un_v1 } = &first[0] else {
        unreachable!()
    };

    // Same file again: unchanged. A 404 and a corrupted file: failed, previous kept.
    let second = update(
        &db,
        &[
            src(&base, "un", Format::UnXml, "/un.xml"),
            src(&base, "dpl", Format::BisDpl, "/missing-dpl.txt"),
            src(&base, "un", Format::UnXml, "/un-corrupt.xml"),
        ],
        day(2),
    )
    .expect("update runs");
    assert!(matches!(&second[0], UpdateOutcome::Unchanged { version } if version == un_v1));
    match &second[1] {
        UpdateOutcome::Failed { error, kept, .. } => {
            assert!(error.contains("404"), "{error}");
            assert_eq!(kept.as_ref().map(|k| k.entry_count), Some(581));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    match &second[2] {
        UpdateOutcome::Failed { error, kept, .. } => {
            assert!(error.contains("un-corrupt.xml"), "{error}");
            assert_eq!(kept.as_ref(), Some(un_v1));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // A source that never loaded reports nothing kept.
    let third = update(
        &db,
        &[src(&base, "csl", Format::CslJson, "/nothing.json")],
        day(3),
    )
    .expect("update runs");
    assert!(matches!(
        &third[0],
        UpdateOutcome::Failed { kept: None, .. }
    ));

    let st = status(&db).expect("status");
    assert_eq!(st.len(), 3, "{st:#?}");
    let screener = load_screener(&db).expect("loads");
    assert_eq!(screener.entries().len(), 1003 + 581 + 8_976);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn issue15_item11_list_database_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let root = temp_db("perms").parent().unwrap().to_path_buf();
    let dir = root.join("sub");
    let db = dir.join("lists.sqlite");
    import(
        &db,
        &data("lists/bis_dpl/dpl_2022-09.txt"),
        Some("bis-dpl"),
        day(1),
    )
    .expect("imports");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&db), 0o600);
    std::fs::remove_dir_all(&root).ok();
}

/// The real CSL rewritten: its first `keep` entries, `entryCount` as given (the file's own
/// 25,921 when `None`), and `sourceGeneratedAt` on `generated` when given.
fn csl_variant(
    dir: &Path,
    name: &str,
    keep: Option<usize>,
    count: Option<u64>,
    generated: Option<&str>,
) -> PathBuf {
    let text = std::fs::read_to_string(data("lists/csl_2026-07-31/screening-list.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    if let Some(k) = keep {
        v["entries"].as_array_mut().unwrap().truncate(k);
    }
    if let Some(c) = count {
        v["entryCount"] = c.into();
    }
    if let Some(g) = generated {
        v["sourceGeneratedAt"] = g.into();
    }
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    path
}

fn huawei_hits(db: &ListsDb) -> usize {
    let s = load_screener(db).expect("load");
    let party = Party {
        name: "Huawei Technologies Co., Ltd.".into(),
        country: Some("CN".into()),
    };
    s.screen(&party, day(2), &AllowList::new())
        .expect("screen")
        .hits
        .len()
}

on_both!(
    issue15_item1_shrunken_or_older_list_is_refused_without_force,
    issue15_item1_shrunken_or_older_list_is_refused_without_force_sqlite,
    issue15_item1_shrunken_or_older_list_is_refused_without_force_postgres
);

fn issue15_item1_shrunken_or_older_list_is_refused_without_force(backend: Backend) {
    let (db, dir) = fresh(backend, "guard");
    let full = import(
        &db,
        &data("lists/csl_2026-07-31/screening-list.json"),
        None,
        day(1),
    )
    .expect("CSL imports");
    assert!(huawei_hits(&db) > 0);

    // Cut to 10 entries, header still declaring 25,921: refused, even with no version in force.
    let cut = csl_variant(&dir, "cut.json", Some(10), None, None);
    let err = import(&db, &cut, None, day(2)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ListsError::Refused { .. }), "{msg}");
    assert!(
        msg.contains("holds 10 entries") && msg.contains("25921"),
        "{msg}"
    );
    assert!(msg.contains("--force"), "{msg}");
    let (empty, _) = fresh(backend, "guard-fresh");
    assert!(matches!(
        import(&empty, &cut, None, day(2)),
        Err(ListsError::Refused { .. })
    ));

    // Cut with a consistent header: still more than 20 % fewer than the version in force.
    let cut_consistent = csl_variant(&dir, "cut10.json", Some(10), Some(10), None);
    let msg = import(&db, &cut_consistent, None, day(2))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("fewer than the 25921 of the version in force"),
        "{msg}"
    );
    // A drop of under 20 % is accepted.
    let most = csl_variant(&dir, "most.json", Some(21_000), Some(21_000), None);
    let r = import(&db, &most, None, day(2)).expect("a 19 % drop imports");
    assert_eq!(r.version.entry_count, 21_000);

    // An older-dated copy: refused (going backwards).
    let old = csl_variant(
        &dir,
        "old.json",
        None,
        None,
        Some("2019-03-01T00:00:00+00:00"),
    );
    let msg = import(&db, &old, None, day(3)).unwrap_err().to_string();
    assert!(
        msg.contains("2019-03-01") && msg.contains("older than 2026-07-31"),
        "{msg}"
    );

    // Nothing refused changed the version in force: decisions still name it and Huawei hits.
    let st = status(&db).unwrap();
    let in_force: Vec<_> = st.iter().filter(|s| s.in_force).collect();
    assert_eq!(in_force.len(), 1);
    assert_eq!(in_force[0].version, r.version);
    assert!(huawei_hits(&db) > 0);

    // With force, each goes in.
    let forced = exportgate_lists::import_with(&db, &old, None, day(3), true).expect("forced");
    assert_eq!(
        forced.version.data_date,
        NaiveDate::from_ymd_opt(2019, 3, 1)
    );
    let forced = exportgate_lists::import_with(&db, &cut, None, day(4), true).expect("forced");
    assert_eq!(forced.version.entry_count, 10);
    assert_ne!(full.version.id, forced.version.id);
}

on_both!(
    a_source_from_the_database_reloads_a_new_version,
    a_source_from_the_database_reloads_a_new_version_sqlite,
    a_source_from_the_database_reloads_a_new_version_postgres
);

/// A long-running screening source over the database (as `serve` keeps one) picks up a list
/// imported by another process at its next refresh, replacing the lists whole: the new
/// version's entries screen, the decisions' inputs name it, and nothing changes when nothing
/// was imported.
fn a_source_from_the_database_reloads_a_new_version(backend: Backend) {
    use exportgate_lists::source::{ListsWatch, ScreeningSource};
    let (db, dir) = fresh(backend, "refresh");
    import(&db, &data("lists/bis_dpl/dpl_2022-09.txt"), None, day(1)).expect("DPL imports");
    let source = ScreeningSource::open_db(&[], Some(&db), false, day(1)).expect("opens");
    assert_eq!(source.database(), Some(&db));
    assert_eq!(source.generation(), 0);
    assert_eq!(source.list_inputs().len(), 1);
    let huawei = Party {
        name: "Huawei Technologies Co., Ltd.".into(),
        country: Some("CN".into()),
    };
    let el_hits = |s: &ScreeningSource| {
        s.screen_full(&huawei, day(2))
            .expect("lists loaded")
            .expect("screens")
            .hits
            .iter()
            .filter(|h| h.list == "EL")
            .count()
    };
    assert_eq!(el_hits(&source), 0, "the DPL alone has no Entity List");

    let mut watch = ListsWatch::new(&db);
    assert!(!source.refresh(&mut watch).expect("refresh"), "nothing new");
    assert_eq!(source.generation(), 0);

    // Another process imports the CSL into the same database.
    let csl = import(
        &db,
        &data("lists/csl_2026-07-31/screening-list.json"),
        None,
        day(2),
    )
    .expect("CSL imports");
    assert!(
        source.refresh(&mut watch).expect("refresh"),
        "a new version"
    );
    assert_eq!(source.generation(), 1);
    assert!(el_hits(&source) > 0, "the CSL's Entity List now screens");
    let inputs = source.list_inputs();
    assert_eq!(inputs.len(), 2);
    assert!(inputs.iter().any(|l| l.source == "csl"
        && l.version == csl.version.id
        && l.sha256 == csl.version.sha256));
    assert!(!source.refresh(&mut watch).expect("refresh"), "nothing new");
    let _ = std::fs::remove_dir_all(dir);
}

/// Two imports of the same file at once store it once: the second sees the first's version
/// in force (the writers' lock), whichever backend.
fn concurrent_imports_store_one_version(backend: Backend) {
    let (db, dir) = fresh(backend, "concurrent");
    // Create the schema first, so the two do not race to create it.
    status(&db).expect("status");
    let path = data("lists/un/UN_consolidated_2026-02-27.xml");
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| import(&db, &path, None, day(1)).expect("imports")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("joins"))
            .collect()
    });
    assert_eq!(
        reports.iter().filter(|r| r.changed).count(),
        1,
        "{reports:#?}"
    );
    assert!(reports.iter().all(|r| r.version == reports[0].version));
    assert_eq!(status(&db).expect("status").len(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

on_both!(
    concurrent_imports_store_one_version,
    concurrent_imports_store_one_version_sqlite,
    concurrent_imports_store_one_version_postgres
);
