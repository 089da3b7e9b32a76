//! Screening hits as facts of a decision, and what a hit on each list means
//! (`data/screening.json`): an Entity List hit requires a licence under the entry's policy, a
//! blocking list holds the order, a hit below certainty is for a person to confirm. Parties that
//! nobody screened never yield a clean decision.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;
use crate::regime::ReviewPolicy;

/// One list hit on a party, as the decision engine sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The start of the listing as the list file states it (the CSL's `start_date`, the DPL's
    /// effective date), if it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Set by the decision: the date from which the listing applies (`YYYY-MM-DD`), or
    /// `unknown` when it cannot be established (the hit then applies: fail closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_date: Option<String>,
    /// Set by the decision: where `listing_date` comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_source: Option<String>,
}

/// The lists screened against are older than the caller allows (issue 15 item 1): the
/// screening cannot give a clean answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaleLists {
    /// The oldest list's data date (or import date, when it states none).
    pub oldest: chrono::NaiveDate,
    /// Its age in days on the day of the decision.
    pub age_days: i64,
    /// The most the caller allows.
    pub max_age_days: u32,
}

/// Whether and how the parties were screened.
#[derive(Debug, Clone, Copy)]
pub enum Screening<'a> {
    /// Screened against these list versions; these are all the hits, cleared ones included.
    /// `stale` when the lists are older than the caller allows: the decision is never clean.
    Screened {
        hits: &'a [ListHit],
        lists: &'a [String],
        stale: Option<StaleLists>,
    },
    /// Nobody screened the parties: fail closed.
    NotScreened,
    /// The caller states the parties were screened outside exportgate.
    External,
}

/// What the decision records about screening.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

/// A Federal Register document that lists parties, checked against its text: the pages it
/// spans and the date its listings took effect (which may precede publication).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingDocument {
    /// FR Doc number, e.g. `2025-00480`.
    pub document: String,
    /// Its citation, e.g. `90 FR 4621`.
    pub citation: String,
    pub volume: u32,
    /// First and last page of the document.
    pub pages: [u32; 2],
    pub published: NaiveDate,
    /// The date the rule states it is effective.
    pub effective: NaiveDate,
    pub confidence: Confidence,
    /// Where the dates and pages were read.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    /// The file format's version; this build reads version 1 only.
    version: u32,
    #[allow(dead_code)]
    summary: String,
    lists: BTreeMap<String, ListPolicy>,
    #[serde(default)]
    listing_documents: Vec<ListingDocument>,
    /// Days before a list's own start date within which a hit still applies.
    #[serde(default)]
    start_date_margin_days: Option<i64>,
}

/// The policy for every list.
#[derive(Debug, Clone, Default)]
pub struct ScreeningPolicy {
    lists: BTreeMap<String, ListPolicy>,
    documents: Vec<ListingDocument>,
    /// A list's `start_date` is the Federal Register publication date (the CSL gives
    /// 2019-05-21 for Huawei, listed effective 16 May 2019 by 84 FR 22961): a listing may take
    /// effect some days before it. Within this many days before the start date the hit still
    /// applies, with the listing date unknown.
    start_date_margin_days: i64,
}

/// When a listing took effect, as far as the list and the checked documents establish it.
#[derive(Debug, Clone, PartialEq)]
pub enum ListingDate {
    /// From the rule that added the entry (its earliest citation).
    Effective {
        date: NaiveDate,
        document: String,
        confidence: Confidence,
    },
    /// From the list's own start date: the listing took effect on or before it.
    StartDate(NaiveDate),
    /// Neither: the earliest Federal Register citation of the entry, if it has one.
    Unknown { earliest: Option<String> },
}

/// Whether a hit's listing existed on a date.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingStatus {
    /// The listing applies on the date (or may: fail closed).
    pub applies: bool,
    /// Applying it rests on a date that could not be established.
    pub unconfirmed: bool,
    /// `YYYY-MM-DD` or `unknown`.
    pub date: String,
    pub source: String,
}

