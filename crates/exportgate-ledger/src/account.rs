//! Accounts: what a licence, a country allocation, an LPP consignee-year or a UVEU holding may
//! still absorb, with their limits, validity and status, and the balance read back.
//!
//! The well-known caps of the AI Diffusion framework (90 FR 4544) have constructors here:
//! [`AccountSpec::country_allocation`], [`AccountSpec::lpp`], [`AccountSpec::uveu_outside_tier1`]
//! and [`AccountSpec::uveu_tier2_country`].

use crate::amount::{Amounts, Limits, AMOUNT_MAX};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest account id accepted.
pub const ACCOUNT_ID_LENGTH_MAX: usize = 200;

/// Tier 2 country allocation for 2025 through 2027 (TPP).
pub const COUNTRY_ALLOCATION_TPP: u64 = 790_000_000;
/// LPP: cumulative TPP per ultimate consignee per calendar year.
pub const LPP_TPP_PER_YEAR: u64 = 26_900_000;
/// UVEU: at most this share (basis points) of total compute outside Tier 1.
pub const UVEU_OUTSIDE_TIER1_BASIS_POINTS: u32 = 2_500;
/// UVEU: at most this share (basis points) of total compute in any one Tier 2 country.
pub const UVEU_TIER2_COUNTRY_BASIS_POINTS: u32 = 700;

/// The id of an account, e.g. `licence:D1234567` or `lpp:falcon compute llc:2025`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

/// Why a string is not an account id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid account id `{id}`: {reason}")]
pub struct InvalidAccountId {
    id: String,
    reason: &'static str,
}

impl AccountId {
    /// A validated account id: 1 to 200 characters, no control characters, no surrounding space.
    pub fn new(id: impl Into<String>) -> Result<AccountId, InvalidAccountId> {
        let id = id.into();
        let reason = if id.is_empty() {
            Some("must not be empty")
        } else if id.len() > ACCOUNT_ID_LENGTH_MAX {
            Some("must be at most 200 bytes")
        } else if id.chars().any(char::is_control) {
            Some("must not contain control characters")
        } else if id.trim() != id {
            Some("must not start or end with whitespace")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidAccountId { id, reason }),
            None => Ok(AccountId(id)),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The account of licence `number`.
    pub fn licence(number: &str) -> AccountId {
        AccountId::new(format!("licence:{number}")).expect("licence numbers are validated")
    }
}

impl TryFrom<String> for AccountId {
    type Error = InvalidAccountId;
    fn try_from(id: String) -> Result<AccountId, InvalidAccountId> {
        AccountId::new(id)
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an account stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountKind {
    /// A licence; the account's limits are the licence's units/value/TPP.
    Licence { number: String },
    /// A Tier 2 country's cumulative allocation for a period (AI Diffusion: 2025–2027).
    CountryAllocation {
        country: String,
        government_to_government: bool,
    },
    /// License Exception LPP: one ultimate consignee, one calendar year.
    Lpp { consignee: String, year: i32 },
    /// A UVEU's holdings in a scope, limited to a share of its declared total compute.
    UveuHolding {
        veu: String,
        scope: String,
        total_tpp: u64,
        share_basis_points: u32,
    },
    /// A licence's revenue-share accrual for one calendar quarter (`2025Q4`): value in cents of
    /// `currency` (see [`crate::accrual`]).
    RevenueShare {
        licence: String,
        quarter: String,
        percent: u32,
        currency: String,
    },
    /// Units of a product (catalog chip id) shipped to end users in `destination` (`US`): the
    /// reference flow of a volume cap (see [`crate::flow`]).
    ReferenceFlow {
        product: String,
        destination: String,
    },
    /// Units of a product drawn under licences with a `volume_cap_percent` condition (see
    /// [`crate::flow`]).
    CappedDraws { product: String },
    /// A VEU authorisation (see [`crate::veu`]); the balance is its total installed compute.
    Veu { record: Box<crate::veu::Veu> },
    /// A VEU's installed compute in one scope: a country (`IN`) or `outside-tier1`.
    VeuCompute { veu: String, scope: String },
    /// Anything else the caller wants to cap.
    Other { description: String },
}

/// Whether an account may take new reservations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Suspended,
    Revoked,
    Expired,
}

impl AccountStatus {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Revoked => "revoked",
            AccountStatus::Expired => "expired",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(name: &str) -> Option<AccountStatus> {
        [
            AccountStatus::Active,
            AccountStatus::Suspended,
            AccountStatus::Revoked,
            AccountStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// Everything needed to create an account. Creating an existing account with an equal spec is
/// a no-op; with a different spec it is an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    pub id: AccountId,
    pub kind: AccountKind,
    pub limits: Limits,
    /// First day (UTC) on which reservations are accepted; `None` is unbounded.
    pub valid_from: Option<NaiveDate>,
    /// Last day (UTC, inclusive) on which reservations are accepted; `None` is unbounded.
    pub valid_to: Option<NaiveDate>,
}

/// Why an [`AccountSpec`] is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidAccountSpec {
    #[error("account `{0}` has no limit: give at least one of units, value, tpp")]
    NoLimit(AccountId),
    #[error("account `{account}`: limit `{dimension}` must be between 1 and {AMOUNT_MAX}")]
    LimitOutOfRange {
        account: AccountId,
        dimension: &'static str,
    },
    #[error("account `{0}`: `valid_to` is before `valid_from`")]
    ValidityReversed(AccountId),
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a real calendar date")
}

/// Lowercases and collapses whitespace, so `Falcon  Compute LLC` and `falcon compute llc` share one LPP account.
pub fn normalise_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl AccountSpec {
    /// Checks limits and validity.
    pub fn validate(&self) -> Result<(), InvalidAccountSpec> {
        if !self.limits.any() {
            return Err(InvalidAccountSpec::NoLimit(self.id.clone()));
        }
        for d in crate::amount::Dimension::ALL {
            if let Some(limit) = self.limits.get(d) {
                if limit == 0 || limit > AMOUNT_MAX {
                    return Err(InvalidAccountSpec::LimitOutOfRange {
                        account: self.id.clone(),
                        dimension: d.name(),
                    });
                }
            }
        }
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to) {
            if to < from {
                return Err(InvalidAccountSpec::ValidityReversed(self.id.clone()));
            }
        }
        Ok(())
    }

