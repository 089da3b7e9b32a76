//! Data Center VEU authorisations in decisions (issue 21 item 3; the model and the limits are
//! in `exportgate_ledger::veu`): adding records (`exportgate veu add`, `POST /v1/veus`),
//! recording compute installed outside exportgate (`veu compute`), reading a VEU's compute and
//! headroom back (`veu show|list`, `GET /v1/veus`), and the helpers `ship` and `check` share.
//!
//! An order names a VEU with its top-level `veu` field. Under the AI Diffusion framework
//! (forced with `--regime ai-diffusion-2025`) an order that needs a licence only because of
//! the Tier 2 requirement — the decision counts it against a country allocation, no other rule
//! requires a licence, due diligence does not hold it — is **VEU-eligible**: `ship` draws its
//! TPP on the VEU's compute in the destination (key `ship:<order id>:veu:<veu id>`) instead
//! of the country allocation, after checking the VEU's shares or cap from the balances as its
//! transaction reads them; the decision is then `licensed` (authorised under the VEU; no
//! `licence` field) with a `veu` reason. A refused draw leaves the order to the licences (and
//! the allocation), with the refusal as a note. `check` writes nothing: it keeps the order
//! `license_required` and says which VEU and the headroom as the ledger stands.

use chrono::NaiveDate;
use exportgate_core::confidence::Confidence;
use exportgate_core::country::CountryCode;
use exportgate_core::reason::Reason;
use exportgate_core::regime::Effect;
use exportgate_core::{Decision, Order, Outcome, Ruleset};
use exportgate_ledger::flow::grouped;
use exportgate_ledger::veu::{veu_scope_specs, OUTSIDE_TIER1};
use exportgate_ledger::{
    veu_account, veu_draw, veu_draw_accounts, veu_headroom, veu_scope_account, AccountId,
    AccountKind, Amounts, Balance, EnsureError, Ensured, Key, LedgerStore, Request, ResultCode,
    StoreError, Tier, Timestamp, Veu, VeuHoldings, VeuKind, VeuRefused,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The rule id of reasons about a VEU.
pub const VEU_RULE: &str = "veu";
/// What a VEU draw rests on.
pub const VEU_CITATION: &str = "15 CFR 748.15; Supp. No. 10 to part 748; 90 FR 4544";
/// The regime whose tiers and allocations a VEU is measured against.
pub const DIFFUSION: &str = "ai-diffusion-2025";

/// `country`'s tier under the AI Diffusion regime on `day` (a code the rules do not know, or
/// no such regime, is Tier 3: fail closed).
pub fn tier(rs: &Ruleset, country: &str, day: NaiveDate) -> Tier {
    let (Some(code), Some(regime)) = (CountryCode::parse(country), rs.regime_rules(DIFFUSION))
    else {
        return Tier::Three;
    };
    if rs.countries.get(country).is_none() {
        return Tier::Three;
    }
    let member = |set: &str| {
        regime
            .sets()
            .get(set)
            .is_some_and(|s| rs.contains(s, &code, day))
    };
    if member("tier3") {
        Tier::Three
    } else if member("tier1") {
        Tier::One
    } else {
        Tier::Two
    }
}

/// A country as VEU messages name it: `India`.
pub fn place(rs: &Ruleset, country: &str) -> String {
    rs.countries
        .get(country)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| country.to_owned())
}

/// The rule of `id` in the ruleset, with its regime's id.
fn rule<'r>(rs: &'r Ruleset, id: &str) -> Option<(&'r str, &'r exportgate_core::regime::Rule)> {
    rs.regimes()
        .iter()
        .flat_map(|g| g.rules.iter().map(move |r| (g.id.as_str(), r)))
        .find(|(_, r)| r.id == id)
}

