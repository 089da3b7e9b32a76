//! `exportgate parties add|show|list|review`: the party records (know your customer) in the
//! database, every change appended to the audit log; and loading them once per run for the
//! commands that decide (`check`, `ship`, `explain`).

use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::kyc::{CheckedParty, PartyRecord};
use exportgate_core::Ruleset;
use exportgate_pipeline::Parties;
use exportgate_store::parties::{PartyStore, PartyWrite};

use crate::db::{actor, now, read_text, store_error, DbUrl};
use crate::{user, TextOrJson};

fn open(db: &DbUrl) -> anyhow::Result<Box<dyn PartyStore>> {
    // Opening the ledger creates the file and applies the migrations.
    drop(db.open()?);
    exportgate_store::open_party_store(&db.store_url()).map_err(store_error)
}

/// A stored record, validated again (the data may have changed since it was written).
fn checked(rs: &Ruleset, v: serde_json::Value) -> anyhow::Result<CheckedParty> {
    let id = v["id"].as_str().unwrap_or("?").to_string();
    let record: PartyRecord = serde_json::from_value(v)
        .map_err(|e| anyhow::anyhow!("stored party `{id}` is unreadable: {e}"))?;
    CheckedParty::new(record, rs)
        .map_err(|e| anyhow::anyhow!("stored party `{id}`: field `{}`: {}", e.field, e.problem))
}

/// The party records of the database, if it exists, for a run of decisions.
pub fn load(rs: &Ruleset, db: Option<&DbUrl>) -> anyhow::Result<Option<Parties>> {
    let Some(db) = db else { return Ok(None) };
    if let DbUrl::Sqlite(p) = db {
        if !p.exists() {
            return Ok(None);
        }
    }
    let mut store = exportgate_store::open_party_store(&db.store_url()).map_err(store_error)?;
    let texts = store.party_texts().map_err(store_error)?;
    let index = Parties::parse_index(rs, texts).map_err(|m| anyhow::anyhow!(m))?;
    Ok(Some(Parties::new(index)))
}

fn write_of<'a>(
    p: &'a PartyRecord,
    v: &'a serde_json::Value,
    review_by: &'a str,
    event: &'a str,
) -> PartyWrite<'a> {
    PartyWrite {
        id: &p.id,
        name: &p.name,
        country: &p.country,
        review_by,
        record: v,
        event,
    }
}

