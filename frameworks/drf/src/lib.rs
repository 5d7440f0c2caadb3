//! DRF demo: several frameworks compete and dominant shares are shown.
//!
//! Each framework ([`scheduler::DrfScheduler`]) launches plain `sleep` command tasks
//! of a fixed size. By default it takes **one task per batch of offers** and hands
//! the rest back without a filter, so the master's allocator offers what is left
//! to whichever framework now has the lowest dominant share: progressive filling,
//! the way DRF is described. With `pack` it takes as many tasks as each offer
//! holds. The decisions are pure ([`policy::FrameworkPolicy`]) and can be tested
//! without a master.
//!
//! The demo ([`demo::run_scenario`]) starts the embedded master with a fixed
//! cluster ([`scenario::Scenario`]), runs every framework of the scenario at once,
//! samples the master's `/state` ([`state`]) until the allocation is steady
//! ([`timeline::SteadyState`]), and reports a table, JSON ([`report`]) or an SVG or
//! PNG chart ([`chart`], drawn with plotters); [`simulate`] computes what ideal DRF
//! predicts for comparison.
//! See `docs/drf-demo.md`.
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
