//! The US-bound reference flow of volume caps (issue 21 item 2; the model is in
//! `exportgate_ledger::flow`): recording shipments made outside exportgate (`exportgate flows
//! add`, `POST /v1/flows`), reading the flows back (`flows list`, `GET /v1/flows`), and the
//! helpers `ship` and `check` share to name the product and the capped shipments.
//!
//! A product is a catalog chip id. `ship` of an order to the US credits the product's flow
//! itself (key `ship:<order id>:us-flow`); `flows add` credits it under `flow:<reference>`,
//! so recording the same reference again changes nothing.

use exportgate_core::{Decision, Outcome, Ruleset};
use exportgate_ledger::{
    reference_flow_account, AccountSpec, Amounts, Key, LedgerStore, Reply, Request, ResultCode,
    StoreError, Timestamp, REFERENCE_DESTINATION,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The rule id of a reason about the reference flow or the volume cap.
pub const FLOW_RULE: &str = "licence.volume_cap";
/// What the volume cap rests on: 91 FR 1684's condition that China-bound shipments stay
/// within 50% of the same product shipped to US end users (the 50% is [S] in the reference).
pub const FLOW_CITATION: &str = "91 FR 1684";

/// The product a volume cap counts an order under: its catalog chip id, if it names one.
pub fn product(d: &Decision) -> Option<&str> {
    d.chip.as_deref()
}

/// Whether `ship` credits this decided order to its product's US-bound reference flow: it goes
/// to the US, names a catalog chip and ships (no licence needed, or an exception).
pub fn credits_flow(d: &Decision) -> bool {
    d.destination == REFERENCE_DESTINATION
        && product(d).is_some()
        && d.quantity > 0
        && matches!(
            d.outcome,
            Outcome::NoLicenseRequired | Outcome::LicenseException
        )
}

/// How capped shipments to `destination` are named in a refusal: `China-bound`.
pub fn bound(rs: &Ruleset, destination: &str) -> String {
    let name = rs
        .countries
        .get(destination)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| destination.to_owned());
    format!("{name}-bound")
}

/// One recorded flow: a shipment to US end users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowEntry {
    /// The ledger key: `flow:<reference>` (`flows add`) or `ship:<order id>:us-flow` (`ship`).
    pub key: String,
    pub units: u64,
    /// The ledger time (the shipment's date).
    pub at: String,
}

/// A product's reference flow and what capped licences have drawn of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProductFlow {
    pub product: String,
    pub destination: &'static str,
    /// Units shipped to US end users, recorded so far.
    pub us_units: u64,
    /// Units drawn under licences with a `volume_cap_percent` condition.
    pub capped_units: u64,
    pub shipments: Vec<FlowEntry>,
}

/// What `flows add` recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub product: String,
    pub units: u64,
    pub key: String,
    /// True when the reference was recorded before (nothing added).
    pub replayed: bool,
    /// The product's US-bound units after it.
    pub us_units: u64,
}

/// Why a flow could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// Bad input, naming the field.
    #[error("`{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("ledger: {0}")]
    Ledger(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> FlowError {
    FlowError::Invalid {
        field,
        message: message.into(),
    }
}

/// The catalog chip id `product` names (any case), or an error naming `product`.
pub fn catalog_product(rs: &Ruleset, product: &str) -> Result<String, FlowError> {
    let lower = product.trim().to_ascii_lowercase();
    match rs.catalog.get(&lower) {
        Some(e) => Ok(e.id.clone()),
        None => Err(invalid(
            "product",
            format!(
                "`{product}` is not a catalog chip id (see `exportgate chips`; nearest: {})",
                rs.catalog.nearest(&lower, 3).join(", ")
            ),
        )),
    }
}

/// The key of a flow recorded by reference: `flow:<reference>`, or with the reference's
/// SHA-256 when it is too long or has control characters.
pub fn flow_key(reference: &str) -> Key {
    Key::new(format!("flow:{reference}")).unwrap_or_else(|_| {
        let hash = hex::encode(Sha256::digest(reference.as_bytes()));
        Key::new(format!("flow:sha256-{hash}")).expect("a short key")
    })
}

/// Records `units` of `product` shipped to US end users at `at`, outside exportgate, under
/// `reference` (the same reference again replays and adds nothing). One ledger transaction.
pub fn record(
    rs: &Ruleset,
    store: &mut dyn LedgerStore,
    product: &str,
    units: u64,
    reference: &str,
    actor: &str,
    at: Timestamp,
) -> Result<Recorded, FlowError> {
    let product = catalog_product(rs, product)?;
    if units == 0 || units > exportgate_ledger::AMOUNT_MAX {
        return Err(invalid("units", "must be a positive whole number"));
    }
    let reference = reference.trim();
    if reference.is_empty() {
        return Err(invalid("reference", "must not be empty"));
    }
    let spec = AccountSpec::reference_flow(&product);
    store.ensure_account(&spec, actor, at)?;
    let key = flow_key(reference);
    let replies: Vec<Reply> = store.submit(
        actor,
        &[Request::ReserveAndPost {
            key: key.clone(),
            accounts: vec![spec.id.clone()],
            amounts: Amounts {
                units,
                ..Amounts::ZERO
            },
            at,
        }],
    )?;
    let reply = replies.into_iter().next();
    match reply {
        Some(r) if r.is_ok() => {
            let us_units = store.balance(&spec.id)?.map(|b| b.posted.units).unwrap_or(0);
            Ok(Recorded {
                product,
                units,
                key: key.to_string(),
                replayed: r.replayed,
                us_units,
            })
        }
        Some(r) if r.code == ResultCode::IdempotencyKeyReusedWithDifferentRequest => Err(invalid(
            "reference",
            format!(
                "`{reference}` was recorded before with another product, number of units or account; give a new reference"
            ),
        )),
        Some(r) => Err(invalid(
            "units",
            format!("the ledger refused the flow: `{}`", r.code),
        )),
        None => Err(invalid("units", "the ledger gave no reply")),
    }
}

/// A capped licence's cap for one of its products, as the ledger has it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapStatus {
    pub product: String,
    pub percent: u32,
    /// Units shipped to US end users, recorded so far.
    pub us_units: u64,
    /// The most capped units that flow allows (rounded down).
    pub cap_units: u64,
    /// Units of the product drawn under every capped licence.
    pub capped_units: u64,
    /// What may still be drawn under the cap.
    pub left_units: u64,
}

