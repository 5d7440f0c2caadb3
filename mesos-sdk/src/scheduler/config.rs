use std::sync::Arc;
use std::time::Duration;

use super::SchedulerError;
use crate::backoff::BackoffConfig;
use crate::codec::Encoding;
use crate::detect::{self, MasterDetector};
use crate::transport::Auth;
use crate::v1;

/// Default largest accepted event: 64 MiB (an OFFERS event of a large cluster can be
/// several MiB).
pub const DEFAULT_MAX_EVENT_SIZE: usize = 64 * 1024 * 1024;

/// Everything the runtime needs to subscribe; built by [`SchedulerBuilder`].
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) detector: Arc<dyn MasterDetector>,
    pub(crate) framework: v1::FrameworkInfo,
    pub(crate) suppressed_roles: Vec<String>,
    pub(crate) encoding: Encoding,
    pub(crate) auth: Option<Auth>,
    pub(crate) tls_roots: Vec<Vec<u8>>,
    pub(crate) heartbeat_misses: u32,
    pub(crate) default_heartbeat: Duration,
    pub(crate) backoff: BackoffConfig,
    pub(crate) max_reconnect_attempts: Option<u32>,
    pub(crate) auto_acknowledge: bool,
    pub(crate) reconcile_tasks: Vec<(v1::TaskId, Option<v1::AgentId>)>,
    pub(crate) reconcile_backoff: BackoffConfig,
    pub(crate) max_redirects: u32,
    pub(crate) max_event_size: usize,
}

/// Configures a [`SchedulerDriver`]; start with [`SchedulerDriver::builder`].
///
/// [`SchedulerDriver`]: super::SchedulerDriver
/// [`SchedulerDriver::builder`]: super::SchedulerDriver::builder
///
/// ```
/// use std::time::Duration;
/// use mesos_sdk::backoff::BackoffConfig;
/// use mesos_sdk::codec::Encoding;
/// use mesos_sdk::scheduler::SchedulerDriver;
/// use mesos_sdk::v1;
///
/// let framework = v1::FrameworkInfo { user: "nobody".into(), name: "demo".into(), ..Default::default() };
/// let driver = SchedulerDriver::builder("http://m1:5050,http://m2:5050", framework)
///     .encoding(Encoding::Json)
///     .credentials("demo", "secret")
///     .heartbeat_misses(3)
///     .backoff(BackoffConfig { initial: Duration::from_millis(200), ..Default::default() })
///     .max_reconnect_attempts(Some(10))
///     .build()
///     .unwrap();
/// assert!(driver.client().framework_id().is_none());
/// // The leading master of an HA cluster, found through ZooKeeper (connects on start).
/// assert!(SchedulerDriver::builder("zk://zk1:2181,zk2:2181/mesos", Default::default()).build().is_ok());
/// ```
#[must_use]
pub struct SchedulerBuilder {
    master: String,
    detector: Option<Arc<dyn MasterDetector>>,
    config: Config,
}

impl std::fmt::Debug for SchedulerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerBuilder")
            .field("master", &self.master)
            .field("framework", &self.config.framework.name)
            .field("encoding", &self.config.encoding)
            .finish_non_exhaustive()
    }
}

impl SchedulerBuilder {
    pub(crate) fn new(master: String, mut framework: v1::FrameworkInfo) -> Self {
        // Mesos agents run tasks as this user; an empty one fails every task there.
        crate::calls::fill_user(&mut framework);
        SchedulerBuilder {
            master,
            detector: None,
            config: Config {
                detector: Arc::new(NoDetector),
                framework,
                suppressed_roles: Vec::new(),
                encoding: Encoding::Protobuf,
                auth: None,
                tls_roots: Vec::new(),
                heartbeat_misses: 5,
                default_heartbeat: Duration::from_secs(15),
                backoff: BackoffConfig::default(),
                max_reconnect_attempts: None,
                auto_acknowledge: true,
                reconcile_tasks: Vec::new(),
                reconcile_backoff: BackoffConfig {
                    initial: Duration::from_secs(5),
                    max: Duration::from_secs(60),
                    multiplier: 2.0,
                    jitter: 0.2,
                },
                max_redirects: 5,
                max_event_size: DEFAULT_MAX_EVENT_SIZE,
            },
        }
    }

