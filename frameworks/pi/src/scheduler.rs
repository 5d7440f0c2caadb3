//! The Pi scheduler: launches the planned tasks on offers, retries failed ones, counts
//! results exactly once, and tears the framework down when the job is complete.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mesos_sdk::resources::{Resources, fit};
use mesos_sdk::scheduler::{Scheduler, SchedulerClient};
use mesos_sdk::v1;
use tokio::sync::watch;

use crate::plan::{Ledger, Outcome};

/// The executor id used on every agent (executor ids are per agent and framework).
pub const EXECUTOR_ID: &str = "pi-executor";

/// How long declined offers are refused once no task is waiting, in seconds.
const REFUSE_SECONDS: f64 = 30.0;

/// Progress of a job, published after every change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Whether the framework is subscribed.
    pub subscribed: bool,
    /// Tasks whose result is counted.
    pub done: usize,
    /// Tasks in the job.
    pub tasks: usize,
    /// Samples counted so far.
    pub samples: u64,
    /// Task attempts launched, retries included.
    pub attempts: u64,
    /// Whether the job ended (complete, or a task ran out of retries).
    pub finished: bool,
}

/// What the scheduler needs besides the ledger.
#[derive(Debug, Clone)]
pub struct TaskShape {
    /// Resources of each task, e.g. `cpus:1;mem:64`.
    pub task: Resources,
    /// Resources of the executor, taken once per agent, e.g. `mem:32`.
    pub executor: Resources,
    /// The executor's command: this very binary, by path or fetched from a URI (see
    /// [`mesos_sdk::artifacts::ExecutorProgram`]).
    pub executor_command: v1::CommandInfo,
}

/// The scheduler half of the framework.
pub struct PiScheduler {
    ledger: Arc<Mutex<Ledger>>,
    shape: TaskShape,
    progress: watch::Sender<Progress>,
    /// Agents on which our executor was launched and has not been reported gone.
    executors: HashSet<String>,
    framework_id: Option<v1::FrameworkId>,
}

impl std::fmt::Debug for PiScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiScheduler")
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

impl PiScheduler {
    /// A scheduler for the job in `ledger`, publishing its progress on `progress`.
    pub fn new(
        ledger: Arc<Mutex<Ledger>>,
        shape: TaskShape,
        progress: watch::Sender<Progress>,
    ) -> Self {
        Self {
            ledger,
            shape,
            progress,
            executors: HashSet::new(),
            framework_id: None,
        }
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self) {
        let snapshot = {
            let l = self.ledger();
            Progress {
                subscribed: true,
                done: l.done(),
                tasks: l.tasks(),
                samples: l.tally().samples,
                attempts: l.attempts(),
                finished: l.is_complete() || l.is_exhausted(),
            }
        };
        self.progress.send_replace(snapshot);
    }

    /// The executor of every task. Mesos requires each task for one executor id to
    /// carry an identical ExecutorInfo, resources included; the executor's resources
    /// are taken from an offer only when the executor is not running on the agent yet.
    fn executor_info(&self) -> v1::ExecutorInfo {
        v1::ExecutorInfo {
            executor_id: v1::ExecutorId {
                value: EXECUTOR_ID.to_string(),
            },
            framework_id: self.framework_id.clone(),
            name: Some("pi executor".to_string()),
            command: Some(self.shape.executor_command.clone()),
            resources: self.shape.executor.clone().into_vec(),
            ..Default::default()
        }
    }

    /// The tasks to launch on one offer (possibly none).
    fn tasks_for(&mut self, offer: &v1::Offer) -> Vec<(String, v1::TaskInfo)> {
        let agent = offer.agent_id.value.clone();
        let mut available = Resources::from(offer.resources.clone());
        if !self.executors.contains(&agent) {
            match fit::first_fit(&available, &self.shape.executor) {
                Some(r) => available -= &r,
                None => return Vec::new(),
            }
        }
        let max = self.ledger().pending();
        let slots = fit::pack(&available, &self.shape.task, max);
        if slots.is_empty() {
            return Vec::new();
        }
        let executor = self.executor_info();
        let mut tasks = Vec::new();
        let mut ledger = self.ledger();
        for resources in slots {
            let Some(launch) = ledger.next_launch() else {
                break;
            };
            let info = v1::TaskInfo {
                name: format!("pi {}", launch.input.stream),
                task_id: v1::TaskId {
                    value: launch.task_id.clone(),
                },
                agent_id: offer.agent_id.clone(),
                resources: resources.into_vec(),
                executor: Some(executor.clone()),
                data: Some(launch.input.encode()),
                ..Default::default()
            };
            tasks.push((launch.task_id, info));
        }
        drop(ledger);
        if !tasks.is_empty() {
            self.executors.insert(agent);
        }
        tasks
    }

