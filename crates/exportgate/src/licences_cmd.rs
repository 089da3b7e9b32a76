//! `exportgate licences add|list|show` and `exportgate audit verify`: licences on the ledger,
//! their balances and history, and the check of the hash-chained audit log.
//!
//! A licence file is validated completely (shape, limits, dates, item ids against the catalog,
//! countries against `countries.json`) before the database is even opened, so a bad file writes
//! nothing; a duplicate number is refused by the store inside its transaction.

use std::path::Path;
use std::process::ExitCode;

use exportgate_core::Ruleset;
use exportgate_ledger::{Balance, Dimension, Licence, LicenceView, Limits};

use crate::db::{actor, now, read_text, store_error, CatalogIds, DbUrl};
use crate::{user, TextOrJson};

fn limits_text(l: &Limits) -> String {
    let parts: Vec<String> = Dimension::ALL
        .into_iter()
        .filter_map(|d| l.get(d).map(|v| format!("{v} {}", d.name())))
        .collect();
    parts.join(", ")
}

pub fn add(rs: &Ruleset, file: &Path, db: &DbUrl) -> anyhow::Result<ExitCode> {
    let text = read_text(file)?;
    let licence = Licence::from_json(&text, &CatalogIds(rs))
        .map_err(|e| user(format!("`{}`: {e}", file.display())))?;
    let mut store = db.open()?;
    store
        .add_licence(&licence, &actor("licences add"), now())
        .map_err(store_error)?;
    println!(
        "added licence {} ({}; {} to {}; valid {} to {}) to {db}",
        licence.number,
        limits_text(&licence.limits),
        licence.items.join(", "),
        licence.destinations.join(", "),
        licence.valid_from,
        licence.valid_to
    );
    Ok(ExitCode::SUCCESS)
}

fn view_json(v: &LicenceView) -> serde_json::Value {
    serde_json::json!({
        "licence": v.licence.to_json(),
        "balance": &v.balance,
        "history": &v.history,
    })
}

fn balance_line(b: &Balance) -> String {
    format!(
        "left {} (limits {}; posted {} units / {} value / {} tpp; pending {} units / {} value / {} tpp)",
        limits_text(&b.available),
        limits_text(&b.limits),
        b.posted.units,
        b.posted.value,
        b.posted.tpp,
        b.pending.units,
        b.pending.value,
        b.pending.tpp
    )
}

pub fn list(db: &DbUrl, format: TextOrJson) -> anyhow::Result<ExitCode> {
    let views = match db.open_existing()? {
        None => Vec::new(),
        Some(mut store) => {
            let mut views = Vec::new();
            for l in store.list_licences().map_err(store_error)? {
                let v = store
                    .licence(&l.number)
                    .map_err(store_error)?
                    .ok_or_else(|| anyhow::anyhow!("licence `{}` vanished", l.number))?;
                views.push(v);
            }
            views
        }
    };
    match format {
        TextOrJson::Json => {
            let all: Vec<serde_json::Value> = views.iter().map(view_json).collect();
            println!("{}", serde_json::to_string_pretty(&all)?);
        }
        TextOrJson::Text => {
            if views.is_empty() {
                println!("no licences in {db}");
            }
            println!(
                "{:<16} {:<24} {:<9} {:<23} {:<28} LEFT",
                "NUMBER", "HOLDER", "STATUS", "VALID", "DESTINATIONS"
            );
            for v in &views {
                let l = &v.licence;
                println!(
                    "{:<16} {:<24} {:<9} {:<23} {:<28} {}",
                    l.number,
                    l.holder,
                    v.balance.status.name(),
                    format!("{}..{}", l.valid_from, l.valid_to),
                    l.destinations.join(","),
                    limits_text(&v.balance.available)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(number: &str, db: &DbUrl, format: TextOrJson) -> anyhow::Result<ExitCode> {
    let not_found = || user(format!("licence `{number}` not found in {db}"));
    let mut store = db.open_existing()?.ok_or_else(not_found)?;
    let v = store
        .licence(number)
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    match format {
        TextOrJson::Json => println!("{}", serde_json::to_string_pretty(&view_json(&v))?),
        TextOrJson::Text => {
            let l = &v.licence;
            println!("licence      {}", l.number);
            println!("holder       {}", l.holder);
            println!("status       {}", v.balance.status.name());
            println!("valid        {} to {}", l.valid_from, l.valid_to);
            println!("items        {}", l.items.join(", "));
            println!("destinations {}", l.destinations.join(", "));
            println!("consignees   {}", l.consignees.join("; "));
            for c in &l.conditions {
                match c {
                    exportgate_ledger::Condition::RevenueSharePercent { value } => {
                        println!("condition    revenue share {value} %")
                    }
                    exportgate_ledger::Condition::Text { text } => {
                        println!("condition    {text}")
                    }
                }
            }
            println!("balance      {}", balance_line(&v.balance));
            println!("history      {} transfers", v.history.len());
            for t in &v.history {
                println!(
                    "  {}  {:<8} {} units, {} value, {} tpp  {}",
                    t.reserved_at,
                    t.state.name(),
                    t.amounts.units,
                    t.amounts.value,
                    t.amounts.tpp,
                    t.key
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify(db: &DbUrl) -> anyhow::Result<ExitCode> {
    let mut store = db
        .open_existing()?
        .ok_or_else(|| user(format!("no ledger at {db}")))?;
    match store.verify_audit().map_err(store_error)? {
        Ok(summary) => {
            println!(
                "audit log intact: {} records; head {}",
                summary.records, summary.head_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            println!("{broken}");
            eprintln!("error: the audit log of {db} has been tampered with: {broken}");
            Ok(ExitCode::from(1))
        }
    }
}
