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
    /// A fact resting on an unconfirmed source marks every decision it touches.
    pub fn is_unconfirmed(self) -> bool {
        self == Confidence::U
    }
}
