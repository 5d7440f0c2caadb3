//! The Throttler load tester: `cargo run --release --example throttler -- --help`.
//!
//! Without `--mesos-master` it starts an embedded reference master with local agents.
//! Against a real Cassandra:
//!
//! ```text
//! cargo run --release --example throttler -- --cassandra-host 127.0.0.1:9042 \
//!     --keyspace demo_framework --total-queries 100000 --queries-per-task 5000 --parallelism 4
//! ```
//!
//! Without a database (`--target noop` measures the framework, not a database):
//!
//! ```text
//! cargo run --release --example throttler -- --target noop --total-queries 100000 --json
//! ```
//!
//! The same program is the executor when an agent starts it (see docs/throttler.md).
//! It lives in the throttler package so that the other examples do not build the CQL
//! driver.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    throttler::cli::main().await
}
