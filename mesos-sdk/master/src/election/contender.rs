//! Joining the election and following it: one background task per master.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use zookeeper_client as zk;

use super::registry::{self, Registrar, RegistryState};
use super::{ElectionConfig, Leadership};
use mesos_sdk::codec::json;
use mesos_sdk::detect::{MASTER_INFO_JSON_LABEL, json_info_sequence, master_info_url};
use mesos_sdk::v1;

/// Delays between failed connection attempts.
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// ACLs with digest credentials, as Mesos sets them: the creator may do anything,
/// everyone may read (so that detectors without credentials find the leader).
static CREATOR_ALL_ANYONE_READ: [zk::Acl; 2] = [
    zk::Acl::new_const(zk::Permission::ALL, "auth", ""),
    zk::Acl::new_const(zk::Permission::READ, "world", "anyone"),
];

/// What the new leader does with the registry before it serves; it returns the role
/// weights to store back (the registry's, completed by the configured ones).
pub(crate) type Recover = Arc<dyn Fn(RegistryState) -> BTreeMap<String, f64> + Send + Sync>;

/// A master's place in the election; dropping it leaves the election (the session
/// closes and the master's znode goes with it).
pub(crate) struct Election {
    /// Where this master stands.
    pub(crate) leadership: watch::Receiver<Leadership>,
    task: JoinHandle<()>,
}

impl Drop for Election {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Joins the election with `master_info` (written as Mesos's JSON) and follows it.
/// `recover` runs once, when this master is first elected, with what the registry
/// holds; the master serves ([`Leadership::Leading`]) after it returns. `registrar`
/// (made with `Registrar::elected_only`) is activated while this master leads.
pub(crate) fn start(
    config: ElectionConfig,
    master_info: &v1::MasterInfo,
    registrar: Registrar,
    recover: Recover,
) -> Election {
    let (tx, rx) = watch::channel(Leadership::NoLeader);
    let contender = Contender {
        data: json::to_vec(master_info),
        config,
        tx,
        registrar,
        recover,
    };
    Election {
        leadership: rx,
        task: tokio::spawn(contender.run()),
    }
}

struct Contender {
    config: ElectionConfig,
    data: Vec<u8>,
    tx: watch::Sender<Leadership>,
    registrar: Registrar,
    recover: Recover,
}

/// How one session ended.
enum Ended {
    /// The session expired (or was never usable) before this master was elected:
    /// join again with a new session.
    Rejoin(String),
    /// Elected once, then deposed: never lead again.
    Lost(String),
}

impl Contender {
    fn publish(&self, leadership: Leadership) {
        self.tx.send_if_modified(|now| {
            if *now == leadership {
                return false;
            }
            tracing::info!(?leadership, "leadership changed");
            *now = leadership;
            true
        });
    }

    fn acls(&self) -> zk::Acls<'static> {
        if self.config.zk.user().is_some() {
            zk::Acls::new(&CREATOR_ALL_ANYONE_READ)
        } else {
            zk::Acls::anyone_all()
        }
    }

    async fn run(self) {
        let mut delay = RETRY_MIN;
        loop {
            let client = match self.connect().await {
                Ok(client) => client,
                Err(reason) => {
                    tracing::warn!(zookeeper = %self.config.zk, "cannot join the election: {reason}; retrying");
                    self.publish(Leadership::NoLeader);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX);
                    continue;
                }
            };
            delay = RETRY_MIN;
            match self.contend(&client).await {
                Ended::Rejoin(why) => {
                    tracing::warn!(zookeeper = %self.config.zk, "left the election ({why}); joining again");
                    self.publish(Leadership::NoLeader);
                }
                Ended::Lost(why) => {
                    tracing::error!(zookeeper = %self.config.zk, "lost leadership: {why}");
                    self.registrar.deactivate();
                    self.publish(Leadership::Lost(why));
                    return;
                }
            }
        }
    }

    async fn connect(&self) -> Result<zk::Client, String> {
        let wait = self.config.session_timeout.max(Duration::from_secs(1));
        self.config
            .zk
            .connect(self.config.session_timeout, wait)
            .await
            .map_err(|e| e.to_string())
    }

