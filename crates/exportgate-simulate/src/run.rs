//! Replaying an order book under several scenarios.
//!
//! The book is processed in chunks (memory stays bounded on large books). For each chunk and
//! each scenario every order is decided in parallel (rayon) without quotas; the decisions that
//! consulted a per-consignee quota (LPP) are then decided again in book order against the LPP
//! used by the orders before them, exactly as `check` does, with one tally per scenario kept
//! across chunks. The chunk's decisions are then aggregated and compared between scenarios,
//! and dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use exportgate_core::decide::{Decider, LppTally};
use exportgate_core::{Decision, NoQuotas, Order, Outcome, Screening};
use rayon::prelude::*;

use crate::report::{
    outcome_index, AllocationUse, ByOutcome, Difference, Flip, Group, OrderError, Report,
    ScenarioReport, Stats, Transition,
};
use crate::scenario::BuiltScenario;

/// Orders decided per chunk.
const CHUNK: usize = 32_768;

/// What the aggregation keeps of a decision.
struct Slim<'a> {
    outcome: Outcome,
    tpp: u64,
    tpp_counted: f64,
    tier: &'a str,
    /// Rule ids of the reasons, sorted and unique.
    rules: Vec<String>,
}

/// Per-scenario accumulators.
#[derive(Default)]
struct Acc {
    decided: u64,
    errors: u64,
    by_outcome: ByOutcome,
    by_destination: HashMap<String, ByOutcome>,
    by_tier: HashMap<String, ByOutcome>,
    by_chip: HashMap<String, ByOutcome>,
    /// (rule, destination) → (orders, TPP counted).
    allocations: HashMap<(String, String), (u64, f64)>,
}

fn add(
    map: &mut HashMap<String, ByOutcome>,
    key: &str,
    o: Outcome,
    q: u64,
    tpp: u64,
    v: Option<f64>,
) {
    let entry = match map.get_mut(key) {
        Some(e) => e,
        None => map.entry(key.to_string()).or_default(),
    };
    entry.0[outcome_index(o)].add(q, tpp, v);
}

/// Replay `book` under every scenario. `screening(i)` says how the parties of `book[i]` were
/// screened (the same in every scenario). The first scenario is the baseline flips are
/// measured against.
pub fn simulate<'s, F>(book: &[Order], scenarios: &[BuiltScenario], screening: F) -> Report
where
    F: Fn(usize) -> Screening<'s> + Sync,
{
    simulate_chunked(book, scenarios, screening, CHUNK)
}

