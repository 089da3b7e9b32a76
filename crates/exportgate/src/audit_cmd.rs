//! `exportgate audit export` and `audit verify --pack` (the evidence pack, see [`crate::pack`]),
//! and `audit prune` with its retention setting (issue 19 items 3 and 4).

use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::Ruleset;
use exportgate_ledger::audit::AuditRecord;

use crate::db::{store_error, DbUrl};
use crate::pack::{self, Link};
use crate::user;

/// Every record of the log, in seq order, after checking the chain; and the head.
fn whole_log(db: &DbUrl) -> anyhow::Result<(Vec<AuditRecord>, Link)> {
    let mut store = db
        .open_existing()?
        .ok_or_else(|| user(format!("no ledger at {db}")))?;
    let summary = match store.verify_audit().map_err(store_error)? {
        Ok(s) => s,
        Err(broken) => anyhow::bail!("not exporting a broken audit log ({db}): {broken}"),
    };
    let mut out: Vec<AuditRecord> = Vec::new();
    loop {
        let after = out.last().map_or(0, |r| r.seq);
        let page = store.audit_records(after, 4096).map_err(store_error)?;
        if page.is_empty() {
            break;
        }
        out.extend(page);
    }
    Ok((
        out,
        Link {
            seq: summary.records,
            hash: summary.head_hash,
        },
    ))
}

/// `audit export --from --to --out DIR`.
pub fn export(
    rs: &Ruleset,
    db: &DbUrl,
    from: NaiveDate,
    to: NaiveDate,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    if from > to {
        return Err(user(format!("--from {from} is after --to {to}")));
    }
    let (log, head) = whole_log(db)?;
    let in_range = |r: &AuditRecord| r.at.date() >= from && r.at.date() <= to;
    let (Some(first), Some(last)) = (
        log.iter().position(in_range),
        log.iter().rposition(in_range),
    ) else {
        return Err(user(format!(
            "no audit records dated {from} to {to} in {db}"
        )));
    };
    let files = pack::build(&log[first..=last], from, to, head, rs)?;
    pack::write(out, &files)?;
    let decisions = log[first..=last]
        .iter()
        .filter(|r| r.kind == exportgate_ledger::audit::KIND_DECISION && in_range(r))
        .count();
    println!(
        "evidence pack written to {}: records {} to {}, {decisions} decision records dated {from} to {to}",
        out.display(),
        log[first].seq,
        log[last].seq
    );
    Ok(ExitCode::SUCCESS)
}

/// `audit verify --pack DIR [--anchor FILE]`: offline, no database.
pub fn verify_pack(dir: &Path, anchors: &[(u64, String)]) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        return Err(user(format!("`{}` is not a directory", dir.display())));
    }
    match pack::verify(dir, anchors) {
        Ok(v) => {
            println!(
                "pack intact: records {} to {} chained from {} (hash {}), {} decisions dated {} to {}",
                v.chain.anchor.seq + 1,
                v.chain.last.seq,
                v.chain.anchor.seq,
                v.chain.anchor.hash,
                v.decisions,
                v.chain.from,
                v.chain.to
            );
            if !anchors.is_empty() {
                println!(
                    "anchors: {} of {} within the pack, all hold{}",
                    v.anchors_checked,
                    anchors.len(),
                    if v.anchors_checked < anchors.len() {
                        " (the others name records outside it: not checked)"
                    } else {
                        ""
                    }
                );
            }
            let _ = v.records;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{e}");
            eprintln!(
                "error: the evidence pack {} has been tampered with: {e}",
                dir.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}
