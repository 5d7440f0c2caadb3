//! The agent's event loop: one task owns all state and serialises master messages,
//! executor API calls, process exits and status update retries.
//!
//! This module holds the state ([`Runtime`] and what it keeps per framework, executor
//! and task) and the loop that dispatches each message; the work is split by concern:
//!
//! - `tasks`: launches from the master (a task, a task group), refused launches;
//! - `command`: command tasks under the built-in command executor;
//! - `checks`: their health checks and checks;
//! - `executors`: custom executors started, launched on, and ended;
//! - `subscriptions`: executors' calls (SUBSCRIBE and its connection, UPDATE, MESSAGE);
//! - `kills`: task kills and executor shutdowns;
//! - `status_updates`: status updates built, queued for delivery and acknowledged;
//! - `frameworks`: framework bookkeeping, shutdown and framework messages;
//! - `sandbox`: processes and their sandboxes (and the user they run as);
//! - `refusals`: what the runtime refuses from executors, without HTTP types;
//! - `report`: what the agent runs, reported when it re-registers;
//! - `containers`: the containers the resource monitor measures.

mod checks;
mod command;
mod containers;
mod executors;
mod frameworks;
mod kills;
mod refusals;
mod report;
mod sandbox;
mod status_updates;
mod subscriptions;
mod tasks;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::config::AgentConfig;
use super::fetcher::Fetcher;
use super::isolation::Isolator;
use super::process::{Lifecycle, ProcessControl};
use super::protocol::{AgentReport, FromAgent, ToAgent};
use super::updates::{StatusUpdates, TaskKey};
use mesos_sdk::v1;
use mesos_sdk::v1::executor::{Event, event};

pub(crate) use containers::{ContainerSnapshot, Containers};
pub(crate) use refusals::{Rejection, validate_status};

/// Which process exited.
#[derive(Debug, Clone)]
pub(crate) enum ProcessKey {
    Command { framework: String, task: String },
    Executor { framework: String, executor: String },
}

/// Messages to the event loop from the rest of the agent.
pub(crate) enum Internal {
    /// A process started, ended or could not start.
    Process(ProcessKey, Lifecycle),
    Subscribe(
        v1::executor::Call,
        oneshot::Sender<Result<mpsc::UnboundedReceiver<Event>, Rejection>>,
    ),
    Update(v1::executor::Call, oneshot::Sender<Result<(), Rejection>>),
    Message(v1::executor::Call, oneshot::Sender<Result<(), Rejection>>),
    /// A command task's check result changed.
    Check {
        framework: String,
        task: String,
        status: v1::CheckStatusInfo,
    },
    /// The container id of a framework's executor (to check an executor's token).
    ContainerOf {
        framework: String,
        executor: String,
        reply: oneshot::Sender<Result<String, Rejection>>,
    },
    /// A command task's health changed.
    Health {
        framework: String,
        task: String,
        update: super::health::HealthUpdate,
    },
    /// An executor run's registration timeout passed.
    RegistrationTimeout {
        framework: String,
        executor: String,
        container_id: String,
    },
    /// What the agent runs, for a (re-)registration.
    Report(oneshot::Sender<AgentReport>),
    /// The containers, for the resource monitor.
    Containers(oneshot::Sender<Containers>),
    /// Send every unacknowledged status update again now (a new master may have
    /// missed them).
    ResendUpdates,
    Shutdown,
}

struct CommandTask {
    task: v1::TaskInfo,
    /// Its container's id (its cgroup's name).
    container_id: String,
    /// The command's pid (and process group), once it runs.
    pid: Option<u32>,
    process: ProcessControl,
    sandbox: std::path::PathBuf,
    /// The task's health checks, while they run.
    health: Option<super::health::Checker>,
    /// The task's check (`TaskInfo.check`), while it runs.
    check: Option<super::health::Checker>,
    /// The latest check status reported (every TASK_RUNNING update carries it).
    check_status: Option<v1::CheckStatusInfo>,
    /// The latest health reported (every TASK_RUNNING update carries it).
    healthy: Option<bool>,
    /// Whether a kill was requested (health and check updates stop then, as in Mesos).
    stopping: bool,
    /// Whether its health checks killed it (its TASK_KILLED says `healthy=false`).
    killed_by_health_check: bool,
}

impl CommandTask {
    /// The task is being killed: its health checks and checks stop.
    fn stop_checking(&mut self) {
        self.stopping = true;
        self.health = None;
        self.check = None;
    }
}

#[derive(Clone)]
enum Launch {
    Task(Box<v1::TaskInfo>),
    Group(v1::TaskGroupInfo),
}

impl Runtime {
    /// The command task `tid` of framework `fid`, if it runs here.
    fn command_mut(&mut self, fid: &str, tid: &str) -> Option<&mut CommandTask> {
        self.frameworks
            .get_mut(fid)
            .and_then(|f| f.commands.get_mut(tid))
    }
}

impl Launch {
    /// What the agent keeps of each task of the launch, by task id.
    fn launched(&self) -> Vec<(String, LaunchedTask)> {
        let one = |t: &v1::TaskInfo| (t.task_id.value.clone(), LaunchedTask::of(t));
        match self {
            Launch::Task(task) => vec![one(task)],
            Launch::Group(group) => group.tasks.iter().map(one).collect(),
        }
    }
}

