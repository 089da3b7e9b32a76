//! The licence decision for one order line, as of the order's date.
//!
//! Every rule of every binding regime is evaluated over the order's facts to `yes`, `no` or
//! `unknown` (a needed fact is missing). Requirements and holds are then combined, most
//! restrictive first; a missing fact never yields `no_license_required` (fail closed). The
//! decision carries its reasons and a trace of every rule considered.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::classify::{classify, Classification, Eccn, ItemRef};
use crate::concepts::LicenceException;
use crate::confidence::Confidence;
use crate::country::CountryCode;
use crate::kyc::{DueDiligenceReport, MissingFacts, PartyUse};
use crate::order::{Fact, FactValue, Order, ResolvedOrder, ResolvedParty};
use crate::reason::{num, Reason};
use crate::regime::{Condition, FactOp, FactTest, ReviewPolicy, Severity};
use crate::rules::{
    name_words, CompanyName, CountrySet, Effect, ExceptionChoice, ItemSelector, RegimeRules, Rule,
    Scope,
};
use crate::ruleset::{Context, Ruleset};
use crate::screening::{policy_from_text, ListAction, ListHit, Screening, ScreeningRecord};
use crate::sets::SetWhy;
use crate::spec::{Spec, SpecError};

/// The decision's outcome.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

/// The decision for one order line: the engine's value. Its JSON shape is defined once, at
/// the edge, by `exportgate_pipeline::wire::DecisionJson`; the fields after `inputs` are
/// internal and never written.
#[derive(Debug, Clone)]
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
    /// Ids of the regimes binding on the date (short: held inline, not on the heap).
    pub regimes: Vec<compact_str::CompactString>,
    pub unconfirmed: bool,
    pub chip: Option<String>,
    pub quantity: u64,
    pub destination: String,
    /// TPP this order counts against LPP and allocations (3A090.a/4A090.a items only).
    pub tpp_counted: f64,
    pub forced_regimes: Vec<String>,
    /// How the parties were screened, against which lists, and every hit.
    pub screening: ScreeningRecord,
    /// Red flags raised or left unknown (a missing fact is reported, never cleared).
    pub red_flags: Vec<RedFlag>,
    /// Know your customer: the party records drawn on, where each fact came from, and the
    /// facts that would settle each unknown red flag (absent when there is nothing to say).
    pub due_diligence: Option<DueDiligenceReport>,
    /// The licence the order ships under (outcome `licensed`), with the balance left.
    pub licence: Option<LicenceUse>,
    /// What the decision rested on besides the order: engine version, rule-data digests and
    /// list versions (set by the pipeline; see [`crate::inputs`]).
    pub inputs: Option<Arc<crate::inputs::DecisionInputs>>,
    /// The country allocation a licence for this order counts against (AI Diffusion Tier 2);
    /// set on `license_required` decisions only.
    pub allocation: Option<CountryAllocation>,
    pub trace: Vec<RuleTrace>,
    /// A per-consignee quota (LPP) was consulted: the decision depends on what shipped before.
    pub quota_checked: bool,
    /// How many rules were evaluated over this order (for benchmarks).
    pub rules_evaluated: u32,
    pub classification: Option<Arc<Classification>>,
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

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown,
}

struct Eval {
    truth: Tri,
    /// The notes so far, joined by "; " (written only when explaining).
    notes: String,
    /// How many notes `notes` holds (an empty note still takes its separator).
    noted: usize,
    /// When explaining: the notes of the predicates that were false.
    failed: Vec<String>,
    unconfirmed: bool,
    explain: bool,
}

impl Eval {
    fn new(explain: bool) -> Eval {
        Eval {
            truth: Tri::Yes,
            // Room for a typical explanation, so notes rarely regrow.
            notes: if explain {
                String::with_capacity(256)
            } else {
                String::new()
            },
            noted: 0,
            failed: Vec::new(),
            unconfirmed: false,
            explain,
        }
    }

    /// AND in another predicate's result; its note is written only when explaining.
    fn and(&mut self, truth: Tri, note: impl FnOnce(&mut String), unconfirmed: bool) {
        self.combine(truth, unconfirmed);
        if self.explain {
            if self.noted > 0 {
                self.notes.push_str("; ");
            }
            let start = self.notes.len();
            note(&mut self.notes);
            self.noted += 1;
            if truth == Tri::No {
                self.failed.push(self.notes[start..].to_string());
            }
        }
    }

    fn combine(&mut self, truth: Tri, unconfirmed: bool) {
        self.truth = match (self.truth, truth) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::Yes,
        };
        self.unconfirmed |= unconfirmed;
    }

    fn text(&self) -> String {
        self.notes.clone()
    }

    /// When explaining: what was false, or the whole explanation if no single predicate was.
    fn failed_text(&self) -> String {
        if self.failed.is_empty() {
            self.text()
        } else {
            self.failed.join("; ")
        }
    }
}

struct Facts<'a> {
    rs: &'a Ruleset,
    date: NaiveDate,
    order: &'a ResolvedOrder<'a>,
    class: &'a Classification,
}

impl Facts<'_> {
    fn parties(&self) -> impl Iterator<Item = (&'static str, &ResolvedParty<'_>)> {
        let end_user = self
            .order
            .order
            .end_user
            .is_some()
            .then_some(("end user", &self.order.end_user));
        std::iter::once(("consignee", &self.order.consignee)).chain(end_user)
    }
}

/// Is `code` in `set` on `date`? Returns (member, unconfirmed, why).
fn in_set<'a>(
    rs: &Ruleset,
    set: &'a CountrySet,
    code: &CountryCode,
    date: NaiveDate,
) -> (bool, bool, SetWhy<'a>) {
    set.membership(&rs.countries, code, date)
}

/// A country as explanations name it, `IL (Israel)`, written without an allocation.
struct CountryName<'a>(&'a Ruleset, &'a CountryCode);

impl std::fmt::Display for CountryName<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.countries.get(self.1.as_str()) {
            Some(c) => write!(out, "{} ({})", self.1, c.name),
            None => write!(out, "{}", self.1),
        }
    }
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::Yes
    } else {
        Tri::No
    }
}