/// The volume cap of `licence` per product it lists (catalog chip ids; an ECCN item names no
/// product), or nothing when it carries no `volume_cap_percent` condition.
pub fn licence_caps(
    rs: &Ruleset,
    store: &mut dyn LedgerStore,
    licence: &exportgate_ledger::Licence,
) -> Result<Vec<CapStatus>, StoreError> {
    let Some(percent) = licence.volume_cap_percent() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in &licence.items {
        let Some(entry) = rs.catalog.get(&item.to_ascii_lowercase()) else {
            continue;
        };
        let units = |b: Option<exportgate_ledger::Balance>| {
            b.map(|b| b.posted.units.saturating_add(b.pending.units))
                .unwrap_or(0)
        };
        let us_units = units(store.balance(&reference_flow_account(&entry.id))?);
        let capped_units =
            units(store.balance(&exportgate_ledger::capped_draws_account(&entry.id))?);
        let cap_units = exportgate_ledger::cap_units(us_units, percent);
        out.push(CapStatus {
            product: entry.id.clone(),
            percent,
            us_units,
            cap_units,
            capped_units,
            left_units: cap_units.saturating_sub(capped_units),
        });
    }
    Ok(out)
}

/// Every catalog product with a recorded US-bound flow or capped draws, by product id.
pub fn list(rs: &Ruleset, store: &mut dyn LedgerStore) -> Result<Vec<ProductFlow>, StoreError> {
    let mut ids: Vec<&str> = rs.catalog.entries().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    let mut out = Vec::new();
    for product in ids {
        let flow = store.account_history(&reference_flow_account(product))?;
        let capped = store
            .balance(&exportgate_ledger::capped_draws_account(product))?
            .map(|b| b.posted.units.saturating_add(b.pending.units));
        if flow.is_none() && capped.is_none() {
            continue;
        }
        let (us_units, shipments) = match flow {
            Some((b, transfers)) => (
                b.posted.units,
                transfers
                    .into_iter()
                    .map(|t| FlowEntry {
                        key: t.key.to_string(),
                        units: t.amounts.units,
                        at: t.reserved_at.to_string(),
                    })
                    .collect(),
            ),
            None => (0, Vec::new()),
        };
        out.push(ProductFlow {
            product: product.to_owned(),
            destination: REFERENCE_DESTINATION,
            us_units,
            capped_units: capped.unwrap_or(0),
            shipments,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use exportgate_ledger::MemoryStore;

    #[test]
    fn a_flow_is_recorded_once_per_reference() {
        let rs = Ruleset::embedded().unwrap();
        let mut store = MemoryStore::new();
        let at = Timestamp::start_of(chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        let r = record(&rs, &mut store, "NVIDIA-H200", 10_000, "inv-1", "t", at).unwrap();
        assert_eq!(
            (r.product.as_str(), r.us_units, r.replayed),
            ("nvidia-h200", 10_000, false)
        );
        let again = record(&rs, &mut store, "nvidia-h200", 10_000, "inv-1", "t", at).unwrap();
        assert!(again.replayed);
        assert_eq!(again.us_units, 10_000);
        let more = record(&rs, &mut store, "nvidia-h200", 500, "inv-2", "t", at).unwrap();
        assert_eq!(more.us_units, 10_500);
        let e = record(&rs, &mut store, "nvidia-h200", 7, "inv-1", "t", at).unwrap_err();
        assert!(e.to_string().starts_with("`reference`"), "{e}");
        let e = record(&rs, &mut store, "acme-x9", 7, "inv-3", "t", at).unwrap_err();
        assert!(e.to_string().starts_with("`product`"), "{e}");
        let e = record(&rs, &mut store, "nvidia-h200", 0, "inv-3", "t", at).unwrap_err();
        assert!(e.to_string().starts_with("`units`"), "{e}");
        let flows = list(&rs, &mut store).unwrap();
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].us_units, 10_500);
        assert_eq!(flows[0].shipments.len(), 2);
    }
}
