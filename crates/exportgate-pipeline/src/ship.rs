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
//!   with the ledger's result code and numbers;
//! * under a licence with a `revenue_share_percent` condition, the share of the order's value is
//!   reserved-and-posted on the licence's accrual account for the order's calendar quarter right
//!   after the draw, in the same transaction (a refusal abandons the group: nothing is written);
//!   an order without a value is `hold_for_review` naming `value_usd` before anything is drawn;
//! * under a licence with a `volume_cap_percent` condition, the draw also names the product's
//!   capped-draws account, and is made only if the capped units after it stay within that share
//!   of the product's US-bound reference flow as the transaction reads them (see
//!   [`crate::flows`]); otherwise the licence is refused with the numbers
//!   (`exceeds_limit: China-bound 5,100 would pass 50% of US-bound 10,000`);
//! * an order to the US that ships credits its product's reference flow.
//!
//! Ledger requests are dated at the order's date (now, when the order is dated today), the
//! date the ledger checks validity against. Every request's idempotency key derives from the
//! order id, so the same order id shipped again replays the original replies and draws
//! nothing; an order id repeated within one book is an error for the later lines. Every
//! decision is appended to the hash-chained audit log with the ledger replies it rests on.

use std::collections::HashSet;

use chrono::Datelike;
use exportgate_core::concepts::LicenceException;
use exportgate_core::reason::Reason;
use exportgate_core::{Decision, ListHit, NoQuotas, Order, Outcome};
use exportgate_ledger::account::LPP_TPP_PER_YEAR;
use exportgate_ledger::flow::grouped;
use exportgate_ledger::{
    capped_draws_account, reference_flow_account, share_cents, veu_draw_accounts,
    veu_scope_account, volume_cap, AccountId, AccountSpec, Amounts, Balances, Key, LedgerStore,
    Licence, Quarter, Reply, Request, ShipPlan, ShipStep, StoreError, Timestamp, ACCRUAL_CURRENCY,
};
use rayon::prelude::*;

use crate::accrual::money;
use crate::licensing::{
    counted_tpp, describe_limits, facts, hold_for_value, licence_amounts, licensed, needs_value,
    note, order_key, refusal, tpp_text, Licensing, LICENCE_CITATION, REVENUE_SHARE_RULE,
};
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
    pub now: &'c mut (dyn FnMut() -> Timestamp + Send),
}

/// Orders shipped in one ledger transaction (group commit).
pub const GROUP_ORDERS: usize = 1024;

