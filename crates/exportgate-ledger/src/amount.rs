//! Quantities the ledger counts: units, value (minor currency units) and TPP, and the limits on them.
//!
//! Every quantity is a non-negative integer no larger than [`AMOUNT_MAX`], so that it fits in a
//! signed 64-bit database column and sums of two of them cannot overflow `u64`.

use serde::{Deserialize, Serialize};

/// The largest amount, limit or balance in any dimension (`i64::MAX`, so SQL can store it).
pub const AMOUNT_MAX: u64 = i64::MAX as u64;

/// One dimension the ledger counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Pieces (chips, boards, systems).
    Units,
    /// Money in minor currency units (cents).
    Value,
    /// Total processing performance.
    Tpp,
}

impl Dimension {
    /// All dimensions, in a fixed order.
    pub const ALL: [Dimension; 3] = [Dimension::Units, Dimension::Value, Dimension::Tpp];

    /// The lowercase name used in JSON and messages.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Units => "units",
            Dimension::Value => "value",
            Dimension::Tpp => "tpp",
        }
    }
}

/// An amount in every dimension at once; a dimension the caller does not count is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amounts {
    #[serde(default)]
    pub units: u64,
    #[serde(default)]
    pub value: u64,
    #[serde(default)]
    pub tpp: u64,
}

impl Amounts {
    /// Zero in every dimension.
    pub const ZERO: Amounts = Amounts {
        units: 0,
        value: 0,
        tpp: 0,
    };

    /// An amount of `units` pieces and nothing else.
    pub fn units(units: u64) -> Amounts {
        Amounts {
            units,
            ..Amounts::ZERO
        }
    }

    /// The amount in one dimension.
    pub fn get(&self, dimension: Dimension) -> u64 {
        match dimension {
            Dimension::Units => self.units,
            Dimension::Value => self.value,
            Dimension::Tpp => self.tpp,
        }
    }

    fn get_mut(&mut self, dimension: Dimension) -> &mut u64 {
        match dimension {
            Dimension::Units => &mut self.units,
            Dimension::Value => &mut self.value,
            Dimension::Tpp => &mut self.tpp,
        }
    }

    /// True when every dimension is zero.
    pub fn is_zero(&self) -> bool {
        *self == Amounts::ZERO
    }

    /// True when every dimension is at most [`AMOUNT_MAX`].
    pub fn is_within_max(&self) -> bool {
        Dimension::ALL.iter().all(|d| self.get(*d) <= AMOUNT_MAX)
    }

    /// `self + other`, or `None` when a dimension would pass [`AMOUNT_MAX`].
    pub fn checked_add(&self, other: &Amounts) -> Option<Amounts> {
        let mut sum = *self;
        for d in Dimension::ALL {
            let total = self.get(d).checked_add(other.get(d))?;
            if total > AMOUNT_MAX {
                return None;
            }
            *sum.get_mut(d) = total;
        }
        Some(sum)
    }

    /// `self - other`, or `None` when a dimension would go below zero.
    pub fn checked_sub(&self, other: &Amounts) -> Option<Amounts> {
        let mut difference = *self;
        for d in Dimension::ALL {
            *difference.get_mut(d) = self.get(d).checked_sub(other.get(d))?;
        }
        Some(difference)
    }
}

/// Upper bounds per dimension; `None` means the dimension is not limited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpp: Option<u64>,
}

impl Limits {
    /// The limit in one dimension.
    pub fn get(&self, dimension: Dimension) -> Option<u64> {
        match dimension {
            Dimension::Units => self.units,
            Dimension::Value => self.value,
            Dimension::Tpp => self.tpp,
        }
    }

    /// True when at least one dimension is limited.
    pub fn any(&self) -> bool {
        Dimension::ALL.iter().any(|d| self.get(*d).is_some())
    }

    /// The first dimension that `used` passes, if any.
    pub fn first_exceeded(&self, used: &Amounts) -> Option<Dimension> {
        Dimension::ALL
            .into_iter()
            .find(|d| self.get(*d).is_some_and(|limit| used.get(*d) > limit))
    }

    /// What is left under each limited dimension after `used` (saturating at zero).
    pub fn remaining(&self, used: &Amounts) -> Limits {
        let left = |d: Dimension| self.get(d).map(|limit| limit.saturating_sub(used.get(d)));
        Limits {
            units: left(Dimension::Units),
            value: left(Dimension::Value),
            tpp: left(Dimension::Tpp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_stops_at_the_maximum() {
        let big = Amounts {
            units: AMOUNT_MAX,
            ..Amounts::ZERO
        };
        assert_eq!(big.checked_add(&Amounts::units(1)), None);
        assert_eq!(big.checked_add(&Amounts::ZERO), Some(big));
    }

    #[test]
    fn sub_refuses_to_go_below_zero() {
        assert_eq!(Amounts::units(1).checked_sub(&Amounts::units(2)), None);
        assert_eq!(
            Amounts::units(3).checked_sub(&Amounts::units(2)),
            Some(Amounts::units(1))
        );
    }

    #[test]
    fn first_exceeded_names_the_dimension() {
        let limits = Limits {
            units: Some(10),
            tpp: Some(5),
            ..Limits::default()
        };
        assert_eq!(
            limits.first_exceeded(&Amounts {
                units: 10,
                value: 99,
                tpp: 5
            }),
            None
        );
        assert_eq!(
            limits.first_exceeded(&Amounts {
                units: 10,
                value: 0,
                tpp: 6
            }),
            Some(Dimension::Tpp)
        );
        assert_eq!(limits.remaining(&Amounts::units(4)).units, Some(6));
    }
}
