//! Party records: a customer file (identity, owners, due-diligence facts each with when and by
//! whom it was established, a review date), validated into a [`CheckedParty`], and the records
//! linked to one order ([`Kyc`]). The index that links them to orders is in [`crate::kyc`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::concepts::FactSet;
use crate::facts::{fact_names, fact_value, Fact, FactValue};
use crate::ruleset::Ruleset;
use crate::spec::SpecError;

/// A party that owns part of another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub name: String,
    pub percent: f64,
    /// The list the owner is on (`EL`, `MEU`, `SDN`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed: Option<String>,
}

/// What a party is to the exporter; a record may be several.
pub const PARTY_KINDS: [&str; 4] = ["customer", "consignee", "end_user", "intermediary"];

/// One due-diligence fact on a party record: its value, when and by whom it was established.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstablishedFact {
    pub value: serde_json::Value,
    /// The date the fact was established (for a document: the date it was received).
    #[serde(deserialize_with = "crate::iso_date::deserialize")]
    pub established: NaiveDate,
    /// Who established it.
    pub by: String,
}

/// A party (customer, consignee, end user, intermediary): identity and due-diligence facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyRecord {
    /// The record's id, which orders name as `consignee.party_id` (and `end_user.party_id`,
    /// `intermediary.party_id`).
    pub id: CompactString,
    pub name: CompactString,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// What the party is to the exporter: `customer`, `consignee`, `end_user`, `intermediary`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// Where the party is located (ISO alpha-2 or a country name).
    pub country: CompactString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headquarters: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_headquarters: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_checked: Option<bool>,
    /// The party's role in the trade (`distributor`, `data_centre`, ...), as on an order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<CompactString>,
    /// Due-diligence facts by name (the names of `due_diligence` on an order, and the
    /// documents: [`Fact::on_record`]).
    #[serde(default)]
    pub facts: BTreeMap<String, EstablishedFact>,
    /// After this date the record's facts count as unknown until it is reviewed again.
    #[serde(deserialize_with = "crate::iso_date::deserialize")]
    pub review_by: NaiveDate,
}

impl PartyRecord {
    /// The record as judged on `as_of`: whether it is current, and each fact's age in days
    /// (what `exportgate parties show` and `GET /v1/parties/{id}` show).
    pub fn view(&self, as_of: NaiveDate) -> serde_json::Value {
        let facts: serde_json::Map<String, serde_json::Value> = self
            .facts
            .iter()
            .map(|(k, f)| {
                (
                    k.clone(),
                    serde_json::json!({
                        "value": f.value,
                        "established": f.established,
                        "by": f.by,
                        "age_days": (as_of - f.established).num_days(),
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "party": self,
            "as_of": as_of,
            "current": as_of <= self.review_by,
            "facts": facts,
        })
    }

    /// A review: each fact in `facts` set as established on `on` by `by`, and the next review
    /// date when given. Check the result with [`CheckedParty::new`].
    pub fn review(
        &mut self,
        facts: &[(String, serde_json::Value)],
        by: &str,
        on: NaiveDate,
        review_by: Option<NaiveDate>,
    ) {
        for (k, v) in facts {
            self.facts.insert(
                k.clone(),
                EstablishedFact {
                    value: v.clone(),
                    established: on,
                    by: by.to_string(),
                },
            );
        }
        if let Some(d) = review_by {
            self.review_by = d;
        }
    }
}

/// Checks an identifier-like field: not empty, no control characters. The field's name is
/// written only for the error (a run loads tens of thousands of records).
fn check_text(field: impl FnOnce() -> String, s: &str) -> Result<(), SpecError> {
    let problem = if s.trim().is_empty() {
        "must not be empty"
    } else if s.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(());
    };
    Err(SpecError::new(field(), problem))
}

/// A validated party record with its fact values parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedParty {
    pub record: PartyRecord,
    /// Each fact the record holds, by [`Fact::index`]: its value and when it was established.
    /// Parsed once per record, so a decision finds a fact by its position, not by its name.
    values: [Option<(FactValue, NaiveDate)>; Fact::COUNT],
    /// The facts the record holds, and the date the last of them was established: from then
    /// on (while the record is current) it knows every one of them.
    held: FactSet,
    settled: NaiveDate,
    /// `party:ID`: the key of the record's facts in a decision's `due_diligence.sources`
    /// (inline for ids up to 18 bytes: read with the record, not from elsewhere on the heap).
    source_key: CompactString,
}

impl CheckedParty {
    /// Validates a record against the ruleset; the error names the field at fault.
    pub fn new(record: PartyRecord, rs: &Ruleset) -> Result<CheckedParty, SpecError> {
        check_text(|| "id".into(), &record.id)?;
        check_text(|| "name".into(), &record.name)?;
        for (i, a) in record.aliases.iter().enumerate() {
            check_text(|| format!("aliases[{i}]"), a)?;
        }
        for (i, k) in record.kinds.iter().enumerate() {
            if !PARTY_KINDS.contains(&k.as_str()) {
                return Err(SpecError::new(
                    format!("kinds[{i}]"),
                    format!("unknown kind `{k}`; give {}", PARTY_KINDS.join(", ")),
                ));
            }
        }
        for (field, v) in [
            ("country", Some(&record.country)),
            ("headquarters", record.headquarters.as_ref()),
            ("parent_headquarters", record.parent_headquarters.as_ref()),
        ] {
            if let Some(v) = v {
                if rs.countries.code(v).is_none() {
                    return Err(SpecError::new(field, format!("unknown country `{v}`")));
                }
            }
        }
        for (i, o) in record.owners.iter().enumerate() {
            if !o.percent.is_finite() || o.percent < 0.0 || o.percent > 100.0 {
                return Err(SpecError::new(
                    format!("owners[{i}].percent"),
                    "must be between 0 and 100",
                ));
            }
        }
        let mut values: [Option<(FactValue, NaiveDate)>; Fact::COUNT] = Default::default();
        let mut held = FactSet::default();
        let mut settled = NaiveDate::MIN;
        for (name, f) in &record.facts {
            let fact = Fact::parse(name).filter(|f| f.on_record()).ok_or_else(|| {
                SpecError::new(
                    format!("facts.{name}"),
                    format!("unknown fact; a party record may hold {}", fact_names()),
                )
            })?;
            let kind = fact.kind();
            let v = fact_value(kind, &f.value).ok_or_else(|| {
                SpecError::new(
                    format!("facts.{name}.value"),
                    format!("{} is not a {}", f.value, kind.as_str()),
                )
            })?;
            check_text(|| format!("facts.{name}.by"), &f.by)?;
            values[fact.index()] = Some((v, f.established));
            held.insert(fact);
            settled = settled.max(f.established);
        }
        let source_key = compact_str::format_compact!("party:{}", record.id);
        Ok(CheckedParty {
            record,
            values,
            held,
            settled,
            source_key,
        })
    }

