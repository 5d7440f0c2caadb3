//! The front door: `cargo run --example pi` estimates π on an embedded Mesos master with
//! local agents, then prints the estimate, its error and the throughput.
//!
//! Flags (`cargo run --example pi -- --help`): `--master URL` for a real cluster,
//! `--samples`, `--tasks`, `--seed`, `--json`, … This same binary is also the executor:
//! the scheduler names `std::env::current_exe()` as the executor command, and when an
//! agent starts it (`MESOS_EXECUTOR_ID` set) it runs tasks instead.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    mesos_pi::cli::main().await
}
