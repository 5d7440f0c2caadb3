//! The registry: what a newly elected master recovers, kept in ZooKeeper.
//!
//! Layout, under the group znode (e.g. `/mesos`):
//!
//! ```text
//! /mesos/registry                      persistent, empty
//! /mesos/registry/agents/<agent-id>    one per admitted agent: its AgentInfo as JSON
//! /mesos/registry/weights              {"role": weight, ...} as JSON
//! /mesos/registry/gone/<agent-id>      one per agent the operator marked gone: it
//!                                      may never register again
//! ```
//!
//! Every write is a ZooKeeper multi-op that first checks the writer's own group znode
//! (`json.info_<seq>`): once the writer's session has expired, that znode is gone and
//! the write fails, so a deposed leader never changes what its successor recovers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use zookeeper_client as zk;

use mesos_sdk::codec::json;
use mesos_sdk::v1;

/// What the registry holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RegistryState {
    /// Admitted agents (each must re-register within `agent_reregister_timeout`).
    pub(crate) agents: Vec<v1::AgentInfo>,
    /// Role weights.
    pub(crate) weights: BTreeMap<String, f64>,
    /// Agents the operator marked gone.
    pub(crate) gone: Vec<String>,
}

/// Why the registry was not changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RegistrarError {
    /// This master does not lead (or no longer does).
    #[error("this master is not the leader")]
    NotLeading,
    /// The name cannot be a znode.
    #[error("agent id {0:?} cannot be stored (it contains '/' or is empty)")]
    InvalidId(String),
    /// ZooKeeper refused or failed the write.
    #[error("the registry write failed: {0}")]
    ZooKeeper(String),
}

/// The leader's session, set once elected.
struct Session {
    client: zk::Client,
    /// The group znode.
    root: String,
    /// This master's own `json.info_` znode: every write checks it still exists.
    own: String,
    acls: zk::Acls<'static>,
}

/// Writes the registry while this master leads. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Registrar {
    /// `None`: a master without election keeps no registry (every write succeeds).
    session: Option<Arc<Mutex<Option<Arc<Session>>>>>,
}

impl Registrar {
    /// A registrar that keeps nothing (a master without ZooKeeper).
    pub(crate) fn disabled() -> Self {
        Self { session: None }
    }

    /// A registrar that refuses writes until [`Registrar::activate`].
    pub(crate) fn elected_only() -> Self {
        Self {
            session: Some(Arc::new(Mutex::new(None))),
        }
    }

    /// Whether this master keeps a registry at all.
    pub(crate) fn is_enabled(&self) -> bool {
        self.session.is_some()
    }

