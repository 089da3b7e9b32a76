//! Replaying an order book under several scenarios.
//!
//! The book is processed in chunks (memory stays bounded on large books). For each chunk and
//! each scenario every order is decided in parallel (rayon) without quotas; the decisions that
//! consulted a per-consignee quota (LPP) are then decided again in book order against the LPP
//! used by the orders before them, exactly as `check` does, with one tally per scenario kept
//! across chunks. The chunk's decisions are then aggregated and compared between scenarios,
//! and dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use exportgate_core::decide::Decider;
use exportgate_core::{Context, Decision, NoQuotas, Order, Outcome, Screening};
use exportgate_pipeline::identity::consignee_key;
use exportgate_pipeline::licensing::Licensing;
use exportgate_pipeline::quotas::{depends_on_earlier_lines, LppTally};
use rayon::prelude::*;

use crate::report::{
    outcome_index, AllocationUse, ByOutcome, Difference, Flip, Group, OrderError, Report,
    ScenarioReport, Stats, Transition,
};
use crate::scenario::BuiltScenario;

/// Orders decided per chunk.
const CHUNK: usize = 32_768;

/// What the aggregation keeps of a decision.
#[derive(Clone)]
struct Slim<'a> {
    outcome: Outcome,
    tpp: u64,
    tpp_counted: f64,
    tier: &'a str,
    /// The destination's country code, resolved (`destination` may name the country).
    destination: String,
    /// Rule ids of the reasons, sorted and unique.
    rules: Vec<String>,
    /// Needs a licence only because of the AI Diffusion Tier 2 requirement (a VEU could take it).
    veu_eligible: bool,
    /// What it does to volume caps (with a database holding a capped licence).
    cap: exportgate_pipeline::flows::CapStep,
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
    /// With `--veu`: the VEUs' compute as the book is replayed.
    veus: Option<crate::veu::VeuTally>,
    /// With volume caps given (`simulate` with or without a database): the book's capped draws.
    caps: Option<crate::caps::CapAcc>,
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
    simulate_with(book, scenarios, screening, Options::default())
}

/// How to run a simulation; the result does not depend on it.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Orders decided together (at least 1).
    pub chunk: usize,
    /// Reuse a decision between scenarios where it cannot differ (see [`Signatures`]).
    pub share: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            chunk: CHUNK,
            share: true,
        }
    }
}

/// A decision depends on the order, its screening, the evaluation date and the regimes binding
/// on that date (rules and classification parameters of non-binding regimes are never
/// consulted; catalog, countries and screening policy are the same in every scenario). Two
/// scenarios with the same evaluation date whose binding regimes are the same documents
/// therefore decide an order alike, before any quota: the later one reuses the earlier one's
/// decision. This is what makes `ai-diffusion-2025` cost nothing before 15 May 2025.
struct Signatures {
    /// Interned signatures: (regime id, version) of every binding regime, where the version is
    /// 0 for the base document and the scenario's index + 1 for a patched or added one.
    ids: HashMap<Vec<(String, usize)>, u32>,
    /// By scenario: evaluation date → signature id.
    by_date: Vec<HashMap<NaiveDate, u32>>,
}

impl Signatures {
    fn new(n: usize) -> Signatures {
        Signatures {
            ids: HashMap::new(),
            by_date: vec![HashMap::new(); n],
        }
    }

    fn get(&mut self, k: usize, b: &BuiltScenario, date: NaiveDate) -> u32 {
        if let Some(id) = self.by_date[k].get(&date) {
            return *id;
        }
        let ctx = Context {
            as_of: date,
            forced: b.scenario.force.clone(),
        };
        let sig: Vec<(String, usize)> = b
            .ruleset
            .binding(&ctx)
            .map(|r| {
                let changed = b.patched.contains(&r.id) || b.added.contains(&r.id);
                (r.id.clone(), if changed { k + 1 } else { 0 })
            })
            .collect();
        let next = self.ids.len() as u32;
        let id = *self.ids.entry(sig).or_insert(next);
        self.by_date[k].insert(date, id);
        id
    }
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
    simulate_with(
        book,
        scenarios,
        screening,
        Options {
            chunk: chunk_size,
            share: true,
        },
    )
}

