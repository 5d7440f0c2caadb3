//! The program's entry point, shared by the `throttler` binary and
//! `cargo run --example throttler`: the executor when an agent started this process,
//! the scheduler (the whole run) otherwise.

use std::process::ExitCode;

use clap::Parser as _;

use crate::config::Config;
use crate::executor::ThrottlerExecutor;

fn init_logs() {
    // Logs go to stderr so that stdout carries only the report. RUST_LOG overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the program: parses flags, runs the load test, prints the report (or a one-line
/// error on stderr) and returns the exit code: 0 on success, 1 when the run failed,
/// 2 for bad flags.
pub async fn main() -> ExitCode {
    init_logs();
    if let Some(result) = mesos_sdk::executor::run_if_executor(ThrottlerExecutor::new).await {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("throttler executor: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Err(e) = config.validate() {
        eprintln!("throttler: invalid flags: {e}");
        return ExitCode::from(2);
    }
    let json = config.json;
    match crate::app::run(config).await {
        Ok(report) => {
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_human());
            }
            // Tasks given up: their queries are in the report as failed, and the run
            // as a whole failed.
            match &report.task_failure {
                None => ExitCode::SUCCESS,
                Some(failure) => {
                    eprintln!("throttler: {failure}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("throttler: {e}");
            ExitCode::FAILURE
        }
    }
}
