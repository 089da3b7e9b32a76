//! trade.gov Consolidated Screening List: the official JSON (`results`), the official CSV
//! (29 columns; the 11-column flattened form is read by the same header-driven code) and the
//! compact interned JSON (`tables` + `entries`).

use chrono::NaiveDate;
use serde_json::Value;

use super::{decode, list_code, opt, split_multi, Lines};
use crate::country::push_country;
use crate::entry::{parse_list_date, Format, ListEntry, ParseError, ParsedList};

/// Official `consolidated.json`: `{"results": [ {source, name, alt_names, addresses, ...} ]}`.
pub(crate) fn parse_json(bytes: &[u8], file: &str) -> Result<ParsedList, ParseError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| {
        ParseError::format(
            file,
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let results = root
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| ParseError::format(file, "expected an object with a `results` array"))?;
    let mut entries = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        let loc = || format!("record {}", i + 1);
        let obj = r
            .as_object()
            .ok_or_else(|| ParseError::field(file, loc(), "results", "expected an object"))?;
        let source = str_field(obj, "source", file, &loc)?
            .ok_or_else(|| ParseError::field(file, loc(), "source", "missing"))?;
        let name = str_field(obj, "name", file, &loc)?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ParseError::field(file, loc(), "name", "missing or empty"))?;
        let code = list_code(&source);
        let mut e = ListEntry::new(&code, &source, &name);
        e.aliases = str_list(obj, "alt_names", file, &loc)?;
        e.programs = str_list(obj, "programs", file, &loc)?;
        e.entity_type = str_field(obj, "type", file, &loc)?.and_then(|s| opt(&s));
        e.entity_number = str_field(obj, "entity_number", file, &loc)?.and_then(|s| opt(&s));
        e.citation = str_field(obj, "federal_register_notice", file, &loc)?.and_then(|s| opt(&s));
        e.license_requirement =
            str_field(obj, "license_requirement", file, &loc)?.and_then(|s| opt(&s));
        e.license_policy = str_field(obj, "license_policy", file, &loc)?.and_then(|s| opt(&s));
        e.url = str_field(obj, "source_list_url", file, &loc)?.and_then(|s| opt(&s));
        e.start_date = str_field(obj, "start_date", file, &loc)?
            .as_deref()
            .and_then(parse_list_date);
        if let Some(addrs) = obj.get("addresses").and_then(Value::as_array) {
            for a in addrs {
                if let Some(c) = a.get("country").and_then(Value::as_str) {
                    push_country(&mut e.countries, c);
                }
            }
        }
        for key in ["nationalities", "citizenships"] {
            for c in str_list(obj, key, file, &loc)? {
                push_country(&mut e.countries, &c);
            }
        }
        entries.push(e);
    }
    Ok(ParsedList {
        format: Format::CslJson,
        data_date: None,
        entries,
    })
}

fn str_field(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    file: &str,
    loc: &dyn Fn() -> String,
) -> Result<Option<String>, ParseError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ParseError::field(file, loc(), key, "expected a string")),
    }
}

fn str_list(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    file: &str,
    loc: &dyn Fn() -> String,
) -> Result<Vec<String>, ParseError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(split_multi(s)),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                    Value::String(_) | Value::Null => {}
                    _ => {
                        return Err(ParseError::field(
                            file,
                            loc(),
                            key,
                            "expected an array of strings",
                        ))
                    }
                }
            }
            Ok(out)
        }
        Some(_) => Err(ParseError::field(
            file,
            loc(),
            key,
            "expected an array of strings",
        )),
    }
}

