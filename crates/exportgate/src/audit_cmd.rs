//! `exportgate audit export` and `audit verify --pack` (the evidence pack, see [`crate::pack`]),
//! and `audit prune` with its retention setting (issue 19 items 3 and 4).

use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::Ruleset;
use exportgate_ledger::audit::AuditRecord;
use exportgate_ledger::retention::{plan_prune, PruneRefused, RETENTION_YEARS};

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
    outln!(
        "evidence pack written to {}: records {} to {}, {decisions} decision records dated {from} to {to}",
        out.display(),
        log[first].seq,
        log[last].seq
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `audit verify --pack DIR [--anchor FILE]`: offline, no database.
pub fn verify_pack(dir: &Path, anchors: &[(u64, String)]) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        return Err(user(format!("`{}` is not a directory", dir.display())));
    }
    match pack::verify(dir, anchors) {
        Ok(v) => {
            outln!(
                "pack intact: records {} to {} chained from {} (hash {}), {} decisions dated {} to {}",
                v.chain.anchor.seq + 1,
                v.chain.last.seq,
                v.chain.anchor.seq,
                v.chain.anchor.hash,
                v.decisions,
                v.chain.from,
                v.chain.to
            )?;
            if !anchors.is_empty() {
                outln!(
                    "anchors: {} of {} within the pack, all hold{}",
                    v.anchors_checked,
                    anchors.len(),
                    if v.anchors_checked < anchors.len() {
                        " (the others name records outside it: not checked)"
                    } else {
                        ""
                    }
                )?;
            }
            let _ = v.records;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            outln!("{e}")?;
            eprintln!(
                "error: the evidence pack {} has been tampered with: {e}",
                dir.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// What `audit prune` was asked.
pub struct PruneArgs {
    pub before: NaiveDate,
    /// The retention period in years ([`RETENTION_YEARS`] unless given).
    pub retention_years: u32,
    /// Allows a retention period shorter than [`RETENTION_YEARS`].
    pub i_know_part_762: bool,
    /// Where the evidence pack of the removed records goes (default
    /// `audit-pruned-FIRST-LAST` in the current directory).
    pub out: Option<std::path::PathBuf>,
    pub no_pack: bool,
}

/// `audit prune --before DATE`: removes the records dated before DATE, when DATE is at least
/// the retention period before `today`, after writing (unless `--no-pack`) and checking an
/// evidence pack of them; the chain base, checkpoint and `audit_pruned` record are written in
/// the same transaction as the removal (see `exportgate_ledger::retention`).
pub fn prune(
    rs: &Ruleset,
    db: &DbUrl,
    args: &PruneArgs,
    today: NaiveDate,
) -> anyhow::Result<ExitCode> {
    let years = args.retention_years;
    if years == 0 {
        return Err(user("--retention-years must be at least 1"));
    }
    if years < RETENTION_YEARS && !args.i_know_part_762 {
        return Err(user(format!(
            "--retention-years {years} is shorter than the {RETENTION_YEARS} years 15 CFR 762.6 requires; \
             give --i-know-part-762 if a shorter period really applies to these records"
        )));
    }
    let mut store = db
        .open_existing()?
        .ok_or_else(|| user(format!("no ledger at {db}")))?;
    let summary = match store.verify_audit().map_err(store_error)? {
        Ok(s) => s,
        Err(broken) => {
            eprintln!("error: not pruning a broken audit log ({db}): {broken}");
            return Ok(ExitCode::from(1));
        }
    };
    let (records, rows) = store.ledger_rows().map_err(store_error)?;
    let head = (summary.records, summary.head_hash);
    if records.last().map(|r| (r.seq, r.hash.clone())) != Some(head.clone()) {
        anyhow::bail!(
            "the audit log of {db} changed while it was read; nothing removed, run the prune again"
        );
    }
    // A first plan without the pack's name: refusals come before anything is written.
    let plan = plan_prune(
        &records,
        &rows,
        head.clone(),
        args.before,
        today,
        years,
        None,
    );
    let plan = match plan {
        Ok(p) => p,
        Err(PruneRefused::Nothing(before)) => {
            outln!("nothing to prune: no audit record of {db} is dated before {before}")?;
            return Ok(ExitCode::SUCCESS);
        }
        Err(e @ PruneRefused::TooRecent { .. }) => return Err(user(e.to_string())),
        Err(e @ PruneRefused::Broken(_)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let n = (plan.removed.1 - plan.removed.0 + 1) as usize;
    let removed = &records[..n];
    let mut pack_name = None;
    if !args.no_pack {
        let dir = args.out.clone().unwrap_or_else(|| {
            std::path::PathBuf::from(format!(
                "audit-pruned-{}-{}",
                plan.removed.0, plan.removed.1
            ))
        });
        let from = removed
            .iter()
            .map(|r| r.at.date())
            .min()
            .expect("not empty");
        let to = removed
            .iter()
            .map(|r| r.at.date())
            .max()
            .expect("not empty");
        let link = Link {
            seq: head.0,
            hash: head.1.clone(),
        };
        let files = pack::build(removed, from, to, link, rs)?;
        pack::write(&dir, &files)?;
        if let Err(e) = pack::verify(&dir, &[]) {
            anyhow::bail!(
                "the evidence pack written to {} does not verify ({e}); nothing removed",
                dir.display()
            );
        }
        pack_name = Some(dir.display().to_string());
    }
    let plan = plan_prune(
        &records,
        &rows,
        head,
        args.before,
        today,
        years,
        pack_name.as_deref(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let seq = store
        .prune_audit(&plan, &crate::db::actor("audit prune"), crate::db::now())
        .map_err(store_error)?;
    outln!(
        "pruned audit records {} to {} (dated before {}, retention {years} years); chain base now record {} (hash {}); recorded as audit record {seq}",
        plan.removed.0, plan.removed.1, args.before, plan.base.seq, plan.base.hash
    )?;
    match pack_name {
        Some(dir) => outln!("evidence pack of the removed records: {dir} (check it with `exportgate audit verify --pack {dir}`)")?,
        None => outln!("no evidence pack written (--no-pack)")?,
    }
    Ok(ExitCode::SUCCESS)
}
