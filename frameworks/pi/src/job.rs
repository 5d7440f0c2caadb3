//! Running a whole job: connect to (or start) a cluster, run the scheduler, report.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mesos_master::LocalCluster;
use mesos_sdk::artifacts::{ArtifactError, ExecutorProgram};
use mesos_sdk::resources::Resources;
use mesos_sdk::scheduler::{SchedulerDriver, SchedulerError};
use serde::Serialize;
use tokio::sync::watch;

use crate::plan::{JobPlan, Ledger, PlanError};
use crate::scheduler::{PiScheduler, Progress, TaskShape};

/// Everything a job needs; [`crate::cli::Args`] builds one from the command line.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// Master URL(s) (`http://host:5050`, or a comma-separated list); `None` starts an
    /// embedded [`LocalCluster`].
    pub master: Option<String>,
    /// Total samples.
    pub samples: u64,
    /// Number of tasks.
    pub tasks: u64,
    /// CPUs per task.
    pub task_cpus: f64,
    /// Memory per task, in MB.
    pub task_mem: f64,
    /// Agents of the embedded cluster.
    pub agents: usize,
    /// CPUs of each embedded agent.
    pub agent_cpus: usize,
    /// The job seed.
    pub seed: u64,
    /// Framework name.
    pub name: String,
    /// Framework role.
    pub role: String,
    /// Retries per task after its first attempt.
    pub max_retries: u32,
    /// The executor program; `None` uses this binary ([`std::env::current_exe`]).
    /// The embedded cluster's agents run it at this path; with `master` set and no
    /// `executor_uri`, this process serves it over HTTP and the agents fetch it.
    pub executor_path: Option<PathBuf>,
    /// Where the agents fetch the executor from (`--executor-uri`): the program itself,
    /// saved as its file name, or an archive holding it at its top level.
    pub executor_uri: Option<String>,
    /// The address the agents fetch the served executor from (`--advertise-ip`);
    /// `None`: the address this machine uses to reach the master.
    pub advertise_ip: Option<IpAddr>,
    /// How long to wait for the master to accept the subscription.
    pub connect_timeout: Duration,
}

impl Default for JobConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            master: None,
            samples: 1_000_000_000,
            tasks: 2 * cpus as u64,
            task_cpus: 1.0,
            task_mem: 32.0,
            agents: 1,
            agent_cpus: cpus,
            seed: 0x5eed,
            name: "pi".to_string(),
            role: "*".to_string(),
            max_retries: 3,
            executor_path: None,
            executor_uri: None,
            advertise_ip: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The result of a job. `--json` prints the keys `pi`, `error`, `std_error`, `samples`,
/// `tasks`, `wall_seconds` and `samples_per_second`, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Report {
    /// The estimate of π.
    pub pi: f64,
    /// `|pi − π|`.
    pub error: f64,
    /// Standard error of the estimate.
    pub std_error: f64,
    /// Samples counted (always the samples requested).
    pub samples: u64,
    /// Tasks in the job.
    pub tasks: u64,
    /// Wall time from start to the last result, in seconds.
    pub wall_seconds: f64,
    /// `samples / wall_seconds`.
    pub samples_per_second: f64,
    /// CPU time (user + system) of this process and its reaped children (the executors
    /// of an embedded cluster) over the job, in seconds; see [`crate::cputime`]. Not in
    /// `--json`, whose keys are fixed; with `--master` it covers the scheduler only.
    #[serde(skip)]
    pub cpu_seconds: f64,
    /// `samples / cpu_seconds`: the load-independent efficiency figure (not in `--json`).
    #[serde(skip)]
    pub samples_per_cpu_second: f64,
}

