//! ACCEPT: offer validation, LAUNCH, LAUNCH_GROUP, RESERVE/UNRESERVE, CREATE/DESTROY,
//! following the rules of Mesos's `src/master/validation.cpp`.

use std::collections::HashSet;

use tokio::time::Instant;
use tracing::{info, warn};

use super::pool::{Pool, strip_allocation};
use super::{Core, Task, events, is_terminal};
use crate::master::agent::protocol::ToAgent;
use crate::v1;
use crate::v1::scheduler::call;

/// Why a task is refused.
fn validate_task(task: &v1::TaskInfo, known: &HashSet<String>) -> Result<(), String> {
    if task.task_id.value.is_empty() {
        return Err("Task ID must not be empty".into());
    }
    if known.contains(&task.task_id.value) {
        return Err(format!("Task has duplicate ID: {}", task.task_id.value));
    }
    match (&task.command, &task.executor) {
        (None, None) => return Err(
            "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                .into(),
        ),
        (Some(_), Some(_)) => return Err(
            "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                .into(),
        ),
        _ => {}
    }
    validate_resources(&task.resources)?;
    if let Some(executor) = &task.executor {
        validate_resources(&executor.resources)?;
    }
    if task.resources.is_empty() {
        return Err("Task uses no resources".into());
    }
    Ok(())
}

fn validate_resources(resources: &[v1::Resource]) -> Result<(), String> {
    for r in resources {
        if r.name.is_empty() {
            return Err("Resource has an empty name".into());
        }
        let scalar = v1::value::Type::Scalar as i32;
        if r.r#type == scalar {
            match r.scalar.as_ref() {
                Some(s) if s.value.is_finite() && s.value >= 0.0 => {}
                _ => return Err(format!("Invalid scalar resource '{}'", r.name)),
            }
        } else if r.r#type == v1::value::Type::Ranges as i32 {
            if r.ranges
                .as_ref()
                .is_none_or(|x| x.range.iter().any(|g| g.begin > g.end))
            {
                return Err(format!("Invalid ranges resource '{}'", r.name));
            }
        } else if r.r#type == v1::value::Type::Set as i32 {
            if r.set.is_none() {
                return Err(format!("Invalid set resource '{}'", r.name));
            }
        } else {
            return Err(format!("Resource '{}' has an unsupported type", r.name));
        }
    }
    Ok(())
}

/// The resource without its newest reservation (what UNRESERVE yields).
fn pop_reservation(r: &v1::Resource) -> v1::Resource {
    let mut r = strip_allocation(r);
    r.reservations.pop();
    r.reservation = None;
    r
}

/// The volume without its persistence (what DESTROY yields).
fn without_volume(r: &v1::Resource) -> v1::Resource {
    let mut r = strip_allocation(r);
    if let Some(disk) = r.disk.as_mut() {
        disk.persistence = None;
        disk.volume = None;
        if disk.source.is_none() {
            r.disk = None;
        }
    }
    r
}

/// Replaces `from` by `to` in both pools, or `Err` when `from` is not available.
fn convert(
    offered: &mut Pool,
    total: &mut Pool,
    from: &[v1::Resource],
    to: &[v1::Resource],
) -> Result<(), String> {
    let from = Pool::from_resources(from);
    let to = Pool::from_resources(to);
    if !offered.contains(&from) {
        return Err("Operation uses resources that are not in the offer".into());
    }
    offered.subtract(&from);
    offered.add_all(to.resources());
    total.subtract(&from);
    total.add_all(to.resources());
    Ok(())
}

