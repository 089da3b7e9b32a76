//! `exportgate simulate`: replay an order book under what-if scenarios and report what changes
//! (the simulator itself is the pure `exportgate-simulate` crate; this is its I/O edge).
//!
//! Every scenario is read and validated before the book is read, so a bad scenario (or
//! `--policy`) file fails fast with exit code 2; with `--policy FILE` every scenario decides
//! under that due-diligence policy. The book is read in blocks and replayed block by block (it is never
//! in memory whole). Parties are screened once per order (the lists are the same in every
//! scenario).

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::sync_channel;

use clap::ValueEnum;
use exportgate_core::{ListHit, Order};
use exportgate_lists::source::ScreeningSource;
use exportgate_pipeline::flows::CapTally;
use exportgate_pipeline::licensing::Licensing;
use exportgate_pipeline::{LineError, Parsed};
use exportgate_simulate::caps::VolumeCaps;
use exportgate_simulate::report::OrderError;
use exportgate_simulate::{
    render, BaseData, BuiltScenario, Options, Scenario, Simulation, BUILTINS,
};
use rayon::prelude::*;

use crate::check_cmd::{jsonl_lines_from, parse_csv, parse_line, read_blocks, BLOCK_BYTES};
use crate::input::read_all;
use crate::{user, InputFormat, ScreeningArgs};

/// An order with its parties' screening hits, or why it has none.
type Screened = Result<(Order, Vec<ListHit>), LineError>;

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

/// Every scenario decides under the due-diligence policy file at `path` (`--policy`, as
/// `check` takes it), in place of the embedded one.
pub fn apply_policy(scenarios: &mut [BuiltScenario], path: &Path) -> anyhow::Result<()> {
    let text = crate::db::read_text(path)?;
    for b in scenarios {
        b.ruleset
            .set_due_diligence_policy(&path.display().to_string(), &text)
            .map_err(|e| user(format!("--policy {e} (scenario `{}`)", b.scenario.name)))?;
    }
    Ok(())
}

/// The licences and US-bound flows of the database (`--db`, `$EXPORTGATE_DB`), read once, or
/// why volume caps cannot be applied.
fn volume_caps(
    scenarios: &[BuiltScenario],
    screening: &ScreeningArgs,
) -> anyhow::Result<VolumeCaps> {
    let store = match screening.db_url()? {
        Some(url) => url.open_existing()?,
        None => None,
    };
    let (Some(mut store), Some(b)) = (store, scenarios.first()) else {
        return Ok(VolumeCaps::NotApplied(
            "no database (`--db` or `$EXPORTGATE_DB`): licences with a volume cap and the US-bound flows were not read, so no order is shown drawn within a cap".into(),
        ));
    };
    let licensing = Licensing::load(store.as_mut()).map_err(crate::db::store_error)?;
    let tally =
        CapTally::read(&b.ruleset, &licensing, store.as_mut()).map_err(crate::db::store_error)?;
    Ok(VolumeCaps::Applied { licensing, tally })
}

