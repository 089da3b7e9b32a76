//! exportgate-core: the pure heart of exportgate.
//!
//! Classification of advanced-computing items, country groups and dated regimes, and the
//! licence decision for an order line. No I/O, no clock, no environment, not async: every
//! evaluation takes an explicit `as_of` date. The data files are compiled in (see
//! [`ruleset::embedded`]).

pub mod catalog;
pub mod classify;
mod compile;
pub mod concepts;
pub mod confidence;
pub mod country;
pub mod decide;
pub mod due_diligence;
pub mod eccn;
pub mod end_use;
pub mod facts;
pub mod inputs;
pub mod iso_date;
pub mod kyc;
pub mod metrics;
pub mod order;
pub mod reason;
pub mod records;
pub mod regime;
pub mod rules;
pub mod ruleset;
pub mod screening;
pub mod sets;
pub mod spec;

pub use classify::{classify, Classification, Eccn, Flags, ItemRef};
pub use compact_str::CompactString;
pub use decide::{decide, Decider, Decision, LicenceUse, NoQuotas, Outcome, QuotaView};
pub use inputs::{DataDigests, DecisionInputs, ListInput};
pub use order::Order;
pub use ruleset::{Context, Ruleset};
pub use screening::{ListHit, Screening, StaleLists};
pub use spec::{Spec, SpecError};
