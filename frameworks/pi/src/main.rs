//! `pi`: a Monte Carlo estimate of π on Mesos. Scheduler by default; the executor when
//! an agent starts it.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    mesos_pi::cli::main().await
}
