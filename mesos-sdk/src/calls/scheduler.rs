//! Builders for every `mesos.v1.scheduler.Call` type.
//!
//! Each function returns a complete call: `type` set, the matching payload filled and
//! `framework_id` set (SUBSCRIBE takes it from `framework_info.id`, as Mesos requires
//! the two to agree).
//!
//! ```
//! use mesos_sdk::calls::scheduler;
//! use mesos_sdk::v1::{FrameworkId, TaskId, AgentId};
//!
//! let fw = FrameworkId { value: "f-1".into() };
//! let call = scheduler::reconcile(&fw, vec![(TaskId { value: "t".into() }, Some(AgentId { value: "a".into() }))]);
//! assert_eq!(call.reconcile.unwrap().tasks.len(), 1);
//! assert_eq!(scheduler::reconcile(&fw, vec![]).reconcile.unwrap().tasks.len(), 0); // implicit
//! ```

use bytes::Bytes;

use crate::v1::{
    self,
    scheduler::{Call, call},
};

fn call_of(framework_id: Option<&v1::FrameworkId>, kind: call::Type) -> Call {
    Call {
        framework_id: framework_id.cloned(),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// `SUBSCRIBE`: register (or, with `framework_info.id` set, re-register after a
/// failover) and open the event stream.
pub fn subscribe(framework_info: v1::FrameworkInfo) -> Call {
    let framework_id = framework_info.id.clone();
    Call {
        subscribe: Some(call::Subscribe {
            framework_info,
            ..Default::default()
        }),
        ..call_of(framework_id.as_ref(), call::Type::Subscribe)
    }
}

/// `TEARDOWN`: shut the framework down, killing all its tasks and executors.
pub fn teardown(framework_id: &v1::FrameworkId) -> Call {
    call_of(Some(framework_id), call::Type::Teardown)
}

/// `ACCEPT`: apply `operations` (see [`super::operations`]) to the offered resources;
/// what the operations leave unused is declined with `filters`.
pub fn accept(
    framework_id: &v1::FrameworkId,
    offer_ids: Vec<v1::OfferId>,
    operations: Vec<v1::offer::Operation>,
    filters: Option<v1::Filters>,
) -> Call {
    Call {
        accept: Some(call::Accept {
            offer_ids,
            operations,
            filters,
        }),
        ..call_of(Some(framework_id), call::Type::Accept)
    }
}

/// `ACCEPT` with one `LAUNCH` operation: run `tasks` on one offer.
pub fn launch(
    framework_id: &v1::FrameworkId,
    offer_id: v1::OfferId,
    tasks: Vec<v1::TaskInfo>,
) -> Call {
    accept(
        framework_id,
        vec![offer_id],
        vec![super::operations::launch(tasks)],
        None,
    )
}

/// `DECLINE`: return offers; `filters` keeps them away for `refuse_seconds`.
pub fn decline(
    framework_id: &v1::FrameworkId,
    offer_ids: Vec<v1::OfferId>,
    filters: Option<v1::Filters>,
) -> Call {
    Call {
        decline: Some(call::Decline { offer_ids, filters }),
        ..call_of(Some(framework_id), call::Type::Decline)
    }
}

/// `ACCEPT_INVERSE_OFFERS`: agree to release the resources of inverse offers.
pub fn accept_inverse_offers(
    framework_id: &v1::FrameworkId,
    inverse_offer_ids: Vec<v1::OfferId>,
    filters: Option<v1::Filters>,
) -> Call {
    Call {
        accept_inverse_offers: Some(call::AcceptInverseOffers {
            inverse_offer_ids,
            filters,
        }),
        ..call_of(Some(framework_id), call::Type::AcceptInverseOffers)
    }
}

/// `DECLINE_INVERSE_OFFERS`: refuse inverse offers.
pub fn decline_inverse_offers(
    framework_id: &v1::FrameworkId,
    inverse_offer_ids: Vec<v1::OfferId>,
    filters: Option<v1::Filters>,
) -> Call {
    Call {
        decline_inverse_offers: Some(call::DeclineInverseOffers {
            inverse_offer_ids,
            filters,
        }),
        ..call_of(Some(framework_id), call::Type::DeclineInverseOffers)
    }
}

/// `REVIVE`: clear decline filters and resume offers for `roles` (all roles if empty).
pub fn revive(framework_id: &v1::FrameworkId, roles: Vec<String>) -> Call {
    Call {
        revive: Some(call::Revive { roles }),
        ..call_of(Some(framework_id), call::Type::Revive)
    }
}

/// `SUPPRESS`: stop offers for `roles` (all roles if empty) until `REVIVE`.
pub fn suppress(framework_id: &v1::FrameworkId, roles: Vec<String>) -> Call {
    Call {
        suppress: Some(call::Suppress { roles }),
        ..call_of(Some(framework_id), call::Type::Suppress)
    }
}

/// `KILL`: kill a task, optionally overriding its kill policy.
pub fn kill(
    framework_id: &v1::FrameworkId,
    task_id: v1::TaskId,
    agent_id: Option<v1::AgentId>,
    kill_policy: Option<v1::KillPolicy>,
) -> Call {
    Call {
        kill: Some(call::Kill {
            task_id,
            agent_id,
            kill_policy,
        }),
        ..call_of(Some(framework_id), call::Type::Kill)
    }
}

/// `SHUTDOWN`: shut down a custom executor and all its tasks.
pub fn shutdown(
    framework_id: &v1::FrameworkId,
    executor_id: v1::ExecutorId,
    agent_id: v1::AgentId,
) -> Call {
    Call {
        shutdown: Some(call::Shutdown {
            executor_id,
            agent_id,
        }),
        ..call_of(Some(framework_id), call::Type::Shutdown)
    }
}

/// `ACKNOWLEDGE`: confirm receipt of a status update that carried `uuid`.
pub fn acknowledge(
    framework_id: &v1::FrameworkId,
    agent_id: v1::AgentId,
    task_id: v1::TaskId,
    uuid: Bytes,
) -> Call {
    Call {
        acknowledge: Some(call::Acknowledge {
            agent_id,
            task_id,
            uuid,
        }),
        ..call_of(Some(framework_id), call::Type::Acknowledge)
    }
}

/// The `ACKNOWLEDGE` a status update asks for, or `None` when it carries no uuid (such
/// updates, e.g. reconciliation answers, must not be acknowledged).
pub fn acknowledge_status(framework_id: &v1::FrameworkId, status: &v1::TaskStatus) -> Option<Call> {
    let uuid = status.uuid.clone()?;
    let agent_id = status.agent_id.clone()?;
    Some(acknowledge(
        framework_id,
        agent_id,
        status.task_id.clone(),
        uuid,
    ))
}

/// `ACKNOWLEDGE_OPERATION_STATUS`: confirm an operation status update.
pub fn acknowledge_operation_status(
    framework_id: &v1::FrameworkId,
    operation_id: v1::OperationId,
    uuid: Bytes,
    agent_id: Option<v1::AgentId>,
    resource_provider_id: Option<v1::ResourceProviderId>,
) -> Call {
    Call {
        acknowledge_operation_status: Some(call::AcknowledgeOperationStatus {
            agent_id,
            resource_provider_id,
            uuid,
            operation_id,
        }),
        ..call_of(Some(framework_id), call::Type::AcknowledgeOperationStatus)
    }
}

/// `RECONCILE`: ask for the latest state of `tasks`; an empty list asks for every task
/// the master knows (implicit reconciliation).
pub fn reconcile(
    framework_id: &v1::FrameworkId,
    tasks: Vec<(v1::TaskId, Option<v1::AgentId>)>,
) -> Call {
    let tasks = tasks
        .into_iter()
        .map(|(task_id, agent_id)| call::reconcile::Task { task_id, agent_id })
        .collect();
    Call {
        reconcile: Some(call::Reconcile { tasks }),
        ..call_of(Some(framework_id), call::Type::Reconcile)
    }
}

/// `RECONCILE_OPERATIONS`: ask for the latest state of operations (all if empty).
pub fn reconcile_operations(
    framework_id: &v1::FrameworkId,
    operations: Vec<(
        v1::OperationId,
        Option<v1::AgentId>,
        Option<v1::ResourceProviderId>,
    )>,
) -> Call {
    let operations = operations
        .into_iter()
        .map(|(operation_id, agent_id, resource_provider_id)| {
            call::reconcile_operations::Operation {
                operation_id,
                agent_id,
                resource_provider_id,
            }
        })
        .collect();
    Call {
        reconcile_operations: Some(call::ReconcileOperations { operations }),
        ..call_of(Some(framework_id), call::Type::ReconcileOperations)
    }
}

/// `MESSAGE`: send opaque data to one of the framework's executors.
pub fn message(
    framework_id: &v1::FrameworkId,
    agent_id: v1::AgentId,
    executor_id: v1::ExecutorId,
    data: Bytes,
) -> Call {
    Call {
        message: Some(call::Message {
            agent_id,
            executor_id,
            data,
        }),
        ..call_of(Some(framework_id), call::Type::Message)
    }
}

/// `REQUEST`: ask the allocator for resources (Mesos accepts and ignores it).
pub fn request(framework_id: &v1::FrameworkId, requests: Vec<v1::Request>) -> Call {
    Call {
        request: Some(call::Request { requests }),
        ..call_of(Some(framework_id), call::Type::Request)
    }
}

/// `UPDATE_FRAMEWORK`: change the framework's info (roles, name, capabilities, …).
pub fn update_framework(framework_id: &v1::FrameworkId, framework_info: v1::FrameworkInfo) -> Call {
    Call {
        update_framework: Some(call::UpdateFramework {
            framework_info,
            ..Default::default()
        }),
        ..call_of(Some(framework_id), call::Type::UpdateFramework)
    }
}
