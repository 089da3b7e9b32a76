//! Know your customer: party records, the facts an order draws from them, and the
//! due-diligence policy.
//!
//! A [`PartyRecord`] is a customer file: the party's identity (name, aliases, country,
//! headquarters, owners) and its due-diligence facts, each with the date it was established and
//! who established it, and a review date after which the record's facts count as unknown. An
//! order names a party by `party_id`, or by a name and country that match a record exactly
//! (case and spacing aside); [`PartyIndex::attach`] fills the order's missing identity fields
//! from the record and links the record to the order ([`Kyc`]), so the decision reads the
//! record's current facts wherever the order line gives none. Facts on the order line win.
//!
//! The [`DueDiligencePolicy`] (data, `data/due-diligence-policy.json`) says for which items
//! and destinations a high-severity red flag left unknown holds the order. Pure: the order's
//! date is the date a record is judged current against.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use crate::concepts::FactSet;
use crate::order::{Order, Party};
use crate::ruleset::Ruleset;
use crate::spec::SpecError;
use compact_str::CompactString;
use foldhash::fast::RandomState;

pub use crate::due_diligence::{DueDiligencePolicy, PolicyRule};
pub use crate::facts::{fact_kind, fact_names, fact_value, Fact};
pub use crate::records::{
    fact_sources, CheckedParty, EstablishedFact, Kyc, PartyLink, PartyRecord, PARTY_KINDS,
};

/// A name for matching: lower case, runs of white space as one space, trimmed; then `|` and
/// the country in upper case. Inline (no allocation) up to 24 bytes.
pub fn match_key(name: &str, country: &str) -> CompactString {
    let country = country.trim();
    let mut s = CompactString::with_capacity(name.len() + 1 + country.len());
    for w in name.split_whitespace() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.extend(w.chars().flat_map(char::to_lowercase));
    }
    s.push('|');
    s.extend(country.chars().map(|c| c.to_ascii_uppercase()));
    s
}

/// Every party record, by id and by name and country: built once per run. Keys are inline
/// strings hashed with foldhash (seeded per process): a lookup per order line touches the
/// table and the record, not a key elsewhere on the heap.
#[derive(Debug, Default, Clone)]
pub struct PartyIndex {
    by_id: HashMap<CompactString, Arc<CheckedParty>, RandomState>,
    /// Name (or alias) and country; `None` when two records share them (no match is guessed).
    by_name: HashMap<CompactString, Option<Arc<CheckedParty>>, RandomState>,
}

impl PartyIndex {
    /// An index of the records given (each validated by [`CheckedParty::new`]; shared or not).
    pub fn new(
        parties: impl IntoIterator<Item = impl Into<Arc<CheckedParty>>>,
        rs: &Ruleset,
    ) -> PartyIndex {
        let mut ix = PartyIndex::default();
        for p in parties {
            ix.insert(p, rs);
        }
        ix
    }

