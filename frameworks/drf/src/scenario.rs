//! Scenarios: a cluster, role weights and the frameworks that compete on it.
//!
//! Built-in scenarios are [`Scenario::paper`], [`Scenario::workshop`] and
//! [`Scenario::weighted`]; others are read from a JSON file
//! ([`Scenario::from_json`], [`Scenario::load`]):
//!
//! ```
//! use drf_demo::scenario::Scenario;
//! let text = r#"{
//!   "name": "mine",
//!   "cluster": { "agents": 2, "resources": "cpus:4;mem:8192" },
//!   "weights": { "analytics": 2.0 },
//!   "frameworks": [
//!     { "name": "A", "role": "analytics", "task_cpus": 1, "task_mem": 1024 },
//!     { "name": "B", "task_cpus": 0.5, "task_mem": 2048, "max_tasks": 3 }
//!   ]
//! }"#;
//! let scenario = Scenario::from_json(text).unwrap();
//! assert_eq!(scenario.frameworks[1].role, "*");
//! assert_eq!(scenario.cluster_total().cpus, 8.0);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::share::{Amount, parse_resource_string};

/// How long a demo task sleeps unless a scenario says otherwise: long enough that no
/// task finishes while a demo samples the cluster.
pub const DEFAULT_TASK_DURATION_SECS: f64 = 3600.0;

/// A demo setup: the cluster, role weights and the competing frameworks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A name shown in reports.
    pub name: String,
    /// The agents of the embedded cluster.
    pub cluster: ClusterSpec,
    /// Role weights (role name to weight, default 1). DRF compares
    /// `dominant share / weight`.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// The frameworks, each run as its own scheduler.
    pub frameworks: Vec<FrameworkSpec>,
}

/// The agents of the cluster: `agents` identical machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Number of agents.
    pub agents: usize,
    /// Each agent's resources, in Mesos's `--resources` syntax (`cpus:4;mem:4096`).
    pub resources: String,
}

/// One competing framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkSpec {
    /// Framework name (unique within the scenario).
    pub name: String,
    /// The role it subscribes with (default `*`).
    #[serde(default = "default_role")]
    pub role: String,
    /// CPUs per task.
    pub task_cpus: f64,
    /// Memory per task, in MB.
    pub task_mem: f64,
    /// How long each task runs (seconds); finished tasks are replaced.
    #[serde(default = "default_duration")]
    pub task_duration_secs: f64,
    /// Stop launching after this many tasks in total (default: no limit).
    #[serde(default)]
    pub max_tasks: Option<u64>,
    /// Launch as many tasks as each offer holds instead of one per offer batch.
    #[serde(default)]
    pub pack: bool,
}

fn default_role() -> String {
    "*".to_owned()
}

fn default_duration() -> f64 {
    DEFAULT_TASK_DURATION_SECS
}

impl FrameworkSpec {
    /// A framework named `name` in `role` whose tasks need `cpus` CPUs and `mem` MB,
    /// with the default duration, no task limit and one task per offer batch.
    pub fn new(name: &str, role: &str, cpus: f64, mem: f64) -> Self {
        Self {
            name: name.to_owned(),
            role: role.to_owned(),
            task_cpus: cpus,
            task_mem: mem,
            task_duration_secs: DEFAULT_TASK_DURATION_SECS,
            max_tasks: None,
            pack: false,
        }
    }

