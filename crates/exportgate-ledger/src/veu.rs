//! Data Center Validated End-User authorisations (UVEU/NVEU, 15 CFR 748.15 as the AI
//! Diffusion framework, 90 FR 4544, amended it; issue 21 item 3) and their compute shares.
//!
//! A VEU record ([`Veu`]) is kept as the ledger account `veu:<id>` (kind
//! [`AccountKind::Veu`], the record itself in the spec), so adding one is an audited account
//! creation, re-adding the same record changes nothing and a record with other terms is refused
//! (a spec never changes). Its balance is the VEU's **total installed compute** (TPP). Two more
//! kinds of account hold the compute by place (kind [`AccountKind::VeuCompute`]):
//! `veu:<id>:<CC>` per country and `veu:<id>:outside-tier1`. Every addition of compute — a
//! `ship` draw or installed compute recorded from outside exportgate — is one all-or-nothing
//! reserve-and-post naming the country's account, the total and, for a country outside Tier 1,
//! the outside-Tier-1 account. All of them are limited only by [`AMOUNT_MAX`]: the limits are
//! shares of the total, checked by [`veu_draw`] from the balances as the writing transaction
//! reads them (as the volume cap in [`crate::flow`]).
//!
//! The limits (regulations.md §4.4, Supp. No. 10 to part 748 [S]): a UVEU keeps at most 25 %
//! of its total compute outside Tier 1 and at most 7 % in any one Tier 2 country, and a UVEU
//! headquartered in the United States keeps at least 50 % in the United States; an NVEU holds
//! compute only in its authorised country, up to the cumulative cap for the quarter, which the
//! user supplies on the record (the numbers are [U] in the reference: a decision resting on
//! them is unconfirmed). Tier 3 destinations are never VEU-eligible.

use crate::account::{AccountId, AccountKind, AccountSpec};
use crate::accrual::Quarter;
use crate::amount::{Limits, AMOUNT_MAX};
use crate::flow::grouped;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// UVEU: at most this percentage of the total compute outside Tier 1.
pub const UVEU_OUTSIDE_TIER1_PERCENT: u64 = 25;
/// UVEU: at most this percentage of the total compute in any one Tier 2 country.
pub const UVEU_TIER2_COUNTRY_PERCENT: u64 = 7;
/// A UVEU headquartered in the United States: at least this percentage in the United States.
pub const UVEU_US_HQ_PERCENT: u64 = 50;
/// The scope of the account holding a VEU's compute outside Tier 1.
pub const OUTSIDE_TIER1: &str = "outside-tier1";
/// Longest VEU id accepted.
pub const VEU_ID_LENGTH_MAX: usize = 64;

/// Universal or National VEU.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VeuKind {
    /// UVEU: may hold compute in any Tier 1 or Tier 2 country, within the shares.
    Universal,
    /// NVEU: compute in one authorised country, within the cumulative caps.
    National,
}

impl VeuKind {
    /// `universal` or `national`.
    pub fn as_str(self) -> &'static str {
        match self {
            VeuKind::Universal => "universal",
            VeuKind::National => "national",
        }
    }
}

/// The company that holds the authorisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VeuHolder {
    pub name: String,
    /// Where the holder is headquartered (ISO alpha-2); `US` adds the 50 % rule for a UVEU.
    pub headquarters: String,
}

/// An NVEU's cumulative installed-base cap in its authorised country, from a quarter on
/// (until the next cap's quarter). The numbers are the authorisation's: the reference has
/// them as [U].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VeuCap {
    /// First quarter the cap applies to, `2025Q3`.
    pub from: String,
    /// Cumulative TPP the NVEU may hold in the country.
    pub tpp: u64,
}

/// A VEU authorisation, as `exportgate veu add FILE` and `POST /v1/veus` read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Veu {
    /// The authorisation's id (letters, digits, `.`, `_`, `-`; at most 64), named by orders'
    /// `veu` field.
    pub id: String,
    pub kind: VeuKind,
    pub holder: VeuHolder,
    /// NVEU: the one country it is authorised in (ISO alpha-2). Not given for a UVEU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// NVEU: the cumulative caps by quarter, at least one. Not given for a UVEU.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<VeuCap>,
}

