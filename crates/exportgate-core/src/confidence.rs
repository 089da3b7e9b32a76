//! How sure a fact is: the tags of the reference notes, carried into data and decisions.

use serde::{Deserialize, Serialize};

/// `P` primary text, `S` secondary source, `D` derived, `U` unconfirmed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    Default,
    schemars::JsonSchema,
)]
pub enum Confidence {
    #[default]
    P,
    S,
    D,
    U,
}

impl Confidence {
    /// The tag (`P`, `S`, `D`, `U`), as data and listings write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Confidence::P => "P",
            Confidence::S => "S",
            Confidence::D => "D",
            Confidence::U => "U",
        }
    }

    /// A fact resting on an unconfirmed source marks every decision it touches.
    pub fn is_unconfirmed(self) -> bool {
        self == Confidence::U
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_the_data_names() {
        for c in [Confidence::P, Confidence::S, Confidence::D, Confidence::U] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }
}