/// Why a decided order cannot ship under a VEU, or `None` when it is VEU-eligible (see the
/// module docs): it needs a licence, or uses License Exception LPP, because of the AI
/// Diffusion Tier 2 requirement (a rule of that regime with a country allocation) and no
/// other rule; due diligence does not hold it; the destination is Tier 2.
pub fn ineligible(rs: &Ruleset, d: &Decision) -> Option<String> {
    let lpp = d.outcome == Outcome::LicenseException
        && d.uses_exception(exportgate_core::concepts::LicenceException::Lpp);
    if d.outcome != Outcome::LicenseRequired && !lpp {
        return Some(format!(
            "the order is `{}`, and only an order that needs a licence (or License Exception LPP) is drawn on a VEU",
            d.outcome.as_str()
        ));
    }
    if crate::licensing::due_diligence_holds(d) {
        return Some(crate::licensing::DD_NO_LICENCE.into());
    }
    let mut diffusion = false;
    for r in &d.reasons {
        let Some((regime, rule)) = rule(rs, &r.rule) else {
            continue;
        };
        if let Effect::LicenseRequirement { allocation_tpp, .. } = &rule.effect {
            if regime != DIFFUSION {
                return Some(format!(
                    "rule `{}` also requires a licence, which a VEU does not lift",
                    r.rule
                ));
            }
            diffusion |= allocation_tpp.is_some();
        }
    }
    if !diffusion {
        return Some(
            "its licence requirement is not the AI Diffusion Tier 2 one (a VEU lifts only that; see `--regime ai-diffusion-2025`)"
                .into(),
        );
    }
    if tier(rs, &d.destination, d.date) != Tier::Two {
        return Some(format!("{} is not a Tier 2 destination", d.destination));
    }
    None
}

/// Why a VEU's holder cannot hold the authorisation on `day`, or `None` (15 CFR 748.15
/// [P], regulations.md §4.4): a UVEU's holder is headquartered in Tier 1; an NVEU's holder is
/// not headquartered in Macau or Country Group D:5 (Tier 3). A record that says otherwise
/// draws nothing: the order is left to LPP and the licences.
pub fn holder_ineligible(rs: &Ruleset, veu: &Veu, day: NaiveDate) -> Option<String> {
    let hq = &veu.holder.headquarters;
    match (veu.kind, tier(rs, hq, day)) {
        (VeuKind::Universal, Tier::One) | (VeuKind::National, Tier::One | Tier::Two) => None,
        (VeuKind::Universal, _) => Some(format!(
            "universal VEU `{}`'s holder is headquartered in {}, not a Tier 1 country on {day} (a UVEU's holder is headquartered in Tier 1, 15 CFR 748.15)",
            veu.id,
            place(rs, hq)
        )),
        (VeuKind::National, _) => Some(format!(
            "national VEU `{}`'s holder is headquartered in {}, a Tier 3 country on {day} (Macau and Country Group D:5 are not eligible, 15 CFR 748.15)",
            veu.id,
            place(rs, hq)
        )),
    }
}

/// The VEU record an account's balance holds, if it is a VEU's.
pub fn record_of(b: Option<Balance>) -> Option<Veu> {
    match b?.kind {
        AccountKind::Veu { record } => Some(*record),
        _ => None,
    }
}

fn used(b: Option<Balance>) -> u64 {
    b.map(|b| b.posted.tpp.saturating_add(b.pending.tpp))
        .unwrap_or(0)
}

/// A VEU's compute (posted and pending TPP) as `balance` reads it, with `country` as the
/// destination.
pub fn holdings(
    balance: &mut dyn FnMut(&AccountId) -> Option<Balance>,
    id: &str,
    country: &str,
) -> VeuHoldings {
    VeuHoldings {
        total: used(balance(&veu_account(id))),
        outside_tier1: used(balance(&veu_scope_account(id, OUTSIDE_TIER1))),
        country: used(balance(&veu_scope_account(id, country))),
        us: used(balance(&veu_scope_account(id, "US"))),
    }
}

/// The idempotency key of an order's draw on VEU `veu`.
pub fn draw_key(order_id: &str, veu: &str) -> Key {
    crate::licensing::order_key(order_id, &format!("veu:{veu}"))
}