/// AND the item tests into `e`; without explaining, stop at the first that fails.
fn eval_items(f: &Facts, items: &ItemSelector, e: &mut Eval) {
    if !items.chips.is_empty() {
        let is = f
            .order
            .chip
            .is_some_and(|c| items.chips.iter().any(|x| x == c));
        e.and(
            tri(is),
            |w: &mut String| {
                let _ = write!(
                    w,
                    "item {} one of {}",
                    if is { "is" } else { "is not" },
                    items.chips.join(", ")
                );
            },
            false,
        );
        if !e.explain && e.truth == Tri::No {
            return;
        }
    }
    if !items.eccns.is_empty() {
        let cands = f.class.candidates();
        let hits = cands.iter().filter(|c| items.eccns.contains(c)).count();
        let truth = if hits == cands.len() {
            Tri::Yes
        } else if hits == 0 {
            Tri::No
        } else {
            Tri::Unknown
        };
        e.and(
            truth,
            |w: &mut String| {
                let _ = match truth {
                    Tri::Yes => write!(w, "item is {}", f.class.eccn),
                    Tri::No => write!(
                        w,
                        "item is {}, not {}",
                        f.class.eccn,
                        items
                            .eccns
                            .iter()
                            .map(|e| e.as_str())
                            .collect::<Vec<_>>()
                            .join("/")
                    ),
                    Tri::Unknown => write!(
                        w,
                        "item classification is indeterminate (could be {})",
                        cands
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
            },
            false,
        );
        if !e.explain && e.truth == Tri::No {
            return;
        }
    }
    // `flags` must be true, `not_flags` false; an unknown flag is unknown either way.
    let wanted = items.flags.iter().map(|f| (f, true));
    for (flag, want) in wanted.chain(items.not_flags.iter().map(|f| (f, false))) {
        let flag = flag.as_str();
        let v = f.class.flags.get(flag);
        let t = match v {
            Some(b) => tri(b == want),
            None => Tri::Unknown,
        };
        e.and(
            t,
            |w: &mut String| {
                let _ = match v {
                    Some(true) => write!(w, "item is {flag}"),
                    Some(false) => write!(w, "item is not {flag}"),
                    None => write!(w, "whether the item is {flag} is unknown"),
                };
            },
            false,
        );
        if !e.explain && e.truth == Tri::No {
            return;
        }
    }
}

/// Stop a scope step at the first predicate that fails, unless explaining.
macro_rules! stop_if_no {
    ($e:expr) => {
        if !$e.explain && $e.truth == Tri::No {
            return;
        }
    };
}

/// One step of a scope's evaluation: ANDs its predicates into the evaluation.
type ScopeStep = fn(&Facts, &Scope, &mut Eval);

/// Evaluate a scope over the facts. Notes are written only when `explain` is set; without it
/// evaluation stops at the first predicate that fails. The steps run in a fixed order (the
/// order of the notes).
fn eval_scope(f: &Facts, scope: &Scope, explain: bool) -> Eval {
    const STEPS: [ScopeStep; 7] = [
        scope_items,
        scope_places,
        scope_headquarters,
        scope_parties,
        scope_facts,
        scope_end_use_stated,
        scope_end_use_tags,
    ];
    let mut e = Eval::new(explain);
    for step in STEPS {
        step(f, scope, &mut e);
        if !explain && e.truth == Tri::No {
            break;
        }
    }
    e
}

/// The item tests.
fn scope_items(f: &Facts, scope: &Scope, e: &mut Eval) {
    if let Some(items) = &scope.items {
        eval_items(f, items, e);
    }
}

/// The places: destination, the end user's location, the exporter's country.
fn scope_places(f: &Facts, scope: &Scope, e: &mut Eval) {
    if let Some(set) = &scope.destination {
        let (m, u, why) = in_set(f.rs, set, &f.order.destination, f.date);
        e.and(
            tri(m),
            |w: &mut String| {
                let _ = write!(
                    w,
                    "destination {} is {why}",
                    CountryName(f.rs, &f.order.destination)
                );
            },
            u,
        );
        stop_if_no!(e);
    }
    if let Some(set) = &scope.end_user_location {
        let loc = f
            .order
            .end_user
            .country
            .as_ref()
            .unwrap_or(&f.order.destination);
        let (m, u, why) = in_set(f.rs, set, loc, f.date);
        e.and(
            tri(m),
            |w: &mut String| {
                let _ = write!(w, "end user located in {} is {why}", CountryName(f.rs, loc));
            },
            u,
        );
        stop_if_no!(e);
    }
    if let Some(set) = &scope.exporter_country {
        match f.order.exporter.as_ref().and_then(|p| p.country.as_ref()) {
            Some(c) => {
                let (m, u, why) = in_set(f.rs, set, c, f.date);
                e.and(
                    tri(m),
                    |w: &mut String| {
                        let _ = write!(w, "exporter in {} is {why}", CountryName(f.rs, c));
                    },
                    u,
                );
            }
            None => e.and(
                Tri::Unknown,
                |w: &mut String| w.push_str("the exporter's country is not given"),
                false,
            ),
        }
        stop_if_no!(e);
    }
}

/// Where the parties (and their ultimate parents) are headquartered.
fn scope_headquarters(f: &Facts, scope: &Scope, e: &mut Eval) {
    if let Some(set) = &scope.headquarters {
        let mut note = e.explain.then(String::new);
        let (t, u) = hq_any(f, set, true, &mut note);
        e.and(
            t,
            move |w: &mut String| w.push_str(note.as_deref().unwrap_or_default()),
            u,
        );
        stop_if_no!(e);
    }
    if let Some(set) = &scope.headquarters_none {
        let mut note = e.explain.then(String::new);
        let (t, u) = hq_any(f, set, true, &mut note);
        let t = match t {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
        };
        e.and(
            t,
            move |w: &mut String| w.push_str(note.as_deref().unwrap_or_default()),
            u,
        );
        stop_if_no!(e);
    }
    if let Some(set) = &scope.headquarters_outside {
        let mut note = e.explain.then(String::new);
        let (t, u) = hq_any(f, set, false, &mut note);
        e.and(
            t,
            move |w: &mut String| w.push_str(note.as_deref().unwrap_or_default()),
            u,
        );
        stop_if_no!(e);
    }
    if let Some(set) = &scope.headquarters_all {
        let mut note = e.explain.then(String::new);
        let (t, u) = hq_all(f, set, &mut note);
        e.and(
            t,
            move |w: &mut String| w.push_str(note.as_deref().unwrap_or_default()),
            u,
        );
        stop_if_no!(e);
    }
}

/// The parties: ownership by listed parties, the exporter's role and name.
fn scope_parties(f: &Facts, scope: &Scope, e: &mut Eval) {
    if let Some(want) = scope.owned_by_listed {
        let (t, note) = owned_by_listed(f, e.explain);
        let t = match (t, want) {
            (Tri::Unknown, _) => Tri::Unknown,
            (t, true) => t,
            (Tri::Yes, false) => Tri::No,
            (_, false) => Tri::Yes,
        };
        e.and(t, |w: &mut String| w.push_str(&note), false);
        stop_if_no!(e);
    }
    if !scope.exporter_role.is_empty() {
        match f.order.exporter.as_ref().and_then(|p| p.role.as_ref()) {
            Some(role) => {
                let is = scope.exporter_role.iter().any(|r| r == role);
                e.and(tri(is), |w: &mut String| { let _ = write!(w, "exporter's role `{role}` {} {}", if is { "is one of" } else { "is not one of" }, scope.exporter_role.join("/")); }, false);
            }
            // Rules keyed on the exporter's role bind only parties of that role (the foundry
            // rule binds front-end fabricators and OSATs), who must say so in `exporter.role`.
            None => e.and(
                Tri::No,
                |w: &mut String| { let _ = write!(w, "the exporter's role is not given: treated as not {} (state `exporter.role`)", scope.exporter_role.join("/")); },
                false,
            ),
        }
        stop_if_no!(e);
    }
    if !scope.exporter_names.is_empty() {
        match &f.order.exporter {
            Some(p) => {
                let is = scope
                    .exporter_names
                    .iter()
                    .any(|n| names_company(p.name, n));
                e.and(
                    tri(is),
                    |w: &mut String| {
                        let _ = write!(
                            w,
                            "exporter `{}` {} {}",
                            p.name,
                            if is { "is" } else { "is not" },
                            company_names(scope)
                        );
                    },
                    false,
                );
            }
            // A letter binds its addressee: who exports must be known to say it does not bind.
            None => e.and(
                Tri::Unknown,
                |w: &mut String| {
                    let _ = write!(
                        w,
                        "the exporter is not given: it may be {} (state `exporter`)",
                        company_names(scope)
                    );
                },
                false,
            ),
        }
        stop_if_no!(e);
    }
}

/// The due-diligence fact tests.
fn scope_facts(f: &Facts, scope: &Scope, e: &mut Eval) {
    for t in &scope.facts {
        let (truth, note) = fact_test(f, t, e.explain);
        e.and(truth, |w: &mut String| w.push_str(&note), false);
        stop_if_no!(e);
    }
}

/// What the order states of its end use: a stated end use, or one excluded.
fn scope_end_use_stated(f: &Facts, scope: &Scope, e: &mut Eval) {
    if !scope.end_use_stated_any.is_empty() {
        let tags: &[String] = f.order.order.end_use.as_ref().map_or(&[], |u| &u.tags);
        let has = scope.end_use_stated_any.iter().any(|t| tags.contains(t));
        e.and(
            tri(has),
            |w: &mut String| {
                let wanted = scope.end_use_stated_any.join("/");
                let _ = match (has, tags.is_empty()) {
                    (true, _) => write!(
                        w,
                        "the order states a {wanted} end use ({})",
                        tags.join(", ")
                    ),
                    (false, true) => {
                        write!(w, "the order states no end-use tag, so no {wanted} end use")
                    }
                    (false, false) => write!(
                        w,
                        "the stated end uses ({}) are not {wanted}",
                        tags.join(", ")
                    ),
                };
            },
            false,
        );
        stop_if_no!(e);
    }
    if !scope.end_use_excludes.is_empty() {
        let tags: &[String] = f.order.order.end_use.as_ref().map_or(&[], |u| &u.tags);
        let found: Vec<&String> = scope
            .end_use_excludes
            .iter()
            .filter(|t| tags.contains(t))
            .collect();
        e.and(
            tri(found.is_empty()),
            |w: &mut String| {
                if found.is_empty() {
                    let _ = write!(
                        w,
                        "no {} end use is stated (to be certified)",
                        scope.end_use_excludes.join("/")
                    );
                } else {
                    let names: Vec<&str> = found.iter().map(|t| t.as_str()).collect();
                    let _ = write!(w, "the order states a {} end use", names.join("/"));
                }
            },
            false,
        );
        stop_if_no!(e);
    }
}

/// The end-use tags the rule reaches (any of, all of).
fn scope_end_use_tags(f: &Facts, scope: &Scope, e: &mut Eval) {
    if !scope.end_use_any.is_empty() || !scope.end_use_all.is_empty() {
        match &f.order.order.end_use {
            None => e.and(
                Tri::Unknown,
                |w: &mut String| w.push_str("the end use is not given"),
                false,
            ),
            Some(u) => {
                let has = |t: &String| u.tags.iter().any(|x| x == t);
                let any = scope.end_use_any.is_empty() || scope.end_use_any.iter().any(has);
                let all = scope.end_use_all.iter().all(has);
                e.and(
                    tri(any && all),
                    |w: &mut String| {
                        let mut wanted: Vec<String> = scope.end_use_all.clone();
                        if !scope.end_use_any.is_empty() {
                            wanted.push(format!("one of {}", scope.end_use_any.join("/")));
                        }
                        let stated = if u.tags.is_empty() {
                            "no end-use tags".to_string()
                        } else {
                            format!("end-use tags {}", u.tags.join(", "))
                        };
                        if any && all {
                            let _ = write!(w, "{stated} include {}", wanted.join(" and "));
                        } else {
                            let mut lacking: Vec<String> = scope
                                .end_use_all
                                .iter()
                                .filter(|t| !has(t))
                                .cloned()
                                .collect();
                            if !any {
                                lacking.push(format!("any of {}", scope.end_use_any.join("/")));
                            }
                            let _ = write!(
                                w,
                                "{stated} lack {} (the rule reaches {})",
                                lacking.join(" and "),
                                wanted.join(" and ")
                            );
                        }
                    },
                    false,
                );
            }
        }
    }
}

/// Does a party's name name this company: its lower-case words begin with the company's?
fn names_company(party: &str, company: &CompanyName) -> bool {
    !company.words.is_empty() && name_words(party).starts_with(&company.words)
}

/// The companies a scope names, for explanations (`NVIDIA/AMD`).
fn company_names(scope: &Scope) -> String {
    let names: Vec<&str> = scope.exporter_names.iter().map(|n| n.name()).collect();
    names.join("/")
}

/// A fact of the order: from the order line (`due_diligence`), else from the first linked
/// party record that is current and knows it on the order's date.
fn fact_of(f: &Facts, fact: Fact) -> Option<FactValue> {
    let order = f.order.order;
    match fact {
        Fact::Quantity => Some(FactValue::Number(order.quantity as f64)),
        Fact::TppTotal => f
            .class
            .tpp
            .map(|x| FactValue::Number(x * order.quantity as f64)),
        fact => order
            .due_diligence
            .as_ref()
            .and_then(|d| d.fact(fact))
            .or_else(|| {
                let kyc = order.kyc.as_ref()?;
                kyc.fact(fact, f.date).map(|(v, _)| v.clone())
            }),
    }
}

/// The facts that would settle a rule left unknown: its fact tests whose fact is missing.
fn missing_facts(f: &Facts, rule: &Rule, severity: Severity, evidence: String) -> MissingFacts {
    let mut facts: Vec<&'static str> = Vec::new();
    for t in &rule.when.facts {
        let name = t.fact.as_str();
        if fact_of(f, t.fact).is_none() && !facts.contains(&name) {
            facts.push(name);
        }
    }
    let w = &rule.when;
    if f.order.order.end_use.is_none() && !(w.end_use_any.is_empty() && w.end_use_all.is_empty()) {
        facts.push("end_use");
    }
    let note = facts.is_empty().then_some(evidence);
    MissingFacts {
        flag: rule.id.clone(),
        severity,
        facts,
        note,
    }
}

/// The decision's due-diligence section: the linked parties, the source of every fact known,
/// and what is missing; `None` when there is nothing to say.
fn due_diligence_report(
    f: &Facts,
    missing: Vec<MissingFacts>,
    held: bool,
) -> Option<DueDiligenceReport> {
    let order = f.order.order;
    let kyc = order.kyc.as_deref();
    if missing.is_empty() && kyc.is_none() {
        return None;
    }
    let mut report = DueDiligenceReport {
        missing,
        policy: if held { "hold" } else { "report" },
        ..DueDiligenceReport::default()
    };
    if let Some(kyc) = kyc {
        report.parties = kyc
            .links
            .iter()
            .map(|l| PartyUse {
                id: l.party.record.id.clone(),
                role: l.role,
                matched_by: l.matched_by,
                review_by: l.party.record.review_by,
                current: l.party.current_on(f.date),
            })
            .collect();
        // Fact names by source: the order line first, then each linked record.
        let by = crate::kyc::fact_sources(kyc, f.date, |fact| {
            order
                .due_diligence
                .as_ref()
                .and_then(|d| d.fact(fact))
                .is_some()
        });
        for (i, facts) in by.into_iter().enumerate() {
            if facts.is_empty() {
                continue;
            }
            let key = match i {
                0 => "order",
                i => kyc.links[i - 1].party.source_key(),
            };
            let known = report.sources.entry(key.into()).or_default();
            *known = known.union(facts);
        }
    }
    Some(report)
}

/// Evaluate one fact test; a missing fact is unknown.
fn fact_test(f: &Facts, t: &FactTest, explain: bool) -> (Tri, String) {
    let value = fact_of(f, t.fact);
    let Some(value) = value else {
        let note = if explain {
            format!("`{}` is not given", t.fact.as_str())
        } else {
            String::new()
        };
        return (Tri::Unknown, note);
    };
    let matches = |v: &serde_json::Value| match (&value, v) {
        (FactValue::Date(d), serde_json::Value::String(s)) => {
            crate::iso_date::parse(s).ok().map(|w| d.cmp(&w))
        }
        (FactValue::Number(n), v) => v.as_f64().and_then(|w| n.partial_cmp(&w)),
        (FactValue::Bool(b), serde_json::Value::Bool(w)) => Some(b.cmp(w)),
        (FactValue::Text(s), serde_json::Value::String(w)) => Some(s.as_str().cmp(w.as_str())),
        _ => None,
    };
    use std::cmp::Ordering::*;
    let holds = match t.op {
        FactOp::Equals => matches(&t.value) == Some(Equal),
        FactOp::NotEquals => matches(&t.value).is_some_and(|o| o != Equal),
        FactOp::In => t
            .value
            .as_array()
            .is_some_and(|a| a.iter().any(|v| matches(v) == Some(Equal))),
        FactOp::AtLeast | FactOp::OnOrAfter => matches(&t.value).is_some_and(|o| o != Less),
        FactOp::Below | FactOp::Before => matches(&t.value) == Some(Less),
    };
    if !explain {
        return (tri(holds), String::new());
    }
    let shown = match &value {
        FactValue::Date(d) => d.to_string(),
        FactValue::Number(n) => num(*n),
        FactValue::Bool(b) => b.to_string(),
        FactValue::Text(s) => s.to_string(),
    };
    let wanted = match &t.value {
        serde_json::Value::String(w) => w.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        v => v.to_string(),
    };
    let op = t.op.phrase();
    let op = if op.is_empty() {
        String::new()
    } else {
        format!("{op} ")
    };
    (
        tri(holds),
        format!(
            "`{}` is {shown} (the rule looks for {op}{wanted}: {})",
            t.fact.as_str(),
            if holds { "met" } else { "not met" }
        ),
    )
}

/// Where a headquarters test writes its note (nowhere when not explaining).
type Note = Option<String>;

/// Is any party (or its ultimate parent) headquartered in the set (`inside`), or outside it?
fn hq_any(f: &Facts, set: &CountrySet, inside: bool, note: &mut Note) -> (Tri, bool) {
    let mut unknown = Vec::new();
    let mut unconfirmed = false;
    for (role, p) in f.parties() {
        for (what, code) in [
            ("headquarters", &p.headquarters),
            ("ultimate parent's headquarters", &p.parent_headquarters),
        ] {
            match code {
                Some(c) => {
                    let (m, u, why) = in_set(f.rs, set, c, f.date);
                    unconfirmed |= u;
                    if m == inside {
                        if let Some(n) = note {
                            *n = format!(
                                "{role} `{}` has its {what} in {} ({why})",
                                p.name,
                                CountryName(f.rs, c)
                            );
                        }
                        return (Tri::Yes, unconfirmed);
                    }
                }
                None => unknown.push((role, what)),
            }
        }
    }
    if let Some(n) = note {
        let place = if inside { "in" } else { "outside" };
        *n = if unknown.is_empty() {
            format!(
                "no party is headquartered, or has its ultimate parent headquartered, {place} {}",
                set.describe()
            )
        } else {
            not_given(&unknown)
        };
    }
    (
        if unknown.is_empty() {
            Tri::No
        } else {
            Tri::Unknown
        },
        unconfirmed,
    )
}

/// "not given: consignee's headquarters, ..." for the facts a headquarters test missed.
fn not_given(unknown: &[(&str, &str)]) -> String {
    let parts: Vec<String> = unknown
        .iter()
        .map(|(role, what)| format!("{role}'s {what}"))
        .collect();
    format!("not given: {}", parts.join(", "))
}

/// Is every party located and headquartered (with its parent) in the set?
fn hq_all(f: &Facts, set: &CountrySet, note: &mut Note) -> (Tri, bool) {
    let mut unknown = Vec::new();
    let mut unconfirmed = false;
    for (role, p) in f.parties() {
        let located = p.country.as_ref().or(Some(&f.order.destination));
        for (what, code) in [
            ("location", located),
            ("headquarters", p.headquarters.as_ref()),
            (
                "ultimate parent's headquarters",
                p.parent_headquarters.as_ref(),
            ),
        ] {
            match code {
                Some(c) => {
                    let (m, u, why) = in_set(f.rs, set, c, f.date);
                    unconfirmed |= u;
                    if !m {
                        if let Some(n) = note {
                            *n = format!(
                                "{role} `{}` {what} {} is {why}",
                                p.name,
                                CountryName(f.rs, c)
                            );
                        }
                        return (Tri::No, unconfirmed);
                    }
                }
                None => unknown.push((role, what)),
            }
        }
    }
    if let Some(n) = note {
        *n = if unknown.is_empty() {
            format!(
                "every party is located and headquartered in {}",
                set.describe()
            )
        } else {
            not_given(&unknown)
        };
    }
    (
        if unknown.is_empty() {
            Tri::Yes
        } else {
            Tri::Unknown
        },
        unconfirmed,
    )
}

fn owned_by_listed(f: &Facts, explain: bool) -> (Tri, String) {
    let mut unknown = Vec::new();
    for (role, p) in f.parties() {
        let listed: f64 = p
            .owners
            .iter()
            .filter(|o| o.listed.is_some())
            .map(|o| o.percent)
            .sum();
        if listed >= 50.0 {
            if !explain {
                return (Tri::Yes, String::new());
            }
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
    if !explain {
        let truth = if unknown.is_empty() {
            Tri::No
        } else {
            Tri::Unknown
        };
        return (truth, String::new());
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
    regime: &'a RegimeRules,
    policy: Option<ReviewPolicy>,
    policy_unconfirmed: bool,
    exceptions: Vec<(&'a ExceptionChoice, String)>,
    conditions: Vec<Condition>,
    note: String,
    /// The country allocation (TPP) a licence under this requirement counts against.
    allocation: Option<f64>,
}

/// Decide one order as of its date, with a full trace of every rule considered.
pub fn decide(
    rs: &Ruleset,
    order: &Order,
    forced: &[String],
    quotas: &dyn QuotaView,
    screening: Screening,
) -> Result<Decision, SpecError> {
    Decider::new(rs, forced)
        .with_trace(true)
        .decide(order, quotas, screening)
}

/// Decides many orders against one ruleset: classifications are cached by chip and date, and
/// the rule trace is kept only when asked for. Safe to share between threads.
///
/// A classification depends on its date only through which regimes bind on it and the
/// calendar year (the foundry thresholds), so a second cache keyed by that [`Epoch`] serves
/// every other date of the same epoch with a copy dated anew.
pub struct Decider<'a> {
    rs: &'a Ruleset,
    forced: Vec<String>,
    trace: bool,
    cache: RwLock<HashMap<NaiveDate, HashMap<String, Arc<Classification>>>>,
    by_epoch: RwLock<HashMap<(Epoch, String), Arc<Classification>>>,
}

/// What a classification reads of its date: the year, and which regimes bind (one bit each).
/// Rulesets of more than 128 regimes key by the date itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Epoch {
    Regimes { year: i32, binding: u128 },
    Date(NaiveDate),
}

impl Epoch {
    fn of(rs: &Ruleset, ctx: &Context) -> Epoch {
        if rs.regimes().len() > 128 {
            return Epoch::Date(ctx.as_of);
        }
        let binding = rs
            .regimes()
            .iter()
            .enumerate()
            .filter(|(_, r)| rs.state(r, ctx).binds())
            .fold(0u128, |m, (i, _)| m | (1 << i));
        Epoch::Regimes {
            year: ctx.as_of.year(),
            binding,
        }
    }
}

impl<'a> Decider<'a> {
    pub fn new(rs: &'a Ruleset, forced: &[String]) -> Decider<'a> {
        Decider {
            rs,
            forced: forced.to_vec(),
            trace: false,
            cache: RwLock::new(HashMap::new()),
            by_epoch: RwLock::new(HashMap::new()),
        }
    }

    /// Keep the trace of every rule considered (for `explain`).
    pub fn with_trace(mut self, trace: bool) -> Self {
        self.trace = trace;
        self
    }

    /// The classification of a catalog chip (cached) or an inline spec on the context's date.
    fn classification(
        &self,
        chip: Option<&str>,
        spec: &Spec,
        ctx: &Context,
    ) -> Result<Arc<Classification>, SpecError> {
        Ok(match chip {
            Some(chip) => {
                let hit = self
                    .cache
                    .read()
                    .ok()
                    .and_then(|c| c.get(&ctx.as_of).and_then(|m| m.get(chip)).cloned());
                match hit {
                    Some(c) => c,
                    None => {
                        let epoch = Epoch::of(self.rs, ctx);
                        let key = (epoch, chip.to_string());
                        let same_epoch =
                            self.by_epoch.read().ok().and_then(|c| c.get(&key).cloned());
                        let c = match same_epoch {
                            Some(c) => {
                                let mut c = Classification::clone(&c);
                                c.as_of = ctx.as_of;
                                Arc::new(c)
                            }
                            None => {
                                let c = Arc::new(classify(
                                    self.rs,
                                    ItemRef {
                                        chip: Some(chip),
                                        spec,
                                    },
                                    ctx,
                                )?);
                                if let Ok(mut by_epoch) = self.by_epoch.write() {
                                    by_epoch.insert(key, c.clone());
                                }
                                c
                            }
                        };
                        if let Ok(mut cache) = self.cache.write() {
                            cache
                                .entry(ctx.as_of)
                                .or_default()
                                .insert(chip.to_string(), c.clone());
                        }
                        c
                    }
                }
            }
            None => Arc::new(classify(self.rs, ItemRef { chip: None, spec }, ctx)?),
        })
    }

    /// Decide one order as of its date.
    pub fn decide(
        &self,
        order: &Order,
        quotas: &dyn QuotaView,
        screening: Screening,
    ) -> Result<Decision, SpecError> {
        let resolved = order.resolve(self.rs)?;
        let ctx = Context {
            as_of: order.date,
            forced: self.forced.clone(),
        };
        let class = self.classification(resolved.chip, resolved.spec, &ctx)?;
        Ok(decide_resolved(
            self.rs, &resolved, class, &ctx, quotas, self.trace, screening,
        ))
    }
}

/// What evaluating the rules gathers for one order, phase by phase: the trace, the reasons,
/// the requirements that applied, what holds the order, what is unknown, the red flags.
struct Gathered<'a> {
    trace: Vec<RuleTrace>,
    rules_evaluated: u32,
    red_flags: Vec<RedFlag>,
    missing: Vec<MissingFacts>,
    /// Reasons of red flags below high severity: reported last, whatever the outcome.
    flag_reasons: Vec<Reason>,
    reasons: Vec<Reason>,
    unconfirmed: bool,
    requirements: Vec<Requirement<'a>>,
    holds: Vec<Reason>,
    unknowns: Vec<Reason>,
}

/// The licence exception chosen for the requirements, with the notes on the way there.
struct Chosen<'a> {
    exception: Option<(&'a ExceptionChoice, String)>,
    notes: Vec<Reason>,
    quota_checked: bool,
}

/// The outcome and what goes with it, once every phase has spoken.
struct Verdict {
    outcome: Outcome,
    exception: Option<String>,
    review_policy: Option<ReviewPolicy>,
    conditions: Vec<Condition>,
}

/// The decision for an order already resolved and classified. In phases: the rules displaced
/// for the item, each rule evaluated, the modifiers (review-policy changes, licence
/// conditions), the exception chosen, the due-diligence policy, then everything combined.
fn decide_resolved(
    rs: &Ruleset,
    order: &ResolvedOrder,
    class: Arc<Classification>,
    ctx: &Context,
    quotas: &dyn QuotaView,
    want_trace: bool,
    screening: Screening,
) -> Decision {
    let (foundry, packaging_reason) = foundry_for_order(rs, order, &class, ctx.as_of);
    let class = if foundry == class.flags.foundry_presumption {
        class
    } else {
        let mut c = (*class).clone();
        c.flags.foundry_presumption = foundry;
        Arc::new(c)
    };
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
    let mut reasons: Vec<Reason> = class
        .reasons
        .iter()
        .filter(|r| r.rule.starts_with('3') || r.rule.starts_with('4'))
        .cloned()
        .collect();
    reasons.extend(packaging_reason);
    let mut g = Gathered {
        trace: Vec::new(),
        rules_evaluated: 0,
        red_flags: Vec::new(),
        missing: Vec::new(),
        flag_reasons: Vec::new(),
        reasons,
        unconfirmed: class.unconfirmed,
        requirements: Vec::new(),
        holds: Vec::new(),
        unknowns: Vec::new(),
    };
    let binding: Vec<&RegimeRules> = rs.binding_rules(ctx).collect();
    let displaced = displaced_rules(&f, &binding);
    evaluate_rules(&mut g, &f, ctx, &displaced, want_trace);
    apply_modifiers(&mut g, &f, &binding, &displaced);
    requirement_reasons(&mut g);
    let chosen = choose_exception(&g.requirements, quotas, order, tpp_counted, ctx.as_of);
    let dd_reason = due_diligence_hold(&f, &g.missing);
    let due_diligence =
        due_diligence_report(&f, std::mem::take(&mut g.missing), dd_reason.is_some());
    let quota_checked = chosen.quota_checked;
    let verdict = combine(&mut g, &f, chosen, dd_reason, screening);
    let allocation = if verdict.outcome == Outcome::LicenseRequired {
        g.requirements.iter().find_map(|q| {
            q.allocation.map(|tpp| CountryAllocation {
                rule: q.rule.id.clone(),
                citation: q.rule.citation.clone(),
                country: order.destination.to_string(),
                tpp,
            })
        })
    } else {
        None
    };

    Decision {
        id: order.order.id.clone(),
        date: ctx.as_of,
        outcome: verdict.outcome,
        exception: verdict.exception,
        review_policy: verdict.review_policy,
        eccn: class.eccn,
        tpp_total: class.tpp.map(|t| (t * qty).round() as u64),
        reasons: g.reasons,
        conditions: verdict.conditions,
        regimes: binding.iter().map(|r| r.id.as_str().into()).collect(),
        unconfirmed: g.unconfirmed,
        chip: order.chip.map(str::to_string),
        quantity: order.order.quantity,
        destination: order.destination.to_string(),
        tpp_counted,
        forced_regimes: ctx.forced.clone(),
        trace: g.trace,
        quota_checked,
        rules_evaluated: g.rules_evaluated,
        screening: screening_record(rs, screening, ctx.as_of),
        licence: None,
        inputs: None,
        red_flags: g.red_flags,
        due_diligence,
        allocation,
        classification: Some(class),
    }
}

/// Phase 1: the rules displaced for this item by a binding rule that reaches it.
fn displaced_rules<'a>(f: &Facts, binding: &[&'a RegimeRules]) -> BTreeSet<&'a str> {
    let mut displaced: BTreeSet<&str> = BTreeSet::new();
    for r in binding {
        for rule in &r.rules {
            if !rule.displaces.is_empty() {
                let mut items = Eval::new(false);
                if let Some(selector) = &rule.when.items {
                    eval_items(f, selector, &mut items);
                }
                if items.truth == Tri::Yes {
                    displaced.extend(rule.displaces.iter().map(String::as_str));
                }
            }
        }
    }
    displaced
}

/// A reason naming a rule and its citation.
fn rule_reason(rule: &Rule, text: String) -> Reason {
    Reason::new(rule.id.clone(), rule.citation.clone(), text)
}

/// A rule's entry in the trace.
fn trace_entry(r: &RegimeRules, rule: &Rule, status: RuleStatus, detail: String) -> RuleTrace {
    RuleTrace {
        rule: rule.id.clone(),
        regime: r.id.clone(),
        citation: rule.citation.clone(),
        status,
        detail,
    }
}

/// Phase 2: every rule of every regime binding on the date evaluated over the order (and,
/// for `explain`, every other rule traced as not binding or displaced).
fn evaluate_rules<'a>(
    g: &mut Gathered<'a>,
    f: &Facts<'a>,
    ctx: &Context,
    displaced: &BTreeSet<&str>,
    want_trace: bool,
) {
    let rs = f.rs;
    for (state, r) in rs.rules_in(ctx) {
        if !state.binds() && !want_trace {
            continue;
        }
        for rule in &r.rules {
            // The trace entry is built only for `explain`: most decisions never show it.
            if !state.binds() {
                let detail = format!("regime {} is {} on {}", r.id, state.describe(), ctx.as_of);
                g.trace
                    .push(trace_entry(r, rule, RuleStatus::NotBinding, detail));
                continue;
            }
            if displaced.contains(rule.id.as_str()) {
                if want_trace {
                    g.trace.push(trace_entry(
                        r,
                        rule,
                        RuleStatus::Displaced,
                        "replaced for this item by a later rule in force".into(),
                    ));
                }
                continue;
            }
            g.rules_evaluated += 1;
            let (status, e) = evaluate_rule(g, f, r, rule, want_trace);
            if want_trace {
                g.trace.push(trace_entry(r, rule, status, e.text()));
            }
        }
    }
}

