//! `exportgate regimes`: every regime and its state on a date.

use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::{Context, Ruleset};
use serde::Serialize;

use crate::classify_cmd::check_regimes;
use crate::TextOrJson;

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    title: &'a str,
    citation: &'a str,
    kind: &'a str,
    state: exportgate_core::regime::RegimeState,
    published: Option<NaiveDate>,
    effective: NaiveDate,
    compliance: Option<NaiveDate>,
    enforcement_end: Option<NaiveDate>,
    confidence: exportgate_core::confidence::Confidence,
    unconfirmed: bool,
    summary: &'a str,
}

pub fn regimes(
    rs: &Ruleset,
    as_of: NaiveDate,
    forced: Vec<String>,
    format: TextOrJson,
) -> anyhow::Result<ExitCode> {
    check_regimes(rs, &forced)?;
    let ctx = Context { as_of, forced };
    let rows: Vec<Row> = rs
        .regimes()
        .iter()
        .map(|r| Row {
            id: &r.id,
            title: &r.title,
            citation: &r.citation,
            kind: &r.kind,
            state: rs.state(r, &ctx),
            published: r.published,
            effective: r.effective,
            compliance: r.compliance,
            enforcement_end: r.enforcement_end,
            confidence: r.confidence,
            unconfirmed: r.unconfirmed(),
            summary: &r.summary,
        })
        .collect();
    match format {
        TextOrJson::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"as_of": as_of, "regimes": rows}))?
        ),
        TextOrJson::Text => {
            println!("regimes as of {as_of}");
            println!(
                "{:<22} {:<20} {:<11} {:<22} TITLE",
                "ID", "STATE", "EFFECTIVE", "CITATION"
            );
            for r in rows {
                let state = serde_json::to_value(r.state)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                println!(
                    "{:<22} {:<20} {:<11} {:<22} {}",
                    r.id,
                    state,
                    r.effective,
                    r.citation.chars().take(22).collect::<String>(),
                    r.title
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
