//! exportgate-screen: pure party screening.
//!
//! Parsers for the official restricted-party list formats, name normalisation and
//! transliteration, fuzzy name scoring with per-feature explanations, an inverted index over
//! the lists, and an allow-list of cleared false positives. No filesystem, no network, no
//! clock, no environment: every input is handed in as bytes or strings, and every date (the
//! `as_of` of a screening) is a parameter.

pub mod country;
pub mod entry;
pub mod parse;

pub use entry::{Format, ListEntry, ParseError, ParsedList};
