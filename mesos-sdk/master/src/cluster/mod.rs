//! [`LocalCluster`]: a master and its agents in this process, on `127.0.0.1` with an
//! OS-chosen port, for tests and examples.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use tracing::warn;

use crate::agent::FetcherConfig;
use crate::agent::isolation::IsolationConfig;
use crate::agent::{AgentConfig, AgentHandle, ExecutorAuth, spawn};
use crate::config::MasterConfig;
use crate::server::{Master, MasterError};
use crate::state::MasterState;
use mesos_sdk::v1;

/// Why a local cluster could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The `resources` text is not in Mesos's `--resources` form
    /// (`cpus:2;mem:1024;ports:[31000-32000]`).
    #[error("invalid agent resources '{text}': {reason}")]
    Resources {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An attribute is not in Mesos's `--attributes` form (`rack:r1;zone:a`).
    #[error("invalid agent attribute {0}")]
    Attribute(String),
    /// An agent could not start (its executor API could not be bound).
    #[error("cannot start agent {agent_id}: {source}")]
    Agent {
        /// The agent.
        agent_id: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The master could not start.
    #[error(transparent)]
    Master(#[from] MasterError),
    /// The work directory could not be created.
    #[error("cannot create the work directory {path}: {source}")]
    WorkDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// Settings of a [`LocalCluster`]; see [`LocalCluster::builder`].
#[derive(Debug, Clone)]
pub struct LocalClusterBuilder {
    agents: usize,
    resources: String,
    attributes: Vec<String>,
    config: MasterConfig,
    addr: SocketAddr,
    work_dir: Option<PathBuf>,
    status_update_retry: Duration,
    kill_grace_period: Duration,
    executor_shutdown_grace_period: Duration,
    executor_registration_timeout: Duration,
    switch_user: bool,
    isolation: IsolationConfig,
    fetcher: FetcherConfig,
    executor_auth: Option<ExecutorAuth>,
    executor_domain_sockets: bool,
}

impl Default for LocalClusterBuilder {
    fn default() -> Self {
        Self {
            agents: 1,
            resources: "cpus:2;mem:1024;disk:4096;ports:[31000-32000]".to_string(),
            attributes: Vec::new(),
            config: MasterConfig::default(),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            work_dir: None,
            status_update_retry: Duration::from_secs(10),
            kill_grace_period: Duration::from_secs(3),
            executor_shutdown_grace_period: Duration::from_secs(5),
            executor_registration_timeout: Duration::from_secs(60),
            switch_user: true,
            isolation: IsolationConfig::default(),
            fetcher: FetcherConfig::default(),
            executor_auth: None,
            executor_domain_sockets: false,
        }
    }
}

impl LocalClusterBuilder {
    /// Number of agents (default 1).
    pub fn agents(mut self, n: usize) -> Self {
        self.agents = n;
        self
    }

    /// Each agent's resources, as Mesos's `--resources`
    /// (default `cpus:2;mem:1024;disk:4096;ports:[31000-32000]`).
    pub fn resources(mut self, text: impl Into<String>) -> Self {
        self.resources = text.into();
        self
    }

    /// Agent attributes as `name:value` pairs (text, or a number for scalars), e.g.
    /// `["rack:r1", "zone:a"]`.
    pub fn attributes<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.attributes = attributes.into_iter().map(Into::into).collect();
        self
    }

    /// Interval of HEARTBEAT events (default 15 s).
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.config.heartbeat_interval = d;
        self
    }

    /// Interval of the allocation cycle (default 1 s).
    pub fn allocation_interval(mut self, d: Duration) -> Self {
        self.config.allocation_interval = d;
        self
    }

    /// Rescind offers unanswered for this long (default: never).
    pub fn offer_timeout(mut self, d: Duration) -> Self {
        self.config.offer_timeout = Some(d);
        self
    }

    /// How often agents resend unacknowledged status updates (default 10 s).
    pub fn status_update_retry(mut self, d: Duration) -> Self {
        self.status_update_retry = d;
        self
    }

    /// Time agents give a killed task between SIGTERM and SIGKILL, unless its kill
    /// policy says otherwise (default 3 s).
    pub fn kill_grace_period(mut self, d: Duration) -> Self {
        self.kill_grace_period = d;
        self
    }

    /// Time a custom executor gets after SHUTDOWN before it is killed (default 5 s,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`).
    pub fn executor_shutdown_grace_period(mut self, d: Duration) -> Self {
        self.executor_shutdown_grace_period = d;
        self
    }

    /// How long an executor may take to subscribe before the agent kills it and fails
    /// its tasks (Mesos's `--executor_registration_timeout`; default 1 minute).
    pub fn executor_registration_timeout(mut self, d: Duration) -> Self {
        self.executor_registration_timeout = d;
        self
    }

    /// Mesos's `--switch_user` for every agent (default `true`, as in Mesos): tasks run
    /// as `CommandInfo.user`, else `FrameworkInfo.user`, which must exist on this
    /// machine (else each task is TASK_LOST, or TASK_DROPPED for a `PARTITION_AWARE`
    /// framework); a cluster not running as root can only run tasks as its own user.
    /// `false` runs every task as the cluster's own user, whatever `user` says. See
    /// [`AgentConfig::switch_user`].
    pub fn switch_user(mut self, on: bool) -> Self {
        self.switch_user = on;
        self
    }

    /// How every agent isolates its containers (Mesos's `--isolation`; default posix,
    /// nothing enforced). See [`AgentConfig::isolation`] and
    /// [`crate::agent::isolation`].
    pub fn isolation(mut self, isolation: IsolationConfig) -> Self {
        self.isolation = isolation;
        self
    }

    /// Every agent's fetcher cache and bounds (Mesos's `--fetcher_cache_size` and
    /// `--fetcher_stall_timeout`, with this agent's size and time limits). See
    /// [`AgentConfig::fetcher`] and [`crate::agent::fetcher`].
    pub fn fetcher(mut self, fetcher: FetcherConfig) -> Self {
        self.fetcher = fetcher;
        self
    }

    /// Executor authentication on every agent (Mesos's `--jwt_secret_key` and
    /// `--authenticate_http_executors`); see [`AgentConfig::executor_auth`].
    pub fn executor_auth(mut self, auth: ExecutorAuth) -> Self {
        self.executor_auth = Some(auth);
        self
    }

    /// Whether every agent also serves its executor API on a Unix domain socket in the
    /// work directory, `agent-<master>-<i>.sock` (Mesos's
    /// `--http_executor_domain_sockets`, off by default as there; see
    /// [`AgentConfig::executor_domain_socket`]). A work directory whose socket path
    /// would not fit in 108 bytes gets TCP only.
    pub fn executor_domain_sockets(mut self, on: bool) -> Self {
        self.executor_domain_sockets = on;
        self
    }

    /// Where task sandboxes go (default: a fresh directory under the system temp dir,
    /// removed again by [`LocalCluster::shutdown`]; a directory given here is kept).
    pub fn work_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.work_dir = Some(dir.into());
        self
    }

    /// Listen address (default `127.0.0.1:0`, an OS-chosen port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Gives `role` a DRF weight (default 1; Mesos's `--weights`).
    pub fn role_weight(mut self, role: impl Into<String>, weight: f64) -> Self {
        self.config.role_weights.insert(role.into(), weight);
        self
    }

    /// Replaces the whole master configuration.
    pub fn master_config(mut self, config: MasterConfig) -> Self {
        self.config = config;
        self
    }

    /// Starts the master and its agents.
    ///
    /// # Errors
    /// [`ClusterError`] for bad resources or attributes, an unusable work directory,
    /// or an address that cannot be bound.
    pub async fn start(self) -> Result<LocalCluster, ClusterError> {
        let resources = mesos_sdk::resources::Resources::parse(&self.resources)
            .map_err(|e| ClusterError::Resources {
                text: self.resources.clone(),
                reason: e.to_string(),
            })?
            .into_vec();
        let attributes = parse_attributes(&self.attributes)?;
        let owns_work_dir = self.work_dir.is_none();
        let work_dir = self.work_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("mesos-local-{}", uuid::Uuid::new_v4()))
        });
        std::fs::create_dir_all(&work_dir).map_err(|source| ClusterError::WorkDir {
            path: work_dir.clone(),
            source,
        })?;
        let master = Master::start(self.config.clone(), self.addr).await?;
        let mut agents = Vec::new();
        for i in 0..self.agents {
            let agent_id = format!("{}-S{i}", master.state().id);
            let mut config =
                AgentConfig::new(agent_id.clone(), resources.clone(), work_dir.clone());
            config.hostname = self.addr.ip().to_string();
            config.executor_api_addr = SocketAddr::new(self.addr.ip(), 0);
            config.attributes = attributes.clone();
            config.status_update_retry = self.status_update_retry;
            config.kill_grace_period = self.kill_grace_period;
            config.executor_shutdown_grace_period = self.executor_shutdown_grace_period;
            config.executor_registration_timeout = self.executor_registration_timeout;
            config.switch_user = self.switch_user;
            config.isolation = self.isolation.clone();
            config.fetcher = self.fetcher.clone();
            config.executor_auth = self.executor_auth.clone();
            if self.executor_domain_sockets {
                // Named after the master too: clusters may share a work directory.
                let master_id = master.state().id;
                let short = master_id.get(..8).unwrap_or(&master_id);
                let socket = work_dir.join(format!("agent-{short}-{i}.sock"));
                if socket.as_os_str().len() < mesos_sdk::transport::MAX_SOCKET_PATH {
                    config.executor_domain_socket = Some(socket);
                } else {
                    tracing::info!(path = %socket.display(), "executor socket path too long; executors use TCP");
                }
            }
            let agent = match spawn(config, master.agent_events()).await {
                Ok(agent) => agent,
                Err(source) => {
                    for agent in agents {
                        AgentHandle::shutdown(agent).await;
                    }
                    master.shutdown().await;
                    return Err(ClusterError::Agent { agent_id, source });
                }
            };
            master.add_agent(agent.info(), agent.sender());
            agents.push(agent);
        }
        Ok(LocalCluster {
            master,
            agents,
            work_dir,
            owns_work_dir,
        })
    }
}

