//! Leader detection through ZooKeeper, as Mesos's `ZooKeeperMasterDetector` does.
//!
//! Mesos masters contend for leadership under a znode (e.g. `/mesos`): each joins as an
//! ephemeral sequential child `json.info_<10-digit sequence>` holding its `MasterInfo`
//! as JSON, and the child with the lowest sequence leads. [`ZooKeeperDetector`] keeps
//! a ZooKeeper session in a background task, watches those children, and publishes
//! the leader's `http://ip:port/` (see `docs/high-availability.md`).

mod leader;
mod url;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use zookeeper_client as zk;

pub use self::leader::{MASTER_INFO_JSON_LABEL, json_info_sequence, master_info_url};
pub use self::url::{DEFAULT_ZOOKEEPER_PORT, ZooKeeperUrl};
use super::{DetectError, MasterDetector};
use crate::transport::Url;

/// Mesos's `MASTER_DETECTOR_ZK_SESSION_TIMEOUT`.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`ZooKeeperDetector::leader`] waits for a ZooKeeper session by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`ZooKeeperDetector::leader`] waits for a leading master by default.
pub const DEFAULT_LEADER_TIMEOUT: Duration = Duration::from_secs(60);

/// Retry delays of the background task between failed connection attempts.
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Why ZooKeeper detection failed.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZooKeeperError {
    /// The `zk://` URL cannot be used.
    #[error(
        "invalid ZooKeeper URL {url:?}: {reason} (expected zk://[user:password@]host:port[,host:port...]/path)"
    )]
    InvalidUrl {
        /// The URL as given, password hidden.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No ZooKeeper session could be established within the connect timeout.
    #[error("ZooKeeper at {servers} unreachable: no session within {waited:?} ({reason})")]
    Unreachable {
        /// The ensemble, `host:port,...`.
        servers: String,
        /// How long the call waited.
        waited: Duration,
        /// The last connection error.
        reason: String,
    },
    /// Connected, but no master leads within the leader timeout.
    #[error("no leading master under znode {path} within {waited:?}: {reason}")]
    NoLeader {
        /// The masters' znode.
        path: String,
        /// How long the call waited.
        waited: Duration,
        /// Why none was found (no `json.info_` child, the znode missing, ...).
        reason: String,
    },
    /// ZooKeeper refused to read the masters' znode (its ACL does not admit us).
    #[error(
        "ZooKeeper denied reading {path} (NoAuth): give credentials that its ACL admits, zk://user:password@host:port{path}"
    )]
    NotAuthorized {
        /// The znode that could not be read.
        path: String,
    },
    /// ZooKeeper rejected the session's credentials.
    #[error("ZooKeeper rejected the credentials (AuthFailed)")]
    AuthFailed,
    /// The detector cannot run (e.g. it was used outside a Tokio runtime).
    #[error("ZooKeeper detector stopped: {0}")]
    Stopped(String),
}

impl ZooKeeperError {
    /// `true` when asking again later may succeed (ZooKeeper unreachable, no leader
    /// yet); [`MasterDetector::masters`] reports these as [`DetectError::NoMaster`] so
    /// the scheduler runtime retries.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ZooKeeperError::Unreachable { .. } | ZooKeeperError::NoLeader { .. }
        )
    }
}

/// What the background task knows.
#[derive(Debug, Clone)]
struct Status {
    leader: Option<Url>,
    phase: Phase,
}

#[derive(Debug, Clone)]
enum Phase {
    /// No session; the last connection error, if any.
    Connecting(Option<String>),
    /// A session; why there is no leader when there is none.
    Connected(String),
    /// Stopped for good.
    Failed(ZooKeeperError),
}

/// Settings and channels shared with the background task.
#[derive(Debug)]
struct Shared {
    url: ZooKeeperUrl,
    session_timeout: Duration,
    https: bool,
    status: watch::Sender<Status>,
    leader: watch::Sender<Option<Url>>,
}

/// Owns the background task: aborts it when the last detector clone goes.
#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

