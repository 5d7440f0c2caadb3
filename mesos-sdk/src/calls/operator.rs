//! Builders for operator calls (`mesos.v1.master.Call`, `POST /api/v1` on a master).
//!
//! Each sets the call's `type` and the payload that type needs, as Mesos validates
//! them.
//!
//! ```
//! use mesos_sdk::calls::operator;
//! use mesos_sdk::v1::{self, master::call::Type};
//!
//! assert_eq!(operator::get_state().r#type(), Type::GetState);
//! let teardown = operator::teardown(v1::FrameworkId { value: "f-1".into() });
//! assert_eq!(teardown.teardown.unwrap().framework_id.value, "f-1");
//! ```

use std::time::Duration;

use crate::v1;
use crate::v1::master::{Call, call};

/// A call of `kind` without a payload.
pub fn simple(kind: call::Type) -> Call {
    Call {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// GET_HEALTH.
pub fn get_health() -> Call {
    simple(call::Type::GetHealth)
}

/// GET_FLAGS.
pub fn get_flags() -> Call {
    simple(call::Type::GetFlags)
}

/// GET_VERSION.
pub fn get_version() -> Call {
    simple(call::Type::GetVersion)
}

/// GET_METRICS, waiting at most `timeout` for the metrics when set.
pub fn get_metrics(timeout: Option<Duration>) -> Call {
    Call {
        get_metrics: Some(call::GetMetrics {
            timeout: timeout.map(|t| v1::DurationInfo {
                nanoseconds: i64::try_from(t.as_nanos()).unwrap_or(i64::MAX),
            }),
        }),
        ..simple(call::Type::GetMetrics)
    }
}

/// GET_LOGGING_LEVEL.
pub fn get_logging_level() -> Call {
    simple(call::Type::GetLoggingLevel)
}

/// GET_STATE.
pub fn get_state() -> Call {
    simple(call::Type::GetState)
}

/// GET_AGENTS.
pub fn get_agents() -> Call {
    simple(call::Type::GetAgents)
}

/// GET_FRAMEWORKS.
pub fn get_frameworks() -> Call {
    simple(call::Type::GetFrameworks)
}

/// GET_EXECUTORS.
pub fn get_executors() -> Call {
    simple(call::Type::GetExecutors)
}

/// GET_TASKS.
pub fn get_tasks() -> Call {
    simple(call::Type::GetTasks)
}

/// GET_ROLES.
pub fn get_roles() -> Call {
    simple(call::Type::GetRoles)
}

/// GET_OPERATIONS.
pub fn get_operations() -> Call {
    simple(call::Type::GetOperations)
}

/// GET_MASTER.
pub fn get_master() -> Call {
    simple(call::Type::GetMaster)
}

/// GET_WEIGHTS.
pub fn get_weights() -> Call {
    simple(call::Type::GetWeights)
}

/// UPDATE_WEIGHTS: `(role, weight)` pairs, applied all or nothing.
pub fn update_weights<R: Into<String>>(weights: impl IntoIterator<Item = (R, f64)>) -> Call {
    Call {
        update_weights: Some(call::UpdateWeights {
            weight_infos: weights
                .into_iter()
                .map(|(role, weight)| v1::WeightInfo {
                    weight,
                    role: Some(role.into()),
                })
                .collect(),
        }),
        ..simple(call::Type::UpdateWeights)
    }
}

/// RESERVE_RESOURCES: `resources` carry the reservation to add (e.g. from
/// `mesos_sdk::resources::reserve_dynamic`).
pub fn reserve_resources(agent_id: v1::AgentId, resources: Vec<v1::Resource>) -> Call {
    Call {
        reserve_resources: Some(call::ReserveResources {
            agent_id,
            source: Vec::new(),
            resources,
        }),
        ..simple(call::Type::ReserveResources)
    }
}

/// UNRESERVE_RESOURCES: `resources` as reserved; their newest reservation is removed.
pub fn unreserve_resources(agent_id: v1::AgentId, resources: Vec<v1::Resource>) -> Call {
    Call {
        unreserve_resources: Some(call::UnreserveResources {
            agent_id,
            resources,
        }),
        ..simple(call::Type::UnreserveResources)
    }
}

/// TEARDOWN of a framework: its tasks are killed and it is removed.
pub fn teardown(framework_id: v1::FrameworkId) -> Call {
    Call {
        teardown: Some(call::Teardown { framework_id }),
        ..simple(call::Type::Teardown)
    }
}

/// MARK_AGENT_GONE: the agent is never coming back.
pub fn mark_agent_gone(agent_id: v1::AgentId) -> Call {
    Call {
        mark_agent_gone: Some(call::MarkAgentGone { agent_id }),
        ..simple(call::Type::MarkAgentGone)
    }
}

/// DEACTIVATE_AGENT: no more offers for the agent.
pub fn deactivate_agent(agent_id: v1::AgentId) -> Call {
    Call {
        deactivate_agent: Some(call::DeactivateAgent { agent_id }),
        ..simple(call::Type::DeactivateAgent)
    }
}

/// REACTIVATE_AGENT: offers for a deactivated agent again.
pub fn reactivate_agent(agent_id: v1::AgentId) -> Call {
    Call {
        reactivate_agent: Some(call::ReactivateAgent { agent_id }),
        ..simple(call::Type::ReactivateAgent)
    }
}

/// SUBSCRIBE: the event stream of the master's changes.
pub fn subscribe() -> Call {
    simple(call::Type::Subscribe)
}