/// Why a VEU record is unusable, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct VeuError {
    pub field: String,
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> VeuError {
    VeuError {
        field: field.into(),
        message: message.into(),
    }
}

/// Whether `code` is written as an ISO alpha-2 code (two capital letters).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Checks a VEU id: 1 to 64 letters, digits, `.`, `_` or `-`.
pub fn check_veu_id(id: &str) -> Result<(), VeuError> {
    let ok = !id.is_empty()
        && id.len() <= VEU_ID_LENGTH_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(bad(
            "id",
            format!("`{id}` must be 1 to 64 letters, digits, `.`, `_` or `-`"),
        ))
    }
}

impl Veu {
    /// Parses and validates a record (JSON). `known_country` says whether a code is a country
    /// the rules know.
    pub fn from_json(json: &str, known_country: &dyn Fn(&str) -> bool) -> Result<Veu, VeuError> {
        let veu: Veu = serde_json::from_str(json).map_err(|e| bad("veu", e.to_string()))?;
        veu.validate(known_country)?;
        Ok(veu)
    }

    /// Checks every field (see [`Veu::from_json`]).
    pub fn validate(&self, known_country: &dyn Fn(&str) -> bool) -> Result<(), VeuError> {
        check_veu_id(&self.id)?;
        let country = |field: &str, code: &str| {
            if is_country_code(code) && known_country(code) {
                Ok(())
            } else {
                Err(bad(
                    field,
                    format!("`{code}` is not a known ISO alpha-2 country code (capitals)"),
                ))
            }
        };
        if self.holder.name.trim().is_empty() {
            return Err(bad("holder.name", "must not be empty"));
        }
        country("holder.headquarters", &self.holder.headquarters)?;
        match self.kind {
            VeuKind::Universal => {
                if self.country.is_some() {
                    return Err(bad("country", "a universal VEU names no country"));
                }
                if !self.caps.is_empty() {
                    return Err(bad(
                        "caps",
                        "a universal VEU has no caps (its limits are shares of its total compute)",
                    ));
                }
            }
            VeuKind::National => {
                let Some(code) = &self.country else {
                    return Err(bad(
                        "country",
                        "a national VEU names its authorised country",
                    ));
                };
                country("country", code)?;
                if self.caps.is_empty() {
                    return Err(bad(
                        "caps",
                        "a national VEU needs at least one cumulative cap",
                    ));
                }
                let mut last: Option<Quarter> = None;
                for (i, cap) in self.caps.iter().enumerate() {
                    let q = Quarter::parse(&cap.from)
                        .map_err(|e| bad(format!("caps[{i}].from"), e.to_string()))?;
                    if last.is_some_and(|l| q <= l) {
                        return Err(bad(
                            format!("caps[{i}].from"),
                            "caps must be in order of quarter, one per quarter",
                        ));
                    }
                    if cap.tpp > AMOUNT_MAX {
                        return Err(bad(format!("caps[{i}].tpp"), "too large"));
                    }
                    last = Some(q);
                }
            }
        }
        Ok(())
    }

    /// The NVEU cap in effect on `day` (the latest whose quarter has begun), if any.
    pub fn cap_on(&self, day: NaiveDate) -> Option<(Quarter, u64)> {
        let now = Quarter::of(day);
        self.caps
            .iter()
            .filter_map(|c| Quarter::parse(&c.from).ok().map(|q| (q, c.tpp)))
            .rfind(|(q, _)| *q <= now)
    }

    /// The account holding the record, whose balance is the total compute: `veu:<id>`.
    pub fn account_spec(&self) -> AccountSpec {
        AccountSpec {
            id: veu_account(&self.id),
            kind: AccountKind::Veu {
                record: Box::new(self.clone()),
            },
            limits: unlimited(),
            valid_from: None,
            valid_to: None,
        }
    }
}

fn unlimited() -> Limits {
    Limits {
        tpp: Some(AMOUNT_MAX),
        ..Limits::default()
    }
}

fn id_or(text: String, fallback: &str) -> AccountId {
    AccountId::new(text).unwrap_or_else(|_| AccountId::new(fallback).expect("a short id"))
}

