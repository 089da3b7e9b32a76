//! Deciding a book and recording what ships on the ledger (`exportgate ship`, `POST /v1/ship`).
//!
//! Orders are screened and decided in parallel without quotas (the ledger is the authority),
//! then taken through the ledger one by one in input order:
//! * an order under License Exception LPP reserves and posts its TPP on the consignee's LPP
//!   account for the calendar year; if the ledger refuses, the order is decided again with the
//!   ledger's usage (it then needs a licence);
//! * a `license_required` order is shipped under the first licence that covers it and on which
//!   the ledger accepts a reserve-and-post (with the Tier 2 country allocation, under AI
//!   Diffusion, in the same all-or-nothing transfer); otherwise it stays `license_required`
//!   with the ledger's result code and numbers.
//!
//! Ledger requests are dated at the order's date (now, when the order is dated today), the
//! date the ledger checks validity against. Every request's idempotency key derives from the
//! order id, so the same order id shipped again replays the original replies and draws
//! nothing; an order id repeated within one book is an error for the later lines. Every
//! decision is appended to the hash-chained audit log with the ledger replies it rests on.

use std::collections::HashSet;

use chrono::Datelike;
use exportgate_core::reason::Reason;
use exportgate_core::{Decision, ListHit, NoQuotas, Order, Outcome};
use exportgate_ledger::account::LPP_TPP_PER_YEAR;
use exportgate_ledger::{AccountSpec, Amounts, LedgerStore, Reply, Request, Timestamp};
use rayon::prelude::*;

use crate::licensing::{counted_tpp, order_key, refusal, submit_one, tpp_text, Licensing};
use crate::quotas::FixedLpp;
use crate::{LineError, LineResult, Parsed, Pipeline, PipelineError};

/// The time of an order's ledger requests: now when the order is dated today (UTC), else
/// midnight UTC at the start of the order's date.
pub fn ledger_time(order_date: chrono::NaiveDate, now: Timestamp) -> Timestamp {
    if now.date() == order_date {
        now
    } else {
        Timestamp::start_of(order_date)
    }
}

/// Marks later lines that repeat an order id as errors: one order id is one shipment. `book`
/// names what the lines came in (`file`, `request`).
pub fn reject_duplicate_ids(lines: &mut [Parsed], book: &str) {
    let mut seen = HashSet::new();
    for (line, parsed) in lines.iter_mut() {
        if let Ok(order) = parsed {
            if !seen.insert(order.id.clone()) {
                *parsed = Err(LineError {
                    line: *line,
                    id: Some(order.id.clone()),
                    field: "id".into(),
                    message: format!(
                        "order id `{}` appears earlier in this {book}; one order id is one shipment",
                        order.id
                    ),
                });
            }
        }
    }
}

/// Who ships, and when: the actor recorded on the ledger and the audit log, the door's name
/// in the audit record, and the clock (read by the door, never by the pipeline).
pub struct Shipper<'c> {
    pub actor: String,
    /// `ship` for the CLI, `POST /v1/ship` over HTTP.
    pub command: String,
    /// What the book came in, for error messages: `file`, `request`.
    pub book: &'static str,
    pub now: &'c mut dyn FnMut() -> Timestamp,
}

