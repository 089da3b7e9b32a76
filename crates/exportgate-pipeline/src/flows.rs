//! The US-bound reference flow of volume caps (issue 21 item 2; the model is in
//! `exportgate_ledger::flow`): recording shipments made outside exportgate (`exportgate flows
//! add`, `POST /v1/flows`), reading the flows back (`flows list`, `GET /v1/flows`), the
//! helpers `ship` and `check` share to name the product and the capped shipments, and
//! [`CapStep`]/[`CapTally`]: the caps replayed over a book without writing (the simulator),
//! the draws checked with the ledger's `volume_cap` as `ship` checks them.
//!
//! A product is a catalog chip id. `ship` of an order to the US credits the product's flow
//! itself (key `ship:<order id>:us-flow`); `flows add` credits it under `flow:<reference>`,
//! so recording the same reference again changes nothing.

use crate::licensing::Licensing;
use exportgate_core::{Decision, Order, Outcome, Ruleset};
use exportgate_ledger::{
    reference_flow_account, volume_cap, AccountSpec, Amounts, Key, LedgerStore, Reply, Request,
    ResultCode, StoreError, Timestamp, REFERENCE_DESTINATION,
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

/// What a decided order does to volume caps when a book is replayed without writing (the
/// simulator): found from the decision and the licences alone, applied in book order by
/// [`CapTally::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapStep {
    /// Nothing: no capped licence covers it and it credits no flow.
    None,
    /// An order to the US that ships: `ship` would credit its product's reference flow.
    Credit { product: String, units: u64 },
    /// An order that needs a licence and that a capped licence covers: the licences `ship`
    /// would try in its order (each with its cap, if any), up to the first without one.
    Capped {
        product: Option<String>,
        units: u64,
        /// How the capped shipments are named in a refusal (`China-bound`).
        bound: String,
        licences: Vec<(String, Option<u32>)>,
    },
}

impl CapStep {
    /// The step of decision `d` of `order` under `licensing`'s licences. An order due
    /// diligence holds, or one that would be held for its value, draws on no licence.
    pub fn of(rs: &Ruleset, licensing: &Licensing, order: &Order, d: &Decision) -> CapStep {
        if credits_flow(d) {
            let product = product(d).unwrap_or_default().to_owned();
            return CapStep::Credit {
                product,
                units: d.quantity,
            };
        }
        if d.outcome != Outcome::LicenseRequired || crate::licensing::due_diligence_holds(d) {
            return CapStep::None;
        }
        let f = crate::licensing::facts(order, d);
        let mut licences = Vec::new();
        for l in licensing.covering(&f) {
            if crate::licensing::needs_value(order, l) {
                break;
            }
            let percent = l.volume_cap_percent();
            licences.push((l.number.clone(), percent));
            if percent.is_none() {
                break;
            }
        }
        if !licences.iter().any(|(_, p)| p.is_some()) {
            return CapStep::None;
        }
        CapStep::Capped {
            product: product(d).map(str::to_owned),
            units: crate::licensing::licence_amounts(&f, d).units,
            bound: bound(rs, &d.destination),
            licences,
        }
    }
}

/// What [`CapTally::apply`] found for a [`CapStep::Capped`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapResult {
    /// Drawn under the capped licence numbered so, within its cap.
    Drawn(String),
    /// Left to the licence numbered so, which carries no cap (the capped ones before it refused).
    Uncapped(String),
    /// Every licence refused it for its cap: by licence, the refusal as `ship` words it.
    Refused(Vec<(String, String)>),
}

/// A product's volume-cap figures in a replay: as read from the ledger and as the book left them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CapFigures {
    pub product: String,
    /// US-bound units recorded in the ledger when it was read.
    pub us_units_recorded: u64,
    /// US-bound units the book's orders to the US would add.
    pub us_units_book: u64,
    /// Capped units drawn in the ledger when it was read.
    pub capped_units_recorded: u64,
    /// Capped units the book's orders would draw.
    pub capped_units_book: u64,
}

/// Volume caps replayed without writing: the ledger's `us-flow:<product>` and
/// `capped-draws:<product>` balances read once, then what a book's orders would credit and
/// draw, in book order. A draw is checked with the ledger's [`exportgate_ledger::volume_cap`],
/// the function `ship` checks in its transaction.
#[derive(Clone, Debug, Default)]
pub struct CapTally {
    by_product: std::collections::BTreeMap<String, CapFigures>,
}

