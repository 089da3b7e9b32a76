//! The server's scheduled replay (issue 19 item 2): every `--replay-every` seconds, the
//! decisions recorded in the audit log for orders not yet shipped are decided again with
//! today's engine, rule data and lists (re-read from the database each time, so a `lists
//! update` run beside the server is seen without a restart), through
//! `exportgate_pipeline::replay`, and a review case is opened for each order whose outcome got
//! stricter, with the new decision and the cause of the change.
//!
//! An order is *not yet shipped* when its date (the date of export the order states) is today
//! or later. The decision compared is the latest one recorded for the order id: its shipment's
//! decision, or the decision of a case this replay opened before, so a change opens one case,
//! not one per run. The lists' age is not held against a replayed decision (`serve` holds
//! fresh decisions on stale lists); the replay compares rules and lists, nothing else.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use exportgate_ledger::audit::KIND_DECISION;
use exportgate_lists::source::ScreeningSource;
use exportgate_pipeline::replay::Recorded;
use exportgate_pipeline::Pipeline;
use serde_json::Value;

use crate::auth::{Principal, Role};
use crate::Shared;

/// The name the scheduled replay opens cases as.
pub const ACTOR: &str = "scheduled-replay";

/// The principal the scheduled replay opens cases as: the user `scheduled-replay` (created
/// if missing), no key.
pub fn principal(st: &Shared) -> Result<Principal, String> {
    let user = crate::db::ensure_user(&st.conn(), ACTOR).map_err(|e| e.to_string())?;
    Ok(Principal {
        id: "system".into(),
        name: ACTOR.into(),
        user_id: user.id,
        user: user.name,
        role: Role::Submitter,
        expires: None,
    })
}

/// Where the replay reads today's lists from.
#[derive(Debug, Clone)]
pub struct ReplaySource {
    pub lists: Vec<PathBuf>,
    pub db: PathBuf,
    pub screened_externally: bool,
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub replayed: usize,
    pub stricter: usize,
    pub cases: Vec<i64>,
}

/// The latest recorded decision of each order id whose date is `today` or later.
fn unshipped(st: &Shared, today: NaiveDate) -> Result<Vec<Recorded>, String> {
    let mut latest: BTreeMap<String, Recorded> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = st
            .store()
            .audit_records(after, 1024)
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in page.iter().filter(|r| r.kind == KIND_DECISION) {
            let Ok(payload) = serde_json::from_str::<Value>(&r.payload) else {
                continue;
            };
            if payload.get("event").and_then(Value::as_str) == Some("case_opened") {
                // A case opened on a decision: that decision is now the one on record.
                let id = payload.get("order_id").and_then(Value::as_str);
                if let Some(prev) = id.and_then(|i| latest.get_mut(i)) {
                    prev.decision = payload["decision"].clone();
                    prev.seq = Some(r.seq);
                }
                continue;
            }
            if let Some(Ok(rec)) = Recorded::from_payload(Some(r.seq), &payload) {
                if rec.order.date >= today {
                    latest.insert(rec.order.id.clone(), rec);
                }
            }
        }
    }
    Ok(latest.into_values().collect())
}

/// One run: replay the unshipped orders and open a case for each that got stricter.
pub fn run_once(st: &Shared, source: &ReplaySource, today: NaiveDate) -> Result<RunReport, String> {
    let recorded = unshipped(st, today)?;
    let mut report = RunReport::default();
    if recorded.is_empty() {
        return Ok(report);
    }
    let lists = ScreeningSource::open(
        &source.lists,
        Some(&source.db),
        source.screened_externally,
        today,
    )
    .map_err(|e| e.to_string())?;
    let who = principal(st)?;
    // Each record is decided under the regimes it was forced under (`?regime=`).
    let mut pipelines: BTreeMap<Vec<String>, Pipeline> = BTreeMap::new();
    for r in &recorded {
        report.replayed += 1;
        let forced = r.forced();
        if !pipelines.contains_key(&forced) {
            let p = Pipeline::new(st.rs, &forced, &lists).map_err(|e| e.to_string())?;
            pipelines.insert(forced.clone(), p);
        }
        let pipeline = &pipelines[&forced];
        let today_decision = match pipeline.first(0, &r.order) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(order = %r.order.id, field = %e.field, error = %e.message, "scheduled replay: order no longer decidable");
                continue;
            }
        };
        let Some(change) = exportgate_pipeline::replay::compare(r, &today_decision) else {
            continue;
        };
        if !(change.stricter && change.outcome_changed) {
            continue;
        }
        report.stricter += 1;
        let decision =
            exportgate_pipeline::wire::to_value(&today_decision).map_err(|e| e.to_string())?;
        let why = vec![format!(
            "scheduled replay: {} became {} ({}; inputs changed: {})",
            change.old.outcome,
            change.new.outcome,
            change.causes.join(", "),
            change.inputs.changed.join(", ")
        )];
        match crate::cases::open(st, &who, &st.pipeline, &r.order, &decision, 0.0, &why) {
            Ok(id) => report.cases.push(id),
            Err(e) => return Err(format!("opening a case for order `{}`: {e:?}", r.order.id)),
        }
    }
    Ok(report)
}

/// Runs [`run_once`] every `every` on its own thread until `stop` turns true.
pub fn spawn(
    st: Shared,
    source: ReplaySource,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("scheduled-replay".into())
        .spawn(move || loop {
            let today = chrono::Utc::now().date_naive();
            match run_once(&st, &source, today) {
                Ok(r) => tracing::info!(
                    replayed = r.replayed,
                    stricter = r.stricter,
                    cases = r.cases.len(),
                    "scheduled replay"
                ),
                Err(e) => tracing::warn!(error = %e, "scheduled replay failed"),
            }
            let deadline = std::time::Instant::now() + every;
            while std::time::Instant::now() < deadline {
                if *stop.borrow_and_update() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200).min(every));
            }
        })
}