    /// Joins with one session and follows the group until the session ends.
    async fn contend(&self, client: &zk::Client) -> Ended {
        let root = self.config.zk.path().trim_end_matches('/').to_owned();
        if let Err(e) = registry::prepare(client, &root, self.acls()).await {
            return Ended::Rejoin(format!("cannot create {root}/registry: {e}"));
        }
        let prefix = format!("{root}/{MASTER_INFO_JSON_LABEL}_");
        let options = zk::CreateMode::EphemeralSequential.with_acls(self.acls());
        let own = match client.create(&prefix, &self.data, &options).await {
            Ok((_, sequence)) => format!("{prefix}{sequence}"),
            Err(e) => return Ended::Rejoin(format!("cannot create {prefix}…: {e}")),
        };
        let own_name = own.rsplit('/').next().unwrap_or_default().to_owned();
        let Some(own_seq) = json_info_sequence(&own_name) else {
            return Ended::Rejoin(format!("ZooKeeper named our znode {own}"));
        };
        tracing::info!(znode = %own, "joined the election");
        let mut state = client.state_watcher();
        let mut elected = false;
        loop {
            let (children, watcher) = match client.get_and_watch_children(&root).await {
                Ok((children, _, watcher)) => (children, watcher),
                Err(e) => match self.on_error(e, &mut state, elected).await {
                    Ok(()) => continue,
                    Err(ended) => return ended,
                },
            };
            let mut candidates: Vec<(u64, &str)> = children
                .iter()
                .filter_map(|c| json_info_sequence(c).map(|s| (s, c.as_str())))
                .collect();
            candidates.sort_unstable();
            if !candidates.iter().any(|(s, _)| *s == own_seq) {
                let why = format!("our znode {own} is gone (session expired)");
                return if elected {
                    Ended::Lost(why)
                } else {
                    Ended::Rejoin(why)
                };
            }
            if candidates.first().is_some_and(|(s, _)| *s == own_seq) {
                if !elected {
                    self.publish(Leadership::Recovering);
                    let weights = match registry::load(client, &root).await {
                        Ok(registry) => (self.recover)(registry),
                        Err(e) => {
                            return Ended::Rejoin(format!("cannot read the registry: {e}"));
                        }
                    };
                    self.registrar
                        .activate(client.clone(), &root, &own, self.acls());
                    if let Err(e) = self.registrar.set_weights(&weights).await {
                        tracing::warn!("cannot store the role weights in the registry: {e}");
                    }
                    elected = true;
                    tracing::info!(znode = %own, "elected leading master");
                }
                self.publish(Leadership::Leading);
            } else if elected {
                return Ended::Lost(format!("{own} no longer has the lowest sequence"));
            } else {
                match self.leader_of(client, &root, &candidates).await {
                    Ok(Some(leader)) => self.publish(Leadership::Following { leader }),
                    Ok(None) => self.publish(Leadership::NoLeader),
                    Err(e) => match self.on_error(e, &mut state, elected).await {
                        Ok(()) => continue,
                        Err(ended) => return ended,
                    },
                }
            }
            if let Err(ended) = self.wait(watcher, &mut state, elected).await {
                return ended;
            }
        }
    }

    /// The `host:port` of the lowest candidate with a usable MasterInfo.
    async fn leader_of(
        &self,
        client: &zk::Client,
        root: &str,
        candidates: &[(u64, &str)],
    ) -> Result<Option<String>, zk::Error> {
        for (_, name) in candidates {
            let znode = format!("{root}/{name}");
            match client.get_data(&znode).await {
                Ok((data, _)) => match master_info_url(&data, false) {
                    Ok(url) => {
                        // As Mesos, the leader's hostname when it has one, else its IP.
                        let hostname = serde_json::from_slice::<serde_json::Value>(&data)
                            .ok()
                            .and_then(|v| v.get("hostname")?.as_str().map(str::to_owned))
                            .filter(|h| !h.is_empty());
                        let host = hostname
                            .unwrap_or_else(|| url.host_str().unwrap_or_default().to_owned());
                        let port = url.port_or_known_default().unwrap_or(5050);
                        return Ok(Some(format!("{host}:{port}")));
                    }
                    Err(reason) => {
                        tracing::warn!(%znode, "skipping a master znode with unusable MasterInfo: {reason}");
                    }
                },
                Err(zk::Error::NoNode) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Waits for the group to change. A disconnection closes the gate at once (a
    /// leader cannot know whether its session still holds); reconnecting in time
    /// resumes, and an expired session ends this session.
    async fn wait(
        &self,
        watcher: zk::OneshotWatcher,
        state: &mut zk::StateWatcher,
        elected: bool,
    ) -> Result<(), Ended> {
        let fired = watcher.changed();
        tokio::pin!(fired);
        loop {
            tokio::select! {
                event = &mut fired => {
                    if event.event_type == zk::EventType::Session && event.session_state.is_terminated() {
                        return Err(self.ended(format!("session {}", event.session_state), elected));
                    }
                    return Ok(());
                }
                session = state.changed() => match session {
                    zk::SessionState::Disconnected => {
                        tracing::warn!("ZooKeeper connection lost; not serving until it is back");
                        self.publish(Leadership::NoLeader);
                    }
                    zk::SessionState::SyncConnected => {
                        // Watches survive a reconnection within the session; read the
                        // group again to publish where we stand.
                        return Ok(());
                    }
                    s if s.is_terminated() => return Err(self.ended(format!("session {s}"), elected)),
                    _ => {}
                },
            }
        }
    }

    fn ended(&self, why: String, elected: bool) -> Ended {
        if elected {
            Ended::Lost(why)
        } else {
            Ended::Rejoin(why)
        }
    }

    /// A request failed: a terminal session ends this session; anything else is
    /// retried once the connection is back.
    async fn on_error(
        &self,
        error: zk::Error,
        state: &mut zk::StateWatcher,
        elected: bool,
    ) -> Result<(), Ended> {
        match error {
            zk::Error::SessionExpired | zk::Error::ClientClosed | zk::Error::AuthFailed => {
                Err(self.ended(error.to_string(), elected))
            }
            other => {
                tracing::debug!("ZooKeeper request failed: {other}; retrying");
                if state.peek_state() == zk::SessionState::Disconnected {
                    self.publish(Leadership::NoLeader);
                    loop {
                        match state.changed().await {
                            zk::SessionState::SyncConnected => return Ok(()),
                            s if s.is_terminated() => {
                                return Err(self.ended(format!("session {s}"), elected));
                            }
                            _ => {}
                        }
                    }
                }
                tokio::time::sleep(RETRY_MIN).await;
                Ok(())
            }
        }
    }
}
