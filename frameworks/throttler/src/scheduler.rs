//! The Throttler's Mesos scheduler: fits tasks into offers under the parallelism bound,
//! retries failed tasks, merges results, and ends the run.
//!
//! All bookkeeping lives in [`Coordinator`]; this module maps Mesos events onto it.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use mesos_sdk::scheduler::{Scheduler, SchedulerClient};
use mesos_sdk::v1;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::assignment::Assignment;
use crate::config::Config;
use crate::coordinator::{Applied, Coordinator, Launch, Outcome};
use crate::offer::OfferSpace;
use crate::progress::{Snapshot, TaskProgress, Tracker};
use crate::rate::task_rate;
use crate::stats::TaskStats;
use crate::target::TargetSpec;

/// The executor id every agent runs the Throttler's tasks in (one per agent).
pub const EXECUTOR_ID: &str = "throttler-executor";

/// Seconds an offer we cannot use is declined for.
const DECLINE_SECONDS: f64 = 5.0;

/// State shared between the scheduler and whoever started the run.
#[derive(Debug)]
pub struct RunState {
    /// The bookkeeping.
    pub coordinator: Coordinator,
    /// Running tasks' progress, from executors' messages.
    pub progress: Tracker,
    /// When the first task was launched.
    pub started: Option<Instant>,
    /// When the last task reached a final state.
    pub finished: Option<Instant>,
}

/// Handle on a run's state, readable after the driver returns.
#[derive(Debug, Clone)]
pub struct SharedRun(Arc<Mutex<RunState>>);

impl SharedRun {
    /// Wraps a coordinator.
    pub fn new(coordinator: Coordinator) -> Self {
        Self(Arc::new(Mutex::new(RunState {
            coordinator,
            progress: Tracker::default(),
            started: None,
            finished: None,
        })))
    }

    /// Locks the state (a poisoned lock is still usable: the state is plain data).
    pub fn lock(&self) -> MutexGuard<'_, RunState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Milestones a caller can wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not yet subscribed.
    Connecting,
    /// SUBSCRIBED received.
    Subscribed,
    /// Every query is accounted for.
    Done,
}

/// The Throttler scheduler.
pub struct ThrottlerScheduler {
    config: Config,
    target: TargetSpec,
    executor_command: v1::CommandInfo,
    run: SharedRun,
    framework_id: Option<v1::FrameworkId>,
    phase: watch::Sender<Phase>,
    progress: watch::Sender<Snapshot>,
    suppressed: bool,
    deadline: Option<Instant>,
    tore_down: bool,
}

impl ThrottlerScheduler {
    /// A scheduler for `config`, sending `target` to executors started with
    /// `executor_command`, recording into `run`. `phase` reports milestones; `progress`
    /// gets a [`Snapshot`] whenever a task is launched, ends, or reports progress.
    pub fn new(
        config: Config,
        target: TargetSpec,
        executor_command: v1::CommandInfo,
        run: SharedRun,
        phase: watch::Sender<Phase>,
        progress: watch::Sender<Snapshot>,
    ) -> Self {
        Self {
            config,
            target,
            executor_command,
            run,
            framework_id: None,
            phase,
            progress,
            suppressed: false,
            deadline: None,
            tore_down: false,
        }
    }

    fn executor_info(&self) -> v1::ExecutorInfo {
        v1::ExecutorInfo {
            r#type: Some(v1::executor_info::Type::Custom as i32),
            executor_id: v1::ExecutorId {
                value: EXECUTOR_ID.to_string(),
            },
            framework_id: self.framework_id.clone(),
            command: Some(self.executor_command.clone()),
            name: Some("Throttler executor".to_string()),
            ..Default::default()
        }
    }

    fn assignment(&self, launch: &Launch) -> Assignment {
        let c = &self.config;
        let tasks = self.run.lock().coordinator.task_count();
        Assignment {
            spec: launch.spec,
            attempt: launch.attempt,
            concurrency: c.concurrency,
            rate_per_task: task_rate(c.rate, c.parallelism, tasks),
            deadline_ms: self.deadline.map(|d| {
                u64::try_from(d.saturating_duration_since(Instant::now()).as_millis())
                    .unwrap_or(u64::MAX)
            }),
            workload: c.workload,
            read_ratio: c.read_ratio,
            key_space_size: c.key_space_size,
            target: self.target.clone(),
            progress_interval_ms: u64::try_from(c.progress_interval.as_millis())
                .unwrap_or(u64::MAX),
        }
    }

