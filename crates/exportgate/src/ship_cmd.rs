//! `exportgate ship`: decide every order like `check`, then record what ships on the ledger.
//!
//! Orders are parsed, screened and decided in parallel (without looking at quotas: the ledger is
//! the authority), then taken through the ledger one by one in input order:
//! * an order under License Exception LPP reserves and posts its TPP on the consignee's LPP
//!   account for the calendar year; if the ledger refuses, the order is decided again with the
//!   ledger's usage (it then needs a licence);
//! * a `license_required` order is shipped under the first licence that covers it and on which
//!   the ledger accepts a reserve-and-post (with the Tier 2 country allocation, under AI
//!   Diffusion, in the same all-or-nothing transfer); otherwise it stays `license_required` with
//!   the ledger's result code and numbers.
//!
//! Ledger requests are dated at the order's date (now, when the order is dated today), the date
//! the ledger checks validity against. Every request's idempotency key derives from the order
//! id, so a re-run of the same file replays the original replies and draws nothing again; an
//! order id repeated within one file is an error for the later lines. Every decision is appended
//! to the hash-chained audit log with the ledger replies it rests on.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use exportgate_core::decide::Decider;
use exportgate_core::{Decision, ListHit, NoQuotas, Order, Outcome, QuotaView, Ruleset};
use exportgate_ledger::account::{normalise_name, LPP_TPP_PER_YEAR};
use exportgate_ledger::{AccountSpec, Amounts, LedgerStore, Reply, Request, Timestamp};
use exportgate_lists::source::ScreeningSource;
use rayon::prelude::*;

use crate::check_cmd::{
    jsonl_lines, parse_csv, parse_jsonl, write_header, write_results, LineError, Parsed,
};
use crate::classify_cmd::check_regimes;
use crate::db::{actor, now, store_error, DbUrl};
use crate::input::read_all;
use crate::licensing::{counted_tpp, order_key, refusal, submit_one, FixedLpp, Licensing};
use crate::{CheckFormat, InputFormat};

/// The time of an order's ledger requests: now when the order is dated today (UTC), else
/// midnight UTC at the start of the order's date.
fn ledger_time(order_date: chrono::NaiveDate, now: Timestamp) -> Timestamp {
    if now.date() == order_date {
        now
    } else {
        Timestamp::start_of(order_date)
    }
}

/// Marks later lines that repeat an order id as errors: one order id is one shipment.
fn reject_duplicate_ids(lines: &mut [Parsed]) {
    let mut seen = HashSet::new();
    for (line, parsed) in lines.iter_mut() {
        if let Ok(order) = parsed {
            if !seen.insert(order.id.clone()) {
                *parsed = Err(LineError {
                    line: *line,
                    id: Some(order.id.clone()),
                    field: "id".into(),
                    message: format!(
                        "order id `{}` appears earlier in this file; one order id is one shipment",
                        order.id
                    ),
                });
            }
        }
    }
}

/// Decide again with one consignee-year's LPP usage as the ledger reported it.
fn decide_with_lpp(
    decider: &Decider,
    source: &ScreeningSource,
    order: &Order,
    hits: &[ListHit],
    used: f64,
) -> Option<Decision> {
    let view = FixedLpp {
        consignee: normalise_name(&order.consignee.name),
        year: chrono::Datelike::year(&order.date),
        used,
    };
    decider
        .decide(order, &view as &dyn QuotaView, source.screening(hits))
        .ok()
}

/// Takes one decided order through the ledger.
#[allow(clippy::too_many_arguments)]
fn ship_one(
    store: &mut dyn LedgerStore,
    licensing: &Licensing,
    decider: &Decider,
    source: &ScreeningSource,
    order: &Order,
    hits: &[ListHit],
    mut d: Decision,
    actor: &str,
    now: Timestamp,
    replies: &mut Vec<Reply>,
) -> anyhow::Result<Decision> {
    let at = ledger_time(order.date, now);
    let tpp = counted_tpp(&d);
    if d.outcome == Outcome::LicenseException && d.exception.as_deref() == Some("LPP") && tpp > 0 {
        let spec = AccountSpec::lpp(&order.consignee.name, order.date);
        store
            .ensure_account(&spec, actor, at)
            .map_err(store_error)?;
        let amounts = Amounts {
            tpp,
            ..Amounts::ZERO
        };
        let request = Request::ReserveAndPost {
            key: order_key(&order.id, "lpp"),
            accounts: vec![spec.id.clone()],
            amounts,
            at,
        };
        let reply = submit_one(store, actor, request)?;
        replies.push(reply.clone());
        let used = store
            .balance(&spec.id)
            .map_err(store_error)?
            .map(|b| b.posted.tpp.saturating_add(b.pending.tpp))
            .unwrap_or(0);
        if reply.is_ok() {
            // Decide again with the usage before this order, so the reason states the ledger's numbers.
            let before = used.saturating_sub(tpp) as f64;
            if let Some(again) = decide_with_lpp(decider, source, order, hits, before)
                .filter(|x| x.exception.as_deref() == Some("LPP"))
            {
                d = again;
            }
            d.reasons.push(exportgate_core::reason::Reason::new(
                "LE-LPP.ledger",
                "15 CFR 740.29",
                format!(
                    "recorded on the ledger under `{}`{}: {} of {} TPP left for consignee `{}` in {}",
                    reply.key,
                    if reply.replayed { " by an earlier run (replayed)" } else { "" },
                    crate::licensing::tpp_text(LPP_TPP_PER_YEAR.saturating_sub(used)),
                    crate::licensing::tpp_text(LPP_TPP_PER_YEAR),
                    order.consignee.name,
                    chrono::Datelike::year(&order.date),
                ),
            ));
            return Ok(d);
        }
        let why = refusal(store, &reply, &amounts)?;
        // The ledger refused: decide again with its usage; fail closed if the engine would
        // still grant LPP (rounding), by deciding with the cap used up.
        let again = decide_with_lpp(decider, source, order, hits, used as f64)
            .filter(|x| x.exception.as_deref() != Some("LPP"))
            .or_else(|| {
                decide_with_lpp(decider, source, order, hits, LPP_TPP_PER_YEAR as f64)
                    .filter(|x| x.exception.as_deref() != Some("LPP"))
            });
        let Some(mut again) = again else {
            anyhow::bail!(
                "order `{}`: the ledger refused LPP ({why}) but the decision still grants it",
                order.id
            );
        };
        again.reasons.push(exportgate_core::reason::Reason::new(
            "LE-LPP.ledger",
            "15 CFR 740.29",
            format!("License Exception LPP refused by the ledger: {why}"),
        ));
        d = again;
    }
    licensing.ship(store, order, d, actor, at, replies)
}

