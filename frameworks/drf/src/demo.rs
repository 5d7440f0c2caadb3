//! Runs a scenario: the embedded master, every framework at once, and sampling of
//! the master's `/state` until the allocation is steady.

use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_sdk::scheduler::{SchedulerClient, SchedulerError};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, info, warn};

use crate::policy::{FrameworkConfig, Progress};
use crate::report::Report;
use crate::scenario::{FrameworkSpec, Scenario, ScenarioError};
use crate::scheduler::DrfScheduler;
use crate::state::{StateError, fetch_state};
use crate::timeline::{Sample, SteadyState};

/// How a demo samples the cluster and when it gives up waiting.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Time between two `/state` samples.
    pub sample_interval: Duration,
    /// Identical settled samples that make the allocation steady.
    pub stable_samples: usize,
    /// Stop sampling after this long even if the allocation is not steady.
    pub max_duration: Duration,
    /// Every framework's `refuse_seconds` for offers that hold no task.
    pub refuse_seconds: f64,
    /// Every framework's `refuse_seconds` for offer remainders (see
    /// [`FrameworkConfig::remainder_refuse_seconds`]).
    pub remainder_refuse_seconds: f64,
    /// The embedded master's allocation interval.
    pub allocation_interval: Duration,
    /// How long each framework holds offers before answering (see
    /// [`FrameworkConfig::offer_delay`]); 0 runs at full speed.
    pub offer_delay: Duration,
}

impl Default for DemoOptions {
    /// 100 ms samples, 5 stable samples, at most 30 s, 0.2 s filters on unusable
    /// offers and none on remainders, allocation every 100 ms, no offer delay.
    fn default() -> Self {
        Self {
            sample_interval: Duration::from_millis(100),
            stable_samples: 5,
            max_duration: Duration::from_secs(30),
            refuse_seconds: 0.2,
            remainder_refuse_seconds: 0.0,
            allocation_interval: Duration::from_millis(100),
            offer_delay: Duration::ZERO,
        }
    }
}

/// Why a demo could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The embedded master did not start.
    #[error("the embedded master did not start: {0}")]
    Cluster(String),
    /// A framework's driver failed.
    #[error("framework {name} failed: {source}")]
    Framework {
        /// The framework.
        name: String,
        /// The driver's error.
        #[source]
        source: SchedulerError,
    },
    /// A framework did not subscribe in time.
    #[error("framework {0} did not subscribe within {1:?}; is the master up?")]
    NotSubscribed(String, Duration),
    /// A framework's tasks failed, so it gave up (see
    /// [`crate::policy::FrameworkPolicy::failure`]).
    #[error("framework {name} failed: {cause}")]
    TasksFailed {
        /// The framework.
        name: String,
        /// Which task failed first, its final state and the master's or agent's message.
        cause: String,
    },
    /// The master's `/state` could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The configuration of the scheduler for one scenario framework.
pub fn framework_config(spec: &FrameworkSpec, options: &DemoOptions) -> FrameworkConfig {
    FrameworkConfig {
        name: spec.name.clone(),
        role: spec.role.clone(),
        task: spec.task_size(),
        task_duration: Duration::from_secs_f64(spec.task_duration_secs),
        max_tasks: spec.max_tasks,
        pack: spec.pack,
        refuse_seconds: options.refuse_seconds,
        remainder_refuse_seconds: options.remainder_refuse_seconds,
        offer_delay: options.offer_delay,
    }
}

/// Starts the embedded master with the scenario's cluster and weights, runs every
/// framework, samples until the allocation is steady (or `max_duration`), then
/// tears the frameworks down and stops the cluster. `on_sample` sees every sample
/// as it is taken.
///
/// # Errors
/// A [`DemoError`] if the cluster does not start, a framework fails or does not
/// subscribe, or `/state` cannot be read.
pub async fn run_scenario(
    scenario: &Scenario,
    options: &DemoOptions,
    on_sample: impl FnMut(&Sample) + Send,
) -> Result<Report, DemoError> {
    let cluster = start_cluster(scenario, options).await?;
    let result = run_on(scenario, options, &cluster.url(), on_sample).await;
    cluster.shutdown().await;
    result
}

/// Starts the embedded master with the scenario's cluster and weights (for
/// [`run_on`]; the caller stops it, e.g. after keeping it up for its web UI).
///
/// # Errors
/// [`DemoError::Cluster`] if the cluster does not start; an invalid scenario.
pub async fn start_cluster(
    scenario: &Scenario,
    options: &DemoOptions,
) -> Result<LocalCluster, DemoError> {
    scenario.validate()?;
    let mut builder = LocalCluster::builder()
        .agents(scenario.cluster.agents)
        .resources(scenario.cluster.resources.clone())
        .allocation_interval(options.allocation_interval);
    for (role, weight) in &scenario.weights {
        builder = builder.role_weight(role.clone(), *weight);
    }
    let cluster = builder
        .start()
        .await
        .map_err(|e| DemoError::Cluster(e.to_string()))?;
    info!(scenario = %scenario.name, master = %cluster.url(), "cluster started");
    Ok(cluster)
}

