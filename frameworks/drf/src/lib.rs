//! DRF demo: several frameworks compete and dominant shares are shown.
//!
//! Each framework ([`scheduler::DrfScheduler`]) launches plain `sleep` command tasks
//! of a fixed size. By default it takes **one task per offer** and lets the rest of
//! the offer go with a short filter, so the master's allocator hands what is left
//! to whichever framework now has the lowest dominant share: progressive filling,
//! the way DRF is described. With `pack` it takes as many tasks as an offer holds.
//!
//! The demo ([`demo::run_scenario`]) starts the embedded master with a fixed
//! cluster ([`scenario::Scenario`]), runs every framework of the scenario at once,
//! samples the master's `/state` ([`state`]) until the allocation is steady
//! ([`timeline::SteadyState`]), and reports a table, JSON ([`report`]) or an SVG
//! chart ([`chart`]). See `docs/drf-demo.md`.
#![warn(missing_docs)]

pub mod chart;
pub mod demo;
pub mod policy;
pub mod report;
pub mod scenario;
pub mod scheduler;
pub mod share;
pub mod simulate;
pub mod state;
pub mod timeline;
