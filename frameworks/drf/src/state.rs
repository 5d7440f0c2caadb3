//! What the master says is allocated: its legacy `GET /state` JSON, reduced to
//! per-framework tasks, CPUs, memory and dominant share.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::share::Amount;

/// The largest `/state` body read; a larger answer is an error, not an allocation.
pub const MAX_STATE_BYTES: usize = 16 * 1024 * 1024;

/// One framework's allocation at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkAllocation {
    /// Framework name.
    pub name: String,
    /// Its role (`*` when none is reported).
    pub role: String,
    /// Tasks that are staging, starting, running or being killed.
    pub tasks: u64,
    /// CPUs in use.
    pub cpus: f64,
    /// Memory in use (MB).
    pub mem: f64,
    /// `max(cpus / cluster cpus, mem / cluster mem)`.
    pub dominant_share: f64,
}

/// One agent's total and used resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    /// Agent id.
    pub id: String,
    /// What the agent has.
    pub total: Amount,
    /// What its tasks use.
    pub used: Amount,
}

impl AgentState {
    /// What is neither used nor reserved by tasks.
    pub fn free(&self) -> Amount {
        self.total.saturating_minus(&self.used)
    }
}

/// The cluster as the master reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterState {
    /// Sum of all agents' resources.
    pub total: Amount,
    /// Active frameworks, sorted by name.
    pub frameworks: Vec<FrameworkAllocation>,
    /// Registered agents.
    pub agents: Vec<AgentState>,
}

