//! Retention of the audit log (issue 19 item 4): the retention period and the plan of an
//! `audit prune`.
//!
//! 15 CFR 762.6(a): records must be retained for five years from the latest of the dates of
//! export, reexport, transfer or other termination of the transaction. [`RETENTION_YEARS`] is
//! that period and the one place the default is set; `exportgate audit prune` refuses a shorter
//! `--retention-years` unless `--i-know-part-762` is given. A prune removes a *prefix* of the
//! log — the records before the first one dated on or after `--before` — and, in the same
//! transaction, stores the chain base (seq and hash of the last removed record) with a
//! [`Checkpoint`] of the ledger after it, and appends an `audit_pruned` record naming both (with
//! the checkpoint's sha256), so verification starts from the base and any edit of the base or
//! the checkpoint is caught. Pure: the caller gives today's date.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use crate::audit::{verify_chain_from, AuditBase, AuditRecord};
use crate::reconcile::{reconcile, LedgerRows, Replay};
use crate::time::Timestamp;

/// The retention period, in years, of 15 CFR 762.6 (the default of `audit prune`).
pub const RETENTION_YEARS: u32 = 5;

/// The last day before which records may be pruned: `today` less `years` years (29 February
/// becomes 28 February).
pub fn retention_cutoff(today: NaiveDate, years: u32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MIN)
}

/// Why a prune was refused. Nothing is removed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PruneRefused {
    #[error(
        "refusing to prune before {before}: records must be kept {years} years (15 CFR 762.6), so --before may be at most {cutoff}{}",
        youngest.as_ref().map_or(String::new(), |(seq, at)| format!(
            "; the youngest record that would go is record {seq}, dated {at}"
        ))
    )]
    TooRecent {
        before: NaiveDate,
        cutoff: NaiveDate,
        years: u32,
        /// The seq and time of the youngest record the prune would remove.
        youngest: Option<(u64, Timestamp)>,
    },
    #[error("no audit record before {0} is left to prune (the log's first record is dated on or after it)")]
    Nothing(NaiveDate),
    #[error("not pruning an audit log that does not verify: {0}")]
    Broken(String),
}

/// What a prune will do, computed from one snapshot of the log and the tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunePlan {
    /// The head the plan was computed against; the prune fails if the log moved on.
    pub head: (u64, String),
    /// The base before the prune (0 for none).
    pub old_base_seq: u64,
    /// The new base: the last removed record and the checkpoint after it.
    pub base: AuditBase,
    /// The first and last removed seq.
    pub removed: (u64, u64),
    /// The payload of the `audit_pruned` record.
    pub payload: String,
}

#[derive(Serialize)]
struct Payload<'a> {
    before: NaiveDate,
    retention_years: u32,
    first_removed: u64,
    removed: u64,
    base_seq: u64,
    base_hash: &'a str,
    checkpoint_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pack: Option<&'a str>,
}

/// How many records at the start of `records` are dated before `before`.
pub fn prunable(records: &[AuditRecord], before: NaiveDate) -> usize {
    let limit = Timestamp::start_of(before);
    records.iter().take_while(|r| r.at < limit).count()
}

