//! The typed list entry every parser produces, and the parse error type.
//!
//! A [`ListEntry`] is one party on one restricted-party list: its list code (`EL`, `SDN`,
//! `DPL`, ...), names, countries and the legal consequence the list attaches to it (Federal
//! Register citation, licence requirement and licence policy text).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One party on one list, as parsed from an official file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// Stable identifier, unique within a parsed list: `LIST:entity_number` when the source
    /// gives an entity number, else `LIST:` and a content hash of the names.
    pub id: String,
    /// Short list code: `EL`, `SDN`, `DPL`, `UVL`, `MEU`, `CMIC`, `UN`, `CN-UEL`, ...
    pub list: String,
    /// The full name of the list as the source states it.
    pub list_name: String,
    /// Primary name as published.
    pub name: String,
    /// Alternative names (aka, fka, original script).
    pub aliases: Vec<String>,
    /// Address or nationality countries: ISO 3166 alpha-2 where known, else the text given.
    pub countries: Vec<String>,
    /// `Entity`, `Individual`, `Vessel`, `Aircraft`, or as given by the source.
    pub entity_type: Option<String>,
    /// The source's own number for the entry (OFAC ent_num, UN reference number, ...).
    pub entity_number: Option<String>,
    /// Federal Register (or other official) citation of the listing.
    pub citation: Option<String>,
    /// Licence requirement text (Entity List).
    pub license_requirement: Option<String>,
    /// Licence review policy text (Entity List), e.g. "Presumption of denial."
    pub license_policy: Option<String>,
    /// Sanctions programmes.
    pub programs: Vec<String>,
    /// URL of the source list.
    pub url: Option<String>,
    /// The date the list gives for the start of the listing (the CSL's `start_date`, the
    /// DPL's `Effective_Date`), when it gives one. The 2026 compact CSL carries none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
}

impl ListEntry {
    /// A new entry with only list and name set; other fields empty. The id is derived from
    /// the content by [`ListEntry::assign_id`].
    pub fn new(list: &str, list_name: &str, name: &str) -> ListEntry {
        ListEntry {
            id: String::new(),
            list: list.to_string(),
            list_name: list_name.to_string(),
            name: name.trim().to_string(),
            aliases: Vec::new(),
            countries: Vec::new(),
            entity_type: None,
            entity_number: None,
            citation: None,
            license_requirement: None,
            license_policy: None,
            programs: Vec::new(),
            url: None,
            start_date: None,
        }
    }

    /// Sets `id` from the entity number, or from a hash of list, name and aliases.
    pub fn assign_id(&mut self) {
        self.id = match &self.entity_number {
            Some(n) if !n.is_empty() => format!("{}:{}", self.list, n),
            _ => {
                let mut h = Fnv::new();
                h.write(self.list.as_bytes());
                h.write(self.name.as_bytes());
                for a in &self.aliases {
                    h.write(b"\x1f");
                    h.write(a.as_bytes());
                }
                for c in &self.countries {
                    h.write(b"\x1e");
                    h.write(c.as_bytes());
                }
                format!("{}:{:016x}", self.list, h.finish())
            }
        };
    }

    /// All names of the entry: primary name first, then aliases, without empties or duplicates.
    pub fn all_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::with_capacity(1 + self.aliases.len());
        for n in std::iter::once(&self.name).chain(self.aliases.iter()) {
            let n = n.trim();
            if !n.is_empty() && !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }
}

/// A listing date as a list states it: `YYYY-MM-DD` (or the date part of a timestamp), or the
/// DPL's `MM/DD/YYYY`. Anything else is no date (the listing date is then unknown, and a
/// decision keeps the hit: fail closed).
pub fn parse_list_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%m/%d/%Y"))
        .ok()
}

/// Ids must be unique within a list; entries sharing an id get `#2`, `#3`, ... appended.
pub(crate) fn dedupe_ids(entries: &mut [ListEntry]) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in entries.iter_mut() {
        let n = seen.entry(e.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            e.id = format!("{}#{}", e.id, n);
        }
    }
}

