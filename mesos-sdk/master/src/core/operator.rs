//! The operator API on the books: the views `GET_*` calls answer (the v1 master
//! API's shapes), the changes operator calls make (weights, reservations, teardown,
//! agents gone or deactivated), and the events the operator stream carries.
//!
//! Refusals are [`OperatorError`]s with Apache Mesos's messages; the HTTP layer gives
//! each its status.

use std::collections::HashMap;

use thiserror::Error;
use tokio::sync::mpsc::Receiver;
use tokio::time::Instant;
use tracing::info;

use super::{Agent, Core, Framework, Task};
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;
use mesos_sdk::v1::master::{Event, Response, event, response};

/// Why the books refuse an operator call.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum OperatorError {
    /// The call names something unknown or asks for something invalid (400).
    #[error("{0}")]
    BadRequest(String),
    /// The agent to mark gone is unknown (404).
    #[error("{0}")]
    NotFound(String),
    /// The change cannot be applied to the books as they are now (409).
    #[error("{0}")]
    Conflict(String),
}

/// A new operator subscription: its queue starts with SUBSCRIBED.
pub(crate) type OperatorEvents = Receiver<std::sync::Arc<Event>>;

fn time_info(secs: f64) -> v1::TimeInfo {
    v1::TimeInfo {
        nanoseconds: (secs * 1e9) as i64,
    }
}

fn of(t: event::Type) -> Event {
    Event {
        r#type: Some(t as i32),
        ..Default::default()
    }
}

/// The operator stream's HEARTBEAT.
pub(crate) fn heartbeat() -> Event {
    of(event::Type::Heartbeat)
}

impl Core {
    /// What tasks and executors use (allocated) and offers hold (offered) on each
    /// agent, in one pass over the books.
    fn usage_by_agent(&self) -> HashMap<&str, (Resources, Resources)> {
        let mut usage: HashMap<&str, (Resources, Resources)> = HashMap::new();
        for f in self.frameworks.values() {
            for t in f.tasks.values().filter(|t| !t.is_terminal()) {
                usage.entry(t.task.agent_id.value.as_str()).or_default().0 += &t.resources;
            }
            for ((agent, _), e) in &f.executors {
                usage.entry(agent.as_str()).or_default().0 += &e.resources;
            }
        }
        for o in self.offers.values() {
            usage.entry(o.offer.agent_id.value.as_str()).or_default().1 += &o.resources;
        }
        usage
    }

    /// `GetAgents.Agent` of one agent, given what is allocated and offered on it.
    fn agent_view(
        &self,
        a: &Agent,
        allocated: Resources,
        offered: Resources,
    ) -> response::get_agents::Agent {
        let mut info = a.info.clone();
        info.id = Some(v1::AgentId {
            value: a.id.clone(),
        });
        response::get_agents::Agent {
            agent_info: info,
            active: a.connected() && !a.deactivated,
            deactivated: Some(a.deactivated),
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: Some(format!(
                "slave({})@{}:{}",
                a.id,
                a.info.hostname,
                a.info.port()
            )),
            registered_time: Some(time_info(a.registered_secs)),
            total_resources: a.total.clone().into_vec(),
            allocated_resources: allocated.into_vec(),
            offered_resources: offered.into_vec(),
            ..Default::default()
        }
    }

    /// `GetFrameworks.Framework` of one framework.
    fn framework_view(&self, f: &Framework) -> response::get_frameworks::Framework {
        let offers: Vec<v1::Offer> = self
            .offers
            .values()
            .filter(|o| o.offer.framework_id.value == f.id)
            .map(|o| o.offer.clone())
            .collect();
        let mut offered = Resources::new();
        for o in self
            .offers
            .values()
            .filter(|o| o.offer.framework_id.value == f.id)
        {
            offered += &o.resources;
        }
        response::get_frameworks::Framework {
            framework_info: f.info.clone(),
            active: f.connected(),
            connected: f.connected(),
            recovered: false,
            registered_time: Some(time_info(f.registered_secs)),
            offers,
            allocated_resources: f.used().into_vec(),
            offered_resources: offered.into_vec(),
            ..Default::default()
        }
    }

    fn sorted_frameworks(&self) -> Vec<&Framework> {
        let mut frameworks: Vec<&Framework> = self.frameworks.values().collect();
        frameworks.sort_by(|a, b| a.id.cmp(&b.id));
        frameworks
    }

