//! Every scheduler call but SUBSCRIBE and ACCEPT.

use tokio::time::Instant;
use tracing::{debug, info};

use super::answer::Answer;
use super::error::CallError;
use super::validate;
use super::{Core, events, roles_of};
use crate::agent::protocol::ToAgent;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Call, call};

impl Core {
    /// Handles an authorized call of framework `fw_id`.
    pub(crate) fn handle_call(
        &mut self,
        fw_id: &str,
        call: Call,
        now: Instant,
    ) -> Result<Answer, CallError> {
        use call::Type;
        self.counters.calls += 1;
        let kind = call
            .r#type
            .and_then(|t| Type::try_from(t).ok())
            .unwrap_or(Type::Unknown);
        match kind {
            Type::Unknown | Type::Subscribe => return Err(CallError::NotImplemented),
            Type::Teardown => self.remove_framework(fw_id, now),
            Type::Accept => self.accept(
                fw_id,
                call.accept.ok_or_else(|| CallError::missing("accept"))?,
                now,
            ),
            Type::Decline => {
                let decline = call.decline.ok_or_else(|| CallError::missing("decline"))?;
                for offer_id in &decline.offer_ids {
                    let owned = self
                        .offers
                        .get(&offer_id.value)
                        .is_some_and(|o| o.offer.framework_id.value == fw_id);
                    if !owned {
                        debug!(offer = %offer_id.value, "decline of an unknown offer ignored");
                        continue;
                    }
                    if let Some(entry) = self.offers.remove(&offer_id.value) {
                        self.counters.offers_declined += 1;
                        self.recover_filtered(
                            fw_id,
                            &entry.offer.agent_id.value,
                            &entry.resources,
                            decline.filters.as_ref(),
                            now,
                        );
                    }
                }
            }
            Type::AcceptInverseOffers => {
                call.accept_inverse_offers
                    .ok_or_else(|| CallError::missing("accept_inverse_offers"))?;
            }
            Type::DeclineInverseOffers => {
                call.decline_inverse_offers
                    .ok_or_else(|| CallError::missing("decline_inverse_offers"))?;
            }
            Type::Revive => {
                let roles = call.revive.map(|r| r.roles).unwrap_or_default();
                let roles = (!roles.is_empty()).then_some(roles.as_slice());
                self.alloc.revive(fw_id, roles);
                self.allocation_wanted = true;
            }
            Type::Suppress => {
                let roles = call.suppress.map(|r| r.roles).unwrap_or_default();
                let roles = (!roles.is_empty()).then_some(roles.as_slice());
                self.alloc.suppress(fw_id, roles);
            }
            Type::Kill => self.kill(fw_id, call.kill.ok_or_else(|| CallError::missing("kill"))?),
            Type::Shutdown => {
                let shutdown = call
                    .shutdown
                    .ok_or_else(|| CallError::missing("shutdown"))?;
                if let Some(agent) = self.agents.get(&shutdown.agent_id.value) {
                    let _ = agent.sender.send(ToAgent::ShutdownExecutor {
                        framework_id: v1::FrameworkId {
                            value: fw_id.to_string(),
                        },
                        executor_id: shutdown.executor_id,
                    });
                }
            }
            Type::Acknowledge => {
                let ack = call
                    .acknowledge
                    .ok_or_else(|| CallError::missing("acknowledge"))?;
                if let Some(agent) = self.agents.get(&ack.agent_id.value) {
                    let _ = agent.sender.send(ToAgent::Acknowledge {
                        framework_id: v1::FrameworkId {
                            value: fw_id.to_string(),
                        },
                        task_id: ack.task_id.clone(),
                        uuid: ack.uuid.clone(),
                    });
                }
                if let Some(task) = self
                    .frameworks
                    .get_mut(fw_id)
                    .and_then(|f| f.tasks.get_mut(&ack.task_id.value))
                    && task.task.status_update_uuid.as_ref() == Some(&ack.uuid)
                {
                    task.task.status_update_uuid = None;
                }
                self.forget_acknowledged_terminal(fw_id, &ack.task_id.value);
            }
            Type::AcknowledgeOperationStatus => {
                call.acknowledge_operation_status
                    .ok_or_else(|| CallError::missing("acknowledge_operation_status"))?;
            }
            Type::Reconcile => self.reconcile(
                fw_id,
                call.reconcile
                    .ok_or_else(|| CallError::missing("reconcile"))?,
            ),
            Type::ReconcileOperations => {
                let ops = call
                    .reconcile_operations
                    .ok_or_else(|| CallError::missing("reconcile_operations"))?;
                if let Some(fw) = self.frameworks.get(fw_id) {
                    for op in ops.operations {
                        fw.send(events::operation_status(v1::OperationStatus {
                            operation_id: Some(op.operation_id),
                            state: v1::OperationState::OperationUnknown as i32,
                            message: Some("Unknown operation".to_string()),
                            agent_id: op.agent_id,
                            resource_provider_id: op.resource_provider_id,
                            ..Default::default()
                        }));
                    }
                }
            }
            Type::Message => {
                let msg = call.message.ok_or_else(|| CallError::missing("message"))?;
                if let Some(agent) = self.agents.get(&msg.agent_id.value) {
                    let _ = agent.sender.send(ToAgent::FrameworkMessage {
                        framework_id: v1::FrameworkId {
                            value: fw_id.to_string(),
                        },
                        executor_id: msg.executor_id,
                        data: msg.data,
                    });
                }
            }
            Type::Request => {
                call.request.ok_or_else(|| CallError::missing("request"))?;
            }
            Type::UpdateFramework => {
                let update = call
                    .update_framework
                    .ok_or_else(|| CallError::missing("update_framework"))?;
                return self.update_framework(fw_id, update, now);
            }
        }
        Ok(Answer::Accepted)
    }

