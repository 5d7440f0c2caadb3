//! A whole run: validate, check the database, start (or join) a Mesos master, drive the
//! scheduler to the end, and build the report.

use std::path::PathBuf;
use std::time::Duration;

use mesos_sdk::scheduler::SchedulerDriver;
use mesos_sdk::v1;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{Config, ConfigError, TargetKind};
use crate::coordinator::Coordinator;
use crate::embedded::EmbeddedCluster;
use crate::plan::{Amount, Plan};
use crate::report::Report;
use crate::scheduler::{Phase, SharedRun, ThrottlerScheduler};
use crate::target::TargetSpec;
use crate::target::cql::{CqlError, CqlSettings, CqlTarget};
use crate::target::noop::NoopSettings;

/// How long a scheduler may take to subscribe before the run gives up.
pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a run could not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A bad flag or flag combination.
    #[error("invalid flags: {0}")]
    Config(#[from] ConfigError),
    /// Cassandra unreachable, or the schema could not be created.
    #[error(transparent)]
    Cql(Box<CqlError>),
    /// The executor program could not be located.
    #[error("cannot locate the executor program (use --executor-path): {0}")]
    ExecutorPath(std::io::Error),
    /// The embedded master did not start.
    #[error(transparent)]
    Cluster(#[from] crate::embedded::EmbeddedError),
    /// The scheduler driver failed.
    #[error("scheduler driver failed against {url}: {message} (check --mesos-master)")]
    Driver {
        /// The master URL.
        url: String,
        /// The driver's error.
        message: String,
    },
    /// No SUBSCRIBED within [`SUBSCRIBE_TIMEOUT`].
    #[error(
        "no subscription to the Mesos master at {0} within {SUBSCRIBE_TIMEOUT:?} (check --mesos-master)"
    )]
    NotSubscribed(String),
    /// The driver stopped before every query was accounted for.
    #[error(
        "the run stopped early: {accounted} of {expected} queries accounted for (see the logs)"
    )]
    Incomplete {
        /// Queries accounted.
        accounted: u64,
        /// Queries planned (0 for a duration run).
        expected: u64,
    },
}

impl From<CqlError> for RunError {
    fn from(e: CqlError) -> Self {
        RunError::Cql(Box::new(e))
    }
}

/// The target spec executors receive for `config`.
///
/// # Errors
///
/// [`ConfigError`] for bad contact points.
pub fn target_spec(config: &Config) -> Result<TargetSpec, ConfigError> {
    Ok(match config.target {
        TargetKind::Cql => TargetSpec::Cql(CqlSettings::from_config(config)?),
        TargetKind::Noop => TargetSpec::Noop(NoopSettings {
            service_time_us: u64::try_from(config.noop_service_time.as_micros())
                .unwrap_or(u64::MAX),
            fail_task_every: config.noop_fail_task_every,
            fail_task_always_every: config.noop_fail_task_always_every,
            error_query_every: config.noop_error_query_every,
        }),
    })
}

/// CPUs and memory (MB) of each embedded agent: room for twice the parallelism, so
/// that the bound is enforced by the scheduler and not by a lack of resources.
pub fn local_agent_resources(config: &Config) -> (f64, f64) {
    let agents = u64::from(config.local_agents.max(1));
    let per_agent = (2 * u64::from(config.parallelism)).div_ceil(agents).max(1) as f64;
    (
        (config.task_cpus * per_agent).ceil() + 1.0,
        (config.task_mem * per_agent).ceil() + 256.0,
    )
}

/// Runs the load test `config` describes and returns its report.
///
/// # Errors
///
/// [`RunError`] with a one-line explanation of what to check.
pub async fn run(config: Config) -> Result<Report, RunError> {
    config.validate()?;
    let cpu_before = crate::cpu::process_cpu_time();
    let target = target_spec(&config)?;
    if let TargetSpec::Cql(settings) = &target {
        // Fail fast, from here, on an unreachable cluster or missing permissions; this
        // also creates the schema once instead of racing from every executor.
        drop(CqlTarget::connect(settings).await?);
    }
    let executor_path = match &config.executor_path {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(RunError::ExecutorPath)?,
    };

    let mut cluster = None;
    let url = match &config.mesos_master {
        Some(url) => url.clone(),
        None => {
            let (cpus, mem) = local_agent_resources(&config);
            let c = EmbeddedCluster::start(config.local_agents as usize, cpus, mem).await?;
            let url = c.url();
            tracing::info!(%url, "embedded Mesos master started");
            cluster = Some(c);
            url
        }
    };
    let result = drive(&config, target, executor_path, &url).await;
    if let Some(c) = cluster {
        c.shutdown().await;
    }
    let mut report = result?;
    report.set_cpu_time(crate::cpu::process_cpu_time().saturating_sub(cpu_before));
    Ok(report)
}

async fn drive(
    config: &Config,
    target: TargetSpec,
    executor_path: PathBuf,
    url: &str,
) -> Result<Report, RunError> {
    let amount = match config.total_queries {
        Some(n) => Amount::Queries(n),
        None => Amount::UntilDeadline,
    };
    let coordinator = Coordinator::new(
        Plan::new(amount, config.queries_per_task),
        config.parallelism,
        config.max_task_attempts,
    );
    let run = SharedRun::new(coordinator);
    let (phase_tx, mut phase_rx) = watch::channel(Phase::Connecting);
    let scheduler =
        ThrottlerScheduler::new(config.clone(), target, executor_path, run.clone(), phase_tx);
    let framework = v1::FrameworkInfo {
        user: String::new(),
        name: "throttler".to_string(),
        ..Default::default()
    };
    let driver_error = |e: &dyn std::fmt::Display| RunError::Driver {
        url: url.to_string(),
        message: e.to_string(),
    };
    let driver = SchedulerDriver::builder(url, framework)
        .max_reconnect_attempts(Some(5))
        // The scheduler acknowledges itself, before it tears the framework down.
        .auto_acknowledge(false)
        .build()
        .map_err(|e| driver_error(&e))?;
    let started = Instant::now();
    let driving = driver.run(scheduler);
    tokio::pin!(driving);
    // The watch `Ref` must not outlive this future: holding it would block `send`.
    let subscribed = tokio::time::timeout(SUBSCRIBE_TIMEOUT, async move {
        phase_rx
            .wait_for(|p| *p != Phase::Connecting)
            .await
            .map(drop)
    });
    tokio::select! {
        result = &mut driving => {
            result.map_err(|e| driver_error(&e))?;
        }
        waited = subscribed => {
            if waited.is_err() {
                return Err(RunError::NotSubscribed(url.to_string()));
            }
            (&mut driving).await.map_err(|e| driver_error(&e))?;
        }
    }

    let state = run.lock();
    let c = &state.coordinator;
    if !c.is_done() {
        return Err(RunError::Incomplete {
            accounted: c.totals().total(),
            expected: c.total_queries().unwrap_or(0),
        });
    }
    let wall = match (state.started, state.finished) {
        (Some(s), Some(f)) => f - s,
        _ => started.elapsed(),
    };
    Ok(Report::new(config, c, wall))
}
