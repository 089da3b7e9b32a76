//! The ECCNs of the advanced-computing items a classification can give (3A090, 4A090), with
//! their wire names (`3A090.a`, `not_3A090`, ...).

use serde::Serialize;

/// The ECCN outcome of a classification.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
pub enum Eccn {
    #[serde(rename = "3A090.a")]
    E3A090A,
    #[serde(rename = "3A090.b")]
    E3A090B,
    #[serde(rename = "3A090.c")]
    E3A090C,
    #[serde(rename = "4A090.a")]
    E4A090A,
    #[serde(rename = "4A090.b")]
    E4A090B,
    /// Outside 3A090/4A090 (no lower ECCN is guessed).
    #[serde(rename = "not_3A090")]
    Not3A090,
    /// A fact needed to decide is missing.
    #[serde(rename = "indeterminate")]
    Indeterminate,
}

impl Eccn {
    /// Every ECCN, in the order the data's validation names them.
    pub const ALL: [Eccn; 7] = [
        Eccn::E3A090A,
        Eccn::E3A090B,
        Eccn::E3A090C,
        Eccn::E4A090A,
        Eccn::E4A090B,
        Eccn::Not3A090,
        Eccn::Indeterminate,
    ];

    /// The wire name (`3A090.a`, `not_3A090`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Eccn::E3A090A => "3A090.a",
            Eccn::E3A090B => "3A090.b",
            Eccn::E3A090C => "3A090.c",
            Eccn::E4A090A => "4A090.a",
            Eccn::E4A090B => "4A090.b",
            Eccn::Not3A090 => "not_3A090",
            Eccn::Indeterminate => "indeterminate",
        }
    }

    /// Parse the wire name (`3A090.a`, `not_3A090`, ...).
    pub fn parse(text: &str) -> Option<Eccn> {
        Eccn::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// The ECCN a paragraph belongs to (`3A090` for `3A090.a`); `None` for `not_3A090` and
    /// `indeterminate`, which are no ECCN a licence or rule can name.
    pub const fn heading(self) -> Option<&'static str> {
        match self {
            Eccn::E3A090A | Eccn::E3A090B | Eccn::E3A090C => Some("3A090"),
            Eccn::E4A090A | Eccn::E4A090B => Some("4A090"),
            Eccn::Not3A090 | Eccn::Indeterminate => None,
        }
    }

    /// How tightly controlled: used to check that more performance never lowers control.
    pub fn level(self) -> u8 {
        match self {
            Eccn::Not3A090 => 0,
            Eccn::E3A090B | Eccn::E4A090B => 1,
            Eccn::E3A090A | Eccn::E4A090A | Eccn::E3A090C => 2,
            Eccn::Indeterminate => 3,
        }
    }
}

impl std::fmt::Display for Eccn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_parse_back_and_paragraphs_have_headings() {
        for e in Eccn::ALL {
            assert_eq!(Eccn::parse(e.as_str()), Some(e));
            match e.heading() {
                Some(h) => assert!(e.as_str().starts_with(&format!("{h}."))),
                None => assert!(matches!(e, Eccn::Not3A090 | Eccn::Indeterminate)),
            }
        }
    }
}
