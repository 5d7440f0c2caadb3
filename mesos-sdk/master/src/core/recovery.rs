//! After a failover: what the registry says, and what re-registering agents report.
//!
//! A newly elected master knows only the registry (admitted agents, role weights). Each
//! admitted agent gets `agent_reregister_timeout` to re-register; its report (frameworks,
//! executors, tasks) rebuilds the books: frameworks the master has not seen yet are
//! kept, disconnected, until they re-subscribe, and what the tasks and executors use
//! counts in the allocator.

use std::collections::{BTreeMap, HashMap, HashSet};

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{Duration, Instant};
use tracing::{info, warn};

use super::{Core, Executor, Framework, Task, events};
use crate::agent::protocol::AgentReport;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;

impl Core {
    /// Takes what the registry holds: each admitted agent may re-register until
    /// `now + agent_reregister_timeout`; the registry's role weights replace the
    /// configured ones for the roles they name.
    pub(crate) fn recover(
        &mut self,
        agents: impl IntoIterator<Item = String>,
        weights: BTreeMap<String, f64>,
        now: Instant,
    ) {
        let deadline = now + self.config.agent_reregister_timeout;
        for id in agents {
            if !self.agents.contains_key(&id) {
                self.recovered_agents.insert(id, deadline);
            }
        }
        for (role, weight) in weights {
            self.alloc.set_weight(&role, weight);
            self.config.role_weights.insert(role, weight);
        }
        info!(
            agents = self.recovered_agents.len(),
            "recovered the registry; waiting for agents to re-register"
        );
    }

