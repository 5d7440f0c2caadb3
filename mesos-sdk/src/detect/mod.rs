//! Master detection: which master to talk to.
//!
//! A [`MasterDetector`] yields the masters worth trying, best first. The scheduler
//! runtime asks it again before every (re)subscription, so a detector that watches a
//! leader election plugs in without touching the runtime.
//! [`StaticMasters`] serves a fixed list parsed from `http://host:port`,
//! `https://host:port` or a comma-separated list of those; [`ZooKeeperDetector`]
//! follows the leader that Mesos masters elect in ZooKeeper (`zk://host:port/mesos`,
//! see `docs/high-availability.md`). [`detector_for`] picks one from a master string.
//!
//! ```
//! use mesos_sdk::detect::{self, StaticMasters};
//! let masters = StaticMasters::parse("http://m1:5050, m2:5050").unwrap();
//! let urls: Vec<String> = masters.urls().iter().map(|u| u.to_string()).collect();
//! assert_eq!(urls, ["http://m1:5050/", "http://m2:5050/"]);
//! // A fixed list is only http(s); zk:// needs the ZooKeeper detector.
//! assert!(StaticMasters::parse("zk://zk1:2181/mesos").is_err());
//! assert!(detect::detector_for("zk://zk1:2181,zk2:2181/mesos").is_ok());
//! assert!(detect::detector_for("mesos://m1:5050").is_ok());
//! ```

mod zookeeper;

use std::sync::Arc;

use async_trait::async_trait;
use thiserror::Error;

pub use self::zookeeper::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_LEADER_TIMEOUT, DEFAULT_SESSION_TIMEOUT,
    DEFAULT_ZOOKEEPER_PORT, MASTER_INFO_JSON_LABEL, ZooKeeperDetector, ZooKeeperError,
    ZooKeeperUrl, json_info_sequence, master_info_url,
};
use crate::transport::Url;

/// Why a master address cannot be used.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DetectError {
    /// The address list is empty.
    #[error("no master address given: pass e.g. http://127.0.0.1:5050")]
    Empty,
    /// One entry is not a URL.
    #[error("master address {address:?} is not a valid URL ({reason}); expected http://host:port")]
    InvalidAddress {
        /// The entry as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A scheme this SDK cannot use, e.g. `ftp://` (or `zk://` in a fixed list).
    #[error(
        "master address {address:?} uses unsupported scheme {scheme:?}; use http://, https:// or zk://"
    )]
    UnsupportedScheme {
        /// The entry as given.
        address: String,
        /// Its scheme.
        scheme: String,
    },
    /// A dynamic detector could not find any master now.
    #[error("no master detected: {0}")]
    NoMaster(String),
    /// ZooKeeper detection failed for good (a bad `zk://` URL, an ACL that denies us).
    #[error(transparent)]
    ZooKeeper(#[from] ZooKeeperError),
}

/// The detector for a master string: `zk://[user:password@]host:port[,...]/path` (also
/// as Spark's `mesos://zk://...`) gives a [`ZooKeeperDetector`] with default timeouts;
/// anything else (`http://`, `https://`, `host:port`, Spark's `mesos://host:port`, or a
/// comma-separated list) a [`StaticMasters`]. No I/O happens here.
///
/// # Errors
/// [`DetectError`] naming what is unusable.
pub fn detector_for(master: &str) -> Result<Arc<dyn MasterDetector>, DetectError> {
    let spec = master.trim();
    let spec = match spec.get(..8) {
        Some(head) if head.eq_ignore_ascii_case("mesos://") => &spec[8..],
        _ => spec,
    };
    if spec
        .get(..5)
        .is_some_and(|h| h.eq_ignore_ascii_case("zk://"))
    {
        return Ok(Arc::new(ZooKeeperDetector::from_url(spec)?));
    }
    Ok(Arc::new(StaticMasters::parse(spec)?))
}

/// A source of master URLs (scheme, host and port; the runtime picks the API path).
#[async_trait]
pub trait MasterDetector: Send + Sync + 'static {
    /// The masters to try now, leader (if known) first. Never empty on success.
    ///
    /// # Errors
    /// [`DetectError::NoMaster`] when none is known at the moment; the runtime retries
    /// with backoff.
    async fn masters(&self) -> Result<Vec<Url>, DetectError>;

    /// Leader changes, for detectors that follow an election (ZooKeeper): the value is
    /// the current leader (`None` while there is none) and the receiver wakes on every
    /// change, so that a subscribed driver moves to the new leader. `None` (the
    /// default) for a fixed list of masters.
    fn leader_changes(&self) -> Option<tokio::sync::watch::Receiver<Option<Url>>> {
        None
    }
}

/// A fixed list of masters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticMasters {
    urls: Vec<Url>,
}

impl StaticMasters {
    /// Parses `http://host:port`, `https://host:port`, a bare `host:port` (taken as
    /// http), or a comma-separated list of those.
    ///
    /// # Errors
    /// [`DetectError`] naming the first unusable entry.
    pub fn parse(spec: &str) -> Result<Self, DetectError> {
        let mut urls = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            urls.push(parse_one(entry)?);
        }
        if urls.is_empty() {
            return Err(DetectError::Empty);
        }
        Ok(StaticMasters { urls })
    }

    /// The parsed URLs, in the given order.
    pub fn urls(&self) -> &[Url] {
        &self.urls
    }
}

fn parse_one(entry: &str) -> Result<Url, DetectError> {
    let with_scheme = if entry.contains("://") {
        entry.to_owned()
    } else {
        format!("http://{entry}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| DetectError::InvalidAddress {
        address: entry.to_owned(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(DetectError::UnsupportedScheme {
                address: entry.to_owned(),
                scheme: other.to_owned(),
            });
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(DetectError::InvalidAddress {
            address: entry.to_owned(),
            reason: "no host".into(),
        });
    }
    Ok(url)
}

#[async_trait]
impl MasterDetector for StaticMasters {
    async fn masters(&self) -> Result<Vec<Url>, DetectError> {
        Ok(self.urls.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unusable_addresses() {
        assert_eq!(StaticMasters::parse(" , "), Err(DetectError::Empty));
        assert!(matches!(
            StaticMasters::parse("http://ok:1,ftp://x:2"),
            Err(DetectError::UnsupportedScheme { scheme, .. }) if scheme == "ftp"
        ));
        assert!(matches!(
            StaticMasters::parse("http://"),
            Err(DetectError::InvalidAddress { .. })
        ));
        assert!(matches!(
            StaticMasters::parse("host:notaport"),
            Err(DetectError::InvalidAddress { .. })
        ));
    }

    #[test]
    fn picks_a_detector_by_scheme() {
        assert!(detector_for("mesos://m1:5050,m2:5050").is_ok());
        assert!(detector_for("MESOS://zk://z1:2181/mesos").is_ok());
        assert!(detector_for("zk://u:p@z1:2181,z2:2181/mesos").is_ok());
        assert!(matches!(
            detector_for("zk://z1:2181/"),
            Err(DetectError::ZooKeeper(ZooKeeperError::InvalidUrl { .. }))
        ));
        assert!(matches!(
            detector_for("mesos://ftp://x"),
            Err(DetectError::UnsupportedScheme { .. })
        ));
    }

    #[tokio::test]
    async fn keeps_order_and_https() {
        let m = StaticMasters::parse("https://a:5050,http://b:5051").unwrap();
        let got = m.masters().await.unwrap();
        assert_eq!(got[0].as_str(), "https://a:5050/");
        assert_eq!(got[1].port(), Some(5051));
    }
}