/// What the agent keeps of a task it handed to a custom executor (the executor gets
/// the TaskInfo itself): what the re-registration report and the container's limits
/// need.
struct LaunchedTask {
    task_id: v1::TaskId,
    name: String,
    resources: Vec<v1::Resource>,
    labels: Option<v1::Labels>,
    kill_policy: Option<v1::KillPolicy>,
    health_check: Option<v1::HealthCheck>,
}

impl LaunchedTask {
    fn of(task: &v1::TaskInfo) -> Self {
        LaunchedTask {
            task_id: task.task_id.clone(),
            name: task.name.clone(),
            resources: task.resources.clone(),
            labels: task.labels.clone(),
            kill_policy: task.kill_policy,
            health_check: task.health_check.as_deref().cloned(),
        }
    }
}

struct ExecTask {
    launched: bool,
    /// What the agent keeps of the task as launched (what it reports when it
    /// re-registers).
    info: LaunchedTask,
    /// Latest state reported for the task (`None` before the first update).
    state: Option<i32>,
}

impl ExecTask {
    /// Whether the task's latest reported state is terminal (Mesos's
    /// `isTerminalState`); a task with no update yet is not.
    fn is_terminal(&self) -> bool {
        self.state
            .is_some_and(|s| v1::TaskState::try_from(s).is_ok_and(v1::TaskState::is_terminal))
    }
}

struct Executor {
    info: v1::ExecutorInfo,
    container_id: String,
    /// The executor's pid (and process group), once it runs.
    pid: Option<u32>,
    process: ProcessControl,
    stream: Option<mpsc::UnboundedSender<Event>>,
    queued: Vec<Launch>,
    /// Kills of launched tasks while the executor was disconnected, delivered when it
    /// subscribes again.
    pending_kills: Vec<event::Kill>,
    /// Whether a task was ever delivered to the executor.
    ever_sent: bool,
    /// Whether the executor ever subscribed (registered).
    subscribed: bool,
    /// Why the agent ended the executor, when it did: the reason and message its
    /// unfinished tasks fail with.
    termination: Option<(v1::task_status::Reason, String)>,
    tasks: HashMap<String, ExecTask>,
    shutting_down: bool,
}

impl Executor {
    /// Sends an event on the executor's stream; `false` when the executor is not
    /// subscribed or its connection is gone (then it is marked unsubscribed).
    /// Sends a launch; gives it back when the executor cannot take it now (it is not
    /// subscribed, or its connection just broke), to be queued for its next SUBSCRIBE.
    fn send_launch(&mut self, launch: Launch) -> Option<Launch> {
        let Some(stream) = self.stream.as_ref() else {
            return Some(launch);
        };
        let Err(unsent) = stream.send(executors::launch_event(launch)) else {
            return None;
        };
        tracing::info!(executor = %self.info.executor_id.value, "executor disconnected");
        self.stream = None;
        Some(executors::launch_of(unsent.0))
    }

    fn send(&mut self, event: Event) -> bool {
        let Some(stream) = &self.stream else {
            return false;
        };
        if stream.send(event).is_err() {
            tracing::info!(executor = %self.info.executor_id.value, "executor disconnected");
            self.stream = None;
            return false;
        }
        true
    }
}

struct Framework {
    info: v1::FrameworkInfo,
    commands: HashMap<String, CommandTask>,
    executors: HashMap<String, Executor>,
    shutting_down: bool,
}

impl Framework {
    fn live_processes(&self) -> usize {
        self.commands.len() + self.executors.len()
    }
}

pub(crate) struct Runtime {
    config: AgentConfig,
    info: v1::AgentInfo,
    endpoint: SocketAddr,
    events: mpsc::UnboundedSender<(String, FromAgent)>,
    internal: mpsc::UnboundedSender<Internal>,
    updates: StatusUpdates,
    fetcher: Arc<Fetcher>,
    /// Each container's cgroup (or nothing, under posix isolation).
    isolator: Arc<Isolator>,
    /// The HTTP client of HTTP health checks.
    health_client: reqwest::Client,
    frameworks: HashMap<String, Framework>,
    /// Latest state sent for each task not yet acknowledged as ended (`task_key`).
    states: HashMap<TaskKey, i32>,
    shutting_down: bool,
}

impl Runtime {
    pub(crate) fn new(
        config: AgentConfig,
        info: v1::AgentInfo,
        endpoint: SocketAddr,
        events: mpsc::UnboundedSender<(String, FromAgent)>,
        internal: mpsc::UnboundedSender<Internal>,
    ) -> Self {
        let updates =
            StatusUpdates::new(config.status_update_retry, config.status_update_retry_max);
        let fetcher = Arc::new(Fetcher::new(
            &config.fetcher,
            super::status::fetcher_cache_dir(&config.work_dir, &config.agent_id),
        ));
        let isolator = Arc::new(Isolator::new(&config.isolation, &config.agent_id));
        Runtime {
            fetcher,
            isolator,
            health_client: reqwest::Client::new(),
            config,
            info,
            endpoint,
            events,
            internal,
            updates,
            frameworks: HashMap::new(),
            states: HashMap::new(),
            shutting_down: false,
        }
    }