    /// No refusal while tasks wait for resources; a long one once all are launched.
    fn refuse_filter(&self) -> v1::Filters {
        let idle = self.ledger().pending() == 0;
        v1::Filters {
            refuse_seconds: Some(if idle { REFUSE_SECONDS } else { 0.0 }),
        }
    }

    async fn finish_if_done(&self, client: &SchedulerClient) {
        let (complete, exhausted) = {
            let l = self.ledger();
            (l.is_complete(), l.is_exhausted())
        };
        if complete || exhausted {
            if exhausted {
                let cause = self.ledger().cause().unwrap_or_default().to_string();
                tracing::error!("a task failed on every retry ({cause}); ending the job");
            }
            // TEARDOWN stops the executors on every agent, then the driver returns.
            if let Err(error) = client.teardown().await {
                tracing::warn!(%error, "teardown failed; stopping anyway");
                client.stop();
            }
        }
    }
}

#[async_trait::async_trait]
impl Scheduler for PiScheduler {
    async fn subscribed(
        &mut self,
        client: &SchedulerClient,
        subscribed: v1::scheduler::event::Subscribed,
    ) {
        tracing::info!(framework_id = %subscribed.framework_id.value, "subscribed");
        self.framework_id = Some(subscribed.framework_id);
        self.progress.send_modify(|p| p.subscribed = true);
        // After a resubscription, lost tasks come back as updates; make sure offers flow.
        if self.ledger().pending() > 0 {
            let _ = client.revive(Vec::new()).await;
        }
    }

    async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
        let mut unused = Vec::new();
        for offer in offers {
            let tasks = self.tasks_for(&offer);
            if tasks.is_empty() {
                unused.push(offer.id);
                continue;
            }
            let ids: Vec<String> = tasks.iter().map(|(id, _)| id.clone()).collect();
            tracing::debug!(agent = %offer.agent_id.value, tasks = ids.len(), "launching");
            let infos = tasks.into_iter().map(|(_, info)| info).collect();
            let launch = v1::offer::Operation {
                r#type: Some(v1::offer::operation::Type::Launch as i32),
                launch: Some(v1::offer::operation::Launch { task_infos: infos }),
                ..Default::default()
            };
            // Unused parts of the offer come back at once while tasks are waiting.
            let filters = self.refuse_filter();
            if let Err(error) = client
                .accept(vec![offer.id], vec![launch], Some(filters))
                .await
            {
                tracing::warn!(%error, "launch failed; the tasks will be offered again");
                let mut ledger = self.ledger();
                ids.iter().for_each(|id| ledger.launch_failed(id));
            }
        }
        self.publish();
        if !unused.is_empty() {
            let filters = self.refuse_filter();
            if let Err(error) = client.decline(unused, Some(filters)).await {
                tracing::debug!(%error, "decline failed");
            }
        }
    }

    async fn update(&mut self, client: &SchedulerClient, status: v1::TaskStatus) {
        let id = status.task_id.value.as_str();
        let state = v1::TaskState::try_from(status.state);
        tracing::debug!(task = id, ?state, "status update");
        let outcome = match state {
            Err(_) => {
                tracing::warn!(
                    task = id,
                    state = status.state,
                    "status update with an unknown state; ignored"
                );
                None
            }
            Ok(v1::TaskState::TaskFinished) => Some(
                self.ledger()
                    .finished(id, status.data.as_deref().unwrap_or_default()),
            ),
            Ok(s) if is_failed_attempt(s) => {
                if executor_gone(&status)
                    && let Some(agent) = &status.agent_id
                {
                    // The agent says the executor did not survive (it could not be
                    // fetched or started, or it exited): the next launch there starts
                    // one and must bring its resources. This update comes before any
                    // offer of what it freed, unlike the FAILURE event.
                    self.executors.remove(&agent.value);
                }
                let cause = status.summary().to_string();
                tracing::warn!("{cause}; no result");
                Some(self.ledger().failed(id, || cause))
            }
            _ => None,
        };
        // A finished or failed attempt freed resources; while tasks wait, ask for offers
        // now. Mesos's allocator recovers freed resources before the update reaches us but
        // offers them only at its next batch (1 s by default); REVIVE allocates at once.
        if matches!(outcome, Some(Outcome::Counted | Outcome::Requeued))
            && self.ledger().pending() > 0
        {
            let _ = client.revive(Vec::new()).await;
        }
        // Acknowledge here (auto-acknowledgement is off) so that the last update is
        // acknowledged before the teardown below ends the framework.
        if let (Some(uuid), Some(agent)) = (status.uuid.clone(), status.agent_id.clone())
            && !uuid.is_empty()
            && let Err(error) = client
                .acknowledge(agent, status.task_id.clone(), uuid)
                .await
        {
            tracing::warn!(task = id, %error, "acknowledgement failed; the agent will resend the update");
        }
        if outcome.is_some() {
            self.publish();
            self.finish_if_done(client).await;
        }
    }

    async fn failure(&mut self, _client: &SchedulerClient, failure: v1::scheduler::event::Failure) {
        if let Some(agent) = failure.agent_id {
            // The executor (or the whole agent) is gone: the next launch there starts one.
            tracing::warn!(agent = %agent.value, status = failure.status, "executor or agent failed");
            self.executors.remove(&agent.value);
        }
    }

    async fn error(&mut self, client: &SchedulerClient, message: String) {
        tracing::error!(%message, "the master refused the framework");
        client.stop();
    }
}

