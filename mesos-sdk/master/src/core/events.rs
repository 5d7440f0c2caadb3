//! Builders of the scheduler events the master sends.

use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Event, event};

fn of(t: event::Type) -> Event {
    Event {
        r#type: Some(t as i32),
        ..Default::default()
    }
}

/// SUBSCRIBED, the first event of every stream.
pub(crate) fn subscribed(
    framework_id: &str,
    heartbeat_secs: f64,
    master: &v1::MasterInfo,
) -> Event {
    Event {
        subscribed: Some(event::Subscribed {
            framework_id: v1::FrameworkId {
                value: framework_id.to_string(),
            },
            heartbeat_interval_seconds: Some(heartbeat_secs),
            master_info: Some(master.clone()),
        }),
        ..of(event::Type::Subscribed)
    }
}

/// HEARTBEAT.
pub(crate) fn heartbeat() -> Event {
    of(event::Type::Heartbeat)
}

/// ERROR: the stream ends after it.
pub(crate) fn error(message: &str) -> Event {
    Event {
        error: Some(event::Error {
            message: message.to_string(),
        }),
        ..of(event::Type::Error)
    }
}

/// OFFERS.
pub(crate) fn offers(offers: Vec<v1::Offer>) -> Event {
    Event {
        offers: Some(event::Offers { offers }),
        ..of(event::Type::Offers)
    }
}

/// RESCIND of one offer.
pub(crate) fn rescind(offer_id: &str) -> Event {
    Event {
        rescind: Some(event::Rescind {
            offer_id: v1::OfferId {
                value: offer_id.to_string(),
            },
        }),
        ..of(event::Type::Rescind)
    }
}

/// UPDATE carrying a task status.
pub(crate) fn update(status: v1::TaskStatus) -> Event {
    Event {
        update: Some(event::Update { status }),
        ..of(event::Type::Update)
    }
}

/// UPDATE_OPERATION_STATUS.
pub(crate) fn operation_status(status: v1::OperationStatus) -> Event {
    Event {
        update_operation_status: Some(event::UpdateOperationStatus { status }),
        ..of(event::Type::UpdateOperationStatus)
    }
}

/// MESSAGE from an executor.
pub(crate) fn message(agent_id: &str, executor_id: v1::ExecutorId, data: bytes::Bytes) -> Event {
    Event {
        message: Some(event::Message {
            agent_id: v1::AgentId {
                value: agent_id.to_string(),
            },
            executor_id,
            data,
        }),
        ..of(event::Type::Message)
    }
}

/// FAILURE of an executor (with `executor_id`) or of a whole agent.
pub(crate) fn failure(
    agent_id: &str,
    executor_id: Option<v1::ExecutorId>,
    status: Option<i32>,
) -> Event {
    Event {
        failure: Some(event::Failure {
            agent_id: Some(v1::AgentId {
                value: agent_id.to_string(),
            }),
            executor_id,
            status,
        }),
        ..of(event::Type::Failure)
    }
}

/// A status the master itself generates (no uuid, source MASTER).
pub(crate) fn master_status(
    task_id: v1::TaskId,
    state: v1::TaskState,
    reason: v1::task_status::Reason,
    message: &str,
    agent_id: Option<&str>,
) -> v1::TaskStatus {
    v1::TaskStatus {
        task_id,
        state: state as i32,
        message: Some(message.to_string()),
        source: Some(v1::task_status::Source::Master as i32),
        reason: Some(reason as i32),
        agent_id: agent_id.map(|a| v1::AgentId {
            value: a.to_string(),
        }),
        timestamp: Some(now_secs()),
        ..Default::default()
    }
}

/// Seconds since the Unix epoch, as TaskStatus.timestamp carries them.
pub(crate) fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