    fn task_info(
        &self,
        launch: &Launch,
        agent_id: &v1::AgentId,
        resources: Vec<v1::Resource>,
    ) -> v1::TaskInfo {
        v1::TaskInfo {
            name: format!(
                "throttler task {} (attempt {})",
                launch.spec.index, launch.attempt
            ),
            task_id: v1::TaskId {
                value: launch.task_id.clone(),
            },
            agent_id: agent_id.clone(),
            resources,
            executor: Some(self.executor_info()),
            data: Some(self.assignment(launch).to_bytes().into()),
            ..Default::default()
        }
    }

    fn close_if_past_deadline(&mut self) {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.run.lock().coordinator.close_plan();
        }
    }

    async fn finish_if_done(&mut self, client: &SchedulerClient) {
        let done = {
            let mut state = self.run.lock();
            let done = state.coordinator.is_done();
            if done && state.finished.is_none() {
                state.finished = Some(Instant::now());
            }
            done
        };
        if done && !self.tore_down {
            self.tore_down = true;
            self.publish();
            tracing::info!("every query accounted for; tearing the framework down");
            let _ = self.phase.send(Phase::Done);
            if let Err(e) = client.teardown().await {
                tracing::warn!(error = %e, "teardown failed; stopping the driver");
                client.stop();
            }
        }
    }
}

impl ThrottlerScheduler {
    /// Publishes the current [`Snapshot`].
    fn publish(&self) {
        let snapshot = {
            let state = self.run.lock();
            let c = &state.coordinator;
            Snapshot {
                accounted: c.totals().total(),
                in_flight: state.progress.in_flight(),
                running: c.running(),
                messages: state.progress.messages(),
                done: c.is_done(),
            }
        };
        self.progress.send_replace(snapshot);
    }
}

fn outcome_of(status: &v1::TaskStatus) -> Option<Outcome> {
    use v1::TaskState as S;
    let state = S::try_from(status.state).ok()?;
    match state {
        S::TaskFinished => Some(match status.data.as_deref().map(TaskStats::from_bytes) {
            Some(Ok(stats)) => Outcome::Finished(Box::new(stats)),
            Some(Err(e)) => Outcome::Failed(format!(
                "task {} finished with an unreadable result: {e}",
                status.task_id.value
            )),
            None => Outcome::Failed(format!(
                "task {} finished without a result",
                status.task_id.value
            )),
        }),
        // TASK_UNKNOWN is not terminal to Mesos, but the master no longer knows the
        // attempt, so its queries will never be reported: run them again.
        // TASK_UNREACHABLE is waited out: the agent may come back with the result.
        s if s.is_terminal() || s == S::TaskUnknown => {
            Some(Outcome::Failed(status.summary().to_string()))
        }
        _ => None,
    }
}

#[async_trait]
impl Scheduler for ThrottlerScheduler {
    async fn subscribed(
        &mut self,
        client: &SchedulerClient,
        subscribed: v1::scheduler::event::Subscribed,
    ) {
        tracing::info!(framework_id = %subscribed.framework_id.value, "subscribed");
        self.framework_id = Some(subscribed.framework_id.clone());
        let _ = self.phase.send(Phase::Subscribed);
        // On a resubscription the deadline (and its timer) already exist.
        if self.deadline.is_some() {
            self.finish_if_done(client).await;
            return;
        }
        self.deadline = self.config.duration.map(|d| Instant::now() + d);
        if let Some(deadline) = self.deadline {
            // Nothing else may arrive at the deadline when no task is running: check then.
            let (client, run) = (client.clone(), self.run.clone());
            tokio::spawn(async move {
                tokio::time::sleep_until(deadline).await;
                let done = {
                    let mut state = run.lock();
                    state.coordinator.close_plan();
                    let done = state.coordinator.is_done();
                    if done && state.finished.is_none() {
                        state.finished = Some(Instant::now());
                    }
                    done
                };
                // Otherwise the last terminal update ends the run.
                if done {
                    tracing::info!("deadline reached with no task running; tearing down");
                    if client.teardown().await.is_err() {
                        client.stop();
                    }
                }
            });
        }
        self.finish_if_done(client).await;
    }

