//! Classification of an item under the advanced-computing ECCNs as of a date.
//!
//! The thresholds come from the regimes binding on the date (October 2022 or October 2023
//! parameters, the HBM rule, the foundry rule...). Where a needed fact is missing the result is
//! `indeterminate` with the ECCNs it could be, never a guess at the lower one.

use chrono::Datelike;
use serde::Serialize;

use crate::confidence::Confidence;
use crate::metrics::{self, PdUnknown, Tpp};
use crate::reason::{num, Reason};
use crate::regime::ClassificationParams;
use crate::rules::RegimeRules;
use crate::ruleset::{Context, Ruleset};
use crate::spec::{ItemKind, Spec, SpecError};

use crate::concepts::ItemFlag;
pub use crate::eccn::Eccn;

/// Facts about an item that later rules test. `None` = unknown (a needed figure is missing
/// or the defining regime is not binding on the date).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Flags {
    /// Designed or marketed for datacenters.
    pub datacenter: Option<bool>,
    /// License Exceptions NAC/ACA can apply (all 3A090/4A090 except datacenter 3A090.a).
    pub nac_aca_eligible: Option<bool>,
    /// 3A090.c below the License Exception HBM density bound.
    pub hbm_exception_eligible: Option<bool>,
    /// Below the 91 FR 1684 ceiling (TPP and total DRAM bandwidth).
    pub jan2026_ceiling: Option<bool>,
    /// Caught by the 9 April 2025 H20 licence requirement.
    pub h20_class: Option<bool>,
    /// A foundry or OSAT must presume the IC is 3A090.a (January 2025 rule), before the
    /// transistor-count rebuttal: an advanced-node logic IC whose designer is not approved or
    /// authorized.
    pub foundry_presumption: Option<bool>,
    /// The aggregated approximated transistor count is below the year's threshold: rebuts the
    /// presumption only on the attestation of a qualifying packager (Note 1.b/.c to 3A090.a),
    /// which the decision checks against the order's `packaging`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foundry_count_below: Option<bool>,
    /// A PRC-developed IC meeting 3A090 (May 2025 GP10 guidance).
    pub prc_3a090: Option<bool>,
}

impl Flags {
    /// Look a flag up by its data name (`None` for a name that is no flag).
    pub fn get(&self, name: &str) -> Option<bool> {
        ItemFlag::parse(name).and_then(|f| self.flag(f))
    }

    /// A flag's value (`None`: unknown).
    pub fn flag(&self, flag: ItemFlag) -> Option<bool> {
        match flag {
            ItemFlag::Datacenter => self.datacenter,
            ItemFlag::NacAcaEligible => self.nac_aca_eligible,
            ItemFlag::HbmExceptionEligible => self.hbm_exception_eligible,
            ItemFlag::Jan2026Ceiling => self.jan2026_ceiling,
            ItemFlag::H20Class => self.h20_class,
            ItemFlag::FoundryPresumption => self.foundry_presumption,
            ItemFlag::Prc3a090 => self.prc_3a090,
        }
    }
}

/// The result of classifying one item.
#[derive(Debug, Clone, Serialize)]
pub struct Classification {
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    pub kind: ItemKind,
    pub as_of: chrono::NaiveDate,
    pub eccn: Eccn,
    /// The sub-paragraph met, e.g. `3A090.a.2`.
    pub paragraph: Option<String>,
    /// When indeterminate: every ECCN the item could be.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub possible: Vec<Eccn>,
    /// TPP of the IC; for a computer the sum over all its ICs.
    pub tpp: Option<f64>,
    /// For a computer: the sum of TPP of its ICs that meet 3A090.a (what quantity limits count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpp_counted: Option<f64>,
    pub tpp_precision: Option<String>,
    pub performance_density: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bandwidth_density: Option<f64>,
    pub flags: Flags,
    pub reasons: Vec<Reason>,
    /// The regimes whose parameters were used.
    pub regimes: Vec<String>,
    pub unconfirmed: bool,
}

impl Classification {
    /// The ECCNs the item may be: the one found, or all possibilities when indeterminate.
    pub fn candidates(&self) -> Vec<Eccn> {
        if self.eccn == Eccn::Indeterminate {
            self.possible.clone()
        } else {
            vec![self.eccn]
        }
    }

    /// Whether the item is (or may be) 3A090.a/4A090.a: what LPP and allocations count.
    pub fn is_a_level(&self) -> bool {
        self.candidates()
            .iter()
            .any(|e| matches!(e, Eccn::E3A090A | Eccn::E4A090A))
    }
}

/// An item to classify: a spec, and its catalog id when it came from the catalog.
#[derive(Debug, Clone, Copy)]
pub struct ItemRef<'a> {
    pub chip: Option<&'a str>,
    pub spec: &'a Spec,
}

/// The parameters binding on a date, by scheme.
struct Params<'a> {
    acs: Option<(&'a RegimeRules, &'a ClassificationParams)>,
    hbm: Option<(&'a RegimeRules, &'a ClassificationParams)>,
    foundry: Option<(&'a RegimeRules, &'a ClassificationParams)>,
    h20: Option<(&'a RegimeRules, &'a ClassificationParams)>,
    prc: Option<(&'a RegimeRules, &'a ClassificationParams)>,
    ceiling: Option<(&'a RegimeRules, &'a ClassificationParams)>,
}

