//! A whole run: validate, check the database, start (or join) a Mesos master, drive the
//! scheduler to the end, and build the report.

use std::time::Duration;

use mesos_master::{ClusterError, LocalCluster, LocalClusterBuilder};
use mesos_sdk::artifacts::{ArtifactError as ExecutorError, ExecutorProgram};
use mesos_sdk::scheduler::SchedulerDriver;
use mesos_sdk::v1;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{Config, ConfigError, TargetKind};
use crate::coordinator::Coordinator;
use crate::plan::{Amount, Plan};
use crate::progress::Snapshot;
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
    /// The executor cannot be handed to the agents (`--executor-uri`, serving it).
    #[error("cannot hand the executor to the agents: {0}")]
    Executor(#[from] ExecutorError),
    /// The embedded master or one of its agents did not start.
    #[error("the embedded Mesos cluster did not start: {0}")]
    Cluster(#[from] ClusterError),
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

/// The embedded cluster a run without `--mesos-master` starts: `--local-agents` agents
/// sized by [`local_agent_resources`], a 50 ms allocation interval (offers follow task
/// completions quickly; a load test should not wait on them) and a 2 s status-update
/// retry.
///
/// Tests start it themselves to watch the master's books during a run:
///
/// ```no_run
/// # async fn demo(mut config: throttler::config::Config) -> Result<(), throttler::app::RunError> {
/// let cluster = throttler::app::local_cluster(&config).start().await?;
/// config.mesos_master = Some(cluster.url());
/// let report = throttler::app::run(config).await?;
/// println!("{} tasks in the master's books now", cluster.state().tasks().count());
/// throttler::app::shutdown_cluster(cluster).await;
/// # Ok(()) }
/// ```
pub fn local_cluster(config: &Config) -> LocalClusterBuilder {
    let (cpus, mem) = local_agent_resources(config);
    LocalCluster::builder()
        .agents(config.local_agents.max(1) as usize)
        .resources(format!("cpus:{cpus};mem:{mem}"))
        .allocation_interval(Duration::from_millis(50))
        .status_update_retry(Duration::from_secs(2))
}

/// Stops `cluster` (every executor process included); the cluster removes the work
/// directory it created.
pub async fn shutdown_cluster(cluster: LocalCluster) {
    cluster.shutdown().await;
}

/// Runs the load test `config` describes and returns its report. A progress bar is
/// drawn on stderr when it is a terminal (see [`crate::bar`]).
///
/// # Errors
///
/// [`RunError`] with a one-line explanation of what to check.
pub async fn run(config: Config) -> Result<Report, RunError> {
    run_with_progress(config, watch::channel(Snapshot::default()).0).await
}

/// [`run`], also publishing every progress [`Snapshot`] on `progress` (subscribe to it
/// before calling).
///
/// # Errors
///
/// As [`run`].
pub async fn run_with_progress(
    config: Config,
    progress: watch::Sender<Snapshot>,
) -> Result<Report, RunError> {
    config.validate()?;
    let cpu_before = crate::cpu::process_cpu_time();
    let target = target_spec(&config)?;
    if let TargetSpec::Cql(settings) = &target {
        // Fail fast, from here, on an unreachable cluster or missing permissions; this
        // also creates the schema once instead of racing from every executor.
        drop(CqlTarget::connect(settings).await?);
    }
    let program = executor_program(&config).await?;

    let mut cluster = None;
    let url = match &config.mesos_master {
        Some(url) => url.clone(),
        None => {
            let c = local_cluster(&config).start().await?;
            let url = c.url();
            tracing::info!(%url, "embedded Mesos master started");
            cluster = Some(c);
            url
        }
    };
    let result = drive(&config, target, program.command([]), &url, progress).await;
    if let Some(c) = cluster {
        shutdown_cluster(c).await;
    }
    let mut report = result?;
    report.set_cpu_time(crate::cpu::process_cpu_time().saturating_sub(cpu_before));
    Ok(report)
}

/// How the agents get the executor: from `--executor-uri`; served by this process when
/// the master is remote; by path on the embedded cluster. Keep it for the run's length
/// (it may be serving the file).
async fn executor_program(config: &Config) -> Result<ExecutorProgram, RunError> {
    let path = match &config.executor_path {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(RunError::ExecutorPath)?,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "throttler".to_owned());
    Ok(match (&config.executor_uri, &config.mesos_master) {
        (Some(uri), _) => ExecutorProgram::from_uri(uri, &name)?,
        (None, Some(master)) => ExecutorProgram::serve(&path, master, config.advertise_ip).await?,
        (None, None) => ExecutorProgram::local(path),
    })
}

async fn drive(
    config: &Config,
    target: TargetSpec,
    executor_command: v1::CommandInfo,
    url: &str,
    progress: watch::Sender<Snapshot>,
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
    let bar = crate::bar::spawn(config, config.total_queries, progress.subscribe());
    let scheduler = ThrottlerScheduler::new(
        config.clone(),
        target,
        executor_command,
        run.clone(),
        phase_tx,
        progress,
    );
    // An empty user becomes the current OS user: Mesos agents run the tasks as that user.
    let framework = mesos_sdk::calls::framework_info("throttler", "").build();
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
    // The scheduler (the progress sender) is gone: the bar clears itself before the
    // report is printed.
    if let Some(bar) = bar {
        let _ = bar.await;
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
