//! On a generated book, Tier 2 orders above the License Exception LPP cap flip from
//! `no_license_required` under `current` to `license_required` under `ai-diffusion-2025`, and
//! the report names the rule that made each flip.
//!
//! The expected orders are computed here, independently of the simulator's replay and
//! aggregation: from the orders' facts (Tier 2 by the reference list of Tier 1 countries and the
//! D:5 group, `.a` items, dates from the compliance date) and a consignee-year LPP tally kept in
//! this test over single-order decisions of the engine.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use exportgate_core::decide::Decider;
use exportgate_core::{Eccn, NoQuotas, Outcome, Ruleset, Screening};
use exportgate_sample::{generate, BookSpec};
use exportgate_simulate::run::simulate_chunked;
use exportgate_simulate::{simulate, BaseData, Scenario};

/// Tier 1 of the AI Diffusion rule (Supp. No. 5(a) to part 740 and the United States), from
/// the reference notes, not from the regime data.
const TIER1: [&str; 19] = [
    "US", "AU", "BE", "CA", "DK", "FI", "FR", "DE", "IE", "IT", "JP", "NL", "NZ", "NO", "KR", "ES",
    "SE", "TW", "GB",
];
const LPP_CAP: f64 = 26_900_000.0;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn in_d5_or_macau(rs: &Ruleset, country: &str, on: NaiveDate) -> bool {
    let code = rs.countries.code(country).unwrap();
    country == "MO" || rs.countries.in_group(&code, "D:5", on).member
}

fn tier2(rs: &Ruleset, country: &str, on: NaiveDate) -> bool {
    !TIER1.contains(&country) && !in_d5_or_macau(rs, country, on)
}

#[test]
fn tier2_orders_above_the_lpp_cap_flip_to_licence_required_naming_the_rule() {
    // Replayed in chunks of 2,000 orders, so the LPP tally must carry across chunks.
    let book = generate(&BookSpec::new(12_000, 7));
    let base = BaseData::embedded();
    let scenarios = [
        Scenario::builtin("current").unwrap().build(&base).unwrap(),
        Scenario::builtin("ai-diffusion-2025")
            .unwrap()
            .build(&base)
            .unwrap(),
    ];
    let report = simulate_chunked(&book, &scenarios, |_| Screening::External, 2_000);
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    // Expected, independently.
    let rs = Ruleset::embedded().unwrap();
    let now = Decider::new(&rs, &[]);
    let forced = Decider::new(&rs, &["ai-diffusion-2025".to_string()]);
    let compliance = date("2025-05-15");
    let mut used: HashMap<(String, i32), f64> = HashMap::new();
    let mut over_cap = BTreeSet::new();
    let mut within_cap_lpp = 0usize;
    let mut no_lpp = BTreeSet::new();
    let mut tier2_over_cap = 0usize;
    for o in &book {
        let current = now.decide(o, &NoQuotas, Screening::External).unwrap();
        let alone = forced.decide(o, &NoQuotas, Screening::External).unwrap();
        if alone.exception.as_deref() == Some("LPP") {
            // Would ship under LPP with nothing else shipped: a .a order outside Tier 3 from
            // the compliance date on (Tier 2, or Tier 1 for a consignee not headquartered there).
            let class = alone.classification.as_deref().unwrap();
            assert!(!in_d5_or_macau(&rs, &o.destination, o.date), "{}", o.id);
            assert!(o.date >= compliance, "{}", o.id);
            assert!(
                matches!(class.eccn, Eccn::E3A090A | Eccn::E4A090A),
                "{}: {:?}",
                o.id,
                class.eccn
            );
            // A computer counts the TPP of its .a ICs; an IC its own.
            let unit = class.tpp_counted.or(class.tpp).unwrap();
            let tpp = unit * o.quantity as f64;
            let u = used
                .entry((o.consignee.name.to_string(), o.date.year()))
                .or_default();
            if *u + tpp > LPP_CAP {
                if current.outcome == Outcome::NoLicenseRequired {
                    over_cap.insert(o.id.clone());
                    tier2_over_cap += usize::from(tier2(&rs, &o.destination, o.date));
                }
            } else {
                *u += tpp;
                within_cap_lpp += 1;
            }
        } else if current.outcome == Outcome::NoLicenseRequired
            && alone.outcome == Outcome::LicenseRequired
        {
            // No LPP even with nothing else shipped: the order alone is above the cap, or the
            // consignee is headquartered in D:5 or Macau, or where is not known.
            assert!(!in_d5_or_macau(&rs, &o.destination, o.date), "{}", o.id);
            assert!(o.date >= compliance, "{}", o.id);
            let c = &o.consignee;
            let hq_known = c.headquarters.is_some() && c.parent_headquarters.is_some();
            let hq_bad = [&c.headquarters, &c.parent_headquarters]
                .into_iter()
                .flatten()
                .any(|h| in_d5_or_macau(&rs, h, o.date));
            if hq_known && !hq_bad {
                let class = alone.classification.as_deref().unwrap();
                let unit = class.tpp_counted.or(class.tpp).unwrap();
                assert!(unit * o.quantity as f64 > LPP_CAP, "{}", o.id);
                over_cap.insert(o.id.clone());
                tier2_over_cap += usize::from(tier2(&rs, &o.destination, o.date));
            } else {
                no_lpp.insert(o.id.clone());
            }
        }
    }
    assert!(
        tier2_over_cap >= 20,
        "the book should have Tier 2 orders above the LPP cap: {tier2_over_cap}"
    );
    assert!(within_cap_lpp > over_cap.len());

    // The simulator's flips from no_license_required to license_required.
    let flips: Vec<_> = report
        .flips
        .iter()
        .filter(|f| {
            f.outcomes["current"] == "no_license_required"
                && f.outcomes["ai-diffusion-2025"] == "license_required"
        })
        .collect();
    let got: BTreeSet<String> = flips.iter().map(|f| f.id.clone()).collect();
    let expected: BTreeSet<String> = over_cap.union(&no_lpp).cloned().collect();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    println!(
        "{} flips no_license_required → license_required: {} above the LPP cap ({} of them to Tier 2), {} without LPP",
        got.len(),
        over_cap.len(),
        tier2_over_cap,
        no_lpp.len()
    );

    // Each names the rule that made it.
    for f in &flips {
        let d = &f.differences[0];
        assert_eq!(d.scenario, "ai-diffusion-2025");
        assert!(
            d.rules_added
                .iter()
                .any(|r| r == "ai-diffusion-2025.worldwide"),
            "{}: {:?}",
            f.id,
            d
        );
        assert!(f.rules.iter().any(|r| r == "ai-diffusion-2025.worldwide"));
        if over_cap.contains(&f.id) {
            assert!(
                d.rules_added.iter().any(|r| r == "LE-LPP.quota"),
                "{}: {:?}",
                f.id,
                d
            );
        }
    }
    let t = report
        .transitions
        .iter()
        .find(|t| {
            t.scenario == "ai-diffusion-2025"
                && t.from == "no_license_required"
                && t.to == "license_required"
        })
        .unwrap();
    assert_eq!(t.stats.orders as usize, expected.len());
    assert_eq!(
        t.rules[0],
        (
            "ai-diffusion-2025.worldwide".to_string(),
            expected.len() as u64
        )
    );

    // Per-scenario totals add up to the book.
    for s in &report.scenarios {
        assert_eq!(s.totals.orders, book.len() as u64);
        assert_eq!(
            s.by_tier.values().map(|g| g.total.orders).sum::<u64>(),
            book.len() as u64
        );
    }
}

