use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use tokio::time::Instant;

use super::client::{ExecutorClient, KeptTask};
use super::env::{ExecutorConfig, is_executor_env};
use super::{Executor, ExecutorError};
use crate::backoff::{Backoff, BackoffConfig};
use crate::codec::{Encoding, protobuf};
use crate::transport::{Auth, HttpTransport, Records, TransportError, Url, records};
use crate::v1;
use crate::v1::executor::{Event, event};

/// Default largest accepted event from the agent (a LAUNCH_GROUP of big tasks): 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// How often a Mesos agent sends HEARTBEAT events to an HTTP executor: 30 minutes
/// (`DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL` in Mesos's `src/slave/constants.hpp`; not a
/// flag, and not announced in SUBSCRIBED, unlike the scheduler API's interval).
pub const DEFAULT_AGENT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30 * 60);

/// Default number of heartbeat intervals without any event after which the agent is
/// treated as lost.
pub const DEFAULT_HEARTBEAT_MISSES: u32 = 3;

/// Runs an [`Executor`] against its agent: subscribes, dispatches events, tracks
/// unacknowledged tasks and updates and, with checkpointing, resubscribes after the
/// agent restarts (resending them) until the recovery timeout.
///
/// ```no_run
/// use mesos_sdk::executor::{Executor, ExecutorClient, ExecutorConfig, ExecutorDriver};
/// use mesos_sdk::v1;
///
/// struct Echo;
///
/// #[async_trait::async_trait]
/// impl Executor for Echo {
///     async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
///         let _ = client.send_status(task.task_id, v1::TaskState::TaskFinished, None, None).await;
///     }
/// }
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// ExecutorDriver::new(ExecutorConfig::from_env()?).run(Echo).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ExecutorDriver {
    config: ExecutorConfig,
    encoding: Encoding,
    subscribe_timeout: Duration,
    max_event_size: usize,
    /// Silence after which the subscription counts as lost; `None`: no watchdog.
    silence_limit: Option<Duration>,
    heartbeat_interval: Option<Duration>,
    heartbeat_misses: u32,
}

enum SessionEnd {
    Stopped,
    Shutdown,
    Lost(ExecutorError),
}

impl ExecutorDriver {
    /// A driver for the executor described by `config` (protobuf encoding).
    pub fn new(config: ExecutorConfig) -> Self {
        ExecutorDriver {
            config,
            encoding: Encoding::Protobuf,
            subscribe_timeout: Duration::from_secs(60),
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            silence_limit: Some(DEFAULT_AGENT_HEARTBEAT_INTERVAL * DEFAULT_HEARTBEAT_MISSES),
            heartbeat_interval: Some(DEFAULT_AGENT_HEARTBEAT_INTERVAL),
            heartbeat_misses: DEFAULT_HEARTBEAT_MISSES,
        }
    }

    /// The interval at which the agent sends HEARTBEAT events (default
    /// [`DEFAULT_AGENT_HEARTBEAT_INTERVAL`], what Mesos agents use); `None` turns the
    /// heartbeat watchdog off.
    ///
    /// When no event at all arrives for [`ExecutorDriver::heartbeat_misses`] intervals,
    /// the subscription is treated as lost ([`ExecutorError::HeartbeatTimeout`]): with
    /// checkpointing the driver resubscribes within the recovery timeout, without it
    /// `run` returns the error. This catches an agent host that vanished without
    /// closing the connection.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # fn demo(config: mesos_sdk::executor::ExecutorConfig) {
    /// use mesos_sdk::executor::ExecutorDriver;
    /// // An agent configured to heartbeat every 10 s: give up after 30 s of silence.
    /// let driver = ExecutorDriver::new(config)
    ///     .heartbeat_interval(Some(Duration::from_secs(10)))
    ///     .heartbeat_misses(3);
    /// # }
    /// ```
    #[must_use]
    pub fn heartbeat_interval(mut self, interval: Option<Duration>) -> Self {
        self.heartbeat_interval = interval.filter(|d| !d.is_zero());
        self.silence_limit = self
            .heartbeat_interval
            .map(|d| d.saturating_mul(self.heartbeat_misses));
        self
    }

