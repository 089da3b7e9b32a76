//! FollowTheMoney (FtM) entity files, as OpenSanctions publishes them: one JSON entity per
//! line, either flat (`entities.ftm.json`: property values are strings) or nested
//! (`targets.nested.json`: some property values are entities, e.g. `addressEntity`,
//! `sanctions`).
//!
//! Only the schemata that screening matches are read (`Person`, `Organization`, `Company`,
//! `LegalEntity`, `PublicBody`, `Vessel`, `Airplane`); other lines (`Address`, `Sanction`,
//! `Ownership`, ...) are skipped. When a line says `"target": false` (the full
//! `entities.ftm.json` export carries owners, relatives and other non-listed parties) it is
//! skipped too: only listed parties are screened against. A malformed line is an error naming
//! the line and the field.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::country::push_country;
use crate::entry::{parse_list_date, Format, ListEntry, ParseError, ParsedList};

/// The schemata that are parties to screen.
const MATCHABLE: &[&str] = &[
    "Person",
    "Organization",
    "Company",
    "LegalEntity",
    "PublicBody",
    "Vessel",
    "Airplane",
];

/// Name properties: the first `name` is the entry's name, the rest are aliases.
const NAME_PROPS: &[&str] = &["name", "alias", "previousName", "abbreviation"];

/// Country properties of a party.
const COUNTRY_PROPS: &[&str] = &[
    "country",
    "nationality",
    "citizenship",
    "jurisdiction",
    "mainCountry",
];

/// OpenSanctions dataset names whose list has an established code here; other datasets keep
/// their own name, upper-cased (`eu_fsf` gives `EU_FSF`), which the decision engine treats as
/// blocking (fail closed) until `data/screening.json` names it.
const DATASET_CODES: &[(&str, &str)] = &[
    ("us_ofac_sdn", "SDN"),
    ("us_bis_denied", "DPL"),
    ("un_sc_sanctions", "UN"),
    ("us_trade_csl", "CSL"),
];

/// The list code of an entity from its datasets: a known dataset first, else the first named.
fn list_code(datasets: &[String]) -> String {
    for (ds, code) in DATASET_CODES {
        if datasets.iter().any(|d| d == ds) {
            return (*code).to_string();
        }
    }
    datasets
        .first()
        .map(|d| d.to_ascii_uppercase())
        .unwrap_or_else(|| "FTM".to_string())
}

/// The string values of a property (nested entities are skipped: they are other things).
fn strings<'a>(props: &'a Map<String, Value>, prop: &str) -> impl Iterator<Item = &'a str> {
    props
        .get(prop)
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The nested entities of a property (`targets.nested.json`).
fn nested<'a>(props: &'a Map<String, Value>, prop: &str) -> impl Iterator<Item = &'a Value> {
    props
        .get(prop)
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter(|v| v.is_object())
}

pub(crate) fn parse(bytes: &[u8], file: &str) -> Result<ParsedList, ParseError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ParseError::format(file, format!("not UTF-8: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    let mut entries = Vec::new();
    let mut data_date: Option<NaiveDate> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let loc = format!("line {}", i + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| {
            ParseError::field(file, loc.clone(), "entity", format!("invalid JSON: {e}"))
        })?;
        let obj = v
            .as_object()
            .ok_or_else(|| ParseError::field(file, loc.clone(), "entity", "not a JSON object"))?;
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ParseError::field(file, loc.clone(), "id", "missing or empty"))?;
        let schema = obj
            .get("schema")
            .and_then(Value::as_str)
            .ok_or_else(|| ParseError::field(file, loc.clone(), "schema", "missing"))?;
        let props = match obj.get("properties") {
            Some(Value::Object(p)) => p,
            Some(_) => {
                return Err(ParseError::field(
                    file,
                    loc,
                    "properties",
                    "not a JSON object",
                ))
            }
            None => return Err(ParseError::field(file, loc, "properties", "missing")),
        };
        for (k, pv) in props {
            if !pv.is_array() {
                return Err(ParseError::field(
                    file,
                    loc.clone(),
                    &format!("properties.{k}"),
                    "not a list of values",
                ));
            }
        }
        for key in ["last_change", "last_seen"] {
            if let Some(d) = obj
                .get(key)
                .and_then(Value::as_str)
                .and_then(parse_list_date)
            {
                data_date = Some(data_date.map_or(d, |x| x.max(d)));
            }
        }
        if !MATCHABLE.contains(&schema) {
            continue;
        }
        if obj.get("target").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let mut names: Vec<&str> = Vec::new();
        for p in NAME_PROPS {
            for n in strings(props, p) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        let caption = obj
            .get("caption")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let Some(name) = names.first().copied().or(caption) else {
            return Err(ParseError::field(
                file,
                loc,
                "properties.name",
                format!("the {schema} `{id}` has no name"),
            ));
        };
        let datasets: Vec<String> = obj
            .get("datasets")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let code = list_code(&datasets);
        let list_name = if datasets.is_empty() {
            "FollowTheMoney entities".to_string()
        } else {
            format!("OpenSanctions: {}", datasets.join(", "))
        };
        let mut e = ListEntry::new(&code, &list_name, name);
        e.aliases = names
            .iter()
            .filter(|n| **n != name)
            .map(|n| n.to_string())
            .collect();
        for p in COUNTRY_PROPS {
            for c in strings(props, p) {
                push_country(&mut e.countries, c);
            }
        }
        for a in nested(props, "addressEntity") {
            if let Some(ap) = a.get("properties").and_then(Value::as_object) {
                for c in strings(ap, "country") {
                    push_country(&mut e.countries, c);
                }
            }
        }
        e.entity_type = Some(
            match schema {
                "Person" => "Individual",
                "Vessel" => "Vessel",
                "Airplane" => "Aircraft",
                _ => "Entity",
            }
            .to_string(),
        );
        e.entity_number = Some(id.to_string());
        e.id = format!("{code}:{id}");
        e.programs = strings(props, "program")
            .chain(strings(props, "topics"))
            .map(str::to_string)
            .collect();
        e.url = strings(props, "sourceUrl").next().map(str::to_string);
        // The listing date: the earliest `startDate` of the nested sanctions, if any.
        e.start_date = nested(props, "sanctions")
            .filter_map(|s| s.get("properties").and_then(Value::as_object))
            .flat_map(|sp| strings(sp, "startDate").chain(strings(sp, "listingDate")))
            .filter_map(parse_list_date)
            .min();
        entries.push(e);
    }
    Ok(ParsedList {
        format: Format::FtmJson,
        data_date,
        entries,
    })
}