impl Core {
    pub(super) fn accept(&mut self, fw_id: &str, accept: call::Accept, now: Instant) {
        // Offer validation: known, this framework's, one agent, no duplicates.
        let mut error = None;
        let mut seen = HashSet::new();
        let mut agent_id: Option<String> = None;
        for id in &accept.offer_ids {
            if !seen.insert(id.value.clone()) {
                error = Some(format!("Duplicate offer {} in the ACCEPT", id.value));
                continue;
            }
            match self.offers.get(&id.value) {
                None => error = Some(format!("Offer {} is no longer valid", id.value)),
                Some(o) if o.offer.framework_id.value != fw_id => {
                    error = Some(format!("Offer {} is not for this framework", id.value))
                }
                Some(o) => match &agent_id {
                    Some(a) if *a != o.offer.agent_id.value => {
                        error = Some("Aggregated offers must belong to one agent".into())
                    }
                    _ => agent_id = Some(o.offer.agent_id.value.clone()),
                },
            }
        }
        if accept.offer_ids.is_empty() {
            error = Some("No offers specified".into());
        }
        let owned: Vec<String> = accept
            .offer_ids
            .iter()
            .filter(|id| {
                self.offers
                    .get(&id.value)
                    .is_some_and(|o| o.offer.framework_id.value == fw_id)
            })
            .map(|id| id.value.clone())
            .collect();
        let agent_id = match (error, agent_id) {
            (None, Some(agent_id)) => agent_id,
            (error, _) => {
                let message = error.unwrap_or_else(|| "No valid offers".into());
                warn!(framework = %fw_id, %message, "ACCEPT with invalid offers");
                // The valid offers among them go back to their agent.
                for id in owned {
                    self.remove_offer(&id, false, now);
                }
                self.drop_launches(fw_id, &accept.operations, &message);
                return;
            }
        };
        let mut offered = Pool::new();
        let mut role = None;
        for id in owned {
            if let Some(entry) = self.offers.remove(&id) {
                role = entry.offer.allocation_info.and_then(|a| a.role);
                offered.add_all(entry.resources.resources());
            }
        }
        let role = role.unwrap_or_else(|| "*".to_string());
        let Some(fw) = self.frameworks.get(fw_id) else {
            self.give_back(Some(agent_id), &offered);
            return;
        };
        let framework_info = fw.info.clone();
        let mut known: HashSet<String> = fw
            .tasks
            .iter()
            .filter(|(_, t)| !is_terminal(t.task.state))
            .map(|(k, _)| k.clone())
            .collect();
        let mut updates = Vec::new();
        for op in accept.operations {
            if let Some(launch) = op.launch {
                for task in launch.task_infos {
                    match self.launch_one(
                        fw_id,
                        &agent_id,
                        &role,
                        &framework_info,
                        task,
                        &mut offered,
                        &mut known,
                    ) {
                        Ok(()) => {}
                        Err(status) => updates.push(*status),
                    }
                }
            } else if let Some(group) = op.launch_group {
                updates.extend(self.launch_group(
                    fw_id,
                    &agent_id,
                    &role,
                    &framework_info,
                    group,
                    &mut offered,
                    &mut known,
                ));
            } else {
                let Some(agent) = self.agents.get_mut(&agent_id) else {
                    continue;
                };
                let result = if let Some(reserve) = op.reserve {
                    let from: Vec<v1::Resource> = if reserve.source.is_empty() {
                        reserve.resources.iter().map(pop_reservation).collect()
                    } else {
                        reserve.source.clone()
                    };
                    convert(&mut offered, &mut agent.total, &from, &reserve.resources)
                } else if let Some(unreserve) = op.unreserve {
                    let to: Vec<v1::Resource> =
                        unreserve.resources.iter().map(pop_reservation).collect();
                    convert(&mut offered, &mut agent.total, &unreserve.resources, &to)
                } else if let Some(create) = op.create {
                    let from: Vec<v1::Resource> =
                        create.volumes.iter().map(without_volume).collect();
                    convert(&mut offered, &mut agent.total, &from, &create.volumes)
                } else if let Some(destroy) = op.destroy {
                    let to: Vec<v1::Resource> =
                        destroy.volumes.iter().map(without_volume).collect();
                    convert(&mut offered, &mut agent.total, &destroy.volumes, &to)
                } else {
                    Err("Unsupported offer operation".into())
                };
                if let Err(message) = result {
                    warn!(framework = %fw_id, %message, "offer operation refused");
                }
            }
        }
        if let Some(fw) = self.frameworks.get(fw_id) {
            for status in updates {
                fw.send(events::update(status));
            }
        }
        self.give_back(Some(agent_id.clone()), &offered);
        if !offered.is_empty() {
            self.add_filter(fw_id, &agent_id, accept.filters.as_ref(), now);
        }
    }

