//! LPP usage as the engine sees it ([`QuotaView`]), keyed by consignee identity
//! ([`crate::identity::consignee_key`]) and calendar year.
//!
//! * [`LppTally`]: what the orders of this run have used, in memory.
//! * [`LedgerQuotas`]: what the ledger's LPP accounts already hold (read once per consignee and
//!   year, when an order first needs it) plus this run's tally.
//! * [`FixedLpp`]: one consignee-year's usage as the ledger reported it (deciding again after the
//!   ledger answered a reservation).

use std::collections::HashMap;

use chrono::Datelike;
use exportgate_core::concepts::LicenceException;
use exportgate_core::{Decision, Order, QuotaView};
use exportgate_ledger::{AccountSpec, LedgerStore, StoreError};

use crate::identity::consignee_key;

/// Whether a first-pass decision depends on the lines before it: it consulted a per-consignee
/// quota, or it uses License Exception LPP, which adds to one.
pub fn depends_on_earlier_lines(d: &Decision) -> bool {
    d.quota_checked || d.uses_exception(LicenceException::Lpp)
}

/// LPP TPP used so far in a run, by consignee identity and calendar year.
#[derive(Debug, Default, Clone)]
pub struct LppTally(HashMap<(String, i32), f64>);

impl QuotaView for LppTally {
    fn lpp_used(&self, consignee: &str, year: i32) -> f64 {
        self.0
            .get(&(consignee_key(consignee), year))
            .copied()
            .unwrap_or(0.0)
    }
}

impl LppTally {
    /// Counts a decision that ships under License Exception LPP.
    pub fn record(&mut self, consignee: &str, d: &Decision) {
        if d.uses_exception(LicenceException::Lpp) {
            *self
                .0
                .entry((consignee_key(consignee), d.date.year()))
                .or_default() += d.tpp_counted;
        }
    }
}

/// LPP TPP used: what the ledger holds (posted and pending) plus what this run has decided.
#[derive(Debug, Default)]
pub struct LedgerQuotas {
    ledger: HashMap<(String, i32), f64>,
    run: LppTally,
}

impl QuotaView for LedgerQuotas {
    fn lpp_used(&self, consignee: &str, year: i32) -> f64 {
        let key = (consignee_key(consignee), year);
        self.ledger.get(&key).copied().unwrap_or(0.0) + self.run.lpp_used(consignee, year)
    }
}

impl LedgerQuotas {
    /// Reads the ledger's LPP account for the order's consignee and year, unless read already.
    pub fn load(&mut self, store: &mut dyn LedgerStore, order: &Order) -> Result<(), StoreError> {
        let key = (consignee_key(&order.consignee.name), order.date.year());
        if self.ledger.contains_key(&key) {
            return Ok(());
        }
        let spec = AccountSpec::lpp(&order.consignee.name, order.date);
        let used = store
            .balance(&spec.id)?
            .map(|b| b.posted.tpp.saturating_add(b.pending.tpp))
            .unwrap_or(0);
        self.ledger.insert(key, used as f64);
        Ok(())
    }

    /// Counts a decision that ships under License Exception LPP.
    pub fn record(&mut self, consignee: &str, d: &Decision) {
        self.run.record(consignee, d);
    }
}

/// One consignee-year's LPP usage as the ledger reported it.
pub struct FixedLpp {
    consignee: String,
    year: i32,
    used: f64,
}

impl FixedLpp {
    /// `used` TPP for the order's consignee in the order's year; nothing elsewhere.
    pub fn for_order(order: &Order, used: f64) -> FixedLpp {
        FixedLpp {
            consignee: consignee_key(&order.consignee.name),
            year: order.date.year(),
            used,
        }
    }
}

impl QuotaView for FixedLpp {
    fn lpp_used(&self, consignee: &str, year: i32) -> f64 {
        if year == self.year && consignee_key(consignee) == self.consignee {
            self.used
        } else {
            0.0
        }
    }
}