impl Pipeline<'_> {
    /// Decides every line and records what ships (see the module docs), returning every
    /// line's result in input order. Parse errors and repeated order ids are error records.
    pub fn ship_lines(
        &self,
        lines: Vec<Parsed>,
        store: &mut dyn LedgerStore,
        shipper: &mut Shipper<'_>,
    ) -> Result<Vec<LineResult>, PipelineError> {
        let mut results = Vec::with_capacity(lines.len());
        self.ship_stream(lines, store, shipper, &mut |group| {
            results.extend(group);
            Ok(())
        })?;
        Ok(results)
    }

    /// [`Pipeline::ship_lines`], handing the results to `emit` group by group, in input order.
    /// Orders go to the ledger in groups of [`GROUP_ORDERS`], each group in one transaction
    /// that checks every limit as it draws and appends every decision to the audit log; the
    /// next group is decided on another core meanwhile. A ledger failure stops the run (the
    /// groups before it stay recorded and emitted; shipping the same book again replays them).
    pub fn ship_stream(
        &self,
        mut lines: Vec<Parsed>,
        store: &mut dyn LedgerStore,
        shipper: &mut Shipper<'_>,
        emit: &mut dyn FnMut(Vec<LineResult>) -> Result<(), PipelineError>,
    ) -> Result<(), PipelineError> {
        reject_duplicate_ids(&mut lines, shipper.book);
        // Orders linked to their party records once, before they are screened and tallied.
        if self.parties().is_some() {
            lines.par_iter_mut().for_each(|(line, parsed)| {
                if let Ok(o) = parsed {
                    if let Err(e) = self.attach(*line, o) {
                        *parsed = Err(e);
                    }
                }
            });
        }
        let licensing = Licensing::load(store)?;
        let decide = |chunk: &[Parsed]| -> Vec<First> {
            chunk
                .par_iter()
                .map(|(line, parsed)| {
                    let order = parsed.as_ref().map_err(Clone::clone)?;
                    let hits = self.screen(*line, order)?;
                    let d = self.decide_screened(*line, order, &hits, &NoQuotas)?;
                    Ok((d, hits))
                })
                .collect()
        };
        let chunks: Vec<&[Parsed]> = lines.chunks(GROUP_ORDERS).collect();
        let mut next = chunks.first().map(|c| decide(c));
        for (k, chunk) in chunks.iter().enumerate() {
            let first = next.take().unwrap_or_default();
            let (shipped, decided) = rayon::join(
                || self.ship_group(chunk, first, &mut *store, &mut *shipper, &licensing),
                || chunks.get(k + 1).map(|c| decide(c)),
            );
            emit(shipped?)?;
            next = decided;
        }
        Ok(())
    }

    /// Ships one group of decided lines in one ledger transaction.
    fn ship_group(
        &self,
        lines: &[Parsed],
        first: Vec<First>,
        store: &mut dyn LedgerStore,
        shipper: &mut Shipper<'_>,
        licensing: &Licensing,
    ) -> Result<Vec<LineResult>, PipelineError> {
        let mut results: Vec<LineResult> = Vec::with_capacity(lines.len());
        let mut group: Vec<Shipment> = Vec::new();
        let mut slots: Vec<usize> = Vec::new();
        for ((line, parsed), r) in lines.iter().zip(first) {
            match (parsed, r) {
                (Ok(order), Ok((d, hits))) => {
                    let now = (shipper.now)();
                    group.push(Shipment::new(licensing, *line, order, hits, d, now));
                    slots.push(results.len());
                    results.push(Err(LineError {
                        line: *line,
                        id: Some(order.id.clone()),
                        field: "ledger".into(),
                        message: "not shipped".into(),
                    }));
                }
                (_, Err(e)) => results.push(Err(e)),
                (Err(e), _) => results.push(Err(e.clone())),
            }
        }
        if group.is_empty() {
            return Ok(results);
        }
        let mut plan = GroupPlan {
            pipeline: self,
            command: &shipper.command,
            shipments: group,
        };
        store
            .ship_group(&shipper.actor, &mut plan)
            .map_err(|e| match e {
                StoreError::Abandoned(message) => PipelineError::Invariant {
                    order: String::new(),
                    message,
                },
                other => PipelineError::Ledger(other),
            })?;
        for (slot, shipment) in slots.into_iter().zip(plan.shipments) {
            if let Some(r) = shipment.out {
                results[slot] = r;
            }
        }
        Ok(results)
    }
}

/// A line's first decision (without quotas) and its screening hits, or its error record.
type First = Result<(Decision, Vec<ListHit>), LineError>;

/// Where a shipment is in its steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Start,
    LppSent,
    Licences,
    LicenceSent,
    /// Licensed under a licence with a revenue-share condition: accrue the share.
    Accrue,
    AccrualSent,
    /// An order to the US: credit its product's US-bound reference flow.
    Flow,
    FlowSent,
    /// A VEU-eligible order that names a VEU: draw on the VEU's compute (see [`crate::veus`]).
    Veu,
    VeuSent,
}

/// One order on its way through the ledger.
struct Shipment<'o> {
    line: usize,
    order: &'o Order,
    hits: Vec<ListHit>,
    /// The first decision (without quotas).
    first: Decision,
    /// The time of its ledger requests, and of its audit record.
    at: Timestamp,
    now: Timestamp,
    /// The licences that cover it, the one expiring first first.
    candidates: Vec<Licence>,
    // The steps' state, reset by `ShipPlan::begin`.
    d: Decision,
    stage: Stage,
    ensured: bool,
    /// The capped-draws account of the licence being tried has been ensured.
    ensured_cap: bool,
    tried: usize,
    notes: Vec<String>,
    /// The licensed decision waiting for its revenue-share accrual, and the licence.
    accrue: Option<(Decision, Licence)>,
    /// The order's VEU has been considered; how many of its accounts have been ensured.
    veu_seen: bool,
    veu_ensured: usize,
    /// Why the order's VEU did not take it: a `veu` reason on its decision.
    veu_note: Option<String>,
    out: Option<LineResult>,
}

