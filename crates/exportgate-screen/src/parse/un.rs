//! UN Security Council consolidated list (`sc-sanctions.xsd`): INDIVIDUALS and ENTITIES with
//! their aliases, original-script names and countries.

use chrono::NaiveDate;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::opt;
use crate::country::push_country;
use crate::entry::{Format, ListEntry, ParseError, ParsedList};

const LIST_NAME: &str = "UN Security Council Consolidated List";

pub(crate) fn parse(bytes: &[u8], file: &str) -> Result<ParsedList, ParseError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut data_date = None;
    let mut entries = Vec::new();
    let mut cur: Option<Record> = None;
    let mut buf = Vec::new();
    let line_at = |pos: u64| -> u64 {
        bytes[..(pos as usize).min(bytes.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1
    };
    loop {
        let pos = reader.buffer_position();
        let ev = reader.read_event_into(&mut buf).map_err(|e| {
            ParseError::field(
                file,
                format!("line {}", line_at(pos)),
                path.last().map(String::as_str).unwrap_or("document"),
                format!("malformed XML: {e}"),
            )
        })?;
        match ev {
            Event::Start(e) => {
                let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if tag == "CONSOLIDATED_LIST" {
                    if let Ok(Some(a)) = e.try_get_attribute("dateGenerated") {
                        let v = a
                            .unescape_value()
                            .map(|v| v.into_owned())
                            .unwrap_or_default();
                        data_date = v
                            .get(..10)
                            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                    }
                }
                if tag == "INDIVIDUAL" || tag == "ENTITY" {
                    cur = Some(Record {
                        individual: tag == "INDIVIDUAL",
                        line: line_at(pos),
                        ..Record::default()
                    });
                }
                path.push(tag);
            }
            Event::End(_) => {
                let tag = path.pop().unwrap_or_default();
                if tag == "INDIVIDUAL" || tag == "ENTITY" {
                    if let Some(r) = cur.take() {
                        entries.push(r.into_entry(file, entries.len() + 1)?);
                    }
                }
            }
            Event::Text(t) => {
                let Some(r) = cur.as_mut() else { continue };
                let text = t
                    .unescape()
                    .map_err(|e| {
                        ParseError::field(
                            file,
                            format!("line {}", line_at(pos)),
                            path.last().map(String::as_str).unwrap_or(""),
                            format!("bad text: {e}"),
                        )
                    })?
                    .into_owned();
                let tag = path.last().map(String::as_str).unwrap_or("");
                let parent = path
                    .len()
                    .checked_sub(2)
                    .and_then(|i| path.get(i))
                    .map(String::as_str)
                    .unwrap_or("");
                r.take(parent, tag, text);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if let Some(r) = cur {
        return Err(ParseError::field(
            file,
            format!("line {}", r.line),
            "INDIVIDUAL",
            "record not closed before end of file",
        ));
    }
    Ok(ParsedList {
        format: Format::UnXml,
        data_date,
        entries,
    })
}

#[derive(Default)]
struct Record {
    individual: bool,
    line: u64,
    names: [String; 4],
    aliases: Vec<String>,
    countries: Vec<String>,
    reference: String,
    dataid: String,
    list_type: String,
}

impl Record {
    fn take(&mut self, parent: &str, tag: &str, text: String) {
        match (parent, tag) {
            (_, "FIRST_NAME") => self.names[0] = text,
            (_, "SECOND_NAME") => self.names[1] = text,
            (_, "THIRD_NAME") => self.names[2] = text,
            (_, "FOURTH_NAME") => self.names[3] = text,
            (_, "ALIAS_NAME") | (_, "NAME_ORIGINAL_SCRIPT") => {
                let t = text.trim().to_string();
                if !t.is_empty() && !self.aliases.contains(&t) {
                    self.aliases.push(t);
                }
            }
            ("NATIONALITY", "VALUE")
            | ("INDIVIDUAL_ADDRESS", "COUNTRY")
            | ("ENTITY_ADDRESS", "COUNTRY") => push_country(&mut self.countries, &text),
            (_, "REFERENCE_NUMBER") => self.reference = text,
            (_, "DATAID") => self.dataid = text,
            (_, "UN_LIST_TYPE") => self.list_type = text,
            _ => {}
        }
    }

    fn into_entry(self, file: &str, record: usize) -> Result<ListEntry, ParseError> {
        let name = self
            .names
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            return Err(ParseError::field(
                file,
                format!(
                    "record {record} (line {}, DATAID {})",
                    self.line, self.dataid
                ),
                "FIRST_NAME",
                "missing or empty name",
            ));
        }
        let mut e = ListEntry::new("UN", LIST_NAME, &name);
        e.aliases = self.aliases;
        e.countries = self.countries;
        e.entity_type = Some(
            if self.individual {
                "Individual"
            } else {
                "Entity"
            }
            .to_string(),
        );
        e.entity_number = opt(&self.reference).or_else(|| opt(&self.dataid));
        e.citation = opt(&self.reference).map(|r| format!("UN Security Council {r}"));
        e.programs = opt(&self.list_type).into_iter().collect();
        e.url = Some(
            "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list".to_string(),
        );
        Ok(e)
    }
}
