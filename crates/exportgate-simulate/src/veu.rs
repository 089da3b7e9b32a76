//! VEU absorption in the simulator (issue 21 item 3): `simulate --veu FILE` names Data Center
//! VEU authorisations with their installed compute by country, and each scenario's report says
//! which orders that need a licence because of the AI Diffusion Tier 2 requirement (and no
//! other rule: the pipeline's `veus::ineligible`) a VEU could absorb instead of the country
//! allocation, in book order, within the VEU's shares or caps as its compute grows with the
//! orders absorbed before — the arithmetic `ship` checks on the ledger. An order naming a VEU
//! (`veu`) is offered to that VEU only; any other to each VEU of the file in turn.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use exportgate_core::{Order, Ruleset};
use exportgate_pipeline::veus::model::{veu_draw, veu_headroom, Tier, Veu, VeuHoldings, VeuKind};
use exportgate_pipeline::veus::{place, tier};
use serde::{Deserialize, Serialize};

/// Order ids listed per VEU in the report (the counts cover them all).
pub const ORDER_IDS_MAX: usize = 100;

/// One VEU of a `--veu` file: the record (as `veu add` reads it) and its compute installed
/// before the book, TPP by country.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimVeu {
    pub veu: Veu,
    #[serde(default)]
    pub compute: BTreeMap<String, u64>,
}

/// Parses a `--veu` file: a JSON array of `{"veu": {record}, "compute": {"DE": 10000000}}`,
/// every record and country checked (the error names the entry and field).
pub fn parse_veus(rs: &Ruleset, text: &str) -> Result<Vec<SimVeu>, String> {
    let veus: Vec<SimVeu> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let known = |c: &str| rs.countries.get(c).is_some();
    for (i, v) in veus.iter().enumerate() {
        v.veu
            .validate(&known)
            .map_err(|e| format!("[{i}].veu.{e}"))?;
        if veus[..i].iter().any(|o| o.veu.id == v.veu.id) {
            return Err(format!("[{i}].veu.id: `{}` appears twice", v.veu.id));
        }
        for (c, tpp) in &v.compute {
            if !known(c) || c.len() != 2 || c.to_uppercase() != *c {
                return Err(format!(
                    "[{i}].compute.{c}: not a known ISO alpha-2 country code (capitals)"
                ));
            }
            if *tpp > i64::MAX as u64 {
                return Err(format!("[{i}].compute.{c}: too large"));
            }
        }
    }
    Ok(veus)
}

/// One VEU's part of a scenario's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VeuAbsorption {
    pub veu: String,
    pub kind: &'static str,
    /// Orders it could absorb, and their TPP.
    pub orders: u64,
    pub tpp: u64,
    /// The first orders absorbed, in book order (at most 100).
    pub order_ids: Vec<String>,
    /// Its compute after them.
    pub total_tpp: u64,
    pub outside_tier1_tpp: u64,
    /// Per country holding compute: TPP and what one more order could still take there.
    pub countries: BTreeMap<String, CountryHeadroom>,
    /// NVEU: the caps are numbers the reference does not confirm.
    pub unconfirmed: bool,
}

/// A VEU's compute in one country and its headroom there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryHeadroom {
    pub tpp: u64,
    pub headroom_tpp: u64,
}

/// VEU absorption under one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VeuReport {
    /// Orders that need a licence only because of the Tier 2 requirement (VEU-eligible).
    pub eligible_orders: u64,
    /// Of them, absorbed by a VEU, and not.
    pub absorbed_orders: u64,
    pub not_absorbed_orders: u64,
    pub veus: Vec<VeuAbsorption>,
}

struct State {
    veu: Veu,
    compute: BTreeMap<String, u64>,
    total: u64,
    /// Worked out on the first order's date (tiers are dated).
    outside: Option<u64>,
    orders: u64,
    tpp: u64,
    ids: Vec<String>,
}

/// A scenario's VEUs as the book is replayed.
pub(crate) struct VeuTally {
    veus: Vec<State>,
    eligible: u64,
    absorbed: u64,
    last: Option<NaiveDate>,
}