/// Finds the leading Mesos master through ZooKeeper (`zk://host:port/mesos`).
///
/// Building one does no I/O and needs no runtime; the first [`leader`](Self::leader)
/// or [`masters`](MasterDetector::masters) call (or [`changes`](Self::changes) inside a
/// Tokio runtime) starts a background task that keeps a ZooKeeper session, watches the
/// masters' znode, reconnects after a session expiry, and publishes the leader.
/// Dropping the last clone stops it and closes the session.
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_sdk::detect::ZooKeeperError> {
/// use std::time::Duration;
/// use mesos_sdk::detect::ZooKeeperDetector;
///
/// let detector = ZooKeeperDetector::from_url("zk://zk1:2181,zk2:2181/mesos")?
///     .leader_timeout(Duration::from_secs(30));
/// let leader = detector.leader().await?; // e.g. http://10.0.0.7:5050/
/// let mut changes = detector.changes();
/// while changes.changed().await.is_ok() {
///     println!("leading master now: {:?}", *changes.borrow());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ZooKeeperDetector {
    inner: Arc<Inner>,
    connect_timeout: Duration,
    leader_timeout: Duration,
}

impl ZooKeeperDetector {
    /// A detector for `url` with the default timeouts.
    pub fn new(url: ZooKeeperUrl) -> Self {
        Self::with_settings(url, DEFAULT_SESSION_TIMEOUT, false)
    }

    /// Parses `url` (see [`ZooKeeperUrl::parse`]) and builds a detector.
    ///
    /// # Errors
    /// [`ZooKeeperError::InvalidUrl`].
    pub fn from_url(url: &str) -> Result<Self, ZooKeeperError> {
        Ok(Self::new(ZooKeeperUrl::parse(url)?))
    }

    fn with_settings(url: ZooKeeperUrl, session_timeout: Duration, https: bool) -> Self {
        let status = Status {
            leader: None,
            phase: Phase::Connecting(None),
        };
        ZooKeeperDetector {
            inner: Arc::new(Inner {
                shared: Arc::new(Shared {
                    url,
                    session_timeout,
                    https,
                    status: watch::Sender::new(status),
                    leader: watch::Sender::new(None),
                }),
                task: Mutex::new(None),
            }),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            leader_timeout: DEFAULT_LEADER_TIMEOUT,
        }
    }

    /// The ZooKeeper session timeout to negotiate (default 10 s, as Mesos). A session
    /// disconnected for this long counts as expired: the leader is forgotten until a
    /// new session reads it again. Set it before the detector first runs.
    pub fn session_timeout(self, timeout: Duration) -> Self {
        let https = self.inner.shared.https;
        self.rebuild(timeout, https)
    }

    /// Masters are reached over `https://` instead of `http://` (ZooKeeper's
    /// `MasterInfo` does not say). Set it before the detector first runs.
    pub fn https(self, https: bool) -> Self {
        let session_timeout = self.inner.shared.session_timeout;
        self.rebuild(session_timeout, https)
    }

    fn rebuild(self, session_timeout: Duration, https: bool) -> Self {
        let mut fresh = Self::with_settings(self.inner.shared.url.clone(), session_timeout, https);
        fresh.connect_timeout = self.connect_timeout;
        fresh.leader_timeout = self.leader_timeout;
        fresh
    }

    /// How long [`leader`](Self::leader) waits for a ZooKeeper session before failing
    /// with [`ZooKeeperError::Unreachable`] (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long [`leader`](Self::leader) waits for a leading master before failing with
    /// [`ZooKeeperError::NoLeader`] (default 60 s).
    pub fn leader_timeout(mut self, timeout: Duration) -> Self {
        self.leader_timeout = timeout;
        self
    }

    /// The parsed URL.
    pub fn url(&self) -> &ZooKeeperUrl {
        &self.inner.shared.url
    }

    /// The leader known now, without waiting (`None` before the first detection).
    pub fn current_leader(&self) -> Option<Url> {
        self.inner.shared.leader.borrow().clone()
    }

