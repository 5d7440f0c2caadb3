//! Agent configuration.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use mesos_sdk::resources::Resources;
use mesos_sdk::v1;

/// How one agent runs: identity, resources, sandbox root and timings.
///
/// Defaults follow the Apache Mesos agent: status updates are retried first after 10 s,
/// doubling up to 10 min; a command task gets 3 s between SIGTERM and SIGKILL; an executor
/// gets 5 s to shut down; executors are sent a HEARTBEAT every 30 min; a remote agent that lost its master
/// registers again after up to 1 s, doubling up to 1 min; tasks run as their user
/// ([`AgentConfig::switch_user`]).
///
/// ```
/// use std::time::Duration;
/// use mesos_master::agent::AgentConfig;
///
/// use mesos_sdk::resources::Resources;
///
/// let resources = Resources::parse("cpus:2;mem:1024")?;
/// let mut config = AgentConfig::new("agent-1", resources, std::env::temp_dir());
/// config.status_update_retry = Duration::from_millis(50);
/// assert_eq!(config.hostname, "localhost");
/// assert_eq!(config.resources.cpus(), 2.0);
/// assert_eq!(config.kill_grace_period, Duration::from_secs(3));
/// assert!(config.switch_user); // tasks run as their framework's user, as in Mesos
/// # Ok::<(), mesos_sdk::resources::ResourcesError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentConfig {
    /// The agent's id (`AgentInfo.id`), unique in the cluster. For a remote agent
    /// ([`super::remote::run_remote`]) it is the id to re-register with; empty lets the
    /// master assign one.
    pub agent_id: String,
    /// `AgentInfo.hostname`, also put into offers.
    pub hostname: String,
    /// The resources this agent offers (`AgentInfo.resources`).
    pub resources: Resources,
    /// The agent's attributes (see [`super::parse_attributes`]).
    pub attributes: Vec<v1::Attribute>,
    /// Root of the sandboxes: `<work_dir>/slaves/<agent>/frameworks/<f>/executors/<e>/runs/<c>`.
    pub work_dir: PathBuf,
    /// Delay before the first re-send of an unacknowledged status update; it doubles on
    /// every re-send up to [`AgentConfig::status_update_retry_max`].
    pub status_update_retry: Duration,
    /// Upper bound of the status update re-send interval.
    pub status_update_retry_max: Duration,
    /// Time between SIGTERM and SIGKILL when a task has no kill policy of its own.
    pub kill_grace_period: Duration,
    /// Time an executor gets after SHUTDOWN before it is signalled
    /// (`MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`), unless `ExecutorInfo` sets its own.
    pub executor_shutdown_grace_period: Duration,
    /// How long an executor may take to subscribe before it is killed and its tasks
    /// fail with `REASON_EXECUTOR_REGISTRATION_TIMEOUT` (Mesos's
    /// `--executor_registration_timeout`, 1 minute by default).
    pub executor_registration_timeout: Duration,
    /// Interval of HEARTBEAT events on subscribed executor streams.
    pub executor_heartbeat_interval: Duration,
    /// Where the executor HTTP API (`/api/v1/executor`) listens; port 0 picks a free port.
    pub executor_api_addr: SocketAddr,
    /// Mesos's `--http_executor_domain_sockets` with `--domain_socket_location`: also
    /// serve the executor API on a Unix domain socket at this path, and name it to
    /// executors in `MESOS_DOMAIN_SOCKET` (the SDK's executors then use it instead of
    /// TCP). The path must be shorter than 108 bytes; a socket an earlier run left there
    /// is replaced. Only the executor API is served on it (other paths: 403). `None`
    /// (the default, as in Mesos): TCP only.
    pub executor_domain_socket: Option<PathBuf>,
    /// Largest executor call body accepted, in bytes (larger bodies are answered 413).
    pub max_call_body: usize,
    /// Remote agents: the longest first delay before registering again after losing
    /// the master; it doubles (with jitter) up to
    /// [`AgentConfig::registration_backoff_max`].
    pub registration_backoff: Duration,
    /// Remote agents: upper bound of the re-registration delay.
    pub registration_backoff_max: Duration,
    /// Remote agents: the principal and secret sent (HTTP Basic) on every request to
    /// the master (Mesos's agent `--credential`); needed when the master runs with
    /// `--authenticate-agents`.
    pub credential: Option<crate::auth::Credential>,
    /// Mesos's `--switch_user` (default on): run each executor and command task as its
    /// user (`CommandInfo.user`, else `FrameworkInfo.user`), in a sandbox owned by that
    /// user. A user that does not exist on this machine (an empty one included), or one
    /// the agent may not switch to (an agent that is not root can only run tasks as
    /// itself), fails the launch: every task of it gets TASK_LOST (TASK_DROPPED for a
    /// `PARTITION_AWARE` framework) with `REASON_EXECUTOR_TERMINATED`. Off, every task
    /// runs as the agent's own user.
    pub switch_user: bool,
    /// The fetcher's cache and limits (see [`super::fetcher`]).
    pub fetcher: super::fetcher::FetcherConfig,
    /// Mesos's `--isolation`: posix (the default, nothing enforced) or cgroups (cpu and
    /// memory limits per container; see [`super::isolation`]).
    pub isolation: super::isolation::IsolationConfig,
    /// Executor authentication (Mesos's `--jwt_secret_key` and
    /// `--authenticate_http_executors`): each custom executor gets a token in
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`, and when required the executor API
    /// accepts only calls with the caller's own token. `None`: no tokens.
    pub executor_auth: Option<super::ExecutorAuth>,
    /// Serve the executor API over TLS with this certificate and key (`--tls-cert`,
    /// `--tls-key`). Executors are then told so as a Mesos agent built with SSL tells
    /// them: `LIBPROCESS_SSL_ENABLED=true`, and `LIBPROCESS_SSL_CA_FILE` set to
    /// [`AgentConfig::tls_ca_file`] when there is one.
    pub tls: Option<crate::tls::TlsConfig>,
    /// The PEM CA file executors trust for the agent's certificate (`--tls-ca`), given
    /// to them in `LIBPROCESS_SSL_CA_FILE` when the agent serves TLS.
    pub tls_ca_file: Option<PathBuf>,
    /// Remote agents: PEM CA certificates trusted for an `https://` master besides the
    /// bundled web PKI roots (`--tls-ca`). With any, a master found through
    /// ZooKeeper is reached over `https://`.
    pub master_tls_roots: Vec<Vec<u8>>,
}