    /// A terminal task whose last update is acknowledged moves to the framework's
    /// completed tasks.
    fn forget_acknowledged_terminal(&mut self, fw_id: &str, task_id: &str) {
        let limit = self.config.max_completed_tasks_per_framework;
        if let Some(fw) = self.frameworks.get_mut(fw_id) {
            let done = fw
                .tasks
                .get(task_id)
                .is_some_and(|t| t.is_terminal() && t.task.status_update_uuid.is_none());
            if done && let Some(task) = fw.tasks.remove(task_id) {
                fw.complete(task, limit);
            }
        }
    }

    fn kill(&mut self, fw_id: &str, kill: call::Kill) {
        let Some(fw) = self.frameworks.get(fw_id) else {
            return;
        };
        match fw.tasks.get(&kill.task_id.value) {
            Some(task) if !task.is_terminal() => {
                if let Some(agent) = self.agents.get(&task.task.agent_id.value) {
                    let _ = agent.sender.send(ToAgent::KillTask {
                        framework_id: v1::FrameworkId {
                            value: fw_id.to_string(),
                        },
                        task_id: kill.task_id,
                        kill_policy: kill.kill_policy,
                    });
                }
            }
            Some(task) => {
                let status = task.latest.clone().map(|mut s| {
                    s.uuid = None;
                    s
                });
                if let Some(status) = status {
                    fw.send(events::update(status));
                }
            }
            None => {
                // As Mesos: an unknown task is reconciled (TASK_LOST, or TASK_UNKNOWN
                // for PARTITION_AWARE frameworks; no uuid, REASON_RECONCILIATION).
                self.reconcile(
                    fw_id,
                    call::Reconcile {
                        tasks: vec![call::reconcile::Task {
                            task_id: kill.task_id,
                            agent_id: kill.agent_id,
                        }],
                    },
                );
            }
        }
    }

    fn reconcile(&mut self, fw_id: &str, reconcile: call::Reconcile) {
        let Some(fw) = self.frameworks.get(fw_id) else {
            return;
        };
        let partition_aware =
            fw.has_capability(v1::framework_info::capability::Type::PartitionAware);
        let answer = |task: &super::Task| {
            let mut status = task.latest.clone().unwrap_or_else(|| v1::TaskStatus {
                task_id: task.task.task_id.clone(),
                state: task.task.state,
                agent_id: Some(task.task.agent_id.clone()),
                ..Default::default()
            });
            status.uuid = None;
            status.state = task.task.state;
            status.source = Some(v1::task_status::Source::Master as i32);
            status.reason = Some(v1::task_status::Reason::Reconciliation as i32);
            status.message = Some("Reconciliation: Latest task state".to_string());
            status
        };
        let statuses: Vec<v1::TaskStatus> = if reconcile.tasks.is_empty() {
            fw.tasks.values().map(answer).collect()
        } else {
            reconcile
                .tasks
                .iter()
                .filter_map(|t| match fw.tasks.get(&t.task_id.value) {
                    Some(task) => Some(answer(task)),
                    None => self.unknown_task_answer(fw_id, t, partition_aware),
                })
                .collect()
        };
        for status in statuses {
            fw.send(events::update(status));
        }
    }

