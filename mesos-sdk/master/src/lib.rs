//! A reference Apache Mesos master with agents, on one machine.
//!
//! `mesos-master` is a real, small Mesos master built on the [`mesos_sdk`] wire types,
//! codecs and resource arithmetic. It serves the v1 scheduler API (`POST
//! /api/v1/scheduler`, protobuf and JSON, RecordIO event streams), offers agents'
//! resources with Dominant Resource Fairness ([`allocator`]), tracks frameworks, offers
//! and tasks, and serves the operator API (`POST /api/v1`), `/state`,
//! `/metrics/snapshot`, `/health` and Mesos's other legacy JSON endpoints. Its [`agent`]s run
//! tasks as real processes: the built-in command executor or a custom executor speaking
//! Mesos's executor API.
//!
//! - [`LocalCluster`] runs the master with in-process agents, for tests and examples.
//! - [`Master`] is the master alone; agents join it in-process or over HTTP
//!   ([`agent::remote`]).
//! - The `mesos-local` binary runs a [`LocalCluster`] from the command line, and the
//!   `mesos-agent` binary runs one remote agent in its own process.
//!
//! Frameworks do not need this crate to talk to a cluster: `mesos-sdk` alone does. See
//! `docs/reference-master.md` for the endpoints, what is and is not implemented, and the
//! tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mesos_master::ClusterError> {
//! use mesos_master::LocalCluster;
//!
//! let cluster = LocalCluster::builder().agents(3).resources("cpus:2;mem:1024").start().await?;
//! println!("scheduler API at {}/api/v1/scheduler", cluster.url());
//! cluster.shutdown().await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod agent;
pub mod allocator;
pub mod auth;
mod cluster;
mod coalesced_writes;
mod config;
mod core;
pub mod election;
mod event_chunks;
mod flags;
pub mod http;
mod serve;
mod server;
mod shared;
pub mod signals;
pub mod state;
pub mod tls;

pub use cluster::{ClusterError, LocalCluster, LocalClusterBuilder};
pub use config::MasterConfig;
pub use flags::{AuthFlags, ElectionFlags, MasterFlags, parse_weights};
pub use server::{Master, MasterError};