    /// Adds a record, or replaces the record with its id.
    pub fn insert(&mut self, p: impl Into<Arc<CheckedParty>>, rs: &Ruleset) {
        let p: Arc<CheckedParty> = p.into();
        if let Some(old) = self.by_id.remove(&p.record.id) {
            self.by_name
                .retain(|_, e| e.as_ref().is_none_or(|q| q.record.id != old.record.id));
        }
        {
            let country = rs
                .countries
                .code(&p.record.country)
                .map(|c| c.to_string())
                .unwrap_or_else(|| p.record.country.to_string());
            let aliases = p.record.aliases.iter().map(String::as_str);
            for n in std::iter::once(p.record.name.as_str()).chain(aliases) {
                self.by_name
                    .entry(match_key(n, &country))
                    .and_modify(|e| {
                        if e.as_ref().is_some_and(|q| q.record.id != p.record.id) {
                            *e = None;
                        }
                    })
                    .or_insert_with(|| Some(p.clone()));
            }
            self.by_id.insert(p.record.id.clone(), p);
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Arc<CheckedParty>> {
        self.by_id.get(id)
    }

    /// Links the order's parties to their records: by `party_id` (an unknown id is an error
    /// naming the field), else by exact name and country. The order's missing identity fields
    /// are filled from the record; what the order line gives stands.
    pub fn attach(&self, order: &mut Order, rs: &Ruleset) -> Result<(), SpecError> {
        let mut kyc = Kyc::default();
        // Disjoint borrows of the order: its destination is read while its parties are filled.
        let Order {
            destination,
            consignee,
            end_user,
            intermediary,
            ..
        } = order;
        let dest = destination.as_str();
        let mut link = |role: &'static str, p: &mut Party| -> Result<(), SpecError> {
            let (party, matched_by) = match &p.party_id {
                Some(id) => (
                    self.by_id.get(id).cloned().ok_or_else(|| {
                        SpecError::new(
                            format!("{role}.party_id"),
                            format!("unknown party `{id}` (see `exportgate parties list`)"),
                        )
                    })?,
                    "party_id",
                ),
                // No record to match by name: no match key to build.
                None if self.by_name.is_empty() => return Ok(()),
                None => {
                    // The consignee is where the order goes when it names no country.
                    let country = p.country.as_deref().or(if role == "consignee" {
                        Some(dest)
                    } else {
                        None
                    });
                    let Some(code) = country.and_then(|c| rs.countries.code(c)) else {
                        return Ok(());
                    };
                    match self
                        .by_name
                        .get(&match_key(&p.name, code.as_str()))
                        .and_then(Clone::clone)
                    {
                        Some(party) => (party, "name"),
                        None => return Ok(()),
                    }
                }
            };
            let r = &party.record;
            if p.name.trim().is_empty() {
                p.name = r.name.clone();
            }
            p.country.get_or_insert_with(|| r.country.clone());
            if p.headquarters.is_none() {
                p.headquarters = r.headquarters.clone();
            }
            if p.parent_headquarters.is_none() {
                p.parent_headquarters = r.parent_headquarters.clone();
            }
            if p.owners.is_empty() {
                p.owners = r.owners.clone();
            }
            if p.ownership_checked.is_none() {
                p.ownership_checked = r.ownership_checked;
            }
            if p.role.is_none() {
                p.role = r.role.clone();
            }
            kyc.links.push(PartyLink {
                role,
                matched_by,
                party,
            });
            Ok(())
        };
        link("consignee", consignee)?;
        if let Some(p) = end_user {
            link("end_user", p)?;
        }
        if let Some(p) = intermediary {
            link("intermediary", p)?;
        }
        order.kyc = if kyc.links.is_empty() {
            None
        } else {
            Some(Arc::new(kyc))
        };
        Ok(())
    }
}

/// The facts that would settle one unknown red flag.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MissingFacts {
    pub flag: String,
    pub severity: crate::regime::Severity,
    /// Fact names to collect (the `due_diligence` field names).
    pub facts: Vec<&'static str>,
    /// What else is unknown, when it is not a due-diligence fact (a party's headquarters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A party record the decision drew on.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PartyUse {
    #[schemars(with = "String")]
    pub id: CompactString,
    pub role: &'static str,
    pub matched_by: &'static str,
    #[serde(serialize_with = "crate::iso_date::serialize")]
    pub review_by: NaiveDate,
    /// `false`: past its review date on the order's date, so its facts count as unknown.
    pub current: bool,
}

/// A decision's due-diligence section: the parties drawn on, the source of each fact, and
/// the facts that would settle each unknown red flag.
#[derive(Debug, Clone, PartialEq, Serialize, Default, schemars::JsonSchema)]
pub struct DueDiligenceReport {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<PartyUse>,
    /// Which source each known fact came from: `order` (the order line's `due_diligence`) or
    /// `party:ID` (who established it and when is on the record), each with its fact names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, Vec<String>>")]
    pub sources: BTreeMap<CompactString, FactSet>,
    pub missing: Vec<MissingFacts>,
    /// `hold` when the policy held the order for the missing facts, else `report`.
    pub policy: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rs() -> Ruleset {
        Ruleset::embedded().unwrap()
    }