    /// Body encoding of calls and events (default protobuf).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.config.encoding = encoding;
        self
    }

    /// Trusts a PEM-encoded CA certificate for `https://` masters, besides the
    /// bundled web PKI roots (call once per certificate), e.g. a cluster's private CA.
    /// A certificate that is not valid PEM makes `build` fail.
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.tls_roots.push(pem.into());
        self
    }

    /// HTTP Basic credentials (the framework's principal and secret).
    pub fn credentials(mut self, principal: impl Into<String>, secret: impl Into<String>) -> Self {
        self.config.auth = Some(Auth::Basic {
            principal: principal.into(),
            secret: secret.into(),
        });
        self
    }

    /// Resubscribe after this many heartbeat intervals without any event (default 5).
    /// Values below 1 are treated as 1.
    pub fn heartbeat_misses(mut self, misses: u32) -> Self {
        self.config.heartbeat_misses = misses.max(1);
        self
    }

    /// Heartbeat interval assumed until SUBSCRIBED says otherwise (default 15 s, the
    /// master's default). Also bounds the wait for the first event.
    pub fn default_heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.default_heartbeat = interval;
        self
    }

    /// Delays between resubscription attempts (default 1 s doubling to 30 s, jittered).
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// Give up after this many consecutive failed (re)subscription attempts; `None`
    /// (the default) retries forever.
    pub fn max_reconnect_attempts(mut self, attempts: Option<u32>) -> Self {
        self.config.max_reconnect_attempts = attempts;
        self
    }

    /// Acknowledge each status update that carries a uuid once `update` returned
    /// (default `true`). With `false`, call [`super::SchedulerClient::acknowledge`].
    pub fn auto_acknowledge(mut self, on: bool) -> Self {
        self.config.auto_acknowledge = on;
        self
    }

    /// Tasks to reconcile explicitly after every (re)subscription, in addition to the
    /// non-terminal tasks the driver has seen updates for.
    pub fn reconcile_tasks(mut self, tasks: Vec<(v1::TaskId, Option<v1::AgentId>)>) -> Self {
        self.config.reconcile_tasks = tasks;
        self
    }

    /// Delays between explicit reconciliation rounds (default 5 s doubling to 60 s).
    pub fn reconcile_backoff(mut self, backoff: BackoffConfig) -> Self {
        self.config.reconcile_backoff = backoff;
        self
    }

    /// Roles to subscribe suppressed (no offers until revived).
    pub fn suppressed_roles(mut self, roles: Vec<String>) -> Self {
        self.config.suppressed_roles = roles;
        self
    }

    /// How many `307` redirects one subscription may follow (default 5).
    pub fn max_redirects(mut self, hops: u32) -> Self {
        self.config.max_redirects = hops;
        self
    }

    /// Largest accepted event in bytes (default [`DEFAULT_MAX_EVENT_SIZE`]).
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.config.max_event_size = bytes;
        self
    }

    /// Finds masters with `detector` instead of parsing the master address.
    pub fn detector(mut self, detector: impl MasterDetector) -> Self {
        self.detector = Some(Arc::new(detector));
        self
    }

    /// The checked configuration, with the detector installed: what `build` (in
    /// `driver.rs`, which this module does not import) creates the driver from.
    ///
    /// # Errors
    /// [`SchedulerError::InvalidMaster`] for an unusable master address.
    pub(super) fn into_config(mut self) -> Result<Config, SchedulerError> {
        self.config.detector = match self.detector {
            Some(detector) => detector,
            None => detect::detector_for(&self.master)?,
        };
        Ok(self.config)
    }
}

/// Placeholder until `build()` installs the real detector.
struct NoDetector;

#[async_trait::async_trait]
impl MasterDetector for NoDetector {
    async fn masters(&self) -> Result<Vec<crate::transport::Url>, crate::detect::DetectError> {
        Err(crate::detect::DetectError::Empty)
    }
}
