//! Real components for the project's tests and benchmarks.
//!
//! [`ZooKeeperServer`] runs Debian's ZooKeeper (`apt-get install -y zookeeper`, which
//! `.ci/run` does) in its own JVM on a free loopback port with a fresh data directory,
//! and removes both when dropped. A missing ZooKeeper fails with the command that
//! installs it; nothing is skipped.

#![warn(missing_docs)]

mod zookeeper;

pub use zookeeper::{ZooKeeperServer, connect};