    /// Heartbeat intervals without any event before the agent counts as lost
    /// (default [`DEFAULT_HEARTBEAT_MISSES`]; values below 1 are treated as 1).
    #[must_use]
    pub fn heartbeat_misses(mut self, misses: u32) -> Self {
        self.heartbeat_misses = misses.max(1);
        self.silence_limit = self
            .heartbeat_interval
            .map(|d| d.saturating_mul(self.heartbeat_misses));
        self
    }

    /// Body encoding of calls and events (default protobuf).
    #[must_use]
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// How long to keep trying the first subscription when checkpointing is off
    /// (default 60 s). With checkpointing the recovery timeout applies.
    #[must_use]
    pub fn subscribe_timeout(mut self, timeout: Duration) -> Self {
        self.subscribe_timeout = timeout;
        self
    }

    /// Largest accepted event in bytes (default [`DEFAULT_MAX_EVENT_SIZE`]).
    #[must_use]
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Runs `executor` until SHUTDOWN (after [`Executor::shutdown`] returned) or
    /// [`ExecutorClient::stop`], both `Ok(())`.
    ///
    /// # Errors
    /// [`ExecutorError::Disconnected`] when the agent goes away without checkpointing,
    /// [`ExecutorError::RecoveryTimeout`] when it does not come back in time, or the
    /// agent's refusal of SUBSCRIBE (e.g. 401).
    pub async fn run(self, mut executor: impl Executor) -> Result<(), ExecutorError> {
        let url = Url::parse(&self.config.executor_url()).map_err(|e| {
            ExecutorError::Env(super::EnvError::Invalid {
                name: "MESOS_AGENT_ENDPOINT",
                value: self.config.agent_endpoint.clone(),
                reason: e.to_string(),
            })
        })?;
        let auth = self.config.authentication_token.clone().map(Auth::Bearer);
        let cwd = std::env::current_dir().unwrap_or_default();
        let http = match self.config.socket_path(&cwd).map_err(ExecutorError::Env)? {
            Some(socket) => HttpTransport::over_unix_socket(self.encoding, auth, &socket)?,
            None => {
                let roots = match &self.config.ssl_ca_file {
                    Some(path) => vec![std::fs::read(path).map_err(|e| {
                        ExecutorError::Env(super::EnvError::Invalid {
                            name: "LIBPROCESS_SSL_CA_FILE",
                            value: path.display().to_string(),
                            reason: format!("cannot read it: {e}"),
                        })
                    })?],
                    None => Vec::new(),
                };
                HttpTransport::with_root_certificates(self.encoding, auth, &roots)?
            }
        };
        let client = ExecutorClient::new(
            http,
            url,
            self.config.framework_id.clone(),
            self.config.executor_id.clone(),
        );
        let max_backoff = self
            .config
            .subscription_backoff_max
            .unwrap_or(Duration::from_secs(2));
        let mut backoff = Backoff::new(BackoffConfig {
            initial: max_backoff.min(Duration::from_millis(500)),
            max: max_backoff,
            multiplier: 2.0,
            jitter: 0.5,
        });
        let mut stop = client.shared.stop.subscribe();
        let mut subscribed_once = false;
        let mut lost_since = Instant::now();
        loop {
            if client.is_stopped() {
                return Ok(());
            }
            let error = match subscribe(&client, self.max_event_size).await {
                Ok(events) => {
                    match session(&client, &mut executor, events, self.silence_limit).await {
                        (SessionEnd::Stopped, _) => return Ok(()),
                        (SessionEnd::Shutdown, _) => return Ok(()),
                        (SessionEnd::Lost(e), got_subscribed) => {
                            if got_subscribed {
                                subscribed_once = true;
                                lost_since = Instant::now();
                                backoff.reset();
                            }
                            e
                        }
                    }
                }
                Err(ExecutorError::Transport(t)) if !retryable(&t) => {
                    return Err(ExecutorError::Transport(t));
                }
                Err(e) => e,
            };
            let budget = if self.config.checkpoint {
                self.config.recovery_timeout.unwrap_or(Duration::ZERO)
            } else if subscribed_once {
                tracing::error!(error = %error, "lost the agent; without checkpointing the executor exits");
                return Err(ExecutorError::Disconnected(error.to_string()));
            } else {
                self.subscribe_timeout
            };
            let elapsed = lost_since.elapsed();
            if elapsed >= budget {
                if self.config.checkpoint {
                    return Err(ExecutorError::RecoveryTimeout(budget));
                }
                return Err(ExecutorError::Disconnected(error.to_string()));
            }
            let delay = backoff.next_delay().min(budget - elapsed);
            tracing::info!(?delay, error = %error, "resubscribing to the agent after a delay");
            tokio::select! {
                _ = stopped(&mut stop) => return Ok(()),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }
}

fn retryable(error: &TransportError) -> bool {
    error.is_retryable() || matches!(error, TransportError::Framing(_))
}

async fn subscribe(
    client: &ExecutorClient,
    max_event_size: usize,
) -> Result<Records, ExecutorError> {
    let c = {
        let unacked = client.shared.unacked();
        tracing::debug!(
            tasks = unacked.tasks.len(),
            updates = unacked.updates.len(),
            "subscribing to the agent"
        );
        crate::calls::executor::subscribe(
            &client.shared.framework_id,
            &client.shared.executor_id,
            unacked.tasks.values().filter_map(KeptTask::task).collect(),
            unacked.updates.iter().cloned().collect(),
        )
    };
    let body = client.shared.http.encoding().encode(&c);
    let response = client
        .shared
        .http
        .post(&client.shared.url, body, None)
        .await?;
    Ok(records(response, max_event_size))
}

/// Dispatches one subscription's events; also says whether SUBSCRIBED arrived.
async fn session(
    client: &ExecutorClient,
    executor: &mut impl Executor,
    mut events: Records,
    silence_limit: Option<Duration>,
) -> (SessionEnd, bool) {
    let mut stop = client.shared.stop.subscribe();
    let mut got_subscribed = false;
    // Far enough away never to fire when there is no watchdog.
    let never = Duration::from_secs(24 * 3600);
    let silence = silence_limit.unwrap_or(never);
    loop {
        let deadline = Instant::now() + silence;
        let record = tokio::select! {
            biased;
            _ = stopped(&mut stop) => return (SessionEnd::Stopped, got_subscribed),
            record = events.next() => record,
            _ = tokio::time::sleep_until(deadline), if silence_limit.is_some() => {
                tracing::warn!(?silence, "no event from the agent (missed heartbeats)");
                return (
                    SessionEnd::Lost(ExecutorError::HeartbeatTimeout(silence)),
                    got_subscribed,
                );
            }
        };
        let record = match record {
            None => {
                return (
                    SessionEnd::Lost(ExecutorError::Disconnected(
                        "the agent closed the subscription".into(),
                    )),
                    got_subscribed,
                );
            }
            Some(Err(e)) => return (SessionEnd::Lost(e.into()), got_subscribed),
            Some(Ok(record)) => record,
        };
        let event: Event = match client.shared.http.encoding().decode(&record) {
            Ok(event) => event,
            Err(e) => return (SessionEnd::Lost(e.into()), got_subscribed),
        };
        if event.r#type == Some(event::Type::Subscribed as i32) {
            got_subscribed = true;
        }
        if dispatch(client, executor, event, &record).await {
            return (SessionEnd::Shutdown, got_subscribed);
        }
    }
}

/// The protobuf bytes of the task of a LAUNCH event's record (`Event.launch` is field 4,
/// `Event.Launch.task` field 1, in `executor.proto`), copied out of the record: one
/// flat copy, where cloning the decoded task copies every string and list, and a view
/// would keep the whole buffer the record was read into alive with the task.
fn launched_task(record: &Bytes) -> Option<Bytes> {
    let task =
        protobuf::sole_field(record, 4).and_then(|launch| protobuf::sole_field(&launch, 1))?;
    Some(Bytes::copy_from_slice(&task))
}

/// Hands one event, decoded from `record`, to the executor; `true` after SHUTDOWN.
async fn dispatch(
    client: &ExecutorClient,
    executor: &mut impl Executor,
    event: Event,
    record: &Bytes,
) -> bool {
    use event::Type;
    let kind = event
        .r#type
        .and_then(|t| Type::try_from(t).ok())
        .unwrap_or(Type::Unknown);
    match kind {
        Type::Subscribed => match event.subscribed {
            Some(s) => executor.subscribed(client, s).await,
            None => tracing::warn!("SUBSCRIBED without payload"),
        },
        Type::Launch => match event.launch {
            Some(l) => {
                let kept = match client.shared.http.encoding() {
                    Encoding::Protobuf => launched_task(record).map(KeptTask::Encoded),
                    Encoding::Json => None,
                };
                let kept = kept.unwrap_or_else(|| KeptTask::Decoded(Box::new(l.task.clone())));
                client
                    .shared
                    .unacked()
                    .tasks
                    .insert(l.task.task_id.value.clone(), kept);
                executor.launch(client, l.task).await;
            }
            None => tracing::warn!("LAUNCH without payload"),
        },
        Type::LaunchGroup => match event.launch_group {
            Some(g) => {
                {
                    let mut unacked = client.shared.unacked();
                    for task in &g.task_group.tasks {
                        unacked.tasks.insert(
                            task.task_id.value.clone(),
                            KeptTask::Decoded(Box::new(task.clone())),
                        );
                    }
                }
                executor.launch_group(client, g.task_group).await;
            }
            None => tracing::warn!("LAUNCH_GROUP without payload"),
        },
        Type::Kill => match event.kill {
            Some(k) => executor.kill(client, k.task_id, k.kill_policy).await,
            None => tracing::warn!("KILL without payload"),
        },
        Type::Acknowledged => match event.acknowledged {
            Some(a) => {
                acknowledged(client, &a.task_id, &a.uuid);
                executor.acknowledged(client, a.task_id, a.uuid).await;
            }
            None => tracing::warn!("ACKNOWLEDGED without payload"),
        },
        Type::Message => match event.message {
            Some(m) => executor.message(client, m.data).await,
            None => tracing::warn!("MESSAGE without payload"),
        },
        Type::Error => {
            let message = event.error.map(|e| e.message).unwrap_or_default();
            executor.error(client, message).await;
        }
        Type::Shutdown => {
            executor.shutdown(client).await;
            return true;
        }
        Type::Heartbeat => tracing::trace!("heartbeat"),
        Type::Unknown => {
            tracing::debug!(r#type = ?event.r#type, "ignoring an event of unknown type")
        }
    }
    false
}

fn acknowledged(client: &ExecutorClient, task_id: &v1::TaskId, uuid: &[u8]) {
    let mut unacked = client.shared.unacked();
    // Uuids are unique: at most one update matches.
    if let Some(at) = unacked
        .updates
        .iter()
        .position(|u| u.status.uuid.as_deref() == Some(uuid))
    {
        unacked.updates.remove(at);
    }
    unacked.tasks.remove(&task_id.value);
}

/// Runs the executor made by `make` if this process was started by an agent
/// ([`is_executor_env`]); `None` otherwise. Lets one binary be both scheduler and
/// executor:
///
/// ```no_run
/// # struct MyExecutor;
/// # #[async_trait::async_trait] impl mesos_sdk::executor::Executor for MyExecutor {}
/// # async fn run_scheduler() {}
/// #[tokio::main]
/// async fn main() {
///     if let Some(result) = mesos_sdk::executor::run_if_executor(|| MyExecutor).await {
///         std::process::exit(if result.is_ok() { 0 } else { 1 });
///     }
///     run_scheduler().await;
/// }
/// ```
pub async fn run_if_executor<E: Executor>(
    make: impl FnOnce() -> E,
) -> Option<Result<(), ExecutorError>> {
    if !is_executor_env() {
        return None;
    }
    let config = match ExecutorConfig::from_env() {
        Ok(config) => config,
        Err(e) => return Some(Err(e.into())),
    };
    Some(ExecutorDriver::new(config).run(make()).await)
}

/// Resolves once the stop flag is set. (A helper so that no `watch::Ref` is held
/// inside `select!`, which would make the driver's future `!Send`.)
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
