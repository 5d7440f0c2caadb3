//! A point-in-time copy of the master's books, shaped like Mesos's `/state`.

use serde::Serialize;

use super::Core;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;

/// Scalar totals of a resource list, as `/state` reports them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceSummary {
    /// CPUs.
    pub cpus: f64,
    /// Memory in MB.
    pub mem: f64,
    /// Disk in MB.
    pub disk: f64,
    /// GPUs.
    pub gpus: f64,
    /// Port ranges in Mesos's text form, e.g. `[31000-32000]`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<String>,
}

impl ResourceSummary {
    pub(crate) fn of(resources: &Resources) -> Self {
        let ports: Vec<String> = resources
            .ports()
            .iter()
            .map(|(b, e)| format!("{b}-{e}"))
            .collect();
        Self {
            cpus: resources.cpus(),
            mem: resources.mem(),
            disk: resources.disk(),
            gpus: resources.scalar("gpus"),
            ports: (!ports.is_empty()).then(|| format!("[{}]", ports.join(", "))),
        }
    }
}

/// One task in `/state`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskState {
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: String,
    /// State name, e.g. `TASK_RUNNING`.
    pub state: String,
    /// Owner.
    pub framework_id: String,
    /// Agent (Mesos's legacy name).
    pub slave_id: String,
    /// Agent.
    pub agent_id: String,
    /// Executor, for tasks of a custom executor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<String>,
    /// The task's resources.
    pub resources: ResourceSummary,
}

/// One framework in `/state`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameworkState {
    /// Framework id.
    pub id: String,
    /// Framework name.
    pub name: String,
    /// First role (legacy field).
    pub role: String,
    /// Every role.
    pub roles: Vec<String>,
    /// Connected with a live event stream.
    pub active: bool,
    /// Same as `active` here (a framework is connected when its stream is open).
    pub connected: bool,
    /// `failover_timeout` in seconds.
    pub failover_timeout: f64,
    /// Held by running tasks and executors.
    pub used_resources: ResourceSummary,
    /// Held by outstanding offers.
    pub offered_resources: ResourceSummary,
    /// Outstanding offers.
    pub offers: usize,
    /// DRF dominant share: the largest fraction of the cluster's cpus, mem, disk or
    /// gpus held by its tasks, executors and offers.
    pub dominant_share: f64,
    /// Non-terminal tasks.
    pub tasks: Vec<TaskState>,
    /// Terminal tasks: those not acknowledged yet, then the acknowledged ones the
    /// master keeps (Mesos's `--max_completed_tasks_per_framework`).
    pub completed_tasks: Vec<TaskState>,
}

/// One agent in `/state`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentState {
    /// Agent id.
    pub id: String,
    /// Hostname.
    pub hostname: String,
    /// Total resources.
    pub resources: ResourceSummary,
    /// Used by tasks and executors.
    pub used_resources: ResourceSummary,
    /// Held by outstanding offers.
    pub offered_resources: ResourceSummary,
    /// Neither used nor offered.
    pub unreserved_resources: ResourceSummary,
    /// Registered and reachable.
    pub active: bool,
    /// Attributes as `name: text` pairs.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A snapshot of the master, shaped like Mesos's `/state`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MasterState {
    /// Version string.
    pub version: String,
    /// Master id.
    pub id: String,
    /// `master@host:port`.
    pub leader: String,
    /// Hostname.
    pub hostname: String,
    /// Seconds since the epoch when the master started.
    pub start_time: f64,
    /// Number of connected agents.
    pub activated_slaves: usize,
    /// Frameworks.
    pub frameworks: Vec<FrameworkState>,
    /// Removed frameworks the master still shows, oldest first, with their tasks as
    /// `completed_tasks` (Mesos's `--max_completed_frameworks`).
    pub completed_frameworks: Vec<FrameworkState>,
    /// Agents (Mesos's legacy name).
    pub slaves: Vec<AgentState>,
}

impl MasterState {
    /// The framework with this id.
    pub fn framework(&self, id: &str) -> Option<&FrameworkState> {
        self.frameworks.iter().find(|f| f.id == id)
    }

    /// Every non-terminal task of every framework.
    pub fn tasks(&self) -> impl Iterator<Item = &TaskState> {
        self.frameworks.iter().flat_map(|f| f.tasks.iter())
    }
}

