//! Real components for the project's tests and benchmarks.
//!
//! [`ChildProcess`] runs a program with its output in a log file and kills it when
//! dropped (tests `kill -9` masters and agents with it). [`TcpProxy`] sits between
//! processes on loopback and refuses, delays or cuts their connections.
//!
//! [`ZooKeeperServer`] runs Debian's ZooKeeper (`apt-get install -y zookeeper`, which
//! `.ci/run` does) in its own JVM on a free loopback port with a fresh data directory,
//! and removes both when dropped. A missing ZooKeeper fails with the command that
//! installs it; nothing is skipped.

#![warn(missing_docs)]

mod process;
mod proxy;
mod zookeeper;

pub use process::{ChildProcess, Scratch, free_port};
pub use proxy::{ProxyMode, TcpProxy};
pub use zookeeper::{ZooKeeperServer, connect};
