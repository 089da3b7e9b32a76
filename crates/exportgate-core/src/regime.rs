//! Regimes: one rule or guidance document each, kept as dated data.
//!
//! A regime file carries its id, citation, dates (published, effective, binding, compliance,
//! end of enforcement, suspensions), the classification parameters it defines, named country
//! sets, and its rules. [`Regime::state_on`] says what a regime is on a given date.
//!
//! These are the raw types of the file format, as read and as written (schemas, scenario
//! patches): references are names. The ruleset validates them and compiles the rules and
//! sets into [`crate::rules`], which is all evaluation reads.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;

/// A period `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub from: NaiveDate,
    /// Exclusive; `None` = open-ended.
    pub to: Option<NaiveDate>,
}

impl Period {
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|t| date < t)
    }
}

/// A regime as stored in `data/regimes/*.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    pub id: String,
    pub title: String,
    pub citation: String,
    /// `rule`, `guidance`, `licence_policy` or `informed_letter`.
    pub kind: String,
    pub published: Option<NaiveDate>,
    pub effective: NaiveDate,
    /// The date compliance was required from, where the rule set one.
    #[serde(default)]
    pub compliance: Option<NaiveDate>,
    /// The date its requirements bind orders from (defaults to `effective`).
    #[serde(default)]
    pub binding_from: Option<NaiveDate>,
    /// Replaced in substance from this date (exclusive end).
    #[serde(default)]
    pub superseded_on: Option<NaiveDate>,
    /// Not enforced from this date (the AI Diffusion rule: from 13 May 2025).
    #[serde(default)]
    pub enforcement_end: Option<NaiveDate>,
    #[serde(default)]
    pub suspensions: Vec<Period>,
    pub confidence: Confidence,
    pub summary: String,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Named destination sets the rules refer to (e.g. AI Diffusion tiers).
    #[serde(default)]
    pub sets: BTreeMap<String, SetExpr>,
    /// Classification parameters this regime defines.
    #[serde(default)]
    pub classification: Vec<ClassificationParams>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// What a regime is on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegimeState {
    /// Before it took effect (or before it was published).
    NotYetInForce,
    /// In effect but its compliance date has not come (requirements not yet binding).
    PendingCompliance,
    InForce,
    Suspended,
    /// Replaced by a later rule.
    Superseded,
    /// Announced not enforced.
    NotEnforced,
}

impl RegimeState {
    /// What the state means, in words ("pending its compliance date").
    pub fn describe(self) -> &'static str {
        match self {
            RegimeState::NotYetInForce => "not yet in force",
            RegimeState::PendingCompliance => "pending its compliance date",
            RegimeState::InForce => "in force",
            RegimeState::Suspended => "suspended",
            RegimeState::Superseded => "superseded",
            RegimeState::NotEnforced => "not enforced",
        }
    }
}

impl RegimeState {
    pub fn binds(self) -> bool {
        self == RegimeState::InForce
    }
}

impl Regime {
    /// The first date its requirements bind.
    pub fn binding_date(&self) -> NaiveDate {
        self.binding_from.unwrap_or(self.effective)
    }

    /// The regime's state on `date`. With `forced`, enforcement ends are ignored: the regime
    /// is treated as enforced from its binding date (`--regime ai-diffusion-2025`).
    pub fn state_on(&self, date: NaiveDate, forced: bool) -> RegimeState {
        if date < self.effective {
            return RegimeState::NotYetInForce;
        }
        if date < self.binding_date() {
            return RegimeState::PendingCompliance;
        }
        if self.superseded_on.is_some_and(|s| date >= s) {
            return RegimeState::Superseded;
        }
        if forced {
            return RegimeState::InForce;
        }
        if self.enforcement_end.is_some_and(|e| date >= e) {
            return RegimeState::NotEnforced;
        }
        if self.suspensions.iter().any(|p| p.covers(date)) {
            return RegimeState::Suspended;
        }
        RegimeState::InForce
    }

