//! Executors' calls on the executor API: SUBSCRIBE (which opens the connection the
//! agent sends launches, kills and acknowledgements on), UPDATE and MESSAGE.

use tokio::sync::mpsc;

use super::executors::launch_event;
use super::refusals::{Rejection, validate_status};
use super::{Executor, Runtime};
use crate::agent::protocol::FromAgent;
use crate::agent::status;
use crate::agent::updates::task_key;
use mesos_sdk::v1;
use mesos_sdk::v1::executor::{Event, event};

impl Runtime {
    pub(super) fn on_subscribe(
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
                framework_info: framework_info.clone(),
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
        executor.subscribed = true;
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
    ) -> Result<(&v1::FrameworkInfo, &mut Executor), Rejection> {
        let framework = self
            .frameworks
            .get_mut(&call.framework_id.value)
            .ok_or(Rejection::UnknownFramework)?;
        let executor = framework
            .executors
            .get_mut(&call.executor_id.value)
            .ok_or(Rejection::UnknownExecutor)?;
        Ok((&framework.info, executor))
    }

    /// The container the executor `executor` of `framework` runs in.
    pub(super) fn container_of(
        &self,
        framework: &str,
        executor: &str,
    ) -> Result<String, Rejection> {
        let framework = self
            .frameworks
            .get(framework)
            .ok_or(Rejection::UnknownFramework)?;
        framework
            .executors
            .get(executor)
            .map(|e| e.container_id.clone())
            .ok_or(Rejection::UnknownExecutor)
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

    pub(super) fn on_executor_update(&mut self, call: v1::executor::Call) -> Result<(), Rejection> {
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

    pub(super) fn on_executor_message(
        &mut self,
        call: v1::executor::Call,
    ) -> Result<(), Rejection> {
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
