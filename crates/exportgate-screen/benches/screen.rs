//! Screening benchmark: 100,000 queries against the full 2026 CSL on one core, with
//! queries/s and p50/p99 latency; load and index-build time reported separately; and, in the
//! same run, the rapidfuzz `process.extractOne(WRatio)` baseline (`benches/rapidfuzz_baseline.py`)
//! on a sample of the same queries over the same normalised names, with recall for both.
//!
//! `cargo bench -p exportgate-screen --bench screen` (set `EG_BENCH_QUERIES` to change the
//! count, `EG_BENCH_BASELINE=0` to skip the Python baseline).

use std::io::Write as _;
use std::time::Instant;

use chrono::NaiveDate;
use exportgate_screen::parse;
use exportgate_screen::{AllowList, Format, Party, Screener};

/// The same allocator as the `exportgate` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// A small deterministic generator (no dependency, same queries every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A query and, for positives, the entry id that must be among the hits.
struct Query {
    name: String,
    expect: Option<String>,
}

/// Perturbs a name the way order entry does: a typo, a dropped or swapped word, case.
fn perturb(rng: &mut Lcg, name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    match rng.below(5) {
        0 => name.to_string(),
        1 => name.to_lowercase(),
        2 if words.len() >= 2 => {
            let mut w = words.clone();
            w.swap(0, 1);
            w.join(" ")
        }
        3 => {
            // One character substituted or deleted in the longest word.
            let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
            if let Some(i) = (0..w.len()).max_by_key(|&i| w[i].chars().count()) {
                let chars: Vec<char> = w[i].chars().collect();
                if chars.len() >= 5 {
                    let p = 1 + rng.below(chars.len() - 2);
                    let mut c = chars.clone();
                    if rng.below(2) == 0 {
                        c.remove(p);
                    } else {
                        c[p] = if c[p] == 'e' { 'a' } else { 'e' };
                    }
                    w[i] = c.into_iter().collect();
                }
            }
            w.join(" ")
        }
        _ => name.to_uppercase(),
    }
}