/// Runs every framework of the scenario on the master at `url`, samples until the
/// allocation is steady (or `max_duration`), then tears the frameworks down.
///
/// # Errors
/// As [`run_scenario`], but the cluster is the caller's.
pub async fn run_on(
    scenario: &Scenario,
    options: &DemoOptions,
    url: &str,
    mut on_sample: impl FnMut(&Sample) + Send,
) -> Result<Report, DemoError> {
    scenario.validate()?;
    run_frameworks(scenario, options, url, &mut on_sample).await
}

async fn run_frameworks(
    scenario: &Scenario,
    options: &DemoOptions,
    url: &str,
    on_sample: &mut (impl FnMut(&Sample) + Send),
) -> Result<Report, DemoError> {
    let total = scenario.cluster_total();
    let mut drivers = JoinSet::new();
    let mut clients: Vec<SchedulerClient> = Vec::new();
    let mut waiting = Vec::new();
    // One start gate for all: each framework holds its first offers until every
    // framework has subscribed (see `DrfScheduler::with_start_gate`).
    let (gate, gate_rx) = watch::channel(false);
    for spec in &scenario.frameworks {
        let scheduler = DrfScheduler::new(framework_config(spec, options), Some(total))
            .with_start_gate(gate_rx.clone());
        let driver = match scheduler.driver(url) {
            Ok(d) => d,
            Err(source) => {
                teardown(&clients, drivers).await;
                return Err(DemoError::Framework {
                    name: spec.name.clone(),
                    source,
                });
            }
        };
        clients.push(driver.client());
        waiting.push((spec, scheduler.progress()));
        let name = spec.name.clone();
        drivers.spawn(async move { (name, driver.run(scheduler).await) });
    }
    for (spec, progress) in &mut waiting {
        let subscribed =
            tokio::time::timeout(options.max_duration, progress.wait_for(|p| p.subscribed)).await;
        if !matches!(subscribed, Ok(Ok(_))) {
            let failure = first_failure(&mut drivers);
            teardown(&clients, drivers).await;
            return Err(failure.unwrap_or(DemoError::NotSubscribed(
                spec.name.clone(),
                options.max_duration,
            )));
        }
    }
    gate.send_replace(true);

    let progress: Vec<_> = waiting
        .into_iter()
        .map(|(spec, progress)| (spec.name.clone(), progress))
        .collect();
    let sampled = sample(scenario, options, url, &mut drivers, &progress, on_sample).await;
    teardown(&clients, drivers).await;
    sampled
}

async fn sample(
    scenario: &Scenario,
    options: &DemoOptions,
    url: &str,
    drivers: &mut JoinSet<(String, Result<(), SchedulerError>)>,
    progress: &[(String, watch::Receiver<Progress>)],
    on_sample: &mut (impl FnMut(&Sample) + Send),
) -> Result<Report, DemoError> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| {
            DemoError::State(StateError::Http {
                url: url.to_owned(),
                source: e,
            })
        })?;
    let start = Instant::now();
    let mut ticks = tokio::time::interval(options.sample_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut detector = SteadyState::new(options.stable_samples);
    let mut timeline: Vec<Sample> = Vec::new();
    let mut steady = false;
    while start.elapsed() < options.max_duration {
        ticks.tick().await;
        if let Some(failure) = first_failure(drivers) {
            return Err(failure);
        }
        for (name, progress) in progress {
            if let Some(cause) = progress.borrow().failure.clone() {
                return Err(DemoError::TasksFailed {
                    name: name.clone(),
                    cause,
                });
            }
        }
        let state = fetch_state(&http, url).await?;
        let sample = Sample {
            t: start.elapsed().as_secs_f64(),
            frameworks: state.frameworks.clone(),
        };
        on_sample(&sample);
        timeline.push(sample);
        if detector.observe(&state, &scenario.frameworks) {
            steady = true;
            break;
        }
    }
    if !steady {
        warn!(scenario = %scenario.name, "allocation not steady within {:?}", options.max_duration);
    }
    let frameworks = timeline
        .last()
        .map(|s| s.frameworks.clone())
        .unwrap_or_default();
    Ok(Report {
        scenario: scenario.name.clone(),
        steady,
        elapsed_secs: timeline.last().map_or(0.0, |s| s.t),
        frameworks,
        timeline,
    })
}

/// A driver that already ended with an error, if any.
fn first_failure(drivers: &mut JoinSet<(String, Result<(), SchedulerError>)>) -> Option<DemoError> {
    while let Some(done) = drivers.try_join_next() {
        match done {
            Ok((name, Err(source))) => return Some(DemoError::Framework { name, source }),
            Ok((name, Ok(()))) => debug!(framework = %name, "driver finished"),
            Err(join) => warn!(%join, "a framework task panicked or was cancelled"),
        }
    }
    None
}

/// Tears every framework down (the master kills its tasks) and waits, boundedly,
/// for the drivers to return.
async fn teardown(
    clients: &[SchedulerClient],
    mut drivers: JoinSet<(String, Result<(), SchedulerError>)>,
) {
    for client in clients {
        if let Err(error) = client.teardown().await {
            warn!(%error, "teardown failed");
        }
    }
    let all_done = async { while drivers.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), all_done)
        .await
        .is_err()
    {
        warn!("drivers still running 5 s after teardown; aborting them");
        drivers.abort_all();
    }
}