impl AgentConfig {
    /// A configuration with Mesos's default timings, hostname `localhost`, no attributes
    /// and the executor API on `127.0.0.1` with an OS-chosen port. `resources` is a
    /// [`Resources`] or anything convertible into one, such as a `Vec<v1::Resource>`.
    pub fn new(
        agent_id: impl Into<String>,
        resources: impl Into<Resources>,
        work_dir: PathBuf,
    ) -> Self {
        AgentConfig {
            agent_id: agent_id.into(),
            hostname: "localhost".to_owned(),
            resources: resources.into(),
            attributes: Vec::new(),
            work_dir,
            status_update_retry: Duration::from_secs(10),
            status_update_retry_max: Duration::from_secs(600),
            kill_grace_period: Duration::from_secs(3),
            executor_shutdown_grace_period: Duration::from_secs(5),
            executor_registration_timeout: Duration::from_secs(60),
            executor_heartbeat_interval: Duration::from_secs(30 * 60),
            executor_api_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            executor_domain_socket: None,
            max_call_body: 4 * 1024 * 1024,
            registration_backoff: Duration::from_secs(1),
            registration_backoff_max: Duration::from_secs(60),
            credential: None,
            switch_user: true,
            fetcher: super::fetcher::FetcherConfig::default(),
            isolation: super::isolation::IsolationConfig::default(),
            executor_auth: None,
            tls: None,
            tls_ca_file: None,
            master_tls_roots: Vec::new(),
        }
    }
}
