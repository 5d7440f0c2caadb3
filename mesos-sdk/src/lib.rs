//! Write Apache Mesos frameworks in Rust.
//!
//! `mesos-sdk` speaks the Apache Mesos v1 HTTP API: the wire types ([`v1`]), their
//! encodings ([`codec`]), pure call builders ([`calls`]), resource arithmetic
//! ([`resources`]), runtimes for schedulers ([`scheduler`]) and executors
//! ([`executor`]), and a client of the masters' operator API ([`operator`]).
//!
//! A reference master with agents that runs on one machine, for tests, examples and
//! local development, is the separate `mesos-master` crate, built on this one.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod artifacts;
pub mod backoff;
pub mod calls;
pub mod codec;
pub mod detect;
pub mod executor;
pub mod operator;
pub mod resources;
pub mod scheduler;
pub mod status;
pub mod transport;
pub mod v1;

/// The workspace README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
