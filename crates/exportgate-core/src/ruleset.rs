//! The validated, immutable bundle the engine evaluates: catalog, countries and regimes.
//!
//! Data is checked once here so that evaluation cannot meet a shape error later: each regime
//! file is parsed into the raw types of [`crate::regime`], its rules and sets are compiled
//! into [`crate::rules`] by [`crate::compile`] (known groups, countries, sets, chips, ECCNs,
//! flags, exceptions and facts), and the references between rules are checked (unique ids,
//! `displaces`, `applies_to`). Evaluation reads only the compiled rules.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::catalog::Catalog;
use crate::compile::Compiler;
use crate::concepts::{ItemFlag, LicenceException};
use crate::country::Countries;
use crate::country::CountryCode;
use crate::due_diligence::DueDiligencePolicy;
use crate::eccn::Eccn;
use crate::end_use::EndUseTags;
use crate::inputs::{digest_parts, regimes_digest, DataDigests};
use crate::regime::{ClassificationParams, Effect, Regime, RegimeState};
use crate::rules::{CountrySet, HoldRule, RegimeRules};
use crate::screening::ScreeningPolicy;

/// The data files compiled into the binary.
pub mod embedded {
    pub const CATALOG: &str = include_str!("../../../data/chips.json");
    pub const COUNTRIES: &str = include_str!("../../../data/countries.json");
    pub const SCREENING: &str = include_str!("../../../data/screening.json");
    pub const END_USE_TAGS: &str = include_str!("../../../data/end-use-tags.json");
    pub const DUE_DILIGENCE_POLICY: &str = include_str!("../../../data/due-diligence-policy.json");
    /// `(file name, contents)` of every regime file.
    pub const REGIMES: &[(&str, &str)] = &[
        (
            "embargoes.json",
            include_str!("../../../data/regimes/embargoes.json"),
        ),
        (
            "russia-belarus-2022.json",
            include_str!("../../../data/regimes/russia-belarus-2022.json"),
        ),
        (
            "a100-letter-2022.json",
            include_str!("../../../data/regimes/a100-letter-2022.json"),
        ),
        (
            "acs-2022.json",
            include_str!("../../../data/regimes/acs-2022.json"),
        ),
        (
            "acs-2022-macau.json",
            include_str!("../../../data/regimes/acs-2022-macau.json"),
        ),
        (
            "nvidia-letter-2023-10.json",
            include_str!("../../../data/regimes/nvidia-letter-2023-10.json"),
        ),
        (
            "acs-2023.json",
            include_str!("../../../data/regimes/acs-2023.json"),
        ),
        (
            "hbm-2024.json",
            include_str!("../../../data/regimes/hbm-2024.json"),
        ),
        (
            "ai-diffusion-2025.json",
            include_str!("../../../data/regimes/ai-diffusion-2025.json"),
        ),
        (
            "foundry-2025.json",
            include_str!("../../../data/regimes/foundry-2025.json"),
        ),
        (
            "h20-2025.json",
            include_str!("../../../data/regimes/h20-2025.json"),
        ),
        (
            "mi308-letter-2025-window.json",
            include_str!("../../../data/regimes/mi308-letter-2025-window.json"),
        ),
        (
            "gp10-huawei-ascend-2020.json",
            include_str!("../../../data/regimes/gp10-huawei-ascend-2020.json"),
        ),
        (
            "guidance-2025-05.json",
            include_str!("../../../data/regimes/guidance-2025-05.json"),
        ),
        (
            "military-744-21.json",
            include_str!("../../../data/regimes/military-744-21.json"),
        ),
        (
            "h20-licences-2025-08.json",
            include_str!("../../../data/regimes/h20-licences-2025-08.json"),
        ),
        (
            "affiliates-2025.json",
            include_str!("../../../data/regimes/affiliates-2025.json"),
        ),
        (
            "review-policy-2026.json",
            include_str!("../../../data/regimes/review-policy-2026.json"),
        ),
        (
            "uae-2026.json",
            include_str!("../../../data/regimes/uae-2026.json"),
        ),
        (
            "diversion-2025-05.json",
            include_str!("../../../data/regimes/diversion-2025-05.json"),
        ),
    ];
}

