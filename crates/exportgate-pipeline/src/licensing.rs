//! Licences, License Exception LPP and country allocations in decisions: the bridge between the
//! pure engine (`exportgate-core`) and the ledger (`exportgate-ledger`).
//!
//! [`Licensing`] turns a `license_required` decision into `licensed` when a licence covers the
//! order. [`Licensing::check`] only reads balances (and remembers what earlier lines of the run
//! would use); `ship` ([`crate::ship`]) reserves and posts on the ledger with the helpers here —
//! the ledger checks the limits in the same transaction as the write, so concurrent shippers
//! can never pass one.
//!
//! Every ledger request of `ship` has an idempotency key derived from the order id and the
//! account it draws on ([`order_key`]), so a re-run of the same file replays the original
//! replies and changes nothing.

use std::collections::{BTreeMap, HashMap};

use exportgate_core::decide::LicenceUse;
use exportgate_core::reason::{num, Reason};
use exportgate_core::regime::Condition as DecisionCondition;
use exportgate_core::{Decision, Order, Outcome, Ruleset};
use exportgate_ledger::{
    capped_draws_account, fits_limits, reference_flow_account, volume_cap, AccountId, AccountSpec,
    AccountStatus, Amounts, Balances, Condition, Dimension, Key, LedgerStore, Licence, Limits,
    OrderFacts, Reply, ResultCode, StoreError,
};
use sha2::{Digest, Sha256};

/// What a licence is cited as in a `licensed` decision.
pub const LICENCE_CITATION: &str = "15 CFR 750.7";

/// Order value in cents, when the order states a usable one.
pub fn value_cents(order: &Order) -> Option<u64> {
    let v = order.value_usd?;
    let cents = (v * 100.0).round();
    (v.is_finite() && v >= 0.0 && cents <= exportgate_ledger::AMOUNT_MAX as f64)
        .then_some(cents as u64)
}

/// The facts a licence is matched against.
pub fn facts<'a>(order: &'a Order, d: &'a Decision) -> OrderFacts<'a> {
    OrderFacts {
        chip: d.chip.as_deref(),
        eccn: d.eccn.as_str(),
        destination: &d.destination,
        consignee: &order.consignee.name,
        date: d.date,
        units: d.quantity,
        tpp: d.tpp_total,
        value: value_cents(order),
    }
}

/// TPP an order counts against LPP and allocations, rounded up (never under-counted).
pub fn counted_tpp(d: &Decision) -> u64 {
    if d.tpp_counted.is_finite() && d.tpp_counted > 0.0 {
        d.tpp_counted
            .ceil()
            .min(exportgate_ledger::AMOUNT_MAX as f64) as u64
    } else {
        0
    }
}

/// What shipping the order under a licence draws, on the licence and on the country
/// allocation alike: units, value (when known) and the larger of the line's TPP and its
/// counted TPP.
pub fn licence_amounts(facts: &OrderFacts<'_>, d: &Decision) -> Amounts {
    let mut a = facts.amounts();
    a.tpp = a.tpp.max(counted_tpp(d));
    a
}

/// The idempotency key of an order's request on one account: `ship:<order id>:<suffix>`, or
/// with the order id's SHA-256 when the id is too long or has control characters.
pub fn order_key(order_id: &str, suffix: &str) -> Key {
    Key::new(format!("ship:{order_id}:{suffix}")).unwrap_or_else(|_| {
        let hash = hex::encode(Sha256::digest(order_id.as_bytes()));
        Key::new(format!("ship:sha256-{hash}:{suffix}")).expect("a short key")
    })
}

fn limits_map(available: &Limits) -> BTreeMap<String, u64> {
    Dimension::ALL
        .into_iter()
        .filter_map(|d| available.get(d).map(|v| (d.name().to_string(), v)))
        .collect()
}

/// Limits as text: `3 units, 100 tpp`.
pub fn describe_limits(available: &Limits) -> String {
    let parts: Vec<String> = Dimension::ALL
        .into_iter()
        .filter_map(|d| available.get(d).map(|v| format!("{v} {}", d.name())))
        .collect();
    parts.join(", ")
}