    /// Agents of the registry that did not re-register in time are forgotten (and
    /// removed from the registry).
    pub(crate) fn expire_recovered(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .recovered_agents
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            warn!(agent = %id, "agent did not re-register after the failover; removing it");
            self.recovered_agents.remove(&id);
            self.registry_removals.push(id);
        }
    }

    /// The earliest deadline of a recovered agent.
    pub(crate) fn next_recovery_deadline(&self) -> Option<Instant> {
        self.recovered_agents.values().min().copied()
    }

    /// Adds what a newly (re-)registered agent reports running to the books.
    pub(super) fn adopt_report(&mut self, agent_id: &str, report: AgentReport, now: Instant) {
        self.recovered_agents.remove(agent_id);
        let infos: HashMap<String, v1::FrameworkInfo> = report
            .frameworks
            .into_iter()
            .filter_map(|f| f.id.clone().map(|id| (id.value, f)))
            .collect();
        for executor in report.executors {
            let Some(fid) = executor.framework_id.clone().map(|f| f.value) else {
                continue;
            };
            if !self.ensure_framework(&fid, infos.get(&fid), now) {
                continue;
            }
            let key = (agent_id.to_owned(), executor.executor_id.value.clone());
            let resources = Resources::from(executor.resources.clone());
            let Some(fw) = self.frameworks.get_mut(&fid) else {
                continue;
            };
            if fw.executors.contains_key(&key) {
                continue;
            }
            fw.executors.insert(
                key,
                Executor {
                    info: executor,
                    resources: resources.clone(),
                },
            );
            self.alloc.add_used(&fid, agent_id, &resources);
        }
        let mut adopted = 0usize;
        for mut task in report.tasks {
            let fid = task.framework_id.value.clone();
            if !self.ensure_framework(&fid, infos.get(&fid), now) {
                continue;
            }
            let Some(fw) = self.frameworks.get_mut(&fid) else {
                continue;
            };
            if fw.tasks.contains_key(&task.task_id.value) {
                continue;
            }
            task.agent_id = v1::AgentId {
                value: agent_id.to_owned(),
            };
            let latest = task.statuses.last().cloned();
            let resources = Resources::from(task.resources.clone());
            let entry = Task {
                task,
                latest,
                resources,
            };
            let used = (!entry.is_terminal()).then(|| entry.resources.clone());
            let task_id = entry.task.task_id.value.clone();
            fw.tasks.insert(task_id.clone(), entry);
            if let Some(used) = used {
                self.alloc.add_used(&fid, agent_id, &used);
            }
            self.notify_task_added(&fid, &task_id);
            adopted += 1;
        }
        if adopted > 0 {
            info!(agent = %agent_id, tasks = adopted, "took the agent's running tasks into the books");
        }
    }

    /// Makes sure a framework named in an agent's report is known: one the master has
    /// not seen since the failover is kept disconnected, with its failover timeout (at
    /// least `framework_reregister_grace`) to re-subscribe. `false` for a framework
    /// that was removed.
    fn ensure_framework(
        &mut self,
        framework_id: &str,
        info: Option<&v1::FrameworkInfo>,
        now: Instant,
    ) -> bool {
        if self.frameworks.contains_key(framework_id) {
            return true;
        }
        if self.is_removed_framework(framework_id) {
            return false;
        }
        let mut info = info.cloned().unwrap_or_default();
        info.id = Some(v1::FrameworkId {
            value: framework_id.to_owned(),
        });
        let own = info
            .failover_timeout
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| Duration::from_secs_f64(t.min(1e9)))
            .unwrap_or(Duration::ZERO);
        let wait = own.max(self.config.framework_reregister_grace);
        info!(framework = %framework_id, ?wait, "framework known from an agent's report; waiting for it to re-subscribe");
        let mut framework = Framework::new(framework_id.to_owned(), info, None);
        framework.failover_deadline = Some(now + wait);
        let roles = framework.roles();
        self.frameworks.insert(framework_id.to_owned(), framework);
        self.alloc.add_framework(framework_id, &roles);
        self.alloc.deactivate_framework(framework_id);
        self.notify_framework(framework_id, true);
        true
    }

    /// Registers an agent with what it reports running (see [`Core::register_agent`]).
    pub(crate) fn register_reporting_agent(
        &mut self,
        info: v1::AgentInfo,
        sender: UnboundedSender<crate::agent::protocol::ToAgent>,
        report: AgentReport,
        now: Instant,
    ) -> String {
        let known = info
            .id
            .as_ref()
            .is_some_and(|id| self.agents.contains_key(&id.value));
        let id = self.register_agent(info, sender, true);
        if known {
            self.forget_unreported(&id, &report, now);
        } else {
            self.adopt_report(&id, report, now);
        }
        id
    }

    /// A known agent re-registered: what the books have on it but the agent does not
    /// report is gone (a launch that never reached it, or an agent restarted without
    /// its tasks). Such tasks end `TASK_LOST` (`Task is unknown to the agent`), such
    /// executors are removed, and what they held is free again.
    fn forget_unreported(&mut self, agent_id: &str, report: &AgentReport, now: Instant) {
        let tasks: HashSet<(&str, &str)> = report
            .tasks
            .iter()
            .map(|t| (t.framework_id.value.as_str(), t.task_id.value.as_str()))
            .collect();
        let executors: HashSet<(&str, &str)> = report
            .executors
            .iter()
            .filter_map(|e| {
                let fid = e.framework_id.as_ref()?;
                Some((fid.value.as_str(), e.executor_id.value.as_str()))
            })
            .collect();
        let mut freed: Vec<(String, Resources)> = Vec::new();
        let mut notices: Vec<(String, v1::TaskStatus)> = Vec::new();
        let mut lost_count = 0u64;
        for fw in self.frameworks.values_mut() {
            let mut lost = Vec::new();
            for task in fw.tasks.values_mut() {
                if task.task.agent_id.value != agent_id
                    || task.is_terminal()
                    || tasks.contains(&(fw.id.as_str(), task.task.task_id.value.as_str()))
                {
                    continue;
                }
                warn!(framework = %fw.id, task = %task.task.task_id.value, agent = %agent_id, "task unknown to the re-registered agent; it is lost");
                let status = events::master_status(
                    task.task.task_id.clone(),
                    v1::TaskState::TaskLost,
                    v1::task_status::Reason::Reconciliation,
                    "Task is unknown to the agent",
                    Some(agent_id),
                );
                task.task.state = status.state;
                task.latest = Some(status.clone());
                freed.push((fw.id.clone(), task.resources.clone()));
                lost.push(status);
            }
            lost_count += lost.len() as u64;
            for status in lost {
                fw.send(events::update(status.clone()));
                notices.push((fw.id.clone(), status));
            }
            let gone: Vec<(String, String)> = fw
                .executors
                .keys()
                .filter(|(a, e)| {
                    a == agent_id && !executors.contains(&(fw.id.as_str(), e.as_str()))
                })
                .cloned()
                .collect();
            for key in gone {
                if let Some(executor) = fw.executors.remove(&key) {
                    freed.push((fw.id.clone(), executor.resources));
                }
            }
        }
        self.counters.tasks_lost += lost_count;
        for (framework_id, status) in notices {
            self.notify_task_updated(&framework_id, &status);
        }
        for (framework_id, resources) in freed {
            self.alloc
                .recover(&framework_id, agent_id, &resources, None, now.into_std());
            self.allocation_wanted = true;
        }
    }
}
