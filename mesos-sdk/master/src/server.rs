//! The running master: its HTTP server, its timers, and the agents' event loop.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
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
use crate::election::{self, Election, ElectionConfig, Leadership, Registrar, RegistrarError};
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
/// agents in the books (admitted in the registry first when the master is elected),
/// re-registrations take their agent back, and an agent the books do not know (after a
/// failover) brings what it runs into them.
struct Registry(Arc<Shared>);

#[async_trait::async_trait]
impl AgentRegistry for Registry {
    async fn register(
        &self,
        registration: AgentRegistration,
        commands: UnboundedSender<ToAgent>,
    ) -> Result<String, RegistrationError> {
        let (id, known) = self.0.with_core(|c| {
            let id = registration
                .agent_id
                .clone()
                .unwrap_or_else(|| c.new_agent_id());
            let known = c.agents.contains_key(&id);
            (id, known)
        });
        if self.0.with_core(|c| c.gone_agents.contains(&id)) {
            // As Mesos: an agent marked gone is shut down when it tries to come back.
            return Err(RegistrationError::Refused(format!(
                "Agent {id} has been marked gone"
            )));
        }
        let info = registration.agent_info(&id);
        if !known {
            self.0.registrar.admit(&info).await.map_err(|e| match e {
                RegistrarError::InvalidId(_) => RegistrationError::Invalid(e.to_string()),
                RegistrarError::NotLeading | RegistrarError::ZooKeeper(_) => {
                    RegistrationError::Unavailable(e.to_string())
                }
            })?;
        }
        let report = registration.report;
        Ok(self
            .0
            .with_core(|c| c.register_reporting_agent(info, commands, report, Instant::now())))
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
    leadership: watch::Receiver<Leadership>,
    /// Keeps the constant leadership of a master without election published.
    _always_leading: Option<watch::Sender<Leadership>>,
    /// The election, when the master contends (dropping it leaves the election).
    election: Option<Election>,
}

impl Master {
    /// Starts a master listening on `addr` (use port 0 for an OS-chosen port).
    ///
    /// # Errors
    /// [`MasterError::Bind`] when the address cannot be bound.
    pub async fn start(config: MasterConfig, addr: SocketAddr) -> Result<Master, MasterError> {
        Self::launch(config, addr, None).await
    }

    /// Starts a master on `addr` that joins the leader election at `election.zk` and
    /// serves only while it leads, as Mesos masters with `--zk` do.
    ///
    /// Until elected it answers scheduler, operator and agent requests with `307` to
    /// the leader (or `503 No leader elected`); once elected it recovers the registry
    /// (`503 Master has not finished recovery` meanwhile), then serves, and agents of
    /// the registry have `agent_reregister_timeout` to re-register with what they run.
    /// A leader whose ZooKeeper connection drops stops serving at once; if its session
    /// expires, [`Master::leadership`] turns [`Leadership::Lost`] for good and the
    /// master should be stopped (Mesos's master exits).
    ///
    /// # Errors
    /// [`MasterError::Bind`] when the address cannot be bound.
    pub async fn start_contending(
        config: MasterConfig,
        addr: SocketAddr,
        election: ElectionConfig,
    ) -> Result<Master, MasterError> {
        Self::launch(config, addr, Some(election)).await
    }

