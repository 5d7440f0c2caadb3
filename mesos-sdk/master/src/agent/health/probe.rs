//! One probe of a task, shared by health checks and checks: a command in the task's
//! sandbox (its exit code), an HTTP GET of `127.0.0.1:port/path` (its status code,
//! redirects followed), or a TCP connection to `127.0.0.1:port` (whether it opened), as
//! Mesos's built-in executors do. A health check reads the [`Outcome`] as healthy or
//! not (exit 0, 2xx and 3xx, connected); a check reports it as it is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use mesos_sdk::v1;
use mesos_sdk::v1::health_check::Type;

/// What to probe, resolved from a `HealthCheck`.
#[derive(Debug, Clone)]
pub(crate) enum Probe {
    /// Run a command in the sandbox.
    Command {
        /// The command (its `user` and `uris` are ignored, as in Mesos).
        command: v1::CommandInfo,
        /// The task's sandbox (working directory, `MESOS_SANDBOX`).
        sandbox: PathBuf,
    },
    /// GET a URL.
    Http {
        /// `scheme://host:port/path`.
        url: String,
    },
    /// Open a TCP connection.
    Tcp {
        /// Where.
        addr: SocketAddr,
    },
}

/// What one probe saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The command exited with this code.
    Exited(i32),
    /// The HTTP response's status code.
    Status(u16),
    /// Whether the TCP connection opened.
    Connected(bool),
}

impl Outcome {
    /// A health check's reading: exit 0, a 2xx or 3xx status, a connection. `Err` says
    /// why not.
    pub(crate) fn healthy(self) -> Result<(), String> {
        match self {
            Outcome::Exited(0) | Outcome::Connected(true) => Ok(()),
            Outcome::Status(code) if (200..400).contains(&code) => Ok(()),
            Outcome::Exited(code) => Err(format!("exited with status {code}")),
            Outcome::Status(code) => Err(format!("status {code}")),
            Outcome::Connected(false) => Err("the connection was refused".to_owned()),
        }
    }
}

fn localhost(ipv6: bool) -> IpAddr {
    if ipv6 {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    }
}

/// `scheme://addr` followed by `path` (a `/` added when it lacks one).
fn http_url(scheme: &str, addr: SocketAddr, path: &str) -> String {
    let slash = if path.starts_with('/') || path.is_empty() {
        ""
    } else {
        "/"
    };
    format!("{scheme}://{addr}{slash}{path}")
}

impl Probe {
    /// The probe of a check (`TaskInfo.check`) for a task in `sandbox`; `None` when
    /// the check names no usable probe (the master refuses those).
    pub(crate) fn of_check(check: &v1::CheckInfo, sandbox: PathBuf) -> Option<Self> {
        use v1::check_info::Type as CheckType;
        match check.r#type.and_then(|t| CheckType::try_from(t).ok()) {
            Some(CheckType::Command) => Some(Probe::Command {
                command: check.command.clone()?.command,
                sandbox,
            }),
            Some(CheckType::Http) => {
                let http = check.http.as_ref()?;
                let addr = SocketAddr::new(localhost(false), u16::try_from(http.port).ok()?);
                Some(Probe::Http {
                    url: http_url("http", addr, http.path.as_deref().unwrap_or("")),
                })
            }
            Some(CheckType::Tcp) => {
                let port = u16::try_from(check.tcp?.port).ok()?;
                Some(Probe::Tcp {
                    addr: SocketAddr::new(localhost(false), port),
                })
            }
            _ => None,
        }
    }

    /// The probe of a health check for a task in `sandbox`; `None` when the check
    /// names no usable probe (the master refuses those).
    pub(crate) fn of(check: &v1::HealthCheck, sandbox: PathBuf) -> Option<Self> {
        let host = |protocol: Option<i32>| {
            localhost(protocol == Some(v1::network_info::Protocol::IPv6 as i32))
        };
        match check.r#type.and_then(|t| Type::try_from(t).ok()) {
            Some(Type::Command) => Some(Probe::Command {
                command: check.command.clone()?,
                sandbox,
            }),
            Some(Type::Http) => {
                let http = check.http.as_ref()?;
                let port = u16::try_from(http.port).ok()?;
                let scheme = http.scheme.as_deref().unwrap_or("http");
                let addr = SocketAddr::new(host(http.protocol), port);
                Some(Probe::Http {
                    url: http_url(scheme, addr, http.path.as_deref().unwrap_or("")),
                })
            }
            Some(Type::Tcp) => {
                let tcp = check.tcp.as_ref()?;
                let port = u16::try_from(tcp.port).ok()?;
                Some(Probe::Tcp {
                    addr: SocketAddr::new(host(tcp.protocol), port),
                })
            }
            _ => None,
        }
    }

    /// Runs the probe once, for at most `timeout`; `Err` says why it could not (the
    /// command did not run or was killed by a signal, the HTTP request failed, or time
    /// ran out).
    pub(crate) async fn observe(
        &self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<Outcome, String> {
        let attempt = async {
            match self {
                Probe::Command { command, sandbox } => {
                    run_command(command, sandbox).await.map(Outcome::Exited)
                }
                Probe::Http { url } => client
                    .get(url)
                    .send()
                    .await
                    .map(|response| Outcome::Status(response.status().as_u16()))
                    .map_err(|e| format!("GET {url}: {e}")),
                Probe::Tcp { addr } => match tokio::net::TcpStream::connect(addr).await {
                    Ok(_) => Ok(Outcome::Connected(true)),
                    Err(e) => {
                        tracing::debug!(%addr, error = %e, "TCP probe: no connection");
                        Ok(Outcome::Connected(false))
                    }
                },
            }
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .map_err(|_| format!("timed out after {timeout:?}"))?
    }

    /// Runs the probe once as a health check: `Err` says why the task is not healthy.
    pub(crate) async fn run(
        &self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<(), String> {
        let outcome = self.observe(client, timeout).await?;
        outcome.healthy().map_err(|why| format!("{self}: {why}"))
    }
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Command { command, .. } => {
                write!(f, "'{}'", command.value.as_deref().unwrap_or_default())
            }
            Probe::Http { url } => write!(f, "GET {url}"),
            Probe::Tcp { addr } => write!(f, "connect {addr}"),
        }
    }
}

/// Runs `command` in `sandbox`; its exit code.
async fn run_command(command: &v1::CommandInfo, sandbox: &PathBuf) -> Result<i32, String> {
    let value = command.value.clone().unwrap_or_default();
    let mut cmd = if command.shell.unwrap_or(true) {
        let mut c = tokio::process::Command::new("/bin/sh");
        c.arg("-c").arg(&value);
        c
    } else {
        let mut c = tokio::process::Command::new(&value);
        if let Some((argv0, rest)) = command.arguments.split_first() {
            c.arg0(argv0).args(rest);
        }
        c
    };
    cmd.current_dir(sandbox)
        .env("MESOS_SANDBOX", sandbox)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // A check that times out is dropped, and its process killed with it.
        .kill_on_drop(true);
    if let Some(env) = &command.environment {
        for var in &env.variables {
            cmd.env(&var.name, var.value.as_deref().unwrap_or(""));
        }
    }
    let status = cmd
        .status()
        .await
        .map_err(|e| format!("cannot run '{value}': {e}"))?;
    status.code().ok_or_else(|| format!("'{value}' {status}"))
}