impl<'o> Shipment<'o> {
    fn new(
        licensing: &Licensing,
        line: usize,
        order: &'o Order,
        hits: Vec<ListHit>,
        first: Decision,
        now: Timestamp,
    ) -> Shipment<'o> {
        // An order the due-diligence policy holds draws on no licence (see `licensing`).
        let candidates = if crate::licensing::due_diligence_holds(&first) {
            Vec::new()
        } else {
            licensing
                .covering(&facts(order, &first))
                .into_iter()
                .cloned()
                .collect()
        };
        Shipment {
            line,
            order,
            hits,
            at: ledger_time(order.date, now),
            now,
            candidates,
            d: first.clone(),
            first,
            stage: Stage::Start,
            ensured: false,
            ensured_cap: false,
            tried: 0,
            notes: Vec::new(),
            accrue: None,
            veu_seen: false,
            veu_ensured: 0,
            veu_note: None,
            out: None,
        }
    }

    fn begin(&mut self) {
        self.d = self.first.clone();
        self.stage = Stage::Start;
        self.ensured = false;
        self.ensured_cap = false;
        self.tried = 0;
        self.notes.clear();
        self.accrue = None;
        self.veu_seen = false;
        self.veu_ensured = 0;
        self.veu_note = None;
        self.out = None;
    }

    fn uses_lpp(&self) -> bool {
        self.first.outcome == Outcome::LicenseException
            && self.first.uses_exception(LicenceException::Lpp)
            && counted_tpp(&self.first) > 0
    }

    fn lpp_spec(&self) -> AccountSpec {
        AccountSpec::lpp(&self.order.consignee.name, self.order.date)
    }

    fn allocation(&self) -> Option<AccountSpec> {
        self.d
            .allocation
            .as_ref()
            .map(|a| AccountSpec::country_allocation(&a.country, false))
    }

    /// The product a volume cap counts this order under (its catalog chip id).
    fn product(&self) -> Option<&str> {
        crate::flows::product(&self.first)
    }

    fn amounts(&self) -> Amounts {
        licence_amounts(&facts(self.order, &self.d), &self.d)
    }

    /// The revenue-share accrual account of `licence` for this order's quarter, if the
    /// licence carries the condition.
    fn accrual_spec(&self, licence: &Licence) -> Option<AccountSpec> {
        let percent = licence.revenue_share_percent()?;
        Some(AccountSpec::revenue_share(
            &licence.number,
            percent,
            Quarter::of(self.at.date()),
        ))
    }
}