/// Official CSV (29 columns) or the flattened 11-column CSV. Columns are found by header name;
/// `source` and `name` are required.
pub(crate) fn parse_csv(bytes: &[u8], file: &str) -> Result<ParsedList, ParseError> {
    let text = decode(bytes);
    let lines = Lines::new(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ParseError::format(file, format!("cannot read the header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let source_col = col("source")
        .ok_or_else(|| ParseError::format(file, "the header has no `source` column"))?;
    let name_col =
        col("name").ok_or_else(|| ParseError::format(file, "the header has no `name` column"))?;
    let c_alt = col("alt_names");
    let c_num = col("entity_number");
    let c_type = col("type");
    let c_prog = col("programs");
    let c_fr = col("federal_register_notice");
    let c_lr = col("license_requirement");
    let c_lp = col("license_policy");
    let c_url = col("source_list_url");
    let c_addr = col("addresses");
    let c_countries = col("address_countries");
    let c_nat = col("nationalities");
    let c_cit = col("citizenships");
    let c_start = col("start_date");
    let mut entries = Vec::new();
    let mut data_date: Option<NaiveDate> = None;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            ParseError::field(file, lines.at(e.position(), i + 1), "record", e.to_string())
        })?;
        let line = rec
            .position()
            .map(|p| lines.line(p.byte()))
            .unwrap_or(i as u64 + 2);
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("");
        let source = get(Some(source_col)).trim();
        if source.is_empty() {
            return Err(ParseError::field(
                file,
                format!("line {line}"),
                "source",
                "empty",
            ));
        }
        let name = get(Some(name_col)).trim();
        if name.is_empty() {
            return Err(ParseError::field(
                file,
                format!("line {line}"),
                "name",
                "empty",
            ));
        }
        let code = list_code(source);
        let mut e = ListEntry::new(&code, source, name);
        e.aliases = split_multi(get(c_alt));
        e.entity_number = opt(get(c_num));
        e.entity_type = opt(get(c_type));
        e.programs = split_multi(get(c_prog));
        e.citation = opt(get(c_fr));
        e.license_requirement = opt(get(c_lr));
        e.license_policy = opt(get(c_lp));
        e.url = opt(get(c_url));
        for a in split_multi(get(c_addr)) {
            // Each address is "street, city, state, postal, CC": the country is the last part.
            if let Some(cc) = a.rsplit(',').next() {
                push_country(&mut e.countries, cc);
            }
        }
        for field in [c_countries, c_nat, c_cit] {
            for c in split_multi(get(field)) {
                push_country(&mut e.countries, &c);
            }
        }
        e.start_date = parse_list_date(get(c_start));
        if let Some(d) = e.start_date {
            data_date = Some(data_date.map_or(d, |x| x.max(d)));
        }
        entries.push(e);
    }
    Ok(ParsedList {
        format: Format::CslCsv,
        data_date,
        entries,
    })
}

/// The compact interned JSON: `tables.{sources, licenceRequirements, licencePolicies,
/// programmes, urls}` and `entries[]` with keys `n a s t c e lr lp pg fr u`.
pub(crate) fn parse_compact(bytes: &[u8], file: &str) -> Result<ParsedList, ParseError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| {
        ParseError::format(
            file,
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let tables = root
        .get("tables")
        .and_then(Value::as_object)
        .ok_or_else(|| ParseError::format(file, "expected a `tables` object"))?;
    let table = |key: &str| -> Result<Vec<String>, ParseError> {
        let arr = tables.get(key).and_then(Value::as_array).ok_or_else(|| {
            ParseError::field(file, "tables".into(), key, "missing or not an array")
        })?;
        arr.iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    ParseError::field(file, format!("tables.{key}[{i}]"), key, "expected a string")
                })
            })
            .collect()
    };
    let sources = table("sources")?;
    let lrs = table("licenceRequirements")?;
    let lps = table("licencePolicies")?;
    let progs = table("programmes")?;
    let urls = table("urls")?;
    let items = root
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| ParseError::format(file, "expected an `entries` array"))?;
    let data_date = root
        .get("sourceGeneratedAt")
        .and_then(Value::as_str)
        .and_then(|s| s.get(..10))
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    let mut entries = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let loc = || format!("entry {}", i + 1);
        let obj = it
            .as_object()
            .ok_or_else(|| ParseError::field(file, loc(), "entries", "expected an object"))?;
        let name = obj
            .get("n")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ParseError::field(file, loc(), "n", "missing or empty name"))?;
        let idx = |key: &str, table: &[String]| -> Result<Option<String>, ParseError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => {
                    let i = v.as_u64().ok_or_else(|| {
                        ParseError::field(file, loc(), key, "expected a table index")
                    })?;
                    let s = table.get(i as usize).ok_or_else(|| {
                        ParseError::field(
                            file,
                            loc(),
                            key,
                            format!("index {i} is outside the table ({} items)", table.len()),
                        )
                    })?;
                    Ok(Some(s.clone()))
                }
            }
        };
        let source = idx("s", &sources)?
            .ok_or_else(|| ParseError::field(file, loc(), "s", "missing source"))?;
        let code = list_code(&source);
        let mut e = ListEntry::new(&code, &source, name);
        e.aliases = str_list(obj, "a", file, &loc)?;
        e.entity_type = str_field(obj, "t", file, &loc)?.and_then(|s| opt(&s));
        e.entity_number = str_field(obj, "e", file, &loc)?.and_then(|s| opt(&s));
        e.citation = str_field(obj, "fr", file, &loc)?.and_then(|s| opt(&s));
        e.license_requirement = idx("lr", &lrs)?;
        e.license_policy = idx("lp", &lps)?;
        e.programs = idx("pg", &progs)?
            .map(|p| split_multi(&p))
            .unwrap_or_default();
        e.url = idx("u", &urls)?;
        for c in str_list(obj, "c", file, &loc)? {
            push_country(&mut e.countries, &c);
        }
        entries.push(e);
    }
    Ok(ParsedList {
        format: Format::CslCompactJson,
        data_date,
        entries,
    })
}
