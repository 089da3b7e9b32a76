//! Compiled rules: what evaluation reads. The regime files are parsed into the raw types of
//! [`crate::regime`] (the file format), validated, then compiled by [`crate::ruleset`] into
//! these types, whose references are resolved: country codes parsed, Country Groups as
//! [`GroupId`]s, named sets inlined, ECCNs as [`Eccn`], item flags as [`ItemFlag`], licence
//! exceptions as [`LicenceException`]. They have no public constructor outside the crate and
//! none that takes unchecked input, so a compiled rule cannot name an unknown group, set,
//! ECCN, flag or exception. Where an explanation needs the data's own words (a set's label,
//! a group's name, a rule's id and citation) the compiled type carries them.
//!
//! This module depends only on the layers below the ruleset (it never imports evaluation).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::concepts::{ItemFlag, LicenceException};
use crate::confidence::Confidence;
use crate::country::{CountryCode, GroupId};
use crate::eccn::Eccn;
use crate::regime::{ClassificationParams, Condition, FactTest, ReviewPolicy, Severity};

/// A Country Group a set names: its id, and its name for explanations (`D:5`).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRef {
    pub(crate) id: GroupId,
    pub(crate) name: String,
}

impl GroupRef {
    pub fn id(&self) -> GroupId {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A named set inlined where it is referred to, with the label to explain it by (its `label`,
/// else its name).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedSet {
    pub(crate) label: String,
    pub(crate) set: CountrySet,
}

impl NamedSet {
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn set(&self) -> &CountrySet {
        &self.set
    }
}

/// A set of destinations, compiled: every country, groups, countries and named sets, minus
/// excepted groups, countries and sets. Membership is in [`crate::sets`].
#[derive(Debug, Clone, PartialEq)]
pub struct CountrySet {
    pub(crate) all: bool,
    pub(crate) groups: Vec<GroupRef>,
    pub(crate) countries: Vec<CountryCode>,
    pub(crate) sets: Vec<NamedSet>,
    pub(crate) except_groups: Vec<GroupRef>,
    pub(crate) except_countries: Vec<CountryCode>,
    pub(crate) except_sets: Vec<NamedSet>,
    /// A phrase for explanations, e.g. "Macau or Country Group D:5".
    pub(crate) label: Option<String>,
}

impl CountrySet {
    /// The label the data gives the set, if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
}

/// Which items a rule reaches (each list empty = any).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSelector {
    /// Catalog ids (each known to the catalog).
    pub(crate) chips: Vec<String>,
    pub(crate) eccns: Vec<Eccn>,
    /// All of these flags must be true.
    pub(crate) flags: Vec<ItemFlag>,
    /// None of these flags may be true.
    pub(crate) not_flags: Vec<ItemFlag>,
}

impl ItemSelector {
    pub fn chips(&self) -> &[String] {
        &self.chips
    }

    pub fn eccns(&self) -> &[Eccn] {
        &self.eccns
    }

    pub fn flags(&self) -> &[ItemFlag] {
        &self.flags
    }

    pub fn not_flags(&self) -> &[ItemFlag] {
        &self.not_flags
    }
}

/// The facts a rule looks at, compiled; every part given must hold (see
/// [`crate::regime::Scope`] for what each part means).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    pub(crate) items: Option<ItemSelector>,
    pub(crate) destination: Option<CountrySet>,
    pub(crate) headquarters: Option<CountrySet>,
    pub(crate) headquarters_all: Option<CountrySet>,
    pub(crate) headquarters_none: Option<CountrySet>,
    pub(crate) headquarters_outside: Option<CountrySet>,
    pub(crate) owned_by_listed: Option<bool>,
    pub(crate) end_user_location: Option<CountrySet>,
    pub(crate) exporter_country: Option<CountrySet>,
    /// Fact tests, each checked against the fact names and kinds at load.
    pub(crate) facts: Vec<FactTest>,
    pub(crate) exporter_role: Vec<String>,
    pub(crate) exporter_names: Vec<CompanyName>,
    pub(crate) end_use_any: Vec<String>,
    pub(crate) end_use_all: Vec<String>,
    pub(crate) end_use_stated_any: Vec<String>,
    pub(crate) end_use_excludes: Vec<String>,
}

