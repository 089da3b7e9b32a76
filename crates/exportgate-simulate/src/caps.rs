//! Volume caps in the simulator (issue 21 item 4): with a database, each scenario counts the
//! book's draws under licences carrying a `volume_cap_percent` condition against the recorded
//! US-bound flow of the product — the ledger's `us-flow:<product>` and
//! `capped-draws:<product>` balances read once, then the book in order, orders to the US that
//! ship crediting the flow as `ship` would — and reports the orders the cap would refuse, in
//! `ship`'s words. The tally and the arithmetic are the pipeline's
//! (`exportgate_pipeline::flows::CapTally`, `CapStep`); nothing is written.
//!
//! Without a database the report says the caps were not applied (fail closed): an order a
//! capped licence would cover is never shown as drawn within its cap.

use exportgate_core::{Decision, Order, Ruleset};
use exportgate_pipeline::flows::{CapFigures, CapResult, CapStep, CapTally};
use exportgate_pipeline::licensing::Licensing;
use serde::Serialize;

/// Refused orders listed in the report, per scenario (the counts are complete).
pub const LISTED: usize = 100;

/// What the simulator knows of volume caps.
pub enum VolumeCaps {
    /// No database: the caps cannot be applied; the reason is reported.
    NotApplied(String),
    /// The ledger's licences and the flows as they stood when read.
    Applied {
        licensing: Licensing,
        tally: CapTally,
    },
}

impl VolumeCaps {
    /// The licences to match decisions against, when a licence carries a cap (otherwise no
    /// order is ever counted, and nothing is computed per order).
    pub(crate) fn licensing(&self) -> Option<&Licensing> {
        match self {
            VolumeCaps::Applied { licensing, tally } if !tally.is_empty() => Some(licensing),
            _ => None,
        }
    }
}

/// The step of one decision, if volume caps are applied.
pub(crate) fn step(
    rs: &Ruleset,
    licensing: Option<&Licensing>,
    order: &Order,
    d: &Decision,
) -> CapStep {
    match licensing {
        Some(l) => CapStep::of(rs, l, order, d),
        None => CapStep::None,
    }
}

/// An order every licence covering it would refuse for its volume cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapRefusal {
    pub id: String,
    pub destination: String,
    pub product: Option<String>,
    pub units: u64,
    /// By licence number, the refusal as `ship` gives it
    /// (`exceeds_limit: China-bound 5,100 would pass 50% of US-bound 10,000`).
    pub refusals: Vec<LicenceRefusal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenceRefusal {
    pub licence: String,
    pub refusal: String,
}

/// Volume caps under one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapReport {
    /// False without a database: nothing below was counted.
    pub applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Orders needing a licence that a capped licence covers.
    pub capped_orders: u64,
    /// Of them, drawn within a cap.
    pub drawn_orders: u64,
    /// Left to a licence without a cap after the capped ones before it refused.
    pub uncapped_orders: u64,
    /// Refused by every covering licence for its cap (a licence would not be drawn).
    pub refused_orders: u64,
    /// By product, the flow and capped draws recorded and what the book adds.
    pub products: Vec<CapFigures>,
    /// The first [`LISTED`] refused orders, in book order.
    pub refused: Vec<CapRefusal>,
}

/// One scenario's volume caps as the book is replayed.
pub(crate) struct CapAcc {
    tally: Option<CapTally>,
    note: Option<String>,
    capped: u64,
    drawn: u64,
    uncapped: u64,
    refused: u64,
    listed: Vec<CapRefusal>,
}

impl CapAcc {
    pub(crate) fn new(caps: &VolumeCaps) -> CapAcc {
        let (tally, note) = match caps {
            VolumeCaps::NotApplied(why) => (None, Some(why.clone())),
            VolumeCaps::Applied { tally, .. } => (Some(tally.clone()), None),
        };
        CapAcc {
            tally,
            note,
            capped: 0,
            drawn: 0,
            uncapped: 0,
            refused: 0,
            listed: Vec::new(),
        }
    }

    /// Applies one decided order's step, in book order.
    pub(crate) fn apply(&mut self, order: &Order, destination: &str, step: &CapStep) {
        let Some(tally) = &mut self.tally else {
            return;
        };
        let Some(result) = tally.apply(step) else {
            return;
        };
        self.capped += 1;
        match result {
            CapResult::Drawn(_) => self.drawn += 1,
            CapResult::Uncapped(_) => self.uncapped += 1,
            CapResult::Refused(refusals) => {
                self.refused += 1;
                if self.listed.len() < LISTED {
                    let (product, units) = match step {
                        CapStep::Capped { product, units, .. } => (product.clone(), *units),
                        _ => (None, 0),
                    };
                    self.listed.push(CapRefusal {
                        id: order.id.clone(),
                        destination: destination.to_owned(),
                        product,
                        units,
                        refusals: refusals
                            .into_iter()
                            .map(|(licence, refusal)| LicenceRefusal { licence, refusal })
                            .collect(),
                    });
                }
            }
        }
    }

    /// The report; `None` when a database was read and no licence carries a cap.
    pub(crate) fn report(self) -> Option<CapReport> {
        let products = match &self.tally {
            Some(t) if t.is_empty() => return None,
            Some(t) => t.figures().cloned().collect(),
            None => Vec::new(),
        };
        Some(CapReport {
            applied: self.tally.is_some(),
            note: self.note,
            capped_orders: self.capped,
            drawn_orders: self.drawn,
            uncapped_orders: self.uncapped,
            refused_orders: self.refused,
            products,
            refused: self.listed,
        })
    }
}
