//! Command-line flags of a master, shared by the `mesos-master` binary (and usable by
//! any binary that embeds a master): Mesos's flag names in the project's kebab-case.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::auth::{Acls, AuthConfig, Credentials};
use crate::config::MasterConfig;
use crate::election::{DEFAULT_ZK_SESSION_TIMEOUT, ElectionConfig};
use mesos_sdk::detect::ZooKeeperUrl;

/// A master's flags (`clap`): where it listens and is reached, its timers, its role
/// weights, and who must authenticate. `mesos-local` and `mesos-master` both take them.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct MasterFlags {
    /// IP address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: IpAddr,
    /// Port to listen on (0: chosen by the OS).
    #[arg(long, default_value_t = 5050)]
    pub port: u16,
    /// The IP other processes reach this master at, when not `--ip` (Mesos's
    /// `--advertise_ip`: NAT, proxies). Written into ZooKeeper and redirects.
    #[arg(long, value_name = "IP")]
    pub advertise_ip: Option<IpAddr>,
    /// The port other processes reach this master at, when not `--port` (Mesos's
    /// `--advertise_port`).
    #[arg(long, value_name = "PORT")]
    pub advertise_port: Option<u16>,
    /// Hostname reported in MasterInfo (and used in redirects to this master when it
    /// leads). Default: this machine's hostname (`localhost` for `mesos-local`).
    #[arg(long)]
    pub hostname: Option<String>,
    /// Seconds between HEARTBEAT events on scheduler streams.
    #[arg(long, default_value_t = 15.0)]
    pub heartbeat_interval: f64,
    /// Seconds between allocation cycles.
    #[arg(long, default_value_t = 1.0)]
    pub allocation_interval: f64,
    /// Seconds after which unanswered offers are rescinded (default: never).
    #[arg(long)]
    pub offer_timeout: Option<f64>,
    /// DRF role weights as in Mesos's `--weights`: `role1=2.0,role2=1.5` (unlisted: 1).
    /// Weights stored in the registry by an earlier leader take precedence.
    #[arg(long, default_value = "")]
    pub weights: String,
    /// Seconds an agent has to re-register after losing its connection, or after a
    /// failover, before it is removed (Mesos's `--agent_reregister_timeout`; Mesos
    /// gives 10 minutes after a failover).
    #[arg(long, default_value_t = 75.0)]
    pub agent_reregister_timeout: f64,
    /// How many removed frameworks the operator views and `/state` keep, with their
    /// tasks (Mesos's `--max_completed_frameworks`).
    #[arg(long, default_value_t = 50)]
    pub max_completed_frameworks: usize,
    /// How many finished tasks each framework keeps for the operator views and
    /// `/state` (Mesos's `--max_completed_tasks_per_framework`).
    #[arg(long, default_value_t = 1000)]
    pub max_completed_tasks_per_framework: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub auth: AuthFlags,
}

/// The ZooKeeper election a master joins (`mesos-master`).
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct ElectionFlags {
    /// The leader election to join, e.g. `zk://zk1:2181,zk2:2181/mesos` (Mesos's
    /// `--zk`). Without it the master leads alone.
    #[arg(long, value_name = "URL")]
    pub zk: Option<String>,
    /// ZooKeeper session timeout in seconds (Mesos's `--zk_session_timeout`): how long
    /// the others take to notice a dead leader.
    #[arg(long, default_value_t = DEFAULT_ZK_SESSION_TIMEOUT.as_secs_f64())]
    pub zk_session_timeout: f64,
}

/// Authentication flags (Mesos's names, kebab-case), shared by every binary that runs
/// a master.
#[derive(Debug, Clone, Default, clap::Args)]
#[non_exhaustive]
pub struct AuthFlags {
    /// Frameworks must authenticate (HTTP Basic) on the scheduler API; others get 401.
    #[arg(long)]
    pub authenticate_frameworks: bool,
    /// Read-only endpoints (`/state`, `/metrics/snapshot`, …) require credentials too.
    #[arg(long)]
    pub authenticate_http_readonly: bool,
    /// Read-write endpoints (the operator API `/api/v1`) require credentials.
    #[arg(long)]
    pub authenticate_http_readwrite: bool,
    /// Remote agents must authenticate (HTTP Basic, their `--credential`) to register
    /// and post updates; others get 401.
    #[arg(long)]
    pub authenticate_agents: bool,
    /// The accepted credentials: Mesos's JSON
    /// (`{"credentials":[{"principal":"p","secret":"s"}]}`) or `principal secret` lines.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<std::path::PathBuf>,
    /// Mesos's ACLs (inline JSON, or a file path): which principals may subscribe
    /// frameworks with which roles (`register_frameworks`, `permissive`).
    #[arg(long, value_name = "JSON|FILE")]
    pub acls: Option<String>,
}