fn state_name(state: i32) -> String {
    v1::TaskState::try_from(state)
        .map(|s| s.as_str_name().to_string())
        .unwrap_or_else(|_| "TASK_UNKNOWN".to_string())
}

fn attribute_value(a: &v1::Attribute) -> serde_json::Value {
    if let Some(t) = &a.text {
        return serde_json::Value::String(t.value.clone());
    }
    if let Some(s) = &a.scalar {
        return serde_json::json!(s.value);
    }
    if let Some(r) = &a.ranges {
        let text: Vec<String> = r
            .range
            .iter()
            .map(|g| format!("{}-{}", g.begin, g.end))
            .collect();
        return serde_json::Value::String(format!("[{}]", text.join(", ")));
    }
    if let Some(s) = &a.set {
        return serde_json::Value::String(format!("{{{}}}", s.item.join(", ")));
    }
    serde_json::Value::Null
}

impl Core {
    pub(crate) fn snapshot(&self) -> MasterState {
        let task_state = |t: &v1::Task| TaskState {
            id: t.task_id.value.clone(),
            name: t.name.clone(),
            state: state_name(t.state),
            framework_id: t.framework_id.value.clone(),
            slave_id: t.agent_id.value.clone(),
            agent_id: t.agent_id.value.clone(),
            executor_id: t.executor_id.as_ref().map(|e| e.value.clone()),
            resources: ResourceSummary::of(&Resources::from(t.resources.clone())),
        };
        let mut frameworks: Vec<FrameworkState> = self
            .frameworks
            .values()
            .map(|f| {
                let mut offered = Resources::new();
                let mut offers = 0;
                for o in self
                    .offers
                    .values()
                    .filter(|o| o.offer.framework_id.value == f.id)
                {
                    offered += &o.resources;
                    offers += 1;
                }
                let mut tasks: Vec<TaskState> = f
                    .tasks
                    .values()
                    .filter(|t| !t.is_terminal())
                    .map(|t| task_state(&t.task))
                    .collect();
                tasks.sort_by(|a, b| a.id.cmp(&b.id));
                let roles = f.roles();
                FrameworkState {
                    id: f.id.clone(),
                    name: f.info.name.clone(),
                    role: roles.first().cloned().unwrap_or_else(|| "*".into()),
                    roles,
                    active: f.connected(),
                    connected: f.connected(),
                    failover_timeout: f.info.failover_timeout.unwrap_or(0.0),
                    used_resources: ResourceSummary::of(&f.used()),
                    offered_resources: ResourceSummary::of(&offered),
                    offers,
                    dominant_share: self.dominant_share(&f.id),
                    tasks,
                    completed_tasks: f
                        .tasks
                        .values()
                        .filter(|t| t.is_terminal())
                        .map(|t| task_state(&t.task))
                        .chain(f.completed_tasks.iter().map(task_state))
                        .collect(),
                }
            })
            .collect();
        frameworks.sort_by(|a, b| a.id.cmp(&b.id));
        let completed_frameworks = self
            .completed_frameworks
            .iter()
            .map(|f| {
                let roles = super::roles_of(&f.info);
                FrameworkState {
                    id: f.id.clone(),
                    name: f.info.name.clone(),
                    role: roles.first().cloned().unwrap_or_else(|| "*".into()),
                    roles,
                    active: false,
                    connected: false,
                    failover_timeout: f.info.failover_timeout.unwrap_or(0.0),
                    used_resources: ResourceSummary::default(),
                    offered_resources: ResourceSummary::default(),
                    offers: 0,
                    dominant_share: 0.0,
                    tasks: Vec::new(),
                    completed_tasks: f.tasks.iter().map(task_state).collect(),
                }
            })
            .collect();
        let mut slaves: Vec<AgentState> = self
            .agents
            .values()
            .map(|a| {
                let mut offered = Resources::new();
                for o in self
                    .offers
                    .values()
                    .filter(|o| o.offer.agent_id.value == a.id)
                {
                    offered += o.resources.clone().unallocate();
                }
                let free = self.alloc.available(&a.id);
                let used = &(&a.total - &free) - &offered;
                AgentState {
                    id: a.id.clone(),
                    hostname: a.info.hostname.clone(),
                    resources: ResourceSummary::of(&a.total),
                    used_resources: ResourceSummary::of(&used),
                    offered_resources: ResourceSummary::of(&offered),
                    unreserved_resources: ResourceSummary::of(&free),
                    active: a.connected(),
                    attributes: a
                        .info
                        .attributes
                        .iter()
                        .map(|attr| (attr.name.clone(), attribute_value(attr)))
                        .collect(),
                }
            })
            .collect();
        slaves.sort_by(|a, b| a.id.cmp(&b.id));
        let address = self.master_info.address.clone().unwrap_or_default();
        MasterState {
            version: env!("CARGO_PKG_VERSION").to_string(),
            id: self.master_info.id.clone(),
            leader: format!(
                "master@{}:{}",
                address
                    .ip
                    .clone()
                    .unwrap_or_else(|| self.config.hostname.clone()),
                self.master_info.port
            ),
            hostname: self.config.hostname.clone(),
            start_time: self
                .started
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            activated_slaves: slaves.iter().filter(|s| s.active).count(),
            frameworks,
            completed_frameworks,
            slaves,
        }
    }

