//! Requests, replies and the exhaustive set of result codes.
//!
//! Requests are modelled on TigerBeetle's two-phase transfers: [`Request::Reserve`] creates a
//! pending transfer, which is later [`Request::Post`]ed, [`Request::Void`]ed or
//! [`Request::Expire`]d; [`Request::ReserveAndPost`] does both at once. Every request carries a
//! client-chosen idempotency [`Key`]. The client should choose and store the key *before*
//! submitting and reuse it on retry: a replayed key returns the original reply (with
//! `replayed: true`) and changes nothing.
//!
//! The time `at` is *not* part of a request's identity: a retry made later with the same key and
//! otherwise equal fields is a replay.

use crate::account::AccountId;
use crate::amount::Amounts;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest idempotency key accepted, in bytes.
pub const KEY_LENGTH_MAX: usize = 200;
/// Most accounts one transfer may draw on (e.g. a licence plus a country allocation).
pub const ACCOUNTS_PER_TRANSFER_MAX: usize = 4;
/// Most requests in one [`crate::LedgerStore::submit`] batch.
pub const BATCH_SIZE_MAX: usize = 8_192;

/// A client-chosen idempotency key; also the id of the transfer a reserve creates.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(String);

/// Why a string is not a key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid idempotency key `{0}`: must be 1 to 200 bytes without control characters")]
pub struct InvalidKey(String);