    /// The regime, or any of its rules, rests on an unconfirmed fact.
    pub fn unconfirmed(&self) -> bool {
        self.confidence.is_unconfirmed() || self.rules.iter().any(|r| r.confidence.is_unconfirmed())
    }
}

/// A set of destinations: groups, countries and named sets, minus exclusions, as of a date.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetExpr {
    /// Every country.
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub sets: Vec<String>,
    #[serde(default)]
    pub except_groups: Vec<String>,
    #[serde(default)]
    pub except_countries: Vec<String>,
    #[serde(default)]
    pub except_sets: Vec<String>,
    /// A phrase for explanations, e.g. "Macau or Country Group D:5".
    #[serde(default)]
    pub label: Option<String>,
}

/// Which items a rule reaches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSelector {
    /// The item is one of these catalog ids. Empty = any.
    #[serde(default)]
    pub chips: Vec<String>,
    /// Any of these ECCNs (`3A090.a`, `4A090.b`, `not_3A090`, ...). Empty = any.
    #[serde(default)]
    pub eccns: Vec<String>,
    /// All of these flags must be true.
    #[serde(default)]
    pub flags: Vec<String>,
    /// None of these flags may be true.
    #[serde(default)]
    pub not_flags: Vec<String>,
}

/// The facts a rule looks at; every field given must hold (an AND).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default)]
    pub items: Option<ItemSelector>,
    /// The destination country is in this set.
    #[serde(default)]
    pub destination: Option<SetExpr>,
    /// The consignee or end user is headquartered, or has its ultimate parent headquartered,
    /// in this set, wherever it is located.
    #[serde(default)]
    pub headquarters: Option<SetExpr>,
    /// The consignee or end user is headquartered (and its ultimate parent too) in this set.
    #[serde(default)]
    pub headquarters_all: Option<SetExpr>,
    /// Neither the consignee nor the end user (nor their ultimate parents) is headquartered
    /// in this set.
    #[serde(default)]
    pub headquarters_none: Option<SetExpr>,
    /// The consignee or end user is headquartered, or has its ultimate parent headquartered,
    /// outside this set.
    #[serde(default)]
    pub headquarters_outside: Option<SetExpr>,
    /// The consignee or end user is at least 50% owned by listed parties.
    #[serde(default)]
    pub owned_by_listed: Option<bool>,
    /// The end user is located in this set.
    #[serde(default)]
    pub end_user_location: Option<SetExpr>,
    /// The exporter is located in this set.
    #[serde(default)]
    pub exporter_country: Option<SetExpr>,
    /// Tests on the order's due-diligence facts (all must hold; a missing fact is unknown).
    #[serde(default)]
    pub facts: Vec<FactTest>,
    /// The exporter's role is one of these (`foundry`, `osat`, `distributor`, ...).
    #[serde(default)]
    pub exporter_role: Vec<String>,
    /// The exporter is one of these named companies (an "is informed" letter binds the
    /// company it is addressed to): the exporter's name, split into lower-case words, begins
    /// with one of these names' words (`NVIDIA` matches `NVIDIA Corporation` and `Nvidia
    /// Singapore Pte Ltd`). No exporter given is unknown.
    #[serde(default)]
    pub exporter_names: Vec<String>,
    /// The end use carries any of these tags.
    #[serde(default)]
    pub end_use_any: Vec<String>,
    /// The end use carries all of these tags.
    #[serde(default)]
    pub end_use_all: Vec<String>,
    /// The order states one of these end uses. A rule that turns on knowledge: an order that
    /// states no end use does not meet it (unlike `end_use_any`, where it is unknown).
    #[serde(default)]
    pub end_use_stated_any: Vec<String>,
    /// The order's end use carries none of these tags. A condition the exporter certifies: an
    /// order that states no end use meets it, the certification stays a condition.
    #[serde(default)]
    pub end_use_excludes: Vec<String>,
}

