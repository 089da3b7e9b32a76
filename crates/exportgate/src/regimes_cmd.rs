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
