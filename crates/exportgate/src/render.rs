//! Text rendering of classifications, decisions and traces for people.

use std::fmt::Write;

use exportgate_core::decide::{policy_name, RuleStatus};
use exportgate_core::reason::{num, Reason};
use exportgate_core::{Classification, Decision};

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn reasons(out: &mut String, reasons: &[Reason]) {
    for r in reasons {
        let tag = if r.confidence.is_unconfirmed() {
            " [unconfirmed]"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  - [{}] {}{tag}\n      {}",
            r.rule, r.summary, r.citation
        );
    }
}

/// A classification for people.
pub fn classification(c: &Classification) -> String {
    let mut s = String::new();
    let id = c
        .chip
        .as_ref()
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    let _ = writeln!(s, "{}{id}, as of {}", c.item, c.as_of);
    let para = c
        .paragraph
        .as_ref()
        .map(|p| format!("  ({p})"))
        .unwrap_or_default();
    let _ = writeln!(s, "  ECCN         {}{para}", c.eccn);
    if !c.possible.is_empty() {
        let p: Vec<&str> = c.possible.iter().map(|e| e.as_str()).collect();
        let _ = writeln!(s, "  could be     {}", p.join(", "));
    }
    if let Some(t) = c.tpp {
        let prec = c
            .tpp_precision
            .as_ref()
            .map(|p| format!("  (set by {p})"))
            .unwrap_or_default();
        let _ = writeln!(s, "  TPP          {}{prec}", num(t));
    }
    if let Some(pd) = c.performance_density {
        let _ = writeln!(s, "  PD           {}", num(pd));
    }
    if let Some(d) = c.memory_bandwidth_density {
        let _ = writeln!(s, "  HBM density  {} GB/s/mm²", num(d));
    }
    let f = &c.flags;
    let _ = writeln!(
        s,
        "  flags        NAC/ACA eligible: {}, H20-class: {}, 91 FR 1684 ceiling: {}, foundry presumption: {}, PRC 3A090 IC: {}, HBM exception: {}",
        yes_no(f.nac_aca_eligible),
        yes_no(f.h20_class),
        yes_no(f.jan2026_ceiling),
        yes_no(f.foundry_presumption),
        yes_no(f.prc_3a090),
        yes_no(f.hbm_exception_eligible)
    );
    let _ = writeln!(s, "  regimes      {}", c.regimes.join(", "));
    if c.unconfirmed {
        let _ = writeln!(s, "  UNCONFIRMED: rests on a fact tagged unconfirmed");
    }
    let _ = writeln!(s, "reasons:");
    reasons(&mut s, &c.reasons);
    s
}

/// One decision for people.
pub fn decision(d: &Decision) -> String {
    let mut s = String::new();
    let what = d.chip.clone().unwrap_or_else(|| "spec".into());
    let _ = writeln!(
        s,
        "order {}: {} × {} to {} on {}",
        d.id, d.quantity, what, d.destination, d.date
    );
    let mut outcome = d.outcome.as_str().to_string();
    if let Some(x) = &d.exception {
        outcome.push_str(&format!(" ({x})"));
    }
    if let Some(p) = d.review_policy {
        outcome.push_str(&format!(", review policy {}", policy_name(p)));
    }
    let _ = writeln!(s, "  outcome      {outcome}");
    let _ = writeln!(s, "  ECCN         {}", d.eccn);
    if let Some(t) = d.tpp_total {
        let _ = writeln!(s, "  TPP total    {t}");
    }
    for c in &d.conditions {
        let v = c.value.map(|v| format!(" {}", num(v))).unwrap_or_default();
        let t = c
            .text
            .as_ref()
            .map(|t| format!(": {t}"))
            .unwrap_or_default();
        let _ = writeln!(s, "  condition    {}{v}{t}", c.kind);
    }
    let _ = writeln!(s, "  regimes      {}", d.regimes.join(", "));
    if d.unconfirmed {
        let _ = writeln!(s, "  UNCONFIRMED: rests on a fact tagged unconfirmed");
    }
    let _ = writeln!(s, "reasons:");
    reasons(&mut s, &d.reasons);
    s
}

/// Every rule considered, for `explain`.
pub fn trace(d: &Decision) -> String {
    let mut s = decision(d);
    if let Some(dd) = &d.due_diligence {
        let _ = writeln!(s, "due diligence ({}):", dd.policy);
        for p in &dd.parties {
            let state = if p.current {
                "current"
            } else {
                "past its review date"
            };
            let _ = writeln!(
                s,
                "  party {} ({}, matched by {}; review by {}, {state})",
                p.id, p.role, p.matched_by, p.review_by
            );
        }
        for m in &dd.missing {
            let what = if m.facts.is_empty() {
                m.note.clone().unwrap_or_default()
            } else {
                m.facts.join(", ")
            };
            let severity = m.severity.title();
            let _ = writeln!(s, "  to settle {} ({severity}): {what}", m.flag);
        }
    }
    let _ = writeln!(s, "rules considered:");
    for t in &d.trace {
        let status = match t.status {
            RuleStatus::Applied => "APPLIES",
            RuleStatus::NotApplicable => "does not apply",
            RuleStatus::Unknown => "UNKNOWN",
            RuleStatus::NotBinding => "not binding",
            RuleStatus::Displaced => "displaced",
        };
        let _ = writeln!(s, "  {:<48} {status}: {}", t.rule, t.detail);
    }
    s
}

/// "1 order", "2 orders": a count with its noun, singular or plural.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `s` cut to `width` characters for a table column, the cut marked with an ellipsis, so the
/// columns after it stay aligned whatever the value's length.
pub fn fit(s: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if s.chars().count() <= width {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    std::borrow::Cow::Owned(cut)
}
