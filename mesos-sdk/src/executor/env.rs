//! The environment an agent gives an executor.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use crate::v1;

/// A missing or unusable environment variable.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvError {
    /// A required variable is not set: was the executor started by a Mesos agent?
    #[error("environment variable {name} is not set; executors must be started by a Mesos agent")]
    Missing {
        /// The variable.
        name: &'static str,
    },
    /// A variable's value cannot be used.
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Where and how an executor reaches its agent, read from `MESOS_*` variables.
///
/// ```
/// use std::collections::HashMap;
/// use std::time::Duration;
/// use mesos_sdk::executor::ExecutorConfig;
///
/// let env: HashMap<&str, &str> = HashMap::from([
///     ("MESOS_FRAMEWORK_ID", "f1"), ("MESOS_EXECUTOR_ID", "e1"),
///     ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"), ("MESOS_DIRECTORY", "/tmp/sandbox"),
///     ("MESOS_CHECKPOINT", "1"), ("MESOS_RECOVERY_TIMEOUT", "15mins"),
///     ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs"),
/// ]);
/// let config = ExecutorConfig::from_vars(|k| env.get(k).map(|v| v.to_string())).unwrap();
/// assert!(config.checkpoint);
/// assert_eq!(config.recovery_timeout, Some(Duration::from_secs(900)));
/// assert_eq!(config.shutdown_grace_period, Duration::from_secs(5));
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ExecutorConfig {
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: v1::FrameworkId,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: v1::ExecutorId,
    /// `MESOS_AGENT_ENDPOINT`: the agent's `ip:port` (a `http(s)://` URL is also accepted).
    pub agent_endpoint: String,
    /// `MESOS_DIRECTORY`: the sandbox path on the agent's host.
    pub directory: PathBuf,
    /// `MESOS_SANDBOX`: the sandbox path inside the container (defaults to `directory`).
    pub sandbox: PathBuf,
    /// `MESOS_CHECKPOINT`: only `"1"` turns it on. A checkpointing executor survives an
    /// agent restart by resubscribing.
    pub checkpoint: bool,
    /// `MESOS_RECOVERY_TIMEOUT` (required with checkpointing): how long to keep trying
    /// to resubscribe after losing the agent.
    pub recovery_timeout: Option<Duration>,
    /// `MESOS_SUBSCRIPTION_BACKOFF_MAX` (required with checkpointing): the longest wait
    /// between resubscription attempts.
    pub subscription_backoff_max: Option<Duration>,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` (default 5 secs).
    pub shutdown_grace_period: Duration,
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`, sent as `Authorization: Bearer`.
    pub authentication_token: Option<String>,
    /// `LIBPROCESS_SSL_ENABLED` (`true` or `1`): the agent serves its executor API over
    /// TLS, so an `ip:port` endpoint is reached over `https://`.
    pub ssl_enabled: bool,
    /// `LIBPROCESS_SSL_CA_FILE`: a PEM CA certificate (bundle) trusted for the agent's
    /// TLS certificate, besides the bundled web PKI roots.
    pub ssl_ca_file: Option<PathBuf>,
    /// `MESOS_DOMAIN_SOCKET`: the Unix domain socket of an agent started with
    /// `--http_executor_domain_sockets`. When set, the executor API is reached over it,
    /// in plain HTTP as in Mesos (the TLS settings are then unused), and not over TCP.
    pub domain_socket: Option<PathBuf>,
}

impl std::fmt::Debug for ExecutorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorConfig")
            .field("framework_id", &self.framework_id.value)
            .field("executor_id", &self.executor_id.value)
            .field("agent_endpoint", &self.agent_endpoint)
            .field("directory", &self.directory)
            .field("sandbox", &self.sandbox)
            .field("checkpoint", &self.checkpoint)
            .field("recovery_timeout", &self.recovery_timeout)
            .field("subscription_backoff_max", &self.subscription_backoff_max)
            .field("shutdown_grace_period", &self.shutdown_grace_period)
            .field(
                "authentication_token",
                &self.authentication_token.as_ref().map(|_| "<redacted>"),
            )
            .field("ssl_enabled", &self.ssl_enabled)
            .field("ssl_ca_file", &self.ssl_ca_file)
            .field("domain_socket", &self.domain_socket)
            .finish()
    }
}

