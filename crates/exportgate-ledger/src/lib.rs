//! exportgate-ledger: the licence and quota ledger, as a pure state machine.
//!
//! Accounts (licences, Tier 2 country allocations, LPP consignee-years, VEU records and their
//! compute by country, see [`veu`]) carry
//! limits in units, value and TPP. Requests follow TigerBeetle's two-phase transfers — reserve,
//! then post, void or expire, or reserve-and-post in one step — each with a client idempotency
//! key, and each returns one of the documented [`ResultCode`]s.
//!
//! This crate performs no I/O, reads no clock and no environment, and is not async: every
//! operation takes its time from the caller. Storage lives behind the one narrow
//! [`LedgerStore`] trait (implemented here in memory, and over SQLite and PostgreSQL in
//! `exportgate-store`). The [`Auditor`] is an independent reference model used to check them.
//!
//! Invariants, checked at every write and every load (`// INVARIANT` in the code):
//! - no balance goes below zero;
//! - posted + pending never passes a limit on any account;
//! - a key's outcome is recorded once and never changes; a replay changes nothing.

pub mod account;
pub mod accrual;
pub mod amount;
pub mod audit;
pub mod auditor;
pub mod conformance;
pub mod cover;
pub mod engine;
pub mod flow;
pub mod licence;
pub mod memory;
pub mod reconcile;
pub mod request;
pub mod retention;
pub mod store;
pub mod time;
pub mod veu;
pub mod workload;

pub use account::{Account, AccountId, AccountKind, AccountSpec, AccountStatus, Balance};
pub use accrual::{accrual_account, share_cents, Quarter, ACCRUAL_CURRENCY};
pub use amount::{Amounts, Dimension, Limits, AMOUNT_MAX};
pub use audit::{AuditBase, AuditBreak, AuditRecord, AuditSummary, BreakKind};
pub use auditor::Auditor;
pub use cover::{fits, fits_limits, OrderFacts, WhyNot};
pub use engine::{EnsureError, Ensured, InvariantViolation};
pub use flow::{
    cap_units, capped_draws_account, reference_flow_account, volume_cap, CapExceeded,
    REFERENCE_DESTINATION,
};
pub use licence::{AnyIds, Condition, KnownIds, Licence, LicenceError, LicenceStatus};
pub use memory::MemoryStore;
pub use reconcile::{Checkpoint, Disagreement, LedgerRows, Reconciled};
pub use request::{Key, Reply, Request, ResultCode, Transfer, TransferState};
pub use retention::{PrunePlan, PruneRefused, RETENTION_YEARS};
pub use store::{Balances, LedgerStore, LicenceView, ShipPlan, ShipStep, StoreError};
pub use time::Timestamp;
pub use veu::{
    veu_account, veu_draw, veu_draw_accounts, veu_headroom, veu_scope_account, Tier, Veu,
    VeuHoldings, VeuKind, VeuRefused,
};