    /// Leader changes: the receiver holds the current leader (`None` while there is
    /// none) and wakes on every change, e.g. to re-subscribe to the new master.
    ///
    /// Starts the background task when called inside a Tokio runtime; otherwise the
    /// first [`leader`](Self::leader) call starts it.
    pub fn changes(&self) -> watch::Receiver<Option<Url>> {
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = self.start();
        }
        self.inner.shared.leader.subscribe()
    }

    /// Waits for the leading master's URL (`http://ip:port/`).
    ///
    /// Both bounds count from this call: without a ZooKeeper session for the connect
    /// timeout it fails with [`ZooKeeperError::Unreachable`]; connected but without a
    /// leader for the leader timeout, with [`ZooKeeperError::NoLeader`] (logging why it
    /// waits meanwhile).
    ///
    /// # Errors
    /// Those two, or a permanent [`ZooKeeperError::NotAuthorized`] /
    /// [`ZooKeeperError::AuthFailed`].
    pub async fn leader(&self) -> Result<Url, ZooKeeperError> {
        self.start()?;
        let shared = &self.inner.shared;
        let mut status = shared.status.subscribe();
        let started = Instant::now();
        let mut logged = false;
        loop {
            let now = status.borrow_and_update().clone();
            if let Some(url) = now.leader {
                return Ok(url);
            }
            let (deadline, timeout_error) = match now.phase {
                Phase::Failed(e) => return Err(e),
                Phase::Connecting(reason) => (
                    started + self.connect_timeout,
                    ZooKeeperError::Unreachable {
                        servers: shared.url.connect_string(),
                        waited: self.connect_timeout,
                        reason: reason.unwrap_or_else(|| "still connecting".into()),
                    },
                ),
                Phase::Connected(why) => {
                    if !logged {
                        tracing::info!(
                            zookeeper = %shared.url,
                            "waiting up to {:?} for a leading master: {why}",
                            self.leader_timeout
                        );
                        logged = true;
                    }
                    (
                        started + self.leader_timeout,
                        ZooKeeperError::NoLeader {
                            path: shared.url.path().to_owned(),
                            waited: self.leader_timeout,
                            reason: why,
                        },
                    )
                }
            };
            match tokio::time::timeout_at(deadline, status.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(ZooKeeperError::Stopped("status channel closed".into())),
                Err(_) => return Err(timeout_error),
            }
        }
    }

    /// Spawns the background task unless it runs (or failed for good).
    fn start(&self) -> Result<(), ZooKeeperError> {
        let mut task = self.inner.task.lock().unwrap_or_else(|p| p.into_inner());
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        if matches!(self.inner.shared.status.borrow().phase, Phase::Failed(_)) {
            return Ok(());
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            ZooKeeperError::Stopped("ZooKeeper detection needs a Tokio runtime".into())
        })?;
        let shared = Arc::clone(&self.inner.shared);
        *task = Some(runtime.spawn(run(shared)));
        Ok(())
    }
}

#[async_trait]
impl MasterDetector for ZooKeeperDetector {
    /// The leader only: Mesos redirects any other master's callers to it anyway.
    async fn masters(&self) -> Result<Vec<Url>, DetectError> {
        match self.leader().await {
            Ok(url) => Ok(vec![url]),
            Err(e) if e.is_transient() => Err(DetectError::NoMaster(e.to_string())),
            Err(e) => Err(DetectError::ZooKeeper(e)),
        }
    }

    fn leader_changes(&self) -> Option<watch::Receiver<Option<Url>>> {
        Some(self.changes())
    }
}

/// How a session's watch loop ended.
enum Ended {
    /// The session is gone (expired, closed, disconnected too long): reconnect.
    SessionLost(String),
    /// Stop for good.
    Failed(ZooKeeperError),
}