#[test]
fn a_scenario_replayed_against_itself_has_no_flips_and_matches_check() {
    let book = generate(&BookSpec::new(3_000, 11));
    let base = BaseData::embedded();
    let s = Scenario::builtin("ai-diffusion-2025")
        .unwrap()
        .build(&base)
        .unwrap();
    let mut other = s.clone();
    other.scenario.name = "again".into();
    let report = simulate(&book, &[s, other], |_| Screening::External);
    assert!(report.flips.is_empty());
    assert_eq!(
        report.scenarios[0].by_outcome,
        report.scenarios[1].by_outcome
    );
}

#[test]
fn sharing_decisions_between_scenarios_changes_nothing() {
    use exportgate_simulate::run::{simulate_with, Options};
    let examples =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios");
    let base = BaseData::embedded();
    let file = |name: &str| {
        let text = std::fs::read_to_string(examples.join(name)).unwrap();
        Scenario::from_json(name, &text)
            .unwrap()
            .build(&base)
            .unwrap()
    };
    let scenarios = [
        Scenario::builtin("current").unwrap().build(&base).unwrap(),
        Scenario::builtin("ai-diffusion-2025")
            .unwrap()
            .build(&base)
            .unwrap(),
        file("ai-diffusion-tier1-plus-india-israel.json"),
        file("ai-diffusion-lpp-halved.json"),
        file("draft-2026-gb300-tiers.json"),
        Scenario::from_json(
            "dated",
            r#"{"name": "dated", "as_of": "2025-06-01", "force": ["ai-diffusion-2025"]}"#,
        )
        .unwrap()
        .build(&base)
        .unwrap(),
    ];
    let book = generate(&BookSpec::new(6_000, 13));
    let run = |share: bool| {
        let r = simulate_with(
            &book,
            &scenarios,
            |_| Screening::External,
            Options {
                chunk: 1_500,
                share,
            },
        );
        serde_json::to_value(&r).unwrap()
    };
    let shared = run(true);
    let alone = run(false);
    assert!(!shared["flips"].as_array().unwrap().is_empty());
    assert_eq!(shared, alone);
}
