//! exportgate-simulate: the what-if simulator. Replays an order book under several policy
//! scenarios and reports, per scenario, orders, units, TPP and value by outcome, destination,
//! AI Diffusion tier and chip, and the orders whose outcome differs between scenarios with the
//! rules that made the difference.
//!
//! A [`Scenario`] is a date (or each order's own date), regimes forced into force, and data
//! changes (merge patches to regime files, whole new regime documents) rebuilt into a fresh
//! `Ruleset` through the normal validation ([`scenario`]). [`simulate`] decides every order
//! under every scenario ([`run`]); [`render`] turns the [`Report`] into a terminal table or a
//! self-contained HTML page with inline SVG charts. Pure: no I/O, no clock.

pub mod caps;
pub mod render;
pub mod report;
pub mod run;
pub mod scenario;
pub mod veu;

pub use report::{Flip, Report, ScenarioReport, Stats};
pub use run::{simulate, Options, Simulation};
pub use scenario::{BaseData, BuiltScenario, Scenario, ScenarioError, BUILTINS};