impl<'a> Params<'a> {
    fn on(rs: &'a Ruleset, ctx: &'a Context) -> Params<'a> {
        let mut p = Params {
            acs: None,
            hbm: None,
            foundry: None,
            h20: None,
            prc: None,
            ceiling: None,
        };
        // Later regimes come later and replace earlier ones of the same scheme.
        for (r, c) in rs.params(ctx) {
            let slot = match c {
                ClassificationParams::Acs2022 { .. } | ClassificationParams::Acs2023 { .. } => {
                    &mut p.acs
                }
                ClassificationParams::Hbm { .. } => &mut p.hbm,
                ClassificationParams::Foundry { .. } => &mut p.foundry,
                ClassificationParams::H20Class { .. } => &mut p.h20,
                ClassificationParams::Prc3a090 { .. } => &mut p.prc,
                ClassificationParams::ReviewCeiling { .. } => &mut p.ceiling,
            };
            *slot = Some((r, c));
        }
        p
    }
}

/// Classification of one IC (before it is wrapped as an item).
struct IcResult {
    eccn: Eccn,
    paragraph: Option<String>,
    possible: Vec<Eccn>,
    tpp: Option<Tpp>,
    pd: Option<f64>,
    reasons: Vec<Reason>,
}

fn cite(regime: &RegimeRules, citation: &str) -> String {
    if citation.contains(&regime.citation) || regime.citation.contains(citation) {
        if citation.len() >= regime.citation.len() {
            citation.to_string()
        } else {
            regime.citation.clone()
        }
    } else {
        format!("{citation}; {}", regime.citation)
    }
}

fn tpp_text(t: &Tpp, spec: &Spec) -> String {
    let tops = metrics::dense_peaks(spec)
        .into_iter()
        .find(|(p, _, _)| *p == t.precision)
        .map(|(_, v, _)| v)
        .unwrap_or(0.0);
    let sparse = if t.from_sparse {
        ", sparse figure halved"
    } else {
        ""
    };
    format!(
        "TPP {} ({}: {} dense TOPS × {} bits{sparse})",
        num(t.value),
        t.precision,
        num(tops),
        t.precision.bit_length()
    )
}

fn pd_unknown_text(why: PdUnknown) -> &'static str {
    match why {
        PdUnknown::NoDieArea => "die area is not given",
        PdUnknown::NoTpp => "TPP is unknown",
        PdUnknown::ArchitectureUnknown => "whether the logic dies are non-planar is not given",
        PdUnknown::PlanarOnly => "the IC has no non-planar logic die area",
    }
}

fn classify_ic(spec: &Spec, params: &Params) -> IcResult {
    let tpp = metrics::tpp(spec);
    let pd_result = metrics::performance_density(spec, tpp);
    let pd = pd_result.ok();
    let mut reasons = Vec::new();
    let out = IcOut { tpp, pd };
    let Some((regime, acs)) = params.acs else {
        reasons.push(Reason::new(
            "3A090",
            "87 FR 62186",
            "no advanced-computing ECCN (3A090) was in force on this date",
        ));
        return out.done(Eccn::Not3A090, None, reasons);
    };
    let Some(t) = tpp else {
        reasons.push(Reason::new(
            "3A090",
            regime.citation.clone(),
            "no dense throughput figure is published, so TPP cannot be computed: classification indeterminate",
        ));
        return out.indeterminate(reasons);
    };
    let tt = tpp_text(&t, spec);
    match acs {
        ClassificationParams::Acs2022 { .. } => {
            ic_acs_2022(spec, &t, &tt, regime, acs, &out, reasons)
        }
        ClassificationParams::Acs2023 { .. } => {
            ic_acs_2023(spec, &t, &tt, pd_result, regime, acs, &out, reasons)
        }
        _ => out.indeterminate(reasons),
    }
}

/// The result of an IC's classification, as each branch ends it.
struct IcOut {
    tpp: Option<Tpp>,
    pd: Option<f64>,
}

impl IcOut {
    fn done(&self, eccn: Eccn, paragraph: Option<&str>, reasons: Vec<Reason>) -> IcResult {
        IcResult {
            eccn,
            paragraph: paragraph.map(str::to_string),
            possible: Vec::new(),
            tpp: self.tpp,
            pd: self.pd,
            reasons,
        }
    }

    fn indeterminate(&self, reasons: Vec<Reason>) -> IcResult {
        IcResult {
            eccn: Eccn::Indeterminate,
            paragraph: None,
            possible: vec![Eccn::E3A090A, Eccn::E3A090B, Eccn::Not3A090],
            tpp: self.tpp,
            pd: self.pd,
            reasons,
        }
    }
}

