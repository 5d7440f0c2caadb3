//! The running master: its HTTP server, its timers, and the agents' event loop.

use std::net::SocketAddr;
use std::sync::Arc;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::agent::protocol::{FromAgent, ToAgent};
use crate::agent::remote::{
    AgentRegistration, AgentRegistry, RegistrationError, RemoteOptions, master_routes_with,
};
use crate::config::MasterConfig;
use crate::core::Core;
use crate::shared::Shared;
use crate::state::MasterState;
use mesos_sdk::v1;

/// Why the master could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MasterError {
    /// The listening socket could not be bound (port in use? address not local?).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The bound socket's address could not be read.
    #[error("cannot read the listening address: {0}")]
    LocalAddr(#[source] std::io::Error),
}

/// The master's side of remote agents (`master::agent::remote`): registrations become
/// agents in the books, re-registrations take their agent back.
struct Registry(Arc<Shared>);

#[async_trait::async_trait]
impl AgentRegistry for Registry {
    async fn register(
        &self,
        registration: AgentRegistration,
        commands: UnboundedSender<ToAgent>,
    ) -> Result<String, RegistrationError> {
        Ok(self.0.with_core(|c| {
            let id = registration
                .agent_id
                .clone()
                .unwrap_or_else(|| c.new_agent_id());
            c.register_agent(registration.agent_info(&id), commands, true)
        }))
    }

    fn events(&self) -> UnboundedSender<(String, FromAgent)> {
        self.0.agent_events.clone()
    }

    async fn disconnected(&self, agent_id: &str) {
        info!(agent = %agent_id, "remote agent disconnected; waiting for it to re-register");
        self.0.wake.notify_one();
    }
}

