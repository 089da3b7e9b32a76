//! The decision corpus (`tests/corpus/decisions/*.json`) through three doors: the library
//! (`exportgate-pipeline`), the `exportgate check` command and `POST /v1/check` of a running
//! `exportgate serve`. Every case's outcome, exception, review policy, ECCN, conditions, rule
//! ids and licence must match its expectation, and the three doors must give identical
//! decisions for every order. Every party is screened against the real 2026 Consolidated
//! Screening List, and every door reads one ledger: the licences and LPP use that cases with a
//! `ledger` put there first (`exportgate licences add`, `exportgate ship`). Whole decisions of a
//! representative subset are snapshots (`tests/snapshots/`), so any change to a decision's JSON
//! is reviewed, not silent.

mod server_util;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use exportgate_core::{Order, Ruleset};
use exportgate_lists::source::ScreeningSource;
use exportgate_pipeline::{CheckRun, LineError, Parsed, Pipeline};
use serde_json::{json, Value};
use server_util::{csl, Server};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/decisions")
}

struct Case {
    file: String,
    name: String,
    regimes: Vec<String>,
    orders: Vec<Value>,
    /// What the ledger holds before the case: `licences` added, `veus` (record and installed
    /// compute) added, `shipped` orders shipped.
    ledger: Option<Value>,
    /// Party records (issue 16) added before the case, through `POST /v1/parties`.
    parties: Vec<Value>,
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
                    ["name", "note", "regimes", "order", "orders", "ledger", "parties", "expect"]
                        .contains(&k.as_str()),
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
                ledger: c.get("ledger").cloned(),
                parties: c
                    .get("parties")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
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
            "licence" => {
                if decision["licence"]["number"] != *want {
                    bad.push(format!(
                        "licence: expected {want}, got {}",
                        decision["licence"]["number"]
                    ));
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
            "not_conditions" => {
                for c in want.as_array().unwrap() {
                    if conditions.contains(&c.as_str().unwrap()) {
                        bad.push(format!("condition {c} should not be among {conditions:?}"));
                    }
                }
            }
            // The due-diligence policy's verdict: `hold` or `report` (absent: no section).
            "due_diligence_policy" => {
                if decision["due_diligence"]["policy"] != *want {
                    bad.push(format!(
                        "due_diligence.policy: expected {want}, got {}",
                        decision["due_diligence"]["policy"]
                    ));
                }
            }
            // Facts whose unknown flags are listed in `due_diligence.missing`.
            "missing_facts" => {
                let got: Vec<&str> = decision["due_diligence"]["missing"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|m| m["facts"].as_array().into_iter().flatten())
                    .filter_map(Value::as_str)
                    .collect();
                for f in want.as_array().unwrap() {
                    if !got.contains(&f.as_str().unwrap()) {
                        bad.push(format!("missing fact {f} not among {got:?}"));
                    }
                }
                if want.as_array().unwrap().is_empty() && !got.is_empty() {
                    bad.push(format!("expected no missing facts, got {got:?}"));
                }
            }
            // Where facts came from: `{"fact": "order" | "party:ID"}`.
            "sources" => {
                let sources = &decision["due_diligence"]["sources"];
                for (fact, src) in want.as_object().unwrap() {
                    let got = sources.as_object().and_then(|m| {
                        m.iter()
                            .find(|(_, facts)| {
                                facts
                                    .as_array()
                                    .is_some_and(|f| f.iter().any(|x| x == fact))
                            })
                            .map(|(k, _)| k.clone())
                    });
                    if got.as_deref() != src.as_str() {
                        bad.push(format!("source of {fact}: expected {src}, got {got:?}"));
                    }
                }
            }
            // The party records the decision drew on: `[[id, role, matched_by, current]]`.
            "parties" => {
                let got: Vec<Value> = decision["due_diligence"]["parties"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| json!([p["id"], p["role"], p["matched_by"], p["current"]]))
                    .collect();
                if &Value::Array(got.clone()) != want {
                    bad.push(format!("parties: expected {want}, got {got:?}"));
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

/// The corpus has one source of truth: the case tables of `tests/corpus/gen/decisions.py`.
/// Every JSON file is exactly what the script writes, and it writes no file that is not
/// committed; a hand edit to a JSON file, or a table changed without regenerating, fails here.
#[test]
fn the_corpus_files_are_what_the_generator_writes() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new("python3")
        .arg(corpus_dir().join("../gen/decisions.py"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("python3 runs tests/corpus/gen/decisions.py");
    assert!(
        run.status.success(),
        "the generator failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let names = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&corpus_dir()),
        names(out.path()),
        "the committed corpus files and the generator's differ"
    );
    for name in names(out.path()) {
        let made = std::fs::read(out.path().join(&name)).unwrap();
        let committed = std::fs::read(corpus_dir().join(&name)).unwrap();
        assert!(
            made == committed,
            "tests/corpus/decisions/{name} is not what tests/corpus/gen/decisions.py writes: \
             edit the case tables there and run `python3 tests/corpus/gen/decisions.py`"
        );
    }
}

#[test]
fn corpus_has_at_least_eighty_cases() {
    assert!(load_cases().len() >= 80);
}

/// A case's number in the book: from its file and name (FNV-1a), so adding a case changes no
/// other case's ids or names, and the snapshots only what changed.
fn tag(case: &Case) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in case.file.bytes().chain([b'/']).chain(case.name.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    h % 1_000_000
}

/// A case's order as every door sees it: order ids get the case's number, and (where LPP or a
/// ledger can count) consignee names too, so one case's LPP tally or licence cannot reach
/// another's. The names are made up, not list names, in every case renamed.
fn renamed(case: &Case, o: &Value) -> Value {
    let mut o = o.clone();
    o["id"] = Value::String(format!("c{}:{}", tag(case), o["id"].as_str().unwrap()));
    if !case.regimes.is_empty() || case.orders.len() > 1 || case.ledger.is_some() {
        let name = o["consignee"]["name"].as_str().unwrap().to_string();
        o["consignee"]["name"] = Value::String(format!("{name} {}", tag(case)));
    }
    o
}

fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exportgate"))
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Puts the cases' licences and shipped orders on the ledger in `db`, through the CLI.
fn set_up_ledger(cases: &[Case], db: &Path, dir: &Path) {
    for (i, case) in cases.iter().enumerate() {
        let Some(ledger) = &case.ledger else { continue };
        for l in ledger["licences"].as_array().into_iter().flatten() {
            let mut l = l.clone();
            for c in l["consignees"].as_array_mut().unwrap() {
                *c = Value::String(format!("{} {}", c.as_str().unwrap(), tag(case)));
            }
            let file = dir.join(format!("licence-{i}.json"));
            std::fs::write(&file, l.to_string()).unwrap();
            run_ok(
                exe()
                    .arg("licences")
                    .arg("add")
                    .arg(&file)
                    .arg("--db")
                    .arg(db),
            );
        }
        // Data Center VEUs (issue 21 item 3): the record, then its installed compute.
        for v in ledger["veus"].as_array().into_iter().flatten() {
            let file = dir.join(format!("veu-{i}.json"));
            std::fs::write(&file, v["veu"].to_string()).unwrap();
            run_ok(exe().args(["veu", "add"]).arg(&file).arg("--db").arg(db));
            let id = v["veu"]["id"].as_str().unwrap();
            for (country, tpp) in v["compute"].as_object().into_iter().flatten() {
                run_ok(
                    exe()
                        .args(["veu", "compute", "--veu", id, "--country", country])
                        .args(["--tpp", &tpp.to_string(), "--date", "2025-07-01", "--db"])
                        .arg(db),
                );
            }
        }
        if let Some(shipped) = ledger["shipped"].as_array() {
            let lines: Vec<String> = shipped
                .iter()
                .map(|o| renamed(case, o).to_string())
                .collect();
            let file = dir.join(format!("shipped-{i}.jsonl"));
            std::fs::write(&file, lines.join("\n") + "\n").unwrap();
            let mut cmd = exe();
            cmd.arg("ship")
                .arg(&file)
                .arg("--db")
                .arg(db)
                .arg("--lists")
                .arg(csl());
            for r in &case.regimes {
                cmd.arg("--regime").arg(r);
            }
            let out = run_ok(&mut cmd);
            for line in out.lines() {
                let d: Value = serde_json::from_str(line).unwrap();
                assert_ne!(d["outcome"], "error", "{d}");
            }
        }
    }
}

/// What the three doors must agree on, for one decision.
fn projection(d: &Value) -> Value {
    let rules: Vec<&Value> = d["reasons"]
        .as_array()
        .map(|r| r.iter().map(|x| &x["rule"]).collect())
        .unwrap_or_default();
    json!({
        "outcome": d["outcome"],
        "exception": d["exception"],
        "review_policy": d["review_policy"],
        "eccn": d["eccn"],
        "rules": rules,
        "conditions": d["conditions"],
        "licence": d["licence"],
        "unconfirmed": d["unconfirmed"],
        "error": d["error"],
    })
}

/// Cases whose whole decisions are snapshots: the first case of every file, and every case
/// with a ledger.
fn snapshot_subset(cases: &[Case]) -> Vec<usize> {
    let mut seen = std::collections::BTreeSet::new();
    (0..cases.len())
        .filter(|&i| seen.insert(cases[i].file.clone()) || cases[i].ledger.is_some())
        .collect()
}

#[test]
fn corpus_through_the_library_the_cli_and_http() {
    let cases = load_cases();
    let tags: std::collections::HashSet<u64> = cases.iter().map(tag).collect();
    assert_eq!(
        tags.len(),
        cases.len(),
        "two cases share a number: rename one"
    );
    let server = Server::start();
    let db = server.dir.path().join("db.sqlite");
    let dir = tempfile::tempdir().unwrap();
    set_up_ledger(&cases, &db, dir.path());
    // Party records through the API, which writes them to the database every door reads.
    let reviewer = server.key("reviewer", "corpus-kyc");
    for case in &cases {
        for p in &case.parties {
            let (status, body) =
                server.call("POST", "/v1/parties", Some(&reviewer), Some(&p.to_string()));
            assert_eq!(status, 201, "{}: {body}", case.name);
        }
    }

    // One book per set of forced regimes, in case order.
    let mut groups: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        groups.entry(c.regimes.clone()).or_default().push(i);
    }
    let rs = Ruleset::embedded().unwrap();
    let source =
        ScreeningSource::open(&[csl()], None, false, "2026-11-23".parse().unwrap()).unwrap();
    let mut store = exportgate_store::sqlite::SqliteStore::open(&db).unwrap();
    let parties = {
        use exportgate_core::kyc::{CheckedParty, PartyIndex};
        use exportgate_store::parties::PartyStore;
        let records =
            store.parties().unwrap().into_iter().map(|r| {
                CheckedParty::new(serde_json::from_value(r.record).unwrap(), &rs).unwrap()
            });
        exportgate_pipeline::Parties::new(PartyIndex::new(records, &rs))
    };
    let key = server.key("submitter", "corpus");
    // Decisions by order id, by door.
    let mut doors: [HashMap<String, Value>; 3] = Default::default();
    for (regimes, members) in &groups {
        let book: Vec<Value> = members
            .iter()
            .flat_map(|&i| cases[i].orders.iter().map(move |o| (i, o)))
            .map(|(i, o)| renamed(&cases[i], o))
            .collect();

        // The library.
        let pipeline = Pipeline::new(&rs, regimes, &source)
            .unwrap()
            .with_parties(&parties);
        let lines: Vec<Parsed> = book
            .iter()
            .enumerate()
            .map(|(n, o)| {
                let id = o["id"].as_str().map(str::to_string);
                let order =
                    Order::from_json(&o.to_string()).map_err(|e| LineError::spec(n + 1, id, e));
                (n + 1, order)
            })
            .collect();
        let results = pipeline
            .check_lines(&lines, &mut CheckRun::new(), Some(&mut store))
            .unwrap();
        for (o, r) in book.iter().zip(results) {
            let v = match r {
                Ok(d) => exportgate_pipeline::wire::to_value(&d).unwrap(),
                Err(e) => json!({"id": e.id, "error": {"field": e.field, "message": e.message}}),
            };
            doors[0].insert(o["id"].as_str().unwrap().into(), v);
        }

        // The CLI.
        let file = dir.path().join(format!("group-{}.jsonl", members[0]));
        let text: Vec<String> = book.iter().map(Value::to_string).collect();
        std::fs::write(&file, text.join("\n") + "\n").unwrap();
        let mut cmd = exe();
        cmd.arg("check")
            .arg(&file)
            .arg("--lists")
            .arg(csl())
            .arg("--db")
            .arg(&db);
        for r in regimes {
            cmd.arg("--regime").arg(r);
        }
        // Exit 2 says some lines were rejected: allowed where a case expects a rejection.
        let rejects = members
            .iter()
            .any(|&i| cases[i].expect.get("error").is_some());
        let out = cmd.output().unwrap();
        assert!(
            out.status.success() || rejects && out.status.code() == Some(2),
            "exit {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            doors[1].insert(v["id"].as_str().unwrap().into(), v);
        }

        // HTTP.
        let query: Vec<String> = regimes.iter().map(|r| format!("regime={r}")).collect();
        let path = format!("/v1/check?{}", query.join("&"));
        let (status, body) = server.call(
            "POST",
            &path,
            Some(&key),
            Some(&Value::Array(book.clone()).to_string()),
        );
        assert_eq!(status, 200, "{body}");
        for v in body.as_array().unwrap() {
            let mut v = v.clone();
            // An array element's error names its field after its place: `[3].end_use.tags[0]`.
            if let Some(field) = v["error"]["field"].as_str() {
                let bare = field.split_once("].").map_or(field, |(_, f)| f).to_string();
                v["error"]["field"] = Value::String(bare);
            }
            doors[2].insert(v["id"].as_str().unwrap().into(), v);
        }
    }

    let mut failures = Vec::new();
    let mut snapshot = BTreeMap::new();
    let subset = snapshot_subset(&cases);
    for (i, case) in cases.iter().enumerate() {
        let here = format!("{} / {}", case.file, case.name);
        for o in &case.orders {
            let id = format!("c{}:{}", tag(case), o["id"].as_str().unwrap());
            let [lib, cli, http] = doors.each_ref().map(|m| m.get(&id));
            let (Some(lib), Some(cli), Some(http)) = (lib, cli, http) else {
                failures.push(format!("{here}: order {id} missing from a door"));
                continue;
            };
            let want = projection(lib);
            for (door, got) in [("the CLI", cli), ("HTTP", http)] {
                if projection(got) != want {
                    failures.push(format!(
                        "{here}: order {id}: {door} differs from the library:\n    library: {want}\n    {door}: {}",
                        projection(got)
                    ));
                }
            }
        }
        let last = format!(
            "c{}:{}",
            tag(case),
            case.orders.last().unwrap()["id"].as_str().unwrap()
        );
        if let Some(d) = doors[0].get(&last) {
            let bad = mismatches(d, &case.expect);
            if !bad.is_empty() {
                failures.push(format!("{here}:\n    {}", bad.join("\n    ")));
            }
            if subset.contains(&i) {
                // The inputs' digests change with any data file: redacted here so the snapshot
                // does not churn, checked by `tests/evidence.rs`. Their presence is pinned.
                let mut d = d.clone();
                if let Some(inputs) = d.get_mut("inputs") {
                    *inputs = Value::String("[redacted: see tests/evidence.rs]".into());
                }
                snapshot.insert(format!("{}/{}", case.file, case.name), d);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    insta::assert_json_snapshot!("corpus_decisions", snapshot);
}