/// An IC under the October 2022 thresholds (TPP and interconnect bandwidth).
fn ic_acs_2022(
    spec: &Spec,
    t: &Tpp,
    tt: &str,
    regime: &RegimeRules,
    acs: &ClassificationParams,
    out: &IcOut,
    mut reasons: Vec<Reason>,
) -> IcResult {
    let ClassificationParams::Acs2022 {
        a_tpp_min,
        a_interconnect_gbs_min,
        citation,
    } = acs
    else {
        return out.indeterminate(reasons);
    };
    let c = cite(regime, citation);
    if t.value < *a_tpp_min {
        reasons.push(Reason::new(
            "3A090",
            c,
            format!(
                "{tt} < {}: outside 3A090 (October 2022 thresholds)",
                num(*a_tpp_min)
            ),
        ));
        return out.done(Eccn::Not3A090, None, reasons);
    }
    match spec.interconnect_gbs {
        None => {
            reasons.push(Reason::new("3A090", c, format!("{tt} ≥ {} but the interconnect bandwidth is not given: indeterminate under the October 2022 thresholds", num(*a_tpp_min))));
            out.indeterminate(reasons)
        }
        Some(io) if io >= *a_interconnect_gbs_min => {
            reasons.push(Reason::new("3A090.a", c, format!("{tt} ≥ {} and interconnect {} GB/s ≥ {} GB/s: 3A090.a (October 2022 thresholds)", num(*a_tpp_min), num(io), num(*a_interconnect_gbs_min))));
            out.done(Eccn::E3A090A, Some(Eccn::E3A090A.as_str()), reasons)
        }
        Some(io) => {
            reasons.push(Reason::new("3A090", c, format!("{tt} ≥ {} but interconnect {} GB/s < {} GB/s: outside 3A090 (October 2022 thresholds)", num(*a_tpp_min), num(io), num(*a_interconnect_gbs_min))));
            out.done(Eccn::Not3A090, None, reasons)
        }
    }
}

/// An IC under the October 2023 thresholds (TPP, performance density, the datacenter note).
#[allow(clippy::too_many_arguments)]
fn ic_acs_2023(
    spec: &Spec,
    t: &Tpp,
    tt: &str,
    pd_result: Result<f64, PdUnknown>,
    regime: &RegimeRules,
    acs: &ClassificationParams,
    out: &IcOut,
    mut reasons: Vec<Reason>,
) -> IcResult {
    let ClassificationParams::Acs2023 {
        a1_tpp_min,
        a2_tpp_min,
        a2_pd_min,
        b1_tpp_min,
        b1_tpp_below,
        b1_pd_min,
        b1_pd_below,
        b2_tpp_min,
        b2_pd_min,
        b2_pd_below,
        datacenter_note_tpp_below,
        citation,
    } = acs
    else {
        return out.indeterminate(reasons);
    };
    let datacenter = spec.datacenter.unwrap_or(true);
    let c = cite(regime, citation);
    let v = t.value;
    if !datacenter && v < *datacenter_note_tpp_below {
        reasons.push(Reason::new("3A090.note2", c, format!("not designed or marketed for datacenters and {tt} < {}: outside 3A090 (Note 2 to 3A090)", num(*datacenter_note_tpp_below))));
        return out.done(Eccn::Not3A090, None, reasons);
    }
    if v >= *a1_tpp_min {
        let dc = if datacenter {
            ""
        } else {
            " (not a datacenter part: Note 2 does not apply at this TPP)"
        };
        reasons.push(Reason::new(
            "3A090.a.1",
            c,
            format!("{tt} ≥ {}: 3A090.a.1{dc}", num(*a1_tpp_min)),
        ));
        return out.done(Eccn::E3A090A, Some("3A090.a.1"), reasons);
    }
    let floor = a2_tpp_min.min(*b2_tpp_min).min(*b1_tpp_min);
    if v < floor {
        reasons.push(Reason::new(
            "3A090",
            c,
            format!(
                "{tt} < {}: below every 3A090 threshold, outside 3A090",
                num(floor)
            ),
        ));
        return out.done(Eccn::Not3A090, None, reasons);
    }
    let pd = match pd_result {
        Ok(pd) => pd,
        Err(why) => {
            reasons.push(Reason::new("3A090", c, format!("{tt} is in the band where performance density decides, but {}: classification indeterminate", pd_unknown_text(why))));
            return out.indeterminate(reasons);
        }
    };
    let area = spec.die_area_mm2.unwrap_or(0.0);
    let pdt = format!(
        "PD {} (TPP {} ÷ {} mm² of non-planar logic die)",
        num(pd),
        num(v),
        num(area)
    );
    if v >= *a2_tpp_min && pd >= *a2_pd_min {
        reasons.push(Reason::new(
            "3A090.a.2",
            c,
            format!(
                "{tt} ≥ {} and {pdt} ≥ {}: 3A090.a.2",
                num(*a2_tpp_min),
                num(*a2_pd_min)
            ),
        ));
        return out.done(Eccn::E3A090A, Some("3A090.a.2"), reasons);
    }
    let b1 = v >= *b1_tpp_min && v < *b1_tpp_below && pd >= *b1_pd_min && pd < *b1_pd_below;
    let b2 = v >= *b2_tpp_min && pd >= *b2_pd_min && pd < *b2_pd_below;
    if b1 {
        reasons.push(Reason::new(
            "3A090.b.1",
            c.clone(),
            format!(
                "{} ≤ {tt} < {} and {} ≤ {pdt} < {}: 3A090.b.1",
                num(*b1_tpp_min),
                num(*b1_tpp_below),
                num(*b1_pd_min),
                num(*b1_pd_below)
            ),
        ));
    }
    if b2 {
        reasons.push(Reason::new(
            "3A090.b.2",
            c.clone(),
            format!(
                "{tt} ≥ {} and {} ≤ {pdt} < {}: 3A090.b.2",
                num(*b2_tpp_min),
                num(*b2_pd_min),
                num(*b2_pd_below)
            ),
        ));
    }
    if b1 || b2 {
        let para = if b1 { "3A090.b.1" } else { "3A090.b.2" };
        return out.done(Eccn::E3A090B, Some(para), reasons);
    }
    reasons.push(Reason::new("3A090", c, format!("{tt} with {pdt}: meets neither 3A090.a (TPP ≥ {} and PD ≥ {}) nor 3A090.b (b.1: TPP {}–{} with PD {}–{}; b.2: TPP ≥ {} with PD {}–{}): outside 3A090", num(*a2_tpp_min), num(*a2_pd_min), num(*b1_tpp_min), num(*b1_tpp_below), num(*b1_pd_min), num(*b1_pd_below), num(*b2_tpp_min), num(*b2_pd_min), num(*b2_pd_below))));
    out.done(Eccn::Not3A090, None, reasons)
}