    fn give_back(&mut self, agent_id: Option<String>, pool: &Pool) {
        if let Some(agent) = agent_id.and_then(|a| self.agents.get_mut(&a)) {
            agent.free.add_all(pool.resources());
        }
        self.allocation_wanted = true;
    }

    fn drop_launches(&mut self, fw_id: &str, operations: &[v1::offer::Operation], message: &str) {
        let Some(fw) = self.frameworks.get(fw_id) else {
            return;
        };
        let state = if fw.has_capability(v1::framework_info::capability::Type::PartitionAware) {
            v1::TaskState::TaskDropped
        } else {
            v1::TaskState::TaskLost
        };
        let tasks = operations.iter().flat_map(|op| {
            let launch = op.launch.iter().flat_map(|l| l.task_infos.iter());
            let group = op
                .launch_group
                .iter()
                .flat_map(|g| g.task_group.tasks.iter());
            launch.chain(group)
        });
        for task in tasks {
            let status = events::master_status(
                task.task_id.clone(),
                state,
                v1::task_status::Reason::InvalidOffers,
                message,
                Some(&task.agent_id.value),
            );
            fw.send(events::update(status));
        }
    }

    /// Resources a task needs from the offer: its own, plus its executor's when that
    /// executor is not running yet.
    fn needs(&self, fw_id: &str, agent_id: &str, task: &v1::TaskInfo) -> Pool {
        let mut need = Pool::from_resources(&task.resources);
        if let Some(executor) = &task.executor {
            let running = self.frameworks.get(fw_id).is_some_and(|f| {
                f.executors
                    .contains_key(&(agent_id.to_string(), executor.executor_id.value.clone()))
            });
            if !running {
                need.add_all(&executor.resources);
            }
        }
        need
    }

