//! Throttler: a distributed Cassandra load tester on Mesos.
#![warn(missing_docs)]
