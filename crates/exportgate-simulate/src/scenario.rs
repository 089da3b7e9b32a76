//! Scenarios: a name, an evaluation date (or each order's own date), regimes forced into force,
//! and changes to the regime data, rebuilt into a fresh [`Ruleset`] through the normal
//! validation.
//!
//! A scenario file is JSON:
//!
//! ```json
//! {
//!   "name": "lpp-halved",
//!   "description": "AI Diffusion enforced, with the LPP limit and the Tier 2 allocation halved",
//!   "as_of": null,
//!   "force": ["ai-diffusion-2025"],
//!   "patches": {
//!     "ai-diffusion-2025": {
//!       "sets": {"tier1": {"countries": ["US", "GB"]}},
//!       "rules": {"ai-diffusion-2025.worldwide": {"effect": {
//!         "allocation_tpp": 395000000,
//!         "exceptions": {"LPP": {"tpp_per_consignee_year": 13450000}}}}}
//!     }
//!   },
//!   "regimes": [],
//!   "tiers_from": "ai-diffusion-2025"
//! }
//! ```
//!
//! `patches` are JSON merge patches (RFC 7386) applied to regime documents by regime id, with one
//! extension so that a single number deep in a rule can be changed: where the patch gives an
//! *object* for an array of rules, exceptions or classification parameters, its keys address the
//! elements by rule `id`, `exception` symbol or classification `scheme` (an array replaces the
//! whole list, as in RFC 7386). A key naming an element or set that does not exist is an error,
//! not a silent addition. `regimes` are whole new regime documents (a rule that does not exist
//! yet). Every error names the field at fault and is raised by [`Scenario::build`] before any
//! order is decided.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use exportgate_core::regime::Regime;
use exportgate_core::rules::{CountrySet, RegimeRules};
use exportgate_core::ruleset::{embedded, Ruleset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The regime whose `tier*` sets the report counts by, unless a scenario names another.
pub const DEFAULT_TIERS_FROM: &str = "ai-diffusion-2025";

/// The built-in scenarios, by name.
pub const BUILTINS: [&str; 2] = ["current", "ai-diffusion-2025"];

/// A scenario that cannot be used, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scenario `{scenario}`: {field}: {message}")]
pub struct ScenarioError {
    /// The scenario's name, or the file it came from when it has no name yet.
    pub scenario: String,
    /// Where in the scenario the problem is (`force[0]`, `patches["ai-diffusion-2025"]...`).
    pub field: String,
    pub message: String,
}

/// A what-if scenario, as written in a scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Evaluate every order as of this date; absent or null: each order's own date.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
    /// Regime ids evaluated as enforced from their binding date (enforcement ends and
    /// suspensions ignored), like `check --regime`.
    #[serde(default)]
    pub force: Vec<String>,
    /// JSON merge patches, by regime id.
    #[serde(default)]
    pub patches: BTreeMap<String, Value>,
    /// Whole new regime documents.
    #[serde(default)]
    pub regimes: Vec<Value>,
    /// The regime whose `tier*` sets define the tiers the report counts by
    /// (default: `ai-diffusion-2025`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers_from: Option<String>,
}

/// The data a scenario changes: the texts of the data files (by default the embedded ones).
#[derive(Debug, Clone)]
pub struct BaseData<'a> {
    pub catalog: &'a str,
    pub countries: &'a str,
    pub screening: &'a str,
    /// The declared end-use tags (`end-use-tags.json`).
    pub end_use_tags: &'a str,
    /// `(file name, contents)` of every regime file.
    pub regimes: Vec<(&'a str, &'a str)>,
}

impl BaseData<'static> {
    /// The data compiled into the binary.
    pub fn embedded() -> BaseData<'static> {
        BaseData {
            catalog: embedded::CATALOG,
            countries: embedded::COUNTRIES,
            screening: embedded::SCREENING,
            end_use_tags: embedded::END_USE_TAGS,
            regimes: embedded::REGIMES.to_vec(),
        }
    }
}

/// One tier the report counts by: a named set of the tiers regime.
#[derive(Debug, Clone)]
pub struct Tier {
    pub name: String,
    pub label: String,
    set: CountrySet,
}

/// A scenario checked and compiled: its own ruleset, ready to decide orders.
#[derive(Debug, Clone)]
pub struct BuiltScenario {
    pub scenario: Scenario,
    pub ruleset: Ruleset,
    /// Regime ids changed by patches, and added.
    pub patched: Vec<String>,
    pub added: Vec<String>,
    /// The regime the tiers come from, and its `tier*` sets in name order (empty: no tiers).
    pub tiers_from: Option<String>,
    pub tiers: Vec<Tier>,
    /// Country allocations (`allocation_tpp`) by rule id.
    pub allocations: BTreeMap<String, f64>,
}