/// 64-bit FNV-1a: a small, stable content hash for entry ids (not for security).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The file formats the parsers understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// trade.gov `consolidated.json` (`{"results": [...]}`).
    CslJson,
    /// trade.gov `consolidated.csv` (29 columns) or the flattened 11-column form.
    CslCsv,
    /// The compact interned JSON (`tables` + `entries`).
    CslCompactJson,
    /// OFAC SDN legacy CSV (`sdn.csv`, with optional `add.csv` and `alt.csv`).
    OfacSdn,
    /// OFAC non-SDN consolidated legacy CSV (`cons_prim.csv`, `cons_add.csv`, `cons_alt.csv`).
    OfacCons,
    /// UN Security Council consolidated XML.
    UnXml,
    /// BIS Denied Persons List, tab separated.
    BisDpl,
    /// The normalised PRC / Japan JSON arrays.
    OtherCountriesJson,
    /// FollowTheMoney entities, one JSON object a line (OpenSanctions' `entities.ftm.json`
    /// and `targets.nested.json`).
    FtmJson,
}

impl Format {
    /// All formats, for help texts.
    pub const ALL: [Format; 9] = [
        Format::CslJson,
        Format::CslCsv,
        Format::CslCompactJson,
        Format::OfacSdn,
        Format::OfacCons,
        Format::UnXml,
        Format::BisDpl,
        Format::OtherCountriesJson,
        Format::FtmJson,
    ];

    /// The name used on the command line (`--source NAME`) and in the database.
    pub fn name(self) -> &'static str {
        match self {
            Format::CslJson => "csl-json",
            Format::CslCsv => "csl-csv",
            Format::CslCompactJson => "csl-compact-json",
            Format::OfacSdn => "ofac-sdn",
            Format::OfacCons => "ofac-cons",
            Format::UnXml => "un-xml",
            Format::BisDpl => "bis-dpl",
            Format::OtherCountriesJson => "other-countries-json",
            Format::FtmJson => "ftm-json",
        }
    }

    /// Parses a format name as given by [`Format::name`]; a few short synonyms are accepted.
    pub fn from_name(name: &str) -> Option<Format> {
        let n = name.trim().to_ascii_lowercase();
        let f = match n.as_str() {
            "csl-json" | "csl" => Format::CslJson,
            "csl-csv" => Format::CslCsv,
            "csl-compact-json" | "csl-compact" => Format::CslCompactJson,
            "ofac-sdn" | "sdn" => Format::OfacSdn,
            "ofac-cons" | "cons" | "non-sdn" => Format::OfacCons,
            "un-xml" | "un" => Format::UnXml,
            "bis-dpl" | "dpl" => Format::BisDpl,
            "other-countries-json" | "cn" | "jp" | "other-countries" => Format::OtherCountriesJson,
            "ftm-json" | "ftm" | "opensanctions" => Format::FtmJson,
            _ => return None,
        };
        Some(f)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of parsing one list file (or one OFAC file set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedList {
    /// The format the file was read as.
    pub format: Format,
    /// The data date the file states (generation date), if it states one.
    pub data_date: Option<NaiveDate>,
    /// The entries, in file order.
    pub entries: Vec<ListEntry>,
}

/// A list file that could not be parsed. Messages name the file, the record or line, and the
/// field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// One record or field is malformed.
    #[error("{file}: {location}: field `{field}`: {message}")]
    Field {
        /// The file label given to the parser.
        file: String,
        /// `line N` or `record N`.
        location: String,
        /// The field (column, key or element) at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The file as a whole is not in the expected format.
    #[error("{file}: {message}")]
    Format {
        /// The file label given to the parser.
        file: String,
        /// What is wrong.
        message: String,
    },
}

impl ParseError {
    pub(crate) fn field(
        file: &str,
        location: String,
        field: &str,
        message: impl Into<String>,
    ) -> ParseError {
        ParseError::Field {
            file: file.to_string(),
            location,
            field: field.to_string(),
            message: message.into(),
        }
    }
    pub(crate) fn format(file: &str, message: impl Into<String>) -> ParseError {
        ParseError::Format {
            file: file.to_string(),
            message: message.into(),
        }
    }
}
