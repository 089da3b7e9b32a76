//! The licence decision for one order line, as of the order's date.
//!
//! Every rule of every binding regime is evaluated over the order's facts to `yes`, `no` or
//! `unknown` (a needed fact is missing). Requirements and holds are then combined, most
//! restrictive first; a missing fact never yields `no_license_required` (fail closed). The
//! decision carries its reasons and a trace of every rule considered.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::classify::{classify, Classification, Eccn, ItemRef};
use crate::confidence::Confidence;
use crate::country::CountryCode;
use crate::order::{Order, ResolvedOrder, ResolvedParty};
use crate::reason::{num, Reason};
use crate::regime::{
    Condition, Effect, ExceptionChoice, Regime, ReviewPolicy, Rule, Scope, SetExpr,
};
use crate::ruleset::{Context, Ruleset};
use crate::spec::SpecError;

/// The decision's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    NoLicenseRequired,
    LicenseException,
    /// Covered by a licence on the ledger with enough balance (issue 5).
    Licensed,
    LicenseRequired,
    HoldForReview,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NoLicenseRequired => "no_license_required",
            Outcome::LicenseException => "license_exception",
            Outcome::Licensed => "licensed",
            Outcome::LicenseRequired => "license_required",
            Outcome::HoldForReview => "hold_for_review",
        }
    }
}

/// How a rule came out for this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Applied,
    NotApplicable,
    /// A fact the rule needs is missing.
    Unknown,
    /// The regime does not bind on this date.
    NotBinding,
    /// Replaced by another rule for this item.
    Displaced,
}

/// One rule considered, for `explain`.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTrace {
    pub rule: String,
    pub regime: String,
    pub citation: String,
    pub status: RuleStatus,
    pub detail: String,
}

/// The decision for one order line.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: String,
    pub date: NaiveDate,
    pub outcome: Outcome,
    pub exception: Option<String>,
    pub review_policy: Option<ReviewPolicy>,
    pub eccn: Eccn,
    /// TPP of the whole line (per-unit TPP × quantity), rounded.
    pub tpp_total: Option<u64>,
    pub reasons: Vec<Reason>,
    pub conditions: Vec<Condition>,
    pub regimes: Vec<String>,
    pub unconfirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    pub quantity: u64,
    pub destination: String,
    /// TPP this order counts against LPP and allocations (3A090.a/4A090.a items only).
    pub tpp_counted: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forced_regimes: Vec<String>,
    #[serde(skip)]
    pub trace: Vec<RuleTrace>,
    /// A per-consignee quota (LPP) was consulted: the decision depends on what shipped before.
    #[serde(skip)]
    pub quota_checked: bool,
    #[serde(skip)]
    pub classification: Option<Classification>,
}

/// What the engine needs to know about quotas already used (read-only).
pub trait QuotaView {
    /// TPP already exported under License Exception LPP to `consignee` in `year`.
    fn lpp_used(&self, consignee: &str, year: i32) -> f64;
}

/// No quota used anywhere.
pub struct NoQuotas;

impl QuotaView for NoQuotas {
    fn lpp_used(&self, _consignee: &str, _year: i32) -> f64 {
        0.0
    }
}

/// LPP used so far, tallied in memory by consignee and calendar year (one `check` run).
#[derive(Debug, Default, Clone)]
pub struct LppTally(std::collections::HashMap<(String, i32), f64>);

impl QuotaView for LppTally {
    fn lpp_used(&self, consignee: &str, year: i32) -> f64 {
        self.0
            .get(&(consignee.to_string(), year))
            .copied()
            .unwrap_or(0.0)
    }
}

impl LppTally {
    /// Count a decision that shipped under License Exception LPP.
    pub fn record(&mut self, consignee: &str, d: &Decision) {
        if d.exception.as_deref() == Some("LPP") {
            *self
                .0
                .entry((consignee.to_string(), d.date.year()))
                .or_default() += d.tpp_counted;
        }
    }
}

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown,
}

struct Eval {
    truth: Tri,
    notes: Vec<String>,
    unconfirmed: bool,
}

impl Eval {
    fn yes() -> Eval {
        Eval {
            truth: Tri::Yes,
            notes: Vec::new(),
            unconfirmed: false,
        }
    }

    /// AND in another predicate's result.
    fn and(&mut self, truth: Tri, note: String, unconfirmed: bool) {
        self.truth = match (self.truth, truth) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::Yes,
        };
        self.unconfirmed |= unconfirmed;
        self.notes.push(note);
    }

    fn text(&self) -> String {
        self.notes.join("; ")
    }
}