/// Resolve a computer's IC line to a spec and its catalog id.
fn ic_line<'a>(
    rs: &'a Ruleset,
    line: &'a crate::spec::IcCount,
    field: &str,
) -> Result<ItemRef<'a>, SpecError> {
    match (&line.chip, &line.spec) {
        (Some(id), _) => {
            let entry = rs
                .catalog
                .get(id)
                .ok_or_else(|| rs.catalog.unknown(id, field))?;
            if entry.spec.kind != ItemKind::Ic {
                return Err(SpecError::new(field, format!("`{id}` is not an IC")));
            }
            Ok(ItemRef {
                chip: Some(id),
                spec: &entry.spec,
            })
        }
        (None, Some(spec)) => Ok(ItemRef { chip: None, spec }),
        (None, None) => Err(SpecError::new(field, "give `chip` or `spec`")),
    }
}

/// Classify an item as of the context's date.
pub fn classify(rs: &Ruleset, item: ItemRef, ctx: &Context) -> Result<Classification, SpecError> {
    let params = Params::on(rs, ctx);
    let mut out = match item.spec.kind {
        ItemKind::Ic => {
            let r = classify_ic(item.spec, &params);
            let mut c = base(item, ctx, r.eccn, r.paragraph, r.possible, r.reasons);
            c.tpp = r.tpp.map(|t| t.value);
            c.tpp_precision = r.tpp.map(|t| t.precision.to_string());
            c.performance_density = r.pd;
            let (flags, reasons) = ic_flags(item, &c, &params, ctx);
            c.flags = flags;
            c.reasons.extend(reasons);
            // A catalog IC without figures says why, in the reason decisions carry.
            let entry = item.chip.and_then(|id| rs.catalog.get(id));
            if let Some(why) = entry.and_then(|e| e.meta.missing_figures.as_deref()) {
                if let Some(r) = c.reasons.iter_mut().find(|r| {
                    r.rule == "3A090" && r.summary.starts_with("no dense throughput figure")
                }) {
                    r.summary.push_str(&format!(" (catalog: {why})"));
                }
            }
            c
        }
        ItemKind::Hbm => classify_hbm(item, ctx, &params),
        ItemKind::Computer => classify_computer(rs, item, ctx, &params)?,
    };
    // Figures that are estimates or unverified make the classification resting on them so:
    // the ECCN reason carries the catalog's confidence, and unverified figures mark the
    // decision unconfirmed.
    if let Some(entry) = item.chip.and_then(|id| rs.catalog.get(id)) {
        let tag = entry.meta.confidence.tag();
        if tag != crate::confidence::Confidence::P {
            if let Some(r) = out.reasons.first_mut() {
                r.confidence = r.confidence.max(tag);
                r.summary.push_str(&format!(
                    " (catalog figures {})",
                    entry.meta.confidence.name()
                ));
            }
        }
    }
    let mut regimes: Vec<String> = [
        params.acs,
        params.hbm,
        params.foundry,
        params.h20,
        params.prc,
        params.ceiling,
    ]
    .into_iter()
    .flatten()
    .map(|(r, _)| r.id.clone())
    .collect();
    regimes.dedup();
    // A PRC-IC regime touches only the items it flags (or may flag): an unconfirmed one
    // (Huawei's footnote 1 reading before 13 May 2025) does not mark every other item.
    let prc = params.prc.filter(|_| out.flags.prc_3a090 != Some(false));
    out.unconfirmed |= [
        params.acs,
        params.hbm,
        params.foundry,
        params.h20,
        prc,
        params.ceiling,
    ]
    .into_iter()
    .flatten()
    .any(|(r, _)| r.confidence.is_unconfirmed())
        || out.reasons.iter().any(|r| r.confidence.is_unconfirmed());
    out.regimes = regimes;
    Ok(out)
}