impl Shipment<'_> {
    /// The VEU stages: ensure the VEU's accounts for the destination, check the shares or cap
    /// from the balances as the transaction reads them, draw, and on success the authorised
    /// decision (`Err(Some)`); `Err(None)` leaves the order to LPP and the licences, with a note.
    fn veu_step(
        &mut self,
        rs: &exportgate_core::Ruleset,
        replies: &[Reply],
        balances: &dyn Balances,
    ) -> Result<ShipStep, Option<Box<Decision>>> {
        use crate::veus;
        let id = self.order.veu.clone().unwrap_or_default();
        let dest = self.d.destination.clone();
        let Some(veu) = veus::record_of(balances.balance(&exportgate_ledger::veu_account(&id)))
        else {
            self.veu_note = Some(format!(
                "the order names VEU `{id}`, which the ledger does not hold (see `exportgate veu list`)"
            ));
            return Err(None);
        };
        if let Some(why) = veus::holder_ineligible(rs, &veu, self.d.date) {
            self.veu_note = Some(format!("VEU `{id}` could not take the order: {why}"));
            return Err(None);
        }
        let key = veus::draw_key(&self.order.id, &id);
        let tpp = self.amounts().tpp;
        let place = veus::place(rs, &dest);
        if self.stage == Stage::VeuSent {
            let Some(reply) = replies.last() else {
                return Ok(ShipStep::Abandon("no reply to the VEU draw".into()));
            };
            if !reply.is_ok() {
                let why = refusal(balances, reply, &Amounts::ZERO);
                self.veu_note = Some(format!("VEU `{id}` refused the order: {why}"));
                return Err(None);
            }
            let after = veus::holdings(&mut |a| balances.balance(a), &id, &dest);
            let reason = veus::shipped_reason(rs, &veu, &self.d, tpp, &key, reply.replayed, &after);
            self.notes.clear();
            return Err(Some(Box::new(veus::authorise(self.d.clone(), reason))));
        }
        let specs = exportgate_ledger::veu::veu_scope_specs(&id, &dest, true);
        if let Some(spec) = specs.get(self.veu_ensured) {
            self.veu_ensured += 1;
            return Ok(ShipStep::Ensure(spec.clone(), self.at));
        }
        // A draw recorded by an earlier run replays whatever the shares say now; a new draw
        // must fit them as this transaction reads the balances.
        if balances.recorded(&key).is_none() {
            let h = veus::holdings(&mut |a| balances.balance(a), &id, &dest);
            let tier = exportgate_ledger::Tier::Two;
            if let Err(e) =
                exportgate_ledger::veu_draw(&veu, &h, &dest, &place, tier, tpp, self.d.date)
            {
                self.veu_note = Some(format!("VEU `{id}` could not take the order: {e}"));
                return Err(None);
            }
        }
        self.stage = Stage::VeuSent;
        Ok(ShipStep::Submit(Request::ReserveAndPost {
            key,
            accounts: veu_draw_accounts(&id, &dest, true),
            amounts: Amounts {
                tpp,
                ..Amounts::ZERO
            },
            at: self.at,
        }))
    }
}

/// A group of shipments, stepped through inside the ledger's transaction.
struct GroupPlan<'p, 'o> {
    pipeline: &'p Pipeline<'p>,
    command: &'p str,
    shipments: Vec<Shipment<'o>>,
}

impl GroupPlan<'_, '_> {
    /// Decides shipment `i` again with its consignee-year's LPP usage as the ledger has it.
    fn again(&self, i: usize, used: f64) -> LineResult {
        let s = &self.shipments[i];
        self.pipeline.decide_screened(
            s.line,
            s.order,
            &s.hits,
            &FixedLpp::for_order(s.order, used),
        )
    }

    /// Shipment `i` is done with `result`: its audit record.
    fn done(&mut self, i: usize, mut result: LineResult, replies: &[Reply]) -> ShipStep {
        let s = &mut self.shipments[i];
        if let (Ok(d), Some(why)) = (&mut result, s.veu_note.take()) {
            d.reasons.push(Reason::new(
                crate::veus::VEU_RULE,
                crate::veus::VEU_CITATION,
                why,
            ));
        }
        let record = match &result {
            Ok(d) => serde_json::json!({"command": self.command, "decision": crate::wire::json(d),
                "order": s.order, "ledger": replies}),
            Err(e) => serde_json::json!({"command": self.command, "order_id": s.order.id,
                "error": {"field": e.field, "message": e.message}, "order": s.order,
                "ledger": replies}),
        };
        s.out = Some(result);
        ShipStep::Done(s.now, record)
    }