/// One binding rule evaluated: an unknown scope is noted, an applying one takes effect.
fn evaluate_rule<'a>(
    g: &mut Gathered<'a>,
    f: &Facts<'a>,
    r: &'a RegimeRules,
    rule: &'a Rule,
    want_trace: bool,
) -> (RuleStatus, Eval) {
    // The notes of a rule that applies (or may) are needed for its reason, unless its
    // effect only adjusts other rules' requirements.
    let notes_used = want_trace
        || matches!(
            rule.effect,
            Effect::LicenseRequirement { .. } | Effect::Hold | Effect::RedFlag { .. }
        );
    let mut e = eval_scope(f, &rule.when, want_trace);
    if e.truth != Tri::No && !want_trace && notes_used {
        e = eval_scope(f, &rule.when, true);
    }
    let conf = if e.unconfirmed {
        Confidence::U
    } else {
        rule.confidence.max(r.confidence)
    };
    let status = match e.truth {
        Tri::No => RuleStatus::NotApplicable,
        Tri::Unknown => {
            note_unknown(g, f, rule, &e, conf);
            RuleStatus::Unknown
        }
        Tri::Yes => {
            g.unconfirmed |= conf.is_unconfirmed();
            apply_effect(g, f, r, rule, &e, conf);
            RuleStatus::Applied
        }
    };
    (status, e)
}