    /// Mesos-style metric keys and values.
    pub(crate) fn metrics(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let mut m = serde_json::Map::new();
        let count = |s: v1::TaskState| {
            self.frameworks
                .values()
                .flat_map(|f| f.tasks.values())
                .filter(|t| t.task.state == s as i32)
                .count()
        };
        let mut total = Resources::new();
        let mut free = Resources::new();
        for a in self.agents.values() {
            total += &a.total;
            free += self.alloc.available(&a.id);
        }
        let mut offered = Resources::new();
        for o in self.offers.values() {
            offered += o.resources.clone().unallocate();
        }
        let used = &(&total - &free) - &offered;
        let c = &self.counters;
        m.insert("master/elected".into(), json!(1));
        m.insert(
            "master/uptime_secs".into(),
            json!(
                self.started
                    .elapsed()
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0)
            ),
        );
        m.insert(
            "master/tasks_staging".into(),
            json!(count(v1::TaskState::TaskStaging)),
        );
        m.insert(
            "master/tasks_starting".into(),
            json!(count(v1::TaskState::TaskStarting)),
        );
        m.insert(
            "master/tasks_running".into(),
            json!(count(v1::TaskState::TaskRunning)),
        );
        m.insert(
            "master/tasks_killing".into(),
            json!(count(v1::TaskState::TaskKilling)),
        );
        m.insert("master/tasks_finished".into(), json!(c.tasks_finished));
        m.insert("master/tasks_failed".into(), json!(c.tasks_failed));
        m.insert("master/tasks_killed".into(), json!(c.tasks_killed));
        m.insert("master/tasks_lost".into(), json!(c.tasks_lost));
        m.insert("master/tasks_error".into(), json!(c.tasks_error));
        m.insert("master/tasks_dropped".into(), json!(c.tasks_dropped));
        let active = self.frameworks.values().filter(|f| f.connected()).count();
        m.insert("master/frameworks_active".into(), json!(active));
        m.insert(
            "master/frameworks_inactive".into(),
            json!(self.frameworks.len() - active),
        );
        m.insert("master/frameworks_connected".into(), json!(active));
        m.insert(
            "master/frameworks_disconnected".into(),
            json!(self.frameworks.len() - active),
        );
        m.insert(
            "master/frameworks_removed".into(),
            json!(c.frameworks_removed),
        );
        let agents_active = self
            .agents
            .values()
            .filter(|a| !a.sender.is_closed())
            .count();
        m.insert("master/slaves_active".into(), json!(agents_active));
        m.insert("master/slaves_connected".into(), json!(agents_active));
        m.insert(
            "master/slaves_inactive".into(),
            json!(self.agents.len() - agents_active),
        );
        m.insert("master/outstanding_offers".into(), json!(self.offers.len()));
        m.insert(
            "master/operator_event_stream_subscribers".into(),
            json!(self.operator_subscribers()),
        );
        m.insert("master/messages_scheduler_calls".into(), json!(c.calls));
        m.insert("master/offers_sent".into(), json!(c.offers_sent));
        m.insert("master/offers_declined".into(), json!(c.offers_declined));
        m.insert("master/offers_rescinded".into(), json!(c.offers_rescinded));
        for name in ["cpus", "mem", "disk", "gpus"] {
            let t = total.scalar(name);
            let u = used.scalar(name);
            m.insert(format!("master/{name}_total"), json!(t));
            m.insert(format!("master/{name}_used"), json!(u));
            m.insert(
                format!("master/{name}_percent"),
                json!(if t > 0.0 { u / t } else { 0.0 }),
            );
        }
        m
    }
}