/// The licence's conditions in the decision's form.
fn decision_conditions(licence: &Licence) -> Vec<DecisionCondition> {
    licence
        .conditions
        .iter()
        .map(|c| match c {
            Condition::RevenueSharePercent { value } => DecisionCondition {
                kind: "revenue_share_percent".into(),
                value: Some(f64::from(*value)),
                text: None,
                citation: Some(format!("licence {}", licence.number)),
            },
            Condition::VolumeCapPercent { value } => DecisionCondition {
                kind: "volume_cap_percent".into(),
                value: Some(f64::from(*value)),
                text: None,
                citation: Some(format!("licence {}", licence.number)),
            },
            Condition::Text { text } => DecisionCondition {
                kind: "licence_condition".into(),
                value: None,
                text: Some(text.clone()),
                citation: Some(format!("licence {}", licence.number)),
            },
        })
        .collect()
}

/// The decision as `licensed` under `licence`, with the balance left after it.
pub fn licensed(d: Decision, licence: &Licence, left: &Limits) -> Decision {
    d.licensed(
        LicenceUse {
            number: licence.number.clone(),
            balance_left: limits_map(left),
        },
        decision_conditions(licence),
        &format!("{LICENCE_CITATION}; licence {}", licence.number),
    )
}

/// Whether the due-diligence policy holds this order for facts still to collect: then no
/// licence is drawn for it, even one that covers it (the order is not to ship yet).
pub fn due_diligence_holds(d: &Decision) -> bool {
    d.due_diligence.as_ref().is_some_and(|r| r.policy == "hold")
}

/// The note on such an order.
pub const DD_NO_LICENCE: &str =
    "no licence is drawn while due diligence is incomplete (see due_diligence.missing)";

/// The rule id of revenue-share reasons (the hold for a missing value, the accrual note).
pub const REVENUE_SHARE_RULE: &str = "licence.revenue_share";

/// True when drawing on `licence` needs the order's value and the order has none (or zero):
/// a licence with a `revenue_share_percent` condition accrues a share of the value.
pub fn needs_value(order: &Order, licence: &Licence) -> bool {
    licence.revenue_share_percent().is_some() && value_cents(order).is_none_or(|v| v == 0)
}

/// The decision held for review because `licence` carries a revenue-share condition and the
/// order states no value (fail closed: the share cannot be accrued).
pub fn hold_for_value(mut d: Decision, licence: &Licence) -> Decision {
    let percent = licence.revenue_share_percent().unwrap_or_default();
    d.outcome = Outcome::HoldForReview;
    d.exception = None;
    d.licence = None;
    d.reasons.push(Reason::new(
        REVENUE_SHARE_RULE,
        format!("{LICENCE_CITATION}; licence {}", licence.number),
        format!(
            "missing field `value_usd`: licence {} covers the order but carries a {percent}% revenue-share condition, so the order's value is required to accrue the share",
            licence.number
        ),
    ));
    d
}

/// Adds a licence note to the decision's reasons.
pub fn note(d: &mut Decision, summary: String) {
    d.reasons.push(Reason::new(
        "licence",
        LICENCE_CITATION.to_string(),
        summary,
    ));
}

fn short(amounts: &Amounts, available: &Limits) -> Option<String> {
    fits_limits(available, amounts).err().map(|(dim, left)| {
        format!(
            "{left} {} left, this order needs {}",
            dim.name(),
            amounts.get(dim)
        )
    })
}

/// Licences on the ledger, matched against decisions.
pub struct Licensing {
    /// Licences, the one expiring first first (then by number).
    licences: Vec<Licence>,
    /// `check`: balances read from the ledger, by account.
    read: HashMap<AccountId, Option<(AccountStatus, Limits)>>,
    /// `check`: what earlier lines of this run would draw, by account.
    run: HashMap<AccountId, Amounts>,
    /// `check`: units used on reference-flow and capped-draws accounts as read, by account.
    units_read: HashMap<AccountId, u64>,
}

impl Licensing {
    /// Reads the licences on the ledger.
    pub fn load(store: &mut dyn LedgerStore) -> Result<Licensing, StoreError> {
        let mut licences = store.list_licences()?;
        licences.sort_by(|a, b| (a.valid_to, &a.number).cmp(&(b.valid_to, &b.number)));
        Ok(Licensing {
            licences,
            read: HashMap::new(),
            run: HashMap::new(),
            units_read: HashMap::new(),
        })
    }

    /// No licences at all.
    pub fn none() -> Licensing {
        Licensing {
            licences: Vec::new(),
            read: HashMap::new(),
            run: HashMap::new(),
            units_read: HashMap::new(),
        }
    }

    /// Every licence on the ledger, the one expiring first first.
    pub fn licences(&self) -> &[Licence] {
        &self.licences
    }