impl AuthFlags {
    /// Who must authenticate, with which credentials.
    ///
    /// # Errors
    /// A message when authentication is asked for without `--credentials`, or the
    /// credentials or ACLs cannot be used.
    pub fn config(&self) -> Result<AuthConfig, String> {
        let asked = [
            (self.authenticate_frameworks, "--authenticate-frameworks"),
            (self.authenticate_agents, "--authenticate-agents"),
            (
                self.authenticate_http_readonly,
                "--authenticate-http-readonly",
            ),
            (
                self.authenticate_http_readwrite,
                "--authenticate-http-readwrite",
            ),
        ];
        let credentials = match &self.credentials {
            Some(path) => Credentials::load(path).map_err(|e| format!("--credentials: {e}"))?,
            None => match asked.iter().find(|(on, _)| *on) {
                Some((_, flag)) => return Err(format!("{flag} needs --credentials FILE")),
                None => Credentials::default(),
            },
        };
        let mut auth = AuthConfig::frameworks(credentials);
        auth.frameworks = self.authenticate_frameworks;
        auth.agents = self.authenticate_agents;
        auth.readonly = self.authenticate_http_readonly;
        auth.readwrite = self.authenticate_http_readwrite;
        if let Some(acls) = &self.acls {
            auth.acls = Acls::load(acls).map_err(|e| format!("--acls: {e}"))?;
        }
        Ok(auth)
    }
}

impl MasterFlags {
    /// The master's settings. `default_hostname` is used when `--hostname` is absent.
    ///
    /// # Errors
    /// A message naming the flag that is malformed.
    // `MasterConfig` is non-exhaustive: it is built from its default, then adjusted.
    #[allow(clippy::field_reassign_with_default)]
    pub fn config(&self, default_hostname: &str) -> Result<MasterConfig, String> {
        let mut config = MasterConfig::default();
        config.heartbeat_interval = seconds("heartbeat-interval", self.heartbeat_interval)?;
        config.allocation_interval = seconds("allocation-interval", self.allocation_interval)?;
        config.offer_timeout = self
            .offer_timeout
            .map(|t| seconds("offer-timeout", t))
            .transpose()?;
        config.agent_reregister_timeout =
            seconds("agent-reregister-timeout", self.agent_reregister_timeout)?;
        config.hostname = self
            .hostname
            .clone()
            .unwrap_or_else(|| default_hostname.to_owned());
        config.role_weights = parse_weights(&self.weights)?;
        config.max_completed_frameworks = self.max_completed_frameworks;
        config.max_completed_tasks_per_framework = self.max_completed_tasks_per_framework;
        config.auth = self.auth.config()?;
        if self.advertise_ip.is_some() || self.advertise_port.is_some() {
            config.advertise_addr = Some(std::net::SocketAddr::new(
                self.advertise_ip.unwrap_or(self.ip),
                self.advertise_port.unwrap_or(self.port),
            ));
        }
        Ok(config)
    }

    /// Where the master listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::new(self.ip, self.port)
    }
}

impl ElectionFlags {
    /// The election to join (`--zk`), if any.
    ///
    /// # Errors
    /// A message naming what is wrong with `--zk` or `--zk-session-timeout`.
    pub fn election(&self) -> Result<Option<ElectionConfig>, String> {
        let Some(zk) = &self.zk else {
            return Ok(None);
        };
        let url = ZooKeeperUrl::parse(zk).map_err(|e| format!("--zk: {e}"))?;
        let mut election = ElectionConfig::new(url);
        election.session_timeout = seconds("zk-session-timeout", self.zk_session_timeout)?;
        Ok(Some(election))
    }
}

/// Parses Mesos's `--weights` form, `role1=2.0,role2=1.5`.
///
/// ```
/// let weights = mesos_master::parse_weights("gold=2, silver=1.5").unwrap();
/// assert_eq!(weights["gold"], 2.0);
/// assert!(mesos_master::parse_weights("gold=-1").is_err());
/// ```
///
/// # Errors
/// A message naming the pair that is not `role=positive-number`.
pub fn parse_weights(spec: &str) -> Result<HashMap<String, f64>, String> {
    let mut weights = HashMap::new();
    for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (role, weight) = pair
            .split_once('=')
            .and_then(|(role, w)| {
                w.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|w| w.is_finite() && *w > 0.0)
                    .map(|w| (role.trim().to_string(), w))
            })
            .ok_or_else(|| format!("--weights: '{pair}' is not role=positive-number"))?;
        weights.insert(role, weight);
    }
    Ok(weights)
}

fn seconds(name: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("--{name} must be a non-negative number of seconds, got {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_needs_credentials() {
        let mut flags = AuthFlags {
            authenticate_frameworks: true,
            ..AuthFlags::default()
        };
        assert!(flags.config().unwrap_err().contains("needs --credentials"));
        let agents = AuthFlags {
            authenticate_agents: true,
            ..AuthFlags::default()
        };
        assert_eq!(
            agents.config().unwrap_err(),
            "--authenticate-agents needs --credentials FILE"
        );
        let acls = AuthFlags {
            acls: Some(r#"{"register_frameworks": [{"principals": {}}]}"#.into()),
            ..AuthFlags::default()
        };
        assert!(
            acls.config()
                .unwrap_err()
                .starts_with("--acls: invalid ACLs")
        );
        flags.credentials = Some("/nonexistent/credentials.json".into());
        assert!(
            flags
                .config()
                .unwrap_err()
                .contains("--credentials: cannot read")
        );
        let open = AuthFlags::default().config().unwrap();
        assert!(!open.frameworks && !open.readonly && open.credentials.is_empty());
    }
}
