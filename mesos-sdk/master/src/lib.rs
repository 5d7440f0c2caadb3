//! The reference master and its agents, built on `mesos-sdk`.
//!
//! A real, small Mesos master: it serves the v1 scheduler API (`POST
//! /api/v1/scheduler`, protobuf and JSON, RecordIO event streams), offers agents'
//! resources with Dominant Resource Fairness, tracks frameworks, offers and tasks, and
//! serves `/state`, `/metrics/snapshot` and `/health`. [`LocalCluster`] runs it with
//! agents in one process for tests and examples; the `mesos-local` binary runs it from
//! the command line. See `docs/reference-master.md`.
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

pub mod agent;
pub mod allocator;
mod cluster;
mod config;
mod core;
pub mod http;
mod server;
pub mod state;

pub use cluster::{ClusterError, LocalCluster, LocalClusterBuilder};
pub use config::MasterConfig;
pub use server::{Master, MasterError};
