//! Does a licence cover an order line? Pure matching of a [`Licence`] against the facts of an
//! order ([`OrderFacts`]), and of a [`Balance`] against what the order would draw.
//!
//! A licence covers an order when it is active, valid on the order's date, lists the item (by
//! catalog id, or by ECCN — a listed `3A090` covers `3A090.a`), the destination and the
//! consignee (names compared after [`normalise_name`]), and every limit the licence sets can be
//! measured for the order (a value limit needs the order's value, a TPP limit its TPP). Whether
//! there is enough balance left is a separate question ([`fits`]): the ledger answers it again,
//! authoritatively, inside the transaction that reserves.

use crate::account::{normalise_name, AccountStatus, Balance};
use crate::amount::{Amounts, Dimension, Limits};
use crate::licence::Licence;
use chrono::NaiveDate;
use std::fmt;

/// What the matching needs to know about one order line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderFacts<'a> {
    /// The catalog id, when the order names one.
    pub chip: Option<&'a str>,
    /// The item's ECCN as classified on the order's date (`3A090.a`, ...).
    pub eccn: &'a str,
    /// ISO alpha-2 destination.
    pub destination: &'a str,
    /// The ultimate consignee's name as written on the order.
    pub consignee: &'a str,
    /// The order's date.
    pub date: NaiveDate,
    /// Quantity.
    pub units: u64,
    /// TPP of the whole line, when known.
    pub tpp: Option<u64>,
    /// Value in minor currency units (cents), when known.
    pub value: Option<u64>,
}

impl OrderFacts<'_> {
    /// What this order draws on a licence: its units, and its value and TPP when known.
    pub fn amounts(&self) -> Amounts {
        Amounts {
            units: self.units,
            value: self.value.unwrap_or(0),
            tpp: self.tpp.unwrap_or(0),
        }
    }
}

/// Why a licence does not cover an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WhyNot {
    /// The licence is suspended, revoked or expired.
    NotActive(AccountStatus),
    /// The order is dated outside the licence's validity.
    NotValidOnDate {
        date: NaiveDate,
        valid_from: NaiveDate,
        valid_to: NaiveDate,
    },
    /// Neither the catalog id nor the ECCN is listed.
    ItemNotListed { item: String },
    /// The destination is not listed.
    DestinationNotListed { destination: String },
    /// The consignee is not listed.
    ConsigneeNotListed { consignee: String },
    /// The licence limits a dimension the order does not state (value or TPP).
    UnmeasuredLimit { dimension: Dimension },
}

impl fmt::Display for WhyNot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WhyNot::NotActive(s) => write!(f, "the licence is {}", s.name()),
            WhyNot::NotValidOnDate {
                date,
                valid_from,
                valid_to,
            } => write!(
                f,
                "the order date {date} is outside the licence's validity {valid_from}..{valid_to}"
            ),
            WhyNot::ItemNotListed { item } => write!(f, "item `{item}` is not listed"),
            WhyNot::DestinationNotListed { destination } => {
                write!(f, "destination `{destination}` is not listed")
            }
            WhyNot::ConsigneeNotListed { consignee } => {
                write!(f, "consignee `{consignee}` is not listed")
            }
            WhyNot::UnmeasuredLimit { dimension } => write!(
                f,
                "the licence limits {} but the order does not state it",
                dimension.name()
            ),
        }
    }
}

/// True when a listed item covers the order's catalog id or ECCN (case-insensitive; a listed
/// ECCN also covers its sub-paragraphs: `3A090` covers `3A090.a`).
fn item_listed(listed: &str, facts: &OrderFacts<'_>) -> bool {
    if facts.chip.is_some_and(|c| c.eq_ignore_ascii_case(listed)) {
        return true;
    }
    let eccn = facts.eccn.to_ascii_lowercase();
    let listed = listed.to_ascii_lowercase();
    eccn == listed
        || eccn
            .strip_prefix(&listed)
            .is_some_and(|rest| rest.starts_with('.'))
}

impl Licence {
    /// Whether the licence lists the order's item (by catalog id or ECCN), whatever else it
    /// names: the licences worth a word when an order is not covered.
    pub fn lists_item(&self, facts: &OrderFacts<'_>) -> bool {
        self.items.iter().any(|i| item_listed(i, facts))
    }