fn base(
    item: ItemRef,
    ctx: &Context,
    eccn: Eccn,
    paragraph: Option<String>,
    possible: Vec<Eccn>,
    reasons: Vec<Reason>,
) -> Classification {
    Classification {
        item: item.spec.name.clone(),
        chip: item.chip.map(str::to_string),
        kind: item.spec.kind,
        as_of: ctx.as_of,
        eccn,
        paragraph,
        possible,
        tpp: None,
        tpp_counted: None,
        tpp_precision: None,
        performance_density: None,
        memory_bandwidth_density: None,
        flags: Flags::default(),
        reasons,
        regimes: Vec::new(),
        unconfirmed: false,
    }
}

fn classify_hbm(item: ItemRef, ctx: &Context, params: &Params) -> Classification {
    let spec = item.spec;
    let density = metrics::memory_bandwidth_density(spec);
    let mut reasons = Vec::new();
    let (eccn, paragraph, eligible) = match (params.hbm, density) {
        (None, _) => {
            reasons.push(Reason::new(
                "3A090.c",
                "89 FR 96790",
                "3A090.c (HBM) was not in force on this date (from 2 December 2024): outside 3A090",
            ));
            (Eccn::Not3A090, None, None)
        }
        (
            Some((
                r,
                ClassificationParams::Hbm {
                    c_density_above,
                    exception_density_below,
                    citation,
                    exception_citation,
                },
            )),
            Some(d),
        ) => {
            let dt = format!(
                "memory bandwidth density {} GB/s/mm² ({} GB/s ÷ {} mm²)",
                num(d),
                num(spec.hbm_bandwidth_gbs.unwrap_or(0.0)),
                num(spec.package_area_mm2.unwrap_or(0.0))
            );
            if d > *c_density_above {
                reasons.push(Reason::new(
                    "3A090.c",
                    cite(r, citation),
                    format!("{dt} > {}: 3A090.c", num(*c_density_above)),
                ));
                let eligible = d < *exception_density_below;
                let cmp = if eligible { "<" } else { "≥" };
                reasons.push(Reason::new(
                    "LE-HBM",
                    exception_citation.clone(),
                    format!(
                        "{dt} {cmp} {}: {} for License Exception HBM",
                        num(*exception_density_below),
                        if eligible { "eligible" } else { "not eligible" }
                    ),
                ));
                (
                    Eccn::E3A090C,
                    Some(Eccn::E3A090C.as_str().to_string()),
                    Some(eligible),
                )
            } else {
                reasons.push(Reason::new(
                    "3A090.c",
                    cite(r, citation),
                    format!("{dt} ≤ {}: outside 3A090.c", num(*c_density_above)),
                ));
                (Eccn::Not3A090, None, Some(false))
            }
        }
        _ => (Eccn::Indeterminate, None, None),
    };
    let possible = if eccn == Eccn::Indeterminate {
        vec![Eccn::E3A090C, Eccn::Not3A090]
    } else {
        Vec::new()
    };
    let mut c = base(item, ctx, eccn, paragraph, possible, reasons);
    c.memory_bandwidth_density = density;
    c.flags.hbm_exception_eligible = eligible;
    c.flags.nac_aca_eligible = Some(false);
    c.flags.h20_class = Some(false);
    c.flags.foundry_presumption = Some(false);
    c.flags.prc_3a090 = Some(false);
    c.flags.jan2026_ceiling = Some(false);
    c
}