fn parse_attributes(list: &[String]) -> Result<Vec<v1::Attribute>, ClusterError> {
    let mut out = Vec::new();
    for spec in list.iter().filter(|s| !s.trim().is_empty()) {
        out.extend(
            crate::agent::parse_attributes(spec)
                .map_err(|e| ClusterError::Attribute(format!("{spec}: {e}")))?,
        );
    }
    Ok(out)
}

/// A master with agents in this process. Tasks run as real processes.
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_master::ClusterError> {
/// use std::time::Duration;
/// use mesos_master::LocalCluster;
///
/// let cluster = LocalCluster::builder()
///     .agents(3)
///     .resources("cpus:2;mem:1024")
///     .heartbeat_interval(Duration::from_secs(1))
///     .start()
///     .await?;
/// let url = cluster.url(); // e.g. http://127.0.0.1:40123
/// assert_eq!(cluster.state().slaves.len(), 3);
/// cluster.shutdown().await;
/// # Ok(()) }
/// ```
pub struct LocalCluster {
    master: Master,
    agents: Vec<AgentHandle>,
    work_dir: PathBuf,
    /// The work directory was made by `start` (not given by the user), so `shutdown`
    /// removes it.
    owns_work_dir: bool,
}

impl LocalCluster {
    /// A builder with the defaults: one agent, `cpus:2;mem:1024;disk:4096;ports:[31000-32000]`.
    pub fn builder() -> LocalClusterBuilder {
        LocalClusterBuilder::default()
    }

    /// The master's base URL, e.g. `http://127.0.0.1:40123`; the scheduler API is at
    /// `{url}/api/v1/scheduler`.
    pub fn url(&self) -> String {
        self.master.url()
    }

    /// The master's address.
    pub fn addr(&self) -> SocketAddr {
        self.master.addr()
    }

    /// A snapshot of frameworks, tasks and agents (what `GET /state` serves).
    pub fn state(&self) -> MasterState {
        self.master.state()
    }

    /// The metrics of `GET /metrics/snapshot`.
    pub fn metrics(&self) -> serde_json::Map<String, serde_json::Value> {
        self.master.metrics()
    }

    /// Where task sandboxes are.
    pub fn work_dir(&self) -> &std::path::Path {
        &self.work_dir
    }

    /// The master itself.
    pub fn master(&self) -> &Master {
        &self.master
    }

    /// Restarts the master's HTTP server on the same port under subscribed schedulers:
    /// every event stream is closed, then the port is served again. Frameworks,
    /// tasks and agents are kept, so schedulers resubscribe with their framework id
    /// (within their failover timeout) and find their tasks.
    ///
    /// # Errors
    /// [`ClusterError::Master`] when the port could not be bound again.
    pub async fn restart_master(&mut self) -> Result<(), ClusterError> {
        self.master.stop_http().await;
        self.master.resume_http().await?;
        Ok(())
    }

    /// Kills every task and executor, stops the agents and the master; no process is
    /// left behind when this returns. A work directory the cluster created itself is
    /// removed; one given with [`LocalClusterBuilder::work_dir`] is kept.
    pub async fn shutdown(self) {
        self.master.shutdown().await;
        for agent in self.agents {
            if tokio::time::timeout(Duration::from_secs(30), agent.shutdown())
                .await
                .is_err()
            {
                warn!("an agent did not stop within 30 s");
            }
        }
        if self.owns_work_dir {
            if let Err(e) = std::fs::remove_dir_all(&self.work_dir) {
                warn!(error = %e, dir = %self.work_dir.display(), "work directory not removed");
            }
        }
    }
}