/// Why the master's state could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The HTTP request failed.
    #[error("GET {url} failed (is the master running at that address?): {source}")]
    Http {
        /// The URL asked.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The master answered with an error status.
    #[error("GET {url} answered {status}")]
    Status {
        /// The URL asked.
        url: String,
        /// The status.
        status: reqwest::StatusCode,
    },
    /// The body exceeded [`MAX_STATE_BYTES`].
    #[error("GET {url} returned more than {MAX_STATE_BYTES} bytes")]
    TooLarge {
        /// The URL asked.
        url: String,
    },
    /// The body is not JSON.
    #[error("master state is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON lacks a field the demo needs.
    #[error("master state lacks {0} (is this a Mesos master's /state?)")]
    Shape(&'static str),
}

const ACTIVE_STATES: [&str; 4] = [
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
];

impl ClusterState {
    /// Reads the parts of a Mesos `/state` document the demo needs:
    /// `slaves[].resources` (and `used_resources`), and `frameworks[]` with `name`,
    /// `role` (or `roles`), `used_resources` and `tasks[]`. Resources missing from
    /// `used_resources` are summed from the tasks.
    pub fn from_json(state: &Value) -> Result<Self, StateError> {
        let slaves = state
            .get("slaves")
            .and_then(Value::as_array)
            .ok_or(StateError::Shape("slaves[]"))?;
        let frameworks = state
            .get("frameworks")
            .and_then(Value::as_array)
            .ok_or(StateError::Shape("frameworks[]"))?;

        let mut agents: Vec<AgentState> = slaves
            .iter()
            .map(|s| AgentState {
                id: id_of(s.get("id")),
                total: amount_of(s.get("resources")),
                used: Amount::default(),
            })
            .collect();
        let total = agents
            .iter()
            .fold(Amount::default(), |acc, a| acc.plus(&a.total));

        let mut out = Vec::with_capacity(frameworks.len());
        let mut used_from_tasks = vec![Amount::default(); agents.len()];
        for f in frameworks {
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or(StateError::Shape("frameworks[].name"))?
                .to_owned();
            let tasks: Vec<&Value> = f
                .get("tasks")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter(|t| {
                            t.get("state")
                                .and_then(Value::as_str)
                                .is_none_or(|s| ACTIVE_STATES.contains(&s))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut task_sum = Amount::default();
            for task in &tasks {
                let size = amount_of(task.get("resources"));
                task_sum = task_sum.plus(&size);
                let agent = id_of(task.get("slave_id").or_else(|| task.get("agent_id")));
                if let Some(i) = agents.iter().position(|a| a.id == agent) {
                    used_from_tasks[i] = used_from_tasks[i].plus(&size);
                }
            }
            let used = match f.get("used_resources") {
                Some(v) if v.is_object() => amount_of(Some(v)),
                _ => task_sum,
            };
            out.push(FrameworkAllocation {
                name,
                role: role_of(f),
                tasks: tasks.len() as u64,
                cpus: used.cpus,
                mem: used.mem,
                dominant_share: used.dominant_share(&total),
            });
        }
        for ((agent, slave), from_tasks) in agents.iter_mut().zip(slaves).zip(used_from_tasks) {
            agent.used = match slave.get("used_resources") {
                Some(v) if v.is_object() => amount_of(Some(v)),
                _ => from_tasks,
            };
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            total,
            frameworks: out,
            agents,
        })
    }

    /// The framework called `name`, if it is registered.
    pub fn framework(&self, name: &str) -> Option<&FrameworkAllocation> {
        self.frameworks.iter().find(|f| f.name == name)
    }

    /// Whether no agent has room for another task of `task`'s size.
    pub fn saturated_for(&self, task: &Amount) -> bool {
        !self.agents.iter().any(|a| task.fits_in(&a.free()))
    }
}

/// Fetches and reads `GET <master>/state`. `master` is the master's base URL
/// (`http://host:5050`); a trailing slash or `/api/v1...` path is dropped.
pub async fn fetch_state(
    client: &reqwest::Client,
    master: &str,
) -> Result<ClusterState, StateError> {
    let url = format!("{}/state", base_url(master));
    let http = |source| StateError::Http {
        url: url.clone(),
        source,
    };
    let mut response = client.get(&url).send().await.map_err(http)?;
    if !response.status().is_success() {
        return Err(StateError::Status {
            url,
            status: response.status(),
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > MAX_STATE_BYTES {
            return Err(StateError::TooLarge { url });
        }
        body.extend_from_slice(&chunk);
    }
    let value: Value = serde_json::from_slice(&body)?;
    ClusterState::from_json(&value)
}

/// The master's base URL: `master` without a trailing `/` or an `/api/v1...` path.
///
/// ```
/// use drf_demo::state::base_url;
/// assert_eq!(base_url("http://m:5050/api/v1/scheduler"), "http://m:5050");
/// assert_eq!(base_url("http://m:5050/"), "http://m:5050");
/// ```
pub fn base_url(master: &str) -> &str {
    let master = match master.find("/api/v1") {
        Some(i) => &master[..i],
        None => master,
    };
    master.trim_end_matches('/')
}

fn id_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

fn role_of(f: &Value) -> String {
    if let Some(role) = f.get("role").and_then(Value::as_str) {
        return role.to_owned();
    }
    f.get("roles")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(Value::as_str)
        .unwrap_or("*")
        .to_owned()
}

fn amount_of(v: Option<&Value>) -> Amount {
    let get = |name: &str| {
        v.and_then(|v| v.get(name))
            .and_then(|x| {
                x.as_f64()
                    .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
            })
            // Negative, -0.0 or non-finite amounts mean nothing is held.
            .filter(|x| x.is_finite() && *x > 0.0)
            .unwrap_or(0.0)
    };
    Amount::new(get("cpus"), get("mem"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paper_state() -> Value {
        json!({
            "slaves": [{"id": "s1", "resources": {"cpus": 9.0, "mem": 18432.0, "disk": 0.0}}],
            "frameworks": [
                {"id": "f2", "name": "B", "role": "b",
                 "used_resources": {"cpus": 6.0, "mem": 2048.0, "gpus": -0.0},
                 "tasks": [
                    {"state": "TASK_RUNNING", "slave_id": "s1", "resources": {"cpus": 3.0, "mem": 1024.0}},
                    {"state": "TASK_STAGING", "slave_id": "s1", "resources": {"cpus": 3.0, "mem": 1024.0}}
                 ]},
                {"id": {"value": "f1"}, "name": "A", "roles": ["a"],
                 "tasks": [
                    {"state": "TASK_RUNNING", "slave_id": "s1", "resources": {"cpus": 1.0, "mem": 4096.0}},
                    {"state": "TASK_RUNNING", "slave_id": "s1", "resources": {"cpus": 1.0, "mem": 4096.0}},
                    {"state": "TASK_RUNNING", "slave_id": "s1", "resources": {"cpus": 1.0, "mem": 4096.0}},
                    {"state": "TASK_FINISHED", "slave_id": "s1", "resources": {"cpus": 1.0, "mem": 4096.0}}
                 ]}
            ]
        })
    }

    #[test]
    fn reads_allocations_and_shares() {
        let state = ClusterState::from_json(&paper_state()).unwrap();
        assert_eq!(state.total, Amount::new(9.0, 18432.0));
        let a = state.framework("A").unwrap();
        assert_eq!(
            (a.role.as_str(), a.tasks, a.cpus, a.mem),
            ("a", 3, 3.0, 12288.0)
        );
        let b = state.framework("B").unwrap();
        assert_eq!((b.role.as_str(), b.tasks), ("b", 2));
        assert!((a.dominant_share - 2.0 / 3.0).abs() < 1e-9);
        assert!((b.dominant_share - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(state.frameworks[0].name, "A");
    }

    #[test]
    fn saturation_uses_agent_free_resources() {
        let state = ClusterState::from_json(&paper_state()).unwrap();
        assert_eq!(state.agents[0].used, Amount::new(9.0, 14336.0));
        assert!(state.saturated_for(&Amount::new(1.0, 4096.0)));
        assert!(!state.saturated_for(&Amount::new(0.0, 1024.0)));
    }

    #[test]
    fn rejects_documents_that_are_not_state() {
        assert!(matches!(
            ClusterState::from_json(&json!({"frameworks": []})),
            Err(StateError::Shape("slaves[]"))
        ));
        assert!(matches!(
            ClusterState::from_json(&json!({"slaves": [], "frameworks": [{}]})),
            Err(StateError::Shape("frameworks[].name"))
        ));
    }
}
