//! A lean in-process agent for [`LocalCluster`](super::LocalCluster): it runs command
//! tasks (`TaskInfo.command`) as real processes and delivers their status updates
//! reliably (each update is resent until the scheduler acknowledges it). Custom
//! executors are the full agent's job (`master::agent`); this one reports their tasks
//! as TASK_FAILED with a message saying so.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::master::agent::protocol::{FromAgent, ToAgent};
use crate::v1;

type Key = (String, String);

enum Internal {
    Exited {
        key: Key,
        code: Option<i32>,
        killed: bool,
    },
}

struct Running {
    kill: Option<oneshot::Sender<()>>,
}

struct Agent {
    id: String,
    work_dir: PathBuf,
    events: mpsc::UnboundedSender<(String, FromAgent)>,
    internal: mpsc::UnboundedSender<Internal>,
    running: HashMap<Key, Running>,
    /// Unacknowledged updates per task, oldest first; the front is in flight.
    pending: HashMap<Key, VecDeque<v1::TaskStatus>>,
}

/// Starts an agent; it stops on [`ToAgent::Shutdown`] or when `sender` is dropped.
pub(crate) fn spawn(
    agent_id: String,
    work_dir: PathBuf,
    events: mpsc::UnboundedSender<(String, FromAgent)>,
    retry: Duration,
) -> (mpsc::UnboundedSender<ToAgent>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<ToAgent>();
    let (internal, mut internal_rx) = mpsc::unbounded_channel();
    let mut agent = Agent {
        id: agent_id,
        work_dir,
        events,
        internal,
        running: HashMap::new(),
        pending: HashMap::new(),
    };
    let handle = tokio::spawn(async move {
        let mut resend = tokio::time::interval(retry);
        resend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        resend.tick().await;
        let mut stopping = false;
        loop {
            tokio::select! {
                message = rx.recv(), if !stopping => match message {
                    Some(ToAgent::Shutdown) | None => {
                        stopping = true;
                        agent.kill_all(|_| true);
                    }
                    Some(message) => agent.on_message(message),
                },
                Some(Internal::Exited { key, code, killed }) = internal_rx.recv() => agent.on_exit(key, code, killed),
                _ = resend.tick() => agent.resend(),
            }
            if stopping && agent.running.is_empty() {
                break;
            }
        }
        debug!(agent = %agent.id, "agent stopped");
    });
    (tx, handle)
}

impl Agent {
    fn on_message(&mut self, message: ToAgent) {
        match message {
            ToAgent::RunTask { framework, task } => self.run(framework, task),
            ToAgent::RunTaskGroup {
                framework,
                task_group,
                ..
            } => {
                let fw = framework.id.unwrap_or_default().value;
                for task in task_group.tasks {
                    self.update(
                        &fw,
                        &task.task_id,
                        v1::TaskState::TaskFailed,
                        "this local agent runs command tasks only; task groups need master::agent",
                        None,
                    );
                }
            }
            ToAgent::KillTask {
                framework_id,
                task_id,
                ..
            } => {
                let key = (framework_id.value, task_id.value);
                if let Some(kill) = self.running.get_mut(&key).and_then(|r| r.kill.take()) {
                    let _ = kill.send(());
                }
            }
            ToAgent::ShutdownFramework { framework_id } => {
                self.kill_all(|k| k.0 == framework_id.value);
                self.pending.retain(|k, _| k.0 != framework_id.value);
            }
            ToAgent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => {
                let key = (framework_id.value, task_id.value);
                let mut next = None;
                if let Some(queue) = self.pending.get_mut(&key) {
                    if queue.front().and_then(|s| s.uuid.as_ref()) == Some(&uuid) {
                        queue.pop_front();
                        next = queue.front().cloned();
                    }
                    if queue.is_empty() {
                        self.pending.remove(&key);
                    }
                }
                if let Some(next) = next {
                    self.send(&key.0, next);
                }
            }
            ToAgent::ShutdownExecutor { .. } | ToAgent::FrameworkMessage { .. } => {
                debug!(agent = %self.id, "no custom executors on this agent; message ignored");
            }
            ToAgent::Shutdown => {}
        }
    }

    fn kill_all(&mut self, which: impl Fn(&Key) -> bool) {
        for (key, running) in self.running.iter_mut() {
            if which(key)
                && let Some(kill) = running.kill.take()
            {
                let _ = kill.send(());
            }
        }
    }

