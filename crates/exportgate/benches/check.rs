//! Benchmark of `check`: rule evaluations per second on one core (in-process), and the whole
//! `exportgate check` command over a 1,000,000-line generated book, end to end.
//!
//! Run: `cargo bench -p exportgate --bench check` (set `EXPORTGATE_BENCH_LINES` for another size).

use std::process::Command;
use std::time::Instant;

use exportgate_core::decide::Decider;
use exportgate_core::{NoQuotas, Ruleset};
use exportgate_sample::{generate, BookSpec};

fn main() {
    let lines: usize = std::env::var("EXPORTGATE_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rs = Ruleset::embedded().expect("embedded data");
    let book = generate(&BookSpec::new(lines, 42));

    // One core, in process: decide every order (already parsed), no output.
    let decider = Decider::new(&rs, &[]);
    let sample = &book[..book.len().min(200_000)];
    let start = Instant::now();
    let mut rules = 0u64;
    for o in sample {
        let d = decider
            .decide(o, &NoQuotas)
            .expect("generated orders are valid");
        rules += u64::from(d.rules_evaluated);
    }
    let secs = start.elapsed().as_secs_f64();
    println!("one core, in process: {} orders in {secs:.2} s = {:.0} orders/s; {rules} rule evaluations = {:.0} rule evaluations/s",
        sample.len(), sample.len() as f64 / secs, rules as f64 / secs);

    // End to end: the release binary over a JSONL file, both cores.
    let dir = std::env::temp_dir().join(format!("exportgate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("orders.jsonl");
    let mut text = String::with_capacity(lines * 400);
    for o in &book {
        text.push_str(&serde_json::to_string(o).unwrap());
        text.push('\n');
    }
    std::fs::write(&input, &text).unwrap();
    drop(text);
    let out = dir.join("decisions.jsonl");
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_exportgate"))
        .args([
            "check",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(status.success());
    println!(
        "end to end, `exportgate check` ({} threads): {lines} lines in {secs:.2} s = {:.0} lines/s",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        lines as f64 / secs
    );
    std::fs::remove_dir_all(&dir).ok();
}
