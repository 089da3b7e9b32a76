//! Row encoding shared by the SQL backends: JSON columns and amount columns.

use exportgate_ledger::engine::Outcome;
use exportgate_ledger::{
    Account, AccountId, AccountSpec, AccountStatus, Amounts, Key, Reply, StoreError, Transfer,
    TransferState,
};

pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub fn to_i64(n: u64) -> i64 {
    // INVARIANT (amount-max): every amount is <= AMOUNT_MAX = i64::MAX, checked by the engine.
    i64::try_from(n).expect("amounts are at most i64::MAX")
}

pub fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| corrupt(format!("negative amount {n} in the database")))
}

pub fn amounts(units: i64, value: i64, tpp: i64) -> Result<Amounts, StoreError> {
    Ok(Amounts {
        units: to_u64(units)?,
        value: to_u64(value)?,
        tpp: to_u64(tpp)?,
    })
}

pub fn limit(n: Option<u64>) -> Option<i64> {
    n.map(to_i64)
}

/// Account columns: spec JSON, status, posted (3), pending (3); the account's invariants
/// checked.
pub fn account(
    spec: &str,
    status: &str,
    posted: [i64; 3],
    pending: [i64; 3],
) -> Result<Account, StoreError> {
    let account = account_unchecked(spec, status, posted, pending)?;
    // INVARIANT: checked after every load, reads included (a balance edited past its limit in
    // the database is an error, never shown or used).
    exportgate_ledger::engine::check_account(&account)?;
    Ok(account)
}

/// Account columns decoded without checking the invariants (for the audit, which reports
/// them).
pub fn account_unchecked(
    spec: &str,
    status: &str,
    posted: [i64; 3],
    pending: [i64; 3],
) -> Result<Account, StoreError> {
    let spec: AccountSpec =
        serde_json::from_str(spec).map_err(|e| corrupt(format!("account spec: {e}")))?;
    let status = AccountStatus::parse(status)
        .ok_or_else(|| corrupt(format!("account status `{status}`")))?;
    Ok(Account {
        spec,
        status,
        posted: amounts(posted[0], posted[1], posted[2])?,
        pending: amounts(pending[0], pending[1], pending[2])?,
    })
}

pub fn spec_json(spec: &AccountSpec) -> String {
    serde_json::to_string(spec).expect("specs serialise")
}

pub fn accounts_json(accounts: &[AccountId]) -> String {
    serde_json::to_string(accounts).expect("ids serialise")
}

#[allow(clippy::too_many_arguments)]
pub fn transfer(
    key: String,
    accounts: &str,
    units: i64,
    value: i64,
    tpp: i64,
    state: &str,
    reserved_at: i64,
    resolved_at: Option<i64>,
) -> Result<Transfer, StoreError> {
    Ok(Transfer {
        key: Key::new(key).map_err(corrupt)?,
        accounts: serde_json::from_str(accounts)
            .map_err(|e| corrupt(format!("transfer accounts: {e}")))?,
        amounts: amounts(units, value, tpp)?,
        state: TransferState::parse(state)
            .ok_or_else(|| corrupt(format!("transfer state `{state}`")))?,
        reserved_at: exportgate_ledger::Timestamp::from_micros(reserved_at),
        resolved_at: resolved_at.map(exportgate_ledger::Timestamp::from_micros),
    })
}

pub fn outcome(fingerprint: String, reply: &str) -> Result<Outcome, StoreError> {
    let reply: Reply = serde_json::from_str(reply).map_err(|e| corrupt(format!("reply: {e}")))?;
    Ok(Outcome { fingerprint, reply })
}

pub fn reply_json(reply: &Reply) -> String {
    serde_json::to_string(reply).expect("replies serialise")
}