/// CPU time of the calling thread in nanoseconds (Linux `schedstat`), if available.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn percentile(sorted: &[u128], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let n_queries: usize = std::env::var("EG_BENCH_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let run_baseline = std::env::var("EG_BENCH_BASELINE")
        .map(|v| v != "0")
        .unwrap_or(true);

    let t = Instant::now();
    let bytes = std::fs::read(format!("{DATA}/lists/csl_2026-07-31/screening-list.json"))
        .expect("CSL file");
    let parsed =
        parse::parse(&bytes, "screening-list.json", Format::CslCompactJson).expect("CSL parses");
    let load_s = t.elapsed().as_secs_f64();
    let entries = parsed.entries;
    let t = Instant::now();
    let mut config = exportgate_screen::ScreenConfig::default();
    if let Some(cap) = std::env::var("EG_CAP").ok().and_then(|v| v.parse().ok()) {
        config.candidate_cap = cap;
    }
    let screener = Screener::with_config(entries.clone(), Vec::new(), config);
    let build_s = t.elapsed().as_secs_f64();
    println!(
        "load (read + parse) {:.3}s; index build {:.3}s; {} entries, {} names",
        load_s,
        build_s,
        entries.len(),
        screener.variant_count()
    );

    // Queries: half perturbed list names (with the entry they must find), half yente's
    // synthetic negatives.
    let neg_text =
        std::fs::read(format!("{DATA}/eval/yente/negatives_global.csv")).expect("negatives");
    let mut rdr = csv::Reader::from_reader(neg_text.as_slice());
    let negatives: Vec<String> = rdr
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| r.get(0).map(str::to_string))
        .collect();
    let mut rng = Lcg(0x5eed);
    let mut queries = Vec::with_capacity(n_queries);
    for i in 0..n_queries {
        if i % 2 == 0 {
            let e = &entries[rng.below(entries.len())];
            let names = e.all_names();
            let n = names[rng.below(names.len())];
            queries.push(Query {
                name: perturb(&mut rng, n),
                expect: Some(e.id.clone()),
            });
        } else {
            queries.push(Query {
                name: negatives[rng.below(negatives.len())].clone(),
                expect: None,
            });
        }
    }

    let as_of = NaiveDate::from_ymd_opt(2026, 8, 1).expect("date");
    let allow = AllowList::new();
    let mut lat = Vec::with_capacity(queries.len());
    let (mut pos, mut found, mut neg_hit, mut errors) = (0usize, 0usize, 0usize, 0usize);
    let mut found_flags = Vec::with_capacity(queries.len());
    let cpu0 = thread_cpu_ns();
    let t = Instant::now();
    for q in &queries {
        let t0 = Instant::now();
        let r = screener.screen(&Party::named(&q.name), as_of, &allow);
        lat.push(t0.elapsed().as_nanos());
        let ok = match (&r, &q.expect) {
            (Ok(r), Some(id)) => r.hits.iter().any(|h| &h.entry_id == id),
            (Ok(r), None) => !r.hits.is_empty(),
            (Err(_), _) => false,
        };
        if r.is_err() {
            errors += 1;
        }
        if q.expect.is_some() {
            pos += 1;
            found += ok as usize;
        } else {
            neg_hit += ok as usize;
        }
        found_flags.push(ok);
    }
    let total = t.elapsed().as_secs_f64();
    let cpu = thread_cpu_ns().zip(cpu0).map(|(b, a)| (b - a) as f64 / 1e9);
    if std::env::var("EG_BENCH_SLOW").is_ok() {
        let mut idx: Vec<usize> = (0..lat.len()).collect();
        idx.sort_by_key(|&i| std::cmp::Reverse(lat[i]));
        for &i in idx.iter().take(15) {
            println!(
                "slow: {:>8.1} µs  {}",
                lat[i] as f64 / 1000.0,
                queries[i].name
            );
        }
    }
    lat.sort_unstable();
    println!(
        "{} queries on one core: {:.0} queries/s; p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        queries.len(),
        queries.len() as f64 / total,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0)
    );
    // On a shared machine the wall clock includes time other processes held the core: the
    // thread's own CPU time gives the throughput of one core.
    if let Some(cpu) = cpu {
        println!(
            "  thread CPU time {cpu:.2}s of {total:.2}s wall: {:.0} queries per CPU-second; load average {}",
            queries.len() as f64 / cpu,
            std::fs::read_to_string("/proc/loadavg")
                .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|_| "unknown".into())
        );
    }
    println!(
        "recall on perturbed list names {:.4} ({found}/{pos}); negatives with a hit {:.4} ({neg_hit}/{}); refused queries {errors}",
        found as f64 / pos.max(1) as f64,
        neg_hit as f64 / (queries.len() - pos).max(1) as f64,
        queries.len() - pos
    );

    if !run_baseline {
        return;
    }
    // Baseline: rapidfuzz extractOne(WRatio) over the same normalised names, on a sample of
    // the positive queries.
    let dir = std::env::temp_dir().join(format!("exportgate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let norm = screener.normalizer();
    let key = |s: &str| {
        norm.normalize(s)
            .tokens
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut choices = std::fs::File::create(dir.join("choices.tsv")).expect("file");
    for e in &entries {
        for n in e.all_names() {
            writeln!(choices, "{}\t{}", e.id, key(n)).expect("write");
        }
    }
    drop(choices);
    let sample: Vec<(usize, &Query)> = queries
        .iter()
        .enumerate()
        .filter(|(_, q)| q.expect.is_some())
        .take(200)
        .collect();
    let mut qf = std::fs::File::create(dir.join("queries.tsv")).expect("file");
    for (_, q) in &sample {
        writeln!(
            qf,
            "{}\t{}",
            q.expect.as_deref().unwrap_or(""),
            key(&q.name)
        )
        .expect("write");
    }
    drop(qf);
    let ours = sample.iter().filter(|(i, _)| found_flags[*i]).count();
    println!(
        "exportgate-screen on the same {} positive queries: recall {:.4}",
        sample.len(),
        ours as f64 / sample.len() as f64
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/rapidfuzz_baseline.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    match std::process::Command::new(&python)
        .arg(script)
        .arg(dir.join("choices.tsv"))
        .arg(dir.join("queries.tsv"))
        .output()
    {
        Ok(out) if out.status.success() => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Ok(out) => println!(
            "baseline failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => println!("baseline not run: cannot start `{python}`: {e}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}