/// `parties add FILE`: one record as JSON, or many as JSON lines; all are checked first and
/// written in one transaction (a bad line or an existing id writes nothing).
pub fn add(rs: &Ruleset, file: &Path, db: &DbUrl) -> anyhow::Result<ExitCode> {
    let text = read_text(file)?;
    let trimmed = text.trim();
    let pieces: Vec<(usize, &str)> = if trimmed.starts_with('{') && !trimmed.contains("}\n{") {
        vec![(1, trimmed)]
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l))
            .collect()
    };
    let mut records = Vec::new();
    for (line, piece) in pieces {
        let at = |m: String| user(format!("`{}` line {line}: {m}", file.display()));
        let record: PartyRecord = serde_json::from_str(piece).map_err(|e| at(e.to_string()))?;
        let p = CheckedParty::new(record, rs)
            .map_err(|e| at(format!("field `{}`: {}", e.field, e.problem)))?;
        records.push(p.record);
    }
    if records.is_empty() {
        return Err(user(format!("`{}` holds no party record", file.display())));
    }
    let values: Vec<serde_json::Value> = records
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    let dates: Vec<String> = records.iter().map(|r| r.review_by.to_string()).collect();
    let writes: Vec<PartyWrite<'_>> = records
        .iter()
        .zip(&values)
        .zip(&dates)
        .map(|((r, v), d)| write_of(r, v, d, "party_added"))
        .collect();
    let mut store = open(db)?;
    store
        .put_parties(&writes, &actor("parties add"), now())
        .map_err(store_error)?
        .map_err(|c| user(c.to_string()))?;
    if records.len() == 1 {
        println!(
            "added party {} ({}, {}; review by {}) to {db}",
            records[0].id, records[0].name, records[0].country, records[0].review_by
        );
    } else {
        println!("added {} parties to {db}", records.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn get(rs: &Ruleset, store: &mut dyn PartyStore, id: &str) -> anyhow::Result<CheckedParty> {
    let row = store.party(id).map_err(store_error)?.ok_or_else(|| {
        user(format!(
            "party `{id}` not found (see `exportgate parties list`)"
        ))
    })?;
    checked(rs, row.record)
}

pub fn show(
    rs: &Ruleset,
    id: &str,
    db: &DbUrl,
    as_of: NaiveDate,
    format: TextOrJson,
) -> anyhow::Result<ExitCode> {
    let mut store = open(db)?;
    let p = get(rs, &mut *store, id)?.record;
    match format {
        TextOrJson::Json => println!("{}", serde_json::to_string_pretty(&p.view(as_of))?),
        TextOrJson::Text => {
            println!("{}  {} ({})", p.id, p.name, p.country);
            if !p.aliases.is_empty() {
                println!("  aliases: {}", p.aliases.join("; "));
            }
            if !p.kinds.is_empty() {
                println!("  kinds: {}", p.kinds.join(", "));
            }
            for (k, v) in [
                ("headquarters", &p.headquarters),
                ("parent headquarters", &p.parent_headquarters),
                ("role", &p.role),
            ] {
                if let Some(v) = v {
                    println!("  {k}: {v}");
                }
            }
            if let Some(c) = p.ownership_checked {
                println!("  ownership checked: {c}");
            }
            let state = if as_of <= p.review_by {
                "current"
            } else {
                "PAST ITS REVIEW DATE: its facts count as unknown"
            };
            println!("  review by {} ({state} on {as_of})", p.review_by);
            for (k, f) in &p.facts {
                println!(
                    "  {k} = {} (established {} by {}, {} days ago)",
                    f.value,
                    f.established,
                    f.by,
                    (as_of - f.established).num_days()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(
    rs: &Ruleset,
    db: &DbUrl,
    as_of: NaiveDate,
    format: TextOrJson,
) -> anyhow::Result<ExitCode> {
    let mut store = open(db)?;
    let rows = store.parties().map_err(store_error)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(checked(rs, r.record)?.record);
    }
    match format {
        TextOrJson::Json => {
            let v: Vec<serde_json::Value> = out
                .iter()
                .map(|p| {
                    serde_json::json!({"id": p.id, "name": p.name, "country": p.country,
                        "review_by": p.review_by, "current": as_of <= p.review_by,
                        "facts": p.facts.len()})
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        TextOrJson::Text => {
            for p in &out {
                println!(
                    "{:<16} {:<40} {}  review by {} ({}), {} facts",
                    p.id,
                    p.name,
                    p.country,
                    p.review_by,
                    if as_of <= p.review_by {
                        "current"
                    } else {
                        "past review"
                    },
                    p.facts.len()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses `NAME=VALUE`.
pub fn parse_set(s: &str) -> Result<(String, serde_json::Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: give NAME=VALUE"))?;
    let v = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
    Ok((k.trim().to_string(), v))
}

#[allow(clippy::too_many_arguments)]
pub fn review(
    rs: &Ruleset,
    id: &str,
    sets: &[(String, serde_json::Value)],
    by: &str,
    on: NaiveDate,
    review_by: Option<NaiveDate>,
    db: &DbUrl,
) -> anyhow::Result<ExitCode> {
    if sets.is_empty() && review_by.is_none() {
        return Err(user(
            "nothing to review: give --set NAME=VALUE or --review-by DATE",
        ));
    }
    let mut store = open(db)?;
    let mut p = get(rs, &mut *store, id)?.record;
    p.review(sets, by, on, review_by);
    let p = CheckedParty::new(p, rs)
        .map_err(|e| user(format!("field `{}`: {}", e.field, e.problem)))?
        .record;
    let v = serde_json::to_value(&p)?;
    let d = p.review_by.to_string();
    store
        .put_party(
            &write_of(&p, &v, &d, "party_reviewed"),
            &actor("parties review"),
            now(),
        )
        .map_err(store_error)?
        .map_err(|c| user(c.to_string()))?;
    println!(
        "reviewed party {} ({} facts set; review by {}) in {db}",
        p.id,
        sets.len(),
        p.review_by
    );
    Ok(ExitCode::SUCCESS)
}