/// The wire names of a concept's `ALL`, in order, as a constant.
macro_rules! wire_names {
    ($all:expr, $n:literal) => {{
        let mut out = [""; $n];
        let mut i = 0;
        while i < $n {
            out[i] = $all[i].as_str();
            i += 1;
        }
        out
    }};
}

/// Exception symbols a rule may name (the wire names of [`LicenceException`]).
pub const EXCEPTIONS: [&str; 6] = wire_names!(LicenceException::ALL, 6);

/// Item flags a rule may test (the wire names of [`ItemFlag`]).
pub const FLAGS: [&str; 7] = wire_names!(ItemFlag::ALL, 7);

/// ECCN values a rule may select (the wire names of [`Eccn`]).
pub const ECCNS: [&str; 7] = wire_names!(Eccn::ALL, 7);

/// A problem found while validating the data.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct RulesetError {
    pub file: String,
    pub problem: String,
}

fn err(file: &str, problem: impl Into<String>) -> RulesetError {
    RulesetError {
        file: file.to_string(),
        problem: problem.into(),
    }
}

/// A regime and its state on a date, as listed to people and programs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RegimeSummary<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub citation: &'a str,
    pub kind: &'a str,
    pub state: RegimeState,
    pub published: Option<NaiveDate>,
    pub effective: NaiveDate,
    pub compliance: Option<NaiveDate>,
    pub enforcement_end: Option<NaiveDate>,
    pub confidence: crate::confidence::Confidence,
    pub unconfirmed: bool,
    pub summary: &'a str,
}

/// What to evaluate against: the date and the regimes forced into force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub as_of: NaiveDate,
    /// Regime ids evaluated as if enforced from their binding date (`--regime ID`).
    pub forced: Vec<String>,
}

impl Context {
    pub fn on(as_of: NaiveDate) -> Context {
        Context {
            as_of,
            forced: Vec::new(),
        }
    }
}

/// Catalog, countries and regimes, validated.
#[derive(Debug, Clone)]
pub struct Ruleset {
    pub catalog: Catalog,
    pub countries: Countries,
    /// What a hit on each screening list means.
    pub screening: ScreeningPolicy,
    /// The end-use tags an order may carry (those the rules test, plus the declared list).
    pub end_use_tags: EndUseTags,
    /// Where an unknown high-severity red flag holds the order (`data/due-diligence-policy.json`
    /// unless replaced with [`Ruleset::set_due_diligence_policy`]).
    pub due_diligence: DueDiligencePolicy,
    /// The regimes as read (their dates say what each is on a date).
    regimes: Vec<Regime>,
    /// Each regime's rules and sets compiled, in the order of `regimes`: what evaluation reads.
    compiled: Vec<RegimeRules>,
    /// The due-diligence policy's rules compiled.
    hold: Vec<HoldRule>,
    /// The digests of the data texts this ruleset was built from (issue 19 item 1).
    digests: DataDigests,
}

impl Ruleset {
    /// The data compiled into the binary.
    pub fn embedded() -> Result<Ruleset, RulesetError> {
        let mut rs = Ruleset::from_json(embedded::CATALOG, embedded::COUNTRIES, embedded::REGIMES)?
            .with_policies(embedded::SCREENING, embedded::END_USE_TAGS)?;
        rs.set_due_diligence_policy("due-diligence-policy.json", embedded::DUE_DILIGENCE_POLICY)?;
        Ok(rs)
    }

    /// Adds what a hit on each list does (`screening.json`) and the declared end-use tags
    /// (`end-use-tags.json`) from their texts, and records their digests.
    pub fn with_policies(
        mut self,
        screening: &str,
        end_use_tags: &str,
    ) -> Result<Ruleset, RulesetError> {
        self.screening = ScreeningPolicy::from_json(screening)
            .map_err(|e| err("screening.json", e.to_string()))?;
        self.end_use_tags
            .declare(end_use_tags)
            .map_err(|p| err("end-use-tags.json", p))?;
        self.digests.screening = digest_parts([screening.as_bytes()]);
        self.digests.end_use_tags = digest_parts([end_use_tags.as_bytes()]);
        Ok(self)
    }

    /// The digests of the data this ruleset was built from: what its decisions name as their
    /// rule data (see [`crate::inputs`]).
    pub fn digests(&self) -> &DataDigests {
        &self.digests
    }

