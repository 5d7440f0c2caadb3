//! `mesos-local`: a Mesos master with agents on one machine.
//!
//! ```text
//! cargo run --release --bin mesos-local -- --ip 127.0.0.1 --port 5050 --agents 3 \
//!     --resources 'cpus:2;mem:2048;disk:4096;ports:[31000-32000]'
//! ```
//!
//! Ctrl-C or SIGTERM stops it: every task is killed and no process is left behind.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mesos_master::agent::{IsolationFlags, SwitchUserFlags};
use mesos_master::{AuthFlags, LocalCluster, MasterConfig};
use tracing::{error, info};

/// A Mesos master with in-process agents, speaking the v1 scheduler HTTP API.
#[derive(Debug, Parser)]
#[command(
    name = "mesos-local",
    version,
    about = "A Mesos master with in-process agents on one machine, speaking the v1 scheduler HTTP API.",
    long_about = "A Mesos master with in-process agents on one machine, speaking the v1 scheduler HTTP API \
                  (POST /api/v1/scheduler), with /state, /metrics/snapshot and /health. Tasks run as real \
                  processes. Ctrl-C or SIGTERM kills every task and stops the cluster."
)]
struct Args {
    /// IP address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    ip: IpAddr,
    /// Port to listen on (0: chosen by the OS).
    #[arg(long, default_value_t = 5050)]
    port: u16,
    /// Number of agents to run.
    #[arg(long, default_value_t = 1)]
    agents: usize,
    /// Each agent's resources, in Mesos's `--resources` form.
    #[arg(long, default_value = "cpus:2;mem:2048;disk:4096;ports:[31000-32000]")]
    resources: String,
    /// Agent attributes, `name:value` pairs separated by `;` (e.g. `rack:r1;zone:a`).
    #[arg(long, default_value = "")]
    attributes: String,
    /// Directory for task sandboxes (default: a new directory under the temp dir).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Seconds between HEARTBEAT events on scheduler streams.
    #[arg(long, default_value_t = 15.0)]
    heartbeat_interval: f64,
    /// Seconds between allocation cycles.
    #[arg(long, default_value_t = 1.0)]
    allocation_interval: f64,
    /// Seconds after which unanswered offers are rescinded (default: never).
    #[arg(long)]
    offer_timeout: Option<f64>,
    /// DRF role weights as in Mesos's `--weights`: `role1=2.0,role2=1.5` (unlisted: 1).
    #[arg(long, default_value = "")]
    weights: String,
    /// Hostname reported in `/state` and MasterInfo.
    #[arg(long, default_value = "localhost")]
    hostname: String,
    #[command(flatten)]
    switch_user: SwitchUserFlags,
    #[command(flatten)]
    isolation: IsolationFlags,
    #[command(flatten)]
    auth: AuthFlags,
    /// Log filter (`RUST_LOG` syntax), e.g. `info` or `mesos_sdk=debug`.
    #[arg(long, default_value = "info")]
    log: String,
}

fn seconds(name: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("--{name} must be a non-negative number of seconds, got {value}"))
}

async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the cluster");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn run(args: Args) -> Result<(), String> {
    let mut config = MasterConfig::default();
    config.heartbeat_interval = seconds("heartbeat-interval", args.heartbeat_interval)?;
    config.allocation_interval = seconds("allocation-interval", args.allocation_interval)?;
    config.offer_timeout = args
        .offer_timeout
        .map(|t| seconds("offer-timeout", t))
        .transpose()?;
    config.hostname = args.hostname.clone();
    config.role_weights = mesos_master::parse_weights(&args.weights)?;
    config.auth = args.auth.config()?;
    let mut builder = LocalCluster::builder()
        .master_config(config)
        .addr(SocketAddr::new(args.ip, args.port))
        .agents(args.agents)
        .resources(args.resources.clone())
        .attributes([args.attributes.clone()])
        .switch_user(args.switch_user.enabled())
        .isolation(args.isolation.config());
    if let Some(dir) = &args.work_dir {
        builder = builder.work_dir(dir);
    }
    let cluster = builder.start().await.map_err(|e| e.to_string())?;
    info!(url = %cluster.url(), agents = args.agents, work_dir = %cluster.work_dir().display(), "mesos-local is up; scheduler API at {}/api/v1/scheduler", cluster.url());
    stop_signal().await;
    info!("stopping: killing tasks and agents");
    cluster.shutdown().await;
    info!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            error!("{message}");
            ExitCode::FAILURE
        }
    }
}