/// A test on one due-diligence fact of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactTest {
    /// The fact tested (its wire name in the data; see [`crate::concepts::Fact`]).
    pub fact: crate::concepts::Fact,
    pub op: FactOp,
    pub value: serde_json::Value,
}

/// How a fact is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactOp {
    Equals,
    NotEquals,
    In,
    AtLeast,
    Below,
    OnOrAfter,
    Before,
}

impl FactOp {
    /// Every comparison, in the order the data's schema names them.
    pub const ALL: [FactOp; 7] = [
        FactOp::Equals,
        FactOp::NotEquals,
        FactOp::In,
        FactOp::AtLeast,
        FactOp::Below,
        FactOp::OnOrAfter,
        FactOp::Before,
    ];

    /// The wire name (`equals`, `at_least`, ...): the `op` of a fact test in regime data.
    pub const fn as_str(self) -> &'static str {
        match self {
            FactOp::Equals => "equals",
            FactOp::NotEquals => "not_equals",
            FactOp::In => "in",
            FactOp::AtLeast => "at_least",
            FactOp::Below => "below",
            FactOp::OnOrAfter => "on_or_after",
            FactOp::Before => "before",
        }
    }

    /// The comparison in words, before the value the rule names ("at least").
    pub fn phrase(self) -> &'static str {
        match self {
            FactOp::Equals => "",
            FactOp::NotEquals => "anything but",
            FactOp::In => "one of",
            FactOp::AtLeast => "at least",
            FactOp::Below => "below",
            FactOp::OnOrAfter => "on or after",
            FactOp::Before => "before",
        }
    }
}

/// How serious a red flag is: `high` holds the order for review.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    /// The wire name (`low`, `medium`, `high`), as explanations write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// The name in running text (`Low`, `Medium`, `High`), as `explain` writes it.
    pub fn title(self) -> &'static str {
        match self {
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
        }
    }
}

/// A licence review policy, ordered from the most to the least favourable: where several
/// requirements apply, the decision states the greatest. `Unknown` (the text does not settle
/// the policy) ranks above case-by-case, since it may be stricter, and below presumption of
/// denial, which nothing exceeds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPolicy {
    PresumptionOfApproval,
    CaseByCase,
    Unknown,
    PresumptionOfDenial,
}

/// A review policy that applies when its scope holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChoice {
    #[serde(default)]
    pub when: Scope,
    pub policy: ReviewPolicy,
    #[serde(default)]
    pub confidence: Confidence,
}

/// A licence exception a requirement can be met by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionChoice {
    /// `NAC`, `ACA`, `LPP`, `AIA`, `ACM` or `HBM`.
    pub exception: String,
    pub citation: String,
    #[serde(default)]
    pub when: Scope,
    /// Available from (inclusive) / until (exclusive).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub until: Option<NaiveDate>,
    /// LPP: cumulative TPP per ultimate consignee per calendar year.
    #[serde(default)]
    pub tpp_per_consignee_year: Option<f64>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub confidence: Confidence,
    /// The exception's own eligibility text covers the whole transaction when `when` holds
    /// (NAC: exports "to an entity headquartered in, or with an ultimate parent headquartered
    /// in, Macau or a destination specified in Country Group D:5, wherever located"), so it
    /// meets every other requirement of the order whose rule admits that exception.
    #[serde(default)]
    pub covers_transaction: bool,
}

/// A condition attached to a decision: free text, or typed (`revenue_share_percent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
}