/// The Federal Register citations in a list entry's citation text, as (volume, page):
/// `84 FR 22963`, `68 F.R. 38290`.
pub fn fr_citations(text: &str) -> Vec<(u32, u32)> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for w in words.windows(3) {
        if w[1] == "FR" || w[1] == "F.R." {
            if let (Ok(v), Ok(p)) = (w[0].parse::<u32>(), w[2].parse::<u32>()) {
                out.push((v, p));
            }
        }
    }
    out
}

impl ScreeningPolicy {
    pub fn from_json(text: &str) -> Result<ScreeningPolicy, crate::SpecError> {
        let f: PolicyFile = crate::spec::parse_json(text)?;
        if f.version != 1 {
            return Err(crate::SpecError::new(
                "version",
                format!(
                    "screening policy format version {} is not one this build reads (1)",
                    f.version
                ),
            ));
        }
        for d in &f.listing_documents {
            if d.pages[0] > d.pages[1] || d.effective > d.published {
                return Err(crate::SpecError::new(
                    "listing_documents",
                    format!(
                        "{}: pages must ascend and the effective date must not follow publication",
                        d.document
                    ),
                ));
            }
        }
        Ok(ScreeningPolicy {
            lists: f.lists,
            documents: f.listing_documents,
            start_date_margin_days: f.start_date_margin_days.unwrap_or(30),
        })
    }

    /// The checked document a citation falls in.
    fn document(&self, (volume, page): (u32, u32)) -> Option<&ListingDocument> {
        self.documents
            .iter()
            .find(|d| d.volume == volume && d.pages[0] <= page && page <= d.pages[1])
    }

    /// When a hit's listing took effect: from the rule its earliest citation falls in, if that
    /// rule was checked; else from the list's start date; else unknown.
    pub fn listing_date(&self, hit: &ListHit) -> ListingDate {
        let earliest = hit
            .citation
            .as_deref()
            .map(fr_citations)
            .and_then(|c| c.into_iter().min());
        if let Some(doc) = earliest.and_then(|c| self.document(c)) {
            // A list start date before the rule's effective date would be odd; take the
            // earlier (fail closed).
            return match hit.start_date {
                Some(s) if s < doc.effective => ListingDate::StartDate(s),
                _ => ListingDate::Effective {
                    date: doc.effective,
                    document: format!("{} (FR Doc {})", doc.citation, doc.document),
                    confidence: doc.confidence,
                },
            };
        }
        match hit.start_date {
            Some(s) => ListingDate::StartDate(s),
            None => ListingDate::Unknown {
                earliest: earliest.map(|(v, p)| format!("{v} FR {p}")),
            },
        }
    }

    /// Whether a hit's listing applies on `date`. Where the date cannot be established the
    /// hit applies (fail closed).
    pub fn listing_status(&self, hit: &ListHit, date: NaiveDate) -> ListingStatus {
        match self.listing_date(hit) {
            ListingDate::Effective {
                date: from,
                document,
                confidence,
            } => {
                let source = format!("{document}, effective {from}");
                if date >= from {
                    ListingStatus { applies: true, unconfirmed: confidence.is_unconfirmed(), date: from.to_string(), source }
                } else if confidence.is_unconfirmed() {
                    ListingStatus { applies: true, unconfirmed: true, date: "unknown".into(), source: format!("{source} (unconfirmed): the hit applies") }
                } else {
                    ListingStatus { applies: false, unconfirmed: false, date: from.to_string(), source }
                }
            }
            ListingDate::StartDate(from) => {
                let margin = chrono::Duration::days(self.start_date_margin_days);
                if date >= from {
                    ListingStatus { applies: true, unconfirmed: false, date: from.to_string(), source: "the list's start date".into() }
                } else if date >= from - margin {
                    ListingStatus {
                        applies: true,
                        unconfirmed: true,
                        date: "unknown".into(),
                        source: format!("the list's start date {from} is the publication date and the listing may have taken effect earlier; within {} days before it the hit applies", self.start_date_margin_days),
                    }
                } else {
                    ListingStatus { applies: false, unconfirmed: false, date: from.to_string(), source: format!("the list's start date (more than {} days after this date)", self.start_date_margin_days) }
                }
            }
            ListingDate::Unknown { earliest } => ListingStatus {
                applies: true,
                unconfirmed: false,
                date: "unknown".into(),
                source: match earliest {
                    Some(c) => format!(
                        "earliest citation {c} (published in {}), not a checked document; the hit applies",
                        c.split(' ').next().and_then(|v| v.parse::<i32>().ok()).map_or(0, fr_volume_year)
                    ),
                    None => "no start date or Federal Register citation on the list; the hit applies".into(),
                },
            },
        }
    }

