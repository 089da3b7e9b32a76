//! Parsers for the official list formats. Every parser takes the file's bytes and a label
//! for messages (usually the file name) and returns a [`ParsedList`] or a [`ParseError`]
//! naming the file, the line or record, and the field. No parser touches the filesystem.

mod csl;
mod dpl;
mod ftm;
mod ofac;
mod other;
mod un;

pub use ofac::{parse_ofac_set, OfacFiles};

use crate::entry::{dedupe_ids, Format, ParseError, ParsedList};

/// Guesses the format of a list file from its first bytes. OFAC files have no header, so an
/// OFAC `cons_*` file cannot be told from an SDN file by content: pass a file name hint
/// (`cons_prim.csv`) to tell them apart.
pub fn detect(bytes: &[u8], file_name_hint: &str) -> Option<Format> {
    let head = &bytes[..bytes.len().min(4096)];
    let head = String::from_utf8_lossy(head);
    let text = head.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') {
        if is_ftm_lines(bytes) {
            return Some(Format::FtmJson);
        }
        if text.contains("\"results\"") {
            return Some(Format::CslJson);
        }
        if contains(bytes, b"\"tables\"") && contains(bytes, b"\"entries\"") {
            return Some(Format::CslCompactJson);
        }
        return Some(Format::CslJson);
    }
    if text.starts_with('[') {
        return Some(Format::OtherCountriesJson);
    }
    if text.starts_with('<') {
        return Some(Format::UnXml);
    }
    let first_line = text.lines().next().unwrap_or("");
    if first_line.starts_with("\"Name\"\t") || first_line.starts_with("Name\t") {
        return Some(Format::BisDpl);
    }
    if first_line.starts_with("_id,") || first_line.starts_with("source,") {
        return Some(Format::CslCsv);
    }
    let first_field = first_line.split(',').next().unwrap_or("");
    if !first_field.is_empty() && first_field.chars().all(|c| c.is_ascii_digit()) {
        let hint = file_name_hint.to_ascii_lowercase();
        let base = hint.rsplit(['/', '\\']).next().unwrap_or(&hint);
        return Some(if base.starts_with("cons") {
            Format::OfacCons
        } else {
            Format::OfacSdn
        });
    }
    None
}

/// A FollowTheMoney entity file: the first line is a whole JSON object with `id`, `schema`
/// and `properties` (one entity a line).
fn is_ftm_lines(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    match serde_json::from_slice::<serde_json::Value>(&bytes[..end]) {
        Ok(serde_json::Value::Object(o)) => {
            o.contains_key("schema") && o.contains_key("properties") && o.contains_key("id")
        }
        _ => false,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Parses one file in the given format. For the OFAC formats this parses the primary file
/// alone (no aliases or addresses); use [`parse_ofac_set`] to join `add` and `alt` files.
pub fn parse(bytes: &[u8], file: &str, format: Format) -> Result<ParsedList, ParseError> {
    let mut parsed = match format {
        Format::CslJson => csl::parse_json(bytes, file)?,
        Format::CslCsv => csl::parse_csv(bytes, file)?,
        Format::CslCompactJson => csl::parse_compact(bytes, file)?,
        Format::OfacSdn | Format::OfacCons => parse_ofac_set(
            &OfacFiles {
                primary: (file, bytes),
                add: None,
                alt: None,
            },
            format,
        )?,
        Format::UnXml => un::parse(bytes, file)?,
        Format::BisDpl => dpl::parse(bytes, file)?,
        Format::OtherCountriesJson => other::parse(bytes, file)?,
        Format::FtmJson => ftm::parse(bytes, file)?,
    };
    finish(&mut parsed, file)?;
    Ok(parsed)
}

/// Shared post-processing: ids, and a refusal of lists without entries.
pub(crate) fn finish(parsed: &mut ParsedList, file: &str) -> Result<(), ParseError> {
    if parsed.entries.is_empty() {
        return Err(ParseError::format(file, "the file holds no list entries"));
    }
    for e in parsed.entries.iter_mut() {
        if e.id.is_empty() {
            e.assign_id();
        }
    }
    dedupe_ids(&mut parsed.entries);
    Ok(())
}

/// Decodes bytes as UTF-8, falling back to Latin-1 (some OFAC files are Windows-1252), and
/// drops a leading byte-order mark and a trailing DOS end-of-file byte (0x1A).
pub(crate) fn decode(bytes: &[u8]) -> String {
    let mut b = bytes;
    if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        b = &b[3..];
    }
    while let Some((&last, rest)) = b.split_last() {
        if last == 0x1A {
            b = rest;
        } else {
            break;
        }
    }
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| char::from(c)).collect(),
    }
}

/// Splits a multi-valued field joined with `;` and trims the parts.
pub(crate) fn split_multi(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Empty or whitespace-only text becomes `None`.
pub(crate) fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

/// The short code of a trade.gov CSL source name: "Entity List (EL) - Bureau of Industry and
/// Security" gives `EL`; "Non-SDN Menu-Based Sanctions List (NS-MBS List) - ..." gives
/// `NS-MBS`. A source without parentheses is returned upper-cased.
pub fn list_code(source: &str) -> String {
    let head = source.split(" - ").next().unwrap_or(source);
    if let (Some(open), Some(close)) = (head.rfind('('), head.rfind(')')) {
        if open < close {
            let code = head[open + 1..close].trim();
            let code = code.strip_suffix(" List").unwrap_or(code);
            return code.to_string();
        }
    }
    source.trim().to_ascii_uppercase()
}

/// Line numbers from byte offsets. The csv crate reports the line a record starts on before
/// it has consumed the `\n` of a CRLF, so offsets are moved past line breaks first.
pub(crate) struct Lines<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Lines<'a> {
        let text = text.as_bytes();
        let newlines = text
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Lines { text, newlines }
    }

    /// 1-based line of the record starting at byte `offset`.
    pub(crate) fn line(&self, offset: u64) -> u64 {
        let mut b = offset as usize;
        while b < self.text.len() && (self.text[b] == b'\n' || self.text[b] == b'\r') {
            b += 1;
        }
        self.newlines.partition_point(|&n| n < b) as u64 + 1
    }

    /// `line N` for a csv position, or `record N` when the reader gave none.
    pub(crate) fn at(&self, pos: Option<&csv::Position>, record: usize) -> String {
        match pos {
            Some(p) => format!("line {}", self.line(p.byte())),
            None => format!("record {record}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_codes_from_source_names() {
        assert_eq!(
            list_code("Entity List (EL) - Bureau of Industry and Security"),
            "EL"
        );
        assert_eq!(
            list_code("Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department"),
            "NS-MBS"
        );
        assert_eq!(
            list_code("Military End User (MEU) List - Bureau of Industry and Security"),
            "MEU"
        );
        assert_eq!(
            list_code("Specially Designated Nationals (SDN) - Treasury Department"),
            "SDN"
        );
    }

    #[test]
    fn decode_strips_eof_byte() {
        assert_eq!(decode(b"a,b\r\n\x1a"), "a,b\r\n");
        assert_eq!(decode(&[0x41, 0xE9]), "A\u{e9}");
    }
}