impl Key {
    /// A validated key.
    pub fn new(key: impl Into<String>) -> Result<Key, InvalidKey> {
        let key = key.into();
        if key.is_empty() || key.len() > KEY_LENGTH_MAX || key.chars().any(char::is_control) {
            return Err(InvalidKey(key));
        }
        Ok(Key(key))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Key {
    type Error = InvalidKey;
    fn try_from(key: String) -> Result<Key, InvalidKey> {
        Key::new(key)
    }
}

impl From<Key> for String {
    fn from(key: Key) -> String {
        key.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One ledger operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Reserve `amounts` on every account in `accounts` (all or none): a pending transfer with id `key`.
    Reserve {
        key: Key,
        accounts: Vec<AccountId>,
        amounts: Amounts,
        at: Timestamp,
    },
    /// Reserve and post at once: a posted transfer with id `key`.
    ReserveAndPost {
        key: Key,
        accounts: Vec<AccountId>,
        amounts: Amounts,
        at: Timestamp,
    },
    /// Post the whole of pending transfer `pending`.
    Post {
        key: Key,
        pending: Key,
        at: Timestamp,
    },
    /// Release pending transfer `pending`.
    Void {
        key: Key,
        pending: Key,
        at: Timestamp,
    },
    /// Release pending transfer `pending` because it is at least `timeout_seconds` old at `at`.
    Expire {
        key: Key,
        pending: Key,
        timeout_seconds: u64,
        at: Timestamp,
    },
}

impl Request {
    /// The idempotency key.
    pub fn key(&self) -> &Key {
        match self {
            Request::Reserve { key, .. }
            | Request::ReserveAndPost { key, .. }
            | Request::Post { key, .. }
            | Request::Void { key, .. }
            | Request::Expire { key, .. } => key,
        }
    }

    /// The caller-given time.
    pub fn at(&self) -> Timestamp {
        match self {
            Request::Reserve { at, .. }
            | Request::ReserveAndPost { at, .. }
            | Request::Post { at, .. }
            | Request::Void { at, .. }
            | Request::Expire { at, .. } => *at,
        }
    }

    /// The pending transfer this request resolves, if any.
    pub fn pending(&self) -> Option<&Key> {
        match self {
            Request::Post { pending, .. }
            | Request::Void { pending, .. }
            | Request::Expire { pending, .. } => Some(pending),
            Request::Reserve { .. } | Request::ReserveAndPost { .. } => None,
        }
    }

    /// The accounts this request draws on directly (reserves only).
    pub fn accounts(&self) -> &[AccountId] {
        match self {
            Request::Reserve { accounts, .. } | Request::ReserveAndPost { accounts, .. } => {
                accounts
            }
            Request::Post { .. } | Request::Void { .. } | Request::Expire { .. } => &[],
        }
    }

    /// The operation's name as in JSON (`reserve`, `reserve_and_post`, ...).
    pub fn op_name(&self) -> &'static str {
        match self {
            Request::Reserve { .. } => "reserve",
            Request::ReserveAndPost { .. } => "reserve_and_post",
            Request::Post { .. } => "post",
            Request::Void { .. } => "void",
            Request::Expire { .. } => "expire",
        }
    }

    /// The request's identity for idempotency: canonical JSON of every field except `at`.
    pub fn fingerprint(&self) -> String {
        // Borrowed mirror of the request without `at`; serialising it directly (no `Value`)
        // keeps this cheap, and field order is fixed by the struct, so the text is canonical.
        #[derive(Serialize)]
        #[serde(tag = "op", rename_all = "snake_case")]
        enum Identity<'a> {
            Reserve {
                key: &'a Key,
                accounts: &'a [AccountId],
                amounts: &'a Amounts,
            },
            ReserveAndPost {
                key: &'a Key,
                accounts: &'a [AccountId],
                amounts: &'a Amounts,
            },
            Post {
                key: &'a Key,
                pending: &'a Key,
            },
            Void {
                key: &'a Key,
                pending: &'a Key,
            },
            Expire {
                key: &'a Key,
                pending: &'a Key,
                timeout_seconds: u64,
            },
        }
        let identity = match self {
            Request::Reserve {
                key,
                accounts,
                amounts,
                ..
            } => Identity::Reserve {
                key,
                accounts,
                amounts,
            },
            Request::ReserveAndPost {
                key,
                accounts,
                amounts,
                ..
            } => Identity::ReserveAndPost {
                key,
                accounts,
                amounts,
            },
            Request::Post { key, pending, .. } => Identity::Post { key, pending },
            Request::Void { key, pending, .. } => Identity::Void { key, pending },
            Request::Expire {
                key,
                pending,
                timeout_seconds,
                ..
            } => Identity::Expire {
                key,
                pending,
                timeout_seconds: *timeout_seconds,
            },
        };
        serde_json::to_string(&identity).expect("requests serialise")
    }
}

/// The result of one request. The set is exhaustive; each code has its own heading below.
///
/// # `ok`
/// The request did what it says.
///
/// # `idempotency_key_reused_with_different_request`
/// The key was already used by a request that differs in something other than `at`. Nothing
/// changes and this reply is not recorded under the key (the key keeps its original outcome).
///
/// # `invalid_accounts`
/// A reserve names no account, more than [`ACCOUNTS_PER_TRANSFER_MAX`], or the same account twice.
///
/// # `amounts_zero`
/// A reserve's amounts are zero in every dimension.
///
/// # `account_not_found`
/// A reserve names an account that does not exist.
///
/// # `account_not_active`
/// A reserve names an account that is suspended, revoked or expired.
///
/// # `account_not_valid_on_date`
/// The UTC date of the reserve's `at` is outside an account's `valid_from..=valid_to`.
///
/// # `exceeds_limit`
/// On some account, posted + pending + the amount would pass a limit. Nothing is reserved on any account.
///
/// # `overflow`
/// An amount, or a balance plus the amount, would pass [`crate::AMOUNT_MAX`] in an unlimited dimension.
///
/// # `pending_not_found`
/// Post, void or expire names a key that is not a transfer (never used, a failed reserve, or not a reserve).
///
/// # `already_posted`
/// The transfer was already posted (by a post or by `reserve_and_post`).
///
/// # `already_voided`
/// The transfer was already voided.
///
/// # `expired`
/// The transfer was already expired.
///
/// # `pending_not_expired`
/// Expire came before `reserved at + timeout_seconds`; the transfer stays pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultCode {
    Ok,
    IdempotencyKeyReusedWithDifferentRequest,
    InvalidAccounts,
    AmountsZero,
    AccountNotFound,
    AccountNotActive,
    AccountNotValidOnDate,
    ExceedsLimit,
    Overflow,
    PendingNotFound,
    AlreadyPosted,
    AlreadyVoided,
    Expired,
    PendingNotExpired,
}