    fn record(id: &str, name: &str, review_by: &str) -> PartyRecord {
        serde_json::from_value(json!({"id": id, "name": name, "country": "MY",
            "headquarters": "MY", "review_by": review_by,
            "facts": {"business_need_shown": {"value": true, "established": "2026-01-10", "by": "A"}}}))
        .unwrap()
    }

    fn order(consignee: serde_json::Value) -> Order {
        serde_json::from_value(json!({"id": "o", "date": "2026-03-02",
            "item": {"chip": "nvidia-h100-sxm"}, "quantity": 1, "destination": "MY",
            "consignee": consignee}))
        .unwrap()
    }

    #[test]
    fn records_are_checked_field_by_field() {
        let rs = rs();
        let mut r = record("p", "KL", "2026-07-10");
        r.country = "Atlantis".into();
        assert_eq!(CheckedParty::new(r, &rs).unwrap_err().field, "country");
        let mut r = record("p", "KL", "2026-07-10");
        r.facts.get_mut("business_need_shown").unwrap().value = json!("yes");
        let e = CheckedParty::new(r, &rs).unwrap_err();
        assert_eq!(e.field, "facts.business_need_shown.value");
        let mut r = record("p", "KL", "2026-07-10");
        r.facts.insert(
            "quantity".into(),
            EstablishedFact {
                value: json!(3),
                established: "2026-01-10".parse().unwrap(),
                by: "A".into(),
            },
        );
        assert_eq!(
            CheckedParty::new(r, &rs).unwrap_err().field,
            "facts.quantity"
        );
    }

    #[test]
    fn facts_count_from_when_they_were_established_until_the_review_date() {
        let rs = rs();
        let p = CheckedParty::new(record("p", "KL", "2026-07-10"), &rs).unwrap();
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        assert!(p.fact(Fact::BusinessNeedShown, day("2026-01-09")).is_none());
        assert!(p.fact(Fact::BusinessNeedShown, day("2026-01-10")).is_some());
        assert!(p.fact(Fact::BusinessNeedShown, day("2026-07-10")).is_some());
        assert!(p.fact(Fact::BusinessNeedShown, day("2026-07-11")).is_none());
        // Kept for deciding, the record drops the stored facts but still knows them.
        let lean = p.clone().for_deciding();
        assert!(lean.record.facts.is_empty());
        for date in ["2026-01-09", "2026-01-10", "2026-07-10", "2026-07-11"] {
            assert_eq!(
                lean.fact(Fact::BusinessNeedShown, day(date)),
                p.fact(Fact::BusinessNeedShown, day(date)),
                "{date}"
            );
        }
    }

    #[test]
    fn orders_link_by_id_or_exact_name_and_country_and_keep_their_own_identity() {
        let rs = rs();
        let ix = PartyIndex::new(
            [
                CheckedParty::new(record("p1", "KL  Distribution", "2026-07-10"), &rs).unwrap(),
                CheckedParty::new(record("p2", "Twin Co", "2026-07-10"), &rs).unwrap(),
                CheckedParty::new(record("p3", "twin  co", "2026-07-10"), &rs).unwrap(),
            ],
            &rs,
        );
        let mut o = order(json!({"party_id": "p1", "headquarters": "SG"}));
        ix.attach(&mut o, &rs).unwrap();
        assert_eq!(o.consignee.name, "KL  Distribution");
        assert_eq!(
            o.consignee.headquarters.as_deref(),
            Some("SG"),
            "the order's own"
        );
        assert_eq!(o.kyc.as_ref().unwrap().links[0].matched_by, "party_id");
        let mut o = order(json!({"name": " kl distribution ", "country": "Malaysia"}));
        ix.attach(&mut o, &rs).unwrap();
        assert_eq!(o.kyc.as_ref().unwrap().links[0].party.record.id, "p1");
        let mut o = order(json!({"name": "KL Distribution", "country": "SG"}));
        ix.attach(&mut o, &rs).unwrap();
        assert!(o.kyc.is_none(), "another country");
        let mut o = order(json!({"name": "Twin Co", "country": "MY"}));
        ix.attach(&mut o, &rs).unwrap();
        assert!(
            o.kyc.is_none(),
            "two records share the name: neither is guessed"
        );
        let mut o = order(json!({"party_id": "p9"}));
        assert_eq!(
            ix.attach(&mut o, &rs).unwrap_err().field,
            "consignee.party_id"
        );
    }

