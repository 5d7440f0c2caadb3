//! Agents joining and leaving, and what they report.

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tracing::{info, warn};

use super::{Agent, Core, events};
use crate::agent::protocol::{FromAgent, ToAgent};
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;

impl Core {
    /// Registers an agent; its resources are offered from the next cycle.
    pub(crate) fn add_agent(
        &mut self,
        info: v1::AgentInfo,
        sender: UnboundedSender<ToAgent>,
    ) -> String {
        self.register_agent(info, sender, false)
    }

    /// Registers an agent, or takes a known one back on a new channel (a remote agent
    /// re-registering), keeping its tasks and books.
    pub(crate) fn register_agent(
        &mut self,
        info: v1::AgentInfo,
        sender: UnboundedSender<ToAgent>,
        remote: bool,
    ) -> String {
        if let Some(id) = info.id.as_ref().map(|i| i.value.clone())
            && let Some(agent) = self.agents.get_mut(&id)
        {
            info!(agent = %id, "agent re-registered");
            agent.sender = sender;
            agent.disconnected_since = None;
            agent.info.hostname = info.hostname;
            agent.info.port = info.port;
            self.allocation_wanted = true;
            self.notify_agent_added(&id);
            return id;
        }
        let id = info
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_else(|| self.new_agent_id());
        let total = Resources::from(info.resources.clone()).unallocate();
        info!(agent = %id, hostname = %info.hostname, "agent registered");
        self.alloc.add_agent(&id, total.clone());
        self.agents.insert(
            id.clone(),
            Agent {
                info,
                id: id.clone(),
                total,
                sender,
                remote,
                disconnected_since: None,
                deactivated: false,
                registered_secs: events::now_secs(),
            },
        );
        self.allocation_wanted = true;
        self.notify_agent_added(&id);
        id
    }

    /// Drops every agent's command channel (this master stepped down): remote agents'
    /// streams end and they look for the new leader.
    pub(crate) fn disconnect_agents(&mut self) {
        for agent in self.agents.values_mut() {
            let (closed, _) = tokio::sync::mpsc::unbounded_channel();
            agent.sender = closed;
        }
    }

    /// An agent is gone: its tasks are lost, its offers rescinded, and every
    /// connected framework receives a FAILURE for it.
    pub(crate) fn remove_agent(&mut self, agent_id: &str, now: Instant) {
        self.remove_agent_as(agent_id, now, v1::TaskState::TaskLost, "Agent removed");
    }

    /// Removes an agent; its tasks get `state` (TASK_LOST, or TASK_GONE_BY_OPERATOR
    /// for an agent the operator marked gone) with REASON_AGENT_REMOVED.
    pub(crate) fn remove_agent_as(
        &mut self,
        agent_id: &str,
        now: Instant,
        state: v1::TaskState,
        message: &str,
    ) {
        let offers: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.offer.agent_id.value == agent_id)
            .map(|(k, _)| k.clone())
            .collect();
        for offer in offers {
            self.remove_offer(&offer, true, now);
        }
        let Some(agent) = self.agents.remove(agent_id) else {
            return;
        };
        if agent.remote {
            self.registry_removals.push(agent_id.to_owned());
        }
        self.alloc.remove_agent(agent_id);
        warn!(agent = %agent_id, "agent removed; its tasks are lost");
        let mut updated = Vec::new();
        for fw in self.frameworks.values_mut() {
            fw.executors.retain(|(a, _), _| a != agent_id);
            let mut lost = Vec::new();
            for task in fw.tasks.values_mut() {
                if task.task.agent_id.value == agent_id && !task.is_terminal() {
                    let status = events::master_status(
                        task.task.task_id.clone(),
                        state,
                        v1::task_status::Reason::AgentRemoved,
                        message,
                        Some(agent_id),
                    );
                    task.task.state = status.state;
                    task.latest = Some(status.clone());
                    lost.push(status);
                }
            }
            self.counters.tasks_lost += lost.len() as u64;
            for status in &lost {
                fw.send(events::update(status.clone()));
            }
            fw.send(events::failure(agent_id, None, None));
            updated.extend(lost.into_iter().map(|s| (fw.id.clone(), s)));
        }
        self.allocation_wanted = true;
        for (framework_id, status) in updated {
            self.notify_task_updated(&framework_id, &status);
        }
        self.notify_agent_removed(agent_id);
    }

    /// Handles one report of an agent.
    pub(crate) fn on_agent_event(&mut self, agent_id: &str, event: FromAgent, now: Instant) {
        match event {
            FromAgent::StatusUpdate {
                framework_id,
                status,
            } => self.on_status(agent_id, framework_id, status, now),
            FromAgent::ExecutorMessage {
                framework_id,
                executor_id,
                data,
            } => {
                if let Some(fw) = self.frameworks.get(&framework_id.value) {
                    fw.send(events::message(agent_id, executor_id, data));
                }
            }
            FromAgent::ExecutorTerminated {
                framework_id,
                executor_id,
                status,
            } => {
                let Some(fw) = self.frameworks.get_mut(&framework_id.value) else {
                    return;
                };
                fw.send(events::failure(agent_id, Some(executor_id.clone()), status));
                if let Some(executor) = fw
                    .executors
                    .remove(&(agent_id.to_string(), executor_id.value))
                {
                    self.alloc.recover(
                        &framework_id.value,
                        agent_id,
                        &executor.resources,
                        None,
                        now.into_std(),
                    );
                    self.allocation_wanted = true;
                }
            }
        }
    }

    fn on_status(
        &mut self,
        agent_id: &str,
        framework_id: v1::FrameworkId,
        mut status: v1::TaskStatus,
        now: Instant,
    ) {
        if status.agent_id.is_none() {
            status.agent_id = Some(v1::AgentId {
                value: agent_id.to_string(),
            });
        }
        let Some(fw) = self.frameworks.get_mut(&framework_id.value) else {
            // The framework is gone; acknowledge so the agent stops retrying.
            if let (Some(agent), Some(uuid)) = (self.agents.get(agent_id), status.uuid.clone()) {
                let _ = agent.sender.send(ToAgent::Acknowledge {
                    framework_id,
                    task_id: status.task_id.clone(),
                    uuid,
                });
            }
            return;
        };
        let known = fw.tasks.contains_key(&status.task_id.value);
        if let Some(task) = fw.tasks.get_mut(&status.task_id.value) {
            let was_terminal = task.is_terminal();
            task.task.state = status.state;
            task.task.status_update_state = Some(status.state);
            task.task.status_update_uuid = status.uuid.clone();
            task.latest = Some(status.clone());
            if status.is_terminal() && !was_terminal {
                self.alloc.recover(
                    &framework_id.value,
                    agent_id,
                    &task.resources,
                    None,
                    now.into_std(),
                );
                self.allocation_wanted = true;
                use v1::TaskState::*;
                let c = &mut self.counters;
                match v1::TaskState::try_from(status.state).unwrap_or(TaskLost) {
                    TaskFinished => c.tasks_finished += 1,
                    TaskFailed => c.tasks_failed += 1,
                    TaskKilled => c.tasks_killed += 1,
                    TaskError => c.tasks_error += 1,
                    TaskDropped => c.tasks_dropped += 1,
                    _ => c.tasks_lost += 1,
                }
            }
        }
        // Only operator subscribers need the status once the framework has it.
        let notice = (known && !self.watchers.is_empty()).then(|| status.clone());
        fw.send(events::update(status));
        if let Some(status) = notice {
            self.notify_task_updated(&framework_id.value, &status);
        }
    }
}