    /// Runs until shut down and every child process is gone.
    pub(crate) async fn run(
        mut self,
        mut from_master: mpsc::UnboundedReceiver<ToAgent>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
    ) {
        let mut master_open = true;
        loop {
            if self.shutting_down && self.live_processes() == 0 {
                self.isolator.shut_down();
                tracing::info!(agent = %self.config.agent_id, "agent stopped");
                return;
            }
            let retry_at = self.updates.next_due();
            // Biased: the master's messages already queued go first, so that a report
            // asked for after them (a re-registration) includes the tasks they launch.
            tokio::select! {
                biased;
                message = from_master.recv(), if master_open => match message {
                    Some(message) => self.on_master(message),
                    None => master_open = false,
                },
                message = internal.recv() => match message {
                    Some(message) => self.on_internal(message),
                    // The runtime holds a sender itself, so this does not happen.
                    None => return,
                },
                () = tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() && !self.shutting_down => {
                    for (framework_id, status) in self.updates.due(Instant::now()) {
                        tracing::debug!(task = %status.task_id.value, "re-sending unacknowledged status update");
                        self.emit(FromAgent::StatusUpdate { framework_id, status });
                    }
                }
            }
        }
    }

    fn live_processes(&self) -> usize {
        self.frameworks
            .values()
            .map(Framework::live_processes)
            .sum()
    }

    fn emit(&self, message: FromAgent) {
        if self
            .events
            .send((self.config.agent_id.clone(), message))
            .is_err()
        {
            tracing::debug!("the master's event channel is closed; dropping an agent message");
        }
    }

    fn on_internal(&mut self, message: Internal) {
        match message {
            Internal::Process(key, event) => self.on_process(key, event),
            Internal::Subscribe(call, reply) => {
                let _ = reply.send(self.on_subscribe(call));
            }
            Internal::Update(call, reply) => {
                let _ = reply.send(self.on_executor_update(call));
            }
            Internal::Message(call, reply) => {
                let _ = reply.send(self.on_executor_message(call));
            }
            Internal::ContainerOf {
                framework,
                executor,
                reply,
            } => {
                let _ = reply.send(self.container_of(&framework, &executor));
            }
            Internal::RegistrationTimeout {
                framework,
                executor,
                container_id,
            } => self.registration_timeout(&framework, &executor, &container_id),
            Internal::Report(reply) => {
                let _ = reply.send(self.report());
            }
            Internal::Containers(reply) => {
                let _ = reply.send(self.containers());
            }
            Internal::ResendUpdates => self.resend_pending(),
            Internal::Health {
                framework,
                task,
                update,
            } => self.command_health(&framework, &task, update),
            Internal::Check {
                framework,
                task,
                status,
            } => self.command_check(&framework, &task, status),
            Internal::Shutdown => self.shutdown_all(),
        }
    }

    fn on_master(&mut self, message: ToAgent) {
        match message {
            ToAgent::RunTask { framework, task } => self.run_task(framework, task),
            ToAgent::RunTaskGroup {
                framework,
                executor,
                task_group,
            } => self.run_group(framework, executor, task_group),
            ToAgent::KillTask {
                framework_id,
                task_id,
                kill_policy,
            } => self.kill_task(&framework_id, &task_id, kill_policy),
            ToAgent::ShutdownExecutor {
                framework_id,
                executor_id,
            } => self.shutdown_executor(&framework_id.value, &executor_id.value),
            ToAgent::ShutdownFramework { framework_id } => {
                self.shutdown_framework(&framework_id.value)
            }
            ToAgent::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            } => self.framework_message(&framework_id, &executor_id, data),
            ToAgent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => self.acknowledge(&framework_id, &task_id, &uuid),
            ToAgent::Shutdown => self.shutdown_all(),
        }
    }

    fn on_process(&mut self, key: ProcessKey, event: Lifecycle) {
        match (key, event) {
            (ProcessKey::Command { framework, task }, Lifecycle::Started { pid }) => {
                self.command_started(&framework, &task, pid)
            }
            (ProcessKey::Command { framework, task }, Lifecycle::Ended(exit)) => {
                self.command_exited(&framework, &task, exit)
            }
            (ProcessKey::Command { framework, task }, Lifecycle::NotStarted(failure)) => {
                self.command_not_started(&framework, &task, failure)
            }
            (
                ProcessKey::Executor {
                    framework,
                    executor,
                },
                Lifecycle::Started { pid },
            ) => self.executor_started(&framework, &executor, pid),
            (
                ProcessKey::Executor {
                    framework,
                    executor,
                },
                Lifecycle::Ended(exit),
            ) => self.executor_exited(&framework, &executor, exit),
            (
                ProcessKey::Executor {
                    framework,
                    executor,
                },
                Lifecycle::NotStarted(failure),
            ) => self.executor_not_started(&framework, &executor, failure),
        }
    }
}

#[cfg(test)]
mod tests;