    /// The licences that cover an order's facts, the one expiring first first.
    pub fn covering(&self, facts: &OrderFacts<'_>) -> Vec<&Licence> {
        self.licences
            .iter()
            .filter(|l| l.covers(facts).is_ok())
            .collect()
    }

    /// What is available on an account in this `check` run: the ledger's balance (or
    /// `fresh` limits for an account not created yet) minus what earlier lines would draw.
    fn available(
        &mut self,
        store: &mut dyn LedgerStore,
        id: &AccountId,
        fresh: Option<Limits>,
    ) -> Result<Option<(AccountStatus, Limits)>, StoreError> {
        if !self.read.contains_key(id) {
            let b = store.balance(id)?;
            let entry = match b {
                Some(b) => Some((b.status, b.available)),
                None => fresh.map(|l| (AccountStatus::Active, l)),
            };
            self.read.insert(id.clone(), entry);
        }
        let run = self.run.get(id).copied().unwrap_or(Amounts::ZERO);
        Ok(self.read[id].map(|(status, available)| (status, available.remaining(&run))))
    }

    /// `check`: remembers that this run would draw `amounts` on `id` (saturating: never less).
    fn draw(&mut self, id: &AccountId, amounts: &Amounts) {
        let used = self.run.entry(id.clone()).or_default();
        *used = used.checked_add(amounts).unwrap_or(Amounts {
            units: exportgate_ledger::AMOUNT_MAX,
            value: exportgate_ledger::AMOUNT_MAX,
            tpp: exportgate_ledger::AMOUNT_MAX,
        });
    }

    /// Units on a flow or capped-draws account as read from the ledger (posted plus pending)
    /// plus what earlier lines of this run would add.
    fn units(&mut self, store: &mut dyn LedgerStore, id: &AccountId) -> Result<u64, StoreError> {
        if !self.units_read.contains_key(id) {
            let used = store
                .balance(id)?
                .map(|b| b.posted.units.saturating_add(b.pending.units))
                .unwrap_or(0);
            self.units_read.insert(id.clone(), used);
        }
        let run = self.run.get(id).map(|a| a.units).unwrap_or(0);
        Ok(self.units_read[id].saturating_add(run))
    }

    /// `check`: whether drawing `amounts` under a licence with a `percent`% volume cap fits
    /// the cap as the ledger's balances (and this run's earlier lines) stand: `Ok` with the
    /// capped-draws account to count the draw on, or `Err` with the refusal as `ship` gives it.
    fn volume_cap(
        &mut self,
        store: &mut dyn LedgerStore,
        rs: &Ruleset,
        d: &Decision,
        amounts: &Amounts,
        percent: u32,
    ) -> Result<Result<AccountId, String>, StoreError> {
        let Some(product) = crate::flows::product(d) else {
            return Ok(Err(format!(
                "carries a {percent}% volume cap, and the order names no catalog chip, so the product whose US-bound shipments cap it is unknown"
            )));
        };
        let flow = self.units(store, &reference_flow_account(product))?;
        let capped = capped_draws_account(product);
        let drawn = self.units(store, &capped)?;
        let bound = crate::flows::bound(rs, &d.destination);
        Ok(
            match volume_cap(&bound, drawn, amounts.units, flow, percent) {
                Ok(()) => Ok(capped),
                Err(e) => Err(format!("the ledger refused it: {e}")),
            },
        )
    }

