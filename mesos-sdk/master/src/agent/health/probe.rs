//! One health check: a command in the task's sandbox (exit 0 is healthy), an HTTP GET
//! of `127.0.0.1:port/path` (2xx and 3xx, redirects followed), or a TCP connection to
//! `127.0.0.1:port`, as Mesos's built-in executors do.

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

impl Probe {
    /// The probe of `check` for a task in `sandbox`; `None` when the check names no
    /// usable probe (the master refuses those).
    pub(crate) fn of(check: &v1::HealthCheck, sandbox: PathBuf) -> Option<Self> {
        let host = |protocol: Option<i32>| -> IpAddr {
            if protocol == Some(v1::network_info::Protocol::IPv6 as i32) {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            } else {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }
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
                let path = http.path.as_deref().unwrap_or("");
                let slash = if path.starts_with('/') || path.is_empty() {
                    ""
                } else {
                    "/"
                };
                let addr = SocketAddr::new(host(http.protocol), port);
                Some(Probe::Http {
                    url: format!("{scheme}://{addr}{slash}{path}"),
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

    /// Runs the probe once, for at most `timeout`; `Err` says why it failed.
    pub(crate) async fn run(
        &self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<(), String> {
        let attempt = async {
            match self {
                Probe::Command { command, sandbox } => run_command(command, sandbox).await,
                Probe::Http { url } => {
                    let response = client
                        .get(url)
                        .send()
                        .await
                        .map_err(|e| format!("GET {url}: {e}"))?;
                    let status = response.status().as_u16();
                    if (200..400).contains(&status) {
                        Ok(())
                    } else {
                        Err(format!("GET {url}: status {status}"))
                    }
                }
                Probe::Tcp { addr } => tokio::net::TcpStream::connect(addr)
                    .await
                    .map(drop)
                    .map_err(|e| format!("connect {addr}: {e}")),
            }
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .map_err(|_| format!("timed out after {timeout:?}"))?
    }
}

async fn run_command(command: &v1::CommandInfo, sandbox: &PathBuf) -> Result<(), String> {
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
    if status.success() {
        Ok(())
    } else {
        Err(format!("'{value}' {status}"))
    }
}
