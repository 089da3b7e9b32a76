//! `exportgate veu add|compute|list|show`: Data Center VEU authorisations on the ledger and
//! their installed compute by country (issue 21 item 3). A door: recording and reading go
//! through [`exportgate_pipeline::veus`]; `ship` draws VEU-eligible orders itself.

use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::Ruleset;
use exportgate_ledger::flow::grouped;
use exportgate_ledger::Timestamp;
use exportgate_pipeline::veus::{self, VeuError, VeuStatus};

use crate::db::{actor, now, read_text, store_error, DbUrl};
use crate::{user, TextOrJson};

/// A refusal naming the field: `` `FILE`: `id`: ... `` for a file, `` `--country`: ... `` for
/// a flag (`prefix` `--`).
fn veu_error(e: VeuError, prefix: &str) -> anyhow::Error {
    match e {
        VeuError::Invalid { field, message } if prefix == "--" => {
            user(format!("`--{field}`: {message}"))
        }
        VeuError::Invalid { field, message } => user(format!("{prefix}`{field}`: {message}")),
        VeuError::Ledger(e) => store_error(e),
    }
}

/// `veu add FILE`: validates the record completely, then adds it (an audited account).
pub fn add(rs: &Ruleset, file: &Path, db: &DbUrl) -> anyhow::Result<ExitCode> {
    let text = read_text(file)?;
    // Validated before the database is opened: a bad file writes nothing.
    exportgate_ledger::Veu::from_json(&text, &|c| rs.countries.get(c).is_some())
        .map_err(|e| user(format!("`{}`: {e}", file.display())))?;
    let mut store = db.open()?;
    let added = veus::add(rs, store.as_mut(), &text, &actor("veu add"), now())
        .map_err(|e| veu_error(e, &format!("`{}`: ", file.display())))?;
    let v = &added.veu;
    if added.created {
        outln!(
            "added {} VEU {} ({}, headquartered in {}) to {db}",
            v.kind.as_str(),
            v.id,
            v.holder.name,
            v.holder.headquarters
        )?;
    } else {
        outln!(
            "VEU {} is on the ledger with these terms already: nothing written",
            v.id
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `veu compute --veu ID --country CC --tpp N --date D [--reference R]`: records compute the
/// VEU installed outside exportgate. Without a reference the key is `<country>:<date>:<tpp>`.
#[allow(clippy::too_many_arguments)]
pub fn compute(
    rs: &Ruleset,
    veu: &str,
    country: &str,
    tpp: u64,
    date: NaiveDate,
    reference: Option<&str>,
    today: NaiveDate,
    db: &DbUrl,
) -> anyhow::Result<ExitCode> {
    if date > today {
        return Err(user(format!(
            "`--date`: {date} is after today ({today}); record compute once it is installed"
        )));
    }
    let reference = reference
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}:{date}:{tpp}", country.to_ascii_uppercase()));
    let mut store = db.open()?;
    let r = veus::record_compute(
        rs,
        store.as_mut(),
        veu,
        country,
        tpp,
        &reference,
        &actor("veu compute"),
        Timestamp::start_of(date),
    )
    .map_err(|e| veu_error(e, "--"))?;
    outln!(
        "{} {} TPP of VEU {} in {} under `{}`",
        if r.replayed {
            "recorded before (nothing added):"
        } else {
            "recorded"
        },
        grouped(r.tpp),
        r.veu,
        r.country,
        r.key
    )?;
    Ok(ExitCode::SUCCESS)
}

/// A headroom as text: a Tier 1 country has no share limit of its own.
fn headroom(tpp: u64) -> String {
    if tpp >= exportgate_ledger::AMOUNT_MAX / 2 {
        "no limit of its own".to_owned()
    } else {
        format!("{} TPP", grouped(tpp))
    }
}

fn print(s: &VeuStatus) -> anyhow::Result<()> {
    let v = &s.veu;
    outln!(
        "{}  {} VEU  {} (HQ {}){}  total {} TPP, outside Tier 1 {} TPP",
        v.id,
        v.kind.as_str(),
        v.holder.name,
        v.holder.headquarters,
        v.country
            .as_deref()
            .map(|c| format!(" in {c}"))
            .unwrap_or_default(),
        grouped(s.total_tpp),
        grouped(s.outside_tier1_tpp)
    )?;
    if let Some((q, cap)) = &s.cap {
        outln!("  cap {} TPP for {q} (unconfirmed)", grouped(*cap))?;
    }
    for c in &s.countries {
        outln!(
            "  {}  Tier {}  {} TPP  headroom {}",
            c.country,
            c.tier,
            grouped(c.tpp),
            headroom(c.headroom_tpp)
        )?;
    }
    if let Some(h) = s.new_tier2_country_headroom_tpp {
        outln!("  a new Tier 2 country: headroom {} TPP", grouped(h))?;
    }
    Ok(())
}

/// `veu show ID [--date D]`: the record, compute by country and headroom on the date.
pub fn show(
    rs: &Ruleset,
    id: &str,
    day: NaiveDate,
    db: &DbUrl,
    format: TextOrJson,
) -> anyhow::Result<ExitCode> {
    let status = match db.open_existing()? {
        Some(mut store) => veus::status(rs, store.as_mut(), id, day).map_err(store_error)?,
        None => None,
    };
    let Some(s) = status else {
        return Err(user(format!("no VEU `{id}` on the ledger")));
    };
    match format {
        TextOrJson::Json => outln!("{}", serde_json::to_string_pretty(&s)?)?,
        TextOrJson::Text => print(&s)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `veu list [--date D]`: every VEU with its compute and headroom.
pub fn list(
    rs: &Ruleset,
    day: NaiveDate,
    db: &DbUrl,
    format: TextOrJson,
) -> anyhow::Result<ExitCode> {
    let all = match db.open_existing()? {
        Some(mut store) => veus::list(rs, store.as_mut(), day).map_err(store_error)?,
        None => Vec::new(),
    };
    match format {
        TextOrJson::Json => outln!("{}", serde_json::to_string_pretty(&all)?)?,
        TextOrJson::Text => {
            if all.is_empty() {
                outln!("no VEUs on the ledger")?;
            }
            for s in &all {
                print(s)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