    /// `check`: a `license_required` decision becomes `licensed` when a licence covers the order
    /// and its balance (and the country allocation's, if one applies), less what earlier lines
    /// of the run would draw, is enough. Reads the ledger, writes nothing.
    pub fn check(
        &mut self,
        store: &mut dyn LedgerStore,
        rs: &Ruleset,
        order: &Order,
        mut d: Decision,
    ) -> Result<Decision, StoreError> {
        if order.veu.is_some() {
            d = crate::veus::check_note(store, rs, order, d)?;
        }
        if d.outcome != Outcome::LicenseRequired || self.licences.is_empty() {
            return Ok(d);
        }
        if due_diligence_holds(&d) {
            note(&mut d, DD_NO_LICENCE.to_string());
            return Ok(d);
        }
        let f = facts(order, &d);
        let amounts = licence_amounts(&f, &d);
        let allocation = d
            .allocation
            .as_ref()
            .map(|a| AccountSpec::country_allocation(&a.country, false));
        let candidates: Vec<Licence> = self.covering(&f).into_iter().cloned().collect();
        // An order `ship` already drew under one of these licences is reported as shipped
        // under it, with the balance as it stands, not as a new order the remaining balance
        // must cover (its draw is already in that balance).
        for licence in &candidates {
            let key = order_key(&order.id, &format!("licence:{}", licence.number));
            if store.recorded_reply(&key)?.is_some_and(|r| r.is_ok()) {
                let left = match store.balance(&licence.account_id())? {
                    Some(b) => b.available,
                    None => continue,
                };
                let mut d = licensed(d, licence, &left);
                if let Some(r) = d.reasons.iter_mut().rev().find(|r| r.rule == "licence") {
                    r.summary = format!(
                        "already shipped under licence {} (ledger key `{key}`): nothing is \
                         drawn again; left on the licence now: {}",
                        licence.number,
                        describe_limits(&left)
                    );
                }
                return Ok(d);
            }
        }
        let mut notes = Vec::new();
        if candidates.is_empty() {
            // Say why the licences for this item do not reach the order (wrong consignee or
            // destination, out of dates, not active), so the reader need not guess.
            for licence in self.licences.iter().filter(|l| l.lists_item(&f)) {
                if let Err(why) = licence.covers(&f) {
                    notes.push(format!("licence {} does not apply: {why}", licence.number));
                }
            }
        }
        for licence in candidates {
            if needs_value(order, &licence) {
                return Ok(hold_for_value(d, &licence));
            }
            let id = licence.account_id();
            let Some((status, available)) = self.available(store, &id, None)? else {
                notes.push(format!(
                    "licence {} covers the order but has no ledger account",
                    licence.number
                ));
                continue;
            };
            if status != AccountStatus::Active {
                notes.push(format!(
                    "licence {} covers the order but its account is {}",
                    licence.number,
                    status.name()
                ));
                continue;
            }
            if let Some(why) = short(&amounts, &available) {
                notes.push(format!(
                    "licence {} covers the order but not its size: {why}",
                    licence.number
                ));
                continue;
            }
            let capped = match licence.volume_cap_percent() {
                None => None,
                Some(percent) => match self.volume_cap(store, rs, &d, &amounts, percent)? {
                    Ok(id) => Some(id),
                    Err(why) => {
                        notes.push(format!(
                            "licence {} covers the order but {why}",
                            licence.number
                        ));
                        continue;
                    }
                },
            };
            if let Some(spec) = &allocation {
                let alloc = self.available(store, &spec.id, Some(spec.limits))?;
                let refusal = match alloc {
                    _ if !spec.is_valid_on(order.date) => Some(format!(
                        "it is not valid on {} ({}..{})",
                        order.date,
                        spec.valid_from.map(|d| d.to_string()).unwrap_or_default(),
                        spec.valid_to.map(|d| d.to_string()).unwrap_or_default()
                    )),
                    Some((AccountStatus::Active, a)) => short(&amounts, &a),
                    Some((s, _)) => Some(format!("the account is {}", s.name())),
                    None => Some("no account".into()),
                };
                if let Some(why) = refusal {
                    notes.push(format!(
                        "licence {} covers the order but the country allocation `{}` does not: {why}",
                        licence.number, spec.id
                    ));
                    continue;
                }
                self.draw(&spec.id, &amounts);
            }
            if let Some(capped) = &capped {
                self.draw(capped, &amounts);
            }
            self.draw(&id, &amounts);
            let left = available.remaining(&amounts);
            return Ok(licensed(d, &licence, &left));
        }
        for n in notes {
            note(&mut d, n);
        }
        Ok(d)
    }
}

/// The ledger's reason for refusing a reservation, with the numbers (balances as of the
/// refusal).
pub fn refusal(balances: &dyn Balances, reply: &Reply, amounts: &Amounts) -> String {
    let mut text = format!("`{}`", reply.code);
    if reply.replayed {
        text.push_str(" (recorded by an earlier run)");
    }
    if let Some(account) = &reply.account {
        text.push_str(&format!(" on `{account}`"));
        if reply.code == ResultCode::ExceedsLimit {
            if let Some(b) = balances.balance(account) {
                let why = short(amounts, &b.available)
                    .unwrap_or_else(|| format!("now {} left", describe_limits(&b.available)));
                text.push_str(&format!(": {why} (limits: {})", describe_limits(&b.limits)));
            }
        }
    }
    text
}

/// LPP usage in TPP, formatted like the engine's numbers.
pub fn tpp_text(tpp: u64) -> String {
    num(tpp as f64)
}
