//! The due-diligence policy (data, `data/due-diligence-policy.json`): for which items and
//! destinations a high-severity red flag left unknown holds the order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::regime::{Scope, SetExpr};

/// One rule of the due-diligence policy: where an unknown high-severity red flag holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    pub id: String,
    pub title: String,
    pub citation: String,
    /// The items and destinations it reaches (a regime rule's scope).
    pub when: Scope,
}

/// The due-diligence policy: for which items and destinations a high-severity red flag whose
/// facts are unknown holds the order (`hold_for_review`, "due diligence incomplete");
/// elsewhere the unknown flags are reported only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DueDiligencePolicy {
    #[serde(default)]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Regimes whose named sets the rules may use (`transshipment_hubs`).
    #[serde(default)]
    pub sets_from: Vec<String>,
    #[serde(default)]
    pub sets: BTreeMap<String, SetExpr>,
    pub hold: Vec<PolicyRule>,
}
