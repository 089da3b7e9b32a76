//! Licences: the typed record, its JSON form, and validation that names the offending field.
//!
//! A licence is one ledger account ([`Licence::account_spec`]) whose limits are its units,
//! value and TPP. Whether item ids and country codes exist is the caller's knowledge: pass a
//! [`KnownIds`] (the CLI passes the core catalog).

use crate::account::{AccountId, AccountKind, AccountSpec, AccountStatus};
use crate::amount::{Limits, AMOUNT_MAX};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Longest licence number, holder, item, consignee or condition text accepted, in bytes.
pub const TEXT_LENGTH_MAX: usize = 200;
/// Most entries in each of items, destinations, consignees and conditions.
pub const LIST_LENGTH_MAX: usize = 1_000;

/// Tells validation which item ids (catalog ids or ECCNs) and ISO alpha-2 countries exist.
pub trait KnownIds {
    /// True when `item` is a known catalog id or ECCN.
    fn is_known_item(&self, item: &str) -> bool;
    /// True when `country` (upper-case ISO alpha-2) is a known country.
    fn is_known_country(&self, country: &str) -> bool;
}

/// Accepts every well-formed id; for tests and for callers without a catalog.
#[derive(Clone, Copy, Debug, Default)]
pub struct AnyIds;

impl KnownIds for AnyIds {
    fn is_known_item(&self, _item: &str) -> bool {
        true
    }
    fn is_known_country(&self, _country: &str) -> bool {
        true
    }
}

/// A condition attached to a licence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Free text, kept verbatim.
    Text { text: String },
    /// A share of revenue payable to the US government (e.g. 15 for the 2025 H20/MI308 licences).
    RevenueSharePercent { value: u32 },
    /// Draws of a product under the licence may not pass this share of the units of the same
    /// product shipped to US end users (50 for 91 FR 1684; see [`crate::flow`]).
    VolumeCapPercent { value: u32 },
}

/// One entry of a licence file's `conditions`: a typed [`Condition`], or a bare string, which
/// is read as free text (`{"type": "text", "text": ...}`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ConditionEntry {
    Text(String),
    Typed(Condition),
}

/// A licence file as `licences add` and `POST /v1/licences` read it: the form its JSON Schema
/// (`exportgate schema licence`) describes. [`Licence::from_value`] checks the same fields and
/// more (known items and countries, a limit present, dates in order); a test keeps the two
/// field lists equal.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceFile {
    /// The licence number (`D1234567`).
    pub number: String,
    /// Who holds it (the exporter).
    pub holder: String,
    /// Catalog ids or ECCNs (`3A090.a`; `3A090` covers its paragraphs).
    pub items: Vec<String>,
    /// ISO country codes.
    pub destinations: Vec<String>,
    /// Consignee names (compared case- and space-insensitively).
    pub consignees: Vec<String>,
    /// Units the licence allows (at least one of `units`, `value`, `tpp` is a limit).
    #[serde(default)]
    pub units: Option<u64>,
    /// Value in US cents.
    #[serde(default)]
    pub value: Option<u64>,
    /// Total processing performance.
    #[serde(default)]
    pub tpp: Option<u64>,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    #[serde(default)]
    pub conditions: Vec<ConditionEntry>,
    /// `active` (the default), `suspended`, `revoked` or `expired`.
    #[serde(default)]
    pub status: Option<String>,
    /// A JSON Schema reference, ignored.
    #[serde(default, rename = "$schema")]
    pub schema: Option<String>,
}

/// A licence's status; only `active` licences accept new reservations.
pub type LicenceStatus = AccountStatus;

/// A validated licence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licence {
    pub number: String,
    pub holder: String,
    pub items: Vec<String>,
    pub destinations: Vec<String>,
    pub consignees: Vec<String>,
    pub limits: Limits,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub conditions: Vec<Condition>,
    pub status: LicenceStatus,
}

