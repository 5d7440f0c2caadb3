//! The operator example's body: print a cluster's frameworks, agents and tasks from
//! GET_STATE, then follow its events live through the SDK's operator client.

use futures::StreamExt;
use mesos_sdk::operator::{OperatorClient, OperatorError};
use mesos_sdk::resources::Resources;
use mesos_sdk::v1::master::{Event, event, response};

/// One line per framework, agent and task of a GET_STATE answer.
pub fn describe_state(state: &response::GetState) -> Vec<String> {
    let mut lines = Vec::new();
    let frameworks = state.get_frameworks.clone().unwrap_or_default().frameworks;
    lines.push(format!("{} framework(s)", frameworks.len()));
    for f in &frameworks {
        let id = f
            .framework_info
            .id
            .as_ref()
            .map_or("?", |i| i.value.as_str());
        lines.push(format!(
            "  framework {id} {:?} active={} uses {}",
            f.framework_info.name,
            f.active,
            Resources::from(f.allocated_resources.clone())
        ));
    }
    let agents = state.get_agents.clone().unwrap_or_default().agents;
    lines.push(format!("{} agent(s)", agents.len()));
    for a in &agents {
        let id = a.agent_info.id.as_ref().map_or("?", |i| i.value.as_str());
        lines.push(format!(
            "  agent {id} on {} total {} used {}",
            a.agent_info.hostname,
            Resources::from(a.total_resources.clone()),
            Resources::from(a.allocated_resources.clone())
        ));
    }
    let tasks = state.get_tasks.clone().unwrap_or_default();
    lines.push(format!(
        "{} task(s), {} completed",
        tasks.tasks.len(),
        tasks.completed_tasks.len()
    ));
    for t in tasks.tasks.iter().chain(&tasks.completed_tasks) {
        lines.push(format!(
            "  task {} of {} on {}: {}",
            t.task_id.value,
            t.framework_id.value,
            t.agent_id.value,
            t.state().as_str_name()
        ));
    }
    lines
}

/// One line for an event (`None` for HEARTBEAT).
pub fn describe_event(event: &Event) -> Option<String> {
    use event::Type;
    Some(match event.r#type() {
        Type::Heartbeat => return None,
        Type::Subscribed => "SUBSCRIBED (state follows)".to_string(),
        Type::TaskAdded => {
            let t = &event.task_added.as_ref()?.task;
            format!("TASK_ADDED {} of {}", t.task_id.value, t.framework_id.value)
        }
        Type::TaskUpdated => {
            let u = event.task_updated.as_ref()?;
            format!(
                "TASK_UPDATED {} {}",
                u.status.task_id.value,
                u.state().as_str_name()
            )
        }
        Type::FrameworkAdded => format!(
            "FRAMEWORK_ADDED {:?}",
            event
                .framework_added
                .as_ref()?
                .framework
                .framework_info
                .name
        ),
        Type::FrameworkUpdated => format!(
            "FRAMEWORK_UPDATED {:?}",
            event
                .framework_updated
                .as_ref()?
                .framework
                .framework_info
                .name
        ),
        Type::FrameworkRemoved => format!(
            "FRAMEWORK_REMOVED {:?}",
            event.framework_removed.as_ref()?.framework_info.name
        ),
        Type::AgentAdded => format!(
            "AGENT_ADDED {}",
            event.agent_added.as_ref()?.agent.agent_info.hostname
        ),
        Type::AgentRemoved => format!(
            "AGENT_REMOVED {}",
            event.agent_removed.as_ref()?.agent_id.value
        ),
        Type::Unknown => "UNKNOWN event".to_string(),
    })
}

/// Prints the state of the cluster at `client`, then every event, handing each line
/// to `out`, until `out` returns `false` or the stream ends for good.
///
/// # Errors
/// The operator client's error when GET_STATE fails or the stream gives up.
pub async fn watch(
    client: &OperatorClient,
    mut out: impl FnMut(String) -> bool,
) -> Result<(), OperatorError> {
    let state = client.get_state().await?;
    for line in describe_state(&state) {
        if !out(line) {
            return Ok(());
        }
    }
    let mut events = client.events();
    while let Some(event) = events.next().await {
        let event = event?;
        if let Some(subscribed) = event.subscribed.as_ref() {
            // Every (re)subscription starts from the whole state again.
            let count = subscribed
                .get_state
                .as_ref()
                .and_then(|s| s.get_tasks.as_ref())
                .map_or(0, |t| t.tasks.len());
            if !out(format!("SUBSCRIBED: {count} task(s) running")) {
                return Ok(());
            }
            continue;
        }
        if let Some(line) = describe_event(&event)
            && !out(line)
        {
            return Ok(());
        }
    }
    Ok(())
}