#[allow(clippy::too_many_arguments)]
pub fn ship(
    rs: &Ruleset,
    path: &Path,
    forced: &[String],
    format: CheckFormat,
    out: Option<&Path>,
    input: Option<InputFormat>,
    source: &ScreeningSource,
    db: &DbUrl,
) -> anyhow::Result<ExitCode> {
    check_regimes(rs, forced)?;
    let bytes = read_all(path)?;
    let input = input.unwrap_or(
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            InputFormat::Csv
        } else {
            InputFormat::Jsonl
        },
    );
    let mut lines = match input {
        InputFormat::Jsonl => parse_jsonl(&jsonl_lines(&bytes)),
        InputFormat::Csv => parse_csv(&bytes)?,
    };
    reject_duplicate_ids(&mut lines);
    let mut store = db.open()?;
    let licensing = Licensing::load(store.as_mut())?;
    let decider = Decider::new(rs, forced);
    // Screen and decide in parallel; quotas are left to the ledger.
    let first: Vec<Result<(Decision, Vec<ListHit>), LineError>> = lines
        .par_iter()
        .map(|(line, parsed)| {
            let order = parsed.as_ref().map_err(Clone::clone)?;
            let err = |field: String, message: String| LineError {
                line: *line,
                id: Some(order.id.clone()),
                field,
                message,
            };
            let hits = source
                .hits(order)
                .map_err(|m| err(m.split(':').next().unwrap_or("name").to_string(), m))?;
            let d = decider
                .decide(order, &NoQuotas, source.screening(&hits))
                .map_err(|e| err(e.field, e.problem))?;
            Ok((d, hits))
        })
        .collect();
    let actor = actor("ship");
    let mut results: Vec<Result<Decision, LineError>> = Vec::with_capacity(lines.len());
    for ((_, parsed), r) in lines.iter().zip(first) {
        let (order, (d, hits)) = match (parsed, r) {
            (Ok(order), Ok(x)) => (order, x),
            (_, Err(e)) => {
                results.push(Err(e));
                continue;
            }
            (Err(e), _) => {
                results.push(Err(e.clone()));
                continue;
            }
        };
        let mut replies = Vec::new();
        let when = now();
        let d = ship_one(
            store.as_mut(),
            &licensing,
            &decider,
            source,
            order,
            &hits,
            d,
            &actor,
            when,
            &mut replies,
        )?;
        let record = serde_json::json!({
            "command": "ship",
            "decision": &d,
            "ledger": &replies,
        });
        store
            .append_decision(&actor, when, &record)
            .map_err(store_error)?;
        results.push(Ok(d));
    }
    let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for r in &results {
        match r {
            Ok(d) => *counts.entry(d.outcome).or_default() += 1,
            Err(e) => errors.push(e.clone()),
        }
    }
    let write = |w: &mut dyn Write| -> anyhow::Result<()> {
        write_header(w, format)?;
        write_results(w, &results, format)?;
        w.flush()?;
        Ok(())
    };
    match out {
        Some(p) => {
            let tmp = p.with_extension("partial");
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(&tmp)
                    .map_err(|e| crate::user(format!("cannot write `{}`: {e}", tmp.display())))?,
            );
            write(&mut f)?;
            drop(f);
            std::fs::rename(&tmp, p)?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            write(&mut w)?;
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(o, n)| format!("{} {n}", o.as_str()))
        .collect();
    eprintln!(
        "{} orders shipped against {db}: {}; errors {}",
        lines.len(),
        parts.join(", "),
        errors.len()
    );
    for e in errors.iter().take(20) {
        eprintln!("error: line {}: field `{}`: {}", e.line, e.field, e.message);
    }
    if source.unscreened() {
        eprintln!("warning: parties were not screened (no lists loaded); no decision is clean");
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_time_is_the_order_date_unless_today() {
        let now = Timestamp::from_micros(1_750_000_000_000_000); // 2025-06-15T15:06:40Z
        let today = now.date();
        assert_eq!(ledger_time(today, now), now);
        let earlier = chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
        assert_eq!(ledger_time(earlier, now), Timestamp::start_of(earlier));
    }
}