    /// After the LPP reservation's reply: the decision with the ledger's numbers.
    fn after_lpp(
        &mut self,
        i: usize,
        reply: &Reply,
        balances: &dyn Balances,
    ) -> Result<(), LineError> {
        let s = &self.shipments[i];
        let spec = s.lpp_spec();
        let tpp = counted_tpp(&s.first);
        let used = balances
            .balance(&spec.id)
            .map(|b| b.posted.tpp.saturating_add(b.pending.tpp))
            .unwrap_or(0);
        if reply.is_ok() {
            // Decide again with the usage before this order, so the reason states the
            // ledger's numbers (the first decision, which the ledger accepted, stands if the
            // engine's rounding says otherwise).
            let before = used.saturating_sub(tpp) as f64;
            let again = self.again(i, before)?;
            let (order, year) = (s.order, s.order.date.year());
            let s = &mut self.shipments[i];
            if again.uses_exception(LicenceException::Lpp) {
                s.d = again;
            }
            s.d.reasons.push(Reason::new(
                "LE-LPP.ledger",
                "15 CFR 740.29",
                format!(
                    "recorded on the ledger under `{}`{}: {} of {} TPP left for consignee `{}` in {}",
                    reply.key,
                    if reply.replayed { " by an earlier run (replayed)" } else { "" },
                    tpp_text(LPP_TPP_PER_YEAR.saturating_sub(used)),
                    tpp_text(LPP_TPP_PER_YEAR),
                    order.consignee.name,
                    year,
                ),
            ));
            return Ok(());
        }
        let amounts = Amounts {
            tpp,
            ..Amounts::ZERO
        };
        let why = refusal(balances, reply, &amounts);
        // The ledger refused: decide again with its usage; fail closed if the engine would
        // still grant LPP (rounding), by deciding with the cap used up.
        let mut again = self.again(i, used as f64)?;
        if again.uses_exception(LicenceException::Lpp) {
            again = self.again(i, LPP_TPP_PER_YEAR as f64)?;
        }
        if again.uses_exception(LicenceException::Lpp) {
            return Err(LineError {
                line: s.line,
                id: Some(s.order.id.clone()),
                field: "ledger".into(),
                message: format!(
                    "the ledger refused License Exception LPP ({why}) but the decision still grants it"
                ),
            });
        }
        again.reasons.push(Reason::new(
            "LE-LPP.ledger",
            "15 CFR 740.29",
            format!("License Exception LPP refused by the ledger: {why}"),
        ));
        self.shipments[i].d = again;
        Ok(())
    }
}

impl ShipPlan for GroupPlan<'_, '_> {
    fn begin(&mut self) {
        for s in &mut self.shipments {
            s.begin();
        }
    }

    fn shipments(&self) -> usize {
        self.shipments.len()
    }

    fn touches(&self) -> (Vec<Key>, Vec<AccountId>) {
        let (mut keys, mut ids) = (Vec::new(), Vec::new());
        for s in &self.shipments {
            if s.uses_lpp() {
                keys.push(order_key(&s.order.id, "lpp"));
                ids.push(s.lpp_spec().id);
            }
            if let Some(product) = s.product() {
                if crate::flows::credits_flow(&s.first) {
                    keys.push(order_key(&s.order.id, "us-flow"));
                    ids.push(reference_flow_account(product));
                }
                if s.candidates
                    .iter()
                    .any(|l| l.volume_cap_percent().is_some())
                {
                    ids.push(reference_flow_account(product));
                    ids.push(capped_draws_account(product));
                }
            }
            for l in &s.candidates {
                keys.push(order_key(&s.order.id, &format!("licence:{}", l.number)));
                ids.push(l.account_id());
                if let Some(spec) = s.accrual_spec(l) {
                    keys.push(order_key(
                        &s.order.id,
                        &format!("revenue-share:{}", l.number),
                    ));
                    ids.push(spec.id);
                }
            }
            ids.extend(s.allocation().map(|a| a.id));
            if let Some(veu) = &s.order.veu {
                keys.push(crate::veus::draw_key(&s.order.id, veu));
                ids.extend(veu_draw_accounts(veu, &s.first.destination, true));
                ids.push(veu_scope_account(veu, "US"));
            }
        }
        (keys, ids)
    }

