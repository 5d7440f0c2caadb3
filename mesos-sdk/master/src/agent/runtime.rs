//! The agent's event loop: one task owns all state and serialises master messages,
//! executor API calls, process exits and status update retries.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::config::AgentConfig;
use super::error::AgentError;
use super::process::{self, Exit, LaunchSpec, ProcessControl};
use super::protocol::{FromAgent, ToAgent};
use super::status::{self, NewStatus};
use super::updates::{StatusUpdates, task_key};
use super::user::{self, RunAs, SandboxError};
use mesos_sdk::v1;
use mesos_sdk::v1::executor::{Event, event};
use mesos_sdk::v1::task_status::{Reason, Source};

/// Why the agent refuses an executor's call (the executor API answers each with its
/// status; the messages are Mesos's agent's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Rejection {
    /// The call names a framework the agent does not know.
    #[error("Framework cannot be found")]
    UnknownFramework,
    /// The call names an executor the agent does not run for the framework.
    #[error("Executor cannot be found")]
    UnknownExecutor,
    /// The executor has not subscribed (or its connection is gone).
    #[error("Executor is not subscribed")]
    NotSubscribed,
}

/// Why a custom executor was not started.
enum StartError {
    /// Its sandbox could not be prepared (Mesos: the executor was not added).
    Sandbox(SandboxError),
    /// It could not be started.
    Launch(String),
}

/// Which process exited.
#[derive(Debug, Clone)]
pub(crate) enum ProcessKey {
    Command { framework: String, task: String },
    Executor { framework: String, executor: String },
}

/// Messages to the event loop from the rest of the agent.
pub(crate) enum Internal {
    Exited(ProcessKey, Exit),
    Subscribe(
        v1::executor::Call,
        oneshot::Sender<Result<mpsc::UnboundedReceiver<Event>, Rejection>>,
    ),
    Update(v1::executor::Call, oneshot::Sender<Result<(), Rejection>>),
    Message(v1::executor::Call, oneshot::Sender<Result<(), Rejection>>),
    Shutdown,
}

struct CommandTask {
    task: v1::TaskInfo,
    process: ProcessControl,
}

#[derive(Clone)]
enum Launch {
    Task(Box<v1::TaskInfo>),
    Group(v1::TaskGroupInfo),
}

struct ExecTask {
    launched: bool,
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
    process: ProcessControl,
    stream: Option<mpsc::UnboundedSender<Event>>,
    queued: Vec<Launch>,
    /// Kills of launched tasks while the executor was disconnected, delivered when it
    /// subscribes again.
    pending_kills: Vec<event::Kill>,
    /// Whether a task was ever delivered to the executor.
    ever_sent: bool,
    tasks: HashMap<String, ExecTask>,
    shutting_down: bool,
}

