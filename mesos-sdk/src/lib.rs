//! Write Apache Mesos frameworks in Rust.
//!
//! `mesos-sdk` speaks the Apache Mesos v1 HTTP API: the wire types ([`v1`]), their
//! encodings ([`codec`]), pure call builders ([`calls`]), resource arithmetic
//! ([`resources`]), and runtimes for schedulers ([`scheduler`]) and executors
//! ([`executor`]). With the `master` feature it also carries a reference master with
//! agents ([`master`]) that runs on one machine.
#![warn(missing_docs)]

pub mod backoff;
pub mod calls;
pub mod codec;
pub mod detect;
pub mod executor;
#[cfg(feature = "master")]
pub mod master;
pub mod resources;
pub mod scheduler;
pub mod status;
pub mod transport;
pub mod v1;

/// The workspace README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
