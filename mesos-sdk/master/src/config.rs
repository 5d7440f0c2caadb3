//! Settings of the reference master.

use std::collections::HashMap;
use std::time::Duration;

use crate::auth::AuthConfig;

/// How the reference master behaves: timers and limits.
///
/// ```
/// use std::time::Duration;
/// use mesos_master::MasterConfig;
///
/// let mut config = MasterConfig::default();
/// config.heartbeat_interval = Duration::from_millis(100);
/// config.role_weights.insert("gold".to_string(), 2.0);
/// assert_eq!(config.allocation_interval, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MasterConfig {
    /// Interval of HEARTBEAT events on every subscription (Mesos default 15 s).
    pub heartbeat_interval: Duration,
    /// Interval of the periodic allocation cycle (Mesos default 1 s). Allocation also
    /// runs at once when resources are freed or a framework arrives or revives.
    pub allocation_interval: Duration,
    /// Offers left unanswered this long are rescinded; `None` keeps them forever
    /// (Mesos's default).
    pub offer_timeout: Option<Duration>,
    /// Largest request body accepted on `/api/v1/scheduler` (larger: 413).
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers before the connection
    /// is closed (slow clients cannot hold connections open).
    pub request_header_timeout: Duration,
    /// How long a client may take to send a request's body (`408` after it).
    pub request_body_timeout: Duration,
    /// Most frameworks subscribed at once; a SUBSCRIBE beyond it gets `503`.
    pub max_subscribed_frameworks: usize,
    /// Hostname reported in `/state` and in `MasterInfo`.
    pub hostname: String,
    /// How long a remote agent whose connection dropped may take to re-register
    /// before it is removed and its tasks are lost (Mesos: 75 s of missed pings).
    pub agent_reregister_timeout: Duration,
    /// After a master restart ([`crate::Master::stop_http`]), how long every
    /// framework has to resubscribe even when its own `failover_timeout` is shorter.
    pub framework_reregister_grace: Duration,
    /// Role weights for DRF (Mesos's `--weights`); roles not listed weigh 1. A weight
    /// of 2 doubles a role's fair share.
    pub role_weights: HashMap<String, f64>,
    /// The address other processes reach this master at, when it is not the one it
    /// listens on (Mesos's `--advertise_ip` and `--advertise_port`: behind NAT, a proxy
    /// or a load balancer). It goes into `MasterInfo`, so into ZooKeeper and redirects.
    pub advertise_addr: Option<std::net::SocketAddr>,
    /// Which endpoints require credentials, and the accepted ones (default: none
    /// required, as Mesos).
    pub auth: AuthConfig,
    /// At most this many operator API subscribers (`SUBSCRIBE` on `POST /api/v1`); a
    /// new one beyond it closes the oldest (Mesos's
    /// `--max_operator_event_stream_subscribers`, default 1000).
    pub max_operator_subscribers: usize,
    /// An operator subscriber that falls this many events behind is disconnected (it
    /// resubscribes and gets the state afresh), so a slow reader cannot make the
    /// master buffer without bound.
    pub operator_event_buffer: usize,
    /// How many removed frameworks the operator views keep, with their tasks
    /// (Mesos's `--max_completed_frameworks`, default 50).
    pub max_completed_frameworks: usize,
    /// How many finished tasks each framework keeps for the operator views once their
    /// last update is acknowledged (Mesos's `--max_completed_tasks_per_framework`,
    /// default 1000).
    pub max_completed_tasks_per_framework: usize,
    /// Serve HTTPS with this certificate and key (`--tls-cert`, `--tls-key`) on every
    /// endpoint; `None` serves plain HTTP. The TLS handshake counts against
    /// [`MasterConfig::request_header_timeout`].
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for MasterConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(15),
            allocation_interval: Duration::from_secs(1),
            offer_timeout: None,
            max_body_bytes: 16 * 1024 * 1024,
            request_header_timeout: Duration::from_secs(30),
            request_body_timeout: Duration::from_secs(30),
            max_subscribed_frameworks: 1000,
            hostname: "localhost".to_string(),
            agent_reregister_timeout: Duration::from_secs(75),
            framework_reregister_grace: Duration::from_secs(75),
            role_weights: HashMap::new(),
            advertise_addr: None,
            auth: AuthConfig::default(),
            max_operator_subscribers: 1000,
            operator_event_buffer: 65_536,
            max_completed_frameworks: 50,
            max_completed_tasks_per_framework: 1000,
            tls: None,
        }
    }
}