/// [`simulate`] with another chunk size (orders decided together; at least 1). The result
/// does not depend on it.
pub fn simulate_chunked<'s, F>(
    book: &[Order],
    scenarios: &[BuiltScenario],
    screening: F,
    chunk_size: usize,
) -> Report
where
    F: Fn(usize) -> Screening<'s> + Sync,
{
    let chunk_size = chunk_size.max(1);
    let deciders: Vec<Decider> = scenarios
        .iter()
        .map(|b| Decider::new(&b.ruleset, &b.scenario.force))
        .collect();
    let mut tallies: Vec<LppTally> = vec![LppTally::default(); scenarios.len()];
    let mut accs: Vec<Acc> = scenarios.iter().map(|_| Acc::default()).collect();
    let mut errors: Vec<OrderError> = Vec::new();
    let mut flips: Vec<Flip> = Vec::new();
    // (scenario, from, to) → stats and rule counts.
    let mut transitions: BTreeMap<(usize, usize, usize), (Stats, BTreeMap<String, u64>)> =
        BTreeMap::new();

    for (ci, chunk) in book.chunks(chunk_size).enumerate() {
        let base = ci * chunk_size;
        let decided: Vec<Vec<Result<Slim, OrderError>>> = scenarios
            .iter()
            .zip(&deciders)
            .zip(tallies.iter_mut())
            .map(|((b, decider), tally)| decide_chunk(b, decider, chunk, base, &screening, tally))
            .collect();

        // Aggregate each scenario's decisions of the chunk.
        accs.par_iter_mut()
            .zip(decided.par_iter())
            .zip(scenarios.par_iter())
            .for_each(|((acc, results), b)| {
                for (order, r) in chunk.iter().zip(results) {
                    let Ok(s) = r else {
                        acc.errors += 1;
                        continue;
                    };
                    acc.decided += 1;
                    let (q, v) = (order.quantity, order.value_usd);
                    acc.by_outcome.0[outcome_index(s.outcome)].add(q, s.tpp, v);
                    add(
                        &mut acc.by_destination,
                        &order.destination,
                        s.outcome,
                        q,
                        s.tpp,
                        v,
                    );
                    add(&mut acc.by_tier, s.tier, s.outcome, q, s.tpp, v);
                    let chip = order.item.chip.as_deref().unwrap_or("(spec)");
                    add(&mut acc.by_chip, chip, s.outcome, q, s.tpp, v);
                    if matches!(s.outcome, Outcome::LicenseRequired | Outcome::Licensed) {
                        for rule in b.allocations.keys() {
                            if s.rules.binary_search(rule).is_ok() {
                                let e = acc
                                    .allocations
                                    .entry((rule.clone(), order.destination.clone()))
                                    .or_default();
                                e.0 += 1;
                                e.1 += s.tpp_counted;
                            }
                        }
                    }
                }
            });

        // Compare every scenario with the first.
        for (i, order) in chunk.iter().enumerate() {
            let Some(Ok(first)) = decided.first().map(|d| &d[i]) else {
                if let Some(Err(e)) = decided.first().map(|d| &d[i]) {
                    errors.push(e.clone());
                }
                continue;
            };
            let all: Option<Vec<&Slim>> = decided.iter().map(|d| d[i].as_ref().ok()).collect();
            let Some(all) = all else { continue };
            if all.iter().all(|s| s.outcome == first.outcome) {
                continue;
            }
            let mut differences = Vec::new();
            let mut union = BTreeSet::new();
            for (k, s) in all.iter().enumerate().skip(1) {
                if s.outcome == first.outcome {
                    continue;
                }
                let added: Vec<String> = s
                    .rules
                    .iter()
                    .filter(|r| first.rules.binary_search(r).is_err())
                    .cloned()
                    .collect();
                let removed: Vec<String> = first
                    .rules
                    .iter()
                    .filter(|r| s.rules.binary_search(r).is_err())
                    .cloned()
                    .collect();
                let t = transitions
                    .entry((k, outcome_index(first.outcome), outcome_index(s.outcome)))
                    .or_default();
                t.0.add(order.quantity, s.tpp, order.value_usd);
                for r in added.iter().chain(&removed) {
                    *t.1.entry(r.clone()).or_default() += 1;
                    union.insert(r.clone());
                }
                differences.push(Difference {
                    scenario: scenarios[k].scenario.name.clone(),
                    from: first.outcome.as_str(),
                    to: s.outcome.as_str(),
                    rules_added: added,
                    rules_removed: removed,
                });
            }
            flips.push(Flip {
                id: order.id.clone(),
                destination: order.destination.clone(),
                chip: order.item.chip.clone(),
                quantity: order.quantity,
                tpp: first.tpp,
                value_usd: order.value_usd,
                outcomes: scenarios
                    .iter()
                    .zip(&all)
                    .map(|(b, s)| (b.scenario.name.clone(), s.outcome.as_str()))
                    .collect(),
                rules: union.into_iter().collect(),
                differences,
            });
        }
    }

    let reports = scenarios
        .iter()
        .zip(accs)
        .map(|(b, acc)| scenario_report(b, acc))
        .collect();
    let rule_ids: BTreeSet<&str> = scenarios
        .iter()
        .flat_map(|b| b.ruleset.regimes())
        .flat_map(|r| r.rules.iter().map(|x| x.id.as_str()))
        .collect();
    let transitions = transitions
        .into_iter()
        .map(|((k, from, to), (stats, rules))| {
            let mut rules: Vec<(String, u64)> = rules.into_iter().collect();
            // Most orders first; on a tie, a regime's rule before the engine's own reason ids
            // (`LE-LPP.quota`, `no-requirement`).
            rules.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| {
                        rule_ids
                            .contains(b.0.as_str())
                            .cmp(&rule_ids.contains(a.0.as_str()))
                    })
                    .then_with(|| a.0.cmp(&b.0))
            });
            Transition {
                scenario: scenarios[k].scenario.name.clone(),
                from: crate::report::OUTCOMES[from].as_str(),
                to: crate::report::OUTCOMES[to].as_str(),
                stats,
                rules,
            }
        })
        .collect();
    Report {
        orders: book.len() as u64,
        baseline: scenarios
            .first()
            .map(|b| b.scenario.name.clone())
            .unwrap_or_default(),
        scenarios: reports,
        transitions,
        flips,
        errors,
    }
}