impl ExecutorConfig {
    /// Reads the process environment.
    ///
    /// # Errors
    /// [`EnvError`] naming the first missing or invalid variable.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads variables through `get` (for tests and embedding).
    ///
    /// # Errors
    /// [`EnvError`] naming the first missing or invalid variable.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let required = |name: &'static str| -> Result<String, EnvError> {
            match get(name) {
                Some(v) if !v.trim().is_empty() => Ok(v),
                Some(v) => Err(EnvError::Invalid {
                    name,
                    value: v,
                    reason: "must not be empty".into(),
                }),
                None => Err(EnvError::Missing { name }),
            }
        };
        let duration = |name: &'static str, value: String| -> Result<Duration, EnvError> {
            parse_duration(&value).ok_or_else(|| EnvError::Invalid {
                name,
                value,
                reason: "expected a non-negative number with a unit: ns, us, ms, secs, mins, hrs, days or weeks (e.g. 15mins)".into(),
            })
        };
        let framework_id = v1::FrameworkId {
            value: required("MESOS_FRAMEWORK_ID")?,
        };
        let executor_id = v1::ExecutorId {
            value: required("MESOS_EXECUTOR_ID")?,
        };
        let agent_endpoint = required("MESOS_AGENT_ENDPOINT")?;
        // The URL checked is the one the executor will use: the endpoint alone may
        // parse where the full URL does not (a URL parser drops trailing control
        // characters), and an endpoint with a path, query or fragment would move the
        // API elsewhere.
        let invalid = |reason: String| EnvError::Invalid {
            name: "MESOS_AGENT_ENDPOINT",
            value: agent_endpoint.clone(),
            reason,
        };
        let url = crate::transport::Url::parse(&executor_url(&agent_endpoint))
            .map_err(|e| invalid(format!("expected ip:port ({e})")))?;
        if url.path() != EXECUTOR_PATH || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("expected ip:port, without a path".into()));
        }
        let directory = PathBuf::from(required("MESOS_DIRECTORY")?);
        let sandbox = get("MESOS_SANDBOX")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| directory.clone());
        let checkpoint = get("MESOS_CHECKPOINT").as_deref() == Some("1");
        let (recovery_timeout, subscription_backoff_max) = if checkpoint {
            (
                Some(duration(
                    "MESOS_RECOVERY_TIMEOUT",
                    required("MESOS_RECOVERY_TIMEOUT")?,
                )?),
                Some(duration(
                    "MESOS_SUBSCRIPTION_BACKOFF_MAX",
                    required("MESOS_SUBSCRIPTION_BACKOFF_MAX")?,
                )?),
            )
        } else {
            (None, None)
        };
        let shutdown_grace_period = match get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD") {
            Some(v) => duration("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", v)?,
            None => Duration::from_secs(5),
        };
        let authentication_token =
            get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN").filter(|t| !t.is_empty());
        let ssl_enabled = get("LIBPROCESS_SSL_ENABLED")
            .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        let ssl_ca_file = get("LIBPROCESS_SSL_CA_FILE")
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        let domain_socket = get("MESOS_DOMAIN_SOCKET")
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        Ok(ExecutorConfig {
            framework_id,
            executor_id,
            agent_endpoint,
            directory,
            sandbox,
            checkpoint,
            recovery_timeout,
            subscription_backoff_max,
            shutdown_grace_period,
            authentication_token,
            ssl_enabled,
            ssl_ca_file,
            domain_socket,
        })
    }

    /// The path to connect to [`ExecutorConfig::domain_socket`] by, if there is one. A
    /// socket address holds at most [`MAX_SOCKET_PATH`] bytes with its final NUL; a
    /// longer path is tried relative to `cwd` (the sandbox the agent starts the
    /// executor in), as Mesos's executor library does.
    ///
    /// ```
    /// use std::path::{Path, PathBuf};
    /// use mesos_sdk::executor::ExecutorConfig;
    ///
    /// let deep = format!("/var/lib/mesos/{}/agent.sock", "d".repeat(100));
    /// let config = ExecutorConfig::from_vars(|k| match k {
    ///     "MESOS_FRAMEWORK_ID" | "MESOS_EXECUTOR_ID" => Some("x".into()),
    ///     "MESOS_AGENT_ENDPOINT" => Some("127.0.0.1:5051".into()),
    ///     "MESOS_DIRECTORY" => Some("/sandbox".into()),
    ///     "MESOS_DOMAIN_SOCKET" => Some(deep.clone()),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// let cwd = Path::new("/var/lib/mesos").join("d".repeat(100));
    /// assert_eq!(config.socket_path(&cwd).unwrap(), Some(PathBuf::from("./agent.sock")));
    /// assert!(config.socket_path(Path::new("/elsewhere")).is_err());
    /// ```
    ///
    /// [`MAX_SOCKET_PATH`]: crate::transport::MAX_SOCKET_PATH
    ///
    /// # Errors
    /// [`EnvError::Invalid`] for `MESOS_DOMAIN_SOCKET` when no path to it fits.
    pub fn socket_path(&self, cwd: &std::path::Path) -> Result<Option<PathBuf>, EnvError> {
        let Some(path) = &self.domain_socket else {
            return Ok(None);
        };
        let fits = |p: &std::path::Path| p.as_os_str().len() < crate::transport::MAX_SOCKET_PATH;
        if fits(path) {
            return Ok(Some(path.clone()));
        }
        let relative = path
            .strip_prefix(cwd)
            .ok()
            .map(|rest| std::path::Path::new(".").join(rest))
            .filter(|p| fits(p));
        relative.map(Some).ok_or_else(|| EnvError::Invalid {
            name: "MESOS_DOMAIN_SOCKET",
            value: path.display().to_string(),
            reason: format!(
                "a socket path must be shorter than {} bytes, and it is not inside the working directory {}",
                crate::transport::MAX_SOCKET_PATH,
                cwd.display()
            ),
        })
    }

    /// The agent's executor API URL, `http://<endpoint>/api/v1/executor`
    /// (`https://` with [`ExecutorConfig::ssl_enabled`], unless the calls go over
    /// [`ExecutorConfig::domain_socket`], which is plain HTTP).
    pub fn executor_url(&self) -> String {
        if self.ssl_enabled && self.domain_socket.is_none() && !self.agent_endpoint.contains("://")
        {
            return executor_url(&format!("https://{}", self.agent_endpoint));
        }
        executor_url(&self.agent_endpoint)
    }
}

