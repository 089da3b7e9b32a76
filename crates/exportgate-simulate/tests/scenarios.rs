//! Scenario files: the examples build, patches change what they say, and every kind of bad
//! input is rejected with an error naming the field.

use exportgate_core::regime::Effect;
use exportgate_sample::{generate, BookSpec};
use exportgate_simulate::{simulate, BaseData, Scenario, ScenarioError};

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios")
}

fn build(text: &str) -> Result<exportgate_simulate::BuiltScenario, ScenarioError> {
    Scenario::from_json("test.json", text)?.build(&BaseData::embedded())
}

/// The error for a scenario, which must be rejected.
fn rejected(text: &str) -> ScenarioError {
    match build(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

fn lpp_and_allocation(b: &exportgate_simulate::BuiltScenario) -> (f64, f64) {
    let rule = b
        .ruleset
        .regime("ai-diffusion-2025")
        .unwrap()
        .rules
        .iter()
        .find(|r| r.id == "ai-diffusion-2025.worldwide")
        .unwrap();
    let Effect::LicenseRequirement {
        exceptions,
        allocation_tpp,
        ..
    } = &rule.effect
    else {
        panic!("not a licence requirement")
    };
    let lpp = exceptions.iter().find(|x| x.exception == "LPP").unwrap();
    (lpp.tpp_per_consignee_year.unwrap(), allocation_tpp.unwrap())
}

#[test]
fn every_example_scenario_builds() {
    let mut n = 0;
    for entry in std::fs::read_dir(examples()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let s = Scenario::from_json(&path.display().to_string(), &text).unwrap();
        s.build(&BaseData::embedded())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert!(n >= 3);
}

#[test]
fn the_builtins_build() {
    for name in exportgate_simulate::BUILTINS {
        let b = Scenario::builtin(name)
            .unwrap()
            .build(&BaseData::embedded())
            .unwrap();
        assert_eq!(b.tiers.len(), 3, "{name}");
    }
    assert!(Scenario::builtin("nope").is_none());
}

#[test]
fn a_keyed_patch_changes_one_number_and_leaves_the_rest() {
    let text = std::fs::read_to_string(examples().join("ai-diffusion-lpp-halved.json")).unwrap();
    let b = build(&text).unwrap();
    assert_eq!(lpp_and_allocation(&b), (13_450_000.0, 395_000_000.0));
    assert_eq!(b.patched, ["ai-diffusion-2025"]);
    let current = Scenario::builtin("current")
        .unwrap()
        .build(&BaseData::embedded())
        .unwrap();
    assert_eq!(lpp_and_allocation(&current), (26_900_000.0, 790_000_000.0));
    // The AIA exception beside LPP is untouched.
    let rule = &b.ruleset.regime("ai-diffusion-2025").unwrap().rules[0];
    let Effect::LicenseRequirement { exceptions, .. } = &rule.effect else {
        panic!()
    };
    assert_eq!(exceptions.len(), 2);
    assert_eq!(exceptions[0].exception, "AIA");
}

#[test]
fn a_patched_tier1_moves_a_country_between_tiers() {
    let text =
        std::fs::read_to_string(examples().join("ai-diffusion-tier1-plus-india-israel.json"))
            .unwrap();
    let b = build(&text).unwrap();
    let current = Scenario::builtin("current")
        .unwrap()
        .build(&BaseData::embedded())
        .unwrap();
    let d = "2025-06-01".parse().unwrap();
    assert_eq!(current.tier_of("IN", d), "tier2");
    assert_eq!(b.tier_of("IN", d), "tier1");
    assert_eq!(b.tier_of("SG", d), "tier2");
    assert_eq!(b.tier_of("CN", d), "tier3");
    assert_eq!(b.tier_of("MO", d), "tier3");
    // Hong Kong is treated as China.
    assert_eq!(b.tier_of("HK", d), "tier3");
}

#[test]
fn a_new_regime_document_decides_orders_in_its_window() {
    let text = std::fs::read_to_string(examples().join("draft-2026-gb300-tiers.json")).unwrap();
    let draft = build(&text).unwrap();
    assert_eq!(draft.added, ["draft-2026-gb300"]);
    let current = Scenario::builtin("current")
        .unwrap()
        .build(&BaseData::embedded())
        .unwrap();
    let mut book = generate(&BookSpec::new(2_000, 3));
    for o in &mut book {
        o.date = "2026-06-01".parse().unwrap();
    }
    let report = simulate(&book, &[current, draft], |_| {
        exportgate_core::Screening::External
    });
    let named: Vec<_> = report
        .flips
        .iter()
        .filter(|f| f.rules.iter().any(|r| r.starts_with("draft-2026-gb300.")))
        .collect();
    assert!(!named.is_empty());
    // A licence, or a hold where the item's class is indeterminate (fail closed).
    for f in &named {
        let o = f.outcomes["draft-2026-gb300-tiers"];
        assert!(o == "license_required" || o == "hold_for_review", "{f:?}");
    }
    assert!(named
        .iter()
        .any(|f| f.outcomes["draft-2026-gb300-tiers"] == "license_required"));
    // Before the draft's date nothing changes.
    let mut early = generate(&BookSpec::new(500, 3));
    for o in &mut early {
        o.date = "2026-03-01".parse().unwrap();
    }
    let draft = build(&text).unwrap();
    let current = Scenario::builtin("current")
        .unwrap()
        .build(&BaseData::embedded())
        .unwrap();
    let report = simulate(&early, &[current, draft], |_| {
        exportgate_core::Screening::External
    });
    assert!(report.flips.is_empty());
}

#[test]
fn an_evaluation_date_applies_to_every_order() {
    let book = generate(&BookSpec::new(400, 5));
    let dated = build(r#"{"name": "on-2022-01-01", "as_of": "2022-01-01"}"#).unwrap();
    let report = simulate(&book, &[dated], |_| exportgate_core::Screening::External);
    // Before October 2022 nothing in the book needs a licence under the chip rules; only
    // embargoes, listed owners and red flags can restrict.
    let s = &report.scenarios[0];
    assert_eq!(s.as_of, Some("2022-01-01".parse().unwrap()));
    assert!(s.by_outcome.0[0].orders > s.totals.orders / 2);
}

// ---- bad input ----

#[test]
fn malformed_json_is_rejected() {
    let e = rejected(r#"{"name": "x", "force": ["ai-diffusion-2025"]"#);
    assert_eq!(e.field, "(file)");
    assert!(e.message.contains("malformed JSON"), "{e}");
    let e = rejected(r#"{"name": "x"} trailing"#);
    assert!(e.message.contains("malformed JSON"), "{e}");
}

#[test]
fn an_unknown_scenario_field_is_rejected() {
    let e = rejected(r#"{"name": "x", "forced": ["ai-diffusion-2025"]}"#);
    assert!(e.message.contains("unknown field `forced`"), "{e}");
}

#[test]
fn a_bad_date_is_rejected() {
    let e = rejected(r#"{"name": "x", "as_of": "2025-13-01"}"#);
    assert_eq!(e.field, "as_of");
}

#[test]
fn a_bad_name_is_rejected() {
    let e = rejected(r#"{"name": "two words"}"#);
    assert_eq!(e.field, "name");
}

#[test]
fn an_unknown_regime_is_rejected() {
    let e = rejected(r#"{"name": "x", "force": ["ai-diffusion-2024"]}"#);
    assert_eq!(e.field, "force[0]");
    assert!(
        e.message.contains("unknown regime `ai-diffusion-2024`"),
        "{e}"
    );

    let e = rejected(r#"{"name": "x", "patches": {"ai-diffusion-2024": {"summary": "s"}}}"#);
    assert_eq!(e.field, r#"patches["ai-diffusion-2024"]"#);
    assert!(e.message.contains("unknown regime"), "{e}");

    let e = rejected(r#"{"name": "x", "tiers_from": "nope"}"#);
    assert_eq!(e.field, "tiers_from");
}

#[test]
fn an_unknown_country_is_rejected() {
    let e = rejected(
        r#"{"name": "x", "patches": {"ai-diffusion-2025": {"sets": {"tier1": {"countries": ["US", "XQ"]}}}}}"#,
    );
    assert_eq!(e.field, r#"patches["ai-diffusion-2025"]"#);
    assert!(e.message.contains("set `tier1`"), "{e}");
    assert!(e.message.contains("unknown country `XQ`"), "{e}");
}

#[test]
fn an_unknown_set_is_rejected() {
    // Patching a set that does not exist.
    let e = rejected(
        r#"{"name": "x", "patches": {"ai-diffusion-2025": {"sets": {"tier4": {"countries": ["US"]}}}}}"#,
    );
    assert_eq!(e.field, r#"patches["ai-diffusion-2025"].sets["tier4"]"#);
    assert!(e.message.contains("unknown set `tier4`"), "{e}");
    // Referring to a set that does not exist.
    let e = rejected(
        r#"{"name": "x", "patches": {"ai-diffusion-2025": {"sets": {"tier2": {"except_sets": ["tier1", "tier9"]}}}}}"#,
    );
    assert!(e.message.contains("unknown set `tier9`"), "{e}");
}

#[test]
fn an_unknown_parameter_is_rejected() {
    let e = rejected(
        r#"{"name": "x", "patches": {"ai-diffusion-2025": {"rules": {"ai-diffusion-2025.worldwide": {"effect": {"lpp_limit": 5}}}}}}"#,
    );
    assert!(
        e.field.starts_with(r#"patches["ai-diffusion-2025"]"#),
        "{e}"
    );
    assert!(e.message.contains("unknown field `lpp_limit`"), "{e}");

    let e = rejected(r#"{"name": "x", "patches": {"ai-diffusion-2025": {"tier2_cap": 5}}}"#);
    assert!(e.message.contains("unknown field `tier2_cap`"), "{e}");

    let e = rejected(
        r#"{"name": "x", "patches": {"acs-2023": {"classification": {"acs_2023": {"a1_tpp_minimum": 5}}}}}"#,
    );
    assert!(e.message.contains("unknown field `a1_tpp_minimum`"), "{e}");
}

#[test]
fn an_unknown_rule_or_exception_in_a_patch_is_rejected() {
    let e = rejected(
        r#"{"name": "x", "patches": {"ai-diffusion-2025": {"rules": {"ai-diffusion-2025.worldwid": {"title": "t"}}}}}"#,
    );
    assert_eq!(
        e.field,
        r#"patches["ai-diffusion-2025"].rules["ai-diffusion-2025.worldwid"]"#
    );
    assert!(e.message.contains("unknown rule"), "{e}");

    let e = rejected(
        r#"{"name": "x", "patches": {"ai-diffusion-2025": {"rules": {"ai-diffusion-2025.worldwide": {"effect": {"exceptions": {"LPQ": {"tpp_per_consignee_year": 1}}}}}}}}"#,
    );
    assert!(e.field.ends_with(r#".exceptions["LPQ"]"#), "{e}");
    assert!(e.message.contains("unknown exception `LPQ`"), "{e}");
}

#[test]
fn a_negative_cap_or_limit_is_rejected() {
    let e = rejected(
        r#"{"name": "x", "patches": {"ai-diffusion-2025": {"rules": {"ai-diffusion-2025.worldwide": {"effect": {"exceptions": {"LPP": {"tpp_per_consignee_year": -1}}}}}}}}"#,
    );
    assert_eq!(
        e.field,
        r#"patches["ai-diffusion-2025"].rules["ai-diffusion-2025.worldwide"].effect.exceptions["LPP"].tpp_per_consignee_year"#
    );
    assert!(e.message.contains("must not be negative"), "{e}");

    let e = rejected(
        r#"{"name": "x", "patches": {"ai-diffusion-2025": {"rules": {"ai-diffusion-2025.worldwide": {"effect": {"allocation_tpp": -790000000}}}}}}"#,
    );
    assert!(e.field.ends_with(".effect.allocation_tpp"), "{e}");

    let e = rejected(
        r#"{"name": "x", "patches": {"acs-2023": {"classification": {"acs_2023": {"a1_tpp_min": -4800}}}}}"#,
    );
    assert_eq!(
        e.field,
        r#"patches["acs-2023"].classification["acs_2023"].a1_tpp_min"#
    );
}

#[test]
fn a_new_regime_is_validated_like_the_embedded_data() {
    let draft = std::fs::read_to_string(examples().join("draft-2026-gb300-tiers.json")).unwrap();
    // Its id is taken.
    let taken = draft.replacen(r#""id": "draft-2026-gb300""#, r#""id": "acs-2023""#, 1);
    let e = rejected(&taken);
    assert_eq!(e.field, "regimes[0].id");
    // An unknown chip.
    let chip = draft.replacen(
        r#""items": {"eccns": ["3A090.a", "4A090.a"]}"#,
        r#""items": {"chips": ["nvidia-h900"]}"#,
        1,
    );
    let e = rejected(&chip);
    assert_eq!(e.field, "regimes[0]");
    assert!(e.message.contains("unknown chip `nvidia-h900`"), "{e}");
    // A negative threshold.
    let neg = draft.replacen(r#""value": 60000000}"#, r#""value": -60000000}"#, 1);
    let e = rejected(&neg);
    assert!(
        e.field
            .starts_with("regimes[0].rules[\"draft-2026-gb300.expedited\"]"),
        "{e}"
    );
    // An unknown fact.
    let fact = draft.replacen(r#""fact": "tpp_total""#, r#""fact": "gb300_count""#, 1);
    let e = rejected(&fact);
    assert!(e.message.contains("unknown fact `gb300_count`"), "{e}");
}

#[test]
fn a_patch_cannot_change_a_regime_id() {
    let e = rejected(r#"{"name": "x", "patches": {"ai-diffusion-2025": {"id": "other"}}}"#);
    assert_eq!(e.field, r#"patches["ai-diffusion-2025"].id"#);
}