    /// Whether this licence covers the order (balance aside). Fails closed: anything the
    /// licence limits must be measurable on the order.
    pub fn covers(&self, facts: &OrderFacts<'_>) -> Result<(), WhyNot> {
        if self.status != AccountStatus::Active {
            return Err(WhyNot::NotActive(self.status));
        }
        if facts.date < self.valid_from || facts.date > self.valid_to {
            return Err(WhyNot::NotValidOnDate {
                date: facts.date,
                valid_from: self.valid_from,
                valid_to: self.valid_to,
            });
        }
        if !self.items.iter().any(|i| item_listed(i, facts)) {
            return Err(WhyNot::ItemNotListed {
                item: facts.chip.unwrap_or(facts.eccn).to_owned(),
            });
        }
        if !self
            .destinations
            .iter()
            .any(|d| d.eq_ignore_ascii_case(facts.destination))
        {
            return Err(WhyNot::DestinationNotListed {
                destination: facts.destination.to_owned(),
            });
        }
        let consignee = normalise_name(facts.consignee);
        if !self
            .consignees
            .iter()
            .any(|c| normalise_name(c) == consignee)
        {
            return Err(WhyNot::ConsigneeNotListed {
                consignee: facts.consignee.to_owned(),
            });
        }
        if self.limits.value.is_some() && facts.value.is_none() {
            return Err(WhyNot::UnmeasuredLimit {
                dimension: Dimension::Value,
            });
        }
        if self.limits.tpp.is_some() && facts.tpp.is_none() {
            return Err(WhyNot::UnmeasuredLimit {
                dimension: Dimension::Tpp,
            });
        }
        Ok(())
    }
}

/// Whether `amounts` fits in what `balance` has available; otherwise the first dimension that
/// would pass its limit, with what is left of it. (The account's status is not looked at.)
pub fn fits(balance: &Balance, amounts: &Amounts) -> Result<(), (Dimension, u64)> {
    fits_limits(&balance.available, amounts)
}

/// Whether `amounts` fits under `available` (limited dimensions only).
pub fn fits_limits(available: &Limits, amounts: &Amounts) -> Result<(), (Dimension, u64)> {
    for d in Dimension::ALL {
        if let Some(left) = available.get(d) {
            if amounts.get(d) > left {
                return Err((d, left));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licence::AnyIds;

    fn licence() -> Licence {
        Licence::from_json(
            r#"{"number": "D1234567", "holder": "Acme Systems", "items": ["nvidia-h100-sxm", "4A090"],
                "destinations": ["AE"], "consignees": ["Falcon Compute LLC"], "units": 100,
                "valid_from": "2025-01-01", "valid_to": "2027-12-31"}"#,
            &AnyIds,
        )
        .unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts() -> OrderFacts<'static> {
        OrderFacts {
            chip: Some("nvidia-h100-sxm"),
            eccn: "3A090.a",
            destination: "AE",
            consignee: "falcon  compute llc",
            date: day("2025-06-01"),
            units: 8,
            tpp: Some(126_650),
            value: None,
        }
    }

    #[test]
    fn covers_by_catalog_id_or_eccn_with_normalised_consignee() {
        let l = licence();
        assert_eq!(l.covers(&facts()), Ok(()));
        let by_eccn = OrderFacts {
            chip: Some("some-server"),
            eccn: "4A090.a",
            ..facts()
        };
        assert_eq!(l.covers(&by_eccn), Ok(()));
        let other = OrderFacts {
            chip: Some("amd-mi300x"),
            ..facts()
        };
        assert_eq!(
            l.covers(&other),
            Err(WhyNot::ItemNotListed {
                item: "amd-mi300x".into()
            })
        );
        // `3A090` would cover `3A090.a`, but `3A09` is not a parent of it.
        let mut l2 = l.clone();
        l2.items = vec!["3A09".into()];
        assert!(l2
            .covers(&OrderFacts {
                chip: None,
                ..facts()
            })
            .is_err());
    }

    #[test]
    fn refuses_other_destinations_consignees_dates_and_inactive_licences() {
        let l = licence();
        assert!(matches!(
            l.covers(&OrderFacts {
                destination: "SA",
                ..facts()
            }),
            Err(WhyNot::DestinationNotListed { .. })
        ));
        assert!(matches!(
            l.covers(&OrderFacts {
                consignee: "Falcon Compute",
                ..facts()
            }),
            Err(WhyNot::ConsigneeNotListed { .. })
        ));
        assert!(matches!(
            l.covers(&OrderFacts {
                date: day("2028-01-01"),
                ..facts()
            }),
            Err(WhyNot::NotValidOnDate { .. })
        ));
        assert!(l
            .covers(&OrderFacts {
                date: day("2027-12-31"),
                ..facts()
            })
            .is_ok());
        let mut revoked = l.clone();
        revoked.status = AccountStatus::Revoked;
        assert_eq!(
            revoked.covers(&facts()),
            Err(WhyNot::NotActive(AccountStatus::Revoked))
        );
    }

    #[test]
    fn limits_the_order_cannot_measure_fail_closed() {
        let mut l = licence();
        l.limits.value = Some(1_000_000);
        assert_eq!(
            l.covers(&facts()),
            Err(WhyNot::UnmeasuredLimit {
                dimension: Dimension::Value
            })
        );
        assert!(l
            .covers(&OrderFacts {
                value: Some(5),
                ..facts()
            })
            .is_ok());
    }

    #[test]
    fn fits_names_the_dimension_short() {
        let available = Limits {
            units: Some(3),
            ..Limits::default()
        };
        assert_eq!(fits_limits(&available, &Amounts::units(3)), Ok(()));
        assert_eq!(
            fits_limits(&available, &Amounts::units(4)),
            Err((Dimension::Units, 3))
        );
    }
}