    /// The policy for a list; `None` for a list not named (treated as blocking).
    pub fn get(&self, list: &str) -> Option<&ListPolicy> {
        self.lists.get(list)
    }
}

/// The calendar year of a Federal Register volume (volume 1 is 1936; volume 90 is 2025).
pub fn fr_volume_year(volume: i32) -> i32 {
    volume + 1935
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(citation: Option<&str>, start: Option<&str>) -> ListHit {
        ListHit {
            party: "consignee".into(),
            query: "Q".into(),
            name: "N".into(),
            list: "EL".into(),
            score: 1.0,
            certain: true,
            matched_alias: "N".into(),
            citation: citation.map(str::to_string),
            license_requirement: None,
            license_policy: None,
            entry_id: "EL:1".into(),
            cleared: None,
            start_date: start.map(|s| s.parse().unwrap()),
            listing_date: None,
            listing_source: None,
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn policy() -> ScreeningPolicy {
        ScreeningPolicy::from_json(include_str!("../../../data/screening.json")).unwrap()
    }

    #[test]
    fn federal_register_citations_are_read_in_both_spellings() {
        assert_eq!(
            fr_citations("84 FR 22963, 84 FR 43495; 85 FR 29853,  85 FR 51603"),
            vec![(84, 22963), (84, 43495), (85, 29853), (85, 51603)]
        );
        assert_eq!(
            fr_citations("68 F.R. 38290 6/27/03 71 F.R. 38843 7/10/06"),
            vec![(68, 38290), (71, 38843)]
        );
        assert!(fr_citations("FR Doc 2025-00480").is_empty());
        assert_eq!(fr_volume_year(90), 2025);
    }

    #[test]
    fn a_checked_document_dates_the_listing_by_its_effective_date() {
        let p = policy();
        let h = hit(Some("90 FR 14046"), None);
        assert!(!p.listing_status(&h, d("2025-03-24")).applies);
        let s = p.listing_status(&h, d("2025-03-25"));
        assert!(s.applies && !s.unconfirmed);
        assert_eq!(s.date, "2025-03-25");
        // The earliest citation decides: a later amendment in a checked document does not.
        let amended = hit(Some("88 FR 13675; 90 FR 14046"), None);
        let s = p.listing_status(&amended, d("2020-01-01"));
        assert!(s.applies);
        assert_eq!(s.date, "unknown");
    }

    #[test]
    fn a_list_start_date_is_honoured_with_a_margin_before_it() {
        let p = policy();
        let h = hit(Some("84 FR 22961"), Some("2019-05-21"));
        let on = p.listing_status(&h, d("2019-05-21"));
        assert!(on.applies && !on.unconfirmed);
        // 84 FR 22961 took effect on 16 May 2019, before the CSL's start date (publication).
        let before = p.listing_status(&h, d("2019-05-17"));
        assert!(before.applies && before.unconfirmed);
        assert_eq!(before.date, "unknown");
        assert!(!p.listing_status(&h, d("2019-04-01")).applies);
    }

    #[test]
    fn without_a_date_the_hit_applies() {
        let p = policy();
        for h in [hit(None, None), hit(Some("84 FR 29373"), None)] {
            let s = p.listing_status(&h, d("2000-01-01"));
            assert!(s.applies && !s.unconfirmed);
            assert_eq!(s.date, "unknown");
        }
    }
}
