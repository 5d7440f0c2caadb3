//! Throttler: a distributed Cassandra load tester on Mesos.
//!
//! A run is split into Mesos tasks ([`plan`]); the scheduler keeps at most
//! `--parallelism` of them running ([`coordinator`]); each executor runs its tasks'
//! queries against a [`target`] with bounded concurrency and an optional fixed-rate
//! schedule ([`runner`], [`rate`]), and returns HDR histograms ([`stats`]) that the
//! scheduler merges into a [`report`]. While tasks run, executors report per-query
//! [`progress`], which drives the terminal [`bar`].
#![warn(missing_docs)]

pub mod app;
pub mod assignment;
pub mod bar;
pub mod cli;
pub mod config;
pub mod coordinator;
pub mod cpu;
pub mod executor;
pub mod offer;
pub mod plan;
pub mod progress;
pub mod rate;
pub mod report;
pub mod runner;
pub mod scheduler;
pub mod stats;
pub mod target;