/// Why a licence file was refused. `field` is a JSON path such as `units` or `conditions[0].value`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LicenceError {
    #[error("invalid licence JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid licence: `{field}` {message}")]
    Field { field: String, message: String },
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> LicenceError {
    LicenceError::Field {
        field: field.into(),
        message: message.into(),
    }
}

const FIELDS: [&str; 13] = [
    "number",
    "holder",
    "items",
    "destinations",
    "consignees",
    "units",
    "value",
    "tpp",
    "valid_from",
    "valid_to",
    "conditions",
    "status",
    "$schema",
];

fn text(object: &Map<String, Value>, field: &str) -> Result<String, LicenceError> {
    match object.get(field) {
        None => Err(field_error(field, "is missing")),
        Some(value) => text_value(value, field),
    }
}

fn text_value(value: &Value, field: &str) -> Result<String, LicenceError> {
    let Value::String(s) = value else {
        return Err(field_error(
            field,
            format!("must be a string, got `{value}`"),
        ));
    };
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(field_error(field, "must not be empty"));
    }
    if trimmed.len() > TEXT_LENGTH_MAX || trimmed.chars().any(char::is_control) {
        return Err(field_error(
            field,
            format!("must be at most {TEXT_LENGTH_MAX} bytes without control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn list(object: &Map<String, Value>, field: &str) -> Result<Vec<String>, LicenceError> {
    let Some(value) = object.get(field) else {
        return Err(field_error(field, "is missing"));
    };
    let Value::Array(values) = value else {
        return Err(field_error(
            field,
            format!("must be a list of strings, got `{value}`"),
        ));
    };
    if values.is_empty() {
        return Err(field_error(field, "must list at least one entry"));
    }
    if values.len() > LIST_LENGTH_MAX {
        return Err(field_error(
            field,
            format!("must list at most {LIST_LENGTH_MAX} entries"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let entry = text_value(value, &path)?;
        if !seen.insert(entry.to_lowercase()) {
            return Err(field_error(path, format!("repeats `{entry}`")));
        }
        out.push(entry);
    }
    Ok(out)
}

fn limit(object: &Map<String, Value>, field: &str) -> Result<Option<u64>, LicenceError> {
    let Some(value) = object.get(field) else {
        return Ok(None);
    };
    match value.as_u64() {
        Some(n) if (1..=AMOUNT_MAX).contains(&n) => Ok(Some(n)),
        _ => Err(field_error(
            field,
            format!("must be a positive whole number up to {AMOUNT_MAX}, got `{value}`"),
        )),
    }
}

fn date(object: &Map<String, Value>, field: &str) -> Result<NaiveDate, LicenceError> {
    let raw = text(object, field)?;
    NaiveDate::parse_from_str(&raw, "%Y-%m-%d").map_err(|_| {
        field_error(
            field,
            format!("must be a date like `2025-01-31`, got `{raw}`"),
        )
    })
}

fn condition(value: &Value, path: &str) -> Result<Condition, LicenceError> {
    if let Value::String(_) = value {
        return Ok(Condition::Text {
            text: text_value(value, path)?,
        });
    }
    let Value::Object(object) = value else {
        return Err(field_error(
            path,
            format!("must be a string or an object with a `type`, got `{value}`"),
        ));
    };
    let kind = text(object, "type")
        .map_err(|_| field_error(format!("{path}.type"), "must be a non-empty string"))?;
    let allowed: &[&str] = match kind.as_str() {
        "text" => &["type", "text"],
        "revenue_share_percent" | "volume_cap_percent" => &["type", "value"],
        other => {
            return Err(field_error(
                format!("{path}.type"),
                format!("is unknown: `{other}` (known: `text`, `revenue_share_percent`, `volume_cap_percent`)"),
            ))
        }
    };
    if let Some(unknown) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(field_error(
            format!("{path}.{unknown}"),
            "is not a field of this condition",
        ));
    }
    match kind.as_str() {
        "text" => Ok(Condition::Text {
            text: text(object, "text")
                .map_err(|_| field_error(format!("{path}.text"), "must be a non-empty string"))?,
        }),
        _ => {
            let raw = object.get("value");
            match raw.and_then(Value::as_u64) {
                Some(v) if (1..=100).contains(&v) => Ok(if kind == "volume_cap_percent" {
                    Condition::VolumeCapPercent { value: v as u32 }
                } else {
                    Condition::RevenueSharePercent { value: v as u32 }
                }),
                _ => Err(field_error(
                    format!("{path}.value"),
                    format!(
                        "must be a whole percentage from 1 to 100, got `{}`",
                        raw.unwrap_or(&Value::Null)
                    ),
                )),
            }
        }
    }
}

fn conditions(object: &Map<String, Value>) -> Result<Vec<Condition>, LicenceError> {
    let Some(value) = object.get("conditions") else {
        return Ok(Vec::new());
    };
    let Value::Array(values) = value else {
        return Err(field_error(
            "conditions",
            format!("must be a list, got `{value}`"),
        ));
    };
    if values.len() > LIST_LENGTH_MAX {
        return Err(field_error(
            "conditions",
            format!("must list at most {LIST_LENGTH_MAX} entries"),
        ));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| condition(v, &format!("conditions[{i}]")))
        .collect()
}

fn check_number(number: &str) -> Result<(), LicenceError> {
    let ok = number
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'));
    if !ok || number.len() > 64 {
        return Err(field_error(
            "number",
            format!("must be up to 64 letters, digits, `-`, `_`, `/` or `.`, got `{number}`"),
        ));
    }
    Ok(())
}

impl Licence {
    /// Parses and validates the JSON form. Nothing is written anywhere.
    pub fn from_json(json: &str, known: &dyn KnownIds) -> Result<Licence, LicenceError> {
        let value: Value = serde_json::from_str(json).map_err(|e| LicenceError::Syntax {
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
        })?;
        Licence::from_value(&value, known)
    }

    /// Validates an already parsed JSON value.
    pub fn from_value(value: &Value, known: &dyn KnownIds) -> Result<Licence, LicenceError> {
        let Value::Object(object) = value else {
            return Err(field_error("(top level)", "must be a JSON object"));
        };
        if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(field_error(
                unknown.clone(),
                format!(
                    "is not a licence field (known: {})",
                    FIELDS[..12].join(", ")
                ),
            ));
        }
        let number = text(object, "number")?;
        check_number(&number)?;
        let holder = text(object, "holder")?;
        let items = list(object, "items")?;
        for (i, item) in items.iter().enumerate() {
            if item.contains(char::is_whitespace) || !known.is_known_item(item) {
                return Err(field_error(
                    format!("items[{i}]"),
                    format!("is not a known catalog id or ECCN: `{item}`"),
                ));
            }
        }
        let mut destinations = list(object, "destinations")?;
        for (i, country) in destinations.iter_mut().enumerate() {
            let upper = country.to_uppercase();
            let shaped = upper.len() == 2 && upper.chars().all(|c| c.is_ascii_uppercase());
            if !shaped || !known.is_known_country(&upper) {
                return Err(field_error(
                    format!("destinations[{i}]"),
                    format!("is not a known ISO 3166 alpha-2 country code: `{country}`"),
                ));
            }
            *country = upper;
        }
        let consignees = list(object, "consignees")?;
        let limits = Limits {
            units: limit(object, "units")?,
            value: limit(object, "value")?,
            tpp: limit(object, "tpp")?,
        };
        if !limits.any() {
            return Err(field_error(
                "units",
                "is missing: give at least one limit of `units`, `value` or `tpp`",
            ));
        }
        let valid_from = date(object, "valid_from")?;
        let valid_to = date(object, "valid_to")?;
        if valid_to < valid_from {
            return Err(field_error(
                "valid_to",
                format!("`{valid_to}` is before `valid_from` `{valid_from}`"),
            ));
        }
        let status = match object.get("status") {
            None => AccountStatus::Active,
            Some(v) => {
                let raw = text_value(v, "status")?;
                AccountStatus::parse(&raw).ok_or_else(|| {
                    field_error(
                        "status",
                        format!(
                            "must be `active`, `suspended`, `revoked` or `expired`, got `{raw}`"
                        ),
                    )
                })?
            }
        };
        let conditions = conditions(object)?;
        Ok(Licence {
            number,
            holder,
            items,
            destinations,
            consignees,
            limits,
            valid_from,
            valid_to,
            conditions,
            status,
        })
    }

    /// The JSON form accepted by [`Licence::from_json`].
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("number".into(), self.number.clone().into());
        object.insert("holder".into(), self.holder.clone().into());
        object.insert("items".into(), self.items.clone().into());
        object.insert("destinations".into(), self.destinations.clone().into());
        object.insert("consignees".into(), self.consignees.clone().into());
        for (name, limit) in [
            ("units", self.limits.units),
            ("value", self.limits.value),
            ("tpp", self.limits.tpp),
        ] {
            if let Some(limit) = limit {
                object.insert(name.into(), limit.into());
            }
        }
        object.insert("valid_from".into(), self.valid_from.to_string().into());
        object.insert("valid_to".into(), self.valid_to.to_string().into());
        let conditions = self
            .conditions
            .iter()
            .map(|c| serde_json::to_value(c).expect("conditions serialise"))
            .collect();
        object.insert("conditions".into(), Value::Array(conditions));
        object.insert("status".into(), self.status.name().into());
        Value::Object(object)
    }

    /// The ledger account of this licence.
    pub fn account_id(&self) -> AccountId {
        AccountId::licence(&self.number)
    }

    /// The ledger account of this licence: its limits, valid from `valid_from` to `valid_to`.
    pub fn account_spec(&self) -> AccountSpec {
        AccountSpec {
            id: self.account_id(),
            kind: AccountKind::Licence {
                number: self.number.clone(),
            },
            limits: self.limits,
            valid_from: Some(self.valid_from),
            valid_to: Some(self.valid_to),
        }
    }

    /// The revenue share a typed condition demands, if any.
    pub fn revenue_share_percent(&self) -> Option<u32> {
        self.conditions.iter().find_map(|c| match c {
            Condition::RevenueSharePercent { value } => Some(*value),
            _ => None,
        })
    }

    /// The volume cap a typed condition demands (percent of the US-bound reference flow), if
    /// any.
    pub fn volume_cap_percent(&self) -> Option<u32> {
        self.conditions.iter().find_map(|c| match c {
            Condition::VolumeCapPercent { value } => Some(*value),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"number": "D1234567", "holder": "Acme Systems", "items": ["nvidia-h100-sxm"], "destinations": ["AE"],
 "consignees": ["Falcon Compute LLC"], "units": 100, "valid_from": "2025-01-01", "valid_to": "2027-12-31",
 "conditions": [{"type": "revenue_share_percent", "value": 15}]}"#;

    fn error(json: &str) -> String {
        Licence::from_json(json, &AnyIds).unwrap_err().to_string()
    }

    fn with(field: &str, value: &str) -> String {
        let mut v: Value = serde_json::from_str(EXAMPLE).unwrap();
        v[field] = serde_json::from_str(value).unwrap();
        v.to_string()
    }

    #[test]
    fn parses_the_issue_example() {
        let licence = Licence::from_json(EXAMPLE, &AnyIds).unwrap();
        assert_eq!(licence.number, "D1234567");
        assert_eq!(
            licence.limits,
            Limits {
                units: Some(100),
                ..Limits::default()
            }
        );
        assert_eq!(licence.revenue_share_percent(), Some(15));
        assert_eq!(licence.status, AccountStatus::Active);
        assert_eq!(licence.account_id().as_str(), "licence:D1234567");
        let again = Licence::from_value(&licence.to_json(), &AnyIds).unwrap();
        assert_eq!(again, licence);
        licence.account_spec().validate().unwrap();
    }

    #[test]
    fn bad_files_name_the_field() {
        assert!(error("{\"number\": ").starts_with("invalid licence JSON at line 1, column 11"));
        assert_eq!(
            error("[]"),
            "invalid licence: `(top level)` must be a JSON object"
        );
        assert!(error(&with("colour", "\"red\""))
            .starts_with("invalid licence: `colour` is not a licence field"));
        assert_eq!(error(&with("units", "-5")), "invalid licence: `units` must be a positive whole number up to 9223372036854775807, got `-5`");
        assert!(
            error(&with("units", "0")).starts_with("invalid licence: `units` must be a positive")
        );
        assert!(
            error(&with("units", "1.5")).starts_with("invalid licence: `units` must be a positive")
        );
        assert_eq!(
            error(&with("valid_to", "\"2024-12-31\"")),
            "invalid licence: `valid_to` `2024-12-31` is before `valid_from` `2025-01-01`"
        );
        assert!(error(&with("valid_from", "\"2025-13-01\""))
            .starts_with("invalid licence: `valid_from` must be a date"));
        assert_eq!(
            error(&with("items", "[]")),
            "invalid licence: `items` must list at least one entry"
        );
        assert_eq!(error(&with("destinations", "[\"ARE\"]")), "invalid licence: `destinations[0]` is not a known ISO 3166 alpha-2 country code: `ARE`");
        assert_eq!(
            error(&with("consignees", "[\"a\", \"A\"]")),
            "invalid licence: `consignees[1]` repeats `A`"
        );
        assert!(error(&with("conditions", "[{\"type\": \"royalty\"}]"))
            .starts_with("invalid licence: `conditions[0].type` is unknown: `royalty`"));
        assert!(error(&with(
            "conditions",
            "[{\"type\": \"revenue_share_percent\", \"value\": 150}]"
        ))
        .starts_with("invalid licence: `conditions[0].value` must be a whole percentage"));
        assert_eq!(error(&with("status", "\"paused\"")), "invalid licence: `status` must be `active`, `suspended`, `revoked` or `expired`, got `paused`");
        assert_eq!(error(&with("number", "\"D 1\"")), "invalid licence: `number` must be up to 64 letters, digits, `-`, `_`, `/` or `.`, got `D 1`");
        let mut v: Value = serde_json::from_str(EXAMPLE).unwrap();
        v.as_object_mut().unwrap().remove("units");
        assert!(error(&v.to_string()).starts_with("invalid licence: `units` is missing"));
        v.as_object_mut().unwrap().remove("holder");
        assert_eq!(
            error(&v.to_string()),
            "invalid licence: `holder` is missing"
        );
    }

    #[test]
    fn text_conditions_and_other_limits() {
        let licence = Licence::from_json(
            &with(
                "conditions",
                "[\"no re-export\", {\"type\": \"text\", \"text\": \"report quarterly\"}]",
            ),
            &AnyIds,
        )
        .unwrap();
        assert_eq!(licence.conditions.len(), 2);
        let licence = Licence::from_json(&with("tpp", "1000000"), &AnyIds).unwrap();
        assert_eq!(licence.limits.tpp, Some(1_000_000));
    }

    struct Catalog;
    impl KnownIds for Catalog {
        fn is_known_item(&self, item: &str) -> bool {
            item == "nvidia-h100-sxm" || item == "3A090.a"
        }
        fn is_known_country(&self, country: &str) -> bool {
            country == "AE"
        }
    }

    #[test]
    fn unknown_items_and_countries_come_from_the_hook() {
        Licence::from_json(EXAMPLE, &Catalog).unwrap();
        let e =
            Licence::from_json(&with("items", "[\"3A090.a\", \"acme-x9\"]"), &Catalog).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid licence: `items[1]` is not a known catalog id or ECCN: `acme-x9`"
        );
        let e = Licence::from_json(&with("destinations", "[\"ZZ\"]"), &Catalog).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid licence: `destinations[0]` is not a known ISO 3166 alpha-2 country code: `ZZ`"
        );
    }
}
