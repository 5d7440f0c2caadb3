//! `mesos-local`: a Mesos master with agents on one machine.
//!
//! ```text
//! cargo run --release --bin mesos-local -- --ip 127.0.0.1 --port 5050 --agents 3 \
//!     --resources 'cpus:2;mem:2048;disk:4096;ports:[31000-32000]'
//! ```
//!
//! Ctrl-C or SIGTERM stops it: every task is killed and no process is left behind.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mesos_master::agent::{ExecutorAuthFlags, FetcherFlags, IsolationFlags, SwitchUserFlags};
use mesos_master::tls::TlsFlags;
use mesos_master::{LocalCluster, MasterFlags};
use tracing::info;

/// jemalloc, as Mesos can be built with (the `jemalloc` feature, on by default).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
    #[command(flatten)]
    master: MasterFlags,
    #[command(flatten)]
    tls: TlsFlags,
    #[command(flatten)]
    executor_auth: ExecutorAuthFlags,
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
    #[command(flatten)]
    switch_user: SwitchUserFlags,
    #[command(flatten)]
    isolation: IsolationFlags,
    #[command(flatten)]
    fetcher: FetcherFlags,
    /// Log filter (`RUST_LOG` syntax), e.g. `info` or `mesos_sdk=debug`.
    #[arg(long, default_value = "info")]
    log: String,
}

async fn run(args: Args) -> Result<(), String> {
    // Without --hostname, "localhost": everything runs on this machine.
    let mut config = args.master.config("localhost")?;
    config.tls = args.tls.config().map_err(|e| e.to_string())?;
    let executor_auth = args.executor_auth.config().map_err(|e| e.to_string())?;
    let mut builder = LocalCluster::builder()
        .master_config(config)
        .addr(args.master.addr())
        .agents(args.agents)
        .resources(args.resources.clone())
        .attributes([args.attributes.clone()])
        .switch_user(args.switch_user.enabled())
        .isolation(args.isolation.config())
        .fetcher(args.fetcher.config()?);
    if let Some(auth) = executor_auth {
        builder = builder.executor_auth(auth);
    }
    if let Some(dir) = &args.work_dir {
        builder = builder.work_dir(dir);
    }
    let cluster = builder.start().await.map_err(|e| e.to_string())?;
    info!(url = %cluster.url(), agents = args.agents, work_dir = %cluster.work_dir().display(), "mesos-local is up; scheduler API at {}/api/v1/scheduler", cluster.url());
    // The web UI's address, on standard output for whoever started the cluster.
    println!("mesos-local web UI: {}/", cluster.url());
    mesos_master::signals::termination().await;
    info!("stopping: killing tasks and agents");
    cluster.shutdown().await;
    info!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let log = args.log.clone();
    mesos_master::signals::run_main(&log, run(args))
}