    /// Explicit reconciliation of a task the books do not have, as Mesos answers it:
    /// nothing while its agent (or, without an agent id, any agent) has not
    /// re-registered since the failover, since the agent may still report it; else
    /// gone (lost for frameworks that are not partition-aware) when the agent is
    /// registered or was marked gone, and unknown (lost) when the agent is unknown.
    fn unknown_task_answer(
        &self,
        fw_id: &str,
        task: &call::reconcile::Task,
        partition_aware: bool,
    ) -> Option<v1::TaskStatus> {
        use v1::TaskState::{TaskGone, TaskGoneByOperator, TaskLost, TaskUnknown};
        let agent = task.agent_id.as_ref().map(|a| a.value.as_str());
        let recovering = match agent {
            Some(agent) => self.recovered_agents.contains_key(agent),
            None => !self.recovered_agents.is_empty(),
        };
        if recovering {
            info!(
                framework = %fw_id,
                task = %task.task_id.value,
                agent = agent.unwrap_or("(none given)"),
                "dropping the reconciliation of an unknown task: its agent has not re-registered since the failover"
            );
            return None;
        }
        let (state, message) = match agent {
            Some(a) if self.agents.contains_key(a) => {
                (TaskGone, "Reconciliation: Task is unknown to the agent")
            }
            Some(a) if self.gone_agents.contains(a) => {
                (TaskGoneByOperator, "Reconciliation: Task is gone")
            }
            _ => (TaskUnknown, "Reconciliation: Task is unknown"),
        };
        let state = if partition_aware { state } else { TaskLost };
        debug!(framework = %fw_id, task = %task.task_id.value, ?state, message, "reconciliation of an unknown task");
        Some(events::master_status(
            task.task_id.clone(),
            state,
            v1::task_status::Reason::Reconciliation,
            message,
            agent,
        ))
    }

    fn update_framework(
        &mut self,
        fw_id: &str,
        update: call::UpdateFramework,
        now: Instant,
    ) -> Result<Answer, CallError> {
        let given = update.framework_info.id.as_ref().map(|i| i.value.as_str());
        if given != Some(fw_id) {
            return Err(CallError::Invalid(
                "'framework_id' differs from 'update_framework.framework_info.id'".to_string(),
            ));
        }
        let Some(fw) = self.frameworks.get(fw_id) else {
            return Err(CallError::UnknownFramework);
        };
        // Mesos's `Master::updateFramework`: the new info, then the change, then the
        // call's suppressed roles, then the ACLs (403).
        let info = &update.framework_info;
        validate::framework_info(info, &[])
            .map_err(|e| CallError::Refused(format!("Supplied FrameworkInfo is not valid: {e}")))?;
        validate::framework_update(&fw.info, info)
            .map_err(|e| CallError::Refused(format!("FrameworkInfo update is not valid: {e}")))?;
        validate::framework_info(info, &update.suppressed_roles)
            .map_err(|e| CallError::Refused(format!("'UpdateFramework' call is not valid: {e}")))?;
        self.authorize_roles(info).map_err(CallError::Forbidden)?;
        let Some(fw) = self.frameworks.get_mut(fw_id) else {
            return Err(CallError::UnknownFramework);
        };
        let roles = roles_of(&update.framework_info);
        fw.info = update.framework_info;
        self.alloc.update_framework_roles(fw_id, &roles);
        self.alloc
            .set_suppressed_roles(fw_id, &update.suppressed_roles);
        let stale: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| {
                o.offer.framework_id.value == fw_id
                    && o.offer
                        .allocation_info
                        .as_ref()
                        .and_then(|a| a.role.as_ref())
                        .is_some_and(|r| !roles.contains(r))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for offer in stale {
            self.remove_offer(&offer, true, now);
        }
        self.allocation_wanted = true;
        self.notify_framework(fw_id, false);
        Ok(Answer::Ok)
    }
}