#[allow(clippy::too_many_arguments)]
pub fn simulate_cmd(
    path: &Path,
    scenario_args: &[String],
    format: SimFormat,
    out: Option<&Path>,
    input: Option<InputFormat>,
    screening: &ScreeningArgs,
    policy: Option<&Path>,
    veu: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    // Scenarios first: a bad one fails before lists or orders are read.
    let mut scenarios = load_scenarios(scenario_args)?;
    if let Some(path) = policy {
        apply_policy(&mut scenarios, path)?;
    }
    let veus = match veu {
        Some(path) => {
            let rs = &scenarios.first().map(|b| &b.ruleset);
            let text = crate::db::read_text(path)?;
            match rs {
                Some(rs) => exportgate_simulate::veu::parse_veus(rs, &text)
                    .map_err(|e| user(format!("`{}`: {e}", path.display())))?,
                None => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let source: &ScreeningSource = &screening.open()?;
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
    let mut sim = Simulation::new(&scenarios, Options::default());
    if veu.is_some() {
        sim = sim.with_veus(&veus);
    }
    sim = sim.with_volume_caps(volume_caps(&scenarios, screening)?);
    let mut errors: Vec<OrderError> = Vec::new();
    // Screen every order once and replay it; an order whose parties cannot be screened, or a
    // line that is not an order, is an error record.
    let mut replay = |parsed: Vec<Parsed>, errors: &mut Vec<OrderError>| {
        let screened: Vec<(usize, Screened)> = parsed
            .into_par_iter()
            .map(|(line, p)| {
                let r = p.and_then(|o| match source.hits(&o) {
                    Ok(h) => Ok((o, h)),
                    Err(e) => Err(LineError {
                        line,
                        id: Some(o.id.clone()),
                        message: e.to_string(),
                        field: e.field,
                    }),
                });
                (line, r)
            })
            .collect();
        let mut orders = Vec::with_capacity(screened.len());
        let mut hits = Vec::with_capacity(screened.len());
        let mut lines = Vec::with_capacity(screened.len());
        for (line, r) in screened {
            match r {
                Ok((o, h)) => {
                    orders.push(o);
                    hits.push(h);
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
        sim.feed(&orders, Some(&lines), |i| source.screening(&hits[i]));
        // Freeing the orders and their hits is real work: share it between the cores.
        rayon::join(|| drop(orders), || drop(hits));
    };
    match input {
        InputFormat::Jsonl => {
            // Read in blocks by a reader thread while the previous block is replayed, so the
            // book is never in memory whole.
            let reader: Box<dyn Read + Send> = if path == Path::new("-") {
                Box::new(std::io::stdin())
            } else {
                Box::new(
                    std::fs::File::open(path)
                        .map_err(|e| user(format!("cannot read `{}`: {e}", path.display())))?,
                )
            };
            let (tx, rx) = sync_channel(1);
            std::thread::spawn(move || read_blocks(reader, BLOCK_BYTES, tx));
            for block in rx {
                let block =
                    block.map_err(|e| user(format!("cannot read `{}`: {e}", path.display())))?;
                let lines = jsonl_lines_from(&block.bytes, block.first_line);
                let parsed: Vec<Parsed> = lines
                    .par_iter()
                    .map(|&(line, raw)| (line, parse_line(line, raw)))
                    .collect();
                replay(parsed, &mut errors);
            }
        }
        InputFormat::Csv => replay(parse_csv(&read_all(path)?)?, &mut errors),
    }
    let mut report = sim.finish();
    report.orders += errors.len() as u64;
    errors.append(&mut report.errors);
    errors.sort_by_key(|e| e.line);
    report.errors = errors;

    // The JSON report (every flip) is written as it is serialised, never held as text.
    let write = |w: &mut dyn Write| -> anyhow::Result<()> {
        match format {
            SimFormat::Table => w.write_all(render::table(&report, TABLE_FLIPS).as_bytes())?,
            SimFormat::Json => {
                serde_json::to_writer_pretty(&mut *w, &report)?;
                w.write_all(b"\n")?;
            }
            SimFormat::Html => w.write_all(render::html(&report, HTML_FLIPS).as_bytes())?,
        }
        w.flush()?;
        Ok(())
    };
    match out {
        Some(p) => {
            // Write beside and rename, so a failed run leaves no half-written report.
            let tmp = p.with_extension("partial");
            let f = std::fs::File::create(&tmp)
                .map_err(|e| user(format!("cannot write `{}`: {e}", tmp.display())))?;
            if let Err(e) = write(&mut std::io::BufWriter::new(f)) {
                std::fs::remove_file(&tmp).ok();
                return Err(e);
            }
            std::fs::rename(&tmp, p)?;
        }
        None => {
            let stdout = std::io::stdout();
            write(&mut std::io::BufWriter::new(stdout.lock()))?;
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
        "{} under {}; {}; {}; errors {}",
        crate::render::count(report.orders, "order", "orders"),
        crate::render::count(report.scenarios.len() as u64, "scenario", "scenarios"),
        crate::render::count(report.flips.len() as u64, "flip", "flips"),
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
