//! Orders: the input of a licence decision, and their validation against the ruleset.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::country::CountryCode;
use crate::ruleset::Ruleset;
use crate::spec::{Spec, SpecError};

/// What is ordered: a catalog id or an inline spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Spec>,
}

/// A party that owns part of another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub name: String,
    pub percent: f64,
    /// The list the owner is on (`EL`, `MEU`, `SDN`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed: Option<String>,
}

/// A party to the order: exporter, consignee or end user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub name: String,
    /// Where the party is located.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headquarters: Option<String>,
    /// Where the ultimate parent is headquartered (the party's own country when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_headquarters: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// Ownership has been checked for listed owners (affiliates rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_checked: Option<bool>,
}

/// What the items will be used for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EndUse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub id: String,
    pub date: NaiveDate,
    pub item: OrderItem,
    pub quantity: u64,
    pub destination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter: Option<Party>,
    pub consignee: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_user: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_use: Option<EndUse>,
    /// Order value in US dollars (reported by the simulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_usd: Option<f64>,
}

/// A party with its countries resolved.
#[derive(Debug, Clone)]
pub struct ResolvedParty {
    pub name: String,
    pub country: Option<CountryCode>,
    pub headquarters: Option<CountryCode>,
    pub parent_headquarters: Option<CountryCode>,
    pub owners: Vec<Owner>,
    pub ownership_checked: Option<bool>,
}

/// An order checked against the ruleset: countries resolved, the item's spec found.
#[derive(Debug, Clone)]
pub struct ResolvedOrder<'a> {
    pub order: &'a Order,
    pub chip: Option<&'a str>,
    pub spec: &'a Spec,
    pub destination: CountryCode,
    pub exporter: Option<ResolvedParty>,
    pub consignee: ResolvedParty,
    /// Defaults to the consignee.
    pub end_user: ResolvedParty,
}

fn country(
    rs: &Ruleset,
    field: &str,
    value: &Option<String>,
) -> Result<Option<CountryCode>, SpecError> {
    match value {
        None => Ok(None),
        Some(v) => rs
            .countries
            .code(v)
            .map(Some)
            .ok_or_else(|| SpecError::new(field, format!("unknown country `{v}`"))),
    }
}

fn party(rs: &Ruleset, field: &str, p: &Party) -> Result<ResolvedParty, SpecError> {
    if p.name.trim().is_empty() {
        return Err(SpecError::new(format!("{field}.name"), "must not be empty"));
    }
    for (i, o) in p.owners.iter().enumerate() {
        if !o.percent.is_finite() || o.percent < 0.0 || o.percent > 100.0 {
            return Err(SpecError::new(
                format!("{field}.owners[{i}].percent"),
                "must be between 0 and 100",
            ));
        }
    }
    Ok(ResolvedParty {
        name: p.name.clone(),
        country: country(rs, &format!("{field}.country"), &p.country)?,
        headquarters: country(rs, &format!("{field}.headquarters"), &p.headquarters)?,
        parent_headquarters: country(
            rs,
            &format!("{field}.parent_headquarters"),
            &p.parent_headquarters,
        )?,
        owners: p.owners.clone(),
        ownership_checked: p.ownership_checked,
    })
}

impl Order {
    /// Parse one order from JSON.
    pub fn from_json(text: &str) -> Result<Order, SpecError> {
        // The fast path; the slower path-tracking parse runs only to name the field at fault.
        serde_json::from_str(text).or_else(|_| crate::spec::parse_json(text))
    }

    /// Check the order against the ruleset and resolve its references.
    pub fn resolve<'a>(&'a self, rs: &'a Ruleset) -> Result<ResolvedOrder<'a>, SpecError> {
        if self.id.trim().is_empty() {
            return Err(SpecError::new("id", "must not be empty"));
        }
        if self.quantity == 0 {
            return Err(SpecError::new("quantity", "must be at least 1"));
        }
        if let Some(v) = self.value_usd {
            if !v.is_finite() || v < 0.0 {
                return Err(SpecError::new("value_usd", "must be a non-negative number"));
            }
        }
        let (chip, spec) = match (&self.item.chip, &self.item.spec) {
            (Some(id), None) => {
                let e = rs
                    .catalog
                    .get(id)
                    .ok_or_else(|| rs.catalog.unknown(id, "item.chip"))?;
                (Some(e.id.as_str()), &e.spec)
            }
            (None, Some(spec)) => {
                spec.validate("item.spec.")?;
                (None, spec)
            }
            _ => {
                return Err(SpecError::new(
                    "item",
                    "give exactly one of `chip` or `spec`",
                ))
            }
        };
        let destination = rs.countries.code(&self.destination).ok_or_else(|| {
            SpecError::new(
                "destination",
                format!("unknown country `{}`", self.destination),
            )
        })?;
        let consignee = party(rs, "consignee", &self.consignee)?;
        let end_user = match &self.end_user {
            Some(p) => party(rs, "end_user", p)?,
            None => consignee.clone(),
        };
        let exporter = match &self.exporter {
            Some(p) => Some(party(rs, "exporter", p)?),
            None => None,
        };
        Ok(ResolvedOrder {
            order: self,
            chip,
            spec,
            destination,
            exporter,
            consignee,
            end_user,
        })
    }
}