    /// True when reservations dated `day` are accepted.
    pub fn is_valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_to.is_none_or(|to| day <= to)
    }

    /// A Tier 2 country's AI Diffusion allocation for 2025–2027: 790,000,000 TPP, doubled under a
    /// government-to-government arrangement. `country` is an ISO alpha-2 code.
    pub fn country_allocation(country: &str, government_to_government: bool) -> AccountSpec {
        let country = country.to_uppercase();
        let tpp = if government_to_government {
            2 * COUNTRY_ALLOCATION_TPP
        } else {
            COUNTRY_ALLOCATION_TPP
        };
        AccountSpec {
            id: AccountId::new(format!("allocation:{country}:2025-2027")).expect("short ascii id"),
            kind: AccountKind::CountryAllocation {
                country,
                government_to_government,
            },
            limits: Limits {
                tpp: Some(tpp),
                ..Limits::default()
            },
            valid_from: Some(date(2025, 1, 1)),
            valid_to: Some(date(2027, 12, 31)),
        }
    }

    /// License Exception LPP for one ultimate consignee in the calendar year of `day`:
    /// 26,900,000 TPP, valid from 1 January to 31 December of that year.
    pub fn lpp(consignee: &str, day: NaiveDate) -> AccountSpec {
        let consignee = normalise_name(consignee);
        let year = day.year();
        let mut id = format!("lpp:{consignee}:{year}");
        id.truncate(ACCOUNT_ID_LENGTH_MAX);
        AccountSpec {
            id: AccountId::new(id).unwrap_or_else(|_| AccountId(format!("lpp:?:{year}"))),
            kind: AccountKind::Lpp { consignee, year },
            limits: Limits {
                tpp: Some(LPP_TPP_PER_YEAR),
                ..Limits::default()
            },
            valid_from: Some(date(year, 1, 1)),
            valid_to: Some(date(year, 12, 31)),
        }
    }

    fn uveu(veu: &str, scope: String, total_tpp: u64, share_basis_points: u32) -> AccountSpec {
        let veu = normalise_name(veu);
        // Floor: the cap must never be rounded up past the regulatory share.
        let cap = (u128::from(total_tpp) * u128::from(share_basis_points) / 10_000) as u64;
        AccountSpec {
            id: AccountId::new(format!("uveu:{veu}:{scope}"))
                .unwrap_or_else(|_| AccountId(format!("uveu:?:{scope}"))),
            kind: AccountKind::UveuHolding {
                veu,
                scope,
                total_tpp,
                share_basis_points,
            },
            limits: Limits {
                tpp: Some(cap),
                ..Limits::default()
            },
            valid_from: None,
            valid_to: None,
        }
    }