fn classify_computer(
    rs: &Ruleset,
    item: ItemRef,
    ctx: &Context,
    params: &Params,
) -> Result<Classification, SpecError> {
    let mut ics = Vec::new();
    for (i, line) in item.spec.ics.iter().enumerate() {
        let r = ic_line(rs, line, &format!("ics[{i}]"))?;
        let c = classify(rs, r, ctx)?;
        ics.push((line.count, c));
    }
    let any = |e: Eccn| ics.iter().any(|(_, c)| c.eccn == e);
    let (eccn, possible) = if any(Eccn::E3A090A) {
        (Eccn::E4A090A, vec![])
    } else if any(Eccn::Indeterminate) {
        let mut p = vec![Eccn::E4A090A];
        if !any(Eccn::E3A090B) {
            p.push(Eccn::Not3A090);
        }
        p.insert(1, Eccn::E4A090B);
        (Eccn::Indeterminate, p)
    } else if any(Eccn::E3A090B) {
        (Eccn::E4A090B, vec![])
    } else {
        (Eccn::Not3A090, vec![])
    };
    let citation = params
        .acs
        .map(|(r, _)| r.citation.clone())
        .unwrap_or_else(|| "87 FR 62186".into());
    let mut reasons = Vec::new();
    for (count, c) in &ics {
        reasons.push(Reason::new(
            "4A090",
            citation.clone(),
            format!(
                "carries {count} × {} classified {}{}",
                c.item,
                c.eccn,
                c.tpp
                    .map(|t| format!(" (TPP {})", num(t)))
                    .unwrap_or_default()
            ),
        ));
    }
    let summary = match eccn {
        Eccn::E4A090A => "an IC it carries meets 3A090.a: 4A090.a",
        Eccn::E4A090B => "an IC it carries meets 3A090.b and none meets 3A090.a: 4A090.b",
        Eccn::Not3A090 => "no IC it carries meets 3A090.a or .b: outside 4A090",
        _ => "an IC it carries is indeterminate: classification indeterminate",
    };
    // The paragraph is the ECCN's own wire name (`4A090.a`, `4A090.b`).
    let para = matches!(eccn, Eccn::E4A090A | Eccn::E4A090B).then(|| eccn.as_str().to_string());
    reasons.push(Reason::new(
        para.clone().unwrap_or_else(|| "4A090".into()),
        citation,
        summary,
    ));
    let mut c = base(item, ctx, eccn, para, possible, reasons);
    let sum = |f: &dyn Fn(&Classification) -> bool| -> Option<f64> {
        ics.iter().try_fold(0.0, |acc, (n, c)| {
            if f(c) {
                c.tpp.map(|t| acc + t * f64::from(*n))
            } else {
                Some(acc)
            }
        })
    };
    c.tpp = sum(&|_| true).map(metrics::tidy);
    c.tpp_counted = sum(&|c| c.is_a_level()).map(metrics::tidy);
    c.unconfirmed = ics.iter().any(|(_, c)| c.unconfirmed);
    let all = |f: &dyn Fn(&Flags) -> Option<bool>| -> Option<bool> {
        ics.iter()
            .try_fold(true, |acc, (_, c)| f(&c.flags).map(|v| acc && v))
    };
    let any_flag = |f: &dyn Fn(&Flags) -> Option<bool>| -> Option<bool> {
        let vals: Vec<Option<bool>> = ics.iter().map(|(_, c)| f(&c.flags)).collect();
        if vals.contains(&Some(true)) {
            Some(true)
        } else if vals.contains(&None) {
            None
        } else {
            Some(false)
        }
    };
    c.flags = Flags {
        datacenter: item.spec.datacenter.or_else(|| any_flag(&|f| f.datacenter)),
        nac_aca_eligible: match eccn {
            Eccn::Not3A090 => Some(false),
            Eccn::Indeterminate => None,
            _ => all(&|f| f.nac_aca_eligible),
        },
        hbm_exception_eligible: Some(false),
        jan2026_ceiling: all(&|f| f.jan2026_ceiling),
        h20_class: any_flag(&|f| f.h20_class),
        foundry_presumption: Some(false),
        foundry_count_below: None,
        prc_3a090: any_flag(&|f| f.prc_3a090),
    };
    if c.flags.jan2026_ceiling == Some(true) {
        c.reasons.push(
            Reason::new("91FR1684.ceiling", "91 FR 1684", "the 91 FR 1684 ceiling is met by each IC of this computer; whether the rule measures a computer per IC or in aggregate is not confirmed")
                .with_confidence(Confidence::U),
        );
        c.unconfirmed = true;
    }
    Ok(c)
}

fn ic_flags(
    item: ItemRef,
    c: &Classification,
    params: &Params,
    ctx: &Context,
) -> (Flags, Vec<Reason>) {
    let spec = item.spec;
    let mut reasons = Vec::new();
    let is_3a090 = match c.eccn {
        Eccn::E3A090A | Eccn::E3A090B => Some(true),
        Eccn::Indeterminate => None,
        _ => Some(false),
    };
    let datacenter = spec.datacenter;
    let nac_aca_eligible = match c.eccn {
        Eccn::E3A090A => datacenter.map(|d| !d),
        Eccn::E3A090B => Some(true),
        Eccn::Indeterminate => None,
        _ => Some(false),
    };
    let h20_class = params.h20.map(|(_, p)| h20_class_of(item, p));
    let jan2026_ceiling = params.ceiling.map(|(_, p)| within_ceiling(c, spec, p));
    let foundry = params
        .foundry
        .map(|(r, p)| foundry_presumption_of(spec, r, p, ctx));
    let foundry_count_below = foundry.as_ref().and_then(|f| f.as_ref()?.1);
    if let Some(Some((_, _, reason))) = &foundry {
        reasons.push(reason.clone());
    }
    let foundry_presumption = foundry.map(|f| f.and_then(|f| f.0));
    let prc_3a090 = params
        .prc
        .map(|(_, p)| prc_3a090_of(item, spec, p, is_3a090));
    let mut flags = Flags {
        datacenter,
        nac_aca_eligible,
        hbm_exception_eligible: Some(false),
        jan2026_ceiling: jan2026_ceiling.flatten(),
        h20_class: h20_class.flatten(),
        foundry_presumption: foundry_presumption.flatten(),
        foundry_count_below,
        prc_3a090: prc_3a090.flatten(),
    };
    // A flag whose regime is not binding on the date is false, not unknown: the rule did not exist.
    if params.h20.is_none() {
        flags.h20_class = Some(false);
    }
    if params.ceiling.is_none() {
        flags.jan2026_ceiling = Some(false);
    }
    if params.foundry.is_none() {
        flags.foundry_presumption = Some(false);
    }
    if params.prc.is_none() {
        flags.prc_3a090 = Some(false);
    }
    flag_reasons(&flags, c, spec, params, &mut reasons);
    (flags, reasons)
}