/// The account of VEU `id` (its record; balance: total compute).
pub fn veu_account(id: &str) -> AccountId {
    id_or(format!("veu:{id}"), "veu:?")
}

/// The account of VEU `id`'s compute in `scope`: a country code or [`OUTSIDE_TIER1`].
pub fn veu_scope_account(id: &str, scope: &str) -> AccountId {
    id_or(format!("veu:{id}:{scope}"), "veu:?:?")
}

/// The spec of [`veu_scope_account`].
pub fn veu_scope_spec(id: &str, scope: &str) -> AccountSpec {
    AccountSpec {
        id: veu_scope_account(id, scope),
        kind: AccountKind::VeuCompute {
            veu: id.to_owned(),
            scope: scope.to_owned(),
        },
        limits: unlimited(),
        valid_from: None,
        valid_to: None,
    }
}

/// The scope accounts an addition of compute to `country` creates if missing: the country's
/// and (outside Tier 1) the outside-Tier-1 account.
pub fn veu_scope_specs(id: &str, country: &str, outside_tier1: bool) -> Vec<AccountSpec> {
    let mut out = vec![veu_scope_spec(id, country)];
    if outside_tier1 {
        out.push(veu_scope_spec(id, OUTSIDE_TIER1));
    }
    out
}

/// The accounts an addition of compute to `country` names, all or none: the country's, the
/// total (`veu:<id>`) and, outside Tier 1, the outside-Tier-1 account.
pub fn veu_draw_accounts(id: &str, country: &str, outside_tier1: bool) -> Vec<AccountId> {
    let mut out = vec![veu_scope_account(id, country), veu_account(id)];
    if outside_tier1 {
        out.push(veu_scope_account(id, OUTSIDE_TIER1));
    }
    out
}

/// A destination's tier under the AI Diffusion framework.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    One,
    Two,
    Three,
}

/// A VEU's compute (TPP, posted plus pending) as the transaction reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VeuHoldings {
    pub total: u64,
    pub outside_tier1: u64,
    /// In the destination country.
    pub country: u64,
    /// In the United States.
    pub us: u64,
}

/// Why a VEU cannot take a draw, with the numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VeuRefused {
    /// The destination or the VEU's kind rules the draw out.
    NotEligible(String),
    /// A share or cap would be passed: `exceeds_limit: ...`.
    Exceeds(String),
}

impl fmt::Display for VeuRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VeuRefused::NotEligible(why) => f.write_str(why),
            VeuRefused::Exceeds(why) => write!(f, "exceeds_limit: {why}"),
        }
    }
}

/// `part` × 100 ≤ `whole` × `percent` (exact, no rounding).
fn within(part: u64, whole: u64, percent: u64) -> bool {
    u128::from(part) * 100 <= u128::from(whole) * u128::from(percent)
}

