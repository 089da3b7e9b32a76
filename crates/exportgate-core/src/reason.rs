//! Reasons: why a classification or decision came out as it did, with the rule, its
//! citation and the numbers compared.

use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;

/// One reason in a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reason {
    /// The rule id (`acs-2023.country-scope`) or classification paragraph (`3A090.a.1`).
    pub rule: String,
    pub citation: String,
    /// A sentence a person can read, with the numbers compared.
    pub summary: String,
    #[serde(default, skip_serializing_if = "is_p")]
    pub confidence: Confidence,
}

fn is_p(c: &Confidence) -> bool {
    *c == Confidence::P
}

impl Reason {
    pub fn new(
        rule: impl Into<String>,
        citation: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        Reason {
            rule: rule.into(),
            citation: citation.into(),
            summary: summary.into(),
            confidence: Confidence::P,
        }
    }

    pub fn with_confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }
}

/// Format a number the way the reasons print it: integers without decimals, others with up
/// to three.
pub fn num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
