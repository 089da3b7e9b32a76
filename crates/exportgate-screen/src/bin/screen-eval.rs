//! screen-eval: measures screening quality on the labelled sets in `../shared/data/eval`.
//!
//! `cargo run --release -p exportgate-screen --bin screen-eval [-- DATA_DIR] [--verbose]`
//!
//! Prints precision / recall / F1 at the default threshold on nomenklatura's
//! `name_bench_cases.csv` beside the frozen logic-v2 scores, recall on yente's treated UN
//! positives, the share of yente's 50,000 global negatives that hit, and the watchman
//! cross-script pairs. `--verbose` also lists every failure: the name_bench pairs decided
//! wrongly, the positives missed and the negatives that hit (`un-fp:` against the UN list,
//! `fp:` against all lists, with the best hit).

use std::time::Instant;

use chrono::NaiveDate;
use exportgate_screen::parse::{self, parse_ofac_set, OfacFiles};
use exportgate_screen::{
    name_score, AllowList, Format, ListEntry, Normalizer, Party, ScoreParams, ScreenConfig,
    Screener, DEFAULT_THRESHOLD,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "--verbose");
    let data = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
        });
    let read = |rel: &str| {
        std::fs::read(format!("{data}/{rel}"))
            .unwrap_or_else(|e| panic!("cannot read `{rel}`: {e}"))
    };
    let threshold = DEFAULT_THRESHOLD;
    let mut params = ScoreParams::default();
    // Tuning knobs (for exploring; the reported figures use the defaults).
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f32>().ok());
    if let Some(v) = env("EG_UQ") {
        params.query_unmatched_weight = v;
    }
    if let Some(v) = env("EG_UC") {
        params.entry_unmatched_weight = v;
    }
    if let Some(v) = env("EG_CONFLICT") {
        params.conflict_weight = v;
    }
    if let Some(v) = env("EG_INITIAL") {
        params.initial_similarity = v;
    }
    if let Some(v) = env("EG_NUM") {
        params.number_mismatch_factor = v;
    }
    let threshold = env("EG_T").unwrap_or(threshold);
    let norm = Normalizer::new();
    println!("screen-eval: default threshold {threshold:.2}\n");

    // 1. nomenklatura name_bench_cases.csv vs logic-v2 (frozen).
    let cases = read_csv(&read("eval/nomenklatura/name_bench_cases.csv"));
    let h = header_index(&cases[0]);
    let mut ours = Confusion::default();
    let mut fails: Vec<String> = Vec::new();
    for row in &cases[1..] {
        let (a, b) = (&row[h("name1")], &row[h("name2")]);
        let truth = row[h("is_match")] == "true";
        let s = name_score(&norm, a, b, &params);
        let pred = s >= threshold;
        ours.add(truth, pred);
        if pred != truth {
            fails.push(format!(
                "  {} {:.3} {} | {} [{}]",
                if truth { "FN" } else { "FP" },
                s,
                a,
                b,
                row[h("category")]
            ));
        }
    }
    let mut sweep = String::from("  F1 by threshold:");
    for t in [0.70f32, 0.75, 0.80, 0.85, 0.90] {
        let mut c = Confusion::default();
        for row in &cases[1..] {
            let s = name_score(&norm, &row[h("name1")], &row[h("name2")], &params);
            c.add(row[h("is_match")] == "true", s >= t);
        }
        sweep.push_str(&format!(" {t:.2}:{:.4}", c.f1()));
    }
    let frozen = read_csv(&read("eval/nomenklatura/name_bench_logicv2_frozen.csv"));
    let fh = header_index(&frozen[0]);
    let mut v2 = Confusion::default();
    for row in &frozen[1..] {
        v2.add(
            row[fh("is_match")] == "true",
            row[fh("predicted_match")] == "true",
        );
    }
    println!(
        "name_bench_cases.csv ({} pairs)        precision  recall     F1",
        cases.len() - 1
    );
    println!(
        "  exportgate-screen @ {threshold:.2}          {}",
        ours.line()
    );
    println!(
        "  logic-v2 (frozen, {} pairs)         {}",
        frozen.len() - 1,
        v2.line()
    );
    println!("{sweep}");
    if verbose {
        for f in &fails {
            println!("{f}");
        }
    }

    // 2. Cross-script pairs (watchman).
    let text = String::from_utf8_lossy(&read("eval/watchman/cross_script_pairs.csv")).into_owned();
    let mut pass = 0;
    let mut total = 0;
    println!("\nwatchman cross_script_pairs.csv (hit = score >= {threshold:.2})");
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.splitn(4, ',').collect();
        if f.len() < 3 {
            continue;
        }
        let s = name_score(&norm, f[0], f[1], &params);
        total += 1;
        if s >= threshold {
            pass += 1;
        }
        println!(
            "  {:<6} {:.3}  {} -> {}",
            if s >= threshold { "hit" } else { "miss" },
            s,
            f[0],
            f[1]
        );
    }
    println!("  {pass}/{total} hit");

    // 3. yente UN positives and global negatives, against the UN list and against all lists.
    let t0 = Instant::now();
    let un = parse::parse(
        &read("lists/un/UN_consolidated_2026-02-27.xml"),
        "un.xml",
        Format::UnXml,
    )
    .expect("UN list parses");
    let config = ScreenConfig {
        threshold,
        params,
        ..ScreenConfig::default()
    };
    let config = ScreenConfig {
        candidate_cap: std::env::var("EG_CAP")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(config.candidate_cap),
        ..config
    };
    let un_screener = Screener::with_config(un.entries.clone(), Vec::new(), config);
    let mut all: Vec<ListEntry> = un.entries;
    let csl = parse::parse(
        &read("lists/csl_2026-07-31/screening-list.json"),
        "csl.json",
        Format::CslCompactJson,
    )
    .expect("CSL parses");
    all.extend(csl.entries);
    let (s, a, d) = (
        read("lists/ofac_2025-12/cons_prim.csv"),
        read("lists/ofac_2025-12/cons_alt.csv"),
        read("lists/ofac_2025-12/cons_add.csv"),
    );
    let cons = parse_ofac_set(
        &OfacFiles {
            primary: ("cons_prim.csv", &s),
            add: Some(("cons_add.csv", &d)),
            alt: Some(("cons_alt.csv", &a)),
        },
        Format::OfacCons,
    )
    .expect("cons parses");
    all.extend(cons.entries);
    let all_count = all.len();
    let all_screener = Screener::with_config(all, Vec::new(), config);
    println!(
        "\nindexes built in {:.2}s (UN: {} entries; all lists: {} entries, {} names)",
        t0.elapsed().as_secs_f64(),
        un_screener.entries().len(),
        all_count,
        all_screener.variant_count()
    );
    let as_of = NaiveDate::from_ymd_opt(2026, 8, 1).expect("valid date");
    let allow = AllowList::new();
    let hits = |scr: &Screener, name: &str| -> Option<bool> {
        scr.screen(&Party::named(name), as_of, &allow)
            .ok()
            .map(|r| !r.hits.is_empty())
    };
    let pos = read_csv(&read("eval/yente/positives_un_treated.csv"));
    let ph = header_index(&pos[0]);
    let (mut un_hit, mut all_hit, mut n_pos) = (0, 0, 0);
    for row in &pos[1..] {
        let name = &row[ph("full_name")];
        n_pos += 1;
        if hits(&un_screener, name) == Some(true) {
            un_hit += 1;
        } else if verbose {
            println!("  miss: {name}");
        }
        if hits(&all_screener, name) == Some(true) {
            all_hit += 1;
        }
    }
    println!("\nyente positives_un_treated.csv ({n_pos} names): recall");
    println!(
        "  against the UN list:          {:.4} ({un_hit}/{n_pos})",
        un_hit as f64 / n_pos as f64
    );
    println!(
        "  against UN + CSL 2026 + cons: {:.4} ({all_hit}/{n_pos})",
        all_hit as f64 / n_pos as f64
    );

    let neg = read_csv(&read("eval/yente/negatives_global.csv"));
    let nh = header_index(&neg[0]);
    let (mut un_fp, mut all_fp, mut n_neg, mut errors) = (0, 0, 0, 0);
    let t1 = Instant::now();
    let mut shown = 0;
    let neg_limit = std::env::var("EG_NEG")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    for row in neg[1..].iter().take(neg_limit) {
        let name = &row[nh("full_name")];
        n_neg += 1;
        match hits(&un_screener, name) {
            Some(true) => {
                un_fp += 1;
                if verbose {
                    let r = un_screener
                        .screen(&Party::named(name), as_of, &allow)
                        .expect("screened");
                    let h = &r.hits[0];
                    println!("  un-fp: {name} -> {} {:.3}", h.matched_alias, h.score);
                }
            }
            Some(false) => {}
            None => errors += 1,
        }
        if hits(&all_screener, name) == Some(true) {
            all_fp += 1;
            if verbose && shown < 700 {
                shown += 1;
                let r = all_screener
                    .screen(&Party::named(name), as_of, &allow)
                    .expect("screened");
                let h = &r.hits[0];
                println!(
                    "  fp: {name} -> {} [{}] {:.3}",
                    h.matched_alias, h.list, h.score
                );
            }
        }
    }
    println!(
        "\nyente negatives_global.csv ({n_neg} names, {:.1}s): share that hit",
        t1.elapsed().as_secs_f64()
    );
    println!(
        "  against the UN list:          {:.4} ({un_fp})",
        un_fp as f64 / n_neg as f64
    );
    println!(
        "  against UN + CSL 2026 + cons: {:.4} ({all_fp})",
        all_fp as f64 / n_neg as f64
    );
    if errors > 0 {
        println!("  ({errors} names refused as queries)");
    }
}

#[derive(Default)]
struct Confusion {
    tp: u32,
    fp: u32,
    tn: u32,
    fn_: u32,
}

impl Confusion {
    fn add(&mut self, truth: bool, pred: bool) {
        match (truth, pred) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }
    fn f1(&self) -> f64 {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
    fn line(&self) -> String {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        format!(
            "{p:.4}     {r:.4}     {f1:.4}   (TP {} FP {} TN {} FN {})",
            self.tp, self.fp, self.tn, self.fn_
        )
    }
}

fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    rdr.records()
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .collect()
}

fn header_index(header: &[String]) -> impl Fn(&str) -> usize + '_ {
    move |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .unwrap_or_else(|| panic!("no column `{name}`"))
    }
}