/// The path of the agent's executor API.
const EXECUTOR_PATH: &str = "/api/v1/executor";

fn executor_url(endpoint: &str) -> String {
    let mut url = endpoint_url(endpoint);
    url.truncate(url.trim_end_matches('/').len());
    url.push_str(EXECUTOR_PATH);
    url
}

fn endpoint_url(endpoint: &str) -> String {
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        endpoint.to_owned()
    } else {
        format!("http://{endpoint}")
    }
}

/// `true` when this process looks started by a Mesos agent as an executor:
/// `MESOS_EXECUTOR_ID` and `MESOS_AGENT_ENDPOINT` are set.
pub fn is_executor_env() -> bool {
    std::env::var_os("MESOS_EXECUTOR_ID").is_some()
        && std::env::var_os("MESOS_AGENT_ENDPOINT").is_some()
}

/// Parses a Mesos duration: a non-negative decimal number followed by one of `ns`, `us`,
/// `ms`, `secs`, `mins`, `hrs`, `days`, `weeks` (e.g. `500ms`, `1.5mins`).
///
/// ```
/// use std::time::Duration;
/// use mesos_sdk::executor::parse_duration;
/// assert_eq!(parse_duration("1.5mins"), Some(Duration::from_secs(90)));
/// assert_eq!(parse_duration("2weeks"), Some(Duration::from_secs(2 * 7 * 86_400)));
/// assert_eq!(parse_duration("10"), None); // a unit is required
/// assert_eq!(parse_duration("-1secs"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|&i| i > 0)?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let nanos_per_unit: f64 = match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "secs" => 1e9,
        "mins" => 60e9,
        "hrs" => 3_600e9,
        "days" => 86_400e9,
        "weeks" => 604_800e9,
        _ => return None,
    };
    let nanos = value * nanos_per_unit;
    if !nanos.is_finite() || nanos < 0.0 || nanos > u64::MAX as f64 {
        return None;
    }
    Some(Duration::from_nanos(nanos.round() as u64))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn with_endpoint(endpoint: &str) -> Result<ExecutorConfig, EnvError> {
        with_vars(&[("MESOS_AGENT_ENDPOINT", endpoint)])
    }

    /// The variables every agent sets, with `extra` added (or replacing them).
    fn with_vars(extra: &[(&str, &str)]) -> Result<ExecutorConfig, EnvError> {
        ExecutorConfig::from_vars(|name| {
            let base = match name {
                "MESOS_FRAMEWORK_ID" => Some("f"),
                "MESOS_EXECUTOR_ID" => Some("e"),
                "MESOS_AGENT_ENDPOINT" => Some("127.0.0.1:5051"),
                "MESOS_DIRECTORY" => Some("/tmp"),
                _ => None,
            };
            let extra = extra.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            extra.or(base).map(str::to_owned)
        })
    }

    /// A Mesos agent with SSL says so in `LIBPROCESS_SSL_ENABLED`; the executor then
    /// uses https and trusts `LIBPROCESS_SSL_CA_FILE`.
    #[test]
    fn libprocess_ssl_variables_turn_https_on() {
        let config = with_vars(&[
            ("LIBPROCESS_SSL_ENABLED", "true"),
            ("LIBPROCESS_SSL_CA_FILE", "/etc/ca.pem"),
        ])
        .unwrap();
        assert_eq!(
            config.executor_url(),
            "https://127.0.0.1:5051/api/v1/executor"
        );
        assert_eq!(config.ssl_ca_file, Some(PathBuf::from("/etc/ca.pem")));
        let plain = with_endpoint("127.0.0.1:5051").unwrap();
        assert!(!plain.ssl_enabled);
        assert_eq!(
            plain.executor_url(),
            "http://127.0.0.1:5051/api/v1/executor"
        );
    }

    /// Found by the `executor_env` fuzz target: `F\0` was accepted (a URL parser drops
    /// a trailing control character) but its executor URL, `http://F\0/api/v1/executor`,
    /// is not a URL.
    #[test]
    fn the_endpoint_is_checked_as_the_url_the_executor_uses() {
        for endpoint in ["F\0", "h:1/x", "h:1?q", "h:1#f", "http://h:1/x/"] {
            assert!(
                matches!(
                    with_endpoint(endpoint),
                    Err(EnvError::Invalid {
                        name: "MESOS_AGENT_ENDPOINT",
                        ..
                    })
                ),
                "{endpoint:?} accepted"
            );
        }
        for endpoint in ["10.0.0.5:5051", "http://h:1/", "https://[::1]:5051"] {
            let config = with_endpoint(endpoint).unwrap();
            assert!(crate::transport::Url::parse(&config.executor_url()).is_ok());
        }
    }

    /// An agent with `--http_executor_domain_sockets` names its socket in
    /// `MESOS_DOMAIN_SOCKET`: calls then go over it in plain HTTP, even from an agent
    /// built with SSL, as Mesos's executor library does.
    #[test]
    fn a_domain_socket_is_used_in_plain_http() {
        let config = with_vars(&[
            ("LIBPROCESS_SSL_ENABLED", "true"),
            ("MESOS_DOMAIN_SOCKET", "/run/mesos/agent.sock"),
        ])
        .unwrap();
        assert_eq!(
            config.executor_url(),
            "http://127.0.0.1:5051/api/v1/executor"
        );
        assert_eq!(
            config.socket_path(Path::new("/anywhere")).unwrap(),
            Some(PathBuf::from("/run/mesos/agent.sock"))
        );
        let tcp = with_endpoint("127.0.0.1:5051").unwrap();
        assert_eq!(tcp.domain_socket, None);
        assert_eq!(tcp.socket_path(Path::new("/")).unwrap(), None);
    }
}