impl Executor {
    /// Sends an event on the executor's stream; `false` when the executor is not
    /// subscribed or its connection is gone (then it is marked unsubscribed).
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
    frameworks: HashMap<String, Framework>,
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
        Runtime {
            config,
            info,
            endpoint,
            events,
            internal,
            updates,
            frameworks: HashMap::new(),
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
                tracing::info!(agent = %self.config.agent_id, "agent stopped");
                return;
            }
            let retry_at = self.updates.next_due();
            tokio::select! {
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

    /// Queues a status update for reliable delivery, sending it now if it is the head.
    fn update(&mut self, framework_id: &v1::FrameworkId, status: v1::TaskStatus) {
        if let Some(head) = self.updates.enqueue(framework_id, status, Instant::now()) {
            self.emit(FromAgent::StatusUpdate {
                framework_id: framework_id.clone(),
                status: head,
            });
        }
    }

    fn agent_status(
        &self,
        task_id: &v1::TaskId,
        executor_id: &v1::ExecutorId,
        state: v1::TaskState,
        source: Source,
        reason: Option<Reason>,
        message: String,
    ) -> v1::TaskStatus {
        NewStatus {
            agent_id: &self.config.agent_id,
            task_id,
            executor_id,
            state,
            source,
            reason,
            message: Some(message),
        }
        .build()
    }

    fn on_internal(&mut self, message: Internal) {
        match message {
            Internal::Exited(key, exit) => self.on_exit(key, exit),
            Internal::Subscribe(call, reply) => {
                let _ = reply.send(self.on_subscribe(call));
            }
            Internal::Update(call, reply) => {
                let _ = reply.send(self.on_executor_update(call));
            }
            Internal::Message(call, reply) => {
                let _ = reply.send(self.on_executor_message(call));
            }
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

    fn framework_entry(&mut self, framework: v1::FrameworkInfo) -> Option<&mut Framework> {
        let id = framework.id.clone().unwrap_or_default().value;
        let entry = self.frameworks.entry(id).or_insert_with(|| Framework {
            info: framework.clone(),
            commands: HashMap::new(),
            executors: HashMap::new(),
            shutting_down: false,
        });
        if entry.shutting_down {
            return None;
        }
        entry.info = framework;
        Some(entry)
    }

    /// A task that cannot run: report it failed from the agent.
    fn refuse_task(
        &mut self,
        framework_id: &v1::FrameworkId,
        task: &v1::TaskInfo,
        executor_id: &v1::ExecutorId,
        reason: Reason,
        message: String,
    ) {
        tracing::warn!(task = %task.task_id.value, %message, "task not started");
        let status = self.agent_status(
            &task.task_id,
            executor_id,
            v1::TaskState::TaskFailed,
            Source::Agent,
            Some(reason),
            message,
        );
        self.update(framework_id, status);
    }

    fn run_task(&mut self, framework: v1::FrameworkInfo, task: v1::TaskInfo) {
        let framework_id = framework.id.clone().unwrap_or_default();
        if self.shutting_down || self.framework_entry(framework).is_none() {
            let executor_id = command_executor_id(&task);
            self.refuse_task(
                &framework_id,
                &task,
                &executor_id,
                Reason::ExecutorTerminated,
                "the agent or framework is shutting down".into(),
            );
            return;
        }
        if let Some(executor) = task.executor.clone() {
            let task_id = task.task_id.value.clone();
            self.launch_on_executor(
                &framework_id,
                executor,
                vec![task_id],
                Launch::Task(Box::new(task)),
            );
        } else if task.command.is_some() {
            self.run_command_task(&framework_id, task);
        } else {
            let executor_id = command_executor_id(&task);
            self.refuse_task(
                &framework_id,
                &task,
                &executor_id,
                Reason::CommandExecutorFailed,
                "the task has neither a command nor an executor".into(),
            );
        }
    }

    fn run_group(
        &mut self,
        framework: v1::FrameworkInfo,
        executor: v1::ExecutorInfo,
        group: v1::TaskGroupInfo,
    ) {
        let framework_id = framework.id.clone().unwrap_or_default();
        if self.shutting_down || self.framework_entry(framework).is_none() {
            for task in &group.tasks {
                self.refuse_task(
                    &framework_id,
                    task,
                    &executor.executor_id,
                    Reason::ExecutorTerminated,
                    "the agent or framework is shutting down".into(),
                );
            }
            return;
        }
        let ids = group
            .tasks
            .iter()
            .map(|t| t.task_id.value.clone())
            .collect();
        self.launch_on_executor(&framework_id, executor, ids, Launch::Group(group));
    }

    fn run_command_task(&mut self, framework_id: &v1::FrameworkId, task: v1::TaskInfo) {
        let executor_id = command_executor_id(&task);
        let fid = framework_id.value.clone();
        let tid = task.task_id.value.clone();
        if self
            .frameworks
            .get(&fid)
            .is_some_and(|f| f.commands.contains_key(&tid))
        {
            tracing::warn!(task = %tid, "ignoring a duplicate launch of a running task");
            return;
        }
        let container_id = uuid::Uuid::new_v4().to_string();
        let sandbox = status::sandbox_dir(
            &self.config.work_dir,
            &self.config.agent_id,
            &fid,
            &executor_id.value,
            &container_id,
        );
        // The command executor runs as `TaskInfo.command.user`, else the framework's user.
        let run_as = match self.create_sandbox(&fid, task.command.as_ref(), &sandbox) {
            Ok(run_as) => run_as,
            Err(e) => {
                self.executor_not_added(
                    framework_id,
                    std::slice::from_ref(&task.task_id),
                    &executor_id,
                    &e,
                );
                return;
            }
        };
        let starting = self.agent_status(
            &task.task_id,
            &executor_id,
            v1::TaskState::TaskStarting,
            Source::Executor,
            None,
            "Starting command".into(),
        );
        self.update(framework_id, starting);
        let command = task.command.clone().unwrap_or_default();
        let env = vec![
            ("MESOS_FRAMEWORK_ID".into(), fid.clone()),
            ("MESOS_EXECUTOR_ID".into(), executor_id.value.clone()),
            ("MESOS_SANDBOX".into(), sandbox.display().to_string()),
            ("MESOS_DIRECTORY".into(), sandbox.display().to_string()),
        ];
        let key = ProcessKey::Command {
            framework: fid.clone(),
            task: tid.clone(),
        };
        let launched = self.spawn_process(key, &command, env, &sandbox, run_as);
        match launched {
            Ok(process) => {
                tracing::info!(task = %tid, pid = process.pid, sandbox = %sandbox.display(), "command task started");
                let running = self.agent_status(
                    &task.task_id,
                    &executor_id,
                    v1::TaskState::TaskRunning,
                    Source::Executor,
                    None,
                    format!("Command running (pid {})", process.pid),
                );
                if let Some(framework) = self.frameworks.get_mut(&fid) {
                    framework
                        .commands
                        .insert(tid, CommandTask { task, process });
                }
                self.update(framework_id, running);
            }
            Err(e) => {
                let status = self.agent_status(
                    &task.task_id,
                    &executor_id,
                    v1::TaskState::TaskFailed,
                    Source::Executor,
                    Some(Reason::CommandExecutorFailed),
                    format!("Failed to launch command: {e}"),
                );
                self.update(framework_id, status);
            }
        }
    }

    fn launch_on_executor(
        &mut self,
        framework_id: &v1::FrameworkId,
        mut info: v1::ExecutorInfo,
        task_ids: Vec<String>,
        launch: Launch,
    ) {
        let fid = framework_id.value.clone();
        let eid = info.executor_id.value.clone();
        if info.framework_id.is_none() {
            info.framework_id = Some(framework_id.clone());
        }
        let exists = self
            .frameworks
            .get(&fid)
            .is_some_and(|f| f.executors.contains_key(&eid));
        if !exists {
            let started = self.start_executor(framework_id, &info);
            if let Err(StartError::Sandbox(e)) = &started {
                let ids: Vec<v1::TaskId> = task_ids
                    .iter()
                    .map(|tid| v1::TaskId { value: tid.clone() })
                    .collect();
                self.executor_not_added(framework_id, &ids, &info.executor_id, e);
                // As Mesos's agent does, so that the master frees what it holds for
                // the executor; -1: it never ran.
                self.emit(FromAgent::ExecutorTerminated {
                    framework_id: framework_id.clone(),
                    executor_id: info.executor_id.clone(),
                    status: Some(-1),
                });
                return;
            }
            if let Err(StartError::Launch(message)) = started {
                for tid in &task_ids {
                    let task_id = v1::TaskId { value: tid.clone() };
                    let status = self.agent_status(
                        &task_id,
                        &info.executor_id,
                        v1::TaskState::TaskFailed,
                        Source::Agent,
                        Some(Reason::ContainerLaunchFailed),
                        message.clone(),
                    );
                    self.update(framework_id, status);
                }
                return;
            }
        }
        let Some(executor) = self
            .frameworks
            .get_mut(&fid)
            .and_then(|f| f.executors.get_mut(&eid))
        else {
            return;
        };
        if executor.shutting_down {
            for tid in &task_ids {
                let task_id = v1::TaskId { value: tid.clone() };
                let status = self.agent_status(
                    &task_id,
                    &info.executor_id,
                    v1::TaskState::TaskFailed,
                    Source::Agent,
                    Some(Reason::ExecutorTerminated),
                    "the executor is shutting down".into(),
                );
                self.update(framework_id, status);
            }
            return;
        }
        // A launch that cannot be sent (not subscribed, or the connection just broke)
        // waits for the next SUBSCRIBE, and its tasks count as not launched.
        let sent = executor.send(launch_event(launch.clone()));
        if sent {
            executor.ever_sent = true;
        } else {
            executor.queued.push(launch);
        }
        for tid in task_ids {
            executor.tasks.insert(
                tid,
                ExecTask {
                    launched: sent,
                    state: None,
                },
            );
        }
    }

    fn start_executor(
        &mut self,
        framework_id: &v1::FrameworkId,
        info: &v1::ExecutorInfo,
    ) -> Result<(), StartError> {
        let fid = framework_id.value.clone();
        let eid = info.executor_id.value.clone();
        let Some(command) = info.command.clone() else {
            return Err(StartError::Launch(format!(
                "executor '{eid}' has no command to run"
            )));
        };
        let container_id = uuid::Uuid::new_v4().to_string();
        let sandbox = status::sandbox_dir(
            &self.config.work_dir,
            &self.config.agent_id,
            &fid,
            &eid,
            &container_id,
        );
        let grace = info
            .shutdown_grace_period
            .as_ref()
            .map(status::duration)
            .unwrap_or(self.config.executor_shutdown_grace_period);
        let run_as = self
            .create_sandbox(&fid, Some(&command), &sandbox)
            .map_err(StartError::Sandbox)?;
        let env = executor_env(&fid, &eid, &sandbox, self.endpoint, grace);
        let key = ProcessKey::Executor {
            framework: fid.clone(),
            executor: eid.clone(),
        };
        let process = self
            .spawn_process(key, &command, env, &sandbox, run_as)
            .map_err(|e| StartError::Launch(format!("Failed to launch executor: {e}")))?;
        tracing::info!(executor = %eid, pid = process.pid, sandbox = %sandbox.display(), "executor started");
        let framework = self
            .frameworks
            .get_mut(&fid)
            .ok_or_else(|| StartError::Launch("unknown framework".to_owned()))?;
        framework.executors.insert(
            eid,
            Executor {
                info: info.clone(),
                container_id,
                process,
                stream: None,
                queued: Vec::new(),
                pending_kills: Vec::new(),
                ever_sent: false,
                tasks: HashMap::new(),
                shutting_down: false,
            },
        );
        Ok(())
    }

    /// Starts `command` in `sandbox`; its exit comes back to the event loop as
    /// [`Internal::Exited`] under `key`.
    fn spawn_process(
        &self,
        key: ProcessKey,
        command: &v1::CommandInfo,
        env: Vec<(String, String)>,
        sandbox: &std::path::Path,
        run_as: Option<RunAs>,
    ) -> Result<ProcessControl, AgentError> {
        let internal = self.internal.clone();
        process::launch(
            LaunchSpec {
                command,
                env,
                sandbox,
                run_as,
            },
            move |exit| {
                let _ = internal.send(Internal::Exited(key, exit));
            },
        )
    }

    /// Creates an executor's sandbox, owned by its run-as user when `switch_user` is on
    /// (`command.user`, else the framework's user); returns whom to run it as.
    fn create_sandbox(
        &self,
        fid: &str,
        command: Option<&v1::CommandInfo>,
        sandbox: &std::path::Path,
    ) -> Result<Option<RunAs>, SandboxError> {
        let user = self
            .frameworks
            .get(fid)
            .and_then(|f| user::run_as_user(self.config.switch_user, &f.info, command));
        user::create_sandbox(sandbox, user.as_deref())
    }

    /// An executor that could not be set up (Mesos's failed `Framework::addExecutor`):
    /// every task of the launch is lost (dropped for a `PARTITION_AWARE` framework),
    /// reported by the agent.
    fn executor_not_added(
        &mut self,
        framework_id: &v1::FrameworkId,
        task_ids: &[v1::TaskId],
        executor_id: &v1::ExecutorId,
        error: &SandboxError,
    ) {
        let partition_aware = self.frameworks.get(&framework_id.value).is_some_and(|f| {
            f.info
                .capabilities
                .iter()
                .any(|c| c.r#type() == v1::framework_info::capability::Type::PartitionAware)
        });
        let state = if partition_aware {
            v1::TaskState::TaskDropped
        } else {
            v1::TaskState::TaskLost
        };
        tracing::warn!(executor = %executor_id.value, error = %error, "executor not launched");
        for task_id in task_ids {
            let status = self.agent_status(
                task_id,
                executor_id,
                state,
                Source::Agent,
                Some(Reason::ExecutorTerminated),
                error.to_string(),
            );
            self.update(framework_id, status);
        }
    }

    fn kill_grace(&self, task: Option<&v1::TaskInfo>, policy: Option<&v1::KillPolicy>) -> Duration {
        policy
            .and_then(|p| p.grace_period.as_ref())
            .or_else(|| task.and_then(|t| t.kill_policy.as_ref()?.grace_period.as_ref()))
            .map(status::duration)
            .unwrap_or(self.config.kill_grace_period)
    }

    fn kill_task(
        &mut self,
        framework_id: &v1::FrameworkId,
        task_id: &v1::TaskId,
        kill_policy: Option<v1::KillPolicy>,
    ) {
        let fid = &framework_id.value;
        let tid = &task_id.value;
        let Some(framework) = self.frameworks.get(fid) else {
            tracing::warn!(framework = %fid, task = %tid, "kill for an unknown framework");
            return;
        };
        if let Some(command) = framework.commands.get(tid) {
            let grace = self.kill_grace(Some(&command.task), kill_policy.as_ref());
            tracing::info!(task = %tid, ?grace, "killing command task");
            command.process.stop(Duration::ZERO, grace);
            return;
        }
        let Some((eid, queued)) = framework
            .executors
            .iter()
            .find_map(|(eid, e)| e.tasks.get(tid).map(|t| (eid.clone(), !t.launched)))
        else {
            tracing::warn!(framework = %fid, task = %tid, "kill for an unknown task");
            return;
        };
        let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.get_mut(&eid))
        else {
            return;
        };
        if queued {
            // As in Mesos: a task not yet delivered is killed by the agent, together
            // with the rest of its task group.
            let killed = remove_queued(&mut executor.queued, tid);
            for id in &killed {
                executor.tasks.remove(id);
            }
            let executor_id = executor.info.executor_id.clone();
            // An executor that never received a task and has none left would idle forever.
            let idle = !executor.ever_sent && executor.queued.is_empty();
            for id in killed {
                let status = self.agent_status(
                    &v1::TaskId { value: id },
                    &executor_id,
                    v1::TaskState::TaskKilled,
                    Source::Agent,
                    Some(Reason::TaskKilledDuringLaunch),
                    "Killed before delivery to the executor".into(),
                );
                self.update(framework_id, status);
            }
            if idle {
                tracing::info!(executor = %eid, "shutting down an executor whose every task was killed before delivery");
                self.shutdown_executor(fid, &eid);
            }
        } else {
            let event = Event {
                r#type: Some(event::Type::Kill as i32),
                kill: Some(event::Kill {
                    task_id: task_id.clone(),
                    kill_policy,
                }),
                ..Default::default()
            };
            if !executor.send(event.clone()) {
                tracing::info!(task = %tid, "executor disconnected; the kill waits for it to subscribe again");
                if let Some(kill) = event.kill {
                    executor.pending_kills.push(kill);
                }
            }
        }
    }

    fn shutdown_executor(&mut self, fid: &str, eid: &str) {
        let kill_after = self.config.kill_grace_period;
        let default_grace = self.config.executor_shutdown_grace_period;
        let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.get_mut(eid))
        else {
            return;
        };
        if executor.shutting_down {
            return;
        }
        executor.shutting_down = true;
        let grace = executor
            .info
            .shutdown_grace_period
            .as_ref()
            .map(status::duration)
            .unwrap_or(default_grace);
        let shutdown = Event {
            r#type: Some(event::Type::Shutdown as i32),
            ..Default::default()
        };
        if executor.send(shutdown) {
            tracing::info!(executor = %eid, ?grace, "shutting executor down");
            executor.process.stop(grace, kill_after);
        } else {
            executor.process.stop(Duration::ZERO, kill_after);
        }
    }

    fn shutdown_framework(&mut self, fid: &str) {
        let Some(framework) = self.frameworks.get_mut(fid) else {
            return;
        };
        tracing::info!(framework = %fid, "shutting framework down");
        framework.shutting_down = true;
        let default_grace = self.config.kill_grace_period;
        for command in framework.commands.values() {
            let grace = command
                .task
                .kill_policy
                .and_then(|p| p.grace_period)
                .map(|d| status::duration(&d))
                .unwrap_or(default_grace);
            command.process.stop(Duration::ZERO, grace);
        }
        let executors: Vec<String> = framework.executors.keys().cloned().collect();
        for eid in executors {
            self.shutdown_executor(fid, &eid);
        }
        self.maybe_forget_framework(fid);
    }

    fn maybe_forget_framework(&mut self, fid: &str) {
        if self
            .frameworks
            .get(fid)
            .is_some_and(|f| f.shutting_down && f.live_processes() == 0)
        {
            self.frameworks.remove(fid);
            self.updates.forget_framework(fid);
            tracing::info!(framework = %fid, "framework removed from agent");
        }
    }

    fn shutdown_all(&mut self) {
        if !self.shutting_down {
            tracing::info!(agent = %self.config.agent_id, "agent shutting down");
        }
        self.shutting_down = true;
        let ids: Vec<String> = self.frameworks.keys().cloned().collect();
        for fid in ids {
            self.shutdown_framework(&fid);
        }
    }

    fn framework_message(
        &mut self,
        framework_id: &v1::FrameworkId,
        executor_id: &v1::ExecutorId,
        data: Bytes,
    ) {
        let event = Event {
            r#type: Some(event::Type::Message as i32),
            message: Some(event::Message { data }),
            ..Default::default()
        };
        let delivered = self
            .frameworks
            .get_mut(&framework_id.value)
            .and_then(|f| f.executors.get_mut(&executor_id.value))
            .is_some_and(|e| e.send(event));
        if !delivered {
            tracing::warn!(executor = %executor_id.value, "dropping a framework message: executor not subscribed");
        }
    }

    fn acknowledge(&mut self, framework_id: &v1::FrameworkId, task_id: &v1::TaskId, uuid: &[u8]) {
        let key = task_key(framework_id, task_id);
        let (acked, next) = self.updates.acknowledge(&key, uuid, Instant::now());
        let Some(acked) = acked else {
            tracing::debug!(task = %task_id.value, "acknowledgement matches no pending update");
            return;
        };
        if let Some(next) = next {
            self.emit(FromAgent::StatusUpdate {
                framework_id: framework_id.clone(),
                status: next,
            });
        }
        let from_executor = acked.status.source == Some(Source::Executor as i32);
        let Some(executor_id) = acked.status.executor_id.as_ref() else {
            return;
        };
        let Some(executor) = self
            .frameworks
            .get_mut(&framework_id.value)
            .and_then(|f| f.executors.get_mut(&executor_id.value))
        else {
            return;
        };
        if from_executor {
            // An executor that is not connected learns of it on re-subscribing.
            executor.send(Event {
                r#type: Some(event::Type::Acknowledged as i32),
                acknowledged: Some(event::Acknowledged {
                    task_id: task_id.clone(),
                    uuid: Bytes::copy_from_slice(uuid),
                }),
                ..Default::default()
            });
        }
        if acked.task_done {
            executor.tasks.remove(&task_id.value);
        }
    }

    fn on_exit(&mut self, key: ProcessKey, exit: Exit) {
        match key {
            ProcessKey::Command { framework, task } => self.command_exited(&framework, &task, exit),
            ProcessKey::Executor {
                framework,
                executor,
            } => self.executor_exited(&framework, &executor, exit),
        }
    }

    fn command_exited(&mut self, fid: &str, tid: &str, exit: Exit) {
        let Some(command) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.commands.remove(tid))
        else {
            return;
        };
        let (state, reason) = if exit.stopped {
            (v1::TaskState::TaskKilled, None)
        } else if exit.code == Some(0) {
            (v1::TaskState::TaskFinished, None)
        } else {
            (
                v1::TaskState::TaskFailed,
                Some(Reason::CommandExecutorFailed),
            )
        };
        tracing::info!(task = %tid, status = %exit.describe(), "command task ended");
        let executor_id = command_executor_id(&command.task);
        let status = self.agent_status(
            &command.task.task_id,
            &executor_id,
            state,
            Source::Executor,
            reason,
            format!("Command {}", exit.describe()),
        );
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        self.update(&framework_id, status);
        self.maybe_forget_framework(fid);
    }

    fn executor_exited(&mut self, fid: &str, eid: &str, exit: Exit) {
        let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.remove(eid))
        else {
            return;
        };
        tracing::info!(executor = %eid, status = %exit.describe(), "executor ended");
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        let mut unfinished: Vec<&String> = executor
            .tasks
            .iter()
            .filter(|(_, t)| !t.is_terminal())
            .map(|(tid, _)| tid)
            .collect();
        unfinished.sort();
        for tid in unfinished {
            let status = self.agent_status(
                &v1::TaskId { value: tid.clone() },
                &executor.info.executor_id,
                v1::TaskState::TaskFailed,
                Source::Agent,
                Some(Reason::ExecutorTerminated),
                format!("Executor {}", exit.describe()),
            );
            self.update(&framework_id, status);
        }
        self.emit(FromAgent::ExecutorTerminated {
            framework_id,
            executor_id: executor.info.executor_id.clone(),
            status: exit.code,
        });
        self.maybe_forget_framework(fid);
    }

