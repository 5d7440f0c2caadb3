//! The `throttler` binary: the scheduler by default, the executor when an agent starts it.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    throttler::cli::main().await
}
