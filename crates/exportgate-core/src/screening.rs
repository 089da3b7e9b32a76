//! Screening hits as facts of a decision, and what a hit on each list means
//! (`data/screening.json`): an Entity List hit requires a licence under the entry's policy, a
//! blocking list holds the order, a hit below certainty is for a person to confirm. Parties that
//! nobody screened never yield a clean decision.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;
use crate::regime::ReviewPolicy;

/// One list hit on a party, as the decision engine sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListHit {
    /// `consignee` or `end_user`.
    pub party: String,
    /// The party's name as screened.
    pub query: String,
    /// The entry's name.
    pub name: String,
    /// List code (`EL`, `SDN`, `DPL`, `UVL`, `MEU`, ...).
    pub list: String,
    pub score: f64,
    /// At or above the screener's certainty bar.
    pub certain: bool,
    pub matched_alias: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_requirement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_policy: Option<String>,
    pub entry_id: String,
    /// Cleared by the allow-list on the decision date: recorded, but without effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared: Option<String>,
}

/// Whether and how the parties were screened.
#[derive(Debug, Clone, Copy)]
pub enum Screening<'a> {
    /// Screened against these list versions; these are all the hits, cleared ones included.
    Screened {
        hits: &'a [ListHit],
        lists: &'a [String],
    },
    /// Nobody screened the parties: fail closed.
    NotScreened,
    /// The caller states the parties were screened outside exportgate.
    External,
}

/// What the decision records about screening.
#[derive(Debug, Clone, Serialize)]
pub struct ScreeningRecord {
    /// `screened`, `not_screened` or `external`.
    pub status: &'static str,
    /// The list versions screened against.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hits: Vec<ListHit>,
}

/// What a hit on a list does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListAction {
    LicenseRequired,
    Block,
    RedFlag,
    Informational,
}

/// The policy for one list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListPolicy {
    pub title: String,
    pub action: ListAction,
    pub citation: String,
    /// Take the review policy from the entry's licence-policy text.
    #[serde(default)]
    pub policy_from_entry: bool,
    #[serde(default)]
    pub policy: Option<ReviewPolicy>,
    pub confidence: Confidence,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[allow(dead_code)]
    version: u32,
    #[allow(dead_code)]
    summary: String,
    lists: BTreeMap<String, ListPolicy>,
}

/// The policy for every list.
#[derive(Debug, Clone, Default)]
pub struct ScreeningPolicy {
    lists: BTreeMap<String, ListPolicy>,
}

impl ScreeningPolicy {
    pub fn from_json(text: &str) -> Result<ScreeningPolicy, crate::SpecError> {
        let f: PolicyFile = crate::spec::parse_json(text)?;
        Ok(ScreeningPolicy { lists: f.lists })
    }

    /// The policy for a list; `None` for a list not named (treated as blocking).
    pub fn get(&self, list: &str) -> Option<&ListPolicy> {
        self.lists.get(list)
    }
}

/// Read a review policy from an entry's licence-policy text.
pub fn policy_from_text(text: &str) -> Option<ReviewPolicy> {
    let t = text.to_lowercase();
    if t.contains("denial") {
        Some(ReviewPolicy::PresumptionOfDenial)
    } else if t.contains("case-by-case") || t.contains("case by case") {
        Some(ReviewPolicy::CaseByCase)
    } else if t.contains("approval") {
        Some(ReviewPolicy::PresumptionOfApproval)
    } else {
        None
    }
}
