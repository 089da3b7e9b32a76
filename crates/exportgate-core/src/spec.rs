//! Item specifications: the technical parameters an item is classified from.
//!
//! The JSON form is the contract of `exportgate classify --spec` and of the catalog. Parsing
//! rejects unknown fields, unknown precision names and numbers that are negative, NaN or
//! infinite, naming the field at fault.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A numeric precision a vendor publishes peak throughput for. The names are fixed.
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
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Fp64,
    Tf32,
    Fp16,
    Bf16,
    Fp8,
    Fp6,
    Fp4,
    Int8,
    Int4,
}

impl Precision {
    /// Every precision, in the order they are listed.
    pub const ALL: [Precision; 9] = [
        Precision::Fp64,
        Precision::Tf32,
        Precision::Fp16,
        Precision::Bf16,
        Precision::Fp8,
        Precision::Fp6,
        Precision::Fp4,
        Precision::Int8,
        Precision::Int4,
    ];

    /// The bit length the TPP formula multiplies by (TF32 counts as 32, its container width).
    pub fn bit_length(self) -> u32 {
        match self {
            Precision::Fp64 => 64,
            Precision::Tf32 => 32,
            Precision::Fp16 | Precision::Bf16 => 16,
            Precision::Fp8 | Precision::Int8 => 8,
            Precision::Fp6 => 6,
            Precision::Fp4 | Precision::Int4 => 4,
        }
    }

    /// The name used in spec files.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp64 => "fp64",
            Precision::Tf32 => "tf32",
            Precision::Fp16 => "fp16",
            Precision::Bf16 => "bf16",
            Precision::Fp8 => "fp8",
            Precision::Fp6 => "fp6",
            Precision::Fp4 => "fp4",
            Precision::Int8 => "int8",
            Precision::Int4 => "int4",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an item is: a logic IC, an HBM stack, or a computer/assembly carrying ICs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Ic,
    Hbm,
    Computer,
}

impl ItemKind {
    /// The wire name (`ic`, `hbm`, `computer`), as item specs and listings write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemKind::Ic => "ic",
            ItemKind::Hbm => "hbm",
            ItemKind::Computer => "computer",
        }
    }
}

/// One line of a computer's bill of ICs: a catalog id or an inline spec, and a count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IcCount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Box<Spec>>,
    pub count: u32,
}

/// The technical parameters of an item, as published by its vendor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    pub kind: ItemKind,
    /// Designed or marketed for use in datacenters (Note 2 to 3A090).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<bool>,
    /// ISO 3166-1 alpha-2 code of the country where the IC was designed (for GP10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designer_country: Option<String>,
    /// Dense peak TOPS/TFLOPS by precision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_tops: Option<BTreeMap<Precision, f64>>,
    /// Peak figures published only with sparsity; they are halved before use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse_tops: Option<BTreeMap<Precision, f64>>,
    /// Total area of the logic dies, in mm².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub die_area_mm2: Option<f64>,
    /// Whether the logic dies use a non-planar (FinFET/GAA) transistor architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_planar: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_nm: Option<f64>,
    /// Aggregated approximated transistor count of the logic dies, in billions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transistors_billion: Option<f64>,
    /// Whether the package contains HBM (the foundry thresholds differ without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_hbm: Option<bool>,
    /// Designed by an approved or authorized IC designer (rebuts the foundry presumption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_designer: Option<bool>,
    /// Total DRAM bandwidth, GB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bandwidth_gbs: Option<f64>,
    /// Aggregate bidirectional chip-to-chip interconnect bandwidth, GB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interconnect_gbs: Option<f64>,
    /// HBM stacks: memory bandwidth of the stack, GB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hbm_bandwidth_gbs: Option<f64>,
    /// HBM stacks: package (footprint) area, mm².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_area_mm2: Option<f64>,
    /// Computers and assemblies: the ICs they carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ics: Vec<IcCount>,
}

/// A spec that failed validation: the field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {problem}")]
pub struct SpecError {
    pub field: String,
    pub problem: String,
}

impl SpecError {
    pub(crate) fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        SpecError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

fn check_number(field: &str, value: Option<f64>, allow_zero: bool) -> Result<(), SpecError> {
    match value {
        None => Ok(()),
        Some(v) if !v.is_finite() => Err(SpecError::new(field, "must be a finite number")),
        Some(v) if v < 0.0 => Err(SpecError::new(
            field,
            format!("must not be negative, got {v}"),
        )),
        Some(v) if v == 0.0 && !allow_zero => {
            Err(SpecError::new(field, "must be greater than zero"))
        }
        Some(_) => Ok(()),
    }
}

fn check_tops(field: &str, tops: &Option<BTreeMap<Precision, f64>>) -> Result<(), SpecError> {
    for (precision, value) in tops.iter().flatten() {
        check_number(&format!("{field}.{precision}"), Some(*value), true)?;
    }
    Ok(())
}

impl Spec {
    /// Parse a spec from JSON text and validate it.
    pub fn from_json(text: &str) -> Result<Spec, SpecError> {
        let spec: Spec = parse_json(text)?;
        spec.validate("")?;
        Ok(spec)
    }