    fn next(&mut self, i: usize, replies: &[Reply], balances: &dyn Balances) -> ShipStep {
        loop {
            let s = &mut self.shipments[i];
            match s.stage {
                Stage::Start => {
                    // An order naming a VEU tries it first, once (before LPP and licences).
                    if !s.veu_seen && s.order.veu.is_some() {
                        s.veu_seen = true;
                        let id = s.order.veu.as_deref().unwrap_or_default();
                        match crate::veus::ineligible(self.pipeline.ruleset(), &s.d) {
                            None => {
                                s.stage = Stage::Veu;
                                continue;
                            }
                            Some(why) if crate::veus::noted(&s.d) => {
                                s.veu_note = Some(format!(
                                    "the order names VEU `{id}`, but no VEU draw is made: {why}"
                                ))
                            }
                            Some(_) => {}
                        }
                    }
                    if crate::flows::credits_flow(&s.first) {
                        s.stage = Stage::Flow;
                        continue;
                    }
                    if !s.uses_lpp() {
                        s.stage = Stage::Licences;
                        continue;
                    }
                    let spec = s.lpp_spec();
                    if !s.ensured {
                        s.ensured = true;
                        return ShipStep::Ensure(spec, s.at);
                    }
                    s.ensured = false;
                    s.stage = Stage::LppSent;
                    let amounts = Amounts {
                        tpp: counted_tpp(&s.first),
                        ..Amounts::ZERO
                    };
                    return ShipStep::Submit(Request::ReserveAndPost {
                        key: order_key(&s.order.id, "lpp"),
                        accounts: vec![spec.id],
                        amounts,
                        at: s.at,
                    });
                }
                Stage::LppSent => {
                    let Some(reply) = replies.last() else {
                        return ShipStep::Abandon("no reply to the LPP reservation".into());
                    };
                    if let Err(e) = self.after_lpp(i, reply, balances) {
                        return self.done(i, Err(e), replies);
                    }
                    let s = &mut self.shipments[i];
                    if reply.is_ok() {
                        let mut d = s.d.clone();
                        for n in s.notes.drain(..) {
                            note(&mut d, n);
                        }
                        return self.done(i, Ok(d), replies);
                    }
                    s.stage = Stage::Licences;
                }
                Stage::Licences => {
                    if s.d.outcome != Outcome::LicenseRequired || s.tried >= s.candidates.len() {
                        let mut d = s.d.clone();
                        for n in s.notes.drain(..) {
                            note(&mut d, n);
                        }
                        return self.done(i, Ok(d), replies);
                    }
                    if needs_value(s.order, &s.candidates[s.tried]) {
                        s.notes.clear();
                        let d = hold_for_value(s.d.clone(), &s.candidates[s.tried]);
                        return self.done(i, Ok(d), replies);
                    }
                    let allocation = s.allocation();
                    if let Some(spec) = &allocation {
                        if !s.ensured {
                            s.ensured = true;
                            return ShipStep::Ensure(spec.clone(), s.at);
                        }
                    }
                    let licence = &s.candidates[s.tried];
                    let key = order_key(&s.order.id, &format!("licence:{}", licence.number));
                    let mut capped = None;
                    if let Some(percent) = licence.volume_cap_percent() {
                        let Some(product) = s.product().map(str::to_owned) else {
                            s.notes.push(format!(
                                "licence {} covers the order but carries a {percent}% volume cap, and the order names no catalog chip, so the product whose US-bound shipments cap it is unknown",
                                licence.number
                            ));
                            s.tried += 1;
                            continue;
                        };
                        let spec = AccountSpec::capped_draws(&product);
                        if !s.ensured_cap {
                            s.ensured_cap = true;
                            return ShipStep::Ensure(spec, s.at);
                        }
                        // A draw recorded by an earlier run replays (nothing is drawn again),
                        // whatever the cap says now; a new draw must fit the cap as this
                        // transaction reads the balances.
                        if balances.recorded(&key).is_none() {
                            let flow = balances
                                .balance(&reference_flow_account(&product))
                                .map(|b| b.posted.units)
                                .unwrap_or(0);
                            let drawn = balances
                                .balance(&spec.id)
                                .map(|b| b.posted.units.saturating_add(b.pending.units))
                                .unwrap_or(0);
                            let bound =
                                crate::flows::bound(self.pipeline.ruleset(), &s.first.destination);
                            if let Err(e) =
                                volume_cap(&bound, drawn, s.amounts().units, flow, percent)
                            {
                                s.notes.push(format!(
                                    "licence {} covers the order but the ledger refused it: {e}",
                                    licence.number
                                ));
                                s.ensured = false;
                                s.ensured_cap = false;
                                s.tried += 1;
                                continue;
                            }
                        }
                        capped = Some(spec.id);
                    }
                    let licence = &s.candidates[s.tried];
                    let mut accounts = vec![licence.account_id()];
                    accounts.extend(allocation.map(|a| a.id));
                    accounts.extend(capped);
                    s.stage = Stage::LicenceSent;
                    s.ensured = false;
                    s.ensured_cap = false;
                    return ShipStep::Submit(Request::ReserveAndPost {
                        key,
                        accounts,
                        amounts: s.amounts(),
                        at: s.at,
                    });
                }
                Stage::LicenceSent => {
                    let Some(reply) = replies.last() else {
                        return ShipStep::Abandon("no reply to the licence reservation".into());
                    };
                    let licence = s.candidates[s.tried].clone();
                    if !reply.is_ok() {
                        let why = refusal(balances, reply, &s.amounts());
                        s.notes.push(format!(
                            "licence {} covers the order but the ledger refused it: {why}",
                            licence.number
                        ));
                        s.tried += 1;
                        s.stage = Stage::Licences;
                        continue;
                    }
                    let left = balances
                        .balance(&licence.account_id())
                        .map(|b| b.available)
                        .unwrap_or_default();
                    // As `check`: the licences refused before this one are not reasons.
                    s.notes.clear();
                    let mut d = s.d.clone();
                    if let Some(spec) = s.allocation() {
                        if let Some(b) = balances.balance(&spec.id) {
                            let citation =
                                s.d.allocation
                                    .as_ref()
                                    .map(|a| a.citation.clone())
                                    .unwrap_or_default();
                            note(
                                &mut d,
                                format!(
                                    "counted against the country allocation `{}` ({}): {} left",
                                    spec.id,
                                    citation,
                                    describe_limits(&b.available)
                                ),
                            );
                        }
                    }
                    let mut d = licensed(d, &licence, &left);
                    if reply.replayed {
                        // One licence reason, as `check` gives after a ship: shipped before.
                        if let Some(r) = d.reasons.iter_mut().rev().find(|r| r.rule == "licence") {
                            r.summary = format!(
                                "already shipped under licence {} by an earlier run (ledger key `{}` replayed): nothing is drawn again; left on the licence now: {}",
                                licence.number,
                                reply.key,
                                describe_limits(&left)
                            );
                        }
                    }
                    if licence.revenue_share_percent().is_some() {
                        s.accrue = Some((d, licence));
                        s.stage = Stage::Accrue;
                        continue;
                    }
                    return self.done(i, Ok(d), replies);
                }
                Stage::Accrue => {
                    let Some((_, licence)) = &s.accrue else {
                        return ShipStep::Abandon("no licence to accrue on".into());
                    };
                    let Some(spec) = s.accrual_spec(licence) else {
                        return ShipStep::Abandon("no revenue-share condition".into());
                    };
                    if !s.ensured {
                        s.ensured = true;
                        return ShipStep::Ensure(spec, s.at);
                    }
                    s.ensured = false;
                    let percent = licence.revenue_share_percent().unwrap_or_default();
                    let Some(share) = share_cents(s.amounts().value, percent) else {
                        return ShipStep::Abandon(format!(
                            "order `{}`: the revenue share of its value overflows",
                            s.order.id
                        ));
                    };
                    s.stage = Stage::AccrualSent;
                    return ShipStep::Submit(Request::ReserveAndPost {
                        key: order_key(&s.order.id, &format!("revenue-share:{}", licence.number)),
                        accounts: vec![spec.id],
                        amounts: Amounts {
                            value: share,
                            ..Amounts::ZERO
                        },
                        at: s.at,
                    });
                }
                Stage::AccrualSent => {
                    let Some(reply) = replies.last() else {
                        return ShipStep::Abandon("no reply to the revenue-share accrual".into());
                    };
                    let Some((mut d, licence)) = s.accrue.take() else {
                        return ShipStep::Abandon("no licence to accrue on".into());
                    };
                    if !reply.is_ok() {
                        // Fail closed: a draw whose share cannot be accrued is not written.
                        return ShipStep::Abandon(format!(
                            "order `{}`: the ledger refused the revenue-share accrual on licence {}: {}",
                            s.order.id,
                            licence.number,
                            refusal(balances, reply, &Amounts::ZERO)
                        ));
                    }
                    let percent = licence.revenue_share_percent().unwrap_or_default();
                    let value = s.amounts().value;
                    let share = share_cents(value, percent).unwrap_or_default();
                    let total = reply
                        .account
                        .as_ref()
                        .and_then(|a| balances.balance(a))
                        .or_else(|| {
                            s.accrual_spec(&licence)
                                .and_then(|spec| balances.balance(&spec.id))
                        })
                        .map(|b| b.posted.value)
                        .unwrap_or_default();
                    d.reasons.push(Reason::new(
                        REVENUE_SHARE_RULE,
                        format!("{LICENCE_CITATION}; licence {}", licence.number),
                        format!(
                            "revenue share {percent}% of {ACCRUAL_CURRENCY} {} = {ACCRUAL_CURRENCY} {} accrued to `{}` under `{}`{} ({ACCRUAL_CURRENCY} {} accrued in {} so far)",
                            money(value),
                            money(share),
                            s.accrual_spec(&licence).map(|a| a.id.to_string()).unwrap_or_default(),
                            reply.key,
                            if reply.replayed { " by an earlier run (replayed; nothing accrued again)" } else { "" },
                            money(total),
                            Quarter::of(s.at.date()),
                        ),
                    ));
                    return self.done(i, Ok(d), replies);
                }
                Stage::Veu | Stage::VeuSent => {
                    let rs = self.pipeline.ruleset();
                    match s.veu_step(rs, replies, balances) {
                        Ok(step) => return step,
                        Err(Some(d)) => return self.done(i, Ok(*d), replies),
                        Err(None) => {
                            s.stage = Stage::Start;
                            continue;
                        }
                    }
                }
                Stage::Flow => {
                    let Some(product) = s.product().map(str::to_owned) else {
                        return ShipStep::Abandon("no product to credit".into());
                    };
                    let spec = AccountSpec::reference_flow(&product);
                    if !s.ensured {
                        s.ensured = true;
                        return ShipStep::Ensure(spec, s.at);
                    }
                    s.ensured = false;
                    s.stage = Stage::FlowSent;
                    return ShipStep::Submit(Request::ReserveAndPost {
                        key: order_key(&s.order.id, "us-flow"),
                        accounts: vec![spec.id],
                        amounts: Amounts {
                            units: s.first.quantity,
                            ..Amounts::ZERO
                        },
                        at: s.at,
                    });
                }
                Stage::FlowSent => {
                    let Some(reply) = replies.last() else {
                        return ShipStep::Abandon("no reply to the reference flow".into());
                    };
                    if !reply.is_ok() {
                        // Fail closed: an order to the US whose units cannot be counted is
                        // not written (a cap elsewhere would rest on a wrong flow).
                        return ShipStep::Abandon(format!(
                            "order `{}`: the ledger refused its US-bound reference flow: {}",
                            s.order.id,
                            refusal(balances, reply, &Amounts::ZERO)
                        ));
                    }
                    let product = s.product().unwrap_or_default().to_owned();
                    let total = balances
                        .balance(&reference_flow_account(&product))
                        .map(|b| b.posted.units)
                        .unwrap_or(0);
                    let mut d = s.d.clone();
                    d.reasons.push(Reason::new(
                        crate::flows::FLOW_RULE,
                        crate::flows::FLOW_CITATION,
                        format!(
                            "{} units of `{product}` to US end users recorded in its reference flow under `{}`{} ({} units so far)",
                            grouped(s.first.quantity),
                            reply.key,
                            if reply.replayed { " by an earlier run (replayed; nothing added again)" } else { "" },
                            grouped(total),
                        ),
                    ));
                    return self.done(i, Ok(d), replies);
                }
            }
        }
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
