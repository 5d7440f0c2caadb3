//! ACCEPT: offer validation, LAUNCH, LAUNCH_GROUP, RESERVE/UNRESERVE, CREATE/DESTROY,
//! following the rules of Mesos's `src/master/validation.cpp`.

use std::collections::HashSet;

use tokio::time::Instant;
use tracing::{info, warn};

use super::validate::{self, Books, OfferOwner};
use super::{Core, Executor, Task, events};
use crate::agent::protocol::ToAgent;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::call;

/// Resources an operation converts must be valid (RESERVE, CREATE, …).
fn validate_resources(resources: &[v1::Resource]) -> Result<(), String> {
    Resources::validate(resources).map_err(|e| format!("Invalid resources: {e}"))
}

/// A copy without the allocation role.
fn strip_allocation(r: &v1::Resource) -> v1::Resource {
    let mut r = r.clone();
    r.allocation_info = None;
    r
}

/// The resource without its newest reservation (what UNRESERVE yields).
pub(super) fn pop_reservation(r: &v1::Resource) -> v1::Resource {
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

/// Unallocated resources from a wire list (after validation: nothing is dropped).
fn unallocated(resources: &[v1::Resource]) -> Resources {
    Resources::from(resources.to_vec()).unallocate()
}

impl Core {
    pub(super) fn accept(&mut self, fw_id: &str, accept: call::Accept, now: Instant) {
        // Offer validation, as Mesos: unique, outstanding, this framework's, one role,
        // one agent.
        let checked = validate::offers(&accept.offer_ids, fw_id, |id| {
            self.offers.get(id).map(|o| OfferOwner {
                framework_id: &o.offer.framework_id.value,
                agent_id: &o.offer.agent_id.value,
                role: o
                    .offer
                    .allocation_info
                    .as_ref()
                    .and_then(|a| a.role.as_deref())
                    .unwrap_or("*"),
            })
        })
        .map(str::to_string);
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
        let agent_id = match checked {
            Ok(agent_id) => agent_id,
            Err(message) => {
                warn!(framework = %fw_id, %message, "ACCEPT with invalid offers");
                // The framework's valid offers among them go back to their agent.
                for id in owned {
                    self.remove_offer(&id, false, now);
                }
                let message = format!("Task launched with invalid offers: {message}");
                self.drop_launches(fw_id, &accept.operations, &message);
                return;
            }
        };
        // What the offers hold, in unallocated form: the framework keeps holding it
        // in the allocator until launched tasks end or the rest is recovered below.
        let mut offered = Resources::new();
        let mut role = None;
        for id in owned {
            if let Some(entry) = self.offers.remove(&id) {
                role = entry.offer.allocation_info.and_then(|a| a.role);
                offered += entry.resources.unallocate();
            }
        }
        let role = role.unwrap_or_else(|| "*".to_string());
        let Some(fw) = self.frameworks.get(fw_id) else {
            self.alloc.recover(
                fw_id,
                &agent_id,
                &offered.allocate(&role),
                None,
                now.into_std(),
            );
            self.allocation_wanted = true;
            return;
        };
        let framework_info = fw.info.clone();
        // Ids launched by this ACCEPT so far (live tasks are looked up in the books).
        let mut known: HashSet<String> = HashSet::new();
        let mut updates = Vec::new();
        let mut updates_of_operations = Vec::new();
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
                let operation_id = op.id.clone();
                if let Err(message) =
                    self.apply_operation(fw_id, &agent_id, &role, &framework_info, op, &mut offered)
                {
                    warn!(framework = %fw_id, %message, "offer operation refused");
                    // As Mesos: only an operation with an id hears about it.
                    if let Some(operation_id) = operation_id {
                        updates_of_operations.push(v1::OperationStatus {
                            operation_id: Some(operation_id),
                            state: v1::OperationState::OperationError as i32,
                            message: Some(message),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        if let Some(fw) = self.frameworks.get(fw_id) {
            for status in updates {
                fw.send(events::update(status));
            }
            for status in updates_of_operations {
                fw.send(events::operation_status(status));
            }
        }
        if !offered.is_empty() {
            self.recover_filtered(
                fw_id,
                &agent_id,
                &offered.allocate(&role),
                accept.filters.as_ref(),
                now,
            );
        }
    }

    /// RESERVE, UNRESERVE, CREATE or DESTROY on offered resources: converts them in
    /// `offered`, in what the allocator holds for the framework, and in the agent's
    /// total.
    fn apply_operation(
        &mut self,
        fw_id: &str,
        agent_id: &str,
        role: &str,
        framework: &v1::FrameworkInfo,
        mut op: v1::offer::Operation,
        offered: &mut Resources,
    ) -> Result<(), String> {
        tag_operation(&mut op, role);
        self.validate_operation(fw_id, agent_id, framework, &op)?;
        let (from, to): (Vec<v1::Resource>, Vec<v1::Resource>) = if let Some(reserve) = op.reserve {
            let from = if reserve.source.is_empty() {
                reserve.resources.iter().map(pop_reservation).collect()
            } else {
                reserve.source
            };
            (from, reserve.resources)
        } else if let Some(unreserve) = op.unreserve {
            let to = unreserve.resources.iter().map(pop_reservation).collect();
            (unreserve.resources, to)
        } else if let Some(create) = op.create {
            let from = create.volumes.iter().map(without_volume).collect();
            (from, create.volumes)
        } else if let Some(destroy) = op.destroy {
            let to = destroy.volumes.iter().map(without_volume).collect();
            (destroy.volumes, to)
        } else {
            return Err("Unsupported offer operation".into());
        };
        validate_resources(&from)?;
        validate_resources(&to)?;
        let (from, to) = (unallocated(&from), unallocated(&to));
        if from.is_empty() || !offered.contains(&from) {
            return Err("Operation uses resources that are not in the offer".into());
        }
        self.alloc
            .update_allocation(
                fw_id,
                agent_id,
                &from.clone().allocate(role),
                &to.clone().allocate(role),
            )
            .map_err(|e| e.to_string())?;
        *offered -= &from;
        *offered += &to;
        if let Some(agent) = self.agents.get_mut(agent_id) {
            agent.total -= &from;
            agent.total += &to;
        }
        Ok(())
    }

    /// Mesos's rules for RESERVE, UNRESERVE, CREATE and DESTROY.
    fn validate_operation(
        &self,
        fw_id: &str,
        agent_id: &str,
        framework: &v1::FrameworkInfo,
        op: &v1::offer::Operation,
    ) -> Result<(), String> {
        let roles = super::roles_of(framework);
        let by = validate::Operator {
            roles: &roles,
            principal: framework.principal.as_deref(),
            framework_id: fw_id,
            shared_resources: framework.capabilities.iter().any(|c| {
                c.r#type == Some(v1::framework_info::capability::Type::SharedResources as i32)
            }),
        };
        let existing = self
            .agents
            .get(agent_id)
            .map(|a| a.total.clone())
            .unwrap_or_default();
        if let Some(reserve) = &op.reserve {
            validate::reserve(reserve, &by)
        } else if let Some(unreserve) = &op.unreserve {
            validate::unreserve(unreserve)
        } else if let Some(create) = &op.create {
            validate::create(create, &existing, &by)
        } else if let Some(destroy) = &op.destroy {
            validate::destroy(destroy, &existing, &self.used_on(agent_id))
        } else {
            Ok(())
        }
    }

    /// What tasks and executors use on an agent, unallocated.
    fn used_on(&self, agent_id: &str) -> Resources {
        let mut used = Resources::new();
        for fw in self.frameworks.values() {
            for task in fw.tasks.values() {
                if task.task.agent_id.value == agent_id && !task.is_terminal() {
                    used += task.resources.clone().unallocate();
                }
            }
            for ((agent, _), executor) in &fw.executors {
                if agent == agent_id {
                    used += executor.resources.clone().unallocate();
                }
            }
        }
        used
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

    /// Whether a new task may not take this id: the framework has a live task with it,
    /// or a terminal one whose last update is not acknowledged yet (Mesos keeps such a
    /// task until then).
    fn is_taken(&self, fw_id: &str, task_id: &str) -> bool {
        self.frameworks
            .get(fw_id)
            .and_then(|f| f.tasks.get(task_id))
            .is_some_and(|t| !t.is_terminal() || t.task.status_update_uuid.is_some())
    }

    /// The executor the agent runs under this id for the framework, if any.
    fn running_executor(
        &self,
        fw_id: &str,
        agent_id: &str,
        executor_id: &str,
    ) -> Option<&Executor> {
        self.frameworks
            .get(fw_id)?
            .executors
            .get(&(agent_id.to_string(), executor_id.to_string()))
    }

    /// Books a launched task holding `resources` (its own, normalised, allocated
    /// form), and its executor unless `executor_running` (the agent already runs it
    /// for the framework).
    fn record_task(
        &mut self,
        fw_id: &str,
        agent_id: &str,
        task: &v1::TaskInfo,
        resources: Resources,
        executor_running: bool,
    ) {
        let Some(fw) = self.frameworks.get_mut(fw_id) else {
            return;
        };
        if let Some(executor) = task.executor.as_ref().filter(|_| !executor_running) {
            fw.executors
                .entry((agent_id.to_string(), executor.executor_id.value.clone()))
                .or_insert_with(|| Executor {
                    info: executor.clone(),
                    resources: Resources::from(executor.resources.clone()),
                });
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
                    discovery: task.discovery.as_deref().cloned(),
                    container: task.container.as_deref().cloned(),
                    health_check: task.health_check.as_deref().cloned(),
                    kill_policy: task.kill_policy,
                    ..Default::default()
                },
                latest: None,
                resources,
            },
        );
        self.notify_task_added(fw_id, &task.task_id.value);
    }

    #[allow(clippy::too_many_arguments)]
    fn launch_one(
        &mut self,
        fw_id: &str,
        agent_id: &str,
        role: &str,
        framework: &v1::FrameworkInfo,
        mut task: v1::TaskInfo,
        offered: &mut Resources,
        known: &mut HashSet<String>,
    ) -> Result<(), Box<v1::TaskStatus>> {
        // Mesos answers with the task's own agent id, as sent.
        let invalid = |task: &v1::TaskInfo, message: String| {
            Box::new(events::master_status(
                task.task_id.clone(),
                v1::TaskState::TaskError,
                v1::task_status::Reason::TaskInvalid,
                &message,
                Some(&task.agent_id.value),
            ))
        };
        validate::normalize_task(&mut task, fw_id);
        tag_role(&mut task, role);
        let running = task.executor.as_ref().and_then(|e| {
            self.running_executor(fw_id, agent_id, &e.executor_id.value)
                .map(|x| &x.info)
        });
        let books = Books {
            framework_id: fw_id,
            agent_id,
            is_duplicate: &|id| known.contains(id) || self.is_taken(fw_id, id),
            running_executor: running,
        };
        validate::task(&task, &books).map_err(|m| invalid(&task, m))?;
        let executor_running = running.is_some();
        let need = needs(&task, executor_running);
        if !offered.contains(&need) {
            let message = format!(
                "Total resources {} required by task and its executor is more than available {}",
                need.clone().allocate(role),
                offered.clone().allocate(role)
            );
            return Err(invalid(&task, message));
        }
        *offered -= &need;
        known.insert(task.task_id.value.clone());
        // What the task itself holds: all it needs, unless it brings its executor.
        let own = if executor_running || task.executor.is_none() {
            need
        } else {
            unallocated(&task.resources)
        };
        self.record_task(fw_id, agent_id, &task, own.allocate(role), executor_running);
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
        offered: &mut Resources,
        known: &mut HashSet<String>,
    ) -> Vec<v1::TaskStatus> {
        let mut executor = group.executor;
        let mut tasks = group.task_group.tasks;
        // Unlike Mesos, the framework id of a group's executor is filled in too.
        executor
            .framework_id
            .get_or_insert_with(|| v1::FrameworkId {
                value: fw_id.to_string(),
            });
        tag_resources(&mut executor.resources, role);
        for task in &mut tasks {
            validate::normalize_task(task, fw_id);
            tag_role(task, role);
        }
        let check = || -> Result<(Resources, bool), String> {
            if tasks.is_empty() {
                return Err("Task group is empty".into());
            }
            let mut ids: HashSet<&str> = HashSet::new();
            let mut need = Resources::new();
            let running = self.running_executor(fw_id, agent_id, &executor.executor_id.value);
            for task in &tasks {
                let books = Books {
                    framework_id: fw_id,
                    agent_id,
                    is_duplicate: &|id| {
                        ids.contains(id) || known.contains(id) || self.is_taken(fw_id, id)
                    },
                    running_executor: None,
                };
                validate::task_fields(task, &books)
                    .map_err(|m| format!("Task '{}' is invalid: {m}", task.task_id.value))?;
                ids.insert(&task.task_id.value);
                need += unallocated(&task.resources);
            }
            let books = Books {
                framework_id: fw_id,
                agent_id,
                is_duplicate: &|_| false,
                running_executor: running.map(|r| &r.info),
            };
            validate::task_group(&tasks, &executor, &books)?;
            if running.is_none() {
                need += unallocated(&executor.resources);
            }
            if !offered.contains(&need) {
                return Err(format!(
                    "Total resources {} required by task group and its executor are more than available {}",
                    need.clone().allocate(role),
                    offered.clone().allocate(role)
                ));
            }
            Ok((need, running.is_some()))
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
            Ok((need, executor_running)) => {
                *offered -= &need;
                for task in &mut tasks {
                    known.insert(task.task_id.value.clone());
                    // The group's executor goes to the agent once, not with each task.
                    task.executor = None;
                    let mut record = task.clone();
                    record.executor = Some(executor.clone());
                    let own = unallocated(&task.resources).allocate(role);
                    self.record_task(fw_id, agent_id, &record, own, executor_running);
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

/// Resources a task needs from the offer: its own, plus its executor's when that
/// executor is not running yet.
fn needs(task: &v1::TaskInfo, executor_running: bool) -> Resources {
    let mut need = unallocated(&task.resources);
    if let Some(executor) = task.executor.as_ref().filter(|_| !executor_running) {
        need += unallocated(&executor.resources);
    }
    need
}

/// Sets `allocation_info` on an operation's resources that have none, as Mesos does
/// for the offer's role.
fn tag_operation(op: &mut v1::offer::Operation, role: &str) {
    let mut lists: Vec<&mut Vec<v1::Resource>> = Vec::new();
    if let Some(r) = op.reserve.as_mut() {
        lists.push(&mut r.resources);
        lists.push(&mut r.source);
    }
    lists.extend(op.unreserve.as_mut().map(|r| &mut r.resources));
    lists.extend(op.create.as_mut().map(|r| &mut r.volumes));
    lists.extend(op.destroy.as_mut().map(|r| &mut r.volumes));
    for list in lists {
        for r in list.iter_mut().filter(|r| r.allocation_info.is_none()) {
            r.allocation_info = Some(v1::resource::AllocationInfo {
                role: Some(role.to_string()),
            });
        }
    }
}

/// Sets `allocation_info` on a task's resources, as Mesos does for the offer's role.
fn tag_role(task: &mut v1::TaskInfo, role: &str) {
    tag_resources(&mut task.resources, role);
    if let Some(executor) = task.executor.as_mut() {
        tag_resources(&mut executor.resources, role);
    }
}

fn tag_resources(resources: &mut [v1::Resource], role: &str) {
    let info = Some(v1::resource::AllocationInfo {
        role: Some(role.to_string()),
    });
    for r in resources {
        r.allocation_info = info.clone();
    }
}
