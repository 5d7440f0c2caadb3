//! An agent in a scratch directory, and a harness that plays the master (reads
//! `FromAgent`, acknowledges updates).

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_master::agent::protocol::{FromAgent, ToAgent};
use mesos_master::agent::{AgentConfig, AgentHandle, spawn};
use mesos_sdk::v1;
use tokio::sync::mpsc;

use super::{WAIT, framework_info};

/// A scratch work directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("mesos-agent-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running agent plus the master's side of its channels.
pub struct Harness {
    pub agent: Option<AgentHandle>,
    pub to_agent: mpsc::UnboundedSender<ToAgent>,
    pub events: mpsc::UnboundedReceiver<(String, FromAgent)>,
    pub scratch: Scratch,
}

/// Short timings so tests run in well under a second each.
pub fn fast_config(work_dir: &Path) -> AgentConfig {
    let mut config = AgentConfig::new("agent-1", Vec::new(), work_dir.to_path_buf());
    config.status_update_retry = Duration::from_millis(50);
    config.status_update_retry_max = Duration::from_millis(200);
    config.kill_grace_period = Duration::from_millis(300);
    config.executor_shutdown_grace_period = Duration::from_millis(500);
    config
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut AgentConfig)) -> Self {
        let scratch = Scratch::new();
        let mut config = fast_config(&scratch.0);
        tweak(&mut config);
        let (tx, events) = mpsc::unbounded_channel();
        let agent = spawn(config, tx).await.expect("agent starts");
        Harness {
            to_agent: agent.sender(),
            agent: Some(agent),
            events,
            scratch,
        }
    }

    /// The next message from the agent, failing the test after [`WAIT`].
    pub async fn next(&mut self) -> FromAgent {
        let (agent, message) = tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("the agent sent nothing in time")
            .expect("the agent's channel closed");
        assert_eq!(agent, "agent-1");
        message
    }

    /// The next status update (other messages fail the test).
    pub async fn next_update(&mut self) -> (v1::FrameworkId, v1::TaskStatus) {
        match self.next().await {
            FromAgent::StatusUpdate {
                framework_id,
                status,
            } => (framework_id, status),
            other => panic!("expected a status update, got {other:?}"),
        }
    }

    pub fn ack(&self, framework_id: &v1::FrameworkId, status: &v1::TaskStatus) {
        self.to_agent
            .send(ToAgent::Acknowledge {
                framework_id: framework_id.clone(),
                task_id: status.task_id.clone(),
                uuid: status.uuid.clone().expect("agent updates carry a uuid"),
            })
            .unwrap();
    }

    /// The next update, acknowledged.
    pub async fn next_acked(&mut self) -> v1::TaskStatus {
        let (fid, status) = self.next_update().await;
        self.ack(&fid, &status);
        status
    }

    pub async fn shutdown(&mut self) {
        let agent = self.agent.take().expect("not shut down yet");
        tokio::time::timeout(WAIT, agent.shutdown())
            .await
            .expect("agent shut down in time");
    }
}

/// Framework `id` (named `agent-test`), running tasks as the current user.
pub fn framework(id: &str) -> v1::FrameworkInfo {
    v1::FrameworkInfo {
        id: Some(v1::FrameworkId { value: id.into() }),
        ..framework_info("agent-test")
    }
}

pub fn shell_task(id: &str, command: &str) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: v1::AgentId {
            value: "agent-1".into(),
        },
        command: Some(v1::CommandInfo {
            shell: Some(true),
            value: Some(command.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn state(status: &v1::TaskStatus) -> v1::TaskState {
    v1::TaskState::try_from(status.state).expect("a known task state")
}

impl Harness {
    /// Waits until the agent has created an executor's sandbox (its stdout file): the
    /// executor process exists from then on.
    pub async fn wait_for_sandbox(&self) {
        tokio::time::timeout(WAIT, async {
            while super::find_files(&self.scratch.0, "stdout").is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("executor started");
    }

    /// Sends the agent a task of framework `f1` to run.
    pub fn run_task(&self, task: v1::TaskInfo) {
        self.to_agent
            .send(ToAgent::RunTask {
                framework: framework("f1"),
                task,
            })
            .unwrap();
    }

    /// The agent's `GET /monitor/statistics` answer (a JSON array), over real HTTP.
    pub async fn statistics(&self) -> Vec<serde_json::Value> {
        let endpoint = self
            .agent
            .as_ref()
            .expect("the agent runs")
            .executor_endpoint();
        let url = format!("http://{endpoint}/monitor/statistics");
        let response = tokio::time::timeout(WAIT, reqwest::get(&url))
            .await
            .expect("the statistics came in time")
            .expect("the statistics endpoint answers");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let body = response.bytes().await.expect("the statistics body");
        serde_json::from_slice(&body).expect("a JSON array")
    }

    /// The statistics of executor `executor_id` (a command task's executor id is the
    /// task's), when the agent reports it.
    pub async fn executor_statistics(&self, executor_id: &str) -> Option<serde_json::Value> {
        self.statistics()
            .await
            .into_iter()
            .find(|entry| entry["executor_id"] == executor_id)
    }
}
