//! OFAC legacy CSV sets: `sdn.csv` + `add.csv` + `alt.csv`, and the non-SDN consolidated
//! `cons_prim.csv` + `cons_add.csv` + `cons_alt.csv`. No header; `-0-` means empty; CRLF line
//! ends; a trailing Ctrl-Z (0x1A) byte.

use std::collections::HashMap;

use super::{decode, finish, Lines};
use crate::country::push_country;
use crate::entry::{Format, ListEntry, ParseError, ParsedList};

/// The files of one OFAC set, each as `(label, bytes)`. Only the primary file is required.
#[derive(Debug, Clone, Copy)]
pub struct OfacFiles<'a> {
    /// `sdn.csv` or `cons_prim.csv`.
    pub primary: (&'a str, &'a [u8]),
    /// `add.csv` or `cons_add.csv`.
    pub add: Option<(&'a str, &'a [u8])>,
    /// `alt.csv` or `cons_alt.csv`.
    pub alt: Option<(&'a str, &'a [u8])>,
}

/// Parses an OFAC set. `format` is [`Format::OfacSdn`] or [`Format::OfacCons`].
pub fn parse_ofac_set(files: &OfacFiles<'_>, format: Format) -> Result<ParsedList, ParseError> {
    let (file, bytes) = files.primary;
    let rows = read_rows(file, bytes, 4)?;
    let mut entries: Vec<ListEntry> = Vec::with_capacity(rows.len());
    let mut by_num: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for (line, row) in rows {
        let num = ent_num(file, line, &row)?;
        let name = cell(&row, 1);
        if name.is_empty() {
            return Err(ParseError::field(
                file,
                format!("line {line}"),
                "SDN_Name",
                "empty",
            ));
        }
        let programs: Vec<String> = cell(&row, 3)
            .split("] [")
            .map(|p| p.trim_matches(['[', ']', ' ']).to_string())
            .filter(|p| !p.is_empty())
            .collect();
        let (list, list_name) = match format {
            Format::OfacCons => cons_list(&programs),
            _ => (
                "SDN",
                "Specially Designated Nationals (SDN) - Treasury Department",
            ),
        };
        let mut e = ListEntry::new(list, list_name, &name);
        e.entity_number = Some(num.clone());
        e.entity_type = Some(match cell(&row, 2).to_ascii_lowercase().as_str() {
            "individual" => "Individual".to_string(),
            "vessel" => "Vessel".to_string(),
            "aircraft" => "Aircraft".to_string(),
            _ => "Entity".to_string(),
        });
        e.programs = programs;
        e.url = Some("https://sanctionslist.ofac.treas.gov/Home/SdnList".to_string());
        by_num.insert(num, entries.len());
        entries.push(e);
    }
    if let Some((afile, abytes)) = files.alt {
        for (line, row) in read_rows(afile, abytes, 4)? {
            let num = ent_num(afile, line, &row)?;
            let alias = cell(&row, 3);
            if let (Some(&i), false) = (by_num.get(&num), alias.is_empty()) {
                if !entries[i].aliases.contains(&alias) {
                    entries[i].aliases.push(alias);
                }
            }
        }
    }
    if let Some((dfile, dbytes)) = files.add {
        for (line, row) in read_rows(dfile, dbytes, 5)? {
            let num = ent_num(dfile, line, &row)?;
            let country = cell(&row, 4);
            if let Some(&i) = by_num.get(&num) {
                push_country(&mut entries[i].countries, &country);
            }
        }
    }
    let mut parsed = ParsedList {
        format,
        data_date: None,
        entries,
    };
    finish(&mut parsed, file)?;
    Ok(parsed)
}

/// The CSL list code of a non-SDN consolidated entry, from its programmes.
fn cons_list(programs: &[String]) -> (&'static str, &'static str) {
    let has = |needle: &str| programs.iter().any(|p| p.contains(needle));
    if has("PLC") {
        (
            "PLC",
            "Palestinian Legislative Council List (PLC) - Treasury Department",
        )
    } else if has("CMIC") {
        ("CMIC", "Non-SDN Chinese Military-Industrial Complex Companies List (CMIC) - Treasury Department")
    } else if has("561") {
        ("CAP", "Capta List (CAP) - Treasury Department")
    } else if has("UKRAINE-EO13662") {
        (
            "SSI",
            "Sectoral Sanctions Identifications List (SSI) - Treasury Department",
        )
    } else if has("FSE") {
        (
            "FSE",
            "Foreign Sanctions Evaders (FSE) - Treasury Department",
        )
    } else {
        (
            "NS-MBS",
            "Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department",
        )
    }
}

fn cell(row: &[String], i: usize) -> String {
    row.get(i).map(|s| s.to_string()).unwrap_or_default()
}

fn ent_num(file: &str, line: u64, row: &[String]) -> Result<String, ParseError> {
    let n = cell(row, 0);
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
        return Err(ParseError::field(
            file,
            format!("line {line}"),
            "ent_num",
            format!("expected a number, found `{n}`"),
        ));
    }
    Ok(n)
}

/// Reads headerless rows, trimming cells and mapping `-0-` to empty. Rows shorter than
/// `min_fields` are an error; blank lines are skipped.
fn read_rows(
    file: &str,
    bytes: &[u8],
    min_fields: usize,
) -> Result<Vec<(u64, Vec<String>)>, ParseError> {
    let text = decode(bytes);
    let lines = Lines::new(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            ParseError::field(file, lines.at(e.position(), i + 1), "record", e.to_string())
        })?;
        let line = rec
            .position()
            .map(|p| lines.line(p.byte()))
            .unwrap_or(i as u64 + 1);
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rec.len() < min_fields {
            return Err(ParseError::field(
                file,
                format!("line {line}"),
                "record",
                format!("expected at least {min_fields} fields, found {}", rec.len()),
            ));
        }
        let row = rec
            .iter()
            .map(|c| {
                let t = c.trim();
                if t == "-0-" {
                    String::new()
                } else {
                    t.to_string()
                }
            })
            .collect();
        out.push((line, row));
    }
    Ok(out)
}