/// Plans a prune of the records before `before` in the stored log `records` (after `rows.base`),
/// whose head is `head`. Refuses when `before` is later than today less `years`, naming the
/// youngest record that would go; when nothing would go; or when the log does not verify (the
/// chain from its base to the head, and the tables against the log).
pub fn plan_prune(
    records: &[AuditRecord],
    rows: &LedgerRows,
    head: (u64, String),
    before: NaiveDate,
    today: NaiveDate,
    years: u32,
    pack: Option<&str>,
) -> Result<PrunePlan, PruneRefused> {
    let cutoff = retention_cutoff(today, years);
    let n = prunable(records, before);
    if before > cutoff {
        let youngest = records[..n]
            .iter()
            .max_by_key(|r| (r.at, r.seq))
            .map(|r| (r.seq, r.at));
        return Err(PruneRefused::TooRecent {
            before,
            cutoff,
            years,
            youngest,
        });
    }
    if n == 0 {
        return Err(PruneRefused::Nothing(before));
    }
    verify_chain_from(rows.base.as_ref(), records, Some(head.clone()))
        .map_err(|e| PruneRefused::Broken(e.to_string()))?;
    reconcile(records, rows).map_err(|e| PruneRefused::Broken(e.to_string()))?;
    let mut replay =
        Replay::new(rows.base.as_ref()).map_err(|e| PruneRefused::Broken(e.to_string()))?;
    for record in &records[..n] {
        replay
            .push(record)
            .map_err(|e| PruneRefused::Broken(e.to_string()))?;
    }
    let last = &records[n - 1];
    let base = AuditBase {
        seq: last.seq,
        hash: last.hash.clone(),
        checkpoint: serde_json::to_string(&replay.checkpoint()).expect("checkpoints serialise"),
    };
    let payload = serde_json::to_string(&Payload {
        before,
        retention_years: years,
        first_removed: records[0].seq,
        removed: n as u64,
        base_seq: base.seq,
        base_hash: &base.hash,
        checkpoint_sha256: base.checkpoint_sha256(),
        pack,
    })
    .expect("payloads serialise");
    Ok(PrunePlan {
        head,
        old_base_seq: rows.base.as_ref().map_or(0, |b| b.seq),
        removed: (records[0].seq, last.seq),
        base,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{verify_chain_from, BreakKind, KIND_AUDIT_PRUNED};
    use crate::{AccountSpec, Amounts, Key, LedgerStore, MemoryStore, Request};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// An LPP account, a pending reserve in 2019 posted in 2026, and a decision each year.
    fn log() -> (Vec<AuditRecord>, LedgerRows) {
        let mut store = MemoryStore::new();
        let spec = AccountSpec::lpp("Falcon Compute LLC", d("2019-02-01"));
        let t = |day: &str| Timestamp::start_of(d(day));
        store.ensure_account(&spec, "t", t("2019-02-01")).unwrap();
        let amounts = Amounts {
            units: 0,
            value: 0,
            tpp: 500,
        };
        let reserve = Request::Reserve {
            key: Key::new("r1").unwrap(),
            accounts: vec![spec.id.clone()],
            amounts,
            at: t("2019-03-01"),
        };
        store.submit("t", &[reserve]).unwrap();
        store
            .append_decision("t", t("2019-03-02"), &serde_json::json!({"o": 1}))
            .unwrap();
        let post = Request::Post {
            key: Key::new("p1").unwrap(),
            pending: Key::new("r1").unwrap(),
            at: t("2026-01-02"),
        };
        store.submit("t", &[post]).unwrap();
        store.ledger_rows().unwrap()
    }

    /// What a store does with a plan: the records after the base, and the pruned record.
    fn apply(plan: &PrunePlan, records: &[AuditRecord]) -> Vec<AuditRecord> {
        let mut rest: Vec<AuditRecord> = records
            .iter()
            .filter(|r| r.seq > plan.base.seq)
            .cloned()
            .collect();
        rest.push(AuditRecord::next(
            plan.head.0,
            &plan.head.1,
            Timestamp::start_of(d("2026-12-02")),
            "t",
            KIND_AUDIT_PRUNED,
            plan.payload.clone(),
        ));
        rest
    }

    #[test]
    fn a_pruned_log_verifies_and_reconciles_from_its_base_and_checkpoint() {
        let (records, mut rows) = log();
        let head = records.last().map(|r| (r.seq, r.hash.clone())).unwrap();
        let refused = plan_prune(
            &records,
            &rows,
            head.clone(),
            d("2022-01-01"),
            d("2026-12-02"),
            5,
            None,
        );
        assert_eq!(
            refused,
            Err(PruneRefused::TooRecent {
                before: d("2022-01-01"),
                cutoff: d("2021-12-02"),
                years: 5,
                youngest: Some((3, Timestamp::start_of(d("2019-03-02")))),
            })
        );
        let plan = plan_prune(
            &records,
            &rows,
            head,
            d("2020-01-01"),
            d("2026-12-02"),
            5,
            None,
        )
        .unwrap();
        assert_eq!(plan.removed, (1, 3));
        let rest = apply(&plan, &records);
        let new_head = rest.last().map(|r| (r.seq, r.hash.clone()));
        rows.base = Some(plan.base.clone());
        let summary = verify_chain_from(rows.base.as_ref(), &rest, new_head.clone()).unwrap();
        assert_eq!(summary.records, 5);
        let reconciled = reconcile(&rest, &rows).unwrap();
        assert_eq!((reconciled.accounts, reconciled.transfers), (1, 1));

        // An edited checkpoint (the reserve's pending amount) is caught by both checks.
        let mut forged = rows.clone();
        let base = forged.base.as_mut().unwrap();
        base.checkpoint = base.checkpoint.replace("\"tpp\":500", "\"tpp\":400");
        assert_ne!(forged.base, rows.base);
        assert_eq!(
            verify_chain_from(forged.base.as_ref(), &rest, new_head.clone())
                .unwrap_err()
                .kind,
            BreakKind::Base
        );
        assert!(reconcile(&rest, &forged)
            .unwrap_err()
            .what
            .contains("chain base"));
        // A base with no audit_pruned record naming it.
        let unnamed = &rest[..rest.len() - 1];
        let head = unnamed.last().map(|r| (r.seq, r.hash.clone()));
        assert_eq!(
            verify_chain_from(rows.base.as_ref(), unnamed, head)
                .unwrap_err()
                .kind,
            BreakKind::Base
        );
    }

    #[test]
    fn the_cutoff_is_five_calendar_years_back() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(retention_cutoff(d("2026-12-02"), 5), d("2021-12-02"));
        assert_eq!(retention_cutoff(d("2028-02-29"), 5), d("2023-02-28"));
        assert_eq!(RETENTION_YEARS, 5);
    }
}
