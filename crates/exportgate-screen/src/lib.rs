//! exportgate-screen: pure party screening.
//!
//! Parsers for the official restricted-party list formats, name normalisation and
//! transliteration, fuzzy name scoring with per-feature explanations, an inverted index over
//! the lists, and an allow-list of cleared false positives. No filesystem, no network, no
//! clock, no environment: every input is handed in as bytes or strings, and every date (the
//! `as_of` of a screening) is a parameter.

pub mod allow;
pub mod country;
pub mod entry;
mod hanja;
mod legal_forms;
pub mod normalize;
pub mod parse;
pub mod score;
pub mod screener;
mod translit;
mod wade_giles;

pub use allow::{AllowEntry, AllowList, Clearance};
pub use entry::{Format, ListEntry, ParseError, ParsedList};
pub use normalize::{check_query, Normalizer, QueryError, MAX_NAME_CHARS};
pub use score::{Features, ScoreParams, TokenMatch};
pub use screener::{
    name_score, Hit, ListVersion, Party, ScreenConfig, ScreenResult, Screener, DEFAULT_CERTAIN,
    DEFAULT_THRESHOLD,
};