/// The reason on an order shipped under a VEU (NVEU: unconfirmed, the caps are [U]).
pub fn shipped_reason(
    rs: &Ruleset,
    veu: &Veu,
    d: &Decision,
    tpp: u64,
    key: &Key,
    replayed: bool,
    after: &VeuHoldings,
) -> Reason {
    let country = &d.destination;
    let r = Reason::new(
        VEU_RULE,
        VEU_CITATION,
        format!(
            "authorised under {} VEU `{}` ({}): {} TPP drawn on its compute in {} under `{key}`{}, not counted against the country allocation; its compute now {} TPP in {}, {} TPP outside Tier 1, {} TPP in all",
            veu.kind.as_str(),
            veu.id,
            veu.holder.name,
            grouped(tpp),
            place(rs, country),
            if replayed { " by an earlier run (replayed; nothing drawn again)" } else { "" },
            grouped(after.country),
            country,
            grouped(after.outside_tier1),
            grouped(after.total),
        ),
    );
    if veu.kind == VeuKind::National {
        r.with_confidence(Confidence::U)
    } else {
        r
    }
}

/// Marks a decision as shipped under a VEU (an LPP decision's LPP reasons go: the VEU, not
/// the exception, authorises it, and nothing is counted against the consignee's LPP).
pub fn authorise(mut d: Decision, reason: Reason) -> Decision {
    if d.exception.is_some() {
        d.reasons.retain(|r| !r.rule.starts_with("LE-LPP"));
    }
    d.outcome = Outcome::Licensed;
    d.exception = None;
    d.licence = None;
    d.allocation = None;
    if reason.confidence == Confidence::U {
        d.unconfirmed = true;
    }
    d.reasons.push(reason);
    d
}

/// Whether a decision is one a VEU could stand in for, so a note about the order's VEU is due:
/// it needs a licence or uses License Exception LPP (the lines `check` completes against the
/// ledger in every door).
pub fn noted(d: &Decision) -> bool {
    d.outcome == Outcome::LicenseRequired
        || (d.outcome == Outcome::LicenseException
            && d.uses_exception(exportgate_core::concepts::LicenceException::Lpp))
}

/// `check`: a note on an order that names a VEU and needs a licence or LPP ([`noted`]) — why
/// it is not eligible, or the VEU and its headroom as the ledger stands. The outcome is left
/// as it is: only `ship` draws.
pub fn check_note(
    store: &mut dyn LedgerStore,
    rs: &Ruleset,
    order: &Order,
    mut d: Decision,
) -> Result<Decision, StoreError> {
    let Some(id) = order.veu.as_deref().filter(|_| noted(&d)) else {
        return Ok(d);
    };
    let key = draw_key(&order.id, id);
    let record = record_of(store.balance(&veu_account(id))?);
    let text = if store.recorded_reply(&key)?.is_some_and(|r| r.is_ok()) {
        format!(
            "already drawn on VEU `{id}` by `ship` (ledger key `{key}`): nothing is drawn again"
        )
    } else if let Some(why) = ineligible(rs, &d) {
        format!("the order names VEU `{id}`, but no VEU draw is made: {why}")
    } else if let Some(why) = record
        .as_ref()
        .and_then(|veu| holder_ineligible(rs, veu, d.date))
    {
        format!("the order names VEU `{id}`, but no VEU draw is made: {why}")
    } else if let Some(veu) = record {
        let mut err = None;
        let h = holdings(
            &mut |a| {
                store.balance(a).unwrap_or_else(|e| {
                    err = Some(e);
                    None
                })
            },
            id,
            &d.destination,
        );
        if let Some(e) = err {
            return Err(e);
        }
        let tpp = crate::licensing::counted_tpp(&d);
        let room = veu_headroom(&veu, &h, &d.destination, Tier::Two, d.date);
        let fits = match veu_draw(
            &veu,
            &h,
            &d.destination,
            &place(rs, &d.destination),
            Tier::Two,
            tpp,
            d.date,
        ) {
            Ok(()) => "it could absorb".to_owned(),
            Err(e) => format!("it could not absorb them ({e})"),
        };
        format!(
            "the order names {} VEU `{id}` ({}): as the ledger stands, of this order's {} TPP {fits}; headroom {} TPP in {}; `ship` draws on it instead of the country allocation, checking the limits as it writes (earlier lines of this file are not counted here)",
            veu.kind.as_str(),
            veu.holder.name,
            grouped(tpp),
            grouped(room),
            place(rs, &d.destination),
        )
    } else {
        format!("the order names VEU `{id}`, which the ledger does not hold (see `exportgate veu list`)")
    };
    d.reasons.push(Reason::new(VEU_RULE, VEU_CITATION, text));
    Ok(d)
}