    /// Writes go through `client`, checked against this master's group znode `own`.
    pub(crate) fn activate(
        &self,
        client: zk::Client,
        root: &str,
        own: &str,
        acls: zk::Acls<'static>,
    ) {
        if let Some(slot) = &self.session {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(Session {
                client,
                root: root.to_owned(),
                own: own.to_owned(),
                acls,
            }));
        }
    }

    /// Refuses every later write.
    pub(crate) fn deactivate(&self) {
        if let Some(slot) = &self.session {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    fn current(&self) -> Result<Option<Arc<Session>>, RegistrarError> {
        match &self.session {
            None => Ok(None),
            Some(slot) => slot
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .map(Some)
                .ok_or(RegistrarError::NotLeading),
        }
    }

    /// Records an admitted agent (before the master answers its registration).
    pub(crate) async fn admit(&self, info: &v1::AgentInfo) -> Result<(), RegistrarError> {
        let Some(session) = self.current()? else {
            return Ok(());
        };
        let id = info.id.as_ref().map(|i| i.value.as_str()).unwrap_or("");
        if id.is_empty() || id.contains('/') {
            return Err(RegistrarError::InvalidId(id.to_owned()));
        }
        let path = format!("{}/{id}", agents_path(&session.root));
        session.upsert(&path, &json::to_vec(info)).await
    }

    /// Forgets an agent (removed, or never re-registered after a failover).
    pub(crate) async fn remove(&self, agent_id: &str) -> Result<(), RegistrarError> {
        let Some(session) = self.current()? else {
            return Ok(());
        };
        if agent_id.is_empty() || agent_id.contains('/') {
            return Ok(());
        }
        let path = format!("{}/{agent_id}", agents_path(&session.root));
        let mut writer = session.checked()?;
        writer.add_delete(&path, None).map_err(zk_error)?;
        match writer.commit().await {
            Ok(_) | Err(zk::CheckWriteError::CheckFailed { .. }) => Ok(()),
            Err(zk::CheckWriteError::OperationFailed {
                source: zk::Error::NoNode,
                ..
            }) => Ok(()),
            Err(e) => Err(RegistrarError::ZooKeeper(e.to_string())),
        }
    }

    /// Records that the operator marked an agent gone (MARK_AGENT_GONE): it leaves
    /// the admitted agents and joins the gone ones, in one write, so that no later
    /// leader lets it register again.
    pub(crate) async fn mark_gone(&self, agent_id: &str) -> Result<(), RegistrarError> {
        let Some(session) = self.current()? else {
            return Ok(());
        };
        if agent_id.is_empty() || agent_id.contains('/') {
            return Err(RegistrarError::InvalidId(agent_id.to_owned()));
        }
        let admitted = format!("{}/{agent_id}", agents_path(&session.root));
        let gone = format!("{}/{agent_id}", gone_path(&session.root));
        let is_admitted = session.exists(&admitted).await?;
        if session.exists(&gone).await? && !is_admitted {
            return Ok(());
        }
        let mut writer = session.checked()?;
        if is_admitted {
            writer.add_delete(&admitted, None).map_err(zk_error)?;
        }
        if !session.exists(&gone).await? {
            let options = zk::CreateMode::Persistent.with_acls(session.acls);
            writer.add_create(&gone, &[], &options).map_err(zk_error)?;
        }
        match writer.commit().await {
            Ok(_) => Ok(()),
            Err(zk::CheckWriteError::CheckFailed { .. }) => Err(RegistrarError::NotLeading),
            Err(e) => Err(RegistrarError::ZooKeeper(e.to_string())),
        }
    }

    /// Stores the role weights.
    pub(crate) async fn set_weights(
        &self,
        weights: &BTreeMap<String, f64>,
    ) -> Result<(), RegistrarError> {
        let Some(session) = self.current()? else {
            return Ok(());
        };
        let data =
            serde_json::to_vec(weights).map_err(|e| RegistrarError::ZooKeeper(e.to_string()))?;
        session.upsert(&weights_path(&session.root), &data).await
    }
}

impl Session {
    async fn exists(&self, path: &str) -> Result<bool, RegistrarError> {
        Ok(self
            .client
            .check_stat(path)
            .await
            .map_err(zk_error)?
            .is_some())
    }

    /// A multi-op that first checks this master's group znode.
    fn checked(&self) -> Result<zk::CheckWriter<'_>, RegistrarError> {
        self.client
            .new_check_writer(&self.own, None)
            .map_err(zk_error)
    }

    /// Creates `path` with `data`, or replaces its data.
    async fn upsert(&self, path: &str, data: &[u8]) -> Result<(), RegistrarError> {
        let exists = self
            .client
            .check_stat(path)
            .await
            .map_err(zk_error)?
            .is_some();
        let mut writer = self.checked()?;
        if exists {
            writer.add_set_data(path, data, None).map_err(zk_error)?;
        } else {
            let options = zk::CreateMode::Persistent.with_acls(self.acls);
            writer.add_create(path, data, &options).map_err(zk_error)?;
        }
        match writer.commit().await {
            Ok(_) => Ok(()),
            Err(zk::CheckWriteError::CheckFailed { .. }) => Err(RegistrarError::NotLeading),
            Err(e) => Err(RegistrarError::ZooKeeper(e.to_string())),
        }
    }
}

fn zk_error(e: zk::Error) -> RegistrarError {
    RegistrarError::ZooKeeper(e.to_string())
}

fn registry_path(root: &str) -> String {
    format!("{}/registry", root.trim_end_matches('/'))
}

fn agents_path(root: &str) -> String {
    format!("{}/agents", registry_path(root))
}

fn gone_path(root: &str) -> String {
    format!("{}/gone", registry_path(root))
}

fn weights_path(root: &str) -> String {
    format!("{}/weights", registry_path(root))
}

/// Creates `<root>/registry/agents` and `<root>/registry/gone` (and their parents)
/// when missing.
pub(crate) async fn prepare(
    client: &zk::Client,
    root: &str,
    acls: zk::Acls<'static>,
) -> Result<(), zk::Error> {
    let options = zk::CreateMode::Persistent.with_acls(acls);
    client.mkdir(&agents_path(root), &options).await?;
    client.mkdir(&gone_path(root), &options).await
}

/// Reads the registry. Entries that cannot be decoded are skipped with a warning.
pub(crate) async fn load(client: &zk::Client, root: &str) -> Result<RegistryState, zk::Error> {
    let mut state = RegistryState::default();
    let agents = agents_path(root);
    let children = match client.list_children(&agents).await {
        Ok(children) => children,
        Err(zk::Error::NoNode) => Vec::new(),
        Err(e) => return Err(e),
    };
    for child in children {
        let path = format!("{agents}/{child}");
        match client.get_data(&path).await {
            Ok((data, _)) => match json::from_slice::<v1::AgentInfo>(&data) {
                Ok(info) => state.agents.push(info),
                Err(e) => {
                    tracing::warn!(znode = %path, "skipping an unreadable registry entry: {e}")
                }
            },
            Err(zk::Error::NoNode) => {}
            Err(e) => return Err(e),
        }
    }
    match client.list_children(&gone_path(root)).await {
        Ok(gone) => state.gone = gone,
        Err(zk::Error::NoNode) => {}
        Err(e) => return Err(e),
    }
    match client.get_data(&weights_path(root)).await {
        Ok((data, _)) => match serde_json::from_slice(&data) {
            Ok(weights) => state.weights = weights,
            Err(e) => {
                tracing::warn!(znode = %weights_path(root), "ignoring unreadable weights: {e}")
            }
        },
        Err(zk::Error::NoNode) => {}
        Err(e) => return Err(e),
    }
    Ok(state)
}
