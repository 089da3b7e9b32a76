//! Dates on the wire: `YYYY-MM-DD`, read and written exactly as chrono does, with a fast path
//! for that one form. Every order line carries a date and every party record a dozen, and
//! decision lines carry one more for each record drawn on: through chrono's general parser and
//! `core::fmt` they were a visible share of a run. Anything else goes to chrono, so results
//! and error messages are chrono's own.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// Parses a date as `str::parse::<NaiveDate>` does (the same result, the same error).
pub fn parse(text: &str) -> Result<NaiveDate, chrono::ParseError> {
    match text.as_bytes() {
        &[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2]
            if [y1, y2, y3, y4, m1, m2, d1, d2]
                .iter()
                .all(u8::is_ascii_digit) =>
        {
            let n = |ds: &[u8]| ds.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            match NaiveDate::from_ymd_opt(n(&[y1, y2, y3, y4]) as i32, n(&[m1, m2]), n(&[d1, d2])) {
                Some(d) => Ok(d),
                // Out of range: chrono's own error for it.
                None => text.parse(),
            }
        }
        _ => text.parse(),
    }
}

/// Deserialises a date as chrono's own `Deserialize` does; use with
/// `#[serde(deserialize_with = "crate::iso_date::deserialize")]`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    struct DateVisitor;
    impl Visitor<'_> for DateVisitor {
        type Value = NaiveDate;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            // chrono's wording, so errors read the same.
            f.write_str("a formatted date string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<NaiveDate, E> {
            parse(v).map_err(E::custom)
        }
    }
    d.deserialize_str(DateVisitor)
}

/// Serialises `d` exactly as chrono's own `Serialize` does; use with
/// `#[serde(serialize_with = "exportgate_core::iso_date::serialize")]`.
pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        // Years chrono writes with a sign and more digits: its own format.
        return d.serialize(s);
    }
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let y = y as u32;
    let text = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ];
    // Only ASCII digits and dashes were written.
    s.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Read(#[serde(deserialize_with = "deserialize")] NaiveDate);

    #[test]
    fn reads_what_chrono_reads() {
        let mut texts: Vec<String> = [
            "2026-02-28",
            "2026-02-29",
            "2024-02-29",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-01-32",
            "0000-01-01",
            "9999-12-31",
            "2026-1-01",
            "2026-01-1",
            " 2026-01-01",
            "2026-01-01 ",
            "+2026-01-01",
            "-0001-01-01",
            "+12345-01-01",
            "2026/01/01",
            "2026-01-01T00:00",
            "20260101",
            "",
            "２０２６-01-01",
            "2026-0a-01",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut d = NaiveDate::from_ymd_opt(1999, 1, 1).unwrap();
        while d.year() < 2031 {
            texts.push(d.to_string());
            d = d.succ_opt().unwrap();
        }
        for t in &texts {
            assert_eq!(
                parse(t).map_err(|e| e.to_string()),
                t.parse::<NaiveDate>().map_err(|e| e.to_string()),
                "{t:?}"
            );
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(
                serde_json::from_str::<Read>(&json)
                    .map(|r| r.0)
                    .map_err(|e| e.to_string()),
                serde_json::from_str::<NaiveDate>(&json).map_err(|e| e.to_string()),
                "{t:?}"
            );
        }
        for json in ["5", "null", "true", "[]", "{}"] {
            assert_eq!(
                serde_json::from_str::<Read>(json).map_err(|e| e.to_string()),
                serde_json::from_str::<NaiveDate>(json)
                    .map(Read)
                    .map_err(|e| e.to_string()),
                "{json}"
            );
        }
    }

    #[derive(Serialize)]
    struct Fast(#[serde(serialize_with = "serialize")] NaiveDate);

    #[test]
    fn writes_what_chrono_writes() {
        let same = |d: NaiveDate| {
            assert_eq!(
                serde_json::to_string(&Fast(d)).unwrap(),
                serde_json::to_string(&d).unwrap(),
                "{d:?}"
            )
        };
        // Every day of two centuries, and the years around where chrono's format changes.
        let mut d = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
        while d.year() < 2150 {
            same(d);
            d = d.succ_opt().unwrap();
        }
        for y in [-10_000, -1, 0, 1, 999, 1000, 9999, 10_000, 12_345] {
            for (m, day) in [(1, 1), (2, 28), (9, 9), (10, 10), (12, 31)] {
                same(NaiveDate::from_ymd_opt(y, m, day).unwrap());
            }
        }
        same(NaiveDate::MIN);
        same(NaiveDate::MAX);
    }
}