/// Why a VEU record or compute could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum VeuError {
    /// Bad input, naming the field.
    #[error("`{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error("ledger: {0}")]
    Ledger(#[from] StoreError),
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> VeuError {
    VeuError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// What `veu add` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Added {
    pub veu: Veu,
    /// False when the same record was on the ledger already (nothing written).
    pub created: bool,
}

/// Parses, validates and stores a VEU record (an audited account creation). The same record
/// again changes nothing; another record under the same id is refused.
pub fn add(
    rs: &Ruleset,
    store: &mut dyn LedgerStore,
    json: &str,
    actor: &str,
    at: Timestamp,
) -> Result<Added, VeuError> {
    let veu = Veu::from_json(json, &|c| rs.countries.get(c).is_some()).map_err(|e| {
        VeuError::Invalid {
            field: e.field,
            message: e.message,
        }
    })?;
    match store.ensure_account(&veu.account_spec(), actor, at) {
        Ok(e) => Ok(Added {
            created: e == Ensured::Created,
            veu,
        }),
        Err(StoreError::Account(EnsureError::Conflict(_))) => Err(invalid(
            "id",
            format!(
                "VEU `{}` is on the ledger with other terms; a record never changes: give a new id",
                veu.id
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The key of compute recorded by reference: `veu-compute:<veu>:<reference>` (hashed when too
/// long).
pub fn compute_key(veu: &str, reference: &str) -> Key {
    Key::new(format!("veu-compute:{veu}:{reference}")).unwrap_or_else(|_| {
        let hash = hex::encode(Sha256::digest(reference.as_bytes()));
        Key::new(format!("veu-compute:{veu}:sha256-{hash}")).expect("a short key")
    })
}

/// What `veu compute` recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub veu: String,
    pub country: String,
    pub tpp: u64,
    pub key: String,
    /// True when the reference was recorded before (nothing added).
    pub replayed: bool,
}

/// Records `tpp` of compute VEU `id` has installed in `country` outside exportgate, under
/// `reference` (the same reference again adds nothing). One all-or-nothing transfer on the
/// country's, the total's and (outside Tier 1) the outside-Tier-1 account. Installed compute is
/// a fact, so the shares are not checked here (`veu show` reports them); a Tier 3 country, or
/// a country other than an NVEU's own, is refused.
#[allow(clippy::too_many_arguments)]
pub fn record_compute(
    rs: &Ruleset,
    store: &mut dyn LedgerStore,
    id: &str,
    country: &str,
    tpp: u64,
    reference: &str,
    actor: &str,
    at: Timestamp,
) -> Result<Recorded, VeuError> {
    let Some(veu) = record_of(store.balance(&veu_account(id))?) else {
        return Err(invalid(
            "veu",
            format!("no VEU `{id}` on the ledger (see `exportgate veu list`)"),
        ));
    };
    let country = country.trim().to_ascii_uppercase();
    let t = tier(rs, &country, at.date());
    if t == Tier::Three {
        return Err(invalid(
            "country",
            format!("`{country}` is not a known Tier 1 or Tier 2 country: never VEU-eligible"),
        ));
    }
    if veu.kind == VeuKind::National && veu.country.as_deref() != Some(country.as_str()) {
        return Err(invalid(
            "country",
            format!(
                "national VEU `{id}` is authorised in {} only",
                veu.country.as_deref().unwrap_or("?")
            ),
        ));
    }
    if tpp == 0 || tpp > exportgate_ledger::AMOUNT_MAX {
        return Err(invalid("tpp", "must be a positive whole number"));
    }
    let reference = reference.trim();
    if reference.is_empty() {
        return Err(invalid("reference", "must not be empty"));
    }
    for spec in veu_scope_specs(id, &country, t != Tier::One) {
        store.ensure_account(&spec, actor, at)?;
    }
    let key = compute_key(id, reference);
    let reply = store
        .submit(
            actor,
            &[Request::ReserveAndPost {
                key: key.clone(),
                accounts: veu_draw_accounts(id, &country, t != Tier::One),
                amounts: Amounts {
                    tpp,
                    ..Amounts::ZERO
                },
                at,
            }],
        )?
        .into_iter()
        .next();
    match reply {
        Some(r) if r.is_ok() => Ok(Recorded {
            veu: id.to_owned(),
            country,
            tpp,
            key: key.to_string(),
            replayed: r.replayed,
        }),
        Some(r) if r.code == ResultCode::IdempotencyKeyReusedWithDifferentRequest => Err(invalid(
            "reference",
            format!("`{reference}` was recorded before with another country or amount; give a new reference"),
        )),
        Some(r) => Err(invalid("tpp", format!("the ledger refused it: `{}`", r.code))),
        None => Err(invalid("tpp", "the ledger gave no reply")),
    }
}

/// A VEU's compute in one country.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountryCompute {
    pub country: String,
    /// 1, 2 (3 never holds VEU compute).
    pub tier: u8,
    pub tpp: u64,
    /// What one more draw to this country could still take now (TPP).
    pub headroom_tpp: u64,
}

/// A VEU with its compute and headroom, as `veu show` and `GET /v1/veus/{id}` give it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VeuStatus {
    pub veu: Veu,
    pub total_tpp: u64,
    pub outside_tier1_tpp: u64,
    /// Countries holding compute, by code.
    pub countries: Vec<CountryCompute>,
    /// UVEU: what a draw to a Tier 2 country holding none of its compute could take now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_tier2_country_headroom_tpp: Option<u64>,
    /// NVEU: the cap in effect on `as_of` (`2025Q3`, TPP), unconfirmed ([U] in the reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<(String, u64)>,
    pub as_of: NaiveDate,
    /// True for an NVEU: its caps are numbers the reference does not confirm.
    pub unconfirmed: bool,
}

/// The status of VEU `id` on `day` (`None`: no such VEU).
pub fn status(
    rs: &Ruleset,
    store: &mut dyn LedgerStore,
    id: &str,
    day: NaiveDate,
) -> Result<Option<VeuStatus>, StoreError> {
    let Some(veu) = record_of(store.balance(&veu_account(id))?) else {
        return Ok(None);
    };
    let mut codes: Vec<String> = rs
        .countries
        .all()
        .map(|c| c.code.as_str().to_owned())
        .collect();
    codes.sort_unstable();
    let mut err = None;
    let mut read = |a: &AccountId| {
        store.balance(a).unwrap_or_else(|e| {
            err = Some(e);
            None
        })
    };
    let mut countries = Vec::new();
    for code in codes {
        let h = holdings(&mut read, id, &code);
        if h.country == 0 {
            continue;
        }
        let t = tier(rs, &code, day);
        countries.push(CountryCompute {
            tier: if t == Tier::One { 1 } else { 2 },
            headroom_tpp: veu_headroom(&veu, &h, &code, t, day),
            tpp: h.country,
            country: code,
        });
    }
    let h = holdings(&mut read, id, "");
    if let Some(e) = err {
        return Err(e);
    }
    let new_tier2 = (veu.kind == VeuKind::Universal)
        .then(|| veu_headroom(&veu, &VeuHoldings { country: 0, ..h }, "", Tier::Two, day));
    Ok(Some(VeuStatus {
        total_tpp: h.total,
        outside_tier1_tpp: h.outside_tier1,
        countries,
        new_tier2_country_headroom_tpp: new_tier2,
        cap: veu.cap_on(day).map(|(q, tpp)| (q.to_string(), tpp)),
        as_of: day,
        unconfirmed: veu.kind == VeuKind::National,
        veu,
    }))
}

/// Every VEU on the ledger with its status on `day`, by id.
pub fn list(
    rs: &Ruleset,
    store: &mut dyn LedgerStore,
    day: NaiveDate,
) -> Result<Vec<VeuStatus>, StoreError> {
    let mut out = Vec::new();
    for veu in store.veus()? {
        out.extend(status(rs, store, &veu.id, day)?);
    }
    Ok(out)
}

/// Whether `refused` is a share or cap the draw would pass (`exceeds_limit`).
pub fn exceeds(refused: &VeuRefused) -> bool {
    matches!(refused, VeuRefused::Exceeds(_))
}

/// What the simulator needs of the ledger's VEU model (it depends on the pipeline only).
pub mod model {
    pub use exportgate_ledger::veu::{
        veu_draw, veu_headroom, Tier, Veu, VeuHoldings, VeuKind, VeuRefused,
    };
}