/// Why a job did not produce an estimate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The job parameters are unusable.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A task or executor resource amount is not a positive number.
    #[error("invalid resources {0:?}: --task-cpus and --task-mem must be positive numbers")]
    Resources(String),
    /// The embedded cluster could not start.
    #[error("could not start the embedded cluster: {0}")]
    Cluster(#[from] mesos_master::ClusterError),
    /// The path of this program is unknown, so it cannot be its own executor.
    #[error("cannot find this program's path to use as the executor: {0}")]
    ExecutorPath(std::io::Error),
    /// The executor cannot be offered to the agents (`--executor-uri`, serving it).
    #[error("cannot hand the executor to the agents: {0}")]
    Executor(#[from] ArtifactError),
    /// The master did not accept the subscription in time.
    #[error(
        "no subscription from the master at {master} within {timeout:?}; check --master and that the master is running"
    )]
    Unreachable {
        /// The master URL(s).
        master: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The scheduler runtime failed.
    #[error("scheduler failed: {0}")]
    Scheduler(#[from] SchedulerError),
    /// Some task failed on every retry.
    #[error("{failed} of {tasks} tasks failed on every retry; the first to give up: {cause}")]
    TasksFailed {
        /// Tasks without a result.
        failed: usize,
        /// Tasks in the job.
        tasks: usize,
        /// The last update of the first task that ran out of retries: its id, final
        /// state, reason and the master's or agent's message.
        cause: String,
    },
}

/// Runs the job; `progress` sees every change. Starts and stops an embedded cluster when
/// `config.master` is `None`.
///
/// # Errors
/// [`JobError`] for bad parameters, an unreachable master, or tasks that kept failing.
pub async fn run(
    config: &JobConfig,
    progress: watch::Sender<Progress>,
) -> Result<Report, JobError> {
    let plan = JobPlan::new(config.samples, config.tasks, config.seed)?;
    let program = executor_program(config).await?;
    let shape = task_shape(config, &program)?;
    let start = Instant::now();
    let cpu_start = crate::cputime::CpuTime::now();
    let (cluster, master) = match &config.master {
        Some(url) => (None, url.clone()),
        None => {
            let cluster = start_cluster(config).await?;
            let url = cluster.url();
            (Some(cluster), url)
        }
    };
    let result = run_on(config, &master, plan, shape, progress, start).await;
    if let Some(cluster) = cluster {
        // Shutting down reaps the executors, so their CPU time is counted below.
        cluster.shutdown().await;
    }
    let mut report = result?;
    if let (Some(begin), Some(end)) = (cpu_start, crate::cputime::CpuTime::now()) {
        report.cpu_seconds = end.seconds_since(&begin);
        report.samples_per_cpu_second =
            report.samples as f64 / report.cpu_seconds.max(f64::MIN_POSITIVE);
    }
    Ok(report)
}

/// CPUs the executor reserves for itself on each agent (Mesos's minimum offerable
/// amount): its event loop and status updates, nearly idle next to the sampling threads.
pub const EXECUTOR_CPUS: f64 = 0.01;

/// Memory the executor reserves for itself on each agent, in MB (Mesos's default).
pub const EXECUTOR_MEM: f64 = 32.0;

/// The embedded agents' resources: `agent_cpus` task CPUs plus the executor's own small
/// reservation, so the executor does not cost a task slot; memory for every task that fits.
pub fn agent_resources(config: &JobConfig) -> String {
    let slots = (config.agent_cpus as f64 / config.task_cpus)
        .floor()
        .max(1.0);
    let mem = slots * config.task_mem + EXECUTOR_MEM;
    let cpus = config.agent_cpus as f64 + EXECUTOR_CPUS;
    format!("cpus:{cpus};mem:{mem}")
}

/// Starts the embedded cluster: `config.agents` agents of [`agent_resources`]. Freed
/// resources are offered again at once (the master allocates on every change); the short
/// interval only bounds how long a zero-second decline filter lasts.
async fn start_cluster(config: &JobConfig) -> Result<LocalCluster, JobError> {
    let resources = agent_resources(config);
    tracing::info!(agents = config.agents, %resources, "starting the embedded cluster");
    Ok(LocalCluster::builder()
        .agents(config.agents)
        .resources(resources)
        .allocation_interval(Duration::from_millis(10))
        .start()
        .await?)
}

fn task_shape(config: &JobConfig, program: &ExecutorProgram) -> Result<TaskShape, JobError> {
    let valid = |v: f64| v.is_finite() && v > 0.0;
    let text = format!("cpus:{};mem:{}", config.task_cpus, config.task_mem);
    if !valid(config.task_cpus) || !valid(config.task_mem) {
        return Err(JobError::Resources(text));
    }
    let task = Resources::parse(&text).map_err(|_| JobError::Resources(text.clone()))?;
    let executor_text = format!("cpus:{EXECUTOR_CPUS};mem:{EXECUTOR_MEM}");
    let executor =
        Resources::parse(&executor_text).map_err(|_| JobError::Resources(executor_text))?;
    Ok(TaskShape {
        task: task.allocate(&config.role),
        executor: executor.allocate(&config.role),
        executor_command: program.command([]),
    })
}

/// How the agents get the executor: from `--executor-uri`; served by this process when
/// the master is remote; by path on the embedded cluster. Keep it for the job's length
/// (it may be serving the file).
async fn executor_program(config: &JobConfig) -> Result<ExecutorProgram, JobError> {
    let path = match &config.executor_path {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(JobError::ExecutorPath)?,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pi".to_owned());
    Ok(match (&config.executor_uri, &config.master) {
        (Some(uri), _) => ExecutorProgram::from_uri(uri, &name)?,
        (None, Some(master)) => ExecutorProgram::serve(&path, master, config.advertise_ip).await?,
        (None, None) => ExecutorProgram::local(path),
    })
}

async fn run_on(
    config: &JobConfig,
    master: &str,
    plan: JobPlan,
    shape: TaskShape,
    progress: watch::Sender<Progress>,
    start: Instant,
) -> Result<Report, JobError> {
    let tasks = plan.tasks().len() as u64;
    let ledger = Arc::new(Mutex::new(Ledger::new(plan, config.max_retries)));
    // An empty user becomes the current OS user: Mesos agents run the tasks as that user.
    let framework = mesos_sdk::calls::framework_info(config.name.clone(), "")
        .roles([config.role.clone()])
        .build();
    let driver = SchedulerDriver::builder(master, framework)
        .max_reconnect_attempts(Some(3))
        .auto_acknowledge(false)
        .build()?;
    let client = driver.client();
    let mut watch_progress = progress.subscribe();
    let scheduler = PiScheduler::new(ledger.clone(), shape, progress);
    let run = driver.run(scheduler);
    tokio::pin!(run);
    // Bound the time to subscribe, so a wrong --master fails fast instead of retrying.
    // (The `Ref` from `wait_for` holds the channel's read lock: drop it at once.)
    let subscribed = async {
        tokio::time::timeout(
            config.connect_timeout,
            watch_progress.wait_for(|p| p.subscribed),
        )
        .await
        .is_ok_and(|r| r.is_ok())
    };
    tokio::select! {
        result = &mut run => { result?; }
        ok = subscribed => {
            if !ok {
                client.stop();
                let _ = run.await;
                return Err(JobError::Unreachable { master: master.to_string(), timeout: config.connect_timeout });
            }
            run.await?;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
    if !ledger.is_complete() {
        return Err(JobError::TasksFailed {
            failed: ledger.tasks() - ledger.done(),
            tasks: ledger.tasks(),
            cause: ledger
                .cause()
                .unwrap_or("the framework stopped before every task ended")
                .to_string(),
        });
    }
    let tally = ledger.tally();
    let estimate = tally
        .estimate()
        .ok_or(JobError::Plan(PlanError::NoSamples))?;
    Ok(Report {
        pi: estimate.pi,
        error: estimate.error,
        std_error: estimate.std_error,
        samples: tally.samples,
        tasks,
        wall_seconds: wall,
        samples_per_second: tally.samples as f64 / wall.max(f64::MIN_POSITIVE),
        cpu_seconds: 0.0,
        samples_per_cpu_second: 0.0,
    })
}