/// A rule whose scope cannot be settled: an unknown red flag, or a restriction that may apply.
fn note_unknown(g: &mut Gathered, f: &Facts, rule: &Rule, e: &Eval, conf: Confidence) {
    if let Effect::RedFlag { severity } = &rule.effect {
        g.missing.push(missing_facts(f, rule, *severity, e.text()));
        g.red_flags.push(RedFlag {
            id: rule.id.clone(),
            title: rule.title.clone(),
            citation: rule.citation.clone(),
            severity: *severity,
            status: FlagStatus::Unknown,
            evidence: e.text(),
        });
    }
    // A missing fact only matters for rules that would restrict.
    if matches!(
        rule.effect,
        Effect::LicenseRequirement { .. } | Effect::Hold
    ) {
        g.unknowns.push(
            rule_reason(
                rule,
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

/// The effect of a rule that applies: a requirement, a hold or a red flag. Modifiers of
/// other rules' requirements act in phase 3.
fn apply_effect<'a>(
    g: &mut Gathered<'a>,
    f: &Facts<'a>,
    r: &'a RegimeRules,
    rule: &'a Rule,
    e: &Eval,
    conf: Confidence,
) {
    match &rule.effect {
        Effect::LicenseRequirement {
            review_policy,
            exceptions,
            conditions,
            allocation_tpp,
        } => {
            let mut policy = None;
            let mut policy_unconfirmed = false;
            for p in review_policy {
                let pe = eval_scope(f, &p.when, false);
                if pe.truth != Tri::No {
                    policy = Some(p.policy);
                    policy_unconfirmed = p.confidence.is_unconfirmed() || pe.unconfirmed;
                    break;
                }
            }
            let mut avail = Vec::new();
            for x in exceptions {
                if x.from.is_some_and(|d| f.date < d) || x.until.is_some_and(|d| f.date >= d) {
                    continue;
                }
                if eval_scope(f, &x.when, false).truth == Tri::Yes {
                    let xe = eval_scope(f, &x.when, true);
                    avail.push((x, xe.text()));
                }
            }
            // The allocation caps the regime's `tier2` set when it names one (AI Diffusion),
            // else every destination the rule reaches.
            let allocation = allocation_tpp.filter(|_| {
                r.sets
                    .get("tier2")
                    .is_none_or(|set| in_set(f.rs, set, &f.order.destination, f.date).0)
            });
            g.requirements.push(Requirement {
                rule,
                regime: r,
                policy,
                policy_unconfirmed,
                exceptions: avail,
                conditions: conditions.clone(),
                note: e.text(),
                allocation,
            });
        }
        Effect::Hold => g
            .holds
            .push(rule_reason(rule, format!("{}: {}", rule.title, e.text())).with_confidence(conf)),
        Effect::RedFlag { severity } => {
            let reason = rule_reason(
                rule,
                format!(
                    "red flag ({}): {}: {}",
                    severity.as_str(),
                    rule.title,
                    e.text()
                ),
            )
            .with_confidence(conf);
            if *severity == Severity::High {
                g.holds.push(reason);
            } else {
                g.flag_reasons.push(reason);
            }
            g.red_flags.push(RedFlag {
                id: rule.id.clone(),
                title: rule.title.clone(),
                citation: rule.citation.clone(),
                severity: *severity,
                status: FlagStatus::Raised,
                evidence: e.text(),
            });
        }
        Effect::ReviewPolicyChange { .. } | Effect::LicenceConditions { .. } => {}
    }
}

/// Phase 3: review-policy changes and licence conditions from the binding rules, applied to
/// the requirements they name.
fn apply_modifiers(
    g: &mut Gathered,
    f: &Facts,
    binding: &[&RegimeRules],
    displaced: &BTreeSet<&str>,
) {
    for r in binding {
        for rule in &r.rules {
            if displaced.contains(rule.id.as_str()) {
                continue;
            }
            match &rule.effect {
                Effect::ReviewPolicyChange {
                    policy,
                    applies_to,
                    conditions,
                } => review_policy_change(g, f, rule, *policy, applies_to, conditions),
                Effect::LicenceConditions {
                    applies_to,
                    conditions,
                } if g
                    .requirements
                    .iter()
                    .any(|q| applies_to.contains(&q.rule.id))
                    && eval_scope(f, &rule.when, false).truth == Tri::Yes =>
                {
                    for q in g
                        .requirements
                        .iter_mut()
                        .filter(|q| applies_to.contains(&q.rule.id))
                    {
                        q.conditions.extend(conditions.iter().cloned());
                    }
                    g.reasons.push(
                        rule_reason(rule, format!("{}: licences carry conditions", rule.title))
                            .with_confidence(rule.confidence),
                    );
                }
                _ => {}
            }
        }
    }
}

/// A review-policy change: where its scope holds, the named requirements take its policy
/// and conditions; where a condition is not shown, or fails, the stricter policy stands.
fn review_policy_change(
    g: &mut Gathered,
    f: &Facts,
    rule: &Rule,
    policy: ReviewPolicy,
    applies_to: &[String],
    conditions: &[Condition],
) {
    let targets: Vec<usize> = g
        .requirements
        .iter()
        .enumerate()
        .filter(|(_, q)| applies_to.contains(&q.rule.id))
        .map(|(i, _)| i)
        .collect();
    if targets.is_empty() {
        return;
    }
    let mut e = eval_scope(f, &rule.when, false);
    if e.truth != Tri::No {
        e = eval_scope(f, &rule.when, true);
    }
    if e.truth == Tri::Yes {
        for i in targets {
            g.requirements[i].policy = Some(policy);
            g.requirements[i]
                .conditions
                .extend(conditions.iter().cloned());
        }
        g.reasons.push(
            rule_reason(
                rule,
                format!(
                    "{}: review policy becomes {}: {}",
                    rule.title,
                    policy_name(policy),
                    e.text()
                ),
            )
            .with_confidence(rule.confidence),
        );
    } else if e.truth == Tri::Unknown {
        g.reasons.push(rule_reason(
            rule,
            format!(
                "{} not applied (a condition is not shown, so the stricter policy stands): {}",
                rule.title,
                e.text()
            ),
        ));
    } else if targets
        .iter()
        .any(|&i| g.requirements[i].policy == Some(ReviewPolicy::PresumptionOfDenial))
    {
        // A fact on the order defeats a condition: the presumption of denial stands, and the
        // reason names what failed.
        let e = eval_scope(f, &rule.when, true);
        g.reasons.push(
            Reason::new(
                format!("{}.not-met", rule.id),
                rule.citation.clone(),
                format!(
                    "{} not applied, so the presumption of denial stands: {}",
                    rule.title,
                    e.failed_text()
                ),
            )
            .with_confidence(rule.confidence),
        );
    }
}

/// Each requirement's reason, with its review policy (or that the text states none).
fn requirement_reasons(g: &mut Gathered) {
    for q in &g.requirements {
        let policy = match q.policy {
            Some(p) => format!("; review policy {}", policy_name(p)),
            None => "; review policy not stated in the text (unknown)".to_string(),
        };
        g.reasons.push(
            Reason::new(
                q.rule.id.clone(),
                q.rule.citation.clone(),
                format!("{}: licence required: {}{policy}", q.rule.title, q.note),
            )
            .with_confidence(q.rule.confidence.max(q.regime.confidence)),
        );
        g.unconfirmed |= q.policy_unconfirmed;
    }
}

/// Phase 4: the exception that meets every requirement, in order of preference, within its
/// quota (LPP: TPP per consignee and calendar year).
fn choose_exception<'a>(
    requirements: &[Requirement<'a>],
    quotas: &dyn QuotaView,
    order: &ResolvedOrder,
    tpp_counted: f64,
    date: NaiveDate,
) -> Chosen<'a> {
    let mut chosen = Chosen {
        exception: None,
        notes: Vec::new(),
        quota_checked: false,
    };
    if requirements.is_empty() {
        return chosen;
    }
    for x_sym in LicenceException::PREFERENCE {
        let sym = x_sym.as_str();
        // An exception whose own text covers the whole transaction meets every requirement
        // whose rule admits that exception, even where the rule's own choice of it does not
        // reach this order (15 CFR 740.8: NAC for a Macau/D:5-headquartered entity, wherever
        // located).
        let covering = requirements
            .iter()
            .flat_map(|q| q.exceptions.iter())
            .find(|(x, _)| x.exception == x_sym && x.covers_transaction);
        let mut covered: Vec<&str> = Vec::new();
        let all: Option<Vec<&(&ExceptionChoice, String)>> = requirements
            .iter()
            .map(|q| {
                q.exceptions
                    .iter()
                    .find(|(x, _)| x.exception == x_sym)
                    .or_else(|| {
                        let c = covering.filter(|_| admits(q.rule, x_sym))?;
                        covered.push(q.rule.id.as_str());
                        Some(c)
                    })
            })
            .collect();
        let Some(all) = all else { continue };
        let choice = covering.unwrap_or(all[0]);
        if !covered.is_empty() {
            chosen.notes.push(Reason::new(
                format!("LE-{sym}.covers"),
                choice.0.citation.clone(),
                format!(
                    "License Exception {sym}'s own eligibility covers the whole transaction ({}), so it also meets {}",
                    choice.1,
                    covered.join(", ")
                ),
            ));
        }
        if let Some(limit) = choice.0.tpp_per_consignee_year {
            chosen.quota_checked = true;
            let year = date.year();
            let used = quotas.lpp_used(order.consignee.name, year);
            let within = used + tpp_counted <= limit;
            chosen.notes.push(quota_note(
                sym,
                choice.0,
                order,
                year,
                used,
                tpp_counted,
                limit,
            ));
            if !within {
                continue;
            }
        }
        chosen.exception = Some((choice.0, choice.1.clone()));
        break;
    }
    chosen
}

/// The note on an exception's quota: the consignee's use this year, and whether this order
/// stays within it.
fn quota_note(
    sym: &str,
    x: &ExceptionChoice,
    order: &ResolvedOrder,
    year: i32,
    used: f64,
    tpp_counted: f64,
    limit: f64,
) -> Reason {
    let consignee = order.consignee.name;
    let total = used + tpp_counted;
    let text = if total > limit {
        format!(
            "License Exception {sym} not available: consignee `{consignee}` has used {} TPP in {year}; this order's {} TPP would bring it to {} > {}",
            num(used),
            num(tpp_counted),
            num(total),
            num(limit)
        )
    } else {
        format!(
            "consignee `{consignee}` has used {} TPP in {year}; with this order's {} TPP the total {} stays within {}",
            num(used),
            num(tpp_counted),
            num(total),
            num(limit)
        )
    };
    Reason::new(format!("LE-{sym}.quota"), x.citation.clone(), text)
}

/// Phase 5: the due-diligence policy. An unknown high-severity red flag holds where the
/// policy reaches; its reason holds a decision that would otherwise let the order go (no
/// licence required, a licence exception), and beside a licence requirement it is reported
/// with the requirement, which stands (the pipeline then draws no licence for the order).
fn due_diligence_hold(f: &Facts, missing: &[MissingFacts]) -> Option<Reason> {
    let high = || missing.iter().filter(|m| m.severity == Severity::High);
    // Nothing to hold for without an unknown high-severity flag.
    high().next()?;
    for p in f.rs.due_diligence_hold() {
        let e = eval_scope(f, &p.when, true);
        if e.truth == Tri::No {
            continue;
        }
        let flags: Vec<&str> = high().map(|m| m.flag.as_str()).collect();
        let mut collect: Vec<&str> = Vec::new();
        for m in high() {
            for x in &m.facts {
                if !collect.contains(x) {
                    collect.push(x);
                }
            }
        }
        let collect = if collect.is_empty() {
            "see due_diligence.missing".to_string()
        } else {
            collect.join(", ")
        };
        return Some(
            Reason::new(
                p.id.clone(),
                p.citation.clone(),
                format!(
                    "due diligence incomplete: {}: {}; high-severity red flags that cannot \
                     be checked: {}; facts to collect: {collect}",
                    p.title,
                    e.text(),
                    flags.join(", ")
                ),
            )
            .with_confidence(Confidence::D),
        );
    }
    None
}

/// Phase 6: the screening findings and every phase's results combined into the outcome.
fn combine(
    g: &mut Gathered,
    f: &Facts,
    chosen: Chosen,
    dd_reason: Option<Reason>,
    screening: Screening,
) -> Verdict {
    let mut exception = chosen.exception;
    // A requirement whose text states no review policy has an unknown one, and a decision
    // resting on it is unconfirmed: the policy is never left blank.
    let policy = g
        .requirements
        .iter()
        .map(|q| q.policy.unwrap_or(ReviewPolicy::Unknown))
        .max();
    let screen = screening_findings(f.rs, screening, f.date, &mut g.reasons);
    g.holds.extend(screen.holds);
    g.unknowns.extend(screen.unknowns);
    g.unconfirmed |= screen.unconfirmed;
    if !screen.requirements.is_empty() {
        // A listed party: no licence exception is available.
        exception = None;
    }
    let policy = policy
        .into_iter()
        .chain(
            screen
                .requirements
                .iter()
                .map(|(_, p)| p.unwrap_or(ReviewPolicy::Unknown)),
        )
        .max();
    let any_requirement = !g.requirements.is_empty() || !screen.requirements.is_empty();
    g.reasons
        .extend(screen.requirements.into_iter().map(|(r, _)| r));
    // Incomplete due diligence holds an order the rules would let go; beside a licence
    // requirement (no exception in reach) it is reported and the requirement stands.
    let requirement_stands = any_requirement && exception.is_none();
    if let Some(r) = dd_reason {
        if requirement_stands && g.holds.is_empty() {
            g.reasons.push(r);
        } else {
            g.holds.push(r);
        }
    }
    let mut v = Verdict {
        outcome: Outcome::NoLicenseRequired,
        exception: None,
        review_policy: None,
        conditions: Vec::new(),
    };
    if !g.holds.is_empty() {
        v.outcome = Outcome::HoldForReview;
        g.reasons.append(&mut g.holds);
        g.reasons.append(&mut g.unknowns);
    } else if let Some((x, why)) = exception.clone().filter(|_| g.unknowns.is_empty()) {
        v.outcome = Outcome::LicenseException;
        v.exception = Some(x.exception.as_str().to_string());
        g.unconfirmed |= x.confidence.is_unconfirmed();
        g.reasons.extend(chosen.notes);
        g.reasons.push(
            Reason::new(
                format!("LE-{}", x.exception.as_str()),
                x.citation.clone(),
                format!(
                    "License Exception {} meets every requirement: {why}",
                    x.exception.as_str()
                ),
            )
            .with_confidence(x.confidence),
        );
        v.conditions.extend(x.conditions.iter().cloned());
    } else if any_requirement {
        if exception.is_some() {
            // An exception would do, but a missing fact could change that: a person decides.
            v.outcome = Outcome::HoldForReview;
            g.reasons.append(&mut g.unknowns);
        } else {
            v.outcome = Outcome::LicenseRequired;
            v.review_policy = policy;
            g.unconfirmed |= policy == Some(ReviewPolicy::Unknown);
            g.reasons.extend(chosen.notes);
            for c in g.requirements.iter().flat_map(|q| &q.conditions) {
                if !v.conditions.contains(c) {
                    v.conditions.push(c.clone());
                }
            }
            // Missing facts cannot loosen a licence requirement; they stay in the trace.
        }
    } else if !g.unknowns.is_empty() {
        v.outcome = Outcome::HoldForReview;
        g.reasons.append(&mut g.unknowns);
    } else {
        g.reasons.push(no_requirement(f));
    }
    g.reasons.append(&mut g.flag_reasons);
    g.unconfirmed |= g.reasons.iter().any(|r| r.confidence.is_unconfirmed());
    v
}

/// The reason of a decision no requirement reaches.
fn no_requirement(f: &Facts) -> Reason {
    let class = f.class;
    Reason::new(
        "no-requirement",
        "15 CFR 742.6; 15 CFR part 744",
        format!(
            "no licence requirement in force on {} reaches {} {} to {}",
            f.date,
            class.eccn,
            class.chip.clone().unwrap_or_else(|| class.item.clone()),
            CountryName(f.rs, &f.order.destination)
        ),
    )
}

/// A red flag on a decision: raised with its evidence, or unknown for want of a fact.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RedFlag {
    pub id: String,
    pub title: String,
    pub citation: String,
    pub severity: Severity,
    pub status: FlagStatus,
    pub evidence: String,
}

/// Whether a red flag was raised, or could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagStatus {
    Raised,
    Unknown,
}