    /// One task's resources.
    pub fn task_size(&self) -> Amount {
        Amount::new(self.task_cpus, self.task_mem)
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The scenario file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not a scenario in JSON.
    #[error("scenario is not valid JSON of the expected shape (see docs/drf-demo.md): {0}")]
    Parse(#[from] serde_json::Error),
    /// The scenario parsed but makes no sense.
    #[error("invalid scenario: {0}")]
    Invalid(String),
}

impl Scenario {
    /// The published DRF example (Ghodsi et al., NSDI 2011): one agent of
    /// <9 CPU, 18 GB>; A's tasks need <1 CPU, 4 GB>, B's <3 CPU, 1 GB>. DRF ends
    /// with A running 3 tasks and B 2, both at a dominant share of 2/3.
    pub fn paper() -> Self {
        Self {
            name: "paper".to_owned(),
            cluster: ClusterSpec {
                agents: 1,
                resources: "cpus:9;mem:18432".to_owned(),
            },
            weights: BTreeMap::new(),
            frameworks: vec![
                FrameworkSpec::new("A", "a", 1.0, 4096.0),
                FrameworkSpec::new("B", "b", 3.0, 1024.0),
            ],
        }
    }

    /// The three frameworks of the original Mesos workshop demo (A: 2 CPU/1000 MB,
    /// B: 1 CPU/2500 MB, C: 0.5 CPU/512 MB) on three agents of `cpus:4;mem:4096`.
    pub fn workshop() -> Self {
        Self {
            name: "workshop".to_owned(),
            cluster: ClusterSpec {
                agents: 3,
                resources: "cpus:4;mem:4096".to_owned(),
            },
            weights: BTreeMap::new(),
            frameworks: vec![
                FrameworkSpec::new("A", "a", 2.0, 1000.0),
                FrameworkSpec::new("B", "b", 1.0, 2500.0),
                FrameworkSpec::new("C", "c", 0.5, 512.0),
            ],
        }
    }

    /// Weighted DRF: one agent of <9 CPU, 9 GB>, two frameworks with identical
    /// <1 CPU, 512 MB> tasks in roles `heavy` (weight 2) and `light` (weight 1).
    /// `heavy` ends with 6 tasks (share 2/3), `light` with 3 (share 1/3).
    pub fn weighted() -> Self {
        Self {
            name: "weighted".to_owned(),
            cluster: ClusterSpec {
                agents: 1,
                resources: "cpus:9;mem:9216".to_owned(),
            },
            weights: BTreeMap::from([("heavy".to_owned(), 2.0)]),
            frameworks: vec![
                FrameworkSpec::new("Heavy", "heavy", 1.0, 512.0),
                FrameworkSpec::new("Light", "light", 1.0, 512.0),
            ],
        }
    }

    /// A built-in scenario by name (`paper`, `workshop`, `weighted`), or else the
    /// JSON file at that path.
    pub fn by_name_or_path(name: &str) -> Result<Self, ScenarioError> {
        match name {
            "paper" => Ok(Self::paper()),
            "workshop" => Ok(Self::workshop()),
            "weighted" => Ok(Self::weighted()),
            path => Self::load(Path::new(path)),
        }
    }

    /// Reads and validates a JSON scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Parses and validates a JSON scenario.
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = serde_json::from_str(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// One agent's resources.
    pub fn agent_size(&self) -> Result<Amount, ScenarioError> {
        parse_resource_string(&self.cluster.resources).ok_or_else(|| {
            ScenarioError::Invalid(format!(
                "cluster.resources {:?} is not like \"cpus:4;mem:4096\"",
                self.cluster.resources
            ))
        })
    }

    /// The whole cluster's CPUs and memory (zero if the resources do not parse;
    /// [`Scenario::validate`] rejects that).
    pub fn cluster_total(&self) -> Amount {
        self.agent_size()
            .unwrap_or_default()
            .times(self.cluster.agents as f64)
    }

    /// The weight of `role` (1 unless the scenario sets one).
    pub fn weight(&self, role: &str) -> f64 {
        self.weights.get(role).copied().unwrap_or(1.0)
    }

    /// Checks that the scenario can run: at least one agent with CPUs and memory,
    /// positive weights, unique framework names, and tasks that fit on an agent.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |m: String| Err(ScenarioError::Invalid(m));
        if self.cluster.agents == 0 || self.cluster.agents > 64 {
            return invalid(format!(
                "cluster.agents is {}; use 1 to 64",
                self.cluster.agents
            ));
        }
        let agent = self.agent_size()?;
        if agent.cpus <= 0.0 || agent.mem <= 0.0 {
            return invalid("cluster.resources must give cpus and mem above zero".to_owned());
        }
        for (role, weight) in &self.weights {
            if !(weight.is_finite() && *weight > 0.0) {
                return invalid(format!("weight of role {role:?} must be above zero"));
            }
        }
        if self.frameworks.is_empty() {
            return invalid("a scenario needs at least one framework".to_owned());
        }
        let mut names = BTreeSet::new();
        for f in &self.frameworks {
            if f.name.trim().is_empty() || !names.insert(f.name.as_str()) {
                return invalid(format!(
                    "framework names must be unique and non-empty (got {:?})",
                    f.name
                ));
            }
            if f.role.is_empty() {
                return invalid(format!("framework {:?} has an empty role", f.name));
            }
            let positive = |v: f64| v.is_finite() && v > 0.0;
            if !positive(f.task_cpus) || !positive(f.task_mem) || !positive(f.task_duration_secs) {
                return invalid(format!(
                    "framework {:?}: task_cpus, task_mem and task_duration_secs must be above zero",
                    f.name
                ));
            }
            if !f.task_size().fits_in(&agent) {
                return invalid(format!(
                    "framework {:?}: a task of {} CPU, {} MB never fits on an agent of {}",
                    f.name, f.task_cpus, f.task_mem, self.cluster.resources
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid() {
        for s in [
            Scenario::paper(),
            Scenario::workshop(),
            Scenario::weighted(),
        ] {
            s.validate().unwrap();
        }
        assert_eq!(Scenario::paper().cluster_total(), Amount::new(9.0, 18432.0));
        assert_eq!(Scenario::weighted().weight("heavy"), 2.0);
        assert_eq!(Scenario::weighted().weight("light"), 1.0);
    }
}
