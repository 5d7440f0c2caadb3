//! The agent side of remote agents: register with a master, run its commands, post
//! the agent's messages back, and re-register when the master goes away.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use futures::StreamExt as _;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::registry::{AGENT_ID_HEADER, EVENTS_PATH, REGISTER_PATH, STREAM_ID_HEADER};
use super::wire::{Control, Record, RegisterRequest};
use crate::agent::protocol::{AgentReport, FromAgent, ToAgent};
use crate::agent::{AgentConfig, AgentError, AgentHandle, start};
use mesos_sdk::backoff::{Backoff, BackoffConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::detect::{DetectError, MasterDetector, ZooKeeperDetector, detector_for};
use mesos_sdk::transport::{Auth, HttpTransport, Records, TransportError, Url, records};

/// Largest record accepted on the master's stream.
const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;
/// How long registration may take until the master's first record.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one message post may take.
const POST_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages (other than status updates, which the agent re-sends anyway) kept while
/// the master is unreachable; older ones are dropped beyond this.
const MAX_HELD: usize = 1024;
/// A stream silent for this many heartbeat intervals is considered lost.
const SILENT_HEARTBEATS: u32 = 5;
/// Redirects followed for one registration (a non-leading master answers 307).
const MAX_REDIRECTS: usize = 3;

/// Runs an agent that registers with the master at `master` (`http://host:port`, or
/// `zk://host:port/mesos` to follow the elected leader) and serves it until the master
/// sends [`ToAgent::Shutdown`]. See [`run_remote_until`].
///
/// # Errors
/// As [`run_remote_until`].
pub async fn run_remote(config: AgentConfig, master: &str) -> Result<(), AgentError> {
    run_remote_until(config, master, std::future::pending()).await
}

/// Runs a remote agent until the master sends [`ToAgent::Shutdown`] or `shutdown`
/// completes; then kills every task and executor and returns once they are gone.
///
/// `master` is `http(s)://host:port`, or `zk://[user:password@]host:port[,...]/path`
/// (also `mesos://zk://...`): then the agent registers with the leader elected there,
/// and when the leader changes it re-registers with the new one, reporting the tasks
/// and executors it runs so that the new leader rebuilds its books. A non-leading master
/// answers a registration with a redirect to the leader, which the agent follows.
///
/// The agent binds its executor API (`config.executor_api_addr`), registers (asking for
/// `config.agent_id` unless it is empty; the master's answer is the agent's id), runs
/// the commands of the master's stream exactly as an in-process agent ([`super::super::spawn`])
/// does, and posts its [`FromAgent`] messages back. When the stream ends, breaks, or
/// stays silent for five heartbeat intervals, it re-registers with its id after a
/// jittered backoff that doubles from `config.registration_backoff` up to
/// `config.registration_backoff_max`; tasks keep running meanwhile.
///
/// ```no_run
/// # async fn run() -> Result<(), mesos_master::agent::AgentError> {
/// use mesos_master::agent::{AgentConfig, remote};
/// use mesos_sdk::resources::Resources;
///
/// let resources = Resources::parse("cpus:2;mem:1024").expect("valid resources");
/// let config = AgentConfig::new("", resources, "/var/lib/mesos-agent".into());
/// remote::run_remote_until(config, "http://127.0.0.1:5050", async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await
/// # }
/// ```
///
/// # Errors
/// [`AgentError::InvalidMaster`] for a `master` that is neither an `http(s)` URL nor a
/// valid `zk://` URL, or whose ZooKeeper refuses us for good (credentials),
/// [`AgentError::Bind`] when the executor API address cannot be bound, and
/// [`AgentError::RegistrationRefused`] when the master answers a registration with a
/// client error (`400`, `403`), [`AgentError::AuthenticationRefused`] when it answers
/// any request with `401` (the master authenticates agents and `config.credential` is
/// missing or not accepted; Mesos's agent exits then too): the agent's tasks are
/// killed before it returns.
/// Unreachable or unavailable masters are retried, never an error.
pub async fn run_remote_until(
    config: AgentConfig,
    master: &str,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    let invalid = |reason: String| AgentError::InvalidMaster {
        url: master.to_owned(),
        reason,
    };
    let zookeeper = master.starts_with("zk://") || master.starts_with("mesos://zk://");
    if !zookeeper {
        Url::parse(master)
            .map_err(|e| e.to_string())
            .and_then(|url| match url.scheme() {
                "http" | "https" => Ok(url),
                other => Err(format!("scheme '{other}' is not http, https or zk")),
            })
            .map_err(invalid)?;
    }
    // Masters found in ZooKeeper are reached over https when the agent trusts a CA
    // for them (MasterInfo does not say whether a master serves TLS).
    let detector: Arc<dyn MasterDetector> = if zookeeper && !config.master_tls_roots.is_empty() {
        let spec = master.strip_prefix("mesos://").unwrap_or(master);
        Arc::new(
            ZooKeeperDetector::from_url(spec)
                .map_err(|e| invalid(e.to_string()))?
                .https(true),
        )
    } else {
        detector_for(master).map_err(|e| invalid(e.to_string()))?
    };
    let leader_changes = detector.leader_changes();
    // Registrations and messages are JSON; the master's stream is RecordIO of JSON.
    // Every request carries the agent's credential (HTTP Basic), if it has one.
    let auth = config.credential.as_ref().map(|c| Auth::Basic {
        principal: c.principal.clone(),
        secret: c.secret.clone(),
    });
    let http =
        HttpTransport::with_root_certificates(Encoding::Json, auth, &config.master_tls_roots)
            .map_err(|e| AgentError::InvalidMaster {
                url: master.to_owned(),
                reason: format!("cannot build an HTTP client: {e}"),
            })?;
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let mut remote = Remote {
        master: master.to_owned(),
        detector,
        leader_changes,
        agent_id: Some(config.agent_id.clone()).filter(|id| !id.is_empty()),
        config,
        http,
        endpoints: None,
        listener: None,
        agent: None,
        events_tx,
        outbox: Outbox {
            rx: events_rx,
            held: VecDeque::new(),
        },
    };
    let result = remote.run(shutdown).await;
    if let Some(agent) = remote.agent.take() {
        agent.shutdown().await;
    }
    result
}

/// How a registration or a session ended.
enum Outcome {
    /// The connection to the master is gone: re-register after a backoff.
    Lost(String),
    /// Stop with this error.
    Fatal(AgentError),
    /// The master shut the agent down.
    Stopped,
}

/// The master's stream of one registration.
struct Session {
    records: Records,
    ids: SessionIds,
    silence: Duration,
}

/// The master serving a registration.
struct Endpoints {
    /// The master as detected (the leader's URL for `zk://`), before any redirect.
    detected: Url,
    events_url: Url,
}

/// What names a registration on the master's events endpoint.
struct SessionIds {
    agent_id: String,
    stream_id: String,
}

/// The agent's messages for the master, and those held while it is unreachable.
struct Outbox {
    rx: mpsc::UnboundedReceiver<(String, FromAgent)>,
    held: VecDeque<FromAgent>,
}

impl Outbox {
    fn hold(&mut self, message: FromAgent) {
        if matches!(message, FromAgent::StatusUpdate { .. }) {
            // Re-sent by the agent until acknowledged.
            return;
        }
        if self.held.len() == MAX_HELD {
            tracing::warn!("the master is unreachable; dropping the oldest held agent message");
            self.held.pop_front();
        }
        self.held.push_back(message);
    }
}

struct Remote {
    config: AgentConfig,
    /// The `--master` as given.
    master: String,
    detector: Arc<dyn MasterDetector>,
    /// Leader changes, when the master is elected (`zk://`).
    leader_changes: Option<watch::Receiver<Option<Url>>>,
    /// Where the current registration lives.
    endpoints: Option<Endpoints>,
    http: HttpTransport,
    /// The id to register with: configured, then the one the master gave.
    agent_id: Option<String>,
    /// The executor API listener, bound before the first registration.
    listener: Option<TcpListener>,
    agent: Option<AgentHandle>,
    events_tx: mpsc::UnboundedSender<(String, FromAgent)>,
    outbox: Outbox,
}

impl Remote {
    async fn run(&mut self, shutdown: impl Future<Output = ()>) -> Result<(), AgentError> {
        let mut shutdown = std::pin::pin!(shutdown);
        // Doubling ceilings, each delay drawn from the upper half: `[d/2, d]`.
        let mut backoff = Backoff::new(BackoffConfig {
            initial: self.config.registration_backoff,
            max: self.config.registration_backoff_max,
            multiplier: 2.0,
            jitter: 0.5,
        });
        loop {
            let outcome = tokio::select! {
                () = &mut shutdown => return Ok(()),
                outcome = self.register_and_serve(&mut backoff) => outcome,
            };
            let delay = match outcome {
                Outcome::Stopped => return Ok(()),
                Outcome::Fatal(e) => return Err(e),
                Outcome::Lost(reason) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(%reason, ?delay, master = %self.master, "not connected to the master; registering again");
                    delay
                }
            };
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    () = &mut sleep => break,
                    Some((_, message)) = self.outbox.rx.recv() => self.outbox.hold(message),
                }
            }
        }
    }

    async fn register_and_serve(&mut self, backoff: &mut Backoff) -> Outcome {
        match self.register().await {
            Ok(session) => {
                backoff.reset();
                self.serve(session).await
            }
            Err(outcome) => outcome,
        }
    }

    /// The master to register with now: the elected leader (`zk://`), else the
    /// configured URL.
    async fn current_master(&self) -> Result<Url, Outcome> {
        let detected = tokio::time::timeout(REGISTER_TIMEOUT, self.detector.masters()).await;
        match detected {
            Err(_) => Err(Outcome::Lost(format!(
                "no leading master detected within {REGISTER_TIMEOUT:?}"
            ))),
            Ok(Ok(masters)) => masters
                .into_iter()
                .next()
                .ok_or_else(|| Outcome::Lost("no master detected".into())),
            Ok(Err(DetectError::NoMaster(why))) => Err(Outcome::Lost(why)),
            Ok(Err(e)) => Err(Outcome::Fatal(AgentError::InvalidMaster {
                url: self.master.clone(),
                reason: e.to_string(),
            })),
        }
    }

    /// Registers and starts the agent's runtime on the first success.
    async fn register(&mut self) -> Result<Session, Outcome> {
        let endpoint = match &self.agent {
            Some(agent) => agent.executor_endpoint(),
            None => {
                if self.listener.is_none() {
                    let addr = self.config.executor_api_addr;
                    let listener = TcpListener::bind(addr)
                        .await
                        .map_err(|source| Outcome::Fatal(AgentError::Bind { addr, source }))?;
                    self.listener = Some(listener);
                }
                let addr = self.config.executor_api_addr;
                self.listener
                    .as_ref()
                    .map(TcpListener::local_addr)
                    .unwrap_or_else(|| Ok(addr))
                    .map_err(|source| Outcome::Fatal(AgentError::Bind { addr, source }))?
            }
        };
        let report = match &self.agent {
            Some(agent) => agent.report().await,
            None => AgentReport::default(),
        };
        let request = RegisterRequest {
            agent_id: self.agent_id.clone(),
            hostname: self.config.hostname.clone(),
            resources: self.config.resources.clone().into_vec(),
            attributes: self.config.attributes.clone(),
            executor_endpoint: endpoint.to_string(),
            report,
        };
        let body = serde_json::to_vec(&request)
            .map_err(|e| Outcome::Lost(format!("cannot encode the registration: {e}")))?;
        let master = self.current_master().await?;
        let mut register_url = join(&master, REGISTER_PATH)?;
        let mut redirects = 0;
        let response = loop {
            let send = self
                .http
                .post_with_headers(&register_url, body.clone(), &[]);
            match tokio::time::timeout(REGISTER_TIMEOUT, send).await {
                Err(_) => {
                    return Err(Outcome::Lost(
                        "the master did not answer the registration".into(),
                    ));
                }
                Ok(Ok(response)) => break response,
                Ok(Err(TransportError::Api(api))) if api.is_redirect() => {
                    let next = api.location().and_then(|l| register_url.join(l).ok());
                    match next {
                        Some(next) if redirects < MAX_REDIRECTS => {
                            tracing::info!(from = %register_url, to = %next, "following the master's redirect to its leader");
                            redirects += 1;
                            register_url = next;
                        }
                        _ => {
                            return Err(Outcome::Lost(format!(
                                "the master answered the registration with {} and no usable Location",
                                status_text(api.status)
                            )));
                        }
                    }
                }
                Ok(Err(TransportError::Api(api)))
                    if api.status == StatusCode::UNAUTHORIZED.as_u16() =>
                {
                    return Err(Outcome::Fatal(self.authentication_refused(&register_url)));
                }
                Ok(Err(TransportError::Api(api))) if is_client_error(api.status) => {
                    return Err(Outcome::Fatal(AgentError::RegistrationRefused {
                        status: api.status,
                        message: api.message,
                    }));
                }
                Ok(Err(TransportError::Api(api))) => {
                    return Err(Outcome::Lost(format!(
                        "the master answered the registration with {}: {}",
                        status_text(api.status),
                        api.message
                    )));
                }
                Ok(Err(e)) => return Err(Outcome::Lost(format!("registration failed: {e}"))),
            }
        };
        let status = response.status();
        if status != StatusCode::OK {
            return Err(Outcome::Lost(format!(
                "the master answered the registration with {status}"
            )));
        }
        let mut records = records(response, MAX_RECORD_LEN);
        let first = tokio::time::timeout(REGISTER_TIMEOUT, records.next())
            .await
            .map_err(|_| Outcome::Lost("no REGISTERED record from the master".into()))?;
        let Some(Ok(first)) = first else {
            return Err(Outcome::Lost(
                "the master's stream ended before REGISTERED".into(),
            ));
        };
        let Ok(Record::Control(Control::Registered {
            agent_id,
            stream_id,
            heartbeat_interval_seconds,
        })) = serde_json::from_slice::<Record>(&first)
        else {
            return Err(Outcome::Lost(
                "the master's first record is not REGISTERED".into(),
            ));
        };
        let heartbeat = Duration::try_from_secs_f64(heartbeat_interval_seconds)
            .ok()
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(15));
        self.adopt_id(&agent_id).await?;
        tracing::info!(agent = %agent_id, master = %register_url, "registered with the master");
        self.endpoints = Some(Endpoints {
            events_url: join(&register_url, EVENTS_PATH)?,
            detected: master,
        });
        // A new master may never have seen the updates not acknowledged yet.
        if let Some(agent) = &self.agent {
            agent.resend_updates();
        }
        Ok(Session {
            records,
            ids: SessionIds {
                agent_id,
                stream_id,
            },
            silence: heartbeat.saturating_mul(SILENT_HEARTBEATS),
        })
    }

    /// Starts the runtime under the id the master gave, or restarts it when the master
    /// gave a different id than the one the agent runs with.
    async fn adopt_id(&mut self, agent_id: &str) -> Result<(), Outcome> {
        if let Some(agent) = &self.agent {
            if agent.info().id.is_some_and(|id| id.value == agent_id) {
                return Ok(());
            }
            tracing::warn!(agent = %agent_id, "the master gave this agent a new id; killing its tasks and starting over");
            if let Some(agent) = self.agent.take() {
                agent.shutdown().await;
            }
            self.agent_id = Some(agent_id.to_owned());
            return Err(Outcome::Lost("re-registering under the new id".into()));
        }
        let Some(listener) = self.listener.take() else {
            return Err(Outcome::Lost("the executor API listener is gone".into()));
        };
        let mut config = self.config.clone();
        config.agent_id = agent_id.to_owned();
        let addr = config.executor_api_addr;
        let agent = start(config, listener, self.events_tx.clone())
            .map_err(|source| Outcome::Fatal(AgentError::Bind { addr, source }))?;
        self.agent = Some(agent);
        self.agent_id = Some(agent_id.to_owned());
        Ok(())
    }

    /// Serves one registration until it is lost or the master shuts the agent down.
    async fn serve(&mut self, mut session: Session) -> Outcome {
        while let Some(message) = self.outbox.held.pop_front() {
            if let Err(outcome) = self.post(&session.ids, &message).await {
                self.outbox.held.push_front(message);
                return outcome;
            }
        }
        let Some(to_agent) = self.agent.as_ref().map(AgentHandle::sender) else {
            return Outcome::Lost("the agent runtime is not running".into());
        };
        let mut deadline = Instant::now() + session.silence;
        let serving = self.endpoints.as_ref().map(|e| e.detected.clone());
        let mut leader_changes = self.leader_changes.clone();
        loop {
            tokio::select! {
                Some(leader) = next_leader(&mut leader_changes) => {
                    let moved = match (&leader, &serving) {
                        (Some(leader), Some(serving)) => !same_master(leader, serving),
                        _ => false,
                    };
                    if moved {
                        return Outcome::Lost(format!("the leading master is now {}", leader.map(|u| u.to_string()).unwrap_or_default()));
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    return Outcome::Lost(format!("no record from the master for {:?}", session.silence));
                }
                record = session.records.next() => {
                    deadline = Instant::now() + session.silence;
                    let bytes = match record {
                        None => return Outcome::Lost("the master closed the agent stream".into()),
                        Some(Err(e)) => return Outcome::Lost(format!("the agent stream broke: {e}")),
                        Some(Ok(bytes)) => bytes,
                    };
                    match serde_json::from_slice::<Record>(&bytes) {
                        Ok(Record::Control(Control::Heartbeat)) => {}
                        Ok(Record::Control(Control::Registered { .. })) => {
                            tracing::warn!("ignoring a repeated REGISTERED record");
                        }
                        Ok(Record::Command(ToAgent::Shutdown)) => {
                            tracing::info!("the master shut this agent down");
                            return Outcome::Stopped;
                        }
                        Ok(Record::Command(command)) => {
                            if to_agent.send(command).is_err() {
                                return Outcome::Lost("the agent runtime stopped".into());
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "ignoring a malformed record from the master"),
                    }
                }
                Some((_, message)) = self.outbox.rx.recv() => {
                    if let Err(outcome) = self.post(&session.ids, &message).await {
                        self.outbox.hold(message);
                        return outcome;
                    }
                }
            }
        }
    }

    /// The error of a `401` from the master: Mesos's agent exits when the master
    /// refuses its authentication, rather than retrying with the same credential.
    fn authentication_refused(&self, url: &Url) -> AgentError {
        let reason = match &self.config.credential {
            Some(c) => format!(
                "principal '{}' and its secret are not accepted",
                c.principal
            ),
            None => "the agent has no --credential".to_owned(),
        };
        AgentError::AuthenticationRefused {
            master: url.to_string(),
            reason,
        }
    }

    async fn post(&self, session: &SessionIds, message: &FromAgent) -> Result<(), Outcome> {
        let body = match serde_json::to_vec(message) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode an agent message; dropping it");
                return Ok(());
            }
        };
        let headers = [
            (AGENT_ID_HEADER, session.agent_id.as_str()),
            (STREAM_ID_HEADER, session.stream_id.as_str()),
        ];
        let Some(endpoints) = &self.endpoints else {
            return Err(Outcome::Lost("not registered".into()));
        };
        let send = self
            .http
            .post_with_headers(&endpoints.events_url, body, &headers);
        match tokio::time::timeout(POST_TIMEOUT, send).await {
            Err(_) => Err(Outcome::Lost(format!(
                "posting to the master failed: no answer within {POST_TIMEOUT:?}"
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(TransportError::Api(api)))
                if api.status == StatusCode::UNAUTHORIZED.as_u16() =>
            {
                Err(Outcome::Fatal(
                    self.authentication_refused(&endpoints.events_url),
                ))
            }
            Ok(Err(TransportError::Api(api))) if api.status == StatusCode::FORBIDDEN.as_u16() => {
                Err(Outcome::Lost(
                    "the master no longer knows this registration".into(),
                ))
            }
            Ok(Err(TransportError::Api(api))) => {
                let status = status_text(api.status);
                let text = api.message;
                tracing::warn!(%status, %text, "the master rejected an agent message; dropping it");
                Ok(())
            }
            Ok(Err(e)) => Err(Outcome::Lost(format!("posting to the master failed: {e}"))),
        }
    }
}

/// `true` for a 4xx status.
fn is_client_error(status: u16) -> bool {
    StatusCode::from_u16(status).is_ok_and(|s| s.is_client_error())
}

/// A status as `reqwest` and `http` show it, e.g. `503 Service Unavailable`.
fn status_text(status: u16) -> String {
    StatusCode::from_u16(status).map_or_else(|_| status.to_string(), |s| s.to_string())
}

/// `path` on the master at `base`.
fn join(base: &Url, path: &str) -> Result<Url, Outcome> {
    base.join(path)
        .map_err(|e| Outcome::Lost(format!("cannot build the URL of {path} on {base}: {e}")))
}

/// Whether two URLs name the same master (scheme, host and port).
fn same_master(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The next leader published by the detector; pending forever without one (a static
/// master) or once the detector is gone.
async fn next_leader(changes: &mut Option<watch::Receiver<Option<Url>>>) -> Option<Option<Url>> {
    let Some(rx) = changes else {
        return std::future::pending().await;
    };
    if rx.changed().await.is_err() {
        *changes = None;
        return std::future::pending().await;
    }
    Some(rx.borrow_and_update().clone())
}