/// A capped country allocation (AI Diffusion Tier 2: 790,000,000 TPP for 2025–2027) that
/// licences for an order count against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryAllocation {
    /// The rule that sets the allocation, and its citation.
    pub rule: String,
    pub citation: String,
    /// ISO alpha-2 destination.
    pub country: String,
    /// The allocation in TPP.
    pub tpp: f64,
}

/// A licence an order ships under, and what is left of it after this order.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LicenceUse {
    pub number: String,
    /// Balance left by limit (`units`, `value`, `tpp`).
    pub balance_left: std::collections::BTreeMap<String, u64>,
}

impl Decision {
    /// The decision names this licence exception (by its wire name in `exception`).
    pub fn uses_exception(&self, x: LicenceException) -> bool {
        self.exception.as_deref() == Some(x.as_str())
    }

    /// The order ships under a licence that covers it with enough balance: the outcome becomes
    /// `licensed`. Only a `license_required` decision can be licensed; a hold stays a hold.
    pub fn licensed(
        mut self,
        licence: LicenceUse,
        conditions: Vec<Condition>,
        citation: &str,
    ) -> Decision {
        if self.outcome != Outcome::LicenseRequired {
            return self;
        }
        let left: Vec<String> = licence
            .balance_left
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        self.reasons.push(Reason::new(
            "licence",
            citation.to_string(),
            format!(
                "covered by licence {} with enough balance; left after this order: {}",
                licence.number,
                left.join(", ")
            ),
        ));
        for c in conditions {
            if !self.conditions.contains(&c) {
                self.conditions.push(c);
            }
        }
        self.outcome = Outcome::Licensed;
        self.licence = Some(licence);
        self
    }
}

