//! Status updates: built by the agent or recorded from an executor, queued for reliable
//! delivery, and acknowledged by the scheduler through the master.

use bytes::Bytes;
use tokio::time::Instant;

use super::Runtime;
use crate::agent::protocol::FromAgent;
use crate::agent::status::NewStatus;
use crate::agent::updates::task_key;
use mesos_sdk::v1;
use mesos_sdk::v1::executor::{Event, event};
use mesos_sdk::v1::task_status::{Reason, Source};

impl Runtime {
    /// Queues a status update for reliable delivery, sending it now if it is the head.
    pub(super) fn update(&mut self, framework_id: &v1::FrameworkId, status: v1::TaskStatus) {
        self.states
            .insert(task_key(framework_id, &status.task_id), status.state);
        if let Some(head) = self.updates.enqueue(framework_id, status, Instant::now()) {
            self.emit(FromAgent::StatusUpdate {
                framework_id: framework_id.clone(),
                status: head,
            });
        }
    }

    pub(super) fn agent_status(
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

    pub(super) fn acknowledge(
        &mut self,
        framework_id: &v1::FrameworkId,
        task_id: &v1::TaskId,
        uuid: &[u8],
    ) {
        let key = task_key(framework_id, task_id);
        let (acked, next) = self.updates.acknowledge(&key, uuid, Instant::now());
        let Some(acked) = acked else {
            tracing::debug!(task = %task_id.value, "acknowledgement matches no pending update");
            return;
        };
        if acked.task_done {
            self.states.remove(&key);
        }
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
}