/// What a rule does when its scope holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// A licence is required (possibly met by an exception).
    LicenseRequirement {
        #[serde(default)]
        review_policy: Vec<PolicyChoice>,
        #[serde(default)]
        exceptions: Vec<ExceptionChoice>,
        #[serde(default)]
        conditions: Vec<Condition>,
        /// Country allocation this requirement's licences count against (AI Diffusion Tier 2).
        #[serde(default)]
        allocation_tpp: Option<f64>,
    },
    /// A person must decide (e.g. General Prohibition 10 risk).
    Hold {},
    /// A red flag: recorded with its evidence; `high` holds the order for review.
    RedFlag { severity: Severity },
    /// Replaces the review policy of the named rules' requirements.
    ReviewPolicyChange {
        policy: ReviewPolicy,
        applies_to: Vec<String>,
        #[serde(default)]
        conditions: Vec<Condition>,
    },
    /// Adds conditions to licences granted under the named rules.
    LicenceConditions {
        applies_to: Vec<String>,
        conditions: Vec<Condition>,
    },
}

/// One rule of a regime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Globally unique, conventionally `<regime>.<name>`.
    pub id: String,
    pub title: String,
    pub citation: String,
    #[serde(default)]
    pub confidence: Confidence,
    #[serde(default)]
    pub when: Scope,
    /// Rules this one replaces for the items it reaches while it binds (the AI Diffusion
    /// worldwide requirement replaced the country scope for .a items).
    #[serde(default)]
    pub displaces: Vec<String>,
    pub effect: Effect,
}

/// Classification parameters, by scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClassificationParams {
    /// October 2022: TPP ≥ 4800 with ≥ 600 GB/s aggregate bidirectional I/O.
    #[serde(rename = "acs_2022")]
    Acs2022 {
        a_tpp_min: f64,
        a_interconnect_gbs_min: f64,
        citation: String,
    },
    /// October 2023: 3A090.a/.b by TPP and PD, the datacenter note.
    #[serde(rename = "acs_2023")]
    Acs2023 {
        a1_tpp_min: f64,
        a2_tpp_min: f64,
        a2_pd_min: f64,
        b1_tpp_min: f64,
        b1_tpp_below: f64,
        b1_pd_min: f64,
        b1_pd_below: f64,
        b2_tpp_min: f64,
        b2_pd_min: f64,
        b2_pd_below: f64,
        datacenter_note_tpp_below: f64,
        citation: String,
    },
    /// December 2024: 3A090.c for HBM, and License Exception HBM's density bound.
    #[serde(rename = "hbm")]
    Hbm {
        c_density_above: f64,
        exception_density_below: f64,
        citation: String,
        exception_citation: String,
    },
    /// January 2025 foundry presumption thresholds.
    #[serde(rename = "foundry")]
    Foundry {
        process_nm_max: f64,
        thresholds: Vec<TransistorThreshold>,
        citation: String,
    },
    /// 9 April 2025: the H20 and any IC matching its memory or interconnect bandwidth.
    #[serde(rename = "h20_class")]
    H20Class {
        named: Vec<String>,
        memory_bandwidth_gbs_min: f64,
        interconnect_gbs_min: f64,
        citation: String,
    },
    /// 13 May 2025 guidance: PRC-developed ICs meeting 3A090 (named ones, and any designed
    /// in these countries that meets 3A090).
    #[serde(rename = "prc_3a090")]
    Prc3a090 {
        named: Vec<String>,
        designer_countries: Vec<String>,
        citation: String,
        /// What a flagged IC is under this regime, for the classification reason (default: the
        /// 13 May 2025 guidance's words).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// 15 January 2026: the case-by-case ceiling for China and Macau.
    #[serde(rename = "review_ceiling")]
    ReviewCeiling {
        tpp_below: f64,
        dram_bandwidth_gbs_below: f64,
        citation: String,
    },
}

/// A foundry transistor-count threshold for transactions in a range of years.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransistorThreshold {
    pub from_year: i32,
    /// Inclusive; `None` = open-ended.
    pub to_year: Option<i32>,
    pub billion: f64,
    /// Applies only to packages without HBM (otherwise the base threshold holds).
    #[serde(default)]
    pub without_hbm_only: bool,
    #[serde(default)]
    pub confidence: Confidence,
}
