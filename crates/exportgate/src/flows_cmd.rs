//! `exportgate flows add|list`: the US-bound reference flow of volume caps (issue 21 item 2).
//! A door: recording and reading go through [`exportgate_pipeline::flows`]; `ship` of an order
//! to the US credits the flow itself.

use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::Ruleset;
use exportgate_ledger::flow::grouped;
use exportgate_ledger::Timestamp;
use exportgate_pipeline::flows::{self, FlowError};

use crate::db::{actor, store_error, DbUrl};
use crate::{user, TextOrJson};

/// `flows add --product P --units N --date D [--reference ID]`: records `units` of `product`
/// shipped to US end users on `date` outside exportgate. Without a reference the key is
/// `<product>:<date>:<units>`, so running the same command twice records it once.
pub fn add(
    rs: &Ruleset,
    product: &str,
    units: u64,
    date: NaiveDate,
    reference: Option<&str>,
    today: NaiveDate,
    db: &DbUrl,
) -> anyhow::Result<ExitCode> {
    if date > today {
        return Err(user(format!(
            "`--date`: {date} is after today ({today}); record a shipment once it is made"
        )));
    }
    let product = flows::catalog_product(rs, product).map_err(flow_error)?;
    let reference = reference
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{product}:{date}:{units}"));
    let mut store = db.open()?;
    let r = flows::record(
        rs,
        store.as_mut(),
        &product,
        units,
        &reference,
        &actor("flows add"),
        Timestamp::start_of(date),
    )
    .map_err(flow_error)?;
    if r.replayed {
        println!(
            "flow `{}` was recorded before: nothing added; US-bound {} of {} so far",
            r.key,
            grouped(r.us_units),
            r.product
        );
    } else {
        println!(
            "recorded {} units of {} to US end users on {date} under `{}`: US-bound {} so far",
            grouped(r.units),
            r.product,
            r.key,
            grouped(r.us_units)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn flow_error(e: FlowError) -> anyhow::Error {
    match e {
        FlowError::Invalid { field, message } => user(format!("`--{field}`: {message}")),
        FlowError::Ledger(e) => store_error(e),
    }
}

/// `flows list`: every product's US-bound units, capped units drawn and recorded shipments.
pub fn list(rs: &Ruleset, db: &DbUrl, format: TextOrJson) -> anyhow::Result<ExitCode> {
    let flows = match db.open_existing()? {
        Some(mut store) => flows::list(rs, store.as_mut()).map_err(store_error)?,
        None => Vec::new(),
    };
    match format {
        TextOrJson::Json => println!("{}", serde_json::to_string_pretty(&flows)?),
        TextOrJson::Text => {
            if flows.is_empty() {
                println!("no flows recorded");
            }
            for f in &flows {
                println!(
                    "{}  US-bound {}  capped draws {}",
                    f.product,
                    grouped(f.us_units),
                    grouped(f.capped_units)
                );
                for s in &f.shipments {
                    println!("  {}  {}  {}", s.at, grouped(s.units), s.key);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