impl ResultCode {
    /// Every code, in documentation order.
    pub const ALL: [ResultCode; 14] = [
        ResultCode::Ok,
        ResultCode::IdempotencyKeyReusedWithDifferentRequest,
        ResultCode::InvalidAccounts,
        ResultCode::AmountsZero,
        ResultCode::AccountNotFound,
        ResultCode::AccountNotActive,
        ResultCode::AccountNotValidOnDate,
        ResultCode::ExceedsLimit,
        ResultCode::Overflow,
        ResultCode::PendingNotFound,
        ResultCode::AlreadyPosted,
        ResultCode::AlreadyVoided,
        ResultCode::Expired,
        ResultCode::PendingNotExpired,
    ];

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            ResultCode::Ok => "ok",
            ResultCode::IdempotencyKeyReusedWithDifferentRequest => {
                "idempotency_key_reused_with_different_request"
            }
            ResultCode::InvalidAccounts => "invalid_accounts",
            ResultCode::AmountsZero => "amounts_zero",
            ResultCode::AccountNotFound => "account_not_found",
            ResultCode::AccountNotActive => "account_not_active",
            ResultCode::AccountNotValidOnDate => "account_not_valid_on_date",
            ResultCode::ExceedsLimit => "exceeds_limit",
            ResultCode::Overflow => "overflow",
            ResultCode::PendingNotFound => "pending_not_found",
            ResultCode::AlreadyPosted => "already_posted",
            ResultCode::AlreadyVoided => "already_voided",
            ResultCode::Expired => "expired",
            ResultCode::PendingNotExpired => "pending_not_expired",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(name: &str) -> Option<ResultCode> {
        ResultCode::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The reply to one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub key: Key,
    pub code: ResultCode,
    /// For `exceeds_limit`, `account_not_found`, `account_not_active`, `account_not_valid_on_date`:
    /// the first account (in request order) that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// True when this is the stored reply of an earlier request with the same key.
    #[serde(default)]
    pub replayed: bool,
}

impl Reply {
    /// True when `code` is `ok`.
    pub fn is_ok(&self) -> bool {
        self.code == ResultCode::Ok
    }
}

/// The state of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    Pending,
    Posted,
    Voided,
    Expired,
}

impl TransferState {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            TransferState::Pending => "pending",
            TransferState::Posted => "posted",
            TransferState::Voided => "voided",
            TransferState::Expired => "expired",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(name: &str) -> Option<TransferState> {
        [
            TransferState::Pending,
            TransferState::Posted,
            TransferState::Voided,
            TransferState::Expired,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// A transfer created by a successful reserve (or reserve_and_post).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub key: Key,
    pub accounts: Vec<AccountId>,
    pub amounts: Amounts,
    pub state: TransferState,
    pub reserved_at: Timestamp,
    /// When it was posted, voided or expired.
    pub resolved_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_time_only() {
        let at = Timestamp::from_micros(0);
        let later = Timestamp::from_micros(5);
        let a = |at, units| Request::Reserve {
            key: Key::new("k").unwrap(),
            accounts: vec![AccountId::new("a").unwrap()],
            amounts: Amounts::units(units),
            at,
        };
        assert_eq!(a(at, 1).fingerprint(), a(later, 1).fingerprint());
        assert_ne!(a(at, 1).fingerprint(), a(at, 2).fingerprint());
    }

    #[test]
    fn codes_round_trip() {
        for code in ResultCode::ALL {
            assert_eq!(ResultCode::parse(code.name()), Some(code));
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.name())
            );
        }
    }
}