impl Scenario {
    /// A built-in scenario: `current` (each order's own date, regimes as in force) or
    /// `ai-diffusion-2025` (the same with that regime enforced from its compliance date).
    pub fn builtin(name: &str) -> Option<Scenario> {
        let base = Scenario {
            name: name.to_string(),
            description: None,
            as_of: None,
            force: Vec::new(),
            patches: BTreeMap::new(),
            regimes: Vec::new(),
            tiers_from: None,
        };
        match name {
            "current" => Some(Scenario {
                description: Some("the regimes as in force on each order's date".into()),
                ..base
            }),
            "ai-diffusion-2025" => Some(Scenario {
                description: Some(
                    "the AI Diffusion rule enforced from its compliance date (15 May 2025), never withdrawn"
                        .into(),
                ),
                force: vec!["ai-diffusion-2025".into()],
                ..base
            }),
            _ => None,
        }
    }

    /// Parse a scenario file. `label` names it in errors (its path) until it has a name.
    pub fn from_json(label: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let fail = |field: String, message: String| ScenarioError {
            scenario: label.to_string(),
            field,
            message,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let s: Scenario = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." || path.is_empty() {
                "(file)".to_string()
            } else {
                path
            };
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                fail("(file)".into(), format!("malformed JSON: {inner}"))
            } else {
                fail(field, inner.to_string())
            }
        })?;
        de.end()
            .map_err(|e| fail("(file)".into(), format!("malformed JSON: {e}")))?;
        Ok(s)
    }

    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            scenario: self.name.clone(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// Check the scenario against the data and build its ruleset: patches applied, new regimes
    /// added, everything validated as the embedded data is, plus no negative number anywhere
    /// in a changed or new regime.
    pub fn build(&self, base: &BaseData) -> Result<BuiltScenario, ScenarioError> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(self.err(
                "name",
                format!(
                    "`{}` is not a usable name: use letters, digits, `-`, `_` or `.`",
                    self.name
                ),
            ));
        }
        // The base documents, by regime id.
        let mut docs: Vec<(String, String, Value, bool)> = Vec::new(); // (label, id, doc, changed)
        for (file, text) in &base.regimes {
            let v: Value = serde_json::from_str(text)
                .map_err(|e| self.err(format!("base data {file}"), e.to_string()))?;
            let id = v
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            docs.push((file.to_string(), id, v, false));
        }
        let known = |docs: &[(String, String, Value, bool)]| {
            docs.iter()
                .map(|d| d.1.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut patched = Vec::new();
        for (id, patch) in &self.patches {
            let at = format!("patches[{}]", quote(id));
            let Some(doc) = docs.iter_mut().find(|d| &d.1 == id) else {
                return Err(self.err(
                    at,
                    format!("unknown regime `{id}` (known: {})", known(&docs)),
                ));
            };
            patch_regime(&mut doc.2, patch, &at).map_err(|(f, m)| self.err(f, m))?;
            doc.0 = at;
            doc.3 = true;
            patched.push(id.clone());
        }
        let mut added = Vec::new();
        for (i, doc) in self.regimes.iter().enumerate() {
            let at = format!("regimes[{i}]");
            let Some(id) = doc.get("id").and_then(Value::as_str) else {
                return Err(self.err(
                    format!("{at}.id"),
                    "a new regime document needs a string `id`",
                ));
            };
            if docs.iter().any(|d| d.1 == id) {
                return Err(self.err(
                    format!("{at}.id"),
                    format!("regime `{id}` already exists: change it with `patches`"),
                ));
            }
            docs.push((at, id.to_string(), doc.clone(), true));
            added.push(id.to_string());
        }
        // Typed checks of what changed: unknown fields, then negative numbers.
        for (label, _, doc, changed) in &docs {
            if !changed {
                continue;
            }
            let text = doc.to_string();
            let mut de = serde_json::Deserializer::from_str(&text);
            let _: Regime = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    label.clone()
                } else {
                    format!("{label}.{path}")
                };
                self.err(field, e.into_inner().to_string())
            })?;
            no_negatives(doc, label).map_err(|(f, m)| self.err(f, m))?;
        }
        let texts: Vec<(String, String)> = docs
            .iter()
            .zip(&base.regimes)
            .map(|((label, _, doc, changed), (_, text))| {
                if *changed {
                    (label.clone(), doc.to_string())
                } else {
                    (label.clone(), text.to_string())
                }
            })
            .chain(
                docs.iter()
                    .skip(base.regimes.len())
                    .map(|(label, _, doc, _)| (label.clone(), doc.to_string())),
            )
            .collect();
        let refs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let mut ruleset = Ruleset::from_json(base.catalog, base.countries, &refs)
            .map_err(|e| self.err(e.file, e.problem))?
            .with_policies(base.screening, base.end_use_tags)
            .map_err(|e| self.err(format!("base data {}", e.file), e.problem))?;
        // The due-diligence policy the pipeline decides under (issue 16), so a scenario decides
        // an order as `check` does.
        ruleset
            .set_due_diligence_policy("due-diligence-policy.json", embedded::DUE_DILIGENCE_POLICY)
            .map_err(|e| self.err(e.file, e.problem))?;
        let mut seen = BTreeSet::new();
        for (i, f) in self.force.iter().enumerate() {
            if ruleset.regime(f).is_none() {
                return Err(self.err(
                    format!("force[{i}]"),
                    format!("unknown regime `{f}` (known: {})", known(&docs)),
                ));
            }
            if !seen.insert(f) {
                return Err(self.err(format!("force[{i}]"), format!("`{f}` is named twice")));
            }
        }
        let (tiers_from, tiers) = match &self.tiers_from {
            Some(id) => {
                let Some(r) = ruleset.regime_rules(id) else {
                    return Err(self.err(
                        "tiers_from",
                        format!("unknown regime `{id}` (known: {})", known(&docs)),
                    ));
                };
                let tiers = tiers_of(r);
                if tiers.is_empty() {
                    return Err(self.err(
                        "tiers_from",
                        format!("regime `{id}` has no sets named `tier...`"),
                    ));
                }
                (Some(id.clone()), tiers)
            }
            None => match ruleset.regime_rules(DEFAULT_TIERS_FROM) {
                Some(r) => (Some(DEFAULT_TIERS_FROM.to_string()), tiers_of(r)),
                None => (None, Vec::new()),
            },
        };
        let mut allocations = BTreeMap::new();
        for r in ruleset.regimes() {
            for rule in &r.rules {
                if let exportgate_core::regime::Effect::LicenseRequirement {
                    allocation_tpp: Some(a),
                    ..
                } = &rule.effect
                {
                    allocations.insert(rule.id.clone(), *a);
                }
            }
        }
        Ok(BuiltScenario {
            scenario: self.clone(),
            ruleset,
            patched,
            added,
            tiers_from,
            tiers,
            allocations,
        })
    }
}