/// Screening's contribution to a decision.
struct ScreenFindings {
    /// Licence requirements (listed parties), with the review policy.
    requirements: Vec<(Reason, Option<ReviewPolicy>)>,
    holds: Vec<Reason>,
    unknowns: Vec<Reason>,
    unconfirmed: bool,
}

/// Whether a rule's licence requirement can be met by the exception `sym` at all (on some
/// order): it lists that exception among its choices.
fn admits(rule: &Rule, sym: LicenceException) -> bool {
    match &rule.effect {
        Effect::LicenseRequirement { exceptions, .. } => {
            exceptions.iter().any(|x| x.exception == sym)
        }
        _ => false,
    }
}

/// The foundry presumption for this order (Note 1 to 3A090.a, 90 FR 5298): the
/// classification's presumption, rebutted by a transistor count below the year's threshold only
/// on the attestation of the front-end fabricator that packaged the die outside Macau and D:5
/// (Note 1.b) or of an approved OSAT company (Note 1.c). Without the packaging facts the
/// rebuttal is unknown and the order is held (fail closed). With the reason saying so, when the
/// exporter is a foundry or OSAT.
fn foundry_for_order(
    rs: &Ruleset,
    order: &ResolvedOrder,
    class: &Classification,
    date: NaiveDate,
) -> (Option<bool>, Option<Reason>) {
    let presumption = class.flags.foundry_presumption;
    let count_below = class.flags.foundry_count_below;
    if presumption == Some(false) || count_below != Some(true) {
        return (presumption, None);
    }
    let (packager_ok, how) = match &order.order.packaging {
        None => (None, "the order does not say who packaged the die (`packaging`)".to_string()),
        Some(p) => match p.by.as_str() {
            "approved_osat" => (Some(true), "packaged by an approved OSAT company (Supp. No. 7 to part 740), on its attestation".to_string()),
            "front_end_fabricator" => match order.packaging_country {
                None => (None, "packaged by the front-end fabricator, but the order does not say where (`packaging.country`)".to_string()),
                Some(c) => {
                    let macau = rs.countries.effective(&c).as_str() == "MO";
                    let d5 = rs.countries.in_group(&c, "D:5", date);
                    let name = c.as_str();
                    if d5.unconfirmed {
                        (None, format!("packaged by the front-end fabricator in {name}, whose D:5 membership on {date} is unconfirmed"))
                    } else if macau || d5.member {
                        (Some(false), format!("packaged by the front-end fabricator in {name}, which is Macau or in Country Group D:5"))
                    } else {
                        (Some(true), format!("packaged by the front-end fabricator in {name}, outside Macau and D:5, on its attestation"))
                    }
                }
            },
            _ => (Some(false), "packaged by a party that is neither the front-end fabricator nor an approved OSAT company".to_string()),
        },
    };
    let result = match packager_ok {
        Some(true) => Some(false),
        Some(false) => presumption,
        None => None,
    };
    let role = order.exporter.as_ref().and_then(|e| e.role);
    let reason = matches!(role, Some("foundry" | "osat")).then(|| {
        let effect = match packager_ok {
            Some(true) => "the transistor count below the threshold rebuts the presumption",
            Some(false) => "the transistor count cannot rebut the presumption",
            None => "whether the transistor count rebuts the presumption is unknown",
        };
        Reason::new(
            "foundry.packaging",
            "Note 1.b and 1.c to 3A090.a; 90 FR 5298",
            format!("{how}: {effect}"),
        )
    });
    (result, reason)
}