    /// `fact_sources`: the order line first, then the first linked record current on the
    /// date that holds the fact established by then; in the order of `Fact::ON_RECORD`.
    #[test]
    fn fact_sources_name_the_first_record_that_knows_each_fact() {
        let rs = rs();
        let mut a = record("a", "A", "2026-07-10");
        a.review(
            &[("end_use_statement".into(), json!(true))],
            "B",
            "2026-03-01".parse().unwrap(),
            None,
        );
        let mut b = record("b", "B", "2026-12-31");
        b.review(
            &[
                ("delivery_address_consistent".into(), json!(true)),
                ("business_need_shown".into(), json!(false)),
            ],
            "C",
            "2026-02-01".parse().unwrap(),
            None,
        );
        let link = |p: PartyRecord, role| PartyLink {
            role,
            matched_by: "party_id",
            party: Arc::new(CheckedParty::new(p, &rs).unwrap()),
        };
        let kyc = Kyc {
            links: vec![link(a, "consignee"), link(b, "end_user")],
        };
        let given = |f: Fact| f == Fact::PriorOrders;
        let (need, address, statement) = (
            "business_need_shown",
            "delivery_address_consistent",
            "end_use_statement",
        );
        for (date, want) in [
            ("2026-01-09", [vec![], vec![]]),
            ("2026-01-10", [vec![need], vec![]]),
            ("2026-02-15", [vec![need], vec![address]]),
            ("2026-03-01", [vec![need, statement], vec![address]]),
            ("2026-08-01", [vec![], vec![need, address]]),
        ] {
            let date: NaiveDate = date.parse().unwrap();
            let [a, b] = want;
            assert_eq!(
                fact_sources(&kyc, date, given)
                    .into_iter()
                    .map(FactSet::names)
                    .collect::<Vec<_>>(),
                vec![vec!["prior_orders"], a, b],
                "{date}"
            );
        }
        assert_eq!(
            kyc.fact(Fact::BusinessNeedShown, "2026-08-01".parse().unwrap())
                .map(|(v, l)| (v.clone(), l.role)),
            Some((crate::facts::FactValue::Bool(false), "end_user"))
        );
    }

    #[test]
    fn a_policy_file_is_validated_like_a_regime() {
        let mut rs = rs();
        let bad = r#"{"hold": [{"id": "x", "title": "t", "citation": "c",
            "when": {"items": {"eccns": ["3A999"]}}}]}"#;
        let e = rs.set_due_diligence_policy("p.json", bad).unwrap_err();
        assert!(e.to_string().contains("unknown ECCN `3A999`"), "{e}");
        let bad = r#"{"hold": [{"id": "x", "title": "t", "citation": "c",
            "when": {"destination": {"sets": ["nowhere"]}}}]}"#;
        assert!(rs.set_due_diligence_policy("p.json", bad).is_err());
        let bad = r#"{"hold": [], "extra": 1}"#;
        assert!(rs.set_due_diligence_policy("p.json", bad).is_err());
        assert_eq!(
            rs.due_diligence.hold.len(),
            2,
            "a bad file leaves the policy as it was"
        );
    }
}
