//! Agents: run tasks as real processes and deliver their status updates reliably.
//!
//! An agent is started with [`spawn`]. The master talks to it through
//! [`AgentHandle::sender`] ([`protocol::ToAgent`]) and hears from it on the channel given
//! to [`spawn`] ([`protocol::FromAgent`], tagged with the agent id).
//!
//! - Tasks with a `command` run under the built-in command executor: one OS process
//!   group per task (`/bin/sh -c` for shell commands), in a sandbox directory holding its
//!   `stdout` and `stderr`. It reports TASK_STARTING, TASK_RUNNING, then TASK_FINISHED,
//!   TASK_FAILED or TASK_KILLED.
//! - Tasks with an `executor` run inside that custom executor, started once per
//!   (framework, executor id) with the Mesos executor environment, and talking to the
//!   agent's executor API (`POST /api/v1/executor` on [`AgentHandle::executor_endpoint`]).
//! - As Mesos's `--switch_user` ([`AgentConfig::switch_user`], on by default), each
//!   executor and command task runs as `CommandInfo.user`, else `FrameworkInfo.user`, in
//!   a sandbox chowned to that user. A user that does not exist here, or that the agent
//!   may not switch to, loses every task of the launch (TASK_LOST, TASK_DROPPED for
//!   `PARTITION_AWARE` frameworks) with Mesos's message.
//! - Every status update carries a uuid and is re-sent, with capped exponential
//!   backoff, until the master passes back [`protocol::ToAgent::Acknowledge`]; a task's
//!   updates are delivered one at a time, in order.
//! - The agent's HTTP server ([`AgentHandle::executor_endpoint`], the port in its
//!   `AgentInfo`) also serves Mesos's resource monitor, `GET /monitor/statistics`
//!   ([`monitor`]): what each container uses now, measured by its isolation.
//! - Agents in their own processes register with a master over HTTP: the agent side is
//!   [`remote::run_remote`] (and the `mesos-agent` binary), the master side
//!   [`remote::master_routes`] with an [`remote::AgentRegistry`].
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use mesos_master::agent::{AgentConfig, spawn};
//! use mesos_sdk::resources::Resources;
//! use mesos_master::agent::protocol::ToAgent;
//!
//! let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
//! let agent = spawn(AgentConfig::new("agent-1", Resources::new(), "/tmp/agent".into()), events_tx).await?;
//! let to_agent = agent.sender();
//! # let _ = (&to_agent, &mut events);
//! // ... send ToAgent::RunTask, read FromAgent::StatusUpdate, send ToAgent::Acknowledge ...
//! agent.shutdown().await; // every task and executor process is gone afterwards
//! # Ok(()) }
//! ```

mod attributes;
mod config;
mod error;
mod executor_api;
pub mod executor_auth;
mod executor_socket;
pub mod fetcher;
mod flags;
mod health;
pub mod isolation;
mod json_fields;
pub mod monitor;
mod orphans;
mod process;
pub mod protocol;
pub mod remote;
mod runtime;
mod status;
mod updates;
mod user;

use std::net::SocketAddr;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use attributes::parse_attributes;
pub use config::AgentConfig;
pub use error::AgentError;
pub use executor_auth::{ExecutorAuth, ExecutorAuthFlags};
pub use fetcher::FetcherConfig;
pub use flags::{CredentialFlags, FetcherFlags, IsolationFlags, SwitchUserFlags};
use protocol::{FromAgent, ToAgent};
use runtime::{Internal, Runtime};

use mesos_sdk::v1;

/// How long a client of the executor API may take to send its request headers (and
/// to complete the TLS handshake).
const EXECUTOR_API_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A running agent. Dropping it without [`AgentHandle::shutdown`] stops the agent when
/// the Tokio runtime ends; call `shutdown` to wait for every child process to be gone.
#[derive(Debug)]
pub struct AgentHandle {
    to_agent: mpsc::UnboundedSender<ToAgent>,
    internal: mpsc::UnboundedSender<Internal>,
    info: v1::AgentInfo,
    endpoint: SocketAddr,
    runtime: JoinHandle<()>,
    server: JoinHandle<()>,
    /// The executor API on a Unix domain socket, and the socket's path.
    socket_server: Option<(JoinHandle<()>, std::path::PathBuf)>,
}

impl std::fmt::Debug for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Internal")
    }
}

/// Starts an agent: binds its executor API on `config.executor_api_addr` and runs its
/// event loop. Everything the agent reports goes to `events` as `(agent_id, message)`.
///
/// # Errors
/// The I/O error of binding the executor API address.
pub async fn spawn(
    config: AgentConfig,
    events: mpsc::UnboundedSender<(String, FromAgent)>,
) -> std::io::Result<AgentHandle> {
    let listener = tokio::net::TcpListener::bind(config.executor_api_addr).await?;
    start(config, listener, events)
}