    /// Check the numbers and the fields each kind requires. `path` prefixes field names
    /// (for ICs nested in a computer).
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        let f = |name: &str| format!("{path}{name}");
        if self.name.trim().is_empty() {
            return Err(SpecError::new(f("name"), "must not be empty"));
        }
        check_tops(&f("dense_tops"), &self.dense_tops)?;
        check_tops(&f("sparse_tops"), &self.sparse_tops)?;
        check_number(&f("die_area_mm2"), self.die_area_mm2, false)?;
        check_number(&f("process_nm"), self.process_nm, false)?;
        check_number(&f("transistors_billion"), self.transistors_billion, true)?;
        check_number(&f("memory_bandwidth_gbs"), self.memory_bandwidth_gbs, true)?;
        check_number(&f("interconnect_gbs"), self.interconnect_gbs, true)?;
        check_number(&f("hbm_bandwidth_gbs"), self.hbm_bandwidth_gbs, true)?;
        check_number(&f("package_area_mm2"), self.package_area_mm2, false)?;
        if let Some(country) = &self.designer_country {
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(SpecError::new(
                    f("designer_country"),
                    format!("must be an ISO 3166-1 alpha-2 code such as `US`, got `{country}`"),
                ));
            }
        }
        match self.kind {
            ItemKind::Ic => {
                if self.dense_tops.is_none() && self.sparse_tops.is_none() {
                    return Err(SpecError::new(
                        f("dense_tops"),
                        "missing: an IC needs its peak throughput by precision",
                    ));
                }
                if self.datacenter.is_none() {
                    return Err(SpecError::new(
                        f("datacenter"),
                        "missing: say whether the IC is designed or marketed for datacenters",
                    ));
                }
                if !self.ics.is_empty() {
                    return Err(SpecError::new(f("ics"), "only a computer carries ICs"));
                }
            }
            ItemKind::Hbm => {
                if self.hbm_bandwidth_gbs.is_none() {
                    return Err(SpecError::new(
                        f("hbm_bandwidth_gbs"),
                        "missing for an HBM stack",
                    ));
                }
                if self.package_area_mm2.is_none() {
                    return Err(SpecError::new(
                        f("package_area_mm2"),
                        "missing for an HBM stack",
                    ));
                }
            }
            ItemKind::Computer => {
                if self.ics.is_empty() {
                    return Err(SpecError::new(
                        f("ics"),
                        "a computer must list the ICs it carries",
                    ));
                }
                for (i, line) in self.ics.iter().enumerate() {
                    let p = format!("{path}ics[{i}]");
                    if line.count == 0 {
                        return Err(SpecError::new(format!("{p}.count"), "must be at least 1"));
                    }
                    match (&line.chip, &line.spec) {
                        (Some(_), None) => {}
                        (None, Some(spec)) => {
                            if spec.kind != ItemKind::Ic {
                                return Err(SpecError::new(
                                    format!("{p}.spec.kind"),
                                    "must be `ic`",
                                ));
                            }
                            spec.validate(&format!("{p}.spec."))?;
                        }
                        _ => {
                            return Err(SpecError::new(
                                p,
                                "give exactly one of `chip` (a catalog id) or `spec`",
                            ))
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Parse JSON into `T`, naming the path of the field at fault on error. The message is written
/// for the person who wrote the file: a syntax error says the text is not valid JSON, a date
/// that is not a calendar date says so with its value (not chrono's "input is out of range"),
/// and in one-line text (a JSONL line) the position is the column alone.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, SpecError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path.is_empty() || path == "." || path == "?" {
            json_error_field(&inner)
        } else {
            path
        };
        let mut message = inner.to_string();
        if !text.trim_end().contains('\n') {
            message = message.replace(" at line 1 column ", " at column ");
        }
        if inner.is_syntax() || inner.is_eof() {
            message = format!("not valid JSON: {message}");
        } else if let Some(rest) = CHRONO_ERRORS.iter().find_map(|m| message.strip_prefix(m)) {
            let what = field_value(text, &field).map_or_else(
                || "not a date".to_string(),
                |v| format!("{v} is not a date"),
            );
            message = format!("{what} (write it as YYYY-MM-DD, a real calendar date){rest}");
        }
        SpecError::new(field, message)
    })
}

/// The messages chrono gives for a date string it cannot read.
const CHRONO_ERRORS: &[&str] = &[
    "input is out of range",
    "input contains invalid characters",
    "premature end of input",
    "trailing input",
    "input is not enough for unique date and time",
    "input is impossible",
    "bad or unsupported format string",
];

/// The value at a serde_path_to_error path (`consignee.since`, `items[2].date`) in `text`, as
/// JSON, for an error message; `None` when the text or the path cannot be followed.
fn field_value(text: &str, path: &str) -> Option<String> {
    let root: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut v = &root;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !name.is_empty() {
            v = v.get(name)?;
        }
        if let Some(i) = index {
            v = v.get(i)?;
        }
    }
    Some(v.to_string())
}

fn json_error_field(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    msg.split('`')
        .nth(1)
        .filter(|_| msg.contains("field"))
        .unwrap_or("line")
        .to_string()
}

#[cfg(test)]
mod item_kind_tests {
    use super::*;

    #[test]
    fn item_kind_wire_names_are_the_data_names() {
        for k in [ItemKind::Ic, ItemKind::Hbm, ItemKind::Computer] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