    fn on_subscribe(
        &mut self,
        call: v1::executor::Call,
    ) -> Result<mpsc::UnboundedReceiver<Event>, Rejection> {
        let agent_info = self.info.clone();
        let framework_id = call.framework_id.clone();
        let (framework_info, executor) = self.find_executor(&call)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let subscribed = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                executor_info: executor.info.clone(),
                framework_info,
                agent_info,
                container_id: Some(v1::ContainerId {
                    value: executor.container_id.clone(),
                    parent: None,
                }),
            }),
            ..Default::default()
        };
        let _ = tx.send(subscribed);
        for launch in executor.queued.drain(..) {
            executor.ever_sent = true;
            let _ = tx.send(launch_event(launch));
        }
        for kill in executor.pending_kills.drain(..) {
            let _ = tx.send(Event {
                r#type: Some(event::Type::Kill as i32),
                kill: Some(kill),
                ..Default::default()
            });
        }
        for task in executor.tasks.values_mut() {
            task.launched = true;
        }
        tracing::info!(executor = %call.executor_id.value, "executor subscribed");
        executor.stream = Some(tx);
        let known: Vec<String> = executor.tasks.keys().cloned().collect();
        // Updates the executor still holds: enqueue those the agent has not seen.
        let resend: Vec<v1::TaskStatus> = call
            .subscribe
            .map(|s| s.unacknowledged_updates)
            .unwrap_or_default()
            .into_iter()
            .map(|u| u.status)
            .filter(|s| {
                known.contains(&s.task_id.value) && validate_status(s, &call.executor_id).is_ok()
            })
            .filter(|s| {
                let key = task_key(&framework_id, &s.task_id);
                !self
                    .updates
                    .knows(&key, s.uuid.as_deref().unwrap_or_default())
            })
            .collect();
        for status in resend {
            self.record_executor_update(&framework_id, &call.executor_id, status);
        }
        Ok(rx)
    }

    fn find_executor(
        &mut self,
        call: &v1::executor::Call,
    ) -> Result<(v1::FrameworkInfo, &mut Executor), Rejection> {
        let framework = self
            .frameworks
            .get_mut(&call.framework_id.value)
            .ok_or(Rejection::UnknownFramework)?;
        let info = framework.info.clone();
        let executor = framework
            .executors
            .get_mut(&call.executor_id.value)
            .ok_or(Rejection::UnknownExecutor)?;
        Ok((info, executor))
    }

    fn subscribed_executor(
        &mut self,
        call: &v1::executor::Call,
    ) -> Result<&mut Executor, Rejection> {
        let (_, executor) = self.find_executor(call)?;
        if executor.stream.is_none() {
            return Err(Rejection::NotSubscribed);
        }
        Ok(executor)
    }

    fn on_executor_update(&mut self, call: v1::executor::Call) -> Result<(), Rejection> {
        self.subscribed_executor(&call)?;
        let status = call.update.map(|u| u.status).unwrap_or_default();
        let key = task_key(&call.framework_id, &status.task_id);
        if self
            .updates
            .knows(&key, status.uuid.as_deref().unwrap_or_default())
        {
            tracing::debug!(task = %status.task_id.value, "ignoring a duplicate executor update");
            return Ok(());
        }
        self.record_executor_update(&call.framework_id, &call.executor_id, status);
        Ok(())
    }

    fn record_executor_update(
        &mut self,
        framework_id: &v1::FrameworkId,
        executor_id: &v1::ExecutorId,
        mut status: v1::TaskStatus,
    ) {
        status.agent_id = Some(v1::AgentId {
            value: self.config.agent_id.clone(),
        });
        status.executor_id = Some(executor_id.clone());
        if status.timestamp.is_none() {
            status.timestamp = Some(status::now_seconds());
        }
        if let Some(task) = self
            .frameworks
            .get_mut(&framework_id.value)
            .and_then(|f| f.executors.get_mut(&executor_id.value))
            .and_then(|e| e.tasks.get_mut(&status.task_id.value))
        {
            task.state = Some(status.state);
        }
        self.update(framework_id, status);
    }

    fn on_executor_message(&mut self, call: v1::executor::Call) -> Result<(), Rejection> {
        self.subscribed_executor(&call)?;
        let data = call.message.map(|m| m.data).unwrap_or_default();
        self.emit(FromAgent::ExecutorMessage {
            framework_id: call.framework_id,
            executor_id: call.executor_id,
            data,
        });
        Ok(())
    }
}