/// The background task: connect, follow the leader, reconnect when the session is lost.
async fn run(shared: Arc<Shared>) {
    let mut delay = RETRY_MIN;
    loop {
        let client = match connect(&shared).await {
            Ok(client) => {
                delay = RETRY_MIN;
                client
            }
            Err(reason) => {
                tracing::debug!(zookeeper = %shared.url, "ZooKeeper connection failed: {reason}");
                shared
                    .status
                    .send_modify(|s| s.phase = Phase::Connecting(Some(reason)));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(RETRY_MAX);
                continue;
            }
        };
        tracing::debug!(zookeeper = %shared.url, "ZooKeeper session established");
        match follow(&shared, &client).await {
            Ended::SessionLost(why) => {
                tracing::warn!(zookeeper = %shared.url, "ZooKeeper session lost ({why}); reconnecting");
                publish(&shared, None, Phase::Connecting(Some(why)));
            }
            Ended::Failed(error) => {
                tracing::error!(zookeeper = %shared.url, "ZooKeeper detection stopped: {error}");
                publish(&shared, None, Phase::Failed(error));
                return;
            }
        }
    }
}

async fn connect(shared: &Shared) -> Result<zk::Client, String> {
    let timeout = shared.session_timeout;
    shared
        .url
        .connect(timeout, timeout)
        .await
        .map_err(|e| match e {
            ZooKeeperError::Unreachable { reason, .. } => reason,
            other => other.to_string(),
        })
}

/// Watches the masters' znode on one session, publishing every leader change.
async fn follow(shared: &Shared, client: &zk::Client) -> Ended {
    let path = shared.url.path();
    let mut state = client.state_watcher();
    let mut warned = std::collections::HashSet::new();
    loop {
        let (children, watcher) = match client.get_and_watch_children(path).await {
            Ok((children, _, watcher)) => (children, watcher),
            Err(zk::Error::NoNode) => match client.check_and_watch_stat(path).await {
                // Created in between: list it again.
                Ok((Some(_), _)) => continue,
                Ok((None, watcher)) => {
                    let why = format!("znode {path} does not exist yet (no master has joined)");
                    publish(shared, None, Phase::Connected(why));
                    match wait_for(watcher, &mut state, shared.session_timeout).await {
                        Ok(()) => continue,
                        Err(ended) => return ended,
                    }
                }
                Err(e) => match on_error(shared, e, &mut state).await {
                    Ok(()) => continue,
                    Err(ended) => return ended,
                },
            },
            Err(e) => match on_error(shared, e, &mut state).await {
                Ok(()) => continue,
                Err(ended) => return ended,
            },
        };
        let (leader, why) = match read_leader(shared, client, &children, &mut warned).await {
            Ok(found) => found,
            Err(e) => match on_error(shared, e, &mut state).await {
                Ok(()) => continue,
                Err(ended) => return ended,
            },
        };
        publish(shared, leader, Phase::Connected(why));
        if let Err(ended) = wait_for(watcher, &mut state, shared.session_timeout).await {
            return ended;
        }
    }
}

/// The lowest-sequence `json.info_` child with a usable `MasterInfo`; malformed ones
/// are skipped with a warning (once per znode). `None` with the reason otherwise.
async fn read_leader(
    shared: &Shared,
    client: &zk::Client,
    children: &[String],
    warned: &mut std::collections::HashSet<String>,
) -> Result<(Option<Url>, String), zk::Error> {
    let path = shared.url.path();
    let candidates = leader::candidates(children);
    if candidates.is_empty() {
        let why = format!(
            "no master has joined: no {MASTER_INFO_JSON_LABEL}_<sequence> child under {path} ({} other children)",
            children.len()
        );
        return Ok((None, why));
    }
    for (_, name) in &candidates {
        let znode = format!("{path}/{name}");
        match client.get_data(&znode).await {
            Ok((data, _)) => match leader::master_info_url(&data, shared.https) {
                Ok(url) => return Ok((Some(url), String::new())),
                Err(reason) => {
                    if warned.insert(znode.clone()) {
                        tracing::warn!(%znode, "skipping a master znode with unusable MasterInfo: {reason}");
                    }
                }
            },
            // Gone between the listing and the read: the child watch fires for it.
            Err(zk::Error::NoNode) => {}
            Err(e) => return Err(e),
        }
    }
    let why = format!(
        "none of the {} {MASTER_INFO_JSON_LABEL}_ children under {path} holds a usable MasterInfo",
        candidates.len()
    );
    Ok((None, why))
}

