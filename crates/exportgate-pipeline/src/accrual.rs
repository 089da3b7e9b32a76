//! Revenue-share accruals read back from the ledger (issue 21): per licence and calendar
//! quarter, with the orders behind each amount. `ship` writes them ([`crate::ship`]: the share
//! is reserved-and-posted on the licence's quarter account in the same transaction as the
//! draw); `exportgate licences show`, `exportgate report revenue-share` and
//! `GET /v1/reports/revenue-share` read them through here.
//!
//! Every amount is the ledger's: the report is built from the accrual accounts' balances and
//! transfers, and the order values from the draws on the licence with the same order's key.

use std::collections::HashMap;

use exportgate_ledger::{
    accrual_account, LedgerStore, Licence, Quarter, StoreError, Transfer, TransferState,
    ACCRUAL_CURRENCY,
};
use serde::Serialize;

use crate::licensing::order_key;

/// One order's share in a quarter's accrual.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccruedOrder {
    /// The order id (from the ledger key `ship:<order id>:revenue-share:<licence>`).
    pub order_id: String,
    /// The ledger key of the accrual transfer.
    pub key: String,
    /// When it was accrued (the order's ledger time).
    pub at: String,
    /// The order's value in cents, as drawn on the licence (absent if the licence draw has no
    /// value, which `ship` never records).
    pub value_cents: Option<u64>,
    pub share_cents: u64,
}

/// One licence's accrual in one quarter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LicenceAccrual {
    pub licence: String,
    pub holder: String,
    pub percent: u32,
    pub quarter: String,
    /// The ledger account holding it.
    pub account: String,
    pub currency: &'static str,
    /// The account's posted value: the sum of `orders[].share_cents`.
    pub accrued_cents: u64,
    pub orders: Vec<AccruedOrder>,
}

/// Every revenue-share accrual of one quarter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RevenueShareReport {
    pub quarter: String,
    pub currency: &'static str,
    pub total_cents: u64,
    pub licences: Vec<LicenceAccrual>,
}

/// Cents as `1,234.56`.
pub fn money(cents: u64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", cents % 100)
}

fn order_id_of(key: &str, licence: &str) -> String {
    key.strip_prefix("ship:")
        .and_then(|k| k.strip_suffix(&format!(":revenue-share:{licence}")))
        .unwrap_or(key)
        .to_owned()
}

/// Licence `licence`'s accrual in `quarter`, with its orders; `None` when nothing accrued
/// (no account yet). `licence_draws` maps the licence's transfer keys to their value.
fn accrual(
    store: &mut dyn LedgerStore,
    licence: &Licence,
    percent: u32,
    quarter: Quarter,
    licence_draws: &HashMap<String, u64>,
) -> Result<Option<LicenceAccrual>, StoreError> {
    let id = accrual_account(&licence.number, quarter);
    let Some((balance, history)) = store.account_history(&id)? else {
        return Ok(None);
    };
    let orders = history
        .iter()
        .filter(|t: &&Transfer| t.state == TransferState::Posted)
        .map(|t| {
            let order_id = order_id_of(t.key.as_str(), &licence.number);
            let draw = order_key(&order_id, &format!("licence:{}", licence.number));
            AccruedOrder {
                value_cents: licence_draws.get(draw.as_str()).copied(),
                key: t.key.to_string(),
                at: t.reserved_at.to_string(),
                share_cents: t.amounts.value,
                order_id,
            }
        })
        .collect();
    Ok(Some(LicenceAccrual {
        licence: licence.number.clone(),
        holder: licence.holder.clone(),
        percent,
        quarter: quarter.to_string(),
        account: id.to_string(),
        currency: ACCRUAL_CURRENCY,
        accrued_cents: balance.posted.value,
        orders,
    }))
}

fn licence_draws(
    store: &mut dyn LedgerStore,
    licence: &Licence,
) -> Result<HashMap<String, u64>, StoreError> {
    Ok(store
        .account_history(&licence.account_id())?
        .map(|(_, history)| {
            history
                .into_iter()
                .map(|t| (t.key.to_string(), t.amounts.value))
                .collect()
        })
        .unwrap_or_default())
}

/// Every quarter's accrual of one licence (quarters with nothing accrued left out), oldest
/// first; empty for a licence without a revenue-share condition.
pub fn licence_accruals(
    store: &mut dyn LedgerStore,
    licence: &Licence,
) -> Result<Vec<LicenceAccrual>, StoreError> {
    let Some(percent) = licence.revenue_share_percent() else {
        return Ok(Vec::new());
    };
    let draws = licence_draws(store, licence)?;
    let mut out = Vec::new();
    for q in Quarter::span(licence.valid_from, licence.valid_to) {
        out.extend(accrual(store, licence, percent, q, &draws)?);
    }
    Ok(out)
}

/// The revenue-share report of `quarter`: every licence's accrual, by licence number, with
/// the orders behind each amount and the total.
pub fn revenue_share_report(
    store: &mut dyn LedgerStore,
    quarter: Quarter,
) -> Result<RevenueShareReport, StoreError> {
    let mut licences = Vec::new();
    for licence in store.list_licences()? {
        let Some(percent) = licence.revenue_share_percent() else {
            continue;
        };
        if licence.valid_to < quarter.first_day() || licence.valid_from > quarter.last_day() {
            continue;
        }
        let draws = licence_draws(store, &licence)?;
        licences.extend(accrual(store, &licence, percent, quarter, &draws)?);
    }
    licences.sort_by(|a, b| a.licence.cmp(&b.licence));
    let total_cents = licences.iter().map(|l| l.accrued_cents).sum();
    Ok(RevenueShareReport {
        quarter: quarter.to_string(),
        currency: ACCRUAL_CURRENCY,
        total_cents,
        licences,
    })
}

/// The report as CSV (both doors' `format=csv`): one row per order, with the licence's
/// total on each row.
pub fn csv_text(report: &RevenueShareReport) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "quarter",
        "licence",
        "holder",
        "percent",
        "currency",
        "order_id",
        "value_cents",
        "share_cents",
        "accrued_at",
        "licence_accrued_cents",
    ])?;
    for l in &report.licences {
        for o in &l.orders {
            w.write_record([
                report.quarter.clone(),
                l.licence.clone(),
                l.holder.clone(),
                l.percent.to_string(),
                l.currency.to_string(),
                o.order_id.clone(),
                o.value_cents.map(|v| v.to_string()).unwrap_or_default(),
                o.share_cents.to_string(),
                o.at.clone(),
                l.accrued_cents.to_string(),
            ])?;
        }
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(0), "0.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(123_456_789), "1,234,567.89");
        assert_eq!(money(100_000), "1,000.00");
        assert_eq!(order_id_of("ship:o-1:revenue-share:D1", "D1"), "o-1");
    }
}