impl Pipeline<'_> {
    /// Decides every line and records what ships (see the module docs). Parse errors and
    /// repeated order ids are error records; a ledger failure stops the run (what was
    /// recorded before it stays recorded, and shipping the same book again replays it).
    pub fn ship_lines(
        &self,
        mut lines: Vec<Parsed>,
        store: &mut dyn LedgerStore,
        shipper: &mut Shipper<'_>,
    ) -> Result<Vec<LineResult>, PipelineError> {
        reject_duplicate_ids(&mut lines, shipper.book);
        let licensing = Licensing::load(store)?;
        let first: Vec<Result<(Decision, Vec<ListHit>), LineError>> = lines
            .par_iter()
            .map(|(line, parsed)| {
                let order = parsed.as_ref().map_err(Clone::clone)?;
                let hits = self.screen(*line, order)?;
                let d = self.decide_screened(*line, order, &hits, &NoQuotas)?;
                Ok((d, hits))
            })
            .collect();
        let mut results = Vec::with_capacity(lines.len());
        for ((line, parsed), r) in lines.iter().zip(first) {
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
            let when = (shipper.now)();
            let d = match self.ship_one(
                store,
                &licensing,
                *line,
                order,
                &hits,
                d,
                &shipper.actor,
                when,
                &mut replies,
            )? {
                Ok(d) => d,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let record = serde_json::json!({
                "command": shipper.command,
                "decision": &d,
                "ledger": &replies,
            });
            store.append_decision(&shipper.actor, when, &record)?;
            results.push(Ok(d));
        }
        Ok(results)
    }

    /// Decides again with one consignee-year's LPP usage as the ledger reported it.
    fn decide_with_lpp(
        &self,
        line: usize,
        order: &Order,
        hits: &[ListHit],
        used: f64,
    ) -> LineResult {
        self.decide_screened(line, order, hits, &FixedLpp::for_order(order, used))
    }

    /// Takes one decided order through the ledger. An order the engine cannot decide again
    /// with the ledger's numbers is an error record (`Ok(Err(..))`), never its first decision.
    #[allow(clippy::too_many_arguments)]
    fn ship_one(
        &self,
        store: &mut dyn LedgerStore,
        licensing: &Licensing,
        line: usize,
        order: &Order,
        hits: &[ListHit],
        mut d: Decision,
        actor: &str,
        now: Timestamp,
        replies: &mut Vec<Reply>,
    ) -> Result<LineResult, PipelineError> {
        let at = ledger_time(order.date, now);
        let tpp = counted_tpp(&d);
        if d.outcome == Outcome::LicenseException
            && d.exception.as_deref() == Some("LPP")
            && tpp > 0
        {
            let spec = AccountSpec::lpp(&order.consignee.name, order.date);
            store.ensure_account(&spec, actor, at)?;
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
                .balance(&spec.id)?
                .map(|b| b.posted.tpp.saturating_add(b.pending.tpp))
                .unwrap_or(0);
            if reply.is_ok() {
                // Decide again with the usage before this order, so the reason states the
                // ledger's numbers (the first decision, which the ledger accepted, stands if
                // the engine's rounding says otherwise).
                let before = used.saturating_sub(tpp) as f64;
                match self.decide_with_lpp(line, order, hits, before) {
                    Ok(again) if again.exception.as_deref() == Some("LPP") => d = again,
                    Ok(_) => {}
                    Err(e) => return Ok(Err(e)),
                }
                d.reasons.push(Reason::new(
                    "LE-LPP.ledger",
                    "15 CFR 740.29",
                    format!(
                        "recorded on the ledger under `{}`{}: {} of {} TPP left for consignee `{}` in {}",
                        reply.key,
                        if reply.replayed { " by an earlier run (replayed)" } else { "" },
                        tpp_text(LPP_TPP_PER_YEAR.saturating_sub(used)),
                        tpp_text(LPP_TPP_PER_YEAR),
                        order.consignee.name,
                        order.date.year(),
                    ),
                ));
                return Ok(Ok(d));
            }
            let why = refusal(store, &reply, &amounts)?;
            // The ledger refused: decide again with its usage; fail closed if the engine would
            // still grant LPP (rounding), by deciding with the cap used up.
            let mut again = match self.decide_with_lpp(line, order, hits, used as f64) {
                Ok(x) if x.exception.as_deref() != Some("LPP") => x,
                Ok(_) => match self.decide_with_lpp(line, order, hits, LPP_TPP_PER_YEAR as f64) {
                    Ok(x) if x.exception.as_deref() != Some("LPP") => x,
                    Ok(_) => {
                        return Err(PipelineError::Invariant {
                            order: order.id.clone(),
                            message: format!(
                                "the ledger refused LPP ({why}) but the decision still grants it"
                            ),
                        })
                    }
                    Err(e) => return Ok(Err(e)),
                },
                Err(e) => return Ok(Err(e)),
            };
            again.reasons.push(Reason::new(
                "LE-LPP.ledger",
                "15 CFR 740.29",
                format!("License Exception LPP refused by the ledger: {why}"),
            ));
            d = again;
        }
        Ok(Ok(licensing.ship(store, order, d, actor, at, replies)?))
    }
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