struct Facts<'a> {
    rs: &'a Ruleset,
    date: NaiveDate,
    order: &'a ResolvedOrder<'a>,
    class: &'a Classification,
}

impl Facts<'_> {
    fn parties(&self) -> Vec<(&'static str, &ResolvedParty)> {
        let mut v = vec![("consignee", &self.order.consignee)];
        if self.order.order.end_user.is_some() {
            v.push(("end user", &self.order.end_user));
        }
        v
    }
}

fn set_label(set: &SetExpr) -> String {
    if let Some(l) = &set.label {
        return l.clone();
    }
    let mut parts: Vec<String> = set
        .groups
        .iter()
        .map(|g| format!("Country Group {g}"))
        .collect();
    parts.extend(set.countries.iter().cloned());
    parts.extend(set.sets.iter().cloned());
    if set.all {
        parts.push("any country".into());
    }
    let mut s = parts.join(" or ");
    let ex: Vec<String> = set
        .except_groups
        .iter()
        .map(|g| format!("Country Group {g}"))
        .chain(set.except_countries.iter().cloned())
        .chain(set.except_sets.iter().cloned())
        .collect();
    if !ex.is_empty() {
        s.push_str(&format!(" (not {})", ex.join(" or ")));
    }
    s
}

/// Is `code` in `set` on `date`? Returns (member, unconfirmed, what matched or excluded).
fn in_set(
    rs: &Ruleset,
    regime: &Regime,
    set: &SetExpr,
    code: &CountryCode,
    date: NaiveDate,
) -> (bool, bool, String) {
    let eff = rs.countries.effective(code);
    let mut unconfirmed = false;
    let mut matched: Option<String> = None;
    if set.all {
        matched = Some("any country".into());
    }
    for c in &set.countries {
        if matched.is_none() && (c == code.as_str() || c == eff.as_str()) {
            matched = Some(c.clone());
        }
    }
    for g in &set.groups {
        if matched.is_some() {
            break;
        }
        let a = rs.countries.in_group(code, g, date);
        unconfirmed |= a.unconfirmed && !a.member;
        if a.member {
            unconfirmed |= a.unconfirmed;
            matched = Some(format!("Country Group {g}"));
        }
    }
    for n in &set.sets {
        if matched.is_some() {
            break;
        }
        if let Some(inner) = regime.sets.get(n) {
            let (m, u, _) = in_set(rs, regime, inner, code, date);
            unconfirmed |= u;
            if m {
                matched = Some(inner.label.clone().unwrap_or_else(|| n.clone()));
            }
        }
    }
    let Some(what) = matched else {
        return (false, unconfirmed, format!("not in {}", set_label(set)));
    };
    for c in &set.except_countries {
        if c == code.as_str() || c == eff.as_str() {
            return (false, unconfirmed, format!("in {what} but excluded as {c}"));
        }
    }
    for g in &set.except_groups {
        let a = rs.countries.in_group(code, g, date);
        unconfirmed |= a.unconfirmed;
        if a.member {
            return (
                false,
                unconfirmed,
                format!("in {what} but also in Country Group {g}"),
            );
        }
    }
    for n in &set.except_sets {
        if let Some(inner) = regime.sets.get(n) {
            let (m, u, _) = in_set(rs, regime, inner, code, date);
            unconfirmed |= u;
            if m {
                return (
                    false,
                    unconfirmed,
                    format!(
                        "in {what} but also in {}",
                        inner.label.clone().unwrap_or_else(|| n.clone())
                    ),
                );
            }
        }
    }
    (true, unconfirmed, format!("in {what}"))
}

fn country_name(rs: &Ruleset, code: &CountryCode) -> String {
    rs.countries
        .get(code.as_str())
        .map(|c| format!("{} ({})", code, c.name))
        .unwrap_or_else(|| code.to_string())
}

