//! `exportgate licences add|list|show` and `exportgate audit verify`: licences on the ledger,
//! their balances and history, and the check of the hash-chained audit log.
//!
//! A licence file is validated completely (shape, limits, dates, item ids against the catalog,
//! countries against `countries.json`) before the database is even opened, so a bad file writes
//! nothing; a duplicate number is refused by the store inside its transaction.

use std::path::Path;
use std::process::ExitCode;

use exportgate_core::Ruleset;
use exportgate_ledger::flow::grouped;
use exportgate_ledger::{Balance, Dimension, Licence, LicenceView, Limits};
use exportgate_pipeline::accrual::{licence_accruals, money, LicenceAccrual};
use exportgate_pipeline::flows::{licence_caps, CapStatus};

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
    outln!(
        "added licence {} ({}; {} to {}; valid {} to {}) to {db}",
        licence.number,
        limits_text(&licence.limits),
        licence.items.join(", "),
        licence.destinations.join(", "),
        licence.valid_from,
        licence.valid_to
    )?;
    Ok(ExitCode::SUCCESS)
}

fn view_json(
    v: &LicenceView,
    accruals: &[LicenceAccrual],
    accruals_read: bool,
    caps: Option<&[CapStatus]>,
) -> serde_json::Value {
    let mut out = serde_json::json!({
        "licence": v.licence.to_json(),
        "balance": &v.balance,
        "history": &v.history,
    });
    if v.licence.revenue_share_percent().is_some() && accruals_read {
        out["revenue_share"] = serde_json::json!(accruals);
    }
    if let Some(caps) = caps.filter(|_| v.licence.volume_cap_percent().is_some()) {
        out["volume_cap"] = serde_json::json!(caps);
    }
    out
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
            let all: Vec<serde_json::Value> = views
                .iter()
                .map(|v| view_json(v, &[], false, None))
                .collect();
            outln!("{}", serde_json::to_string_pretty(&all)?)?;
        }
        TextOrJson::Text => {
            if views.is_empty() {
                outln!("no licences in {db}")?;
            }
            outln!(
                "{:<16} {:<24} {:<9} {:<23} {:<28} LEFT",
                "NUMBER",
                "HOLDER",
                "STATUS",
                "VALID",
                "DESTINATIONS"
            )?;
            for v in &views {
                let l = &v.licence;
                outln!(
                    "{:<16} {:<24} {:<9} {:<23} {:<28} {}",
                    l.number,
                    l.holder,
                    v.balance.status.name(),
                    format!("{}..{}", l.valid_from, l.valid_to),
                    l.destinations.join(","),
                    limits_text(&v.balance.available)
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(
    rs: &Ruleset,
    number: &str,
    db: &DbUrl,
    format: TextOrJson,
) -> anyhow::Result<ExitCode> {
    let not_found = || user(format!("licence `{number}` not found in {db}"));
    let mut store = db.open_existing()?.ok_or_else(not_found)?;
    let v = store
        .licence(number)
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    let accruals = licence_accruals(store.as_mut(), &v.licence).map_err(store_error)?;
    let caps = licence_caps(rs, store.as_mut(), &v.licence).map_err(store_error)?;
    match format {
        TextOrJson::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&view_json(&v, &accruals, true, Some(&caps)))?
        )?,
        TextOrJson::Text => {
            let l = &v.licence;
            outln!("licence      {}", l.number)?;
            outln!("holder       {}", l.holder)?;
            outln!("status       {}", v.balance.status.name())?;
            outln!("valid        {} to {}", l.valid_from, l.valid_to)?;
            outln!("items        {}", l.items.join(", "))?;
            outln!("destinations {}", l.destinations.join(", "))?;
            outln!("consignees   {}", l.consignees.join("; "))?;
            for c in &l.conditions {
                match c {
                    exportgate_ledger::Condition::RevenueSharePercent { value } => {
                        outln!("condition    revenue share {value} %")?
                    }
                    exportgate_ledger::Condition::VolumeCapPercent { value } => {
                        outln!("condition    volume cap {value} % of the units of the same product shipped to US end users")?
                    }
                    exportgate_ledger::Condition::Text { text } => {
                        outln!("condition    {text}")?
                    }
                }
            }
            outln!("balance      {}", balance_line(&v.balance))?;
            if v.licence.revenue_share_percent().is_some() && accruals.is_empty() {
                outln!("accrued      nothing yet")?;
            }
            for a in &accruals {
                outln!(
                    "accrued      {} {} {} ({} orders; {})",
                    a.quarter,
                    a.currency,
                    money(a.accrued_cents),
                    a.orders.len(),
                    a.account
                )?;
            }
            for c in &caps {
                outln!(
                    "volume cap   {}: capped {} of {} ({}% of US-bound {}); {} left",
                    c.product,
                    grouped(c.capped_units),
                    grouped(c.cap_units),
                    c.percent,
                    grouped(c.us_units),
                    grouped(c.left_units)
                )?;
            }
            outln!("history      {} transfers", v.history.len())?;
            for t in &v.history {
                outln!(
                    "  {}  {:<8} {} units, {} value, {} tpp  {}",
                    t.reserved_at,
                    t.state.name(),
                    t.amounts.units,
                    t.amounts.value,
                    t.amounts.tpp,
                    t.key
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An anchor line: the audit log's head when `audit anchor` ran.
#[derive(serde::Serialize, serde::Deserialize)]
struct Anchor {
    seq: u64,
    hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<String>,
}

/// The `(seq, hash)` of each anchor in `file`, for checking an evidence pack.
pub fn anchor_links(file: &Path) -> anyhow::Result<Vec<(u64, String)>> {
    Ok(read_anchors(file)?
        .into_iter()
        .map(|a| (a.seq, a.hash))
        .collect())
}

/// The anchors in `file`: one JSON object per non-empty line.
fn read_anchors(file: &Path) -> anyhow::Result<Vec<Anchor>> {
    let text = read_text(file)?;
    let mut anchors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let anchor: Anchor = serde_json::from_str(line).map_err(|e| {
            user(format!(
                "`{}` line {}: not an anchor from `exportgate audit anchor` ({e})",
                file.display(),
                i + 1
            ))
        })?;
        if anchor.hash.len() != 64 || !anchor.hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(user(format!(
                "`{}` line {}: hash must be 64 hex digits",
                file.display(),
                i + 1
            )));
        }
        anchors.push(anchor);
    }
    if anchors.is_empty() {
        return Err(user(format!("`{}` holds no anchor", file.display())));
    }
    Ok(anchors)
}

/// What an anchor says of the stored log.
enum AnchorCheck {
    Holds,
    /// The anchored record was removed by `audit prune`: not checkable here.
    Pruned(String),
    Mismatch(String),
}

/// Checks the log against one anchor.
fn check_anchor(
    store: &mut dyn exportgate_ledger::LedgerStore,
    base: Option<&exportgate_ledger::AuditBase>,
    anchor: &Anchor,
) -> anyhow::Result<AnchorCheck> {
    if anchor.seq == 0 {
        return Ok(if anchor.hash != exportgate_ledger::audit::GENESIS_HASH {
            AnchorCheck::Mismatch("the anchor at seq 0 must have the genesis hash".to_owned())
        } else if base.is_some() {
            AnchorCheck::Pruned(
                "the anchor at seq 0 names the start of a log whose first records were pruned"
                    .to_owned(),
            )
        } else {
            AnchorCheck::Holds
        });
    }
    if let Some(base) = base.filter(|b| anchor.seq <= b.seq) {
        if anchor.seq == base.seq {
            // The last pruned record's hash is kept as the chain base.
            return Ok(if base.hash.eq_ignore_ascii_case(&anchor.hash) {
                AnchorCheck::Holds
            } else {
                AnchorCheck::Mismatch(format!(
                    "the chain base (record {}, the last pruned) has hash {} but the anchor says {}",
                    base.seq, base.hash, anchor.hash
                ))
            });
        }
        return Ok(AnchorCheck::Pruned(format!(
            "record {} was removed by `audit prune` (the stored log starts after record {}); check this anchor against the prune's evidence pack with `exportgate audit verify --pack DIR --anchor FILE`",
            anchor.seq, base.seq
        )));
    }
    let record = store
        .audit_records(anchor.seq - 1, 1)
        .map_err(store_error)?
        .into_iter()
        .next()
        .filter(|r| r.seq == anchor.seq);
    Ok(match record {
        None => AnchorCheck::Mismatch(format!(
            "the audit log has no record {} but the anchor says it had (records deleted from the end and the head rewound?)",
            anchor.seq
        )),
        Some(r) if !r.hash.eq_ignore_ascii_case(&anchor.hash) => AnchorCheck::Mismatch(format!(
            "record {} has hash {} but the anchor says {} (the log was rewritten up to there and re-hashed?)",
            anchor.seq, r.hash, anchor.hash
        )),
        Some(_) => AnchorCheck::Holds,
    })
}

pub fn verify(db: &DbUrl, anchor: Option<&Path>) -> anyhow::Result<ExitCode> {
    // Read the anchor first: a bad file is the user's error before anything is checked.
    let anchors = anchor.map(read_anchors).transpose()?;
    let mut store = db
        .open_existing()?
        .ok_or_else(|| user(format!("no ledger at {db}")))?;
    let summary = match store.verify_audit() {
        Ok(Ok(summary)) => summary,
        Ok(Err(broken)) => {
            outln!("{broken}")?;
            eprintln!("error: the audit log of {db} has been tampered with: {broken}");
            return Ok(ExitCode::from(1));
        }
        // Tables or the head row gone: tampering too, said as such.
        Err(exportgate_ledger::StoreError::Corrupt(what)) => {
            outln!("{what}")?;
            eprintln!("error: the audit log of {db} has been tampered with: {what}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(store_error(e)),
    };
    let base = store.audit_base().map_err(store_error)?;
    match &base {
        None => outln!(
            "audit log intact: {} records; head {}",
            summary.records, summary.head_hash
        )?,
        Some(b) => outln!(
            "audit log intact: records {} to {} (1 to {} pruned, chained from their last hash {}); head {}",
            b.seq + 1,
            summary.records,
            b.seq,
            b.hash,
            summary.head_hash
        )?,
    }
    let mut pruned = 0;
    for a in anchors.iter().flatten() {
        match check_anchor(store.as_mut(), base.as_ref(), a)? {
            AnchorCheck::Holds => {}
            AnchorCheck::Pruned(why) => {
                pruned += 1;
                outln!("anchor at record {} not checked: {why}", a.seq)?;
            }
            AnchorCheck::Mismatch(problem) => {
                outln!("anchor mismatch: {problem}")?;
                eprintln!("error: the audit log of {db} does not match the anchor: {problem}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    if let Some(anchors) = &anchors {
        if pruned == anchors.len() {
            let problem = "every anchor names a pruned record, so none checks the log that remains: take a new anchor with `exportgate audit anchor` (the pruned records are checked against their evidence pack)";
            outln!("anchor not checked: {problem}")?;
            eprintln!("error: the audit log of {db} is not checked by the anchor: {problem}");
            return Ok(ExitCode::from(1));
        }
        let last = anchors.iter().map(|a| a.seq).max().unwrap_or(0);
        outln!(
            "anchor holds: {} anchor(s), up to record {last}{}",
            anchors.len() - pruned,
            if pruned > 0 {
                format!(" ({pruned} naming pruned records not checked)")
            } else {
                String::new()
            }
        )?;
    }
    match store.reconcile().map_err(store_error)? {
        Ok(r) => {
            outln!(
                "ledger agrees with the audit log: {} accounts, {} transfers, {} licences from {} ledger records",
                r.accounts, r.transfers, r.licences, r.ledger_records
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(d) => {
            outln!("ledger disagrees with the audit log: {d}")?;
            eprintln!("error: the ledger of {db} disagrees with its audit log: {d}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `audit anchor`: the head as one JSON line on standard output (and in `out`).
pub fn anchor(db: &DbUrl, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut store = db
        .open_existing()?
        .ok_or_else(|| user(format!("no ledger at {db}")))?;
    let summary = match store.verify_audit().map_err(store_error)? {
        Ok(summary) => summary,
        Err(broken) => {
            eprintln!("error: not anchoring a broken audit log ({db}): {broken}");
            return Ok(ExitCode::from(1));
        }
    };
    let line = serde_json::to_string(&Anchor {
        seq: summary.records,
        hash: summary.head_hash,
        at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    })?;
    if let Some(out) = out {
        std::fs::write(out, format!("{line}\n"))
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", out.display()))?;
    }
    outln!("{line}")?;
    Ok(ExitCode::SUCCESS)
}
