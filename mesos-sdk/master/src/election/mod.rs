//! Leader election through ZooKeeper, as Mesos masters elect theirs.
//!
//! Each master joins the group under the `zk://…/path` znode as an ephemeral
//! sequential child `json.info_<sequence>` holding its `MasterInfo` in Mesos's JSON
//! shape; the child with the lowest sequence leads. The same znodes are what the SDK's
//! `ZooKeeperDetector`, pymesos and Mesos's own tools read to find the leader.
//!
//! - `contender`: joins, watches the group, and publishes this master's
//!   [`Leadership`];
//! - `registry`: what a new leader recovers (admitted agents, role weights), kept in
//!   znodes under `<path>/registry`, written only while this master's own group znode
//!   exists (a ZooKeeper multi-op checks it), so a deposed leader cannot write.
//!
//! A leader that loses its ZooKeeper connection stops serving at once; when the session
//! then expires, its leadership is [`Leadership::Lost`] for good (a Mesos master exits
//! then, and the `mesos-master` binary does too). See `docs/high-availability.md`.

mod contender;
mod registry;

use std::time::Duration;

use mesos_sdk::detect::ZooKeeperUrl;

pub(crate) use contender::{Election, Recover, start};
pub(crate) use registry::{Registrar, RegistrarError};

/// Mesos's `--zk_session_timeout` default.
pub const DEFAULT_ZK_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how a master joins the election.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ElectionConfig {
    /// The group znode, e.g. `zk://zk1:2181,zk2:2181/mesos` (`user:password@` for digest
    /// authentication).
    pub zk: ZooKeeperUrl,
    /// The ZooKeeper session timeout (Mesos's `--zk_session_timeout`, default 10 s): how
    /// long after a leader's death the others notice.
    pub session_timeout: Duration,
}

impl ElectionConfig {
    /// Joins the group at `zk` with the default session timeout.
    pub fn new(zk: ZooKeeperUrl) -> Self {
        Self {
            zk,
            session_timeout: DEFAULT_ZK_SESSION_TIMEOUT,
        }
    }
}

/// Where this master stands in the election.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Leadership {
    /// No leader is known: not joined yet, no ZooKeeper connection, or the group is
    /// between leaders. Requests get `503 No leader elected`.
    NoLeader,
    /// Another master leads; requests are redirected to it (`307`, `Location:
    /// //host:port/path`).
    Following {
        /// The leader's `host:port`.
        leader: String,
    },
    /// Elected, recovering the registry: `503 Master has not finished recovery`.
    Recovering,
    /// Elected and serving.
    Leading,
    /// Leadership (or the ZooKeeper session) is lost for good: this master never leads
    /// again and should exit, as a Mesos master does.
    Lost(String),
}

impl Leadership {
    /// Whether requests are served here.
    pub fn is_leading(&self) -> bool {
        matches!(self, Leadership::Leading)
    }
}
