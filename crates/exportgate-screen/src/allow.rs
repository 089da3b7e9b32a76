//! The allow-list of cleared false positives: a reviewer has decided that a party is not a
//! given list entry. A clearance suppresses the hit until it expires, and the hit is still
//! returned, marked as cleared, so the decision records that it was found.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::normalize::Normalizer;

/// One cleared false positive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AllowEntry {
    /// The party's name as screened.
    pub party_name: String,
    /// The list entry: its id (`EL:...`) or its name.
    pub entry: String,
    /// Who cleared it.
    pub reviewer: String,
    /// Why.
    pub reason: String,
    /// Last day on which the clearance holds (inclusive).
    pub expires: NaiveDate,
}

/// How a hit was cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clearance {
    /// Who cleared it.
    pub reviewer: String,
    /// Why.
    pub reason: String,
    /// Last day on which the clearance holds.
    pub expires: NaiveDate,
}

/// A set of clearances.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AllowList {
    /// The clearances.
    pub entries: Vec<AllowEntry>,
}

impl AllowList {
    /// An empty allow-list.
    pub fn new() -> AllowList {
        AllowList::default()
    }

    /// Adds a clearance.
    pub fn push(&mut self, entry: AllowEntry) {
        self.entries.push(entry);
    }

    /// The clearance in force on `as_of` for this party and list entry, if any. Party and
    /// entry names are compared after normalisation (case, width, punctuation, legal form).
    pub(crate) fn clearance(
        &self,
        norm: &Normalizer,
        party: &str,
        entry_id: &str,
        entry_name: &str,
        as_of: NaiveDate,
    ) -> Option<Clearance> {
        if self.entries.is_empty() {
            return None;
        }
        let key = |s: &str| {
            let n = norm.normalize(s);
            n.tokens
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let party_key = key(party);
        let entry_key = key(entry_name);
        self.entries
            .iter()
            .filter(|a| as_of <= a.expires)
            .filter(|a| key(&a.party_name) == party_key)
            .find(|a| a.entry == entry_id || key(&a.entry) == entry_key)
            .map(|a| Clearance {
                reviewer: a.reviewer.clone(),
                reason: a.reason.clone(),
                expires: a.expires,
            })
    }
}
