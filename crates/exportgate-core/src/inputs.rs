//! What a decision rested on, named exactly (issue 19 item 1): the engine's version, a digest
//! of the rule data (regimes, countries, catalog, screening actions, end-use tags, including
//! any scenario or policy changes applied to them) and each screening list's version and
//! digest. [`DataDigests`] is computed once when a [`Ruleset`](crate::Ruleset) is built; the
//! pipeline adds the lists and puts the whole on every decision and audit record, so a decision
//! can be re-created and compared later (`exportgate replay`).
//!
//! Every digest is a hex SHA-256. A component's digest is over its files' exact texts, each
//! length-prefixed and, for regimes, in regime-id order, so the same data always gives the
//! same digest whatever order the files were given in; `rules` is the digest of the six
//! component digests.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The engine's version: the version of this crate, compiled in.
pub const ENGINE_VERSION: &str = concat!("exportgate ", env!("CARGO_PKG_VERSION"));

/// Hex SHA-256 over length-prefixed parts (no two sequences of parts share one).
pub fn digest_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(format!("{}:", p.len()).as_bytes());
        h.update(p);
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The digests of the rule data one ruleset was built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DataDigests {
    /// Every regime document, by regime id.
    pub regimes: String,
    /// Countries and Country Group membership (`countries.json`).
    pub countries: String,
    /// The chip catalog (`chips.json`).
    pub catalog: String,
    /// What a hit on each list does (`screening.json`).
    pub screening: String,
    /// The declared end-use tags (`end-use-tags.json`).
    pub end_use_tags: String,
    /// The due-diligence policy (`due-diligence-policy.json`, or a `--policy` file). Absent
    /// from records made before the policy existed.
    #[serde(default)]
    pub due_diligence: String,
}

impl DataDigests {
    /// The one digest over all the rule data.
    pub fn rules(&self) -> String {
        digest_parts([
            self.regimes.as_bytes(),
            self.countries.as_bytes(),
            self.catalog.as_bytes(),
            self.screening.as_bytes(),
            self.end_use_tags.as_bytes(),
            self.due_diligence.as_bytes(),
        ])
    }

    /// The components whose digests differ between `self` and `other`, by field name.
    pub fn changed(&self, other: &DataDigests) -> Vec<&'static str> {
        [
            ("regimes", &self.regimes, &other.regimes),
            ("countries", &self.countries, &other.countries),
            ("catalog", &self.catalog, &other.catalog),
            ("screening", &self.screening, &other.screening),
            ("end_use_tags", &self.end_use_tags, &other.end_use_tags),
            ("due_diligence", &self.due_diligence, &other.due_diligence),
        ]
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(n, _, _)| n)
        .collect()
    }
}

/// The digest of a set of regime documents given as `(regime id, exact text)`.
pub fn regimes_digest(docs: &[(&str, &str)]) -> String {
    let mut docs = docs.to_vec();
    docs.sort();
    digest_parts(
        docs.iter()
            .flat_map(|(id, text)| [id.as_bytes(), text.as_bytes()]),
    )
}

/// One screening list a decision was screened against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ListInput {
    /// Source name (`csl`, `un`, `ofac-sdn`, or the file's stem).
    pub source: String,
    /// Storage id of the version in the list database (0 for a list read from a file).
    pub version: i64,
    /// The data date the file states, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_date: Option<chrono::NaiveDate>,
    pub entries: usize,
    /// Hex SHA-256 of the list's bytes as imported.
    pub sha256: String,
}

/// Everything a decision rested on besides the order itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DecisionInputs {
    /// [`ENGINE_VERSION`] of the engine that decided.
    pub engine: String,
    /// [`DataDigests::rules`]: one digest over all the rule data.
    pub rules: String,
    /// The digest of each component of the rule data.
    pub data: DataDigests,
    /// The lists screened against (empty when the parties were not screened here).
    #[serde(default)]
    pub lists: Vec<ListInput>,
}

impl DecisionInputs {
    /// The inputs of decisions by this engine on `data`, screened against `lists`.
    pub fn new(data: &DataDigests, lists: Vec<ListInput>) -> Arc<DecisionInputs> {
        Arc::new(DecisionInputs {
            engine: ENGINE_VERSION.to_string(),
            rules: data.rules(),
            data: data.clone(),
            lists,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regime_order_does_not_change_the_digest_but_any_byte_does() {
        let a = regimes_digest(&[("a", "{\"x\":1}"), ("b", "{}")]);
        assert_eq!(a, regimes_digest(&[("b", "{}"), ("a", "{\"x\":1}")]));
        assert_ne!(a, regimes_digest(&[("a", "{\"x\":2}"), ("b", "{}")]));
        // Length prefixes: moving a byte between parts changes the digest.
        assert_ne!(
            digest_parts([b"ab".as_slice(), b"c"]),
            digest_parts([b"a".as_slice(), b"bc"])
        );
    }
}