    fn run(&mut self, framework: v1::FrameworkInfo, task: v1::TaskInfo) {
        let fw = framework.id.unwrap_or_default().value;
        let Some(command) = task.command.clone() else {
            self.update(
                &fw,
                &task.task_id,
                v1::TaskState::TaskFailed,
                "this local agent runs command tasks only; custom executors need master::agent",
                None,
            );
            return;
        };
        let sandbox = self.work_dir.join(&fw).join(&task.task_id.value);
        let mut cmd = if command.shell.unwrap_or(true) {
            let mut c = Command::new("sh");
            c.arg("-c").arg(command.value.clone().unwrap_or_default());
            c
        } else {
            let mut c = Command::new(command.value.clone().unwrap_or_default());
            c.args(command.arguments.iter().skip(1));
            c
        };
        if let Some(env) = &command.environment {
            for var in &env.variables {
                cmd.env(&var.name, var.value.clone().unwrap_or_default());
            }
        }
        cmd.env("MESOS_SANDBOX", &sandbox)
            .env("MESOS_TASK_ID", &task.task_id.value);
        let spawned = std::fs::create_dir_all(&sandbox).and_then(|_| {
            let stdout = std::fs::File::create(sandbox.join("stdout"))?;
            let stderr = std::fs::File::create(sandbox.join("stderr"))?;
            cmd.current_dir(&sandbox)
                .stdin(Stdio::null())
                .stdout(stdout)
                .stderr(stderr)
                .kill_on_drop(true)
                .spawn()
        });
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                warn!(task = %task.task_id.value, %error, "cannot start task");
                self.update(
                    &fw,
                    &task.task_id,
                    v1::TaskState::TaskFailed,
                    &format!("cannot start the command: {error}"),
                    None,
                );
                return;
            }
        };
        let key = (fw.clone(), task.task_id.value.clone());
        let (kill, kill_rx) = oneshot::channel();
        self.running
            .insert(key.clone(), Running { kill: Some(kill) });
        self.update(
            &fw,
            &task.task_id,
            v1::TaskState::TaskRunning,
            "command started",
            None,
        );
        let internal = self.internal.clone();
        tokio::spawn(async move {
            let (status, killed) = tokio::select! {
                status = child.wait() => (status.ok(), false),
                _ = kill_rx => {
                    let _ = child.start_kill();
                    (child.wait().await.ok(), true)
                }
            };
            let code = status.and_then(|s| s.code());
            let _ = internal.send(Internal::Exited { key, code, killed });
        });
    }

    fn on_exit(&mut self, key: Key, code: Option<i32>, killed: bool) {
        if self.running.remove(&key).is_none() {
            return;
        }
        let task_id = v1::TaskId {
            value: key.1.clone(),
        };
        let (state, message) = match (killed, code) {
            (true, _) => (v1::TaskState::TaskKilled, "Command killed".to_string()),
            (false, Some(0)) => (
                v1::TaskState::TaskFinished,
                "Command exited with status 0".to_string(),
            ),
            (false, Some(c)) => (
                v1::TaskState::TaskFailed,
                format!("Command exited with status {c}"),
            ),
            (false, None) => (
                v1::TaskState::TaskFailed,
                "Command terminated by a signal".to_string(),
            ),
        };
        let reason = matches!(state, v1::TaskState::TaskFailed)
            .then_some(v1::task_status::Reason::CommandExecutorFailed);
        self.update(&key.0, &task_id, state, &message, reason);
    }

    fn update(
        &mut self,
        fw: &str,
        task_id: &v1::TaskId,
        state: v1::TaskState,
        message: &str,
        reason: Option<v1::task_status::Reason>,
    ) {
        let status = v1::TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            message: Some(message.to_string()),
            source: Some(v1::task_status::Source::Executor as i32),
            reason: reason.map(|r| r as i32),
            agent_id: Some(v1::AgentId {
                value: self.id.clone(),
            }),
            timestamp: Some(crate::master::core::events::now_secs()),
            uuid: Some(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())),
            ..Default::default()
        };
        let queue = self
            .pending
            .entry((fw.to_string(), task_id.value.clone()))
            .or_default();
        queue.push_back(status.clone());
        if queue.len() == 1 {
            self.send(fw, status);
        }
    }

    fn send(&self, fw: &str, status: v1::TaskStatus) {
        let _ = self.events.send((
            self.id.clone(),
            FromAgent::StatusUpdate {
                framework_id: v1::FrameworkId {
                    value: fw.to_string(),
                },
                status,
            },
        ));
    }

    fn resend(&self) {
        for ((fw, _), queue) in &self.pending {
            if let Some(front) = queue.front() {
                self.send(fw, front.clone());
            }
        }
    }
}