fn tiers_of(r: &RegimeRules) -> Vec<Tier> {
    r.sets()
        .iter()
        .filter(|(n, _)| n.starts_with("tier"))
        .map(|(n, s)| Tier {
            name: n.clone(),
            label: s.label().unwrap_or(n).to_string(),
            set: s.clone(),
        })
        .collect()
}

impl BuiltScenario {
    /// The tier a destination falls in on a date: the first `tier*` set (by name) holding it;
    /// `other` when none does, `n/a` when the scenario has no tiers.
    pub fn tier_of(&self, destination: &str, date: NaiveDate) -> &str {
        if self.tiers.is_empty() {
            return "n/a";
        }
        let Some(code) = self.ruleset.countries.code(destination) else {
            return "other";
        };
        self.tiers
            .iter()
            .find(|t| self.ruleset.contains(&t.set, &code, date))
            .map(|t| t.name.as_str())
            .unwrap_or("other")
    }
}

fn quote(s: &str) -> String {
    format!("\"{s}\"")
}

type PatchError = (String, String);

/// RFC 7386 merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, PatchError> {
    v.as_object()
        .ok_or_else(|| (at.to_string(), format!("expected an object, got {v}")))
}

/// Apply a patch to a regime document, with keyed patches for rules, sets and classification.
fn patch_regime(doc: &mut Value, patch: &Value, at: &str) -> Result<(), PatchError> {
    let p = object(patch, at)?;
    let Value::Object(d) = doc else {
        return Err((at.into(), "the regime document is not an object".into()));
    };
    for (k, v) in p {
        let here = format!("{at}.{k}");
        match k.as_str() {
            "id" => {
                if Some(v) != d.get("id") {
                    return Err((here, "a patch cannot change a regime's id".into()));
                }
            }
            "rules" if v.is_object() => patch_keyed(d, "rules", "id", v, &here, patch_rule)?,
            "classification" if v.is_object() => {
                patch_keyed(d, "classification", "scheme", v, &here, |e, p, _| {
                    merge(e, p);
                    Ok(())
                })?
            }
            "sets" => {
                let sets = object(v, &here)?;
                let existing = d.get("sets").and_then(Value::as_object);
                for (name, sp) in sets {
                    if !existing.is_some_and(|e| e.contains_key(name)) {
                        let names = existing
                            .map(|e| e.keys().cloned().collect::<Vec<_>>().join(", "))
                            .unwrap_or_default();
                        return Err((
                            format!("{here}[{}]", quote(name)),
                            format!("unknown set `{name}` (the regime's sets: {names}); add new sets in a whole regime document under `regimes`"),
                        ));
                    }
                    if !sp.is_null() {
                        object(sp, &format!("{here}[{}]", quote(name)))?;
                    }
                }
                merge(d.entry("sets").or_insert(Value::Null), v);
            }
            _ => {
                if v.is_null() {
                    d.remove(k);
                } else {
                    merge(d.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
    }
    Ok(())
}

/// Patch the elements of the array `d[field]` addressed by their `key` value.
fn patch_keyed(
    d: &mut Map<String, Value>,
    field: &str,
    key: &str,
    patch: &Value,
    at: &str,
    apply: impl Fn(&mut Value, &Value, &str) -> Result<(), PatchError>,
) -> Result<(), PatchError> {
    let p = object(patch, at)?;
    let Some(Value::Array(items)) = d.get_mut(field) else {
        return Err((at.into(), format!("the regime has no `{field}` to patch")));
    };
    for (name, ep) in p {
        let here = format!("{at}[{}]", quote(name));
        let Some(i) = items
            .iter()
            .position(|e| e.get(key).and_then(Value::as_str) == Some(name))
        else {
            let names: Vec<&str> = items
                .iter()
                .filter_map(|e| e.get(key).and_then(Value::as_str))
                .collect();
            let what = match field {
                "rules" => "rule",
                "exceptions" => "exception",
                _ => "classification scheme",
            };
            return Err((
                here,
                format!(
                    "unknown {what} `{name}` (known: {}); to add one, give the whole array",
                    names.join(", ")
                ),
            ));
        };
        if ep.is_null() {
            items.remove(i);
        } else {
            object(ep, &here)?;
            if ep.get(key).is_some_and(|v| v.as_str() != Some(name)) {
                return Err((
                    format!("{here}.{key}"),
                    format!("a patch cannot change `{key}`"),
                ));
            }
            apply(&mut items[i], ep, &here)?;
        }
    }
    Ok(())
}

fn patch_rule(rule: &mut Value, patch: &Value, at: &str) -> Result<(), PatchError> {
    let p = object(patch, at)?;
    let Value::Object(r) = rule else {
        return Err((at.into(), "the rule is not an object".into()));
    };
    for (k, v) in p {
        let here = format!("{at}.{k}");
        if k == "effect" && v.is_object() {
            let Some(Value::Object(effect)) = r.get_mut("effect") else {
                return Err((here, "the rule has no effect to patch".into()));
            };
            for (ek, ev) in object(v, &here)? {
                let there = format!("{here}.{ek}");
                if ek == "exceptions" && ev.is_object() {
                    patch_keyed(effect, "exceptions", "exception", ev, &there, |e, p, _| {
                        merge(e, p);
                        Ok(())
                    })?;
                } else if ev.is_null() {
                    effect.remove(ek);
                } else {
                    merge(effect.entry(ek.clone()).or_insert(Value::Null), ev);
                }
            }
        } else if v.is_null() {
            r.remove(k);
        } else {
            merge(r.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
    Ok(())
}

/// No cap, limit, threshold or count in regime data can be negative: reject any negative
/// number, naming where it is (array elements by their id, exception or scheme).
fn no_negatives(v: &Value, at: &str) -> Result<(), PatchError> {
    match v {
        Value::Number(n) if n.as_f64().is_some_and(|x| x < 0.0) => Err((
            at.to_string(),
            format!("must not be negative (got {n}): caps, limits and thresholds are at least 0"),
        )),
        Value::Object(m) => {
            for (k, x) in m {
                no_negatives(x, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let key = ["id", "exception", "scheme"]
                    .iter()
                    .find_map(|k| x.get(*k).and_then(Value::as_str))
                    .map(quote)
                    .unwrap_or_else(|| i.to_string());
                no_negatives(x, &format!("{at}[{key}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
