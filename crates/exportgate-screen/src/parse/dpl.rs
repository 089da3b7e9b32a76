//! BIS Denied Persons List: tab-separated, every field in double quotes, with the header
//! `Name Street_Address City State Country Postal_Code Effective_Date Expiration_Date
//! Standard_Order Last_Update Action FR_Citation`.

use chrono::NaiveDate;

use super::{decode, opt, Lines};
use crate::country::push_country;
use crate::entry::{parse_list_date, Format, ListEntry, ParseError, ParsedList};

const LIST_NAME: &str = "Denied Persons List (DPL) - Bureau of Industry and Security";

pub(crate) fn parse(bytes: &[u8], file: &str) -> Result<ParsedList, ParseError> {
    let text = decode(bytes);
    let lines = Lines::new(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ParseError::format(file, format!("cannot read the header: {e}")))?
        .clone();
    let col = |n: &str| headers.iter().position(|h| h.trim() == n);
    let c_name =
        col("Name").ok_or_else(|| ParseError::format(file, "the header has no `Name` column"))?;
    let c_country = col("Country");
    let c_fr = col("FR_Citation");
    let c_last = col("Last_Update");
    let c_effective = col("Effective_Date");
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
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim();
        let name = get(Some(c_name));
        if name.is_empty() {
            return Err(ParseError::field(
                file,
                format!("line {line}"),
                "Name",
                "empty",
            ));
        }
        let mut e = ListEntry::new("DPL", LIST_NAME, name);
        push_country(&mut e.countries, get(c_country));
        e.citation = opt(get(c_fr));
        e.entity_type = None;
        e.start_date = parse_list_date(get(c_effective));
        e.url = Some(
            "https://www.bis.gov/licensing/end-user-guidance/denied-persons-list-dpl".to_string(),
        );
        if let Ok(d) = NaiveDate::parse_from_str(get(c_last), "%Y-%m-%d") {
            data_date = Some(data_date.map_or(d, |x| x.max(d)));
        }
        entries.push(e);
    }
    Ok(ParsedList {
        format: Format::BisDpl,
        data_date,
        entries,
    })
}