/// A request failed: permanent errors end detection, a lost session reconnects, and
/// anything else (connection loss, ...) retries once the session is connected again.
async fn on_error(
    shared: &Shared,
    error: zk::Error,
    state: &mut zk::StateWatcher,
) -> Result<(), Ended> {
    match error {
        zk::Error::NoAuth => Err(Ended::Failed(ZooKeeperError::NotAuthorized {
            path: shared.url.path().to_owned(),
        })),
        zk::Error::AuthFailed => Err(Ended::Failed(ZooKeeperError::AuthFailed)),
        zk::Error::SessionExpired | zk::Error::ClientClosed => {
            Err(Ended::SessionLost(error.to_string()))
        }
        other => {
            tracing::debug!(zookeeper = %shared.url, "ZooKeeper request failed: {other}; retrying");
            tokio::time::sleep(RETRY_MIN).await;
            match state.peek_state() {
                zk::SessionState::Disconnected => lost_session(state, shared.session_timeout).await,
                s if s.is_terminated() => Err(ended_by(s)),
                _ => Ok(()),
            }
        }
    }
}

/// How a terminal session state ends the watch loop.
fn ended_by(state: zk::SessionState) -> Ended {
    match state {
        zk::SessionState::AuthFailed => Ended::Failed(ZooKeeperError::AuthFailed),
        other => Ended::SessionLost(format!("session {other}")),
    }
}

/// Waits for a watch to fire, or for the session to be lost.
async fn wait_for(
    watcher: zk::OneshotWatcher,
    state: &mut zk::StateWatcher,
    session_timeout: Duration,
) -> Result<(), Ended> {
    let fired = watcher.changed();
    tokio::pin!(fired);
    loop {
        tokio::select! {
            event = &mut fired => {
                return if event.event_type == zk::EventType::Session
                    && event.session_state.is_terminated()
                {
                    Err(ended_by(event.session_state))
                } else {
                    Ok(())
                };
            }
            // Watches are re-registered on reconnection: after one, keep waiting for ours.
            lost = lost_session(state, session_timeout) => lost?,
        }
    }
}

/// Returns `Ok` once the session reconnects after a disconnection, `Err` when it ends
/// (expired, closed, auth failed) or stays disconnected for the session timeout (Mesos's
/// group treats that as an expiry too).
async fn lost_session(
    state: &mut zk::StateWatcher,
    session_timeout: Duration,
) -> Result<(), Ended> {
    let mut was_disconnected = false;
    loop {
        match state.peek_state() {
            s if s.is_terminated() => return Err(ended_by(s)),
            zk::SessionState::Disconnected => {
                was_disconnected = true;
                if tokio::time::timeout(session_timeout, state.changed())
                    .await
                    .is_err()
                {
                    return Err(Ended::SessionLost(format!(
                        "disconnected for the session timeout ({session_timeout:?})"
                    )));
                }
            }
            _ if was_disconnected => return Ok(()),
            _ => {
                state.changed().await;
            }
        }
    }
}

/// Records the status; announces and logs a leader change.
fn publish(shared: &Shared, leader: Option<Url>, phase: Phase) {
    let changed = shared.leader.send_if_modified(|current| {
        if *current == leader {
            false
        } else {
            current.clone_from(&leader);
            true
        }
    });
    if changed {
        match (&leader, &phase) {
            (Some(url), _) => tracing::info!(zookeeper = %shared.url, "leading master: {url}"),
            (None, Phase::Connected(why)) => {
                tracing::info!(zookeeper = %shared.url, "no leading master: {why}; waiting for one")
            }
            (None, _) => {}
        }
    }
    shared.status.send_modify(|s| {
        s.leader = leader;
        s.phase = phase;
    });
}
