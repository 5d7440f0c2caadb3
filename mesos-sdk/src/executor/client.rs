use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::watch;

use super::ExecutorError;
use crate::calls::executor as ec;
use crate::transport::{HttpTransport, ReconnectingPipeline, Url};
use crate::v1;
use crate::v1::executor::{Call, call};

/// Tasks and updates the agent has not acknowledged yet; resent in SUBSCRIBE.
#[derive(Debug, Default)]
pub(crate) struct Unacked {
    /// Launched tasks, by task id, until an update for them is acknowledged.
    pub(crate) tasks: BTreeMap<String, KeptTask>,
    /// Sent updates, in order, until acknowledged (matched by uuid). Acknowledgements
    /// mostly come oldest first, so the match is usually at the front.
    pub(crate) updates: VecDeque<call::Update>,
}

/// A launched task kept for a later SUBSCRIBE, which is rare: in its protobuf encoding
/// when the LAUNCH came in protobuf (one flat copy of its bytes in the event), else
/// decoded (boxed: a map node moves its values on every insert and removal).
#[derive(Debug)]
pub(crate) enum KeptTask {
    Encoded(Bytes),
    Decoded(Box<v1::TaskInfo>),
}

impl KeptTask {
    /// The task; `None` (logged) if kept bytes do not decode, which they did when the
    /// LAUNCH arrived.
    pub(crate) fn task(&self) -> Option<v1::TaskInfo> {
        match self {
            KeptTask::Decoded(task) => Some(task.as_ref().clone()),
            KeptTask::Encoded(bytes) => crate::codec::protobuf::decode(bytes)
                .inspect_err(|e| tracing::warn!(error = %e, "a kept task does not decode"))
                .ok(),
        }
    }
}

pub(crate) struct Shared {
    /// SUBSCRIBE, whose answer is the event stream.
    pub(crate) http: HttpTransport,
    /// UPDATE and MESSAGE, pipelined on one connection.
    calls: ReconnectingPipeline,
    pub(crate) url: Url,
    pub(crate) framework_id: v1::FrameworkId,
    pub(crate) executor_id: v1::ExecutorId,
    unacked: Mutex<Unacked>,
    pub(crate) stop: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn unacked(&self) -> MutexGuard<'_, Unacked> {
        self.unacked.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A handle for an executor's calls to its agent. Cheap to clone.
///
/// Calls go on their own connection (the subscription keeps one open for events),
/// pipelined in the order they are made, as Mesos's executor library sends them, and
/// carry no stream id, as the executor API requires.
#[derive(Clone)]
pub struct ExecutorClient {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for ExecutorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorClient")
            .field("agent", &self.shared.url.as_str())
            .field("executor_id", &self.shared.executor_id.value)
            .finish()
    }
}

impl ExecutorClient {
    pub(crate) fn new(
        http: HttpTransport,
        url: Url,
        framework_id: v1::FrameworkId,
        executor_id: v1::ExecutorId,
    ) -> Self {
        ExecutorClient {
            shared: Arc::new(Shared {
                calls: ReconnectingPipeline::new(http.clone()),
                http,
                url,
                framework_id,
                executor_id,
                unacked: Mutex::new(Unacked::default()),
                stop: watch::Sender::new(false),
            }),
        }
    }

    /// This executor's id.
    pub fn executor_id(&self) -> &v1::ExecutorId {
        &self.shared.executor_id
    }

    /// The framework's id.
    pub fn framework_id(&self) -> &v1::FrameworkId {
        &self.shared.framework_id
    }

    async fn send(&self, call: &Call) -> Result<(), ExecutorError> {
        let body = self.shared.http.encoding().encode(call);
        self.shared.calls.post(&self.shared.url, body, None).await?;
        Ok(())
    }

    /// Sends a status update. Fills in a fresh 16-byte uuid, `source`
    /// SOURCE_EXECUTOR, the timestamp and this executor's id. The update is kept
    /// until the agent acknowledges it and resent on resubscription, so it is not lost
    /// even if this call fails.
    ///
    /// # Errors
    /// [`ExecutorError::InvalidUpdate`] for TASK_STAGING (only agents use it) or an
    /// unknown state; [`ExecutorError::Transport`] if the agent did not take it (it
    /// will be resent after resubscribing).
    pub async fn update(&self, mut status: v1::TaskStatus) -> Result<(), ExecutorError> {
        match v1::TaskState::try_from(status.state) {
            Ok(v1::TaskState::TaskStaging) => {
                return Err(ExecutorError::InvalidUpdate(
                    "executors may not send TASK_STAGING; send TASK_STARTING or TASK_RUNNING"
                        .into(),
                ));
            }
            Ok(_) => {}
            Err(_) => {
                return Err(ExecutorError::InvalidUpdate(format!(
                    "unknown task state {}",
                    status.state
                )));
            }
        }
        status.uuid = Some(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes()));
        status.source = Some(v1::task_status::Source::Executor as i32);
        status.timestamp = Some(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default(),
        );
        status.executor_id = Some(self.shared.executor_id.clone());
        self.shared.unacked().updates.push_back(call::Update {
            status: status.clone(),
        });
        let shared = &self.shared;
        self.send(&ec::update(
            &shared.framework_id,
            &shared.executor_id,
            status,
        ))
        .await
    }

    /// Sends a status update built from its parts (see [`ExecutorClient::update`]).
    pub async fn send_status(
        &self,
        task_id: v1::TaskId,
        state: v1::TaskState,
        data: Option<Bytes>,
        message: Option<String>,
    ) -> Result<(), ExecutorError> {
        self.update(v1::TaskStatus {
            task_id,
            state: state as i32,
            data,
            message,
            ..Default::default()
        })
        .await
    }

    /// Sends the scheduler a message (best effort: not retried by Mesos).
    pub async fn message(&self, data: Bytes) -> Result<(), ExecutorError> {
        let shared = &self.shared;
        self.send(&ec::message(
            &shared.framework_id,
            &shared.executor_id,
            data,
        ))
        .await
    }

    /// Stops the driver: `run` returns `Ok(())`.
    pub fn stop(&self) {
        self.shared.stop.send_replace(true);
    }

    /// `true` once [`ExecutorClient::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        *self.shared.stop.borrow()
    }

    /// Updates sent but not yet acknowledged, oldest first.
    pub fn unacknowledged_updates(&self) -> Vec<v1::TaskStatus> {
        self.shared
            .unacked()
            .updates
            .iter()
            .map(|u| u.status.clone())
            .collect()
    }
}
