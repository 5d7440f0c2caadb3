//! `drf`: one DRF demo framework. Run several at once against one master to watch
//! Dominant Resource Fairness share the cluster.
//!
//! ```text
//! drf --mesos-master http://127.0.0.1:5050 --framework-name 'Framework A' \
//!     --task-cpus 0.5 --task-memory 512
//! ```
//! Without `--mesos-master` it starts an embedded master (see `--agents`,
//! `--agent-resources`) and runs alone on it.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use drf_demo::policy::FrameworkConfig;
use drf_demo::scheduler::DrfScheduler;
use drf_demo::share::Amount;
use drf_demo::state::fetch_state;
use mesos_master::LocalCluster;
use tracing::{error, info, warn};

/// A DRF demo framework: launches `sleep` tasks of one size and logs its task count
/// and dominant share.
#[derive(Debug, Parser)]
#[command(name = "drf", version)]
struct Args {
    /// Master URL (e.g. http://127.0.0.1:5050), or the ZooKeeper election
    /// `zk://host:2181/mesos` (also `--master`). Default: start an embedded master.
    #[arg(long, visible_alias = "master")]
    mesos_master: Option<String>,
    /// Framework name.
    #[arg(long, default_value = "DRF Demo")]
    framework_name: String,
    /// CPUs per task.
    #[arg(long, default_value_t = 0.5)]
    task_cpus: f64,
    /// Memory per task, in MB.
    #[arg(long, default_value_t = 512.0)]
    task_memory: f64,
    /// Role to subscribe with.
    #[arg(long, default_value = "*")]
    role: String,
    /// Seconds each task sleeps; finished tasks are replaced.
    #[arg(long, default_value_t = 60.0)]
    task_duration: f64,
    /// Launch at most this many tasks in total, then exit once they have ended.
    #[arg(long)]
    max_tasks: Option<u64>,
    /// Launch as many tasks as each offer holds (default: one per batch of offers).
    #[arg(long)]
    pack: bool,
    /// refuse_seconds when declining an offer too small for a task.
    #[arg(long, default_value_t = 0.2)]
    refuse_seconds: f64,
    /// refuse_seconds for the rest of an offer the framework launched on (0: the
    /// master re-offers it at once to the lowest dominant share).
    #[arg(long, default_value_t = 0.0)]
    remainder_refuse_seconds: f64,
    /// Milliseconds to hold each batch of offers before answering (paces the demo).
    #[arg(long, default_value_t = 0)]
    offer_delay_ms: u64,
    /// Agents of the embedded master (without --mesos-master).
    #[arg(long, default_value_t = 1)]
    agents: usize,
    /// Each embedded agent's resources (without --mesos-master).
    #[arg(long, default_value = "cpus:4;mem:4096")]
    agent_resources: String,
}

fn positive(name: &str, v: f64) -> Result<(), String> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(format!("--{name} must be above zero (got {v})"))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    for (name, v) in [
        ("task-cpus", args.task_cpus),
        ("task-memory", args.task_memory),
        ("task-duration", args.task_duration),
    ] {
        if let Err(message) = positive(name, v) {
            error!("{message}");
            return ExitCode::from(2);
        }
    }
    for (name, v) in [
        ("refuse-seconds", args.refuse_seconds),
        ("remainder-refuse-seconds", args.remainder_refuse_seconds),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            error!("--{name} must be zero or more (got {v})");
            return ExitCode::from(2);
        }
    }

    let mut cluster = None;
    let master = match &args.mesos_master {
        Some(url) => url.clone(),
        None => match LocalCluster::builder()
            .agents(args.agents)
            .resources(args.agent_resources.clone())
            .start()
            .await
        {
            Ok(c) => {
                let url = c.url();
                info!(master = %url, "embedded master started");
                cluster = Some(c);
                url
            }
            Err(e) => {
                error!("embedded master did not start: {e}");
                return ExitCode::FAILURE;
            }
        },
    };

    let total = match fetch_state(&reqwest::Client::new(), &master).await {
        Ok(state) => Some(state.total),
        Err(e) => {
            warn!("cannot read the cluster size, so no dominant share is logged: {e}");
            None
        }
    };
    let config = FrameworkConfig {
        name: args.framework_name.clone(),
        role: args.role.clone(),
        task: Amount::new(args.task_cpus, args.task_memory),
        task_duration: Duration::from_secs_f64(args.task_duration),
        max_tasks: args.max_tasks,
        pack: args.pack,
        refuse_seconds: args.refuse_seconds,
        remainder_refuse_seconds: args.remainder_refuse_seconds,
        offer_delay: Duration::from_millis(args.offer_delay_ms),
    };
    let scheduler = DrfScheduler::new(config, total);
    let driver = match scheduler.driver(&master) {
        Ok(d) => d,
        Err(e) => {
            error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let client = driver.client();
    let progress = scheduler.progress();
    let run = driver.run(scheduler);
    tokio::pin!(run);
    let result = tokio::select! {
        r = &mut run => r,
        _ = tokio::signal::ctrl_c() => {
            info!("interrupted; tearing the framework down");
            if let Err(e) = client.teardown().await {
                warn!("teardown failed: {e}");
                client.stop();
            }
            tokio::time::timeout(Duration::from_secs(5), run).await.unwrap_or(Ok(()))
        }
    };
    if let Some(cluster) = cluster {
        cluster.shutdown().await;
    }
    let failure = progress.borrow().failure.clone();
    match (result, failure) {
        (Ok(()), None) => ExitCode::SUCCESS,
        (Err(e), _) => {
            error!("{e}");
            ExitCode::FAILURE
        }
        (Ok(()), Some(failure)) => {
            error!("{failure}");
            ExitCode::FAILURE
        }
    }
}