fn screening_record(rs: &Ruleset, screening: Screening, date: NaiveDate) -> ScreeningRecord {
    match screening {
        Screening::Screened { hits, lists, .. } => ScreeningRecord {
            status: "screened",
            lists: lists.to_vec(),
            hits: hits
                .iter()
                .map(|h| {
                    let l = rs.screening.listing_status(h, date);
                    ListHit {
                        listing_date: Some(l.date),
                        listing_source: Some(l.source),
                        ..h.clone()
                    }
                })
                .collect(),
        },
        Screening::NotScreened => ScreeningRecord {
            status: "not_screened",
            lists: Vec::new(),
            hits: Vec::new(),
        },
        Screening::External => ScreeningRecord {
            status: "external",
            lists: Vec::new(),
            hits: Vec::new(),
        },
    }
}

fn screening_findings(
    rs: &Ruleset,
    screening: Screening,
    date: NaiveDate,
    reasons: &mut Vec<Reason>,
) -> ScreenFindings {
    let mut out = ScreenFindings {
        requirements: Vec::new(),
        holds: Vec::new(),
        unknowns: Vec::new(),
        unconfirmed: false,
    };
    let Some(hits) = screened_hits(screening, &mut out, reasons) else {
        return out;
    };
    let action = |h: &ListHit| {
        rs.screening
            .get(&h.list)
            .map(|p| p.action)
            .unwrap_or(ListAction::Block)
    };
    let severity = |a: ListAction| match a {
        ListAction::Informational => 0,
        ListAction::LicenseRequired => 1,
        ListAction::Block | ListAction::RedFlag => 2,
    };
    // An entry listed after the decision date has no effect (its listing date as far as it can
    // be established; where it cannot, the hit applies).
    let listing: Vec<_> = hits
        .iter()
        .map(|h| rs.screening.listing_status(h, date))
        .collect();
    // The most restrictive list a party certainly matches: a possible match on a list no more
    // restrictive than that cannot change the decision and needs no review.
    let certain_severity = |party: &str| {
        hits.iter()
            .zip(&listing)
            .filter(|(h, l)| h.party == party && h.certain && h.cleared.is_none() && l.applies)
            .map(|(h, _)| h)
            .map(|h| severity(action(h)))
            .max()
    };
    for (h, l) in hits.iter().zip(&listing) {
        let policy = rs.screening.get(&h.list);
        let title = policy.map(|p| p.title.as_str()).unwrap_or(h.list.as_str());
        let entry_cite = h.citation.clone().unwrap_or_default();
        let cite = match policy {
            Some(p) if entry_cite.is_empty() => p.citation.clone(),
            Some(p) => format!("{}; {entry_cite}", p.citation),
            None => entry_cite.clone(),
        };
        let who = format!(
            "{} `{}` matches `{}` on the {title} (matched `{}`, score {:.2})",
            h.party.replace('_', " "),
            h.query,
            h.name,
            h.matched_alias,
            h.score
        );
        if let Some(by) = &h.cleared {
            reasons.push(Reason::new(
                format!("screening.{}.cleared", h.list),
                cite,
                format!("{who}: cleared on the allow-list ({by})"),
            ));
            continue;
        }
        if !l.applies {
            reasons.push(Reason::new(
                format!("screening.{}.before-listing", h.list),
                cite,
                format!("{who}: listed from {} ({}); on {date} the listing did not yet exist, so the hit has no effect", l.date, l.source),
            ));
            continue;
        }
        out.unconfirmed |= l.unconfirmed;
        let listed = if l.date == "unknown" {
            format!("; listing date unknown ({})", l.source)
        } else {
            format!("; listed from {} ({})", l.date, l.source)
        };
        let who = format!("{who}{listed}");
        let a = action(h);
        if !h.certain {
            let covered = certain_severity(&h.party).is_some_and(|s| s >= severity(a));
            if covered || a == ListAction::Informational {
                reasons.push(Reason::new(format!("screening.{}.possible", h.list), cite, format!("{who}: a possible match below certainty, recorded; it cannot make the decision stricter")));
            } else {
                out.holds.push(Reason::new(format!("screening.{}.possible", h.list), cite, format!("{who}: a possible match below certainty; a reviewer must confirm or clear it")));
            }
            continue;
        }
        out.unconfirmed |= policy.is_some_and(|p| p.confidence.is_unconfirmed());
        match a {
            ListAction::LicenseRequired => {
                let p = policy.and_then(|p| if p.policy_from_entry { h.license_policy.as_deref().and_then(policy_from_text).or(p.policy) } else { p.policy });
                let req = h.license_requirement.as_deref().map(|t| format!("; licence requirement: {t}")).unwrap_or_default();
                let pol = h.license_policy.as_deref().map(|t| format!("; licence policy: {t}")).unwrap_or_default();
                out.requirements.push((Reason::new(format!("screening.{}", h.list), cite, format!("{who}{req}{pol}")), p));
            }
            ListAction::Block => out.holds.push(Reason::new(format!("screening.{}", h.list), cite, format!("{who}: a blocking list; the order must not ship without review"))),
            ListAction::RedFlag => out.holds.push(Reason::new(format!("screening.{}", h.list), cite, format!("{who}: a red flag; license exceptions are unavailable and a UVL statement is required"))),
            ListAction::Informational => reasons.push(Reason::new(format!("screening.{}", h.list), cite, format!("{who}: recorded; not an export prohibition"))),
        }
    }
    out
}