    /// A UVEU's holdings outside Tier 1: at most 25 % of its declared total compute `total_tpp`.
    pub fn uveu_outside_tier1(veu: &str, total_tpp: u64) -> AccountSpec {
        AccountSpec::uveu(
            veu,
            "outside-tier1".to_owned(),
            total_tpp,
            UVEU_OUTSIDE_TIER1_BASIS_POINTS,
        )
    }

    /// A UVEU's holdings in one Tier 2 country: at most 7 % of its declared total compute.
    pub fn uveu_tier2_country(veu: &str, country: &str, total_tpp: u64) -> AccountSpec {
        let scope = format!("country:{}", country.to_uppercase());
        AccountSpec::uveu(veu, scope, total_tpp, UVEU_TIER2_COUNTRY_BASIS_POINTS)
    }
}

/// An account as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub spec: AccountSpec,
    pub status: AccountStatus,
    /// Sum of posted transfers.
    pub posted: Amounts,
    /// Sum of reservations not yet posted, voided or expired.
    pub pending: Amounts,
}

impl Account {
    /// A new, empty, active account.
    pub fn new(spec: AccountSpec) -> Account {
        Account {
            spec,
            status: AccountStatus::Active,
            posted: Amounts::ZERO,
            pending: Amounts::ZERO,
        }
    }

    /// Posted plus pending, or `None` on overflow (impossible while the invariants hold).
    pub fn used(&self) -> Option<Amounts> {
        self.posted.checked_add(&self.pending)
    }

    /// The balance view of this account.
    pub fn balance(&self) -> Balance {
        let used = self.used().unwrap_or(Amounts {
            units: AMOUNT_MAX,
            value: AMOUNT_MAX,
            tpp: AMOUNT_MAX,
        });
        Balance {
            account: self.spec.id.clone(),
            kind: self.spec.kind.clone(),
            status: self.status,
            limits: self.spec.limits,
            posted: self.posted,
            pending: self.pending,
            available: self.spec.limits.remaining(&used),
        }
    }
}

/// What an account holds and what is left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub account: AccountId,
    pub kind: AccountKind,
    pub status: AccountStatus,
    pub limits: Limits,
    pub posted: Amounts,
    pub pending: Amounts,
    /// Limit minus posted minus pending, per limited dimension.
    pub available: Limits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffusion_caps() {
        let a = AccountSpec::country_allocation("in", false);
        assert_eq!(a.id.as_str(), "allocation:IN:2025-2027");
        assert_eq!(a.limits.tpp, Some(790_000_000));
        assert_eq!(
            AccountSpec::country_allocation("AE", true).limits.tpp,
            Some(1_580_000_000)
        );
        let lpp = AccountSpec::lpp("Falcon  Compute LLC", date(2025, 6, 1));
        assert_eq!(lpp.id.as_str(), "lpp:falcon compute llc:2025");
        assert!(lpp.is_valid_on(date(2025, 12, 31)));
        assert!(!lpp.is_valid_on(date(2026, 1, 1)));
        assert_eq!(
            AccountSpec::uveu_outside_tier1("Big Cloud", 1_000_000_001)
                .limits
                .tpp,
            Some(250_000_000)
        );
        assert_eq!(
            AccountSpec::uveu_tier2_country("Big Cloud", "in", 1_000)
                .limits
                .tpp,
            Some(70)
        );
        for spec in [a, lpp] {
            spec.validate().unwrap();
        }
    }

    #[test]
    fn spec_validation_names_the_problem() {
        let mut spec = AccountSpec::lpp("x", date(2025, 1, 1));
        spec.limits.tpp = Some(0);
        assert_eq!(
            spec.validate().unwrap_err().to_string(),
            "account `lpp:x:2025`: limit `tpp` must be between 1 and 9223372036854775807"
        );
        spec.limits.tpp = None;
        assert!(matches!(
            spec.validate(),
            Err(InvalidAccountSpec::NoLimit(_))
        ));
        assert!(AccountId::new("").is_err());
        assert!(AccountId::new(" a").is_err());
    }
}
