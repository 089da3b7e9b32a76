//! Revenue-share accrual (issue 21): what a licence's `revenue_share_percent` condition owes,
//! kept as ledger accounts, one per licence and calendar quarter.
//!
//! An accrual account (`revenue-share:<licence>:<2025Q4>`, kind
//! [`AccountKind::RevenueShare`]) is an ordinary ledger account: each shipment under the
//! licence reserves-and-posts its share (value, in integer cents of [`ACCRUAL_CURRENCY`]) on it
//! with an idempotency key derived from the order, in the same transaction as the draw on the
//! licence. Its balance is therefore the log's sum, reconciled like any other account; there is
//! no side table. The account's only limit is [`AMOUNT_MAX`] on value (an accrual is not capped;
//! the ledger requires a limit) and it is valid on the days of its quarter only.

use crate::account::{AccountId, AccountKind, AccountSpec};
use crate::amount::{Limits, AMOUNT_MAX};
use chrono::{Datelike, NaiveDate};
use std::fmt;

/// The currency of every accrual: order values are `value_usd`.
pub const ACCRUAL_CURRENCY: &str = "USD";

/// A calendar quarter, written `2025Q4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub quarter: u32,
}

/// Why a string is not a quarter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid quarter `{0}`: write it like `2025Q4` (year, `Q`, 1 to 4)")]
pub struct InvalidQuarter(pub String);

impl Quarter {
    /// The quarter `day` falls in.
    pub fn of(day: NaiveDate) -> Quarter {
        Quarter {
            year: day.year(),
            quarter: day.month0() / 3 + 1,
        }
    }

    /// Parses `2025Q4` (also `2025-Q4`, lower-case `q`).
    pub fn parse(text: &str) -> Result<Quarter, InvalidQuarter> {
        let bad = || InvalidQuarter(text.to_owned());
        let upper = text.trim().to_uppercase();
        let (year, q) = upper.split_once('Q').ok_or_else(bad)?;
        let year = year.strip_suffix('-').unwrap_or(year);
        if year.len() != 4 || !year.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let quarter: u32 = match q {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            "4" => 4,
            _ => return Err(bad()),
        };
        Ok(Quarter { year, quarter })
    }

    /// The quarter's first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.quarter - 1) * 3 + 1, 1).expect("a real date")
    }

    /// The quarter's last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("a real date")
    }

    /// The quarter after this one.
    pub fn next(self) -> Quarter {
        if self.quarter == 4 {
            Quarter {
                year: self.year + 1,
                quarter: 1,
            }
        } else {
            Quarter {
                year: self.year,
                quarter: self.quarter + 1,
            }
        }
    }

    /// Every quarter that overlaps `from..=to`, oldest first.
    pub fn span(from: NaiveDate, to: NaiveDate) -> Vec<Quarter> {
        let (mut q, last) = (Quarter::of(from), Quarter::of(to));
        let mut out = Vec::new();
        while q <= last {
            out.push(q);
            q = q.next();
        }
        out
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.quarter)
    }
}

/// The share owed on `value_cents` at `percent`, in cents, rounded up to the cent (never
/// under-stated), or `None` on overflow.
pub fn share_cents(value_cents: u64, percent: u32) -> Option<u64> {
    let owed = (u128::from(value_cents) * u128::from(percent)).div_ceil(100);
    u64::try_from(owed).ok().filter(|v| *v <= AMOUNT_MAX)
}

/// The accrual account of licence `number` for `quarter`.
pub fn accrual_account(number: &str, quarter: Quarter) -> AccountId {
    AccountId::new(format!("revenue-share:{number}:{quarter}")).expect("licence numbers are short")
}

impl AccountSpec {
    /// The revenue-share accrual account of licence `number` (share `percent`) for `quarter`.
    pub fn revenue_share(number: &str, percent: u32, quarter: Quarter) -> AccountSpec {
        AccountSpec {
            id: accrual_account(number, quarter),
            kind: AccountKind::RevenueShare {
                licence: number.to_owned(),
                quarter: quarter.to_string(),
                percent,
                currency: ACCRUAL_CURRENCY.to_owned(),
            },
            limits: Limits {
                value: Some(AMOUNT_MAX),
                ..Limits::default()
            },
            valid_from: Some(quarter.first_day()),
            valid_to: Some(quarter.last_day()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn quarters() {
        let q = Quarter::parse("2025Q4").unwrap();
        assert_eq!(q, Quarter::of(day(2025, 11, 30)));
        assert_eq!(q.first_day(), day(2025, 10, 1));
        assert_eq!(q.last_day(), day(2025, 12, 31));
        assert_eq!(q.next().to_string(), "2026Q1");
        assert_eq!(Quarter::parse("2026-q1").unwrap(), q.next());
        assert_eq!(Quarter::of(day(2025, 3, 31)).to_string(), "2025Q1");
        assert_eq!(Quarter::of(day(2025, 4, 1)).to_string(), "2025Q2");
        for bad in ["2025Q5", "2025", "25Q1", "2025Q", "Q4"] {
            assert!(Quarter::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Quarter::span(day(2025, 8, 1), day(2026, 1, 5)).len(), 3);
    }

    #[test]
    fn shares_round_up_to_the_cent() {
        assert_eq!(share_cents(1_000_000, 15), Some(150_000));
        assert_eq!(share_cents(1, 15), Some(1));
        assert_eq!(share_cents(0, 15), Some(0));
        assert_eq!(share_cents(AMOUNT_MAX, 100), Some(AMOUNT_MAX));
        let spec = AccountSpec::revenue_share("D1", 15, Quarter::parse("2025Q3").unwrap());
        assert_eq!(spec.id.as_str(), "revenue-share:D1:2025Q3");
        spec.validate().unwrap();
        assert!(spec.is_valid_on(day(2025, 9, 30)) && !spec.is_valid_on(day(2025, 10, 1)));
    }
}
