//! Compiling raw regime data ([`crate::regime`], the file format) into the rules evaluation
//! reads ([`crate::rules`]). Every reference is checked as it is resolved: an unknown Country
//! Group, country, named set, chip, ECCN, item flag, licence exception or fact is an error
//! naming the field (`when.destination.groups: unknown country group `Z:9``), which the
//! ruleset prefixes with the file and the rule. Used only by [`crate::ruleset`].

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::concepts::{ItemFlag, LicenceException};
use crate::country::{Countries, CountryCode};
use crate::eccn::Eccn;
use crate::regime::{self, ClassificationParams, Regime, SetExpr};
use crate::rules::{
    name_words, CompanyName, CountrySet, Effect, ExceptionChoice, GroupRef, HoldRule, ItemSelector,
    NamedSet, PolicyChoice, RegimeRules, Rule, Scope,
};

/// How deep named sets may refer to each other before it is taken for a cycle.
const MAX_SET_DEPTH: usize = 8;

/// What references resolve against: the countries and groups, the catalog, and the named
/// sets in reach (a regime's own; for the due-diligence policy, its own and those it borrows).
pub(crate) struct Compiler<'a> {
    pub countries: &'a Countries,
    pub catalog: &'a Catalog,
    pub named: &'a BTreeMap<String, SetExpr>,
}

/// A problem found while compiling, with the path of the field it was found in.
#[derive(Debug)]
pub(crate) struct CompileError {
    path: Vec<String>,
    problem: String,
}

impl CompileError {
    fn new(field: &str, problem: String) -> CompileError {
        CompileError {
            path: vec![field.to_string()],
            problem,
        }
    }
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{}: {}", self.path.join("."), self.problem)
        }
    }
}

/// Prefix an error with the field it was found in.
fn at<T>(field: &str, r: Result<T, CompileError>) -> Result<T, CompileError> {
    r.map_err(|mut e| {
        e.path.insert(0, field.to_string());
        e
    })
}

/// A company name a rule names the exporter by; one without a letter or digit would never
/// match any exporter, so it is refused.
fn company(i: usize, name: &str) -> Result<CompanyName, CompileError> {
    let words = name_words(name);
    if words.is_empty() {
        return Err(CompileError::new(
            &format!("exporter_names[{i}]"),
            format!("`{name}` has no letters or digits to match an exporter's name by"),
        ));
    }
    Ok(CompanyName {
        name: name.to_string(),
        words,
    })
}