/// Starts an agent whose executor API serves on `listener`.
pub(crate) fn start(
    config: AgentConfig,
    listener: tokio::net::TcpListener,
    events: mpsc::UnboundedSender<(String, FromAgent)>,
) -> std::io::Result<AgentHandle> {
    let endpoint = listener.local_addr()?;
    // What an earlier run under this id left running (it was killed) goes first.
    let own_dir = status::agent_dir(&config.work_dir, &config.agent_id);
    if !config.agent_id.is_empty() && orphans::reap(&own_dir) > 0 {
        tracing::info!(agent = %config.agent_id, "killed the processes an earlier run of this agent left");
    }
    let info = v1::AgentInfo {
        hostname: config.hostname.clone(),
        port: Some(i32::from(endpoint.port())),
        resources: config.resources.clone().into_vec(),
        attributes: config.attributes.clone(),
        id: Some(v1::AgentId {
            value: config.agent_id.clone(),
        }),
        domain: None,
    };
    let socket = match &config.executor_domain_socket {
        Some(path) => Some((executor_socket::bind(path)?, path.clone())),
        None => None,
    };
    let (to_agent, from_master) = mpsc::unbounded_channel();
    let (internal, internal_rx) = mpsc::unbounded_channel();
    let executor_api = executor_api::router(
        internal.clone(),
        config.executor_heartbeat_interval,
        config.max_call_body,
        config.executor_auth.clone(),
    );
    let socket_server = socket.map(|(listener, path)| {
        let router = executor_socket::router(executor_api.clone());
        let server = tokio::spawn(async move {
            // Never stopped: the task is aborted when the agent shuts down.
            let (_keep, never) = tokio::sync::watch::channel(false);
            crate::serve::serve(listener, router, EXECUTOR_API_HEADER_TIMEOUT, None, never).await;
        });
        (server, path)
    });
    let router = executor_api.merge(monitor::router(internal.clone()));
    let tls = config.tls.clone();
    let server = tokio::spawn(async move {
        // Never stopped: the task is aborted when the agent shuts down.
        let (_keep, never) = tokio::sync::watch::channel(false);
        crate::serve::serve(listener, router, EXECUTOR_API_HEADER_TIMEOUT, tls, never).await;
    });
    tracing::info!(agent = %config.agent_id, %endpoint, "agent started");
    let runtime = Runtime::new(config, info.clone(), endpoint, events, internal.clone());
    let runtime = tokio::spawn(runtime.run(from_master, internal_rx));
    Ok(AgentHandle {
        to_agent,
        internal,
        info,
        endpoint,
        runtime,
        server,
        socket_server,
    })
}

impl AgentHandle {
    /// A sender for the master's messages to this agent.
    pub fn sender(&self) -> mpsc::UnboundedSender<ToAgent> {
        self.to_agent.clone()
    }

    /// The agent's `AgentInfo` (id, hostname, executor API port, resources, attributes).
    pub fn info(&self) -> v1::AgentInfo {
        self.info.clone()
    }

    /// Where the agent's HTTP server listens: the executor API (`POST
    /// /api/v1/executor`) and the resource monitor (`GET /monitor/statistics`).
    pub fn executor_endpoint(&self) -> SocketAddr {
        self.endpoint
    }

    /// What the agent runs now: its frameworks, executors and tasks (what a remote
    /// agent reports when it re-registers). Empty once the agent has stopped.
    pub async fn report(&self) -> protocol::AgentReport {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.internal.send(Internal::Report(tx)).is_err() {
            return protocol::AgentReport::default();
        }
        rx.await.unwrap_or_default()
    }

    /// Sends every status update not yet acknowledged again now, restarting their
    /// retry intervals (after registering with a master that may have missed them).
    pub fn resend_updates(&self) {
        let _ = self.internal.send(Internal::ResendUpdates);
    }

    /// Stops the agent: kills every task and executor (with their grace periods) and
    /// returns once every child process has exited and been reaped.
    pub async fn shutdown(self) {
        // The runtime may already have stopped after a ToAgent::Shutdown.
        let _ = self.internal.send(Internal::Shutdown);
        if let Err(e) = self.runtime.await {
            tracing::error!(error = %e, "agent event loop failed");
        }
        self.server.abort();
        let _ = self.server.await;
        if let Some((server, path)) = self.socket_server {
            server.abort();
            let _ = server.await;
            executor_socket::remove(&path);
        }
    }
}
