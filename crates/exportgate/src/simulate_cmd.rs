//! `exportgate simulate`: replay an order book under what-if scenarios and report what changes
//! (the simulator itself is the pure `exportgate-simulate` crate; this is its I/O edge).
//!
//! Every scenario is read and validated before the book is read, so a bad scenario file fails
//! fast with exit code 2. Parties are screened once per order (the lists are the same in every
//! scenario).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use exportgate_core::ListHit;
use exportgate_lists::source::ScreeningSource;
use exportgate_simulate::report::OrderError;
use exportgate_simulate::{render, simulate, BaseData, BuiltScenario, Scenario, BUILTINS};
use rayon::prelude::*;

use crate::check_cmd::{jsonl_lines, parse_csv, parse_jsonl};
use crate::input::read_all;
use crate::{user, InputFormat, ScreeningArgs};

/// Output format of `simulate`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimFormat {
    Table,
    Json,
    Html,
}

/// Flips listed in the table and in the HTML page (JSON lists them all).
const TABLE_FLIPS: usize = 20;
const HTML_FLIPS: usize = 200;

/// Read and build every scenario: a built-in name or a scenario file.
pub fn load_scenarios(args: &[String]) -> anyhow::Result<Vec<BuiltScenario>> {
    let base = BaseData::embedded();
    let names: Vec<String> = if args.is_empty() {
        BUILTINS.iter().map(|s| s.to_string()).collect()
    } else {
        args.to_vec()
    };
    let mut built: Vec<BuiltScenario> = Vec::new();
    for arg in &names {
        let scenario = match Scenario::builtin(arg) {
            Some(s) => s,
            None => {
                let path = Path::new(arg);
                if !path.is_file() {
                    return Err(user(format!(
                        "--scenario `{arg}`: not a built-in scenario ({}) and no such file",
                        BUILTINS.join(", ")
                    )));
                }
                let text = std::fs::read_to_string(path)
                    .map_err(|e| user(format!("--scenario `{arg}`: cannot read: {e}")))?;
                Scenario::from_json(arg, &text).map_err(|e| user(e.to_string()))?
            }
        };
        if built.iter().any(|b| b.scenario.name == scenario.name) {
            return Err(user(format!(
                "--scenario `{arg}`: a scenario named `{}` is already given",
                scenario.name
            )));
        }
        built.push(scenario.build(&base).map_err(|e| user(e.to_string()))?);
    }
    Ok(built)
}

pub fn simulate_cmd(
    path: &Path,
    scenario_args: &[String],
    format: SimFormat,
    out: Option<&Path>,
    input: Option<InputFormat>,
    screening: &ScreeningArgs,
) -> anyhow::Result<ExitCode> {
    // Scenarios first: a bad one fails before lists or orders are read.
    let scenarios = load_scenarios(scenario_args)?;
    let source: &ScreeningSource = &screening.open()?;
    let bytes = read_all(path)?;
    let input = input.unwrap_or(
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            InputFormat::Csv
        } else {
            InputFormat::Jsonl
        },
    );
    let parsed = match input {
        InputFormat::Jsonl => parse_jsonl(&jsonl_lines(&bytes)),
        InputFormat::Csv => parse_csv(&bytes)?,
    };
    drop(bytes);
    let mut errors: Vec<OrderError> = Vec::new();
    let mut orders = Vec::with_capacity(parsed.len());
    let mut lines = Vec::with_capacity(parsed.len());
    for (line, p) in parsed {
        match p {
            Ok(o) => {
                orders.push(o);
                lines.push(line);
            }
            Err(e) => errors.push(OrderError {
                line: Some(e.line),
                id: e.id,
                field: e.field,
                message: e.message,
            }),
        }
    }
    // Screen every order once; an order whose parties cannot be screened is an error line.
    let hits: Vec<Result<Vec<ListHit>, String>> =
        orders.par_iter().map(|o| source.hits(o)).collect();
    let mut kept_orders = Vec::with_capacity(orders.len());
    let mut kept_hits = Vec::with_capacity(orders.len());
    let mut kept_lines = Vec::with_capacity(orders.len());
    for ((o, h), line) in orders.into_iter().zip(hits).zip(lines) {
        match h {
            Ok(h) => {
                kept_orders.push(o);
                kept_hits.push(h);
                kept_lines.push(line);
            }
            Err(m) => errors.push(OrderError {
                line: Some(line),
                id: Some(o.id.clone()),
                field: m.split(':').next().unwrap_or("name").to_string(),
                message: m,
            }),
        }
    }
    let mut report = simulate(&kept_orders, &scenarios, |i| {
        source.screening(&kept_hits[i])
    });
    report.orders += errors.len() as u64;
    // Lines for the orders the engine could not decide.
    let line_of: HashMap<&str, usize> = kept_orders
        .iter()
        .zip(&kept_lines)
        .rev()
        .map(|(o, l)| (o.id.as_str(), *l))
        .collect();
    for e in &mut report.errors {
        if e.line.is_none() {
            e.line = e.id.as_deref().and_then(|id| line_of.get(id).copied());
        }
    }
    errors.append(&mut report.errors);
    errors.sort_by_key(|e| e.line);
    report.errors = errors;

    let text = match format {
        SimFormat::Table => render::table(&report, TABLE_FLIPS),
        SimFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        SimFormat::Html => render::html(&report, HTML_FLIPS),
    };
    match out {
        Some(p) => {
            // Write beside and rename, so a failed run leaves no half-written report.
            let tmp = p.with_extension("partial");
            std::fs::write(&tmp, text.as_bytes())
                .map_err(|e| user(format!("cannot write `{}`: {e}", tmp.display())))?;
            std::fs::rename(&tmp, p)?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = stdout.lock();
            w.write_all(text.as_bytes())?;
            w.flush()?;
        }
    }
    let summary: Vec<String> = report
        .scenarios
        .iter()
        .map(|s| {
            format!(
                "{}: {} licence required, {} held",
                s.name, s.by_outcome.0[3].orders, s.by_outcome.0[4].orders
            )
        })
        .collect();
    eprintln!(
        "{} orders under {} scenarios; {} flips; {}; errors {}",
        report.orders,
        report.scenarios.len(),
        report.flips.len(),
        summary.join("; "),
        report.errors.len()
    );
    for e in report.errors.iter().take(20) {
        eprintln!(
            "error: {}{}field `{}`: {}",
            e.line.map(|l| format!("line {l}: ")).unwrap_or_default(),
            e.id.as_ref()
                .map(|i| format!("order `{i}`: "))
                .unwrap_or_default(),
            e.field,
            e.message
        );
    }
    if source.unscreened() {
        eprintln!("warning: parties were not screened (no lists loaded); no decision is clean\n\nhint: pass `--lists FILE` or `--screened-externally`, or run `exportgate lists import FILE`");
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