/// A running master. Dropping it does not stop it; call [`Master::shutdown`].
pub struct Master {
    shared: Arc<Shared>,
    addr: SocketAddr,
    agent_events: UnboundedSender<(String, FromAgent)>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    http: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

impl Master {
    /// Starts a master listening on `addr` (use port 0 for an OS-chosen port).
    ///
    /// # Errors
    /// [`MasterError::Bind`] when the address cannot be bound.
    pub async fn start(config: MasterConfig, addr: SocketAddr) -> Result<Master, MasterError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| MasterError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(MasterError::LocalAddr)?;
        let master_info = v1::MasterInfo {
            id: uuid::Uuid::new_v4().to_string(),
            ip: match addr.ip() {
                std::net::IpAddr::V4(ip) => u32::from_le_bytes(ip.octets()),
                std::net::IpAddr::V6(_) => 0,
            },
            port: u32::from(addr.port()),
            pid: Some(format!("master@{addr}")),
            hostname: Some(config.hostname.clone()),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            address: Some(v1::Address {
                hostname: Some(config.hostname.clone()),
                ip: Some(addr.ip().to_string()),
                port: i32::from(addr.port()),
            }),
            ..Default::default()
        };
        let (agent_events, mut events_rx) = unbounded_channel::<(String, FromAgent)>();
        let core = Core::new(config.clone(), master_info);
        let shared = Arc::new(Shared::new(core, config, agent_events.clone()));
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(timer_loop(shared.clone(), stop_rx.clone())));
        let events_shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            while let Some((agent_id, event)) = events_rx.recv().await {
                events_shared.with_core(|c| c.on_agent_event(&agent_id, event, Instant::now()));
            }
        }));
        let http = Some(serve(shared.clone(), listener));
        info!(%addr, "master listening");
        Ok(Master {
            shared,
            addr,
            agent_events,
            stop,
            tasks,
            http,
        })
    }

    /// The address the master listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The master's base URL, e.g. `http://127.0.0.1:5050`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A snapshot of frameworks, tasks and agents (what `GET /state` returns).
    pub fn state(&self) -> MasterState {
        self.shared.snapshot()
    }

    /// The metrics of `GET /metrics/snapshot`.
    pub fn metrics(&self) -> serde_json::Map<String, serde_json::Value> {
        self.shared.metrics()
    }

    /// Registers an agent: the master sends it [`ToAgent`] messages on `sender`; it
    /// reports through [`Master::agent_events`] tagged with the returned id (the
    /// agent's `info.id`, or a new one). The agent is removed, its tasks lost, when
    /// `sender`'s receiver is dropped.
    pub fn add_agent(&self, info: v1::AgentInfo, sender: UnboundedSender<ToAgent>) -> String {
        self.shared.with_core(|c| c.add_agent(info, sender))
    }

    /// Removes an agent now (its tasks become TASK_LOST).
    pub fn remove_agent(&self, agent_id: &str) {
        self.shared
            .with_core(|c| c.remove_agent(agent_id, Instant::now()));
    }

    /// Where agents send their reports: `(agent id, report)`.
    pub fn agent_events(&self) -> UnboundedSender<(String, FromAgent)> {
        self.agent_events.clone()
    }

    /// Stops serving HTTP: every event stream is closed (frameworks become
    /// disconnected; each gets at least [`MasterConfig::framework_reregister_grace`], or
    /// its own longer failover timeout, to resubscribe) and the port is released.
    /// The books stay; [`Master::resume_http`] serves them again.
    pub async fn stop_http(&mut self) {
        let Some((stop, task)) = self.http.take() else {
            return;
        };
        let grace = self.shared.config.framework_reregister_grace;
        self.shared
            .with_core(|c| c.close_streams(Instant::now(), grace));
        let _ = stop.send(true);
        if tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .is_err()
        {
            warn!("HTTP server did not stop within 5 s");
        }
    }

    /// Serves HTTP again on the same address after [`Master::stop_http`], keeping
    /// every framework, task and agent (a master failover under subscribed schedulers).
    ///
    /// The old server's sockets may hold the port for a moment after it stopped; the
    /// bind is retried for up to 3 s (`REBIND_PATIENCE`) while the address is in use.
    ///
    /// # Errors
    /// [`MasterError::Bind`] when the port was taken meanwhile.
    pub async fn resume_http(&mut self) -> Result<(), MasterError> {
        if self.http.is_some() {
            return Ok(());
        }
        let give_up = Instant::now() + REBIND_PATIENCE;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < give_up => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                Err(source) => {
                    return Err(MasterError::Bind {
                        addr: self.addr,
                        source,
                    });
                }
            }
        };
        self.http = Some(serve(self.shared.clone(), listener));
        info!(addr = %self.addr, "master serving again");
        Ok(())
    }

    /// Kills every task (each agent is told to shut its frameworks down), closes every
    /// stream and stops the server.
    pub async fn shutdown(mut self) {
        self.stop_http().await;
        self.shared.with_core(|c| c.shutdown_all());
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

/// How long [`Master::resume_http`] retries binding an address still in use.
pub const REBIND_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

// `RemoteOptions` is non-exhaustive: it is built from its default, then adjusted.
#[allow(clippy::field_reassign_with_default)]
fn serve(shared: Arc<Shared>, listener: TcpListener) -> (watch::Sender<bool>, JoinHandle<()>) {
    let (stop, mut stop_rx) = watch::channel(false);
    let mut remote = RemoteOptions::default();
    remote.heartbeat_interval = shared.config.heartbeat_interval;
    remote.max_body = shared.config.max_body_bytes;
    let app = crate::http::router(shared.clone())
        .merge(master_routes_with(Arc::new(Registry(shared)), remote));
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            warn!(%error, "HTTP server failed");
        }
    });
    (stop, task)
}

async fn timer_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(shared.config.allocation_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let deadline = shared.with_core(|c| c.next_deadline());
        let timed = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let periodic = tokio::select! {
            _ = interval.tick() => true,
            _ = shared.wake.notified() => false,
            _ = timed => false,
            _ = stop.wait_for(|s| *s) => return,
        };
        shared.with_core(|c| c.tick(Instant::now(), periodic));
    }
}
