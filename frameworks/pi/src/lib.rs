//! Monte Carlo estimate of π as a Mesos framework.
//!
//! The job is split into tasks ([`plan`]); each task counts how many of its random points
//! fall inside the unit quarter circle ([`kernel`]), and the scheduler adds the counts up
//! ([`tally`]). Task inputs and results travel as small JSON documents ([`wire`]). One
//! binary is both the scheduler ([`scheduler`], driven by [`job`] and [`cli`]) and,
//! when an agent starts it, the executor ([`executor`]).
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod cli;
pub mod cputime;
pub mod executor;
pub mod job;
pub mod kernel;
pub mod plan;
pub mod scheduler;
pub mod tally;
pub mod wire;