    fn record_task(&mut self, fw_id: &str, agent_id: &str, task: &v1::TaskInfo) {
        let Some(fw) = self.frameworks.get_mut(fw_id) else {
            return;
        };
        if let Some(executor) = &task.executor {
            fw.executors
                .entry((agent_id.to_string(), executor.executor_id.value.clone()))
                .or_insert_with(|| Pool::from_resources(&executor.resources));
        }
        fw.tasks.insert(
            task.task_id.value.clone(),
            Task {
                task: v1::Task {
                    name: task.name.clone(),
                    task_id: task.task_id.clone(),
                    framework_id: v1::FrameworkId {
                        value: fw_id.to_string(),
                    },
                    executor_id: task.executor.as_ref().map(|e| e.executor_id.clone()),
                    agent_id: v1::AgentId {
                        value: agent_id.to_string(),
                    },
                    state: v1::TaskState::TaskStaging as i32,
                    resources: task.resources.clone(),
                    labels: task.labels.clone(),
                    discovery: task.discovery.clone(),
                    container: task.container.clone(),
                    health_check: task.health_check.clone(),
                    kill_policy: task.kill_policy,
                    ..Default::default()
                },
                latest: None,
            },
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn launch_one(
        &mut self,
        fw_id: &str,
        agent_id: &str,
        role: &str,
        framework: &v1::FrameworkInfo,
        mut task: v1::TaskInfo,
        offered: &mut Pool,
        known: &mut HashSet<String>,
    ) -> Result<(), Box<v1::TaskStatus>> {
        let invalid = |task: &v1::TaskInfo, message: String| {
            Box::new(events::master_status(
                task.task_id.clone(),
                v1::TaskState::TaskError,
                v1::task_status::Reason::TaskInvalid,
                &message,
                Some(agent_id),
            ))
        };
        validate_task(&task, known).map_err(|m| invalid(&task, m))?;
        let need = self.needs(fw_id, agent_id, &task);
        if !offered.contains(&need) {
            return Err(invalid(
                &task,
                "Task uses more resources than available in the offer".into(),
            ));
        }
        offered.subtract(&need);
        known.insert(task.task_id.value.clone());
        task.agent_id = v1::AgentId {
            value: agent_id.to_string(),
        };
        tag_role(&mut task, role);
        self.record_task(fw_id, agent_id, &task);
        info!(framework = %fw_id, task = %task.task_id.value, agent = %agent_id, "launching task");
        if let Some(agent) = self.agents.get(agent_id) {
            let _ = agent.sender.send(ToAgent::RunTask {
                framework: framework.clone(),
                task,
            });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn launch_group(
        &mut self,
        fw_id: &str,
        agent_id: &str,
        role: &str,
        framework: &v1::FrameworkInfo,
        group: v1::offer::operation::LaunchGroup,
        offered: &mut Pool,
        known: &mut HashSet<String>,
    ) -> Vec<v1::TaskStatus> {
        let mut executor = group.executor;
        let mut tasks = group.task_group.tasks;
        let check = || -> Result<Pool, String> {
            if tasks.is_empty() {
                return Err("Task group is empty".into());
            }
            validate_resources(&executor.resources)?;
            let mut ids = known.clone();
            let mut need = Pool::new();
            for task in &tasks {
                if task.executor.is_some() {
                    return Err("'TaskInfo.executor' must not be set in a task group".into());
                }
                let mut as_launched = task.clone();
                as_launched.executor = Some(executor.clone());
                validate_task(&as_launched, &ids)?;
                ids.insert(task.task_id.value.clone());
                need.add_all(&task.resources);
            }
            let running = self.frameworks.get(fw_id).is_some_and(|f| {
                f.executors
                    .contains_key(&(agent_id.to_string(), executor.executor_id.value.clone()))
            });
            if !running {
                need.add_all(&executor.resources);
            }
            if !offered.contains(&need) {
                return Err("Task group uses more resources than available in the offer".into());
            }
            Ok(need)
        };
        match check() {
            Err(message) => tasks
                .iter()
                .map(|t| {
                    events::master_status(
                        t.task_id.clone(),
                        v1::TaskState::TaskError,
                        v1::task_status::Reason::TaskGroupInvalid,
                        &message,
                        Some(agent_id),
                    )
                })
                .collect(),
            Ok(need) => {
                offered.subtract(&need);
                executor.framework_id = Some(v1::FrameworkId {
                    value: fw_id.to_string(),
                });
                for task in &mut tasks {
                    known.insert(task.task_id.value.clone());
                    task.agent_id = v1::AgentId {
                        value: agent_id.to_string(),
                    };
                    tag_role(task, role);
                    let mut record = task.clone();
                    record.executor = Some(executor.clone());
                    self.record_task(fw_id, agent_id, &record);
                }
                if let Some(agent) = self.agents.get(agent_id) {
                    let _ = agent.sender.send(ToAgent::RunTaskGroup {
                        framework: framework.clone(),
                        executor,
                        task_group: v1::TaskGroupInfo { tasks },
                    });
                }
                Vec::new()
            }
        }
    }
}

/// Sets `allocation_info` on a task's resources, as Mesos does for the offer's role.
fn tag_role(task: &mut v1::TaskInfo, role: &str) {
    let info = Some(v1::resource::AllocationInfo {
        role: Some(role.to_string()),
    });
    for r in &mut task.resources {
        r.allocation_info = info.clone();
    }
    if let Some(executor) = task.executor.as_mut() {
        for r in &mut executor.resources {
            r.allocation_info = info.clone();
        }
    }
}