    /// GET_AGENTS.
    pub(crate) fn get_agents(&self) -> response::GetAgents {
        let mut agents: Vec<&Agent> = self.agents.values().collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        let mut usage = self.usage_by_agent();
        response::GetAgents {
            agents: agents
                .into_iter()
                .map(|a| {
                    let (allocated, offered) = usage.remove(a.id.as_str()).unwrap_or_default();
                    self.agent_view(a, allocated, offered)
                })
                .collect(),
            recovered_agents: Vec::new(),
        }
    }

    /// GET_FRAMEWORKS: frameworks on the books, and the removed ones kept (newest
    /// last).
    pub(crate) fn get_frameworks(&self) -> response::GetFrameworks {
        response::GetFrameworks {
            frameworks: self
                .sorted_frameworks()
                .into_iter()
                .map(|f| self.framework_view(f))
                .collect(),
            completed_frameworks: self
                .completed_frameworks
                .iter()
                .map(|f| response::get_frameworks::Framework {
                    framework_info: f.info.clone(),
                    active: false,
                    connected: false,
                    recovered: false,
                    registered_time: Some(time_info(f.registered_secs)),
                    unregistered_time: Some(time_info(f.unregistered_secs)),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// GET_EXECUTORS: the custom executors the master launched.
    pub(crate) fn get_executors(&self) -> response::GetExecutors {
        let mut executors = Vec::new();
        for f in self.sorted_frameworks() {
            let mut mine: Vec<_> = f.executors.iter().collect();
            mine.sort_by(|a, b| a.0.cmp(b.0));
            for ((agent, _), e) in mine {
                executors.push(response::get_executors::Executor {
                    executor_info: e.info.clone(),
                    agent_id: v1::AgentId {
                        value: agent.clone(),
                    },
                });
            }
        }
        response::GetExecutors {
            executors,
            ..Default::default()
        }
    }

    /// GET_TASKS: tasks not terminal, and the completed ones: terminal tasks on the
    /// books, those already acknowledged, and those of removed frameworks.
    pub(crate) fn get_tasks(&self) -> response::GetTasks {
        let mut tasks = Vec::new();
        let mut completed = Vec::new();
        for f in self.sorted_frameworks() {
            let mut mine: Vec<&Task> = f.tasks.values().collect();
            mine.sort_by(|a, b| a.task.task_id.value.cmp(&b.task.task_id.value));
            for t in mine {
                if t.is_terminal() {
                    completed.push(t.view());
                } else {
                    tasks.push(t.view());
                }
            }
            completed.extend(f.completed_tasks.iter().cloned());
        }
        for f in &self.completed_frameworks {
            completed.extend(f.tasks.iter().cloned());
        }
        response::GetTasks {
            tasks,
            completed_tasks: completed,
            ..Default::default()
        }
    }

    /// GET_STATE: tasks, executors, frameworks and agents at one instant.
    pub(crate) fn get_state(&self) -> response::GetState {
        response::GetState {
            get_tasks: Some(self.get_tasks()),
            get_executors: Some(self.get_executors()),
            get_frameworks: Some(self.get_frameworks()),
            get_agents: Some(self.get_agents()),
        }
    }

    /// The weight of a role (1 unless set).
    pub(crate) fn weight(&self, role: &str) -> f64 {
        self.config.role_weights.get(role).copied().unwrap_or(1.0)
    }

    /// GET_ROLES: every role with a framework or a weight, with what its frameworks
    /// hold.
    pub(crate) fn get_roles(&self) -> response::GetRoles {
        let mut roles: std::collections::BTreeMap<String, v1::Role> = Default::default();
        for (role, weight) in &self.config.role_weights {
            roles.insert(
                role.clone(),
                v1::Role {
                    name: role.clone(),
                    weight: *weight,
                    ..Default::default()
                },
            );
        }
        for f in self.sorted_frameworks() {
            for role in f.roles() {
                let entry = roles.entry(role.clone()).or_insert_with(|| v1::Role {
                    name: role.clone(),
                    weight: self.weight(&role),
                    ..Default::default()
                });
                entry.frameworks.push(v1::FrameworkId {
                    value: f.id.clone(),
                });
                let held = self
                    .alloc
                    .allocated(&f.id)
                    .filter(|r| {
                        r.allocation_info.as_ref().and_then(|a| a.role.as_deref())
                            == Some(role.as_str())
                    })
                    .into_vec();
                entry.resources.extend(held);
            }
        }
        response::GetRoles {
            roles: roles.into_values().collect(),
        }
    }

    /// GET_WEIGHTS: the roles whose weight was set.
    pub(crate) fn get_weights(&self) -> response::GetWeights {
        let mut weight_infos: Vec<v1::WeightInfo> = self
            .config
            .role_weights
            .iter()
            .map(|(role, weight)| v1::WeightInfo {
                weight: *weight,
                role: Some(role.clone()),
            })
            .collect();
        weight_infos.sort_by(|a, b| a.role.cmp(&b.role));
        response::GetWeights { weight_infos }
    }

    /// UPDATE_WEIGHTS: all or nothing, as Mesos.
    pub(crate) fn update_weights(&mut self, infos: &[v1::WeightInfo]) -> Result<(), OperatorError> {
        for (role, weight) in Self::checked_weights(infos)? {
            info!(%role, weight, "role weight updated");
            self.alloc.set_weight(&role, weight);
            self.config.role_weights.insert(role, weight);
        }
        self.allocation_wanted = true;
        Ok(())
    }

    /// Every role weight as UPDATE_WEIGHTS with `infos` would leave them (what the
    /// registry stores), without changing the books.
    pub(crate) fn weights_after(
        &self,
        infos: &[v1::WeightInfo],
    ) -> Result<std::collections::BTreeMap<String, f64>, OperatorError> {
        let mut weights: std::collections::BTreeMap<String, f64> = self
            .config
            .role_weights
            .iter()
            .map(|(role, weight)| (role.clone(), *weight))
            .collect();
        weights.extend(Self::checked_weights(infos)?);
        Ok(weights)
    }

    /// The roles and weights of UPDATE_WEIGHTS, validated as Mesos does.
    fn checked_weights(infos: &[v1::WeightInfo]) -> Result<Vec<(String, f64)>, OperatorError> {
        let mut checked = Vec::new();
        for info in infos {
            let role = info.role.as_deref().unwrap_or("").trim().to_string();
            if let Err(message) = super::validate::role_name(&role) {
                return Err(OperatorError::BadRequest(format!(
                    "Failed to validate update weights request JSON: Invalid role '{role}': {message}"
                )));
            }
            if !(info.weight > 0.0 && info.weight.is_finite()) {
                return Err(OperatorError::BadRequest(format!(
                    "Failed to validate update weights request JSON for role '{role}': Invalid weight '{}': Weights must be positive",
                    info.weight
                )));
            }
            checked.push((role, info.weight));
        }
        Ok(checked)
    }

    /// RESERVE_RESOURCES (`reserve = true`) or UNRESERVE_RESOURCES on an agent's
    /// unallocated resources. Outstanding offers on the agent are rescinded first, so
    /// that what they held can be converted too.
    pub(crate) fn operator_reservation(
        &mut self,
        agent_id: &str,
        source: &[v1::Resource],
        resources: &[v1::Resource],
        reserve: bool,
        now: Instant,
    ) -> Result<(), OperatorError> {
        let kind = if reserve { "RESERVE" } else { "UNRESERVE" };
        if !self.agents.contains_key(agent_id) {
            return Err(OperatorError::BadRequest(
                "No agent found with specified ID".into(),
            ));
        }
        let invalid = |message: String| {
            OperatorError::BadRequest(format!("Invalid {kind} operation: {message}"))
        };
        if resources.is_empty() {
            return Err(invalid("no resources specified".into()));
        }
        if reserve {
            super::validate::operator_reserve(resources).map_err(invalid)?;
            if !source.is_empty() {
                Resources::validate(source).map_err(|e| invalid(e.to_string()))?;
            }
        } else {
            super::validate::unreserve(&v1::offer::operation::Unreserve {
                resources: resources.to_vec(),
            })
            .map_err(invalid)?;
        }
        let popped: Vec<v1::Resource> = resources
            .iter()
            .map(super::accept::pop_reservation)
            .collect();
        let (from, to) = if reserve {
            let from = if source.is_empty() {
                popped
            } else {
                source.to_vec()
            };
            (Resources::from(from), Resources::from(resources.to_vec()))
        } else {
            (Resources::from(resources.to_vec()), Resources::from(popped))
        };
        let offers: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.offer.agent_id.value == agent_id)
            .map(|(k, _)| k.clone())
            .collect();
        for offer in offers {
            self.remove_offer(&offer, true, now);
        }
        self.alloc
            .update_available(agent_id, &from, &to)
            .map_err(|_| {
                OperatorError::Conflict(format!(
                    "Failed to apply {kind} operation: resources {from} are not available on agent {agent_id}"
                ))
            })?;
        if let Some(agent) = self.agents.get_mut(agent_id) {
            agent.total -= &from;
            agent.total += &to;
        }
        info!(agent = %agent_id, %from, %to, "operator {kind} applied");
        self.allocation_wanted = true;
        Ok(())
    }

    /// TEARDOWN of a framework by the operator.
    pub(crate) fn operator_teardown(
        &mut self,
        framework_id: &str,
        now: Instant,
    ) -> Result<(), OperatorError> {
        if !self.frameworks.contains_key(framework_id) {
            return Err(OperatorError::BadRequest(
                "No framework found with specified ID".into(),
            ));
        }
        // As Mesos: the framework's stream just closes (no ERROR); a SUBSCRIBE with
        // its id is then refused ("Framework has been removed").
        self.remove_framework(framework_id, now);
        Ok(())
    }

    /// MARK_AGENT_GONE: the agent is shut down and its tasks become
    /// TASK_GONE_BY_OPERATOR. Marking an agent gone twice is not an error.
    pub(crate) fn mark_agent_gone(
        &mut self,
        agent_id: &str,
        now: Instant,
    ) -> Result<(), OperatorError> {
        self.check_mark_agent_gone(agent_id)?;
        if !self.gone_agents.insert(agent_id.to_string()) {
            return Ok(());
        }
        self.recovered_agents.remove(agent_id);
        let Some(agent) = self.agents.get(agent_id) else {
            return Ok(());
        };
        let _ = agent.sender.send(crate::agent::protocol::ToAgent::Shutdown);
        self.remove_agent_as(
            agent_id,
            now,
            v1::TaskState::TaskGoneByOperator,
            "Agent marked as gone by operator",
        );
        Ok(())
    }

    /// Whether MARK_AGENT_GONE may mark this agent: one on the books, one the master
    /// waits for after a failover, or one already gone (not an error).
    pub(crate) fn check_mark_agent_gone(&self, agent_id: &str) -> Result<(), OperatorError> {
        let known = self.gone_agents.contains(agent_id)
            || self.agents.contains_key(agent_id)
            || self.recovered_agents.contains_key(agent_id);
        if known {
            Ok(())
        } else {
            Err(OperatorError::NotFound(format!(
                "Agent '{agent_id}' not found"
            )))
        }
    }

    /// DEACTIVATE_AGENT: no more offers for the agent; its offers are rescinded.
    pub(crate) fn deactivate_agent(
        &mut self,
        agent_id: &str,
        now: Instant,
    ) -> Result<(), OperatorError> {
        let Some(agent) = self.agents.get_mut(agent_id) else {
            return Err(OperatorError::BadRequest("Unknown agent".into()));
        };
        agent.deactivated = true;
        self.alloc.deactivate_agent(agent_id);
        let offers: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.offer.agent_id.value == agent_id)
            .map(|(k, _)| k.clone())
            .collect();
        for offer in offers {
            self.remove_offer(&offer, true, now);
        }
        info!(agent = %agent_id, "agent deactivated by the operator");
        Ok(())
    }

    /// REACTIVATE_AGENT: offers for a deactivated agent again.
    pub(crate) fn reactivate_agent(&mut self, agent_id: &str) -> Result<(), OperatorError> {
        match self.agents.get_mut(agent_id) {
            Some(agent) if agent.deactivated => {
                agent.deactivated = false;
                self.alloc.activate_agent(agent_id);
                self.allocation_wanted = true;
                info!(agent = %agent_id, "agent reactivated by the operator");
                Ok(())
            }
            _ => Err(OperatorError::BadRequest("Agent is not deactivated".into())),
        }
    }

    /// SUBSCRIBE on the operator API: SUBSCRIBED with the whole state first, then
    /// every change in the order it is applied.
    pub(crate) fn operator_subscribe(&mut self) -> OperatorEvents {
        let subscribed = Event {
            subscribed: Some(event::Subscribed {
                get_state: Some(self.get_state()),
                heartbeat_interval_seconds: Some(self.config.heartbeat_interval.as_secs_f64()),
            }),
            ..of(event::Type::Subscribed)
        };
        self.watchers.add(subscribed)
    }

    /// Sends the event `build` makes to the operator subscribers, if there are any.
    fn notify(&mut self, build: impl FnOnce(&Core) -> Option<Event>) {
        if self.watchers.is_empty() {
            return;
        }
        if let Some(event) = build(self) {
            self.watchers.send(event);
        }
    }

    /// TASK_ADDED for a task just recorded.
    pub(crate) fn notify_task_added(&mut self, framework_id: &str, task_id: &str) {
        self.notify(|c| {
            let task = c.frameworks.get(framework_id)?.tasks.get(task_id)?;
            Some(Event {
                task_added: Some(event::TaskAdded {
                    task: task.task.clone(),
                }),
                ..of(event::Type::TaskAdded)
            })
        });
    }

    /// TASK_UPDATED for a task whose state just changed.
    pub(crate) fn notify_task_updated(&mut self, framework_id: &str, status: &v1::TaskStatus) {
        self.notify(|_| {
            Some(Event {
                task_updated: Some(event::TaskUpdated {
                    framework_id: v1::FrameworkId {
                        value: framework_id.to_string(),
                    },
                    status: status.clone(),
                    state: status.state,
                }),
                ..of(event::Type::TaskUpdated)
            })
        });
    }

    /// AGENT_ADDED for an agent just (re-)registered.
    pub(crate) fn notify_agent_added(&mut self, agent_id: &str) {
        self.notify(|c| {
            let agent = c.agents.get(agent_id)?;
            let (allocated, offered) = c.usage_by_agent().remove(agent_id).unwrap_or_default();
            Some(Event {
                agent_added: Some(event::AgentAdded {
                    agent: c.agent_view(agent, allocated, offered),
                }),
                ..of(event::Type::AgentAdded)
            })
        });
    }

    /// AGENT_REMOVED.
    pub(crate) fn notify_agent_removed(&mut self, agent_id: &str) {
        self.notify(|_| {
            Some(Event {
                agent_removed: Some(event::AgentRemoved {
                    agent_id: v1::AgentId {
                        value: agent_id.to_string(),
                    },
                }),
                ..of(event::Type::AgentRemoved)
            })
        });
    }

    /// FRAMEWORK_ADDED (`added`) or FRAMEWORK_UPDATED for a framework as it is now.
    pub(crate) fn notify_framework(&mut self, framework_id: &str, added: bool) {
        self.notify(|c| {
            let view = c.framework_view(c.frameworks.get(framework_id)?);
            Some(if added {
                Event {
                    framework_added: Some(event::FrameworkAdded { framework: view }),
                    ..of(event::Type::FrameworkAdded)
                }
            } else {
                Event {
                    framework_updated: Some(event::FrameworkUpdated { framework: view }),
                    ..of(event::Type::FrameworkUpdated)
                }
            })
        });
    }

    /// FRAMEWORK_REMOVED.
    pub(crate) fn notify_framework_removed(&mut self, info: &v1::FrameworkInfo) {
        self.notify(|_| {
            Some(Event {
                framework_removed: Some(event::FrameworkRemoved {
                    framework_info: info.clone(),
                }),
                ..of(event::Type::FrameworkRemoved)
            })
        });
    }

    /// How many operator subscribers are connected.
    pub(crate) fn operator_subscribers(&self) -> usize {
        self.watchers.len()
    }

    /// The GET_HEALTH, GET_VERSION, GET_MASTER and GET_METRICS answers.
    pub(crate) fn get_master(&self) -> response::GetMaster {
        response::GetMaster {
            master_info: Some(self.master_info.clone()),
            start_time: Some(
                self.started
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0),
            ),
            elected_time: None,
        }
    }

    /// GET_METRICS: every metric of `/metrics/snapshot` that is a number.
    pub(crate) fn get_metrics(&self) -> response::GetMetrics {
        let metrics = self
            .metrics()
            .into_iter()
            .map(|(name, value)| v1::Metric {
                name,
                value: value.as_f64(),
            })
            .collect();
        response::GetMetrics { metrics }
    }
}

/// A `Response` of `kind` with its payload set by `fill`.
pub(crate) fn response_of(kind: response::Type, fill: impl FnOnce(&mut Response)) -> Response {
    let mut r = Response {
        r#type: Some(kind as i32),
        ..Default::default()
    };
    fill(&mut r);
    r
}
