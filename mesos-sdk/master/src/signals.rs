//! Waiting for the signals that stop the binaries.

/// Completes on Ctrl-C (SIGINT) or SIGTERM. If SIGTERM cannot be listened for, only
/// Ctrl-C stops it (logged).
pub async fn termination() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops this process");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted"),
        _ = term.recv() => tracing::info!("terminated"),
    }
}

/// The body of a binary's `main`: logs to stderr with the `log` filter (`RUST_LOG`
/// syntax; `info` if it does not parse), runs `run` on a new Tokio runtime, and turns
/// its outcome into the exit status (an error is logged as one line, status 1).
pub fn run_main(
    log: &str,
    run: impl std::future::Future<Output = Result<(), String>>,
) -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_new(log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            std::process::ExitCode::FAILURE
        }
    }
}