impl Scope {
    pub fn items(&self) -> Option<&ItemSelector> {
        self.items.as_ref()
    }

    pub fn destination(&self) -> Option<&CountrySet> {
        self.destination.as_ref()
    }
}

/// A company a rule names as the exporter (an "is informed" letter's addressee): the name as
/// the data writes it, and its lower-case words, never none (checked at load), which the
/// exporter's name must begin with.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyName {
    pub(crate) name: String,
    pub(crate) words: Vec<String>,
}

impl CompanyName {
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A name's lower-case words (split at every character that is not a letter or digit).
pub(crate) fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A review policy that applies when its scope holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyChoice {
    pub(crate) when: Scope,
    pub(crate) policy: ReviewPolicy,
    pub(crate) confidence: Confidence,
}

/// A licence exception a requirement can be met by (see [`crate::regime::ExceptionChoice`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionChoice {
    pub(crate) exception: LicenceException,
    pub(crate) citation: String,
    pub(crate) when: Scope,
    /// Available from (inclusive) / until (exclusive).
    pub(crate) from: Option<NaiveDate>,
    pub(crate) until: Option<NaiveDate>,
    /// LPP: cumulative TPP per ultimate consignee per calendar year.
    pub(crate) tpp_per_consignee_year: Option<f64>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) confidence: Confidence,
    pub(crate) covers_transaction: bool,
}

impl ExceptionChoice {
    pub fn exception(&self) -> LicenceException {
        self.exception
    }

    pub fn citation(&self) -> &str {
        &self.citation
    }

    pub fn tpp_per_consignee_year(&self) -> Option<f64> {
        self.tpp_per_consignee_year
    }

    pub fn confidence(&self) -> Confidence {
        self.confidence
    }
}

/// What a rule does when its scope holds (see [`crate::regime::Effect`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A licence is required: its conditions, the review policies and exceptions in the
    /// order the data gives them, and the country allocation its licences count against.
    LicenseRequirement {
        conditions: Vec<Condition>,
        review_policy: Vec<PolicyChoice>,
        exceptions: Vec<ExceptionChoice>,
        allocation_tpp: Option<f64>,
    },
    Hold,
    RedFlag {
        severity: Severity,
    },
    /// `applies_to` (here and below): ids of rules of the ruleset, checked at load.
    ReviewPolicyChange {
        applies_to: Vec<String>,
        policy: ReviewPolicy,
        conditions: Vec<Condition>,
    },
    LicenceConditions {
        applies_to: Vec<String>,
        conditions: Vec<Condition>,
    },
}

/// One rule, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) citation: String,
    pub(crate) confidence: Confidence,
    pub(crate) when: Scope,
    /// Ids of rules of the ruleset (checked at load).
    pub(crate) displaces: Vec<String>,
    pub(crate) effect: Effect,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn citation(&self) -> &str {
        &self.citation
    }

    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    pub fn when(&self) -> &Scope {
        &self.when
    }

    pub fn effect(&self) -> &Effect {
        &self.effect
    }
}

/// A regime's rules, named sets and classification parameters, compiled, with the id,
/// citation and confidence its reasons quote; the regime's dates stay with its data
/// ([`crate::regime::Regime`], which says what it is on a date).
#[derive(Debug, Clone, PartialEq)]
pub struct RegimeRules {
    pub(crate) id: String,
    pub(crate) citation: String,
    pub(crate) confidence: Confidence,
    pub(crate) sets: BTreeMap<String, CountrySet>,
    pub(crate) rules: Vec<Rule>,
    /// The classification parameters it defines (their named chips checked at load).
    pub(crate) classification: Vec<ClassificationParams>,
}

impl RegimeRules {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The regime's named sets, compiled, by name.
    pub fn sets(&self) -> &BTreeMap<String, CountrySet> {
        &self.sets
    }
}

/// One rule of the due-diligence policy, compiled: where an unknown high-severity red flag
/// holds.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldRule {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) citation: String,
    pub(crate) when: Scope,
}

impl HoldRule {
    pub fn id(&self) -> &str {
        &self.id
    }
}