/// The hits to judge, once the screening's status is noted: not screened (unknown, fail
/// closed), screened externally (as the caller states), or screened (stale lists noted).
fn screened_hits<'h>(
    screening: Screening<'h>,
    out: &mut ScreenFindings,
    reasons: &mut Vec<Reason>,
) -> Option<&'h [ListHit]> {
    match screening {
        Screening::NotScreened => {
            out.unknowns.push(Reason::new(
                "screening.not-screened",
                "15 CFR part 744; Supp. No. 3 to part 732",
                "the consignee and end user were not screened against the US lists (import lists with `exportgate lists import`, or pass `--lists FILE`)",
            ));
            None
        }
        Screening::External => {
            reasons.push(Reason::new(
                "screening.external",
                "15 CFR part 744",
                "parties screened outside exportgate, as the caller states",
            ));
            None
        }
        Screening::Screened { hits, stale, .. } => {
            if let Some(s) = stale {
                out.unknowns.push(Reason::new(
                    "screening.stale-lists",
                    "15 CFR part 744; Supp. No. 3 to part 732",
                    format!(
                        "the lists screened against are {} days old (oldest data date {}), more \
                         than the {} days allowed: a party listed since may be missed (update \
                         them with `exportgate lists update` or `exportgate lists import`)",
                        s.age_days, s.oldest, s.max_age_days
                    ),
                ));
            }
            Some(hits)
        }
    }
}

/// The wire name of a review policy.
pub fn policy_name(p: ReviewPolicy) -> &'static str {
    match p {
        ReviewPolicy::PresumptionOfApproval => "presumption_of_approval",
        ReviewPolicy::CaseByCase => "case_by_case",
        ReviewPolicy::Unknown => "unknown",
        ReviewPolicy::PresumptionOfDenial => "presumption_of_denial",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_company_name_matches_on_its_leading_words() {
        let company = |name: &str| CompanyName {
            name: name.to_string(),
            words: name_words(name),
        };
        let nvidia = company("NVIDIA");
        assert!(names_company("NVIDIA Corporation", &nvidia));
        assert!(names_company("Nvidia Singapore Pte. Ltd.", &nvidia));
        assert!(names_company("nvidia", &nvidia));
        assert!(!names_company("Acme Systems (NVIDIA reseller)", &nvidia));
        assert!(!names_company("NVIDIAN Trading", &nvidia));
        assert!(!names_company("", &nvidia));
        assert!(names_company(
            "Advanced Micro Devices, Inc.",
            &company("advanced micro-devices")
        ));
        // A name without words matches nothing (and the ruleset refuses one at load).
        assert!(!names_company("NVIDIA", &company("")));
    }

    /// The epoch cache gives every chip on every date exactly what classifying afresh gives.
    #[test]
    fn cached_classifications_equal_fresh_ones() {
        let rs = Ruleset::embedded().unwrap();
        for forced in [vec![], vec!["ai-diffusion-2025".to_string()]] {
            let decider = Decider::new(&rs, &forced);
            let mut date = NaiveDate::from_ymd_opt(2022, 8, 1).unwrap();
            while date < NaiveDate::from_ymd_opt(2027, 3, 1).unwrap() {
                let ctx = Context {
                    as_of: date,
                    forced: forced.clone(),
                };
                for entry in rs.catalog.entries() {
                    let cached = decider
                        .classification(Some(&entry.id), &entry.spec, &ctx)
                        .unwrap();
                    let item = ItemRef {
                        chip: Some(&entry.id),
                        spec: &entry.spec,
                    };
                    let fresh = classify(&rs, item, &ctx).unwrap();
                    assert_eq!(
                        serde_json::to_value(&*cached).unwrap(),
                        serde_json::to_value(&fresh).unwrap(),
                        "{} on {date}",
                        entry.id
                    );
                }
                date += chrono::Duration::days(5);
            }
        }
    }
}
