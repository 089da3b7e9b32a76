//! `exportgate report revenue-share --quarter 2025Q4 [--format text|csv|json]`: the
//! revenue-share accruals of one quarter, per licence, with the orders behind each amount. A
//! door: the numbers come from the pipeline's [`exportgate_pipeline::accrual`] over the ledger.

use std::io::Write;
use std::process::ExitCode;

use exportgate_ledger::Quarter;
use exportgate_pipeline::accrual::{csv_text, money, revenue_share_report, RevenueShareReport};

use crate::db::{store_error, DbUrl};
use crate::user;

/// How the report is written.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Csv,
    Json,
}

pub fn revenue_share(quarter: &str, db: &DbUrl, format: ReportFormat) -> anyhow::Result<ExitCode> {
    let quarter = Quarter::parse(quarter).map_err(|e| user(format!("`--quarter`: {e}")))?;
    let report = match db.open_existing()? {
        Some(mut store) => revenue_share_report(store.as_mut(), quarter).map_err(store_error)?,
        None => RevenueShareReport {
            quarter: quarter.to_string(),
            currency: exportgate_ledger::ACCRUAL_CURRENCY,
            total_cents: 0,
            licences: Vec::new(),
        },
    };
    let text = match format {
        ReportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ReportFormat::Csv => csv_text(&report)?,
        ReportFormat::Text => {
            let mut t = format!(
                "revenue share accrued in {}: {} {}\n",
                report.quarter,
                report.currency,
                money(report.total_cents)
            );
            for l in &report.licences {
                t.push_str(&format!(
                    "licence {} ({}, {}%): {} {} from {} orders\n",
                    l.licence,
                    l.holder,
                    l.percent,
                    l.currency,
                    money(l.accrued_cents),
                    l.orders.len()
                ));
                for o in &l.orders {
                    t.push_str(&format!(
                        "  {}  {}  value {}  share {}\n",
                        o.at,
                        o.order_id,
                        o.value_cents.map(money).unwrap_or_else(|| "?".into()),
                        money(o.share_cents)
                    ));
                }
            }
            t
        }
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