impl CapTally {
    /// Reads the balances (posted plus pending units) of every catalog product, when a licence
    /// of `licensing` carries a volume cap (a licence may list an ECCN, which caps each chip
    /// of it as its own product); nothing otherwise.
    pub fn read(
        rs: &Ruleset,
        licensing: &Licensing,
        store: &mut dyn LedgerStore,
    ) -> Result<CapTally, StoreError> {
        let mut by_product = std::collections::BTreeMap::new();
        if !licensing
            .licences()
            .iter()
            .any(|l| l.volume_cap_percent().is_some())
        {
            return Ok(CapTally { by_product });
        }
        let mut units = |id| -> Result<u64, StoreError> {
            Ok(store
                .balance(&id)?
                .map(|b| b.posted.units.saturating_add(b.pending.units))
                .unwrap_or(0))
        };
        for entry in rs.catalog.entries() {
            let figures = CapFigures {
                product: entry.id.clone(),
                us_units_recorded: units(reference_flow_account(&entry.id))?,
                capped_units_recorded: units(exportgate_ledger::capped_draws_account(&entry.id))?,
                ..CapFigures::default()
            };
            by_product.insert(entry.id.clone(), figures);
        }
        Ok(CapTally { by_product })
    }

    /// Whether any licence carries a volume cap (there is anything to apply).
    pub fn is_empty(&self) -> bool {
        self.by_product.is_empty()
    }

    /// Applies one order's step, in book order: a US-bound order credits its product's flow
    /// ; a capped order is drawn under the
    /// first licence whose cap holds after it. `None` for any other step.
    pub fn apply(&mut self, step: &CapStep) -> Option<CapResult> {
        match step {
            CapStep::None => None,
            CapStep::Credit { product, units } => {
                let f = self.entry(product);
                f.us_units_book = f.us_units_book.saturating_add(*units);
                None
            }
            CapStep::Capped {
                product,
                units,
                bound,
                licences,
            } => Some(self.draw(product.as_deref(), *units, bound, licences)),
        }
    }

    fn entry(&mut self, product: &str) -> &mut CapFigures {
        self.by_product
            .entry(product.to_owned())
            .or_insert_with(|| CapFigures {
                product: product.to_owned(),
                ..CapFigures::default()
            })
    }

    fn draw(
        &mut self,
        product: Option<&str>,
        units: u64,
        bound: &str,
        licences: &[(String, Option<u32>)],
    ) -> CapResult {
        let mut refused = Vec::new();
        for (number, percent) in licences {
            let Some(percent) = *percent else {
                return CapResult::Uncapped(number.clone());
            };
            let Some(product) = product else {
                refused.push((
                    number.clone(),
                    format!("carries a {percent}% volume cap, and the order names no catalog chip, so the product whose US-bound shipments cap it is unknown"),
                ));
                continue;
            };
            let f = self.entry(product);
            let flow = f.us_units_recorded.saturating_add(f.us_units_book);
            let drawn = f.capped_units_recorded.saturating_add(f.capped_units_book);
            match volume_cap(bound, drawn, units, flow, percent) {
                Ok(()) => {
                    f.capped_units_book = f.capped_units_book.saturating_add(units);
                    return CapResult::Drawn(number.clone());
                }
                Err(e) => refused.push((number.clone(), e.to_string())),
            }
        }
        CapResult::Refused(refused)
    }

    /// The figures of every product with anything recorded or replayed, by product id.
    pub fn figures(&self) -> impl Iterator<Item = &CapFigures> {
        self.by_product.values().filter(|f| {
            f.us_units_recorded > 0
                || f.us_units_book > 0
                || f.capped_units_recorded > 0
                || f.capped_units_book > 0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exportgate_ledger::MemoryStore;

    /// The replayed tally: capped draws in book order against the flow recorded plus the
    /// book's US orders, refused in `ship`'s words; a licence without a cap takes the order.
    #[test]
    fn a_replayed_tally_counts_the_books_us_orders_and_draws() {
        let mut t = CapTally::default();
        let capped = |units, licences: Vec<(&str, Option<u32>)>| CapStep::Capped {
            product: Some("nvidia-h200".into()),
            units,
            bound: "China-bound".into(),
            licences: licences
                .into_iter()
                .map(|(n, p)| (n.to_owned(), p))
                .collect(),
        };
        let credit = CapStep::Credit {
            product: "nvidia-h200".into(),
            units: 10_000,
        };
        assert_eq!(
            t.apply(&capped(1, vec![("A", Some(50))])),
            Some(CapResult::Refused(vec![(
                "A".into(),
                "exceeds_limit: China-bound 1 would pass 50% of US-bound 0".into()
            )]))
        );
        assert_eq!(t.apply(&credit), None);
        assert_eq!(
            t.apply(&capped(5_000, vec![("A", Some(50))])),
            Some(CapResult::Drawn("A".into()))
        );
        assert_eq!(
            t.apply(&capped(100, vec![("A", Some(50)), ("B", None)])),
            Some(CapResult::Uncapped("B".into()))
        );
        let f: Vec<&CapFigures> = t.figures().collect();
        assert_eq!(
            (f[0].us_units_book, f[0].capped_units_book),
            (10_000, 5_000)
        );
        assert_eq!(t.apply(&CapStep::None), None);
    }

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