/// Decide one chunk under one scenario: in parallel without quotas, then quota-dependent
/// orders again in book order against the LPP used before them.
fn decide_chunk<'b, 's, F>(
    b: &'b BuiltScenario,
    decider: &Decider,
    chunk: &[Order],
    base: usize,
    screening: &F,
    tally: &mut LppTally,
) -> Vec<Result<Slim<'b>, OrderError>>
where
    F: Fn(usize) -> Screening<'s> + Sync,
{
    let as_of = b.scenario.as_of;
    let decide = |i: usize, order: &Order, quotas: &dyn exportgate_core::QuotaView| {
        let dated;
        let o = match as_of {
            Some(d) if d != order.date => {
                dated = Order {
                    date: d,
                    ..order.clone()
                };
                &dated
            }
            _ => order,
        };
        decider
            .decide(o, quotas, screening(base + i))
            .map_err(|e| OrderError {
                line: None,
                id: Some(order.id.clone()),
                field: e.field,
                message: e.problem,
            })
    };
    let mut decisions: Vec<Result<Decision, OrderError>> = chunk
        .par_iter()
        .enumerate()
        .map(|(i, order)| decide(i, order, &NoQuotas))
        .collect();
    for (i, (order, d)) in chunk.iter().zip(decisions.iter_mut()).enumerate() {
        if let Ok(dec) = d {
            if dec.quota_checked {
                *d = decide(i, order, &*tally);
            }
        }
        if let Ok(dec) = d {
            tally.record(&order.consignee.name, dec);
        }
    }
    decisions
        .into_par_iter()
        .zip(chunk.par_iter())
        .map(|(d, order)| {
            d.map(|d| {
                let mut rules: Vec<String> = d.reasons.into_iter().map(|r| r.rule).collect();
                rules.sort_unstable();
                rules.dedup();
                Slim {
                    outcome: d.outcome,
                    tpp: d.tpp_total.unwrap_or(0),
                    tpp_counted: d.tpp_counted,
                    tier: b.tier_of(&order.destination, d.date),
                    rules,
                }
            })
        })
        .collect()
}

fn groups(map: HashMap<String, ByOutcome>) -> BTreeMap<String, Group> {
    map.into_iter()
        .map(|(k, by)| {
            (
                k,
                Group {
                    total: by.total(),
                    by_outcome: by,
                },
            )
        })
        .collect()
}

fn scenario_report(b: &BuiltScenario, acc: Acc) -> ScenarioReport {
    let mut allocations: Vec<AllocationUse> = acc
        .allocations
        .into_iter()
        .map(|((rule, destination), (orders, tpp))| {
            let allocation = b.allocations.get(&rule).copied().unwrap_or(0.0);
            AllocationUse {
                share: (allocation > 0.0).then(|| tpp / allocation),
                rule,
                destination,
                allocation_tpp: allocation,
                orders,
                tpp_counted: tpp,
            }
        })
        .collect();
    allocations.sort_by(|a, b| {
        b.share
            .unwrap_or(f64::MAX)
            .total_cmp(&a.share.unwrap_or(f64::MAX))
            .then_with(|| a.destination.cmp(&b.destination))
    });
    let s = &b.scenario;
    ScenarioReport {
        name: s.name.clone(),
        description: s.description.clone(),
        as_of: s.as_of,
        forced: s.force.clone(),
        patched: b.patched.clone(),
        added: b.added.clone(),
        tiers_from: b.tiers_from.clone(),
        tiers: b
            .tiers
            .iter()
            .map(|t| (t.name.clone(), t.label.clone()))
            .collect(),
        decided: acc.decided,
        errors: acc.errors,
        totals: acc.by_outcome.total(),
        by_outcome: acc.by_outcome,
        by_destination: groups(acc.by_destination),
        by_tier: groups(acc.by_tier),
        by_chip: groups(acc.by_chip),
        allocations,
    }
}