/// What VEU `veu` may still take in `country` at `tier` on `day`, given `h`: the largest draw
/// [`veu_draw`] accepts (0 when none).
pub fn veu_headroom(veu: &Veu, h: &VeuHoldings, country: &str, tier: Tier, day: NaiveDate) -> u64 {
    if veu_draw(veu, h, country, country, tier, 1, day).is_err() {
        return 0;
    }
    // The accepted draws are an interval from 1: find its end by bisection.
    let (mut lo, mut hi) = (1u64, AMOUNT_MAX - h.total.min(AMOUNT_MAX - 1));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if veu_draw(veu, h, country, country, tier, mid, day).is_ok() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Whether VEU `veu` may take `tpp` more in `country` (named `place` in messages) at `tier`
/// on `day`, given its holdings `h` before the draw. See the module docs for the limits.
pub fn veu_draw(
    veu: &Veu,
    h: &VeuHoldings,
    country: &str,
    place: &str,
    tier: Tier,
    tpp: u64,
    day: NaiveDate,
) -> Result<(), VeuRefused> {
    if tier == Tier::Three {
        return Err(VeuRefused::NotEligible(format!(
            "{place} is a Tier 3 destination: never VEU-eligible"
        )));
    }
    let total = h.total.saturating_add(tpp);
    let here = h.country.saturating_add(tpp);
    let id = &veu.id;
    match veu.kind {
        VeuKind::National => {
            if veu.country.as_deref() != Some(country) {
                return Err(VeuRefused::NotEligible(format!(
                    "national VEU `{id}` is authorised in {} only, not {place}",
                    veu.country.as_deref().unwrap_or("?")
                )));
            }
            let Some((quarter, cap)) = veu.cap_on(day) else {
                return Err(VeuRefused::NotEligible(format!(
                    "national VEU `{id}` has no cap in effect on {day}"
                )));
            };
            if here > cap {
                return Err(VeuRefused::Exceeds(format!(
                    "compute in {place} {} TPP would pass `{id}`'s cap of {} TPP for {quarter} (unconfirmed)",
                    grouped(here),
                    grouped(cap)
                )));
            }
        }
        VeuKind::Universal => {
            let outside = if tier == Tier::One {
                h.outside_tier1
            } else {
                h.outside_tier1.saturating_add(tpp)
            };
            let share = |what: String, n: u64, percent: u64| {
                VeuRefused::Exceeds(format!(
                    "{what} {} TPP would pass {percent}% of `{id}`'s total {} TPP",
                    grouped(n),
                    grouped(total)
                ))
            };
            if !within(outside, total, UVEU_OUTSIDE_TIER1_PERCENT) {
                return Err(share(
                    "compute outside Tier 1".into(),
                    outside,
                    UVEU_OUTSIDE_TIER1_PERCENT,
                ));
            }
            if tier == Tier::Two && !within(here, total, UVEU_TIER2_COUNTRY_PERCENT) {
                return Err(share(
                    format!("compute in {place}"),
                    here,
                    UVEU_TIER2_COUNTRY_PERCENT,
                ));
            }
            let us = if country == "US" {
                h.us.saturating_add(tpp)
            } else {
                h.us
            };
            if veu.holder.headquarters == "US"
                && u128::from(us) * 100 < u128::from(total) * u128::from(UVEU_US_HQ_PERCENT)
            {
                return Err(VeuRefused::Exceeds(format!(
                    "compute in the United States {} TPP would fall below {UVEU_US_HQ_PERCENT}% of `{id}`'s total {} TPP (a US-headquartered UVEU)",
                    grouped(us),
                    grouped(total)
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 8, 1).unwrap()
    }

    fn uveu(hq: &str) -> Veu {
        Veu {
            id: "bigcloud-uveu-1".into(),
            kind: VeuKind::Universal,
            holder: VeuHolder {
                name: "Big Cloud Inc".into(),
                headquarters: hq.into(),
            },
            country: None,
            caps: Vec::new(),
        }
    }

    #[test]
    fn uveu_shares_are_checked_after_the_draw() {
        let v = uveu("IE");
        // 1,000,000 in Tier 1, 50,000 in India.
        let h = VeuHoldings {
            total: 1_000_000,
            outside_tier1: 50_000,
            country: 50_000,
            us: 0,
        };
        // 7% of 1,025,000 = 71,750: 75,000 in India passes it.
        let e = veu_draw(&v, &h, "IN", "India", Tier::Two, 25_000, day()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "exceeds_limit: compute in India 75,000 TPP would pass 7% of `bigcloud-uveu-1`'s total 1,025,000 TPP"
        );
        assert!(veu_draw(&v, &h, "IN", "India", Tier::Two, 25_000 - 5_000, day()).is_ok());
        let room = veu_headroom(&v, &h, "IN", Tier::Two, day());
        assert!(veu_draw(&v, &h, "IN", "India", Tier::Two, room, day()).is_ok());
        assert!(veu_draw(&v, &h, "IN", "India", Tier::Two, room + 1, day()).is_err());
        // Outside Tier 1: 250,000 of 1,000,000 elsewhere; 10,000 more in a new country.
        let h = VeuHoldings {
            total: 1_000_000,
            outside_tier1: 250_000,
            country: 0,
            us: 0,
        };
        let e = veu_draw(
            &v,
            &h,
            "AE",
            "United Arab Emirates",
            Tier::Two,
            10_000,
            day(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "exceeds_limit: compute outside Tier 1 260,000 TPP would pass 25% of `bigcloud-uveu-1`'s total 1,010,000 TPP"
        );
        // A Tier 1 draw lowers the outside share.
        assert!(veu_draw(&v, &h, "DE", "Germany", Tier::One, 10_000, day()).is_ok());
        // An empty VEU cannot hold everything in one Tier 2 country.
        assert!(veu_draw(
            &v,
            &VeuHoldings::default(),
            "IN",
            "India",
            Tier::Two,
            1,
            day()
        )
        .is_err());
        assert!(matches!(
            veu_draw(&v, &h, "MO", "Macau", Tier::Three, 1, day()),
            Err(VeuRefused::NotEligible(_))
        ));
    }

    #[test]
    fn a_us_headquartered_uveu_keeps_half_in_the_us() {
        let v = uveu("US");
        let h = VeuHoldings {
            total: 1_000_000,
            outside_tier1: 0,
            country: 0,
            us: 500_000,
        };
        let e = veu_draw(&v, &h, "DE", "Germany", Tier::One, 1, day()).unwrap_err();
        assert!(e.to_string().contains("would fall below 50%"), "{e}");
        assert!(veu_draw(&v, &h, "US", "the United States", Tier::One, 1, day()).is_ok());
    }

    #[test]
    fn nveu_only_in_its_country_and_within_the_cap() {
        let v = Veu {
            id: "n1".into(),
            kind: VeuKind::National,
            holder: VeuHolder {
                name: "Local DC".into(),
                headquarters: "IN".into(),
            },
            country: Some("IN".into()),
            caps: vec![
                VeuCap {
                    from: "2025Q3".into(),
                    tpp: 100,
                },
                VeuCap {
                    from: "2026Q1".into(),
                    tpp: 300,
                },
            ],
        };
        v.validate(&|_| true).unwrap();
        let h = VeuHoldings {
            total: 90,
            country: 90,
            ..VeuHoldings::default()
        };
        assert!(veu_draw(&v, &h, "IN", "India", Tier::Two, 10, day()).is_ok());
        let e = veu_draw(&v, &h, "IN", "India", Tier::Two, 11, day()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "exceeds_limit: compute in India 101 TPP would pass `n1`'s cap of 100 TPP for 2025Q3 (unconfirmed)"
        );
        let later = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        assert!(veu_draw(&v, &h, "IN", "India", Tier::Two, 210, later).is_ok());
        assert_eq!(veu_headroom(&v, &h, "IN", Tier::Two, later), 210);
        let early = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
        assert!(veu_draw(&v, &h, "IN", "India", Tier::Two, 1, early).is_err());
        assert!(veu_draw(&v, &h, "AE", "UAE", Tier::Two, 1, day()).is_err());
    }

    #[test]
    fn records_are_validated_field_by_field() {
        let known = |c: &str| c != "XX";
        let ok = r#"{"id":"u1","kind":"universal","holder":{"name":"A","headquarters":"US"}}"#;
        let v = Veu::from_json(ok, &known).unwrap();
        assert_eq!(v.account_spec().id.as_str(), "veu:u1");
        v.account_spec().validate().unwrap();
        for (json, field) in [
            (
                r#"{"id":"u 1","kind":"universal","holder":{"name":"A","headquarters":"US"}}"#,
                "`id`",
            ),
            (
                r#"{"id":"u1","kind":"universal","holder":{"name":"A","headquarters":"XX"}}"#,
                "`holder.headquarters`",
            ),
            (
                r#"{"id":"u1","kind":"universal","holder":{"name":"A","headquarters":"US"},"country":"IN"}"#,
                "`country`",
            ),
            (
                r#"{"id":"n1","kind":"national","holder":{"name":"A","headquarters":"IN"},"country":"IN"}"#,
                "`caps`",
            ),
            (
                r#"{"id":"n1","kind":"national","holder":{"name":"A","headquarters":"IN"},"country":"IN","caps":[{"from":"2025Q5","tpp":1}]}"#,
                "`caps[0].from`",
            ),
            (
                r#"{"id":"u1","kind":"global","holder":{"name":"A","headquarters":"US"}}"#,
                "`veu`",
            ),
        ] {
            let e = Veu::from_json(json, &known).unwrap_err().to_string();
            assert!(e.starts_with(field), "{json}: {e}");
        }
    }
}
