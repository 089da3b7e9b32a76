//! The decision's wire format: the one place its JSON shape is defined.
//!
//! [`Decision`] is the engine's value; it carries fields the JSON never shows (the rule trace,
//! the country allocation, the classification, counters) and does not derive `Serialize`.
//! [`DecisionJson`] borrows from a decision and *is* the JSON — field names, order and the
//! fields left out when empty — and its schema (`exportgate schema decision`, the OpenAPI
//! document's `DecisionRecord`) is generated from it. Every door writes a decision through
//! this module: [`json`] for a value to serialise (or to embed in a larger `Serialize` type),
//! [`to_value`], [`to_writer`], [`to_string`], and [`schema`] for its JSON Schema.
//!
//! The sub-values a decision holds (`Reason`, `Condition`, `ScreeningRecord`, `RedFlag`,
//! `DueDiligenceReport`, `LicenceUse`, `DecisionInputs`, ...) are plain value types whose
//! `Serialize` derive is their wire shape; they keep it.
//!
//! To add a field to a decision, add it to `Decision`: [`DecisionJson::new`] names every field,
//! so it does not compile until the field is either written (a field of `DecisionJson`, where
//! it belongs but before `inputs`, which stays last: `check` splices the run's pre-rendered
//! inputs in at the end of each line; then re-bless the snapshots with `BLESS=1 cargo test -p
//! exportgate-pipeline --test wire`) or listed there as internal.

use chrono::NaiveDate;
use exportgate_core::decide::RedFlag;
use exportgate_core::kyc::DueDiligenceReport;
use exportgate_core::reason::Reason;
use exportgate_core::regime::{Condition, ReviewPolicy};
use exportgate_core::screening::ScreeningRecord;
use exportgate_core::{Decision, DecisionInputs, Eccn, LicenceUse, Outcome};
use serde::Serialize;

/// The decision for one order line.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Decision")]
pub struct DecisionJson<'a> {
    pub id: &'a str,
    #[serde(serialize_with = "exportgate_core::iso_date::serialize")]
    pub date: NaiveDate,
    pub outcome: Outcome,
    pub exception: Option<&'a str>,
    pub review_policy: Option<ReviewPolicy>,
    pub eccn: Eccn,
    /// TPP of the whole line (per-unit TPP × quantity), rounded.
    pub tpp_total: Option<u64>,
    pub reasons: &'a [Reason],
    pub conditions: &'a [Condition],
    #[schemars(with = "Vec<String>")]
    pub regimes: &'a [exportgate_core::CompactString],
    pub unconfirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<&'a str>,
    pub quantity: u64,
    pub destination: &'a str,
    /// TPP this order counts against LPP and allocations (3A090.a/4A090.a items only).
    pub tpp_counted: f64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub forced_regimes: &'a [String],
    /// How the parties were screened, against which lists, and every hit.
    pub screening: &'a ScreeningRecord,
    /// Red flags raised or left unknown (a missing fact is reported, never cleared).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub red_flags: &'a [RedFlag],
    /// Know your customer: the party records drawn on, where each fact came from, and the
    /// facts that would settle each unknown red flag (absent when there is nothing to say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_diligence: Option<&'a DueDiligenceReport>,
    /// The licence the order ships under (outcome `licensed`), with the balance left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence: Option<&'a LicenceUse>,
    /// What the decision rested on besides the order: engine version, rule-data digests and
    /// list versions (set by the pipeline; see `exportgate_core::inputs`). The last field:
    /// `check` writes the run's inputs once and splices them in where the object closes.
    #[schemars(
        description = "What the decision rested on besides the order: engine version, rule-data digests and\nlist versions (set by the pipeline; see [`crate::inputs`])."
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<&'a DecisionInputs>,
}

impl<'a> DecisionJson<'a> {
    /// The JSON view of `d`. Every field of [`Decision`] is named here (no `..`): a field
    /// added to the decision does not compile until it is put on the wire or marked internal.
    pub fn new(d: &'a Decision) -> Self {
        let Decision {
            id,
            date,
            outcome,
            exception,
            review_policy,
            eccn,
            tpp_total,
            reasons,
            conditions,
            regimes,
            unconfirmed,
            chip,
            quantity,
            destination,
            tpp_counted,
            forced_regimes,
            screening,
            red_flags,
            due_diligence,
            licence,
            inputs,
            // Internal: never written.
            allocation: _,
            trace: _,
            quota_checked: _,
            rules_evaluated: _,
            classification: _,
        } = d;
        DecisionJson {
            id,
            date: *date,
            outcome: *outcome,
            exception: exception.as_deref(),
            review_policy: *review_policy,
            eccn: *eccn,
            tpp_total: *tpp_total,
            reasons,
            conditions,
            regimes,
            unconfirmed: *unconfirmed,
            chip: chip.as_deref(),
            quantity: *quantity,
            destination,
            tpp_counted: *tpp_counted,
            forced_regimes,
            screening,
            red_flags,
            due_diligence: due_diligence.as_ref(),
            licence: licence.as_ref(),
            inputs: inputs.as_deref(),
        }
    }
}

/// The JSON view of `d` (serialise it, or hold it in a larger `Serialize` type).
pub fn json(d: &Decision) -> DecisionJson<'_> {
    DecisionJson::new(d)
}

/// `d` as a JSON value.
pub fn to_value(d: &Decision) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(json(d))
}

/// `d` as one line of JSON (no newline).
pub fn to_string(d: &Decision) -> serde_json::Result<String> {
    serde_json::to_string(&json(d))
}

/// Writes `d` as compact JSON to `w`.
pub fn to_writer<W: std::io::Write>(w: W, d: &Decision) -> serde_json::Result<()> {
    serde_json::to_writer(w, &json(d))
}

/// The JSON Schema of a decision as it is written (a field skipped when empty is optional),
/// with its definitions at `definitions_path` (e.g. `/$defs` or `/components/schemas`), from
/// `generator` built with [`schemars::generate::SchemaSettings::for_serialize`].
pub fn schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.root_schema_for::<DecisionJson<'static>>()
}

/// The JSON Schema of a decision as `exportgate schema decision` prints it (draft 2020-12,
/// definitions under `$defs`).
pub fn root_schema() -> schemars::Schema {
    schemars::generate::SchemaSettings::default()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<DecisionJson<'static>>()
}