/// Checks an executor's status update as Mesos's agent does.
pub(crate) fn validate_status(
    status: &v1::TaskStatus,
    executor_id: &v1::ExecutorId,
) -> Result<(), String> {
    match status.uuid.as_deref() {
        None => return Err("Expecting 'uuid' to be present".into()),
        Some(uuid) if uuid.len() != 16 => {
            return Err(format!("'uuid' must be 16 bytes, got {}", uuid.len()));
        }
        Some(_) => {}
    }
    if let Some(id) = &status.executor_id
        && id.value != executor_id.value
    {
        return Err(format!(
            "ExecutorID in Call: {} does not match ExecutorID in TaskStatus: {}",
            executor_id.value, id.value
        ));
    }
    if status.source != Some(Source::Executor as i32) {
        return Err("invalid source, expecting 'SOURCE_EXECUTOR'".into());
    }
    if status.state == v1::TaskState::TaskStaging as i32 {
        return Err("TASK_STAGING is not allowed from an executor".into());
    }
    Ok(())
}

/// The command executor of a task is named after the task, as in Mesos.
fn command_executor_id(task: &v1::TaskInfo) -> v1::ExecutorId {
    task.executor
        .as_ref()
        .map(|e| e.executor_id.clone())
        .unwrap_or_else(|| v1::ExecutorId {
            value: task.task_id.value.clone(),
        })
}

