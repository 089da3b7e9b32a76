//! exportgate-core: the pure heart of exportgate.
//!
//! Classification of advanced-computing items, country groups and dated regimes, and the
//! licence decision for an order line. No I/O, no clock, no environment, not async: every
//! evaluation takes an explicit `as_of` date.
