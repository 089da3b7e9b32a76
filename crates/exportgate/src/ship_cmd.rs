//! `exportgate ship`: the door that reads an order file, has the decision pipeline decide it
//! and record what ships on the ledger (`exportgate_pipeline::ship`), and writes the decisions.
//! The pipeline's module docs say how orders are decided, drawn and audited; an order id
//! repeated within one file is an error for the later lines, and shipping the same file again
//! replays the original ledger replies and draws nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use exportgate_core::{Outcome, Ruleset};
use exportgate_lists::source::ScreeningSource;
use exportgate_pipeline::ship::Shipper;
use exportgate_pipeline::Pipeline;

use crate::check_cmd::{jsonl_lines, parse_csv, parse_jsonl, write_header, write_results};
use crate::db::{actor, now, DbUrl};
use crate::input::read_all;
use crate::{pipeline_error, CheckFormat, InputFormat};

#[allow(clippy::too_many_arguments)]
pub fn ship(
    rs: &Ruleset,
    path: &Path,
    forced: &[String],
    format: CheckFormat,
    out: Option<&Path>,
    input: Option<InputFormat>,
    source: &ScreeningSource,
    db: &DbUrl,
    parties: Option<&exportgate_pipeline::Parties>,
) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::new(rs, forced, source).map_err(pipeline_error)?;
    let pipeline = match parties {
        Some(p) => pipeline.with_parties(p),
        None => pipeline,
    };
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
    let lines = match input {
        InputFormat::Jsonl => parse_jsonl(&jsonl_lines(&bytes)),
        InputFormat::Csv => parse_csv(&bytes)?,
    };
    let total = lines.len();
    let mut store = db.open()?;
    let mut clock = now;
    let mut shipper = Shipper {
        actor: actor("ship"),
        command: "ship".into(),
        book: "file",
        now: &mut clock,
    };
    let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    // Decisions are written group by group as the ledger records them.
    let write = |w: &mut dyn Write| -> anyhow::Result<()> {
        write_header(w, format)?;
        let mut failed: Option<anyhow::Error> = None;
        let shipped = pipeline.ship_stream(lines, store.as_mut(), &mut shipper, &mut |group| {
            for r in &group {
                match r {
                    Ok(d) => *counts.entry(d.outcome).or_default() += 1,
                    Err(e) => errors.push(e.clone()),
                }
            }
            write_results(w, &group, format).map_err(|e| {
                let message = e.to_string();
                failed = Some(e);
                exportgate_pipeline::PipelineError::Render(message)
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        shipped.map_err(pipeline_error)?;
        w.flush()?;
        Ok(())
    };
    match out {
        Some(p) => {
            // Written to a temporary file and renamed, so a failed run leaves no half-written
            // output (what it shipped stays on the ledger, and a re-run replays it).
            let tmp = p.with_extension("partial");
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(&tmp)
                    .map_err(|e| crate::user(format!("cannot write `{}`: {e}", tmp.display())))?,
            );
            if let Err(e) = write(&mut f) {
                drop(f);
                std::fs::remove_file(&tmp).ok();
                return Err(e);
            }
            drop(f);
            std::fs::rename(&tmp, p)?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            write(&mut w)?;
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(o, n)| format!("{} {n}", o.as_str()))
        .collect();
    eprintln!(
        "{} shipped against {db}: {}; errors {}",
        crate::render::count(total as u64, "order", "orders"),
        if parts.is_empty() {
            "none decided".to_string()
        } else {
            parts.join(", ")
        },
        errors.len()
    );
    for e in errors.iter().take(20) {
        eprintln!("error: {}", e.describe());
    }
    if source.unscreened() {
        eprintln!("warning: parties were not screened (no lists loaded); no decision is clean");
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