/// States that end an attempt without a result, so the task is retried: the terminal
/// states other than TASK_FINISHED ([`v1::TaskState::is_terminal`]), plus two that Mesos
/// does not call terminal. TASK_UNREACHABLE: the agent is partitioned; the attempt may
/// come back, and if its result then arrives first it is counted once and the retry
/// dropped. TASK_UNKNOWN: the master does not know the task, so it is gone.
pub fn is_failed_attempt(state: v1::TaskState) -> bool {
    use v1::TaskState as S;
    (state.is_terminal() && state != S::TaskFinished)
        || matches!(state, S::TaskUnreachable | S::TaskUnknown)
}

/// Whether a failed task's update says its executor is gone too: it could not be
/// launched (`REASON_CONTAINER_LAUNCH_FAILED`, e.g. a failed fetch), never registered,
/// or terminated.
fn executor_gone(status: &v1::TaskStatus) -> bool {
    use v1::task_status::Reason;
    matches!(
        status.reason.and_then(|r| Reason::try_from(r).ok()),
        Some(
            Reason::ContainerLaunchFailed
                | Reason::ExecutorRegistrationTimeout
                | Reason::ExecutorTerminated
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobConfig, agent_resources};
    use crate::plan::JobPlan;
    use v1::TaskState as S;

    fn scheduler(tasks: u64) -> PiScheduler {
        let ledger = Ledger::new(JobPlan::new(1000, tasks, 1).unwrap(), 1);
        let shape = TaskShape {
            task: Resources::parse("cpus:1;mem:32").unwrap().allocate("*"),
            executor: Resources::parse("cpus:0.01;mem:32").unwrap().allocate("*"),
            executor_command: mesos_sdk::artifacts::ExecutorProgram::local("/bin/pi").command([]),
        };
        let (tx, _rx) = watch::channel(Progress::default());
        PiScheduler::new(Arc::new(Mutex::new(ledger)), shape, tx)
    }

    fn offer(resources: &str) -> v1::Offer {
        v1::Offer {
            agent_id: v1::AgentId { value: "S0".into() },
            resources: Resources::parse(resources)
                .unwrap()
                .allocate("*")
                .into_vec(),
            ..Default::default()
        }
    }

    fn cpus(resources: &[v1::Resource]) -> f64 {
        Resources::from(resources.to_vec()).cpus()
    }

    #[test]
    fn the_first_offer_of_an_embedded_agent_starts_one_task_per_cpu() {
        let config = JobConfig {
            agent_cpus: 4,
            task_cpus: 1.0,
            task_mem: 32.0,
            ..JobConfig::default()
        };
        let mut s = scheduler(10);
        let tasks = s.tasks_for(&offer(&agent_resources(&config)));
        assert_eq!(tasks.len(), 4, "every CPU gets a task at once");
        let executor = tasks[0].1.executor.clone().unwrap();
        assert!((cpus(&executor.resources) - 0.01).abs() < 1e-9);
        assert!(
            tasks
                .iter()
                .all(|(_, t)| t.executor == Some(executor.clone()))
        );
        // The next offer on that agent (a freed CPU) does not pay for the executor again,
        // but its tasks carry the identical ExecutorInfo, resources included, as Mesos
        // requires of every task for one executor id.
        let again = s.tasks_for(&offer("cpus:1;mem:32"));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].1.executor, Some(executor));
        assert_eq!(s.ledger().pending(), 5);
    }

    #[test]
    fn every_state_that_ends_an_attempt_without_a_result_is_a_failure() {
        for s in [
            S::TaskFailed,
            S::TaskKilled,
            S::TaskLost,
            S::TaskError,
            S::TaskDropped,
            S::TaskGone,
            S::TaskGoneByOperator,
            S::TaskUnreachable,
            S::TaskUnknown,
        ] {
            assert!(is_failed_attempt(s), "{s:?}");
        }
        for s in [
            S::TaskStaging,
            S::TaskStarting,
            S::TaskRunning,
            S::TaskKilling,
            S::TaskFinished,
        ] {
            assert!(!is_failed_attempt(s), "{s:?}");
        }
    }
}