    /// The record as decisions read it: the facts as stored (value as JSON, who established
    /// them) and the kinds dropped once the facts are parsed into their positions. For an index
    /// that only decides (`check`, the server's index); `parties show` and `list` read the
    /// stored record, never this one.
    pub fn for_deciding(mut self) -> CheckedParty {
        self.record.facts = BTreeMap::new();
        self.record.kinds = Vec::new();
        self
    }

    /// `party:ID`: where a decision's `due_diligence.sources` lists the facts drawn from it.
    pub fn source_key(&self) -> &str {
        &self.source_key
    }

    /// Is the record current on `date` (not past its review date)?
    pub fn current_on(&self, date: NaiveDate) -> bool {
        date <= self.record.review_by
    }

    /// A fact as known on `date`: the record is current and the fact was established by then.
    pub fn fact(&self, fact: Fact, date: NaiveDate) -> Option<&FactValue> {
        if !self.current_on(date) {
            return None;
        }
        match &self.values[fact.index()] {
            Some((v, established)) if *established <= date => Some(v),
            _ => None,
        }
    }

    /// The facts known on `date` ([`CheckedParty::fact`] of each).
    pub fn facts_known(&self, date: NaiveDate) -> FactSet {
        if !self.current_on(date) {
            return FactSet::default();
        }
        if date >= self.settled {
            return self.held;
        }
        let mut known = FactSet::default();
        for fact in self.held.iter() {
            if self.fact(fact, date).is_some() {
                known.insert(fact);
            }
        }
        known
    }
}

/// A party record linked to an order, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyLink {
    /// `consignee`, `end_user` or `intermediary`.
    pub role: &'static str,
    /// `party_id` or `name` (name and country matched a record).
    pub matched_by: &'static str,
    pub party: Arc<CheckedParty>,
}

/// The party records linked to an order, most specific first (consignee, end user,
/// intermediary): where the decision reads a fact the order line does not give.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Kyc {
    pub links: Vec<PartyLink>,
}

impl Kyc {
    /// The first linked record that knows `fact` on `date`.
    pub fn fact(&self, fact: Fact, date: NaiveDate) -> Option<(&FactValue, &PartyLink)> {
        self.links
            .iter()
            .find_map(|l| l.party.fact(fact, date).map(|v| (v, l)))
    }
}

/// Which source each fact a record may hold ([`Fact::ON_RECORD`], in that order) comes from
/// on `date`, by position: `0` the order line (`given` says whether it gives the fact), `i`
/// the `i`-th linked record (the first current one that holds it, established by then); a
/// fact known nowhere is left out. Wire names, as the decision reports them.
pub fn fact_sources(kyc: &Kyc, date: NaiveDate, given: impl Fn(Fact) -> bool) -> Vec<FactSet> {
    let mut by = Vec::with_capacity(kyc.links.len() + 1);
    let mut known = FactSet::default();
    for fact in Fact::ON_RECORD {
        if given(fact) {
            known.insert(fact);
        }
    }
    by.push(known);
    for l in &kyc.links {
        let first_here = l.party.facts_known(date).minus(known);
        known = known.union(first_here);
        by.push(first_here);
    }
    by
}