    async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
        self.close_if_past_deadline();
        for offer in offers {
            let mut space = OfferSpace::new(&offer);
            let mut tasks = Vec::new();
            let mut ids = Vec::new();
            loop {
                // Check the fit first so that a launch is only counted when it is sent.
                let mut probe = space.clone();
                let Some(resources) = probe.take(self.config.task_cpus, self.config.task_mem)
                else {
                    break;
                };
                let Some(launch) = self.run.lock().coordinator.next_launch() else {
                    break;
                };
                space = probe;
                tasks.push(self.task_info(&launch, &offer.agent_id, resources));
                ids.push(launch.task_id);
            }
            if tasks.is_empty() {
                let filters = v1::Filters {
                    refuse_seconds: Some(DECLINE_SECONDS),
                };
                if let Err(e) = client.decline(vec![offer.id.clone()], Some(filters)).await {
                    tracing::warn!(error = %e, "decline failed");
                }
                continue;
            }
            tracing::debug!(agent = %offer.agent_id.value, tasks = tasks.len(), "launching");
            {
                let mut state = self.run.lock();
                state.started.get_or_insert_with(Instant::now);
            }
            if let Err(e) = client.launch(offer.id.clone(), tasks).await {
                tracing::warn!(error = %e, "launch failed; tasks will be offered again");
                let mut state = self.run.lock();
                for id in &ids {
                    state.coordinator.launch_not_sent(id);
                }
            }
        }
        self.publish();
        let wants = self.run.lock().coordinator.wants_offers();
        if !wants && !self.suppressed {
            self.suppressed = true;
            if let Err(e) = client.suppress(Vec::new()).await {
                tracing::warn!(error = %e, "suppress failed");
            }
        }
        self.finish_if_done(client).await;
    }

    async fn update(&mut self, client: &SchedulerClient, status: v1::TaskStatus) {
        // Acknowledged here, after the update is applied and before a possible teardown
        // (the driver runs with auto-acknowledgement off, see `app`).
        let outcome = outcome_of(&status);
        if let Some(outcome) = outcome {
            self.apply(client, &status, outcome).await;
        }
        if let (Some(uuid), Some(agent_id)) = (status.uuid.clone(), status.agent_id.clone()) {
            if let Err(e) = client
                .acknowledge(agent_id, status.task_id.clone(), uuid)
                .await
            {
                tracing::warn!(error = %e, task_id = %status.task_id.value, "acknowledgement failed; the agent will resend the update");
            }
        }
        self.finish_if_done(client).await;
    }

    async fn message(&mut self, _client: &SchedulerClient, message: v1::scheduler::event::Message) {
        let progress = match TaskProgress::from_bytes(&message.data) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(executor_id = %message.executor_id.value, error = %e, "framework message ignored");
                return;
            }
        };
        let changed = {
            let mut state = self.run.lock();
            let queries = state.coordinator.running_queries(&progress.task_id);
            state.progress.observe(&progress, queries)
        };
        if changed {
            self.publish();
        }
    }

    async fn error(&mut self, client: &SchedulerClient, message: String) {
        tracing::error!(%message, "the master reported an error; stopping");
        let _ = self.phase.send(Phase::Done);
        client.stop();
    }
}

impl ThrottlerScheduler {
    async fn apply(&mut self, client: &SchedulerClient, status: &v1::TaskStatus, outcome: Outcome) {
        self.close_if_past_deadline();
        let applied = {
            let mut state = self.run.lock();
            state.progress.forget(&status.task_id.value);
            state
                .coordinator
                .on_terminal(&status.task_id.value, outcome)
        };
        self.publish();
        if applied == Applied::Ignored {
            return;
        }
        let wants = self.run.lock().coordinator.wants_offers();
        if wants && self.suppressed {
            self.suppressed = false;
            if let Err(e) = client.revive(Vec::new()).await {
                tracing::warn!(error = %e, "revive failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: v1::TaskState, data: Option<Vec<u8>>) -> v1::TaskStatus {
        v1::TaskStatus {
            state: state as i32,
            data: data.map(Into::into),
            message: Some("why".into()),
            ..Default::default()
        }
    }

    #[test]
    fn terminal_states_map_to_outcomes() {
        let mut stats = TaskStats::default();
        stats.record(Ok(()), Default::default(), Default::default());
        let ok = outcome_of(&status(v1::TaskState::TaskFinished, Some(stats.to_bytes())));
        assert!(matches!(ok, Some(Outcome::Finished(s)) if s.succeeded == 1));
        assert!(matches!(
            outcome_of(&status(v1::TaskState::TaskFinished, None)),
            Some(Outcome::Failed(m)) if m.contains("without a result")
        ));
        assert!(matches!(
            outcome_of(&status(v1::TaskState::TaskFinished, Some(b"junk".to_vec()))),
            Some(Outcome::Failed(m)) if m.contains("unreadable")
        ));
        for s in [
            v1::TaskState::TaskFailed,
            v1::TaskState::TaskLost,
            v1::TaskState::TaskKilled,
        ] {
            assert!(
                matches!(outcome_of(&status(s, None)), Some(Outcome::Failed(m)) if m.contains("why"))
            );
        }
        for s in [v1::TaskState::TaskStaging, v1::TaskState::TaskRunning] {
            assert!(outcome_of(&status(s, None)).is_none());
        }
    }
}
