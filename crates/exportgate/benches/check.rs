//! Benchmark of `check`: rule evaluations per second on one core (in process, screening left
//! out), and the `exportgate check` command over a 1,000,000-line generated book end to end,
//! once with screening recorded as external and once screening every party against the real
//! 2026 Consolidated Screening List; then the same book with its consignees kept as party
//! records (issue 16: within 20% of the plain book), the two run in turns, with the decisions
//! written to a file and thrown away.
//!
//! Run: `cargo bench -p exportgate --bench check` (`EXPORTGATE_BENCH_LINES` sets another size).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use exportgate_core::decide::Decider;
use exportgate_core::{NoQuotas, Ruleset, Screening};
use exportgate_sample::{generate, generate_with_parties, BookSpec};

/// The same allocator as the `exportgate` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Writes one JSON line per item.
fn write_jsonl<T: serde::Serialize>(path: &Path, items: &[T]) {
    let mut text = String::new();
    for item in items {
        text.push_str(&serde_json::to_string(item).unwrap());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// Times `exportgate check INPUT ARGS`, its decisions written to `out` (`--out`: a temporary
/// file renamed into place), or thrown away unread when `out` is `None`. An earlier run's
/// output is removed first, outside the timing, so no run pays for freeing another's pages.
fn run_check(input: &Path, out: Option<&Path>, extra: &[&str]) -> f64 {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_exportgate"));
    cmd.args(["check", input.to_str().unwrap()]);
    match out {
        Some(out) => {
            if out.exists() {
                std::fs::remove_file(out).unwrap();
            }
            cmd.args(["--out", out.to_str().unwrap()]);
        }
        None => {
            cmd.stdout(std::process::Stdio::null());
        }
    }
    cmd.args(extra);
    let start = Instant::now();
    let status = cmd.status().unwrap();
    assert!(status.success());
    start.elapsed().as_secs_f64()
}

fn main() {
    let lines: usize = std::env::var("EXPORTGATE_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rs = Ruleset::embedded().expect("embedded data");
    let book = generate(&BookSpec::new(lines, 42));

    // One core, in process: decide already-parsed orders, no output.
    let decider = Decider::new(&rs, &[]);
    // Every fifth order: the book is in date order, so a prefix would be the oldest rules only.
    let step = (book.len() / 200_000).max(1);
    let sample: Vec<_> = book.iter().step_by(step).collect();
    let start = Instant::now();
    let mut rules = 0u64;
    for o in &sample {
        let d = decider
            .decide(o, &NoQuotas, Screening::External)
            .expect("generated orders are valid");
        rules += u64::from(d.rules_evaluated);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "one core, in process: {} orders in {secs:.2} s = {:.0} orders/s; {rules} rule evaluations = {:.0} rule evaluations/s",
        sample.len(),
        sample.len() as f64 / secs,
        rules as f64 / secs
    );

    // End to end: the release binary over a JSONL file, on every core.
    let dir = std::env::temp_dir().join(format!("exportgate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("orders.jsonl");
    write_jsonl(&input, &book);
    drop(book);
    let out = dir.join("decisions.jsonl");
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let secs = run_check(&input, Some(&out), &["--screened-externally"]);
    println!("end to end, `exportgate check --screened-externally` ({threads} threads): {lines} lines in {secs:.2} s = {:.0} lines/s", lines as f64 / secs);
    let csl = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/lists/csl_2026-07-31/screening-list.json"
    );
    if Path::new(csl).exists() {
        let secs = run_check(&input, Some(&out), &["--lists", csl]);
        println!("end to end, `exportgate check --lists <CSL 2026>` ({threads} threads): {lines} lines in {secs:.2} s = {:.0} lines/s", lines as f64 / secs);
    }
    party_book(&dir, &input, &out, lines);
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 16's target: the book whose lines reference party records (`sample-orders --parties`:
/// most by id, some by name, some inline), checked against the records, within 20% of the
/// plain book checked against an empty database. Measured twice, seven runs of each book in
/// turns, medians: with the decisions written to a file (end to end, including the page
/// cache taking every byte), and with them thrown away (what `check` itself costs). The party
/// book's lines carry a `due_diligence` section, so it writes more bytes; their sizes are
/// printed too.
fn party_book(dir: &Path, plain: &Path, out: &Path, lines: usize) {
    let (parties, book) = generate_with_parties(&BookSpec::new(lines, 42));
    let parties_file = dir.join("parties.jsonl");
    write_jsonl(&parties_file, &parties);
    let input = dir.join("party-book.jsonl");
    write_jsonl(&input, &book);
    drop(book);
    let db = format!("sqlite://{}", dir.join("parties.sqlite").display());
    let empty = format!("sqlite://{}", dir.join("empty.sqlite").display());
    let exportgate = |args: &[&str]| {
        let status = Command::new(env!("CARGO_BIN_EXE_exportgate"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "exportgate {args:?}");
    };
    exportgate(&[
        "parties",
        "add",
        parties_file.to_str().unwrap(),
        "--db",
        &db,
    ]);
    exportgate(&["db", "migrate", "--db", &empty]);
    let with_args = ["--screened-externally", "--db", &db];
    let without_args = ["--screened-externally", "--db", &empty];
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64 / 1e9;
    for (how, out) in [("written to a file", Some(out)), ("thrown away", None)] {
        // One run: its time, and the gigabytes it wrote (0 when thrown away).
        let timed =
            |book: &Path, args: &[&str]| (run_check(book, out, args), out.map_or(0.0, size));
        let (mut with, mut without) = (Vec::new(), Vec::new());
        let (mut with_gb, mut without_gb) = (0.0, 0.0);
        for _ in 0..7 {
            let (secs, gb) = timed(&input, &with_args);
            with.push(secs);
            with_gb = gb;
            let (secs, gb) = timed(plain, &without_args);
            without.push(secs);
            without_gb = gb;
        }
        let (with, without) = (median(&mut with), median(&mut without));
        let bytes = match out {
            Some(_) => format!(
                " ({with_gb:.2} GB of decisions against {without_gb:.2} GB = {:.2}x the bytes)",
                with_gb / without_gb
            ),
            None => String::new(),
        };
        println!(
            "end to end, decisions {how}, {lines} lines referencing {} party records: {with:.2} s against {without:.2} s for the plain book = {:.2}x (target 1.20x; medians of 7, run in turns){bytes}",
            parties.len(),
            with / without
        );
    }
}
