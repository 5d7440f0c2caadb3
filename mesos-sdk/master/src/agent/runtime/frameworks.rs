//! Framework bookkeeping: a framework is entered on its first launch, shut down
//! on the master's word (or the agent's), and forgotten once its last process is gone;
//! framework messages go to its executors.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;

use super::{Framework, Runtime};
use crate::agent::status;
use mesos_sdk::v1;
use mesos_sdk::v1::executor::{Event, event};

impl Runtime {
    pub(super) fn framework_entry(
        &mut self,
        framework: v1::FrameworkInfo,
    ) -> Option<&mut Framework> {
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

    pub(super) fn shutdown_framework(&mut self, fid: &str) {
        let Some(framework) = self.frameworks.get_mut(fid) else {
            return;
        };
        tracing::info!(framework = %fid, "shutting framework down");
        framework.shutting_down = true;
        let default_grace = self.config.kill_grace_period;
        for command in framework.commands.values_mut() {
            command.stop_checking();
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

    pub(super) fn maybe_forget_framework(&mut self, fid: &str) {
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

    pub(super) fn shutdown_all(&mut self) {
        if !self.shutting_down {
            tracing::info!(agent = %self.config.agent_id, "agent shutting down");
        }
        self.shutting_down = true;
        let ids: Vec<String> = self.frameworks.keys().cloned().collect();
        for fid in ids {
            self.shutdown_framework(&fid);
        }
    }

    pub(super) fn framework_message(
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
}
