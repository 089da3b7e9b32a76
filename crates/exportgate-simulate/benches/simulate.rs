//! Benchmark of the what-if simulator: 1,000,000 generated orders replayed under 3 scenarios
//! (`current`, `ai-diffusion-2025` and the example March 2026 draft), in process, screening
//! recorded as external. Prints the time to generate the book (not counted), the time to
//! simulate, and the load average before and after (the machine may be shared).
//!
//! Run: `cargo bench -p exportgate-simulate --bench simulate` (`EXPORTGATE_BENCH_LINES` sets
//! another size).

use std::time::Instant;

use exportgate_core::Screening;
use exportgate_sample::{generate, BookSpec};
use exportgate_simulate::{render, simulate, BaseData, Scenario};

/// The same allocator as the `exportgate` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let lines: usize = std::env::var("EXPORTGATE_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let draft = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/scenarios/draft-2026-gb300-tiers.json"
    ))
    .expect("example scenario");
    let base = BaseData::embedded();
    let scenarios = [
        Scenario::builtin("current").unwrap().build(&base).unwrap(),
        Scenario::builtin("ai-diffusion-2025")
            .unwrap()
            .build(&base)
            .unwrap(),
        Scenario::from_json("draft", &draft)
            .unwrap()
            .build(&base)
            .unwrap(),
    ];
    let start = Instant::now();
    let book = generate(&BookSpec::new(lines, 42));
    println!(
        "generated {lines} orders in {:.2} s (not counted)",
        start.elapsed().as_secs_f64()
    );
    let before = loadavg();
    let start = Instant::now();
    let report = simulate(&book, &scenarios, |_| Screening::External);
    let secs = start.elapsed().as_secs_f64();
    let after = loadavg();
    println!(
        "simulated {lines} orders under {} scenarios in {secs:.2} s = {:.0} decisions/s on {} threads; {} flips; {} errors",
        scenarios.len(),
        (lines * scenarios.len()) as f64 / secs,
        rayon::current_num_threads(),
        report.flips.len(),
        report.errors.len()
    );
    for s in &report.scenarios {
        let parts: Vec<String> = exportgate_simulate::report::OUTCOMES
            .iter()
            .zip(&s.by_outcome.0)
            .map(|(o, st)| format!("{} {}", o.as_str(), st.orders))
            .collect();
        println!("  {}: {}", s.name, parts.join(", "));
    }
    let start = Instant::now();
    let json = serde_json::to_string(&report).unwrap();
    let html = render::html(&report, 200);
    println!(
        "rendered JSON ({:.1} MB) and HTML ({:.1} MB) in {:.2} s",
        json.len() as f64 / 1e6,
        html.len() as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    println!(
        "load average (1, 5, 15 min): before {before}; after {after}; cores {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
}