    /// Replaces the due-diligence policy with the text of a policy file (`file` names it in
    /// errors). The policy is validated and compiled like a regime's rules: known groups,
    /// countries, sets and ECCNs; its sets may come from the regimes named in `sets_from`.
    pub fn set_due_diligence_policy(&mut self, file: &str, text: &str) -> Result<(), RulesetError> {
        let p: DueDiligencePolicy =
            serde_json::from_str(text).map_err(|e| err(file, e.to_string()))?;
        let mut named = BTreeMap::new();
        for id in &p.sets_from {
            let r = self
                .regime(id)
                .ok_or_else(|| err(file, format!("sets_from: unknown regime `{id}`")))?;
            named.extend(r.sets.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        named.extend(p.sets.iter().map(|(k, v)| (k.clone(), v.clone())));
        let compiler = Compiler {
            countries: &self.countries,
            catalog: &self.catalog,
            named: &named,
        };
        // The policy's own sets are checked even where no rule uses them.
        for (name, set) in &p.sets {
            compiler
                .set(set, 0)
                .map_err(|e| err(file, format!("set `{name}`: {e}")))?;
        }
        let mut ids = BTreeSet::new();
        let mut hold = Vec::new();
        for rule in &p.hold {
            let at = |m: String| err(file, format!("rule `{}`: {m}", rule.id));
            if !ids.insert(rule.id.clone()) {
                return Err(at("duplicate rule id".into()));
            }
            hold.push(compiler.hold_rule(rule).map_err(|e| at(e.to_string()))?);
        }
        self.hold = hold;
        self.due_diligence = p;
        self.digests.due_diligence = digest_parts([text.as_bytes()]);
        Ok(())
    }

    /// Build from the texts of the data files.
    pub fn from_json(
        catalog: &str,
        countries: &str,
        regimes: &[(&str, &str)],
    ) -> Result<Ruleset, RulesetError> {
        let (catalog_text, countries_text) = (catalog, countries);
        let catalog = Catalog::from_json(catalog).map_err(|e| err("chips.json", e.to_string()))?;
        let countries =
            Countries::from_json(countries).map_err(|e| err("countries.json", e.to_string()))?;
        let mut parsed = Vec::new();
        let mut texts = Vec::new();
        for (file, text) in regimes {
            let r: Regime = serde_json::from_str(text).map_err(|e| err(file, e.to_string()))?;
            texts.push((r.id.clone(), *text));
            parsed.push((file.to_string(), r));
        }
        let by_id: Vec<(&str, &str)> = texts.iter().map(|(id, t)| (id.as_str(), *t)).collect();
        let digests = DataDigests {
            regimes: regimes_digest(&by_id),
            countries: digest_parts([countries_text.as_bytes()]),
            catalog: digest_parts([catalog_text.as_bytes()]),
            screening: digest_parts([b"".as_slice()]),
            end_use_tags: digest_parts([b"".as_slice()]),
            due_diligence: digest_parts([b"".as_slice()]),
        };
        parsed.sort_by_key(|(_, r)| (r.effective, r.id.clone()));
        let mut compiled = Vec::new();
        for (file, r) in &parsed {
            let compiler = Compiler {
                countries: &countries,
                catalog: &catalog,
                named: &r.sets,
            };
            compiled.push(compiler.regime(r).map_err(|p| err(file, p))?);
        }
        let regimes: Vec<Regime> = parsed.iter().map(|(_, r)| r.clone()).collect();
        let ruleset = Ruleset {
            catalog,
            countries,
            screening: ScreeningPolicy::default(),
            due_diligence: DueDiligencePolicy::default(),
            end_use_tags: EndUseTags::used_by(&regimes),
            regimes,
            compiled,
            hold: Vec::new(),
            digests,
        };
        ruleset.validate(&parsed)?;
        Ok(ruleset)
    }

    fn validate(&self, files: &[(String, Regime)]) -> Result<(), RulesetError> {
        let mut regime_ids = BTreeSet::new();
        let mut rule_ids = BTreeSet::new();
        for (file, r) in files {
            if !regime_ids.insert(r.id.clone()) {
                return Err(err(file, format!("duplicate regime id `{}`", r.id)));
            }
            for rule in &r.rules {
                if !rule_ids.insert(rule.id.clone()) {
                    return Err(err(file, format!("duplicate rule id `{}`", rule.id)));
                }
            }
        }
        // Sets, scopes, ECCNs, flags and exceptions were checked as they were compiled; the
        // references between rules are checked here.
        for (file, r) in files {
            for rule in &r.rules {
                let at = |p: String| err(file, format!("rule `{}`: {p}", rule.id));
                for id in &rule.displaces {
                    if !rule_ids.contains(id) {
                        return Err(at(format!("displaces unknown rule `{id}`")));
                    }
                }
                if let Effect::ReviewPolicyChange { applies_to, .. }
                | Effect::LicenceConditions { applies_to, .. } = &rule.effect
                {
                    for id in applies_to {
                        if !rule_ids.contains(id) {
                            return Err(at(format!("applies to unknown rule `{id}`")));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Is `code` in `set` on `date`, with the engine's own semantics (groups as of the date,
    /// named sets, exclusions; a territory counts as the country it is treated as)?
    pub fn contains(&self, set: &CountrySet, code: &CountryCode, date: NaiveDate) -> bool {
        set.contains(&self.countries, code, date)
    }

    /// Every regime with its state in a context: what `exportgate regimes` and the API list.
    pub fn summaries<'a>(&'a self, ctx: &Context) -> Vec<RegimeSummary<'a>> {
        self.regimes
            .iter()
            .map(|r| RegimeSummary {
                id: &r.id,
                title: &r.title,
                citation: &r.citation,
                kind: &r.kind,
                state: self.state(r, ctx),
                published: r.published,
                effective: r.effective,
                compliance: r.compliance,
                enforcement_end: r.enforcement_end,
                confidence: r.confidence,
                unconfirmed: r.unconfirmed(),
                summary: &r.summary,
            })
            .collect()
    }

    /// All regimes, oldest first.
    pub fn regimes(&self) -> &[Regime] {
        &self.regimes
    }

    pub fn regime(&self, id: &str) -> Option<&Regime> {
        self.regimes.iter().find(|r| r.id == id)
    }

    /// A regime's compiled rules and sets, by its id.
    pub fn regime_rules(&self, id: &str) -> Option<&RegimeRules> {
        self.compiled.iter().find(|r| r.id == id)
    }

    /// Every regime's compiled rules, oldest first, with the regime's state in a context.
    pub fn rules_in<'a: 'c, 'c>(
        &'a self,
        ctx: &'c Context,
    ) -> impl Iterator<Item = (RegimeState, &'a RegimeRules)> + 'c {
        self.regimes
            .iter()
            .zip(&self.compiled)
            .map(move |(r, c)| (self.state(r, ctx), c))
    }

    /// The compiled rules of the regimes binding in a context, oldest first.
    pub fn binding_rules<'a: 'c, 'c>(
        &'a self,
        ctx: &'c Context,
    ) -> impl Iterator<Item = &'a RegimeRules> + 'c {
        self.rules_in(ctx)
            .filter(|(state, _)| state.binds())
            .map(|(_, c)| c)
    }

    /// The due-diligence policy's rules, compiled: where an unknown high-severity red flag
    /// holds.
    pub fn due_diligence_hold(&self) -> &[HoldRule] {
        &self.hold
    }

    /// The state of a regime in a context.
    pub fn state(&self, regime: &Regime, ctx: &Context) -> RegimeState {
        regime.state_on(ctx.as_of, ctx.forced.iter().any(|f| f == &regime.id))
    }

    /// Regimes binding in a context, oldest first.
    pub fn binding<'a>(&'a self, ctx: &'a Context) -> impl Iterator<Item = &'a Regime> + 'a {
        self.regimes
            .iter()
            .filter(move |r| self.state(r, ctx).binds())
    }

    /// Classification parameters binding in a context, latest regime last.
    pub fn params<'a: 'c, 'c>(
        &'a self,
        ctx: &'c Context,
    ) -> impl Iterator<Item = (&'a RegimeRules, &'a ClassificationParams)> + 'c {
        self.binding_rules(ctx)
            .flat_map(|r| r.classification.iter().map(move |p| (r, p)))
    }
}