/// [`simulate`] with [`Options`].
pub fn simulate_with<'s, F>(
    book: &[Order],
    scenarios: &[BuiltScenario],
    screening: F,
    options: Options,
) -> Report
where
    F: Fn(usize) -> Screening<'s> + Sync,
{
    let mut sim = Simulation::new(scenarios, options);
    sim.feed(book, None, screening);
    sim.finish()
}

/// A replay fed the book piece by piece (so the book need never be in memory whole): give it
/// the orders in book order with [`Simulation::feed`], then take the [`Report`] with
/// [`Simulation::finish`]. Feeding a book in one piece or in many gives the same report.
pub struct Simulation<'b> {
    scenarios: &'b [BuiltScenario],
    options: Options,
    signatures: Signatures,
    deciders: Vec<Decider<'b>>,
    tallies: Vec<Tallies>,
    accs: Vec<Acc>,
    errors: Vec<OrderError>,
    flips: Vec<Flip>,
    // (scenario, from, to) → stats and rule counts.
    transitions: Transitions,
    orders: u64,
    caps: Option<crate::caps::VolumeCaps>,
}

impl<'b> Simulation<'b> {
    /// A replay under `scenarios` (the first is the baseline flips are measured against).
    pub fn new(scenarios: &'b [BuiltScenario], options: Options) -> Simulation<'b> {
        Simulation {
            scenarios,
            options: Options {
                chunk: options.chunk.max(1),
                ..options
            },
            signatures: Signatures::new(scenarios.len()),
            deciders: scenarios
                .iter()
                .map(|b| Decider::new(&b.ruleset, &b.scenario.force))
                .collect(),
            tallies: scenarios.iter().map(|_| Tallies::new()).collect(),
            accs: scenarios.iter().map(|_| Acc::default()).collect(),
            errors: Vec::new(),
            flips: Vec::new(),
            transitions: BTreeMap::new(),
            orders: 0,
            caps: None,
        }
    }

    /// Offers the VEU-eligible orders of every scenario to `veus` (`simulate --veu`).
    pub fn with_veus(mut self, veus: &[crate::veu::SimVeu]) -> Self {
        for acc in &mut self.accs {
            acc.veus = Some(crate::veu::VeuTally::new(veus));
        }
        self
    }

    /// Counts every scenario's draws under capped licences against the US-bound flow (or,
    /// with [`crate::caps::VolumeCaps::NotApplied`], says in the report that it could not).
    pub fn with_volume_caps(mut self, caps: crate::caps::VolumeCaps) -> Self {
        for acc in &mut self.accs {
            acc.caps = Some(crate::caps::CapAcc::new(&caps));
        }
        self.caps = Some(caps);
        self
    }

    /// Replays the next orders of the book. `screening(i)` says how the parties of `orders[i]`
    /// were screened; `lines`, if given, is each order's line in the input (for error records).
    pub fn feed<'s, F>(&mut self, orders: &[Order], lines: Option<&[usize]>, screening: F)
    where
        F: Fn(usize) -> Screening<'s> + Sync,
    {
        let chunk_size = self.options.chunk;
        self.orders += orders.len() as u64;
        for (ci, chunk) in orders.chunks(chunk_size).enumerate() {
            let base = ci * chunk_size;
            self.feed_chunk(chunk, base, lines, &screening);
        }
    }

    fn feed_chunk<'s, F>(
        &mut self,
        chunk: &[Order],
        base: usize,
        lines: Option<&[usize]>,
        screening: &F,
    ) where
        F: Fn(usize) -> Screening<'s> + Sync,
    {
        let scenarios = self.scenarios;
        let (signatures, tallies, accs) = (&mut self.signatures, &mut self.tallies, &mut self.accs);
        let (errors, flips, transitions) =
            (&mut self.errors, &mut self.flips, &mut self.transitions);
        let options = self.options;
        let deciders = &self.deciders;
        let licensing = self.caps.as_ref().and_then(|c| c.licensing());
        // Which earlier scenario, if any, decides each order alike.
        let mut reuse: Vec<Vec<Option<usize>>> = vec![vec![None; chunk.len()]; scenarios.len()];
        if options.share {
            for (i, order) in chunk.iter().enumerate() {
                let keys: Vec<(NaiveDate, u32)> = scenarios
                    .iter()
                    .enumerate()
                    .map(|(k, b)| {
                        let date = b.scenario.as_of.unwrap_or(order.date);
                        (date, signatures.get(k, b, date))
                    })
                    .collect();
                for k in 1..keys.len() {
                    reuse[k][i] = (0..k).find(|j| keys[*j] == keys[k]);
                }
            }
        }
        let mut done: Vec<ChunkResult> = Vec::new();
        for (k, (b, decider)) in scenarios.iter().zip(deciders.iter()).enumerate() {
            let d = decide_chunk(
                b,
                decider,
                chunk,
                base,
                &screening,
                &mut tallies[k],
                licensing,
                Reuse {
                    from: &reuse[k],
                    earlier: &done,
                },
            );
            done.push(d);
        }
        let decided: Vec<Vec<Result<Slim, OrderError>>> =
            done.into_iter().map(|(d, _)| d).collect();

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
                    if let (true, Some(t)) = (s.veu_eligible, &mut acc.veus) {
                        let tpp = s.tpp.max(s.tpp_counted.max(0.0).ceil() as u64);
                        let date = b.scenario.as_of.unwrap_or(order.date);
                        t.offer(&b.ruleset, order, &s.destination, tpp, date);
                    }
                    if let Some(c) = &mut acc.caps {
                        c.apply(order, &s.destination, &s.cap);
                    }
                    if matches!(s.outcome, Outcome::LicenseRequired | Outcome::Licensed) {
                        for rule in b.allocations.keys() {
                            if s.rules.binary_search(rule).is_ok() {
                                let e = acc
                                    .allocations
                                    .entry((rule.clone(), s.destination.clone()))
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
            // An order no scenario could decide is reported once.
            if let Some(Err(e)) = decided.iter().map(|d| &d[i]).find(|r| r.is_err()) {
                let mut e = e.clone();
                if let Some(lines) = lines {
                    e.line = lines.get(base + i).copied();
                }
                errors.push(e);
                continue;
            }
            let all: Option<Vec<&Slim>> = decided.iter().map(|d| d[i].as_ref().ok()).collect();
            let Some(all) = all else { continue };
            let Some(first) = all.first().copied() else {
                continue;
            };
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
                destination: first.destination.clone(),
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

    /// The report of everything fed.
    pub fn finish(self) -> Report {
        let Simulation {
            scenarios,
            accs,
            errors,
            flips,
            transitions,
            orders,
            ..
        } = self;
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
                // Regimes' rules before the engine's own reason ids (`LE-LPP.quota`,
                // `no-requirement`), each by how many orders they made a difference to.
                rules.sort_by(|a, b| {
                    rule_ids
                        .contains(b.0.as_str())
                        .cmp(&rule_ids.contains(a.0.as_str()))
                        .then_with(|| b.1.cmp(&a.1))
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
            orders,
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
}

/// A decision of the parallel pass: aggregated already, or one that depends on (or counts
/// towards) a consignee's LPP quota and waits for the pass in book order.
enum Step<'b> {
    Done(Slim<'b>),
    Quota(Box<Decision>),
}

/// A chunk decided under one scenario: the results, and which went through the quota pass.
type ChunkResult<'b> = (Vec<Result<Slim<'b>, OrderError>>, Vec<bool>);

/// A consignee's orders waiting for the quota pass, with its tally.
type ConsigneeWork = (String, Vec<(usize, Box<Decision>)>, LppTally);

/// (scenario, from outcome, to outcome) → stats and rule counts of the flips.
type Transitions = BTreeMap<(usize, usize, usize), (Stats, BTreeMap<String, u64>)>;

/// The decisions of earlier scenarios this one may reuse, by order.
struct Reuse<'r, 'b> {
    from: &'r [Option<usize>],
    earlier: &'r [ChunkResult<'b>],
}

/// LPP used so far in one scenario, by consignee identity (each with its tally by year).
pub(crate) type Tallies = HashMap<String, LppTally>;

fn slim<'b>(
    b: &'b BuiltScenario,
    d: Decision,
    order: &Order,
    licensing: Option<&Licensing>,
) -> Slim<'b> {
    let cap = crate::caps::step(&b.ruleset, licensing, order, &d);
    let veu_eligible = d.outcome == Outcome::LicenseRequired
        && d.allocation.is_some()
        && exportgate_pipeline::veus::ineligible(&b.ruleset, &d).is_none();
    let mut rules: Vec<String> = d.reasons.into_iter().map(|r| r.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    Slim {
        outcome: d.outcome,
        tpp: d.tpp_total.unwrap_or(0),
        tpp_counted: d.tpp_counted,
        tier: b.tier_of(&order.destination, d.date),
        destination: d.destination,
        rules,
        veu_eligible,
        cap,
    }
}

/// Decide one chunk under one scenario: in parallel without quotas, then the quota-dependent
/// orders again in book order against the LPP used before them. A consignee's quota depends
/// only on its own earlier orders, so consignees are taken in parallel, each in book order.
#[allow(clippy::too_many_arguments)]
fn decide_chunk<'b, 's, F>(
    b: &'b BuiltScenario,
    decider: &Decider,
    chunk: &[Order],
    base: usize,
    screening: &F,
    tallies: &mut Tallies,
    licensing: Option<&Licensing>,
    reuse: Reuse<'_, 'b>,
) -> ChunkResult<'b>
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
    let mut steps: Vec<Result<Step, OrderError>> = chunk
        .par_iter()
        .enumerate()
        .map(|(i, order)| {
            if let Some(j) = reuse.from[i] {
                let (results, quota) = &reuse.earlier[j];
                if !quota[i] {
                    // The same decision; the tier is this scenario's own.
                    return results[i].clone().map(|mut x| {
                        let date = as_of.unwrap_or(order.date);
                        x.tier = b.tier_of(&order.destination, date);
                        Step::Done(x)
                    });
                }
            }
            decide(i, order, &NoQuotas).map(|d| {
                if depends_on_earlier_lines(&d) {
                    Step::Quota(Box::new(d))
                } else {
                    Step::Done(slim(b, d, order, licensing))
                }
            })
        })
        .collect();
    let quota: Vec<bool> = steps
        .iter()
        .map(|s| matches!(s, Ok(Step::Quota(_))))
        .collect();
    // The quota pass, by consignee.
    let mut by_consignee: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, step) in steps.iter().enumerate() {
        if let Ok(Step::Quota(_)) = step {
            by_consignee
                .entry(consignee_key(&chunk[i].consignee.name))
                .or_default()
                .push(i);
        }
    }
    let mut work: Vec<ConsigneeWork> = by_consignee
        .into_iter()
        .map(|(name, idx)| {
            let pending = idx
                .into_iter()
                .filter_map(|i| match std::mem::replace(&mut steps[i], Err(taken())) {
                    Ok(Step::Quota(d)) => Some((i, d)),
                    _ => None,
                })
                .collect();
            let tally = tallies.remove(&name).unwrap_or_default();
            (name, pending, tally)
        })
        .collect();
    let done: Vec<Vec<(usize, Result<Slim, OrderError>)>> = work
        .par_iter_mut()
        .map(|(_, pending, tally)| {
            std::mem::take(pending)
                .into_iter()
                .map(|(i, d)| {
                    let order = &chunk[i];
                    let d = if d.quota_checked {
                        decide(i, order, &*tally)
                    } else {
                        Ok(*d)
                    };
                    (
                        i,
                        d.map(|d| {
                            tally.record(&order.consignee.name, &d);
                            slim(b, d, order, licensing)
                        }),
                    )
                })
                .collect()
        })
        .collect();
    for (name, _, tally) in work {
        tallies.insert(name, tally);
    }
    for (i, r) in done.into_iter().flatten() {
        steps[i] = r.map(Step::Done);
    }
    let results = steps
        .into_iter()
        .zip(chunk)
        .map(|(s, order)| match s {
            Ok(Step::Done(x)) => Ok(x),
            // Not reached: every quota step was decided above.
            Ok(Step::Quota(d)) => Ok(slim(b, *d, order, licensing)),
            Err(e) => Err(e),
        })
        .collect();
    (results, quota)
}

/// A placeholder while a quota step is out being decided; always overwritten.
fn taken() -> OrderError {
    OrderError {
        line: None,
        id: None,
        field: String::new(),
        message: String::new(),
    }
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
        veu: acc.veus.map(|t| t.report(&b.ruleset)),
        volume_caps: acc.caps.and_then(|c| c.report()),
    }
}
