//! The simulation report: per scenario, orders, units, TPP and value by outcome, destination,
//! tier and chip; country allocations used; and the orders whose outcome differs between
//! scenarios, with the rules that made the difference. Serialises to the JSON output.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use exportgate_core::Outcome;
use serde::Serialize;

/// Every outcome, least restrictive first (the order reports list them in).
pub const OUTCOMES: [Outcome; 5] = [
    Outcome::NoLicenseRequired,
    Outcome::LicenseException,
    Outcome::Licensed,
    Outcome::LicenseRequired,
    Outcome::HoldForReview,
];

/// Index of an outcome in [`OUTCOMES`].
pub fn outcome_index(o: Outcome) -> usize {
    match o {
        Outcome::NoLicenseRequired => 0,
        Outcome::LicenseException => 1,
        Outcome::Licensed => 2,
        Outcome::LicenseRequired => 3,
        Outcome::HoldForReview => 4,
    }
}

/// Orders, units, TPP and value of a group of order lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Stats {
    pub orders: u64,
    /// Sum of quantities.
    pub units: u64,
    /// Sum of line TPP (per-unit TPP × quantity).
    pub tpp: u64,
    /// Sum of `value_usd` where given.
    pub value_usd: f64,
    /// Lines without a `value_usd`.
    #[serde(skip_serializing_if = "is_zero")]
    pub value_missing: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Stats {
    pub fn add(&mut self, units: u64, tpp: u64, value: Option<f64>) {
        self.orders += 1;
        self.units += units;
        self.tpp += tpp;
        match value {
            Some(v) => self.value_usd += v,
            None => self.value_missing += 1,
        }
    }

    pub fn merge(&mut self, o: &Stats) {
        self.orders += o.orders;
        self.units += o.units;
        self.tpp += o.tpp;
        self.value_usd += o.value_usd;
        self.value_missing += o.value_missing;
    }
}

/// Stats split by outcome.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ByOutcome(pub [Stats; 5]);

impl ByOutcome {
    pub fn get(&self, o: Outcome) -> &Stats {
        &self.0[outcome_index(o)]
    }

    pub fn total(&self) -> Stats {
        let mut t = Stats::default();
        for s in &self.0 {
            t.merge(s);
        }
        t
    }

    pub fn merge(&mut self, o: &ByOutcome) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            a.merge(b);
        }
    }
}

impl Serialize for ByOutcome {
    /// Every outcome, by its wire name, least restrictive first.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(5))?;
        for (o, st) in OUTCOMES.iter().zip(&self.0) {
            m.serialize_entry(o.as_str(), st)?;
        }
        m.end()
    }
}

/// One group of a breakdown (a destination, tier or chip): totals and by outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Group {
    pub total: Stats,
    pub by_outcome: ByOutcome,
}

/// Usage of a country allocation (`allocation_tpp`) by the licence-required orders the rule
/// reached. The engine does not enforce allocations; the report shows how far a book would
/// draw on them. Over the whole book, not per allocation period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationUse {
    pub rule: String,
    pub destination: String,
    pub allocation_tpp: f64,
    pub orders: u64,
    /// TPP counted (3A090.a/4A090.a items) of the licence-required orders.
    pub tpp_counted: f64,
    /// TPP counted over the allocation; `null` for a zero allocation.
    pub share: Option<f64>,
}

/// What was simulated under one scenario, and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The evaluation date; `null`: each order's own date.
    pub as_of: Option<NaiveDate>,
    pub forced: Vec<String>,
    /// Regimes changed by patches, and added.
    pub patched: Vec<String>,
    pub added: Vec<String>,
    /// The regime the tiers come from, and the tiers (name → label).
    pub tiers_from: Option<String>,
    pub tiers: BTreeMap<String, String>,
    /// Orders decided (lines that could not be decided are in `errors`).
    pub decided: u64,
    pub errors: u64,
    pub totals: Stats,
    pub by_outcome: ByOutcome,
    pub by_destination: BTreeMap<String, Group>,
    pub by_tier: BTreeMap<String, Group>,
    pub by_chip: BTreeMap<String, Group>,
    /// Allocation use by rule and destination, largest share first.
    pub allocations: Vec<AllocationUse>,
    /// With `--veu`: the VEU-eligible orders the VEUs could absorb (see [`crate::veu`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub veu: Option<crate::veu::VeuReport>,
    /// Volume caps (see [`crate::caps`]): absent when a database was read and no licence in it
    /// carries a cap; `applied: false` without a database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_caps: Option<crate::caps::CapReport>,
}

/// How an order's outcome in one scenario differs from the first scenario's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub scenario: String,
    pub from: &'static str,
    pub to: &'static str,
    /// Rule ids among this scenario's reasons and not the first scenario's, and the reverse.
    pub rules_added: Vec<String>,
    pub rules_removed: Vec<String>,
}

/// An order whose outcome is not the same in every scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flip {
    pub id: String,
    pub destination: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    pub quantity: u64,
    pub tpp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_usd: Option<f64>,
    /// Outcome by scenario name.
    pub outcomes: BTreeMap<String, &'static str>,
    /// The rule ids that made the difference: present in one decision's reasons and not the
    /// other's, over every scenario that differs from the first.
    pub rules: Vec<String>,
    pub differences: Vec<Difference>,
}

/// All orders that moved from one outcome to another between the first scenario and another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub scenario: String,
    pub from: &'static str,
    pub to: &'static str,
    pub stats: Stats,
    /// How many of these orders each rule made a difference to, most first.
    pub rules: Vec<(String, u64)>,
}

/// An order that could not be decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub field: String,
    pub message: String,
}

/// The whole simulation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Order lines in the book (decided or not).
    pub orders: u64,
    /// The first scenario is the baseline flips are measured against.
    pub baseline: String,
    pub scenarios: Vec<ScenarioReport>,
    pub transitions: Vec<Transition>,
    pub flips: Vec<Flip>,
    pub errors: Vec<OrderError>,
}