/// Is the item H20-class (named, or matching the H20's memory or interconnect bandwidth)?
fn h20_class_of(item: ItemRef, p: &ClassificationParams) -> Option<bool> {
    let spec = item.spec;
    let ClassificationParams::H20Class {
        named,
        memory_bandwidth_gbs_min,
        interconnect_gbs_min,
        ..
    } = p
    else {
        return None;
    };
    if item.chip.is_some_and(|id| named.iter().any(|n| n == id)) {
        return Some(true);
    }
    let mem = spec
        .memory_bandwidth_gbs
        .map(|m| m >= *memory_bandwidth_gbs_min);
    let io = spec.interconnect_gbs.map(|i| i >= *interconnect_gbs_min);
    match (mem, io) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// Is the item within the January 2026 case-by-case ceiling (TPP and DRAM bandwidth)?
fn within_ceiling(c: &Classification, spec: &Spec, p: &ClassificationParams) -> Option<bool> {
    let ClassificationParams::ReviewCeiling {
        tpp_below,
        dram_bandwidth_gbs_below,
        ..
    } = p
    else {
        return None;
    };
    match (c.tpp, spec.memory_bandwidth_gbs) {
        (Some(t), _) if t >= *tpp_below => Some(false),
        (_, Some(m)) if m >= *dram_bandwidth_gbs_below => Some(false),
        (Some(_), Some(_)) => Some(true),
        _ => None,
    }
}

/// The foundry presumption (Note 1 to 3A090.a) for the transaction year: whether it applies,
/// whether the transistor count is below the year's threshold, and the reason. `None` where
/// no threshold covers the year.
fn foundry_presumption_of(
    spec: &Spec,
    r: &RegimeRules,
    p: &ClassificationParams,
    ctx: &Context,
) -> Option<(Option<bool>, Option<bool>, Reason)> {
    let ClassificationParams::Foundry {
        process_nm_max,
        thresholds,
        citation,
    } = p
    else {
        return None;
    };
    let advanced = spec
        .process_nm
        .map(|nm| nm <= *process_nm_max)
        .or(metrics::non_planar(spec));
    let year = chrono::NaiveDate::year(&ctx.as_of);
    let applicable: Vec<_> = thresholds
        .iter()
        .filter(|t| t.from_year <= year && t.to_year.is_none_or(|y| year <= y))
        .filter(|t| !t.without_hbm_only || spec.has_hbm == Some(false))
        .collect();
    // Without HBM the later, higher thresholds apply; otherwise (or when unknown) the base one.
    let chosen = applicable.iter().max_by(|a, b| {
        a.without_hbm_only
            .cmp(&b.without_hbm_only)
            .then(a.billion.total_cmp(&b.billion))
    });
    let threshold = chosen.map(|t| (t.billion, t.confidence))?;
    // Note 1 to 3A090.a: an approved or authorized designer's attestation rebuts (a.); a
    // transistor count below the threshold rebuts only on a qualifying packager's
    // attestation (b., c.), decided with the order's packaging; a count that cannot be
    // confirmed leaves the presumption standing (d.).
    let presumption = match (advanced, spec.approved_designer) {
        (Some(false), _) | (_, Some(true)) => Some(false),
        (Some(true), _) => Some(true),
        (None, _) => None,
    };
    let count_below = spec.transistors_billion.map(|t| t < threshold.0);
    let node = spec
        .process_nm
        .map(|nm| format!("{} nm", num(nm)))
        .unwrap_or_else(|| "a non-planar node".into());
    let text = match (presumption, spec.transistors_billion) {
            (Some(false), _) if spec.approved_designer == Some(true) => "designed by an approved or authorized IC designer: its attestation rebuts the foundry presumption (Note 1.a to 3A090.a)".to_string(),
            (Some(false), _) => format!("not an advanced-node logic IC (> {} nm, planar): the foundry presumption does not apply", num(*process_nm_max)),
            (Some(true), Some(t)) if t < threshold.0 => format!("logic IC at {node}, designer not approved: presumed 3A090.a unless rebutted; {} billion transistors < {} billion (transactions in {year}) rebuts it only if packaged by the front-end fabricator outside Macau and D:5 or by an approved OSAT (Note 1.b, 1.c)", num(t), num(threshold.0)),
            (Some(true), Some(t)) => format!("logic IC at {node} with {} billion transistors ≥ {} billion (transactions in {year}) and no approved designer: a foundry or OSAT must presume 3A090.a", num(t), num(threshold.0)),
            (Some(true), None) => format!("logic IC at {node}, designer not approved, transistor count not given: a count that cannot be confirmed leaves the presumption of 3A090.a standing (Note 1.d)"),
            (None, _) => "process node and transistor architecture not given: whether the foundry presumption applies is unknown".to_string(),
        };
    let reason =
        Reason::new("foundry.presumption", cite(r, citation), text).with_confidence(threshold.1);
    Some((presumption, count_below, reason))
}

/// Is the item a PRC-developed IC meeting 3A090 (named, or designed in a listed country)?
fn prc_3a090_of(
    item: ItemRef,
    spec: &Spec,
    p: &ClassificationParams,
    is_3a090: Option<bool>,
) -> Option<bool> {
    let ClassificationParams::Prc3a090 {
        named,
        designer_countries,
        ..
    } = p
    else {
        return None;
    };
    if item.chip.is_some_and(|id| named.iter().any(|n| n == id)) {
        return Some(true);
    }
    // A regime that reaches named ICs only (Huawei's footnote 1 reading before the 13 May
    // 2025 guidance) reaches no other item, whatever its designer.
    if designer_countries.is_empty() {
        return Some(false);
    }
    let prc = spec
        .designer_country
        .as_ref()
        .map(|d| designer_countries.iter().any(|x| x == d));
    match (prc, is_3a090) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// The reasons that explain the item flags (H20 class, the ceiling, PRC 3A090, NAC/ACA).
fn flag_reasons(
    flags: &Flags,
    c: &Classification,
    spec: &Spec,
    params: &Params,
    reasons: &mut Vec<Reason>,
) {
    if let Some((
        r,
        ClassificationParams::H20Class {
            citation,
            memory_bandwidth_gbs_min,
            interconnect_gbs_min,
            ..
        },
    )) = params.h20
    {
        let text = match flags.h20_class {
            Some(true) => format!("H20-class: named in the 9 April 2025 requirement, or memory bandwidth ≥ {} GB/s or interconnect ≥ {} GB/s (memory {}, interconnect {})", num(*memory_bandwidth_gbs_min), num(*interconnect_gbs_min), opt(spec.memory_bandwidth_gbs, "GB/s"), opt(spec.interconnect_gbs, "GB/s")),
            Some(false) => format!("not H20-class: memory {} < {} GB/s and interconnect {} < {} GB/s", opt(spec.memory_bandwidth_gbs, "GB/s"), num(*memory_bandwidth_gbs_min), opt(spec.interconnect_gbs, "GB/s"), num(*interconnect_gbs_min)),
            None => "memory or interconnect bandwidth not given: whether the item is H20-class is unknown".to_string(),
        };
        reasons
            .push(Reason::new("h20-class", cite(r, citation), text).with_confidence(r.confidence));
    }
    if let Some((
        r,
        ClassificationParams::ReviewCeiling {
            citation,
            tpp_below,
            dram_bandwidth_gbs_below,
        },
    )) = params.ceiling
    {
        let text = match flags.jan2026_ceiling {
            Some(true) => format!("TPP {} < {} and DRAM bandwidth {} < {} GB/s: within the 91 FR 1684 ceiling", opt(c.tpp, ""), num(*tpp_below), opt(spec.memory_bandwidth_gbs, "GB/s"), num(*dram_bandwidth_gbs_below)),
            Some(false) => format!("TPP {} or DRAM bandwidth {} at or above the 91 FR 1684 ceiling (TPP < {}, DRAM bandwidth < {} GB/s)", opt(c.tpp, ""), opt(spec.memory_bandwidth_gbs, "GB/s"), num(*tpp_below), num(*dram_bandwidth_gbs_below)),
            None => "TPP or DRAM bandwidth not given: whether the 91 FR 1684 ceiling is met is unknown".to_string(),
        };
        reasons.push(Reason::new("91FR1684.ceiling", cite(r, citation), text));
    }
    if let Some((r, ClassificationParams::Prc3a090 { citation, text, .. })) = params.prc {
        if flags.prc_3a090 != Some(false) {
            let text = match flags.prc_3a090 {
                Some(true) => text.as_deref().unwrap_or("a PRC-developed IC meeting 3A090 (named in, or within, the 13 May 2025 GP10 guidance)"),
                _ => "designer country or classification unknown: whether this is a PRC 3A090 IC is unknown",
            };
            reasons.push(
                Reason::new("prc-3a090", cite(r, citation), text).with_confidence(r.confidence),
            );
        }
    }
    if c.eccn == Eccn::E3A090A || c.eccn == Eccn::E3A090B {
        let text = match flags.nac_aca_eligible {
            Some(true) => "not a datacenter 3A090.a item: License Exceptions NAC/ACA can apply",
            Some(false) => "a datacenter 3A090.a item: License Exceptions NAC/ACA do not apply",
            None => "datacenter design unknown: NAC/ACA eligibility unknown",
        };
        reasons.push(Reason::new("LE-NAC-ACA", "15 CFR 740.8; 89 FR 23876", text));
    }
}

fn opt(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(x) if unit.is_empty() => num(x),
        Some(x) => format!("{} {unit}", num(x)),
        None => "unknown".to_string(),
    }
}