/// Evaluate a scope over the facts.
fn eval_scope(f: &Facts, regime: &Regime, scope: &Scope) -> Eval {
    let mut e = Eval::yes();
    let date = f.date;
    if let Some(items) = &scope.items {
        if !items.chips.is_empty() {
            let is = f
                .order
                .chip
                .is_some_and(|c| items.chips.iter().any(|x| x == c));
            let note = format!(
                "item {} one of {}",
                if is { "is" } else { "is not" },
                items.chips.join(", ")
            );
            e.and(if is { Tri::Yes } else { Tri::No }, note, false);
        }
        if !items.eccns.is_empty() {
            let cands = f.class.candidates();
            let hits = cands
                .iter()
                .filter(|c| items.eccns.iter().any(|x| x == c.as_str()))
                .count();
            let truth = if hits == cands.len() {
                Tri::Yes
            } else if hits == 0 {
                Tri::No
            } else {
                Tri::Unknown
            };
            let note = match truth {
                Tri::Yes => format!("item is {}", f.class.eccn),
                Tri::No => format!("item is {}, not {}", f.class.eccn, items.eccns.join("/")),
                Tri::Unknown => format!(
                    "item classification is indeterminate (could be {})",
                    cands
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            e.and(truth, note, false);
        }
        for flag in &items.flags {
            let (t, note) = match f.class.flags.get(flag) {
                Some(true) => (Tri::Yes, format!("item is {flag}")),
                Some(false) => (Tri::No, format!("item is not {flag}")),
                None => (
                    Tri::Unknown,
                    format!("whether the item is {flag} is unknown"),
                ),
            };
            e.and(t, note, false);
        }
        for flag in &items.not_flags {
            let (t, note) = match f.class.flags.get(flag) {
                Some(true) => (Tri::No, format!("item is {flag}")),
                Some(false) => (Tri::Yes, format!("item is not {flag}")),
                None => (
                    Tri::Unknown,
                    format!("whether the item is {flag} is unknown"),
                ),
            };
            e.and(t, note, false);
        }
    }
    if let Some(set) = &scope.destination {
        let (m, u, why) = in_set(f.rs, regime, set, &f.order.destination, date);
        e.and(
            if m { Tri::Yes } else { Tri::No },
            format!(
                "destination {} is {why}",
                country_name(f.rs, &f.order.destination)
            ),
            u,
        );
    }
    if let Some(set) = &scope.end_user_location {
        let loc = f
            .order
            .end_user
            .country
            .clone()
            .unwrap_or_else(|| f.order.destination.clone());
        let (m, u, why) = in_set(f.rs, regime, set, &loc, date);
        e.and(
            if m { Tri::Yes } else { Tri::No },
            format!("end user located in {} is {why}", country_name(f.rs, &loc)),
            u,
        );
    }
    if let Some(set) = &scope.exporter_country {
        match f.order.exporter.as_ref().and_then(|p| p.country.clone()) {
            Some(c) => {
                let (m, u, why) = in_set(f.rs, regime, set, &c, date);
                e.and(
                    if m { Tri::Yes } else { Tri::No },
                    format!("exporter in {} is {why}", country_name(f.rs, &c)),
                    u,
                );
            }
            None => e.and(
                Tri::Unknown,
                "the exporter's country is not given".into(),
                false,
            ),
        }
    }
    if let Some(set) = &scope.headquarters {
        let (t, note, u) = hq_any(f, regime, set);
        e.and(t, note, u);
    }
    if let Some(set) = &scope.headquarters_none {
        let (t, note, u) = hq_any(f, regime, set);
        let t = match t {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
        };
        e.and(t, note, u);
    }
    if let Some(set) = &scope.headquarters_all {
        let (t, note, u) = hq_all(f, regime, set);
        e.and(t, note, u);
    }
    if let Some(want) = scope.owned_by_listed {
        let (t, note) = owned_by_listed(f);
        let t = match (t, want) {
            (Tri::Unknown, _) => Tri::Unknown,
            (t, true) => t,
            (Tri::Yes, false) => Tri::No,
            (_, false) => Tri::Yes,
        };
        e.and(t, note, false);
    }
    if !scope.end_use_any.is_empty() || !scope.end_use_all.is_empty() {
        match &f.order.order.end_use {
            None => e.and(Tri::Unknown, "the end use is not given".into(), false),
            Some(u) => {
                let has = |t: &String| u.tags.iter().any(|x| x == t);
                let any = scope.end_use_any.is_empty() || scope.end_use_any.iter().any(has);
                let all = scope.end_use_all.iter().all(has);
                let mut wanted: Vec<String> = scope.end_use_all.clone();
                if !scope.end_use_any.is_empty() {
                    wanted.push(format!("one of {}", scope.end_use_any.join("/")));
                }
                let note = format!(
                    "end use tags [{}] {} {}",
                    u.tags.join(", "),
                    if any && all {
                        "include"
                    } else {
                        "do not include"
                    },
                    wanted.join(" and ")
                );
                e.and(if any && all { Tri::Yes } else { Tri::No }, note, false);
            }
        }
    }
    e
}

/// Is any party (or its ultimate parent) headquartered in the set?
fn hq_any(f: &Facts, regime: &Regime, set: &SetExpr) -> (Tri, String, bool) {
    let mut unknown = Vec::new();
    let mut unconfirmed = false;
    for (role, p) in f.parties() {
        for (what, code) in [
            ("headquarters", &p.headquarters),
            ("ultimate parent's headquarters", &p.parent_headquarters),
        ] {
            match code {
                Some(c) => {
                    let (m, u, why) = in_set(f.rs, regime, set, c, f.date);
                    unconfirmed |= u;
                    if m {
                        return (
                            Tri::Yes,
                            format!(
                                "{role} `{}` has its {what} in {} ({why})",
                                p.name,
                                country_name(f.rs, c)
                            ),
                            unconfirmed,
                        );
                    }
                }
                None => unknown.push(format!("{role}'s {what}")),
            }
        }
    }
    if unknown.is_empty() {
        (
            Tri::No,
            format!(
                "no party is headquartered, or has its ultimate parent headquartered, in {}",
                set_label(set)
            ),
            unconfirmed,
        )
    } else {
        (
            Tri::Unknown,
            format!("not given: {}", unknown.join(", ")),
            unconfirmed,
        )
    }
}

/// Is every party located and headquartered (with its parent) in the set?
fn hq_all(f: &Facts, regime: &Regime, set: &SetExpr) -> (Tri, String, bool) {
    let mut unknown = Vec::new();
    let mut unconfirmed = false;
    for (role, p) in f.parties() {
        let located = p
            .country
            .clone()
            .or_else(|| Some(f.order.destination.clone()));
        for (what, code) in [
            ("location", &located),
            ("headquarters", &p.headquarters),
            ("ultimate parent's headquarters", &p.parent_headquarters),
        ] {
            match code {
                Some(c) => {
                    let (m, u, why) = in_set(f.rs, regime, set, c, f.date);
                    unconfirmed |= u;
                    if !m {
                        return (
                            Tri::No,
                            format!(
                                "{role} `{}` {what} {} is {why}",
                                p.name,
                                country_name(f.rs, c)
                            ),
                            unconfirmed,
                        );
                    }
                }
                None => unknown.push(format!("{role}'s {what}")),
            }
        }
    }
    if unknown.is_empty() {
        (
            Tri::Yes,
            format!(
                "every party is located and headquartered in {}",
                set_label(set)
            ),
            unconfirmed,
        )
    } else {
        (
            Tri::Unknown,
            format!("not given: {}", unknown.join(", ")),
            unconfirmed,
        )
    }
}

fn owned_by_listed(f: &Facts) -> (Tri, String) {
    let mut unknown = Vec::new();
    for (role, p) in f.parties() {
        let listed: f64 = p
            .owners
            .iter()
            .filter(|o| o.listed.is_some())
            .map(|o| o.percent)
            .sum();
        if listed >= 50.0 {
            let names: Vec<String> = p
                .owners
                .iter()
                .filter(|o| o.listed.is_some())
                .map(|o| {
                    format!(
                        "{} ({}%, {})",
                        o.name,
                        num(o.percent),
                        o.listed.clone().unwrap_or_default()
                    )
                })
                .collect();
            return (
                Tri::Yes,
                format!(
                    "{role} `{}` is {}% owned by listed parties: {}",
                    p.name,
                    num(listed),
                    names.join(", ")
                ),
            );
        }
        if p.ownership_checked != Some(true) {
            unknown.push(format!("{role} `{}`", p.name));
        }
    }
    if unknown.is_empty() {
        (
            Tri::No,
            "ownership checked: no party is 50% or more owned by listed parties".into(),
        )
    } else {
        (
            Tri::Unknown,
            format!(
                "ownership not checked for {} (set `ownership_checked` or list `owners`)",
                unknown.join(", ")
            ),
        )
    }
}

/// A requirement that applied.
struct Requirement<'a> {
    rule: &'a Rule,
    regime: &'a Regime,
    policy: Option<ReviewPolicy>,
    policy_unconfirmed: bool,
    exceptions: Vec<(&'a ExceptionChoice, String)>,
    conditions: Vec<Condition>,
    note: String,
}

/// Decide one order in a context (`ctx.as_of` is replaced by the order's date).
pub fn decide(
    rs: &Ruleset,
    order: &Order,
    forced: &[String],
    quotas: &dyn QuotaView,
) -> Result<Decision, SpecError> {
    let resolved = order.resolve(rs)?;
    let ctx = Context {
        as_of: order.date,
        forced: forced.to_vec(),
    };
    let class = classify(
        rs,
        ItemRef {
            chip: resolved.chip,
            spec: resolved.spec,
        },
        &ctx,
    )?;
    Ok(decide_resolved(rs, &resolved, class, &ctx, quotas))
}

fn decide_resolved(
    rs: &Ruleset,
    order: &ResolvedOrder,
    class: Classification,
    ctx: &Context,
    quotas: &dyn QuotaView,
) -> Decision {
    let f = Facts {
        rs,
        date: ctx.as_of,
        order,
        class: &class,
    };
    let qty = order.order.quantity as f64;
    let unit_counted = match class.kind {
        crate::spec::ItemKind::Computer => class.tpp_counted.unwrap_or(0.0),
        _ if class.is_a_level() => class.tpp.unwrap_or(0.0),
        _ => 0.0,
    };
    let tpp_counted = unit_counted * qty;
    let mut trace = Vec::new();
    let mut reasons: Vec<Reason> = class
        .reasons
        .iter()
        .filter(|r| r.rule.starts_with('3') || r.rule.starts_with('4'))
        .cloned()
        .collect();
    let mut unconfirmed = class.unconfirmed;
    let mut requirements: Vec<Requirement> = Vec::new();
    let mut holds: Vec<Reason> = Vec::new();
    let mut unknowns: Vec<Reason> = Vec::new();
    let binding: Vec<&Regime> = rs.binding(ctx).collect();

    // Rules displaced for this item by a binding rule that reaches it.
    let mut displaced: BTreeSet<&str> = BTreeSet::new();
    for r in &binding {
        for rule in &r.rules {
            if !rule.displaces.is_empty() {
                let items = Scope {
                    items: rule.when.items.clone(),
                    ..Scope::default()
                };
                if eval_scope(&f, r, &items).truth == Tri::Yes {
                    displaced.extend(rule.displaces.iter().map(String::as_str));
                }
            }
        }
    }

    for r in rs.regimes() {
        let state = rs.state(r, ctx);
        for rule in &r.rules {
            let mut t = RuleTrace {
                rule: rule.id.clone(),
                regime: r.id.clone(),
                citation: rule.citation.clone(),
                status: RuleStatus::NotBinding,
                detail: String::new(),
            };
            if !state.binds() {
                t.detail = format!("regime {} is {:?} on {}", r.id, state, ctx.as_of)
                    .replace("NotYetInForce", "not yet in force")
                    .replace("PendingCompliance", "pending its compliance date")
                    .replace("NotEnforced", "not enforced")
                    .replace("Superseded", "superseded")
                    .replace("Suspended", "suspended");
                trace.push(t);
                continue;
            }
            if displaced.contains(rule.id.as_str()) {
                t.status = RuleStatus::Displaced;
                t.detail = "replaced for this item by a later rule in force".into();
                trace.push(t);
                continue;
            }
            let e = eval_scope(&f, r, &rule.when);
            t.detail = e.text();
            let conf = if e.unconfirmed {
                Confidence::U
            } else {
                rule.confidence.max(r.confidence)
            };
            match e.truth {
                Tri::No => t.status = RuleStatus::NotApplicable,
                Tri::Unknown => {
                    t.status = RuleStatus::Unknown;
                    // A missing fact only matters for rules that would restrict.
                    if matches!(
                        rule.effect,
                        Effect::LicenseRequirement { .. } | Effect::Hold {}
                    ) {
                        unknowns.push(
                            Reason::new(
                                rule.id.clone(),
                                rule.citation.clone(),
                                format!(
                                    "{}: cannot tell whether it applies: {}",
                                    rule.title,
                                    e.text()
                                ),
                            )
                            .with_confidence(conf),
                        );
                    }
                }
                Tri::Yes => {
                    t.status = RuleStatus::Applied;
                    unconfirmed |= conf.is_unconfirmed();
                    match &rule.effect {
                        Effect::LicenseRequirement {
                            review_policy,
                            exceptions,
                            conditions,
                            ..
                        } => {
                            let mut policy = None;
                            let mut policy_unconfirmed = false;
                            for p in review_policy {
                                let pe = eval_scope(&f, r, &p.when);
                                if pe.truth != Tri::No {
                                    policy = Some(p.policy);
                                    policy_unconfirmed =
                                        p.confidence.is_unconfirmed() || pe.unconfirmed;
                                    break;
                                }
                            }
                            let mut avail = Vec::new();
                            for x in exceptions {
                                if x.from.is_some_and(|d| ctx.as_of < d)
                                    || x.until.is_some_and(|d| ctx.as_of >= d)
                                {
                                    continue;
                                }
                                let xe = eval_scope(&f, r, &x.when);
                                if xe.truth == Tri::Yes {
                                    avail.push((x, xe.text()));
                                }
                            }
                            requirements.push(Requirement {
                                rule,
                                regime: r,
                                policy,
                                policy_unconfirmed,
                                exceptions: avail,
                                conditions: conditions.clone(),
                                note: e.text(),
                            });
                        }
                        Effect::Hold {} => holds.push(
                            Reason::new(
                                rule.id.clone(),
                                rule.citation.clone(),
                                format!("{}: {}", rule.title, e.text()),
                            )
                            .with_confidence(conf),
                        ),
                        Effect::ReviewPolicyChange { .. } | Effect::LicenceConditions { .. } => {}
                    }
                }
            }
            trace.push(t);
        }
    }

    // Review-policy changes and licence conditions from applied rules.
    for r in &binding {
        for rule in &r.rules {
            if displaced.contains(rule.id.as_str()) {
                continue;
            }
            match &rule.effect {
                Effect::ReviewPolicyChange {
                    policy,
                    applies_to,
                    conditions,
                } => {
                    let targets: Vec<usize> = requirements
                        .iter()
                        .enumerate()
                        .filter(|(_, q)| applies_to.contains(&q.rule.id))
                        .map(|(i, _)| i)
                        .collect();
                    if targets.is_empty() {
                        continue;
                    }
                    let e = eval_scope(&f, r, &rule.when);
                    if e.truth == Tri::Yes {
                        for i in targets {
                            requirements[i].policy = Some(*policy);
                            requirements[i]
                                .conditions
                                .extend(conditions.iter().cloned());
                        }
                        reasons.push(
                            Reason::new(
                                rule.id.clone(),
                                rule.citation.clone(),
                                format!(
                                    "{}: review policy becomes {}: {}",
                                    rule.title,
                                    policy_name(*policy),
                                    e.text()
                                ),
                            )
                            .with_confidence(rule.confidence),
                        );
                    } else if e.truth == Tri::Unknown {
                        reasons.push(Reason::new(rule.id.clone(), rule.citation.clone(), format!("{} not applied (a condition is not shown, so the stricter policy stands): {}", rule.title, e.text())));
                    }
                }
                Effect::LicenceConditions {
                    applies_to,
                    conditions,
                } if requirements.iter().any(|q| applies_to.contains(&q.rule.id))
                    && eval_scope(&f, r, &rule.when).truth == Tri::Yes =>
                {
                    for q in requirements
                        .iter_mut()
                        .filter(|q| applies_to.contains(&q.rule.id))
                    {
                        q.conditions.extend(conditions.iter().cloned());
                    }
                    reasons.push(
                        Reason::new(
                            rule.id.clone(),
                            rule.citation.clone(),
                            format!("{}: licences carry conditions", rule.title),
                        )
                        .with_confidence(rule.confidence),
                    );
                }
                _ => {}
            }
        }
    }

    for q in &requirements {
        let policy = q
            .policy
            .map(|p| format!("; review policy {}", policy_name(p)))
            .unwrap_or_default();
        reasons.push(
            Reason::new(
                q.rule.id.clone(),
                q.rule.citation.clone(),
                format!("{}: licence required: {}{policy}", q.rule.title, q.note),
            )
            .with_confidence(q.rule.confidence.max(q.regime.confidence)),
        );
        unconfirmed |= q.policy_unconfirmed;
    }

    // The exception that meets every requirement, in order of preference.
    let mut exception: Option<(&ExceptionChoice, String)> = None;
    let mut exception_notes = Vec::new();
    let mut quota_checked = false;
    if !requirements.is_empty() {
        for sym in ["ACA", "AIA", "HBM", "NAC", "LPP", "ACM"] {
            let all: Option<Vec<&(&ExceptionChoice, String)>> = requirements
                .iter()
                .map(|q| q.exceptions.iter().find(|(x, _)| x.exception == sym))
                .collect();
            let Some(all) = all else { continue };
            let choice = all[0];
            if let Some(limit) = choice.0.tpp_per_consignee_year {
                quota_checked = true;
                let year = ctx.as_of.year();
                let used = quotas.lpp_used(&order.consignee.name, year);
                if used + tpp_counted > limit {
                    exception_notes.push(Reason::new(format!("LE-{sym}.quota"), choice.0.citation.clone(), format!("License Exception {sym} not available: consignee `{}` has used {} TPP in {year}; this order's {} TPP would bring it to {} > {}", order.consignee.name, num(used), num(tpp_counted), num(used + tpp_counted), num(limit))));
                    continue;
                }
                exception_notes.push(Reason::new(format!("LE-{sym}.quota"), choice.0.citation.clone(), format!("consignee `{}` has used {} TPP in {year}; with this order's {} TPP the total {} stays within {}", order.consignee.name, num(used), num(tpp_counted), num(used + tpp_counted), num(limit))));
            }
            exception = Some((choice.0, choice.1.clone()));
            break;
        }
    }

    let policy = requirements.iter().filter_map(|q| q.policy).max();
    let mut conditions: Vec<Condition> = Vec::new();
    let outcome;
    let mut exception_out = None;
    let mut review_policy = None;
    if !holds.is_empty() {
        outcome = Outcome::HoldForReview;
        reasons.extend(holds);
        reasons.extend(unknowns);
    } else if let Some((x, why)) = exception.clone().filter(|_| unknowns.is_empty()) {
        outcome = Outcome::LicenseException;
        exception_out = Some(x.exception.clone());
        unconfirmed |= x.confidence.is_unconfirmed();
        reasons.extend(exception_notes);
        reasons.push(
            Reason::new(
                format!("LE-{}", x.exception),
                x.citation.clone(),
                format!(
                    "License Exception {} meets every requirement: {why}",
                    x.exception
                ),
            )
            .with_confidence(x.confidence),
        );
        conditions.extend(x.conditions.iter().cloned());
    } else if !requirements.is_empty() {
        if exception.is_some() {
            // An exception would do, but a missing fact could change that: a person decides.
            outcome = Outcome::HoldForReview;
            reasons.extend(unknowns);
        } else {
            outcome = Outcome::LicenseRequired;
            review_policy = policy;
            reasons.extend(exception_notes);
            for q in &requirements {
                for c in &q.conditions {
                    if !conditions.contains(c) {
                        conditions.push(c.clone());
                    }
                }
            }
            // Missing facts cannot loosen a licence requirement; they stay in the trace.
        }
    } else if !unknowns.is_empty() {
        outcome = Outcome::HoldForReview;
        reasons.extend(unknowns);
    } else {
        outcome = Outcome::NoLicenseRequired;
        reasons.push(Reason::new(
            "no-requirement",
            "15 CFR 742.6; 15 CFR part 744",
            format!(
                "no licence requirement in force on {} reaches {} {} to {}",
                ctx.as_of,
                class.eccn,
                class.chip.clone().unwrap_or_else(|| class.item.clone()),
                country_name(rs, &order.destination)
            ),
        ));
    }
    unconfirmed |= reasons.iter().any(|r| r.confidence.is_unconfirmed());

    Decision {
        id: order.order.id.clone(),
        date: ctx.as_of,
        outcome,
        exception: exception_out,
        review_policy,
        eccn: class.eccn,
        tpp_total: class.tpp.map(|t| (t * qty).round() as u64),
        reasons,
        conditions,
        regimes: binding.iter().map(|r| r.id.clone()).collect(),
        unconfirmed,
        chip: order.chip.map(str::to_string),
        quantity: order.order.quantity,
        destination: order.destination.to_string(),
        tpp_counted,
        forced_regimes: ctx.forced.clone(),
        trace,
        quota_checked,
        classification: Some(class),
    }
}

/// The wire name of a review policy.
pub fn policy_name(p: ReviewPolicy) -> &'static str {
    match p {
        ReviewPolicy::PresumptionOfApproval => "presumption_of_approval",
        ReviewPolicy::CaseByCase => "case_by_case",
        ReviewPolicy::PresumptionOfDenial => "presumption_of_denial",
    }
}
