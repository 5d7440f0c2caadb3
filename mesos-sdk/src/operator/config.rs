use std::sync::Arc;
use std::time::Duration;

use super::OperatorClient;
use super::OperatorError;
use crate::backoff::BackoffConfig;
use crate::codec::Encoding;
use crate::detect::{MasterDetector, detector_for};
use crate::transport::{Auth, HttpTransport};

/// Largest answer or event accepted by default (64 MiB): a GetState of a large
/// cluster fits.
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 64 * 1024 * 1024;

/// Settings of an [`OperatorClient`], built with [`OperatorClient::builder`].
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) detector: Arc<dyn MasterDetector>,
    pub(crate) encoding: Encoding,
    pub(crate) auth: Option<Auth>,
    pub(crate) tls_roots: Vec<Vec<u8>>,
    pub(crate) max_redirects: u32,
    pub(crate) max_response_size: usize,
    pub(crate) heartbeat_misses: u32,
    pub(crate) default_heartbeat: Duration,
    pub(crate) backoff: BackoffConfig,
    pub(crate) max_resubscribe_attempts: Option<u32>,
}

/// Builds an [`OperatorClient`].
///
/// ```
/// use std::time::Duration;
/// use mesos_sdk::codec::Encoding;
/// use mesos_sdk::operator::OperatorClient;
///
/// let client = OperatorClient::builder("http://127.0.0.1:5050")
///     .encoding(Encoding::Json)
///     .heartbeat_misses(3)
///     .build()
///     .unwrap();
/// # drop(client);
/// ```
pub struct OperatorBuilder {
    master: String,
    config: Result<Config, OperatorError>,
}

impl std::fmt::Debug for OperatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorBuilder")
            .field("master", &self.master)
            .finish_non_exhaustive()
    }
}

impl OperatorBuilder {
    pub(crate) fn new(master: &str) -> Self {
        let config = detector_for(master)
            .map(|detector| Config {
                detector,
                encoding: Encoding::Protobuf,
                auth: None,
                tls_roots: Vec::new(),
                max_redirects: 3,
                max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
                heartbeat_misses: 5,
                default_heartbeat: Duration::from_secs(15),
                backoff: BackoffConfig::default(),
                max_resubscribe_attempts: None,
            })
            .map_err(OperatorError::from);
        OperatorBuilder {
            master: master.to_owned(),
            config,
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Config)) -> Self {
        if let Ok(config) = self.config.as_mut() {
            f(config);
        }
        self
    }

    /// The encoding of calls, answers and events (default protobuf).
    pub fn encoding(self, encoding: Encoding) -> Self {
        self.with(|c| c.encoding = encoding)
    }

    /// HTTP Basic credentials of an operator principal.
    pub fn credentials(self, principal: impl Into<String>, secret: impl Into<String>) -> Self {
        let auth = Auth::Basic {
            principal: principal.into(),
            secret: secret.into(),
        };
        self.with(|c| c.auth = Some(auth))
    }

    /// Trusts a PEM CA certificate for `https://` masters.
    pub fn tls_root_certificate(self, pem: impl Into<Vec<u8>>) -> Self {
        let pem = pem.into();
        self.with(|c| c.tls_roots.push(pem))
    }

    /// How many `307` redirects one call follows to find the leader (default 3).
    pub fn max_redirects(self, hops: u32) -> Self {
        self.with(|c| c.max_redirects = hops)
    }

    /// Largest answer body or event accepted (default [`DEFAULT_MAX_RESPONSE_SIZE`]).
    pub fn max_response_size(self, bytes: usize) -> Self {
        self.with(|c| c.max_response_size = bytes.max(1))
    }

    /// How many heartbeat intervals without any event make the event stream give up
    /// on a subscription and resubscribe (default 5, Mesos's advice).
    pub fn heartbeat_misses(self, misses: u32) -> Self {
        self.with(|c| c.heartbeat_misses = misses.max(1))
    }

    /// The heartbeat interval assumed until SUBSCRIBED announces the master's
    /// (default 15 s).
    pub fn default_heartbeat_interval(self, interval: Duration) -> Self {
        self.with(|c| c.default_heartbeat = interval)
    }

    /// The delays between resubscription attempts (default 1 s doubling to 30 s).
    pub fn backoff(self, backoff: BackoffConfig) -> Self {
        self.with(|c| c.backoff = backoff)
    }

    /// Give up the event stream after this many failed resubscriptions in a row
    /// (default: never).
    pub fn max_resubscribe_attempts(self, attempts: Option<u32>) -> Self {
        self.with(|c| c.max_resubscribe_attempts = attempts)
    }

    /// Uses `detector` to find the masters instead of the address given to
    /// [`OperatorClient::builder`].
    pub fn detector(self, detector: impl MasterDetector) -> Self {
        let detector: Arc<dyn MasterDetector> = Arc::new(detector);
        match self.config {
            Ok(mut config) => {
                config.detector = detector;
                OperatorBuilder {
                    master: self.master,
                    config: Ok(config),
                }
            }
            // A detector given explicitly makes the unusable address irrelevant.
            Err(_) => OperatorBuilder::new("http://127.0.0.1:5050").detector_arc(detector),
        }
    }

    fn detector_arc(self, detector: Arc<dyn MasterDetector>) -> Self {
        self.with(|c| c.detector = detector)
    }

    /// The client.
    ///
    /// # Errors
    /// [`OperatorError::InvalidMaster`] for an unusable address,
    /// [`OperatorError::Transport`] when the HTTP client cannot be built.
    pub fn build(self) -> Result<OperatorClient, OperatorError> {
        let config = self.config?;
        let http = HttpTransport::with_root_certificates(
            config.encoding,
            config.auth.clone(),
            &config.tls_roots,
        )?;
        Ok(OperatorClient::from_parts(http, config))
    }
}
