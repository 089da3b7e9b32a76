//! Volume caps against a reference flow (issue 21 item 2): a licence condition
//! `volume_cap_percent` limits what may be drawn under it to a share of what the exporter
//! shipped of the same product to US end users.
//!
//! **Product** is the catalog chip id (`nvidia-h200`), the one the order's decision names
//! (`decision.chip`): 91 FR 1684 compares shipments "of the same product" [S], and an
//! ECCN-level class would pool different chips. An order given by parameters alone has no
//! product, so a capped licence is never drawn for it (fail closed).
//!
//! Two ordinary ledger accounts per product carry the arithmetic, so replays, reconciliation
//! and crash safety are the ledger's own:
//! * the **reference flow** `us-flow:<product>` ([`AccountKind::ReferenceFlow`]): units shipped
//!   to US end users, credited (reserve-and-post) by `ship` of an order to the US and by
//!   `flows add` for shipments made outside exportgate, each under an idempotency key;
//! * the **capped draws** `capped-draws:<product>` ([`AccountKind::CappedDraws`]): units drawn
//!   under every licence that carries a `volume_cap_percent` condition for the product; the
//!   draw names it beside the licence's account in one all-or-nothing transfer.
//!
//! Both accounts' only limit is [`AMOUNT_MAX`] units: the cap is relative, not a fixed limit.
//! `ship` checks it with [`volume_cap`] from the two balances as they stand inside the
//! group's writing transaction (writers are serialised, so no other shipper can draw between
//! the check and the write) — the same `ship_group` step in which the licence's own limits are
//! checked. The cap counts the reference flow recorded so far ("to date" is the ledger's
//! present, not the order's date), and every capped licence's draws of the product together:
//! the rule limits the exporter's China-bound shipments of the product, not one licence's.

use crate::account::{AccountId, AccountKind, AccountSpec};
use crate::amount::{Limits, AMOUNT_MAX};
use std::fmt;

/// The destination of the reference flow: shipments to end users in the United States.
pub const REFERENCE_DESTINATION: &str = "US";

/// The reference-flow account of `product` (a catalog chip id).
pub fn reference_flow_account(product: &str) -> AccountId {
    AccountId::new(format!("us-flow:{product}"))
        .unwrap_or_else(|_| AccountId::new("us-flow:?").expect("a short id"))
}

/// The account counting capped draws of `product`.
pub fn capped_draws_account(product: &str) -> AccountId {
    AccountId::new(format!("capped-draws:{product}"))
        .unwrap_or_else(|_| AccountId::new("capped-draws:?").expect("a short id"))
}

fn uncapped(id: AccountId, kind: AccountKind) -> AccountSpec {
    AccountSpec {
        id,
        kind,
        limits: Limits {
            units: Some(AMOUNT_MAX),
            ..Limits::default()
        },
        valid_from: None,
        valid_to: None,
    }
}

impl AccountSpec {
    /// The reference flow of `product`: units shipped to US end users.
    pub fn reference_flow(product: &str) -> AccountSpec {
        uncapped(
            reference_flow_account(product),
            AccountKind::ReferenceFlow {
                product: product.to_owned(),
                destination: REFERENCE_DESTINATION.to_owned(),
            },
        )
    }

    /// The units of `product` drawn under licences with a `volume_cap_percent` condition.
    pub fn capped_draws(product: &str) -> AccountSpec {
        uncapped(
            capped_draws_account(product),
            AccountKind::CappedDraws {
                product: product.to_owned(),
            },
        )
    }
}

/// A draw that would pass the cap, with the numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapExceeded {
    /// How the capped shipments are named: `China-bound`.
    pub bound: String,
    /// Capped units drawn so far plus this draw.
    pub after: u64,
    pub percent: u32,
    /// The reference flow (US-bound units).
    pub flow: u64,
}

impl fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exceeds_limit: {} {} would pass {}% of US-bound {}",
            self.bound,
            grouped(self.after),
            self.percent,
            grouped(self.flow)
        )
    }
}

/// The most capped units `flow` US-bound units allow at `percent`, rounded down (never
/// over-stated).
pub fn cap_units(flow: u64, percent: u32) -> u64 {
    (u128::from(flow) * u128::from(percent) / 100) as u64
}

/// Whether drawing `units` more, with `drawn` capped units drawn so far, stays within
/// `percent`% of the reference flow `flow`. `bound` names the capped shipments in the refusal.
pub fn volume_cap(
    bound: &str,
    drawn: u64,
    units: u64,
    flow: u64,
    percent: u32,
) -> Result<(), CapExceeded> {
    let after = drawn.saturating_add(units);
    if after <= cap_units(flow, percent) {
        Ok(())
    } else {
        Err(CapExceeded {
            bound: bound.to_owned(),
            after,
            percent,
            flow,
        })
    }
}

/// `10000` as `10,000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_half_the_flow_rounded_down() {
        assert_eq!(cap_units(10_000, 50), 5_000);
        assert_eq!(cap_units(3, 50), 1);
        assert_eq!(cap_units(0, 50), 0);
        assert_eq!(cap_units(AMOUNT_MAX, 100), AMOUNT_MAX);
        assert!(volume_cap("China-bound", 4_900, 100, 10_000, 50).is_ok());
        let e = volume_cap("China-bound", 5_000, 100, 10_000, 50).unwrap_err();
        assert_eq!(
            e.to_string(),
            "exceeds_limit: China-bound 5,100 would pass 50% of US-bound 10,000"
        );
        // Nothing recorded to the US: nothing may be drawn.
        assert!(volume_cap("China-bound", 0, 1, 0, 50).is_err());
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn accounts() {
        let f = AccountSpec::reference_flow("nvidia-h200");
        assert_eq!(f.id.as_str(), "us-flow:nvidia-h200");
        f.validate().unwrap();
        let c = AccountSpec::capped_draws("nvidia-h200");
        assert_eq!(c.id.as_str(), "capped-draws:nvidia-h200");
        c.validate().unwrap();
    }
}