    async fn launch(
        config: MasterConfig,
        addr: SocketAddr,
        election: Option<ElectionConfig>,
    ) -> Result<Master, MasterError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| MasterError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(MasterError::LocalAddr)?;
        let advertised = config.advertise_addr.unwrap_or(addr);
        let master_info = v1::MasterInfo {
            id: uuid::Uuid::new_v4().to_string(),
            ip: match advertised.ip() {
                std::net::IpAddr::V4(ip) => u32::from_le_bytes(ip.octets()),
                std::net::IpAddr::V6(_) => 0,
            },
            port: u32::from(advertised.port()),
            pid: Some(format!("master@{advertised}")),
            hostname: Some(config.hostname.clone()),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            address: Some(v1::Address {
                hostname: Some(config.hostname.clone()),
                ip: Some(advertised.ip().to_string()),
                port: i32::from(advertised.port()),
            }),
            ..Default::default()
        };
        let (agent_events, mut events_rx) = unbounded_channel::<(String, FromAgent)>();
        let core = Core::new(config.clone(), master_info.clone());
        let registrar = match election {
            Some(_) => Registrar::elected_only(),
            None => Registrar::disabled(),
        };
        let shared = Arc::new(Shared::new(
            core,
            config,
            agent_events.clone(),
            registrar.clone(),
        ));
        let (election, leadership, always_leading) = match election {
            Some(settings) => {
                let recovering = shared.clone();
                let recover: election::Recover = Arc::new(move |registry| {
                    let ids = registry
                        .agents
                        .iter()
                        .filter_map(|a| a.id.as_ref().map(|i| i.value.clone()))
                        .collect::<Vec<_>>();
                    recovering.with_core(|c| {
                        c.gone_agents.extend(registry.gone);
                        c.recover(ids, registry.weights, Instant::now());
                        c.config
                            .role_weights
                            .iter()
                            .map(|(role, weight)| (role.clone(), *weight))
                            .collect()
                    })
                });
                let election = election::start(settings, &master_info, registrar, recover);
                let leadership = election.leadership.clone();
                (Some(election), leadership, None)
            }
            None => {
                let (tx, rx) = watch::channel(Leadership::Leading);
                (None, rx, Some(tx))
            }
        };
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(timer_loop(shared.clone(), stop_rx.clone())));
        let events_shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            while let Some((agent_id, event)) = events_rx.recv().await {
                events_shared.with_core(|c| c.on_agent_event(&agent_id, event, Instant::now()));
            }
        }));
        if election.is_some() {
            tasks.push(tokio::spawn(step_down_when_lost(
                shared.clone(),
                leadership.clone(),
            )));
        }
        let gate = election.as_ref().map(|e| e.leadership.clone());
        let http = Some(serve(shared.clone(), listener, gate));
        info!(%addr, "master listening");
        Ok(Master {
            shared,
            addr,
            agent_events,
            stop,
            tasks,
            http,
            leadership,
            _always_leading: always_leading,
            election,
        })
    }

    /// The address the master listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The master's base URL, e.g. `http://127.0.0.1:5050` (`https://` when it serves
    /// TLS, [`MasterConfig::tls`]).
    pub fn url(&self) -> String {
        let scheme = if self.shared.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// Every HTTP endpoint of this master (the scheduler API, the read-only endpoints,
    /// the remote agents' endpoints, behind the leader gate when the master contends)
    /// as an axum [`Router`], over this master's books: the same service its own server
    /// runs.
    ///
    /// Serve it on another listener too, or call it in-process without a socket (with
    /// `tower::ServiceExt::oneshot`, as the fuzz targets in `mesos-sdk/fuzz` do).
    pub fn router(&self) -> Router {
        let gate = self.election.as_ref().map(|e| e.leadership.clone());
        app(self.shared.clone(), gate)
    }

    /// Where this master stands in the leader election; a master started without one
    /// always leads.
    pub fn leadership(&self) -> watch::Receiver<Leadership> {
        self.leadership.clone()
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
        let gate = self.election.as_ref().map(|e| e.leadership.clone());
        self.http = Some(serve(self.shared.clone(), listener, gate));
        info!(addr = %self.addr, "master serving again");
        Ok(())
    }

    /// Stops this master and leaves what runs on the agents alone, as a Mesos master
    /// process that stops: it leaves the election first (so another master can lead at
    /// once), closes every stream and stops the server. Remote agents keep their tasks
    /// and re-register with the next master.
    pub async fn stop(mut self) {
        drop(self.election.take());
        self.stop_http().await;
        self.shared.with_core(|c| c.disconnect_agents());
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
        }
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
        // Leaves the election: the session closes and its znode goes at once.
        drop(self.election.take());
    }
}

/// How long [`Master::resume_http`] retries binding an address still in use.
pub const REBIND_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// Every endpoint of the master over `shared`'s books, behind the leader gate when
/// there is one.
// `RemoteOptions` is non-exhaustive: it is built from its default, then adjusted.
#[allow(clippy::field_reassign_with_default)]
fn app(shared: Arc<Shared>, gate: Option<watch::Receiver<Leadership>>) -> Router {
    let mut remote = RemoteOptions::default();
    remote.heartbeat_interval = shared.config.heartbeat_interval;
    remote.max_body = shared.config.max_body_bytes;
    let auth = shared.config.auth.clone();
    let agents = crate::http::guarded(
        master_routes_with(Arc::new(Registry(shared.clone())), remote),
        auth.agents,
        crate::auth::AGENT_REALM,
        &auth,
    );
    let mut app = crate::http::router(shared).merge(agents);
    if let Some(leadership) = gate {
        app = app.layer(axum::middleware::from_fn_with_state(
            leadership,
            crate::http::leader::gate,
        ));
    }
    app
}

fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    gate: Option<watch::Receiver<Leadership>>,
) -> (watch::Sender<bool>, JoinHandle<()>) {
    let (stop, stop_rx) = watch::channel(false);
    let header_timeout = shared.config.request_header_timeout;
    let tls = shared.config.tls.clone();
    let app = app(shared, gate);
    let task = tokio::spawn(crate::serve::serve(
        listener,
        app,
        header_timeout,
        tls,
        stop_rx,
    ));
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

/// A deposed leader closes every stream it serves (frameworks and agents go looking
/// for the new leader) and never serves again.
async fn step_down_when_lost(shared: Arc<Shared>, mut leadership: watch::Receiver<Leadership>) {
    if leadership
        .wait_for(|l| matches!(l, Leadership::Lost(_)))
        .await
        .is_err()
    {
        return;
    }
    warn!("leadership lost: closing every stream");
    let grace = shared.config.framework_reregister_grace;
    shared.with_core(|c| {
        c.close_streams(Instant::now(), grace);
        c.disconnect_agents();
    });
}