impl Compiler<'_> {
    /// A regime's named sets and rules. Errors name the set or rule and the field.
    pub fn regime(&self, r: &Regime) -> Result<RegimeRules, String> {
        let mut sets = BTreeMap::new();
        for (name, set) in &r.sets {
            let compiled = self.set(set, 0).map_err(|e| format!("set `{name}`: {e}"))?;
            sets.insert(name.clone(), compiled);
        }
        let rules = r
            .rules
            .iter()
            .map(|rule| {
                self.rule(rule)
                    .map_err(|e| format!("rule `{}`: {e}", rule.id))
            })
            .collect::<Result<_, _>>()?;
        for (i, p) in r.classification.iter().enumerate() {
            self.params(p)
                .map_err(|e| format!("classification[{i}].{e}"))?;
        }
        Ok(RegimeRules {
            id: r.id.clone(),
            citation: r.citation.clone(),
            confidence: r.confidence,
            sets,
            rules,
            classification: r.classification.clone(),
        })
    }

    /// Classification parameters name known chips, and known countries as designers (a
    /// misspelt one would never match, and the items it should reach would go unflagged).
    fn params(&self, p: &ClassificationParams) -> Result<(), CompileError> {
        if let ClassificationParams::H20Class { named, .. }
        | ClassificationParams::Prc3a090 { named, .. } = p
        {
            if let Some(id) = named.iter().find(|id| self.catalog.get(id).is_none()) {
                return Err(CompileError::new(
                    "named",
                    format!("names unknown chip `{id}`"),
                ));
            }
        }
        if let ClassificationParams::Prc3a090 {
            designer_countries, ..
        } = p
        {
            if let Some(c) = designer_countries
                .iter()
                .find(|c| self.countries.get(c).is_none())
            {
                return Err(CompileError::new(
                    "designer_countries",
                    format!("unknown country `{c}`"),
                ));
            }
        }
        Ok(())
    }

    fn rule(&self, rule: &regime::Rule) -> Result<Rule, CompileError> {
        Ok(Rule {
            id: rule.id.clone(),
            title: rule.title.clone(),
            citation: rule.citation.clone(),
            confidence: rule.confidence,
            when: at("when", self.scope(&rule.when))?,
            displaces: rule.displaces.clone(),
            effect: at("effect", self.effect(&rule.effect))?,
        })
    }

    /// A rule of the due-diligence policy.
    pub fn hold_rule(
        &self,
        rule: &crate::due_diligence::PolicyRule,
    ) -> Result<HoldRule, CompileError> {
        Ok(HoldRule {
            id: rule.id.clone(),
            title: rule.title.clone(),
            citation: rule.citation.clone(),
            when: at("when", self.scope(&rule.when))?,
        })
    }

    fn effect(&self, e: &regime::Effect) -> Result<Effect, CompileError> {
        Ok(match e {
            regime::Effect::LicenseRequirement {
                review_policy,
                exceptions,
                conditions,
                allocation_tpp,
            } => Effect::LicenseRequirement {
                review_policy: review_policy
                    .iter()
                    .enumerate()
                    .map(|(i, p)| at(&format!("review_policy[{i}]"), self.policy(p)))
                    .collect::<Result<_, _>>()?,
                exceptions: exceptions
                    .iter()
                    .enumerate()
                    .map(|(i, x)| at(&format!("exceptions[{i}]"), self.exception(x)))
                    .collect::<Result<_, _>>()?,
                conditions: conditions.clone(),
                allocation_tpp: *allocation_tpp,
            },
            regime::Effect::Hold {} => Effect::Hold,
            regime::Effect::RedFlag { severity } => Effect::RedFlag {
                severity: *severity,
            },
            regime::Effect::ReviewPolicyChange {
                policy,
                applies_to,
                conditions,
            } => Effect::ReviewPolicyChange {
                policy: *policy,
                applies_to: applies_to.clone(),
                conditions: conditions.clone(),
            },
            regime::Effect::LicenceConditions {
                applies_to,
                conditions,
            } => Effect::LicenceConditions {
                applies_to: applies_to.clone(),
                conditions: conditions.clone(),
            },
        })
    }

    fn policy(&self, p: &regime::PolicyChoice) -> Result<PolicyChoice, CompileError> {
        Ok(PolicyChoice {
            when: at("when", self.scope(&p.when))?,
            policy: p.policy,
            confidence: p.confidence,
        })
    }

    fn exception(&self, x: &regime::ExceptionChoice) -> Result<ExceptionChoice, CompileError> {
        let exception = LicenceException::parse(&x.exception).ok_or_else(|| {
            CompileError::new("exception", format!("unknown exception `{}`", x.exception))
        })?;
        Ok(ExceptionChoice {
            exception,
            citation: x.citation.clone(),
            when: at("when", self.scope(&x.when))?,
            from: x.from,
            until: x.until,
            tpp_per_consignee_year: x.tpp_per_consignee_year,
            conditions: x.conditions.clone(),
            confidence: x.confidence,
            covers_transaction: x.covers_transaction,
        })
    }

    fn scope(&self, s: &regime::Scope) -> Result<Scope, CompileError> {
        let set = |field: &str, set: &Option<SetExpr>| match set {
            Some(set) => at(field, self.set(set, 0)).map(Some),
            None => Ok(None),
        };
        for (i, t) in s.facts.iter().enumerate() {
            crate::facts::check_fact_test(t)
                .map_err(|p| CompileError::new(&format!("facts[{i}]"), p))?;
        }
        Ok(Scope {
            items: match &s.items {
                Some(items) => Some(at("items", self.items(items))?),
                None => None,
            },
            destination: set("destination", &s.destination)?,
            headquarters: set("headquarters", &s.headquarters)?,
            headquarters_all: set("headquarters_all", &s.headquarters_all)?,
            headquarters_none: set("headquarters_none", &s.headquarters_none)?,
            headquarters_outside: set("headquarters_outside", &s.headquarters_outside)?,
            owned_by_listed: s.owned_by_listed,
            end_user_location: set("end_user_location", &s.end_user_location)?,
            exporter_country: set("exporter_country", &s.exporter_country)?,
            facts: s.facts.clone(),
            exporter_role: s.exporter_role.clone(),
            exporter_names: s
                .exporter_names
                .iter()
                .enumerate()
                .map(|(i, name)| company(i, name))
                .collect::<Result<_, _>>()?,
            end_use_any: s.end_use_any.clone(),
            end_use_all: s.end_use_all.clone(),
            end_use_stated_any: s.end_use_stated_any.clone(),
            end_use_excludes: s.end_use_excludes.clone(),
        })
    }

    fn items(&self, items: &regime::ItemSelector) -> Result<ItemSelector, CompileError> {
        for c in &items.chips {
            if self.catalog.get(c).is_none() {
                return Err(CompileError::new("chips", format!("unknown chip `{c}`")));
            }
        }
        let flags = |field: &str, list: &[String]| -> Result<Vec<ItemFlag>, CompileError> {
            list.iter()
                .map(|f| {
                    ItemFlag::parse(f)
                        .ok_or_else(|| CompileError::new(field, format!("unknown flag `{f}`")))
                })
                .collect()
        };
        Ok(ItemSelector {
            chips: items.chips.clone(),
            eccns: items
                .eccns
                .iter()
                .map(|e| {
                    Eccn::parse(e)
                        .ok_or_else(|| CompileError::new("eccns", format!("unknown ECCN `{e}`")))
                })
                .collect::<Result<_, _>>()?,
            flags: flags("flags", &items.flags)?,
            not_flags: flags("not_flags", &items.not_flags)?,
        })
    }

    /// A set expression: groups and countries resolved, named sets inlined (at most
    /// [`MAX_SET_DEPTH`] deep).
    pub fn set(&self, set: &SetExpr, depth: usize) -> Result<CountrySet, CompileError> {
        if depth > MAX_SET_DEPTH {
            return Err(CompileError {
                path: Vec::new(),
                problem: "named sets refer to each other in a cycle".into(),
            });
        }
        let codes = |field: &str, list: &[String]| -> Result<Vec<CountryCode>, CompileError> {
            list.iter()
                .map(|c| match CountryCode::parse(c) {
                    None => Err(CompileError::new(field, format!("bad country code `{c}`"))),
                    Some(_) if self.countries.get(c).is_none() => {
                        Err(CompileError::new(field, format!("unknown country `{c}`")))
                    }
                    Some(code) => Ok(code),
                })
                .collect()
        };
        let groups = |field: &str, list: &[String]| -> Result<Vec<GroupRef>, CompileError> {
            list.iter()
                .map(|g| match self.countries.group_id(g) {
                    Some(id) => Ok(GroupRef {
                        id,
                        name: g.clone(),
                    }),
                    None => Err(CompileError::new(
                        field,
                        format!("unknown country group `{g}`"),
                    )),
                })
                .collect()
        };
        let inline = |field: &str, list: &[String]| -> Result<Vec<NamedSet>, CompileError> {
            list.iter()
                .map(|n| {
                    let inner = self
                        .named
                        .get(n)
                        .ok_or_else(|| CompileError::new(field, format!("unknown set `{n}`")))?;
                    let set = at(&format!("{field}[`{n}`]"), self.set(inner, depth + 1))?;
                    Ok(NamedSet {
                        label: inner.label.clone().unwrap_or_else(|| n.clone()),
                        set,
                    })
                })
                .collect()
        };
        Ok(CountrySet {
            all: set.all,
            groups: groups("groups", &set.groups)?,
            countries: codes("countries", &set.countries)?,
            sets: inline("sets", &set.sets)?,
            except_groups: groups("except_groups", &set.except_groups)?,
            except_countries: codes("except_countries", &set.except_countries)?,
            except_sets: inline("except_sets", &set.except_sets)?,
            label: set.label.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::concepts::{ItemFlag, LicenceException};
    use crate::country::CountryCode;
    use crate::eccn::Eccn;
    use crate::rules::Effect;
    use crate::ruleset::{embedded, Ruleset};

    /// A one-rule regime file whose rule has the given `when` and `effect`, and named sets.
    fn regime(sets: &str, when: &str, effect: &str) -> String {
        format!(
            r#"{{"id": "t", "title": "T", "citation": "C", "kind": "rule",
                "effective": "2025-01-01", "confidence": "S", "summary": "S",
                "sets": {sets},
                "rules": [{{"id": "t.r", "title": "R", "citation": "C",
                            "when": {when}, "effect": {effect}}}]}}"#
        )
    }

    fn load(text: &str) -> Result<Ruleset, String> {
        Ruleset::from_json(embedded::CATALOG, embedded::COUNTRIES, &[("t.json", text)])
            .map_err(|e| e.to_string())
    }

    const REQUIREMENT: &str = r#"{"kind": "license_requirement"}"#;

    #[test]
    fn an_unknown_group_is_refused_naming_the_file_the_rule_and_the_field() {
        let text = regime(
            "{}",
            r#"{"destination": {"groups": ["D:5", "Z:9"]}}"#,
            REQUIREMENT,
        );
        assert_eq!(
            load(&text).unwrap_err(),
            "t.json: rule `t.r`: when.destination.groups: unknown country group `Z:9`"
        );
        let effect = r#"{"kind": "license_requirement", "exceptions": [
            {"exception": "NAC", "citation": "740.8", "when": {}},
            {"exception": "LPP", "citation": "LPP",
             "when": {"headquarters": {"except_groups": ["Q:1"]}}}]}"#;
        assert_eq!(
            load(&regime("{}", "{}", effect)).unwrap_err(),
            "t.json: rule `t.r`: effect.exceptions[1].when.headquarters.except_groups: \
             unknown country group `Q:1`"
        );
    }

    #[test]
    fn unknown_references_and_wordless_company_names_are_refused_with_their_field() {
        let cases = [
            (
                "{}",
                "{}",
                r#"{"kind": "license_requirement", "exceptions": [{"exception": "LPQ", "citation": "x"}]}"#,
                "rule `t.r`: effect.exceptions[0].exception: unknown exception `LPQ`",
            ),
            (
                "{}",
                r#"{"items": {"not_flags": ["h21_class"]}}"#,
                REQUIREMENT,
                "rule `t.r`: when.items.not_flags: unknown flag `h21_class`",
            ),
            (
                "{}",
                r#"{"items": {"eccns": ["3A999"]}}"#,
                REQUIREMENT,
                "rule `t.r`: when.items.eccns: unknown ECCN `3A999`",
            ),
            (
                "{}",
                r#"{"end_user_location": {"countries": ["XQ"]}}"#,
                REQUIREMENT,
                "rule `t.r`: when.end_user_location.countries: unknown country `XQ`",
            ),
            (
                r#"{"tier1": {"sets": ["tier9"]}}"#,
                "{}",
                REQUIREMENT,
                "set `tier1`: sets: unknown set `tier9`",
            ),
            (
                "{}",
                r#"{"exporter_names": ["NVIDIA", " - "]}"#,
                REQUIREMENT,
                "rule `t.r`: when.exporter_names[1]: ` - ` has no letters or digits",
            ),
            (
                r#"{"a": {"sets": ["b"]}, "b": {"sets": ["a"]}}"#,
                "{}",
                REQUIREMENT,
                "named sets refer to each other in a cycle",
            ),
        ];
        for (sets, when, effect, want) in cases {
            let e = load(&regime(sets, when, effect)).unwrap_err();
            assert!(
                e.starts_with("t.json: ") && e.contains(want),
                "{e}\nwanted: {want}"
            );
        }
    }

    #[test]
    fn classification_parameters_name_known_chips_and_designer_countries() {
        let prc = |named: &str, countries: &str| {
            regime("{}", "{}", REQUIREMENT).replacen(
                r#""sets": {}"#,
                &format!(
                    r#""sets": {{}}, "classification": [{{"scheme": "prc_3a090",
                        "named": [{named}], "designer_countries": [{countries}],
                        "citation": "c"}}]"#
                ),
                1,
            )
        };
        assert_eq!(
            load(&prc(r#""huawei-ascend-910c""#, r#""CN", "QQ""#)).unwrap_err(),
            "t.json: classification[0].designer_countries: unknown country `QQ`"
        );
        assert_eq!(
            load(&prc(r#""no-such-chip""#, "")).unwrap_err(),
            "t.json: classification[0].named: names unknown chip `no-such-chip`"
        );
        load(&prc(r#""huawei-ascend-910c""#, r#""CN""#)).unwrap();
    }

    #[test]
    fn the_due_diligence_policy_is_compiled_with_the_same_checks() {
        let mut rs = Ruleset::embedded().unwrap();
        let policy = |sets: &str, when: &str| {
            format!(
                r#"{{"sets_from": ["diversion-2025-05"], "sets": {sets},
                    "hold": [{{"id": "p.x", "title": "t", "citation": "c", "when": {when}}}]}}"#
            )
        };
        let bad = [
            (
                policy("{}", r#"{"headquarters_outside": {"groups": ["Z:9"]}}"#),
                "p.json: rule `p.x`: when.headquarters_outside.groups: unknown country group `Z:9`",
            ),
            (
                policy("{}", r#"{"destination": {"sets": ["nowhere"]}}"#),
                "p.json: rule `p.x`: when.destination.sets: unknown set `nowhere`",
            ),
            (
                policy(r#"{"unused": {"countries": ["XQ"]}}"#, "{}"),
                "p.json: set `unused`: countries: unknown country `XQ`",
            ),
        ];
        for (text, want) in bad {
            let e = rs.set_due_diligence_policy("p.json", &text).unwrap_err();
            assert_eq!(e.to_string(), want);
        }
        // A borrowed set resolves; the compiled rule is what evaluation reads.
        let text = policy("{}", r#"{"destination": {"sets": ["transshipment_hubs"]}}"#);
        rs.set_due_diligence_policy("p.json", &text).unwrap();
        let ids: Vec<&str> = rs.due_diligence_hold().iter().map(|r| r.id()).collect();
        assert_eq!(ids, ["p.x"]);
    }

    #[test]
    fn compiled_rules_carry_typed_references_and_inlined_sets() {
        let rs = Ruleset::embedded().unwrap();
        let diffusion = rs.regime_rules("ai-diffusion-2025").unwrap();
        // Every exception of every requirement is a licence exception, not a name.
        let exceptions: Vec<LicenceException> = diffusion
            .rules()
            .iter()
            .filter_map(|r| match r.effect() {
                Effect::LicenseRequirement { exceptions, .. } => Some(exceptions),
                _ => None,
            })
            .flatten()
            .map(|x| x.exception())
            .collect();
        assert!(
            exceptions.contains(&LicenceException::Lpp),
            "{exceptions:?}"
        );
        // The selectors' ECCNs and flags are typed.
        let selectors: Vec<_> = rs
            .regimes()
            .iter()
            .filter_map(|r| rs.regime_rules(&r.id))
            .flat_map(|r| r.rules())
            .filter_map(|r| r.when().items())
            .collect();
        assert!(selectors.iter().any(|s| s.eccns().contains(&Eccn::E3A090A)));
        assert!(selectors
            .iter()
            .any(|s| s.flags().contains(&ItemFlag::H20Class)));
        // Named sets are inlined: Tier 2 is every country but Tiers 1 and 3, with no lookup by
        // name when it is evaluated.
        let date = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let tier2 = &diffusion.sets()["tier2"];
        let code = |c| CountryCode::parse(c).unwrap();
        assert!(rs.contains(tier2, &code("IN"), date));
        assert!(!rs.contains(tier2, &code("US"), date));
        assert!(!rs.contains(tier2, &code("CN"), date));
    }
}