fn launch_event(launch: Launch) -> Event {
    match launch {
        Launch::Task(task) => Event {
            r#type: Some(event::Type::Launch as i32),
            launch: Some(event::Launch { task: *task }),
            ..Default::default()
        },
        Launch::Group(task_group) => Event {
            r#type: Some(event::Type::LaunchGroup as i32),
            launch_group: Some(event::LaunchGroup { task_group }),
            ..Default::default()
        },
    }
}

/// Removes the queued launch holding `task_id` (a whole task group when it is in one);
/// returns the ids of the tasks removed.
fn remove_queued(queued: &mut Vec<Launch>, task_id: &str) -> Vec<String> {
    let holds = |launch: &Launch| match launch {
        Launch::Task(task) => task.task_id.value == task_id,
        Launch::Group(group) => group.tasks.iter().any(|t| t.task_id.value == task_id),
    };
    let Some(index) = queued.iter().position(holds) else {
        return vec![task_id.to_owned()];
    };
    match queued.remove(index) {
        Launch::Task(task) => vec![task.task_id.value],
        Launch::Group(group) => group.tasks.into_iter().map(|t| t.task_id.value).collect(),
    }
}

fn executor_env(
    fid: &str,
    eid: &str,
    sandbox: &std::path::Path,
    endpoint: SocketAddr,
    grace: Duration,
) -> Vec<(String, String)> {
    vec![
        ("MESOS_FRAMEWORK_ID".into(), fid.to_owned()),
        ("MESOS_EXECUTOR_ID".into(), eid.to_owned()),
        ("MESOS_DIRECTORY".into(), sandbox.display().to_string()),
        ("MESOS_SANDBOX".into(), sandbox.display().to_string()),
        ("MESOS_AGENT_ENDPOINT".into(), endpoint.to_string()),
        ("MESOS_CHECKPOINT".into(), "0".into()),
        (
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD".into(),
            status::mesos_duration(grace),
        ),
    ]
}

#[cfg(test)]
#[path = "runtime_tests.rs"]
mod tests;