impl VeuTally {
    pub(crate) fn new(veus: &[SimVeu]) -> VeuTally {
        VeuTally {
            veus: veus
                .iter()
                .map(|v| State {
                    veu: v.veu.clone(),
                    total: v.compute.values().fold(0u64, |a, b| a.saturating_add(*b)),
                    compute: v.compute.clone(),
                    outside: None,
                    orders: 0,
                    tpp: 0,
                    ids: Vec::new(),
                })
                .collect(),
            eligible: 0,
            absorbed: 0,
            last: None,
        }
    }

    /// A VEU-eligible order to `dest` (Tier 2) of `tpp` on `date`: the first VEU that can take
    /// it does.
    pub(crate) fn offer(
        &mut self,
        rs: &Ruleset,
        order: &Order,
        dest: &str,
        tpp: u64,
        date: NaiveDate,
    ) {
        self.eligible += 1;
        self.last = Some(date);
        for s in &mut self.veus {
            if order.veu.as_deref().is_some_and(|v| v != s.veu.id)
                || exportgate_pipeline::veus::holder_ineligible(rs, &s.veu, date).is_some()
            {
                continue;
            }
            let outside = *s.outside.get_or_insert_with(|| {
                s.compute
                    .iter()
                    .filter(|(c, _)| tier(rs, c, date) != Tier::One)
                    .fold(0u64, |a, (_, t)| a.saturating_add(*t))
            });
            let country = s.compute.get(dest).copied().unwrap_or(0);
            let h = VeuHoldings {
                total: s.total,
                outside_tier1: outside,
                country,
                us: s.compute.get("US").copied().unwrap_or(0),
            };
            if veu_draw(&s.veu, &h, dest, &place(rs, dest), Tier::Two, tpp, date).is_ok() {
                *s.compute.entry(dest.to_owned()).or_default() += tpp;
                s.total = s.total.saturating_add(tpp);
                s.outside = Some(outside.saturating_add(tpp));
                s.orders += 1;
                s.tpp = s.tpp.saturating_add(tpp);
                if s.ids.len() < ORDER_IDS_MAX {
                    s.ids.push(order.id.clone());
                }
                self.absorbed += 1;
                return;
            }
        }
    }

    /// The report; without an eligible order (no date to work tiers out on) it lists no VEU.
    pub(crate) fn report(self, rs: &Ruleset) -> VeuReport {
        let Some(day) = self.last else {
            return VeuReport {
                eligible_orders: 0,
                absorbed_orders: 0,
                not_absorbed_orders: 0,
                veus: Vec::new(),
            };
        };
        VeuReport {
            eligible_orders: self.eligible,
            absorbed_orders: self.absorbed,
            not_absorbed_orders: self.eligible - self.absorbed,
            veus: self
                .veus
                .into_iter()
                .map(|s| {
                    let outside = s.outside.unwrap_or_else(|| {
                        s.compute
                            .iter()
                            .filter(|(c, _)| tier(rs, c, day) != Tier::One)
                            .fold(0u64, |a, (_, t)| a.saturating_add(*t))
                    });
                    let countries = s
                        .compute
                        .iter()
                        .map(|(c, tpp)| {
                            let h = VeuHoldings {
                                total: s.total,
                                outside_tier1: outside,
                                country: *tpp,
                                us: s.compute.get("US").copied().unwrap_or(0),
                            };
                            let headroom = veu_headroom(&s.veu, &h, c, tier(rs, c, day), day);
                            (
                                c.clone(),
                                CountryHeadroom {
                                    tpp: *tpp,
                                    headroom_tpp: headroom,
                                },
                            )
                        })
                        .collect();
                    VeuAbsorption {
                        kind: s.veu.kind.as_str(),
                        unconfirmed: s.veu.kind == VeuKind::National,
                        veu: s.veu.id,
                        orders: s.orders,
                        tpp: s.tpp,
                        order_ids: s.ids,
                        total_tpp: s.total,
                        outside_tier1_tpp: outside,
                        countries,
                    }
                })
                .collect(),
        }
    }
}
