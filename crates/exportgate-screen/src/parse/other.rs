//! The normalised PRC (MOFCOM) and Japan (METI Foreign End-User List) JSON arrays: records
//! with `entity_name`, `aliases`, `addresses`, `list_id`, `source_list_name`, `reason`, ...

use chrono::NaiveDate;
use serde::Deserialize;

use super::opt;
use crate::country::{push_country, split_country_prefix, to_iso2};
use crate::entry::{Format, ListEntry, ParseError, ParsedList};

#[derive(Deserialize)]
struct Record {
    entity_name: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
    id: Option<String>,
    list_id: Option<String>,
    source_list_name: Option<String>,
    source_url: Option<String>,
    reason: Option<String>,
    entity_type: Option<String>,
    last_verified: Option<String>,
}

pub(crate) fn parse(bytes: &[u8], file: &str) -> Result<ParsedList, ParseError> {
    let items: Vec<serde_json::Value> = serde_json::from_slice(bytes).map_err(|e| {
        ParseError::format(
            file,
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let mut entries = Vec::with_capacity(items.len());
    let mut data_date: Option<NaiveDate> = None;
    for (i, v) in items.into_iter().enumerate() {
        let loc = format!("record {}", i + 1);
        let r: Record = serde_json::from_value(v)
            .map_err(|e| ParseError::field(file, loc.clone(), "record", e.to_string()))?;
        // A few Japan records carry the name in `addresses`, after the country:
        // "People's Republic of China Acme Co., Ltd." with an empty `entity_name`.
        let mut from_address = None;
        let name = match r
            .entity_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(n) => n.to_string(),
            None => {
                from_address = r
                    .addresses
                    .iter()
                    .find_map(|a| split_country_prefix(a).filter(|(_, rest)| !rest.is_empty()));
                from_address
                    .map(|(_, rest)| rest.to_string())
                    .or_else(|| {
                        r.aliases
                            .iter()
                            .map(|a| a.trim())
                            .find(|a| !a.is_empty())
                            .map(str::to_string)
                    })
                    .ok_or_else(|| {
                        ParseError::field(
                            file,
                            loc.clone(),
                            "entity_name",
                            "missing or empty, and no alias or address to take a name from",
                        )
                    })?
            }
        };
        let list_id = r
            .list_id
            .as_deref()
            .ok_or_else(|| ParseError::field(file, loc.clone(), "list_id", "missing"))?;
        let code = match list_id {
            "cn-unreliable-entity-list" => "CN-UEL".to_string(),
            "cn-export-control-watchlist" => "CN-ECCL".to_string(),
            "cn-attention-list" => "CN-ATT".to_string(),
            "jp-end-user-list" => "JP-EUL".to_string(),
            other => other.to_ascii_uppercase(),
        };
        let list_name = r
            .source_list_name
            .clone()
            .unwrap_or_else(|| list_id.to_string());
        let mut e = ListEntry::new(&code, &list_name, &name);
        e.aliases = r
            .aliases
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        if let Some((cc, _)) = from_address {
            push_country(&mut e.countries, cc);
        }
        for a in &r.addresses {
            // Japan gives country names as addresses; PRC gives street addresses.
            if to_iso2(a).is_some() {
                push_country(&mut e.countries, a);
            }
        }
        e.entity_number = r.id.as_deref().and_then(opt);
        e.entity_type = r.entity_type.as_deref().and_then(opt);
        e.programs = r.reason.as_deref().and_then(opt).into_iter().collect();
        e.url = r.source_url.as_deref().and_then(opt);
        if let Some(d) = r
            .last_verified
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            data_date = Some(data_date.map_or(d, |x| x.max(d)));
        }
        entries.push(e);
    }
    Ok(ParsedList {
        format: Format::OtherCountriesJson,
        data_date,
        entries,
    })
}
