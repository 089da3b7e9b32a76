//! `exportgate regimes`: every regime and its state on a date.

use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::{Context, Ruleset};

use crate::classify_cmd::check_regimes;
use crate::TextOrJson;

pub fn regimes(
    rs: &Ruleset,
    as_of: NaiveDate,
    forced: Vec<String>,
    format: TextOrJson,
) -> anyhow::Result<ExitCode> {
    check_regimes(rs, &forced)?;
    let ctx = Context { as_of, forced };
    let rows = rs.summaries(&ctx);
    match format {
        TextOrJson::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"as_of": as_of, "regimes": rows}))?
        )?,
        TextOrJson::Text => {
            outln!("regimes as of {as_of}")?;
            // Widths from the rows themselves, and the citation whole after the title: no
            // column is cut mid-word.
            let states: Vec<String> = rows
                .iter()
                .map(|r| {
                    serde_json::to_value(r.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                })
                .collect();
            let id_w = rows
                .iter()
                .map(|r| r.id.chars().count())
                .max()
                .unwrap_or(2)
                .max(2);
            let state_w = states.iter().map(|s| s.len()).max().unwrap_or(5).max(5);
            outln!(
                "{:<id_w$} {:<state_w$} {:<11} TITLE — CITATION",
                "ID",
                "STATE",
                "EFFECTIVE"
            )?;
            for (r, state) in rows.iter().zip(&states) {
                outln!(
                    "{:<id_w$} {:<state_w$} {:<11} {} — {}",
                    r.id,
                    state,
                    r.effective.to_string(),
                    r.title,
                    r.citation
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
