use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use tokio::time::{Instant, sleep_until};

use super::client::SchedulerClient;
use super::config::{Config, SchedulerBuilder};
use super::reconcile::{Reconciler, Round};
use super::subscription::{EventStream, subscribed_id};
use super::{Scheduler, SchedulerError};
use crate::backoff::Backoff;
use crate::transport::TransportError;
use crate::v1;
use crate::v1::scheduler::{Event, event};

/// Runs a [`Scheduler`]: subscribes, dispatches events to it, acknowledges updates,
/// reconciles, watches heartbeats and resubscribes (with the framework id, so tasks
/// survive) with backoff when the connection is lost.
///
/// ```no_run
/// use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
/// use mesos_sdk::v1;
///
/// struct Decliner;
///
/// #[async_trait::async_trait]
/// impl Scheduler for Decliner {
///     async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
///         let ids = offers.into_iter().map(|o| o.id).collect();
///         if let Err(e) = client.decline(ids, None).await {
///             tracing::warn!(error = %e, "decline failed");
///         }
///     }
/// }
///
/// # async fn demo() -> Result<(), mesos_sdk::scheduler::SchedulerError> {
/// let framework = v1::FrameworkInfo { user: "nobody".into(), name: "decliner".into(), ..Default::default() };
/// SchedulerDriver::builder("http://127.0.0.1:5050", framework).build()?.run(Decliner).await
/// # }
/// ```
pub struct SchedulerDriver {
    client: SchedulerClient,
}

impl std::fmt::Debug for SchedulerDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerDriver")
            .field("client", &self.client)
            .finish()
    }
}

/// Why one subscription ended.
enum SessionEnd {
    /// `stop()` or `teardown()` was called.
    Stopped,
    /// The connection was lost; resubscribe.
    Lost(SchedulerError),
    /// Give up.
    Fatal(SchedulerError),
}

impl SchedulerDriver {
    /// Starts configuring a driver for `master` (`http://host:port`, `https://...`, or
    /// a comma-separated list) and the framework to subscribe.
    ///
    /// An empty `framework.user` is replaced by the current OS user
    /// ([`crate::calls::current_user`]), as Mesos's scheduler libraries do: Mesos agents
    /// run tasks as that user, and fail every task of a framework whose user is empty.
    pub fn builder(master: impl Into<String>, framework: v1::FrameworkInfo) -> SchedulerBuilder {
        SchedulerBuilder::new(master.into(), framework)
    }

    fn from_config(config: Config) -> Result<Self, SchedulerError> {
        Ok(SchedulerDriver {
            client: SchedulerClient::new(config)?,
        })
    }

    /// A handle for calls (and `stop()`), usable before and while `run` runs.
    pub fn client(&self) -> SchedulerClient {
        self.client.clone()
    }

    /// Subscribes and dispatches events to `scheduler` until `stop()`/`teardown()`
    /// (then `Ok(())`) or a fatal error: a refused subscription (e.g. 401, 400), an
    /// ERROR event from the master, or too many failed reconnection attempts.
    ///
    /// # Errors
    /// See above; [`SchedulerError::api`] gives the master's status and message.
    pub async fn run(self, scheduler: impl Scheduler) -> Result<(), SchedulerError> {
        let mut runtime = Runtime::new(self.client, scheduler);
        runtime.run().await
    }

    /// Dispatches the events of one subscription read from any RecordIO byte stream
    /// (in the configured encoding), with the same acknowledgement, reconciliation and
    /// heartbeat handling as [`SchedulerDriver::run`], but without subscribing or
    /// resubscribing. Returns `Ok(())` when the stream ends or `stop()` is called.
    ///
    /// For replays, tests and benchmarks. Calls the scheduler makes need a subscription
    /// and fail with [`SchedulerError::NotSubscribed`] unless one exists.
    ///
    /// # Errors
    /// An ERROR event, a broken stream or an undecodable event.
    pub async fn run_on_bytes<S>(
        self,
        scheduler: impl Scheduler,
        bytes: S,
    ) -> Result<(), SchedulerError>
    where
        S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    {
        let events = EventStream::from_bytes(&self.client, bytes);
        let mut runtime = Runtime::new(self.client, scheduler);
        match runtime.session(events).await {
            SessionEnd::Stopped | SessionEnd::Lost(SchedulerError::StreamClosed) => Ok(()),
            SessionEnd::Lost(e) | SessionEnd::Fatal(e) => Err(e),
        }
    }
}

// Here rather than in `config.rs`, so that the builder's module does not import the
// driver's (which imports it): the scheduler's files import each other without cycles.
impl SchedulerBuilder {
    /// Checks the configuration and creates the driver (no I/O yet).
    ///
    /// # Errors
    /// [`SchedulerError::InvalidMaster`] for an unusable master address,
    /// [`SchedulerError::Transport`] if the HTTP client cannot be created.
    pub fn build(self) -> Result<SchedulerDriver, SchedulerError> {
        SchedulerDriver::from_config(self.into_config()?)
    }
}

const TERMINAL: [v1::TaskState; 9] = [
    v1::TaskState::TaskFinished,
    v1::TaskState::TaskFailed,
    v1::TaskState::TaskKilled,
    v1::TaskState::TaskError,
    v1::TaskState::TaskLost,
    v1::TaskState::TaskDropped,
    v1::TaskState::TaskGone,
    v1::TaskState::TaskGoneByOperator,
    v1::TaskState::TaskUnknown,
];

struct Runtime<S> {
    client: SchedulerClient,
    scheduler: S,
    /// Non-terminal tasks seen in updates, for reconciliation after resubscribing.
    known: HashMap<String, Option<v1::AgentId>>,
    heartbeat: Duration,
    reconciler: Reconciler,
    /// Whether the current session delivered SUBSCRIBED.
    got_subscribed: bool,
}

impl<S: Scheduler> Runtime<S> {
    fn new(client: SchedulerClient, scheduler: S) -> Self {
        let config = &client.shared.config;
        let heartbeat = config.default_heartbeat;
        let reconciler = Reconciler::new(config.reconcile_backoff);
        Runtime {
            client,
            scheduler,
            known: HashMap::new(),
            heartbeat,
            reconciler,
            got_subscribed: false,
        }
    }

    fn config(&self) -> &Config {
        &self.client.shared.config
    }

    async fn run(&mut self) -> Result<(), SchedulerError> {
        let mut backoff = Backoff::new(self.config().backoff);
        let mut stop = self.client.shared.stop.subscribe();
        let mut failures: u32 = 0;
        loop {
            if self.client.is_stopped() {
                return Ok(());
            }
            // A stop ends the run also while it waits for a master (a ZooKeeper
            // detector may wait for a leader) or for the subscription's answer.
            let subscribed = tokio::select! {
                _ = stopped(&mut stop) => return Ok(()),
                subscribed = self.client.subscribe() => subscribed,
            };
            let error = match subscribed {
                Ok(events) => {
                    self.scheduler.connected(&self.client).await;
                    let end = self.session(events).await;
                    self.client.shared.state().stream_id = None;
                    match end {
                        SessionEnd::Stopped => return Ok(()),
                        // After TEARDOWN the master closes the stream (or reports the
                        // framework removed): that is how the run ends, quietly.
                        SessionEnd::Lost(e) | SessionEnd::Fatal(e) if self.client.is_ending() => {
                            tracing::debug!(error = %e, "subscription ended after stop/teardown");
                            return Ok(());
                        }
                        SessionEnd::Fatal(e) => return Err(e),
                        SessionEnd::Lost(e) => {
                            tracing::warn!(error = %e, "lost the subscription; resubscribing");
                            self.scheduler.disconnected(&self.client).await;
                            if self.got_subscribed {
                                failures = 0;
                                backoff.reset();
                            }
                            e
                        }
                    }
                }
                Err(e) if e.is_retryable() => e,
                Err(e) => {
                    tracing::error!(error = %e, "subscription refused");
                    return Err(e);
                }
            };
            failures += 1;
            if let Some(max) = self.config().max_reconnect_attempts
                && failures > max
            {
                return Err(SchedulerError::ReconnectsExhausted {
                    attempts: failures,
                    last: Box::new(error),
                });
            }
            let delay = backoff.next_delay();
            tracing::info!(?delay, attempt = failures, error = %error, "resubscribing after a delay");
            tokio::select! {
                _ = stopped(&mut stop) => return Ok(()),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Dispatches one subscription's events until it ends.
    ///
    /// The stop signal, the heartbeat watchdog and the reconciliation timer are each
    /// created once per session and re-armed only when their deadline changes, so an
    /// event costs no timer (de)registration: the watchdog keeps its old deadline and,
    /// when that passes, re-arms itself to a window after the last event if one came.
    async fn session(&mut self, mut events: EventStream) -> SessionEnd {
        let mut stop = self.client.shared.stop.subscribe();
        let stop_signal = stopped(&mut stop);
        tokio::pin!(stop_signal);
        self.got_subscribed = false;
        self.heartbeat = self.config().default_heartbeat;
        let misses = self.config().heartbeat_misses;
        let mut silence = self.heartbeat * misses;
        let mut last_event = Instant::now();
        let watchdog = sleep_until(last_event + silence);
        tokio::pin!(watchdog);
        let reconcile_timer = sleep_until(last_event);
        tokio::pin!(reconcile_timer);
        let mut reconcile_armed: Option<Instant> = None;
        // With an elected leader (zk://), a new election ends this session: the driver
        // resubscribes to the new leader with the framework id.
        let mut leader = self.config().detector.leader_changes();
        let subscribed_leader = leader.as_mut().map(|l| l.borrow_and_update().clone());
        loop {
            // `due_at` answers "now" with the instant given; any past instant fires at once.
            let reconcile_at = self.reconciler.due_at(last_event);
            if reconcile_at != reconcile_armed {
                if let Some(at) = reconcile_at {
                    reconcile_timer.as_mut().reset(at);
                }
                reconcile_armed = reconcile_at;
            }
            tokio::select! {
                biased;
                _ = &mut stop_signal => return SessionEnd::Stopped,
                _ = &mut watchdog => {
                    let due = last_event + silence;
                    if Instant::now() >= due {
                        return SessionEnd::Lost(SchedulerError::HeartbeatTimeout(silence));
                    }
                    watchdog.as_mut().reset(due);
                }
                _ = &mut reconcile_timer, if reconcile_armed.is_some() => {
                    reconcile_armed = None;
                    self.reconcile_round().await;
                }
                changed = leader_changed(&mut leader) => {
                    let now = leader.as_mut().map(|l| l.borrow_and_update().clone());
                    if !changed {
                        leader = None;
                    } else if now != subscribed_leader {
                        tracing::info!(leader = ?now.flatten().map(|u| u.to_string()), "the leading master changed");
                        return SessionEnd::Lost(SchedulerError::LeaderChanged);
                    }
                }
                item = events.next() => {
                    let event = match item {
                        None => return SessionEnd::Lost(SchedulerError::StreamClosed),
                        Some(Err(e)) => return SessionEnd::Lost(e),
                        Some(Ok(event)) => event,
                    };
                    if let Err(e) = self.dispatch(event).await {
                        return SessionEnd::Fatal(e);
                    }
                    last_event = Instant::now();
                    let window = self.heartbeat * misses;
                    if window != silence {
                        // SUBSCRIBED announced the master's interval.
                        silence = window;
                        watchdog.as_mut().reset(last_event + silence);
                    }
                }
            }
        }
    }

    async fn reconcile_round(&mut self) {
        let Some(round) = self.reconciler.poll(Instant::now()) else {
            return;
        };
        let tasks = match round {
            Round::Explicit(tasks) => tasks,
            Round::Implicit => Vec::new(),
        };
        tracing::debug!(tasks = tasks.len(), "reconciling");
        if let Err(e) = self.client.reconcile(tasks).await {
            tracing::warn!(error = %e, "reconciliation call failed");
        }
    }

    /// Hands one event to the scheduler; `Err` ends the driver.
    async fn dispatch(&mut self, event: Event) -> Result<(), SchedulerError> {
        use event::Type;
        let client = &self.client;
        let kind = event
            .r#type
            .and_then(|t| Type::try_from(t).ok())
            .unwrap_or(Type::Unknown);
        match kind {
            Type::Subscribed => {
                let Some(subscribed) = event.subscribed else {
                    return missing("SUBSCRIBED", "subscribed");
                };
                tracing::info!(framework_id = subscribed_id(&subscribed), "subscribed");
                if let Some(secs) = subscribed.heartbeat_interval_seconds
                    && secs.is_finite()
                    && secs > 0.0
                {
                    self.heartbeat = Duration::from_secs_f64(secs.min(86_400.0));
                }
                self.got_subscribed = true;
                self.scheduler.subscribed(client, subscribed).await;
                let mut tasks: Vec<_> = self
                    .known
                    .iter()
                    .map(|(task, agent)| {
                        (
                            v1::TaskId {
                                value: task.clone(),
                            },
                            agent.clone(),
                        )
                    })
                    .collect();
                for (task, agent) in &self.config().reconcile_tasks {
                    if !self.known.contains_key(&task.value) {
                        tasks.push((task.clone(), agent.clone()));
                    }
                }
                self.reconciler.start(tasks, Instant::now());
            }
            Type::Offers => {
                let offers = event.offers.map(|o| o.offers).unwrap_or_default();
                self.scheduler.offers(client, offers).await;
            }
            Type::InverseOffers => {
                let offers = event
                    .inverse_offers
                    .map(|o| o.inverse_offers)
                    .unwrap_or_default();
                self.scheduler.inverse_offers(client, offers).await;
            }
            Type::Rescind => match event.rescind {
                Some(r) => self.scheduler.rescind(client, r.offer_id).await,
                None => return missing("RESCIND", "rescind"),
            },
            Type::RescindInverseOffer => match event.rescind_inverse_offer {
                Some(r) => {
                    self.scheduler
                        .rescind_inverse_offer(client, r.inverse_offer_id)
                        .await
                }
                None => return missing("RESCIND_INVERSE_OFFER", "rescind_inverse_offer"),
            },
            Type::Update => {
                let Some(update) = event.update else {
                    return missing("UPDATE", "update");
                };
                self.update(update.status).await;
            }
            Type::UpdateOperationStatus => {
                let Some(update) = event.update_operation_status else {
                    return missing("UPDATE_OPERATION_STATUS", "update_operation_status");
                };
                self.operation_update(update.status).await;
            }
            Type::Message => match event.message {
                Some(m) => self.scheduler.message(client, m).await,
                None => return missing("MESSAGE", "message"),
            },
            Type::Failure => match event.failure {
                Some(f) => self.scheduler.failure(client, f).await,
                None => return missing("FAILURE", "failure"),
            },
            Type::Error => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                if client.is_ending() {
                    // The answer to our own TEARDOWN/stop: not an error to report.
                    tracing::debug!(%message, "ERROR from the master while ending the run");
                    return Err(SchedulerError::Master(message));
                }
                tracing::error!(%message, "the master sent ERROR");
                self.scheduler.error(client, message.clone()).await;
                return Err(SchedulerError::Master(message));
            }
            Type::Heartbeat => tracing::trace!("heartbeat"),
            Type::Unknown => {
                tracing::debug!(r#type = ?event.r#type, "ignoring an event of unknown type")
            }
        }
        Ok(())
    }

    async fn update(&mut self, status: v1::TaskStatus) {
        let terminal = v1::TaskState::try_from(status.state).is_ok_and(|s| TERMINAL.contains(&s));
        if terminal {
            self.known.remove(&status.task_id.value);
        } else if let Some(agent) = self.known.get_mut(&status.task_id.value) {
            if *agent != status.agent_id {
                agent.clone_from(&status.agent_id);
            }
        } else {
            self.known
                .insert(status.task_id.value.clone(), status.agent_id.clone());
        }
        self.reconciler.observe(&status.task_id);
        let ack = match (&status.uuid, &status.agent_id) {
            (Some(uuid), Some(agent)) if !uuid.is_empty() && self.config().auto_acknowledge => {
                Some((agent.clone(), status.task_id.clone(), uuid.clone()))
            }
            (Some(uuid), None) if !uuid.is_empty() && self.config().auto_acknowledge => {
                tracing::warn!(
                    task_id = %status.task_id.value,
                    "status update has a uuid but no agent id; cannot acknowledge it"
                );
                None
            }
            _ => None,
        };
        self.scheduler.update(&self.client, status).await;
        if let Some((agent, task, uuid)) = ack
            && let Err(e) = self.client.acknowledge(agent, task, uuid).await
        {
            tracing::warn!(error = %e, "acknowledging a status update failed; the agent will resend it");
        }
    }

    async fn operation_update(&mut self, status: v1::OperationStatus) {
        let ack = match (&status.uuid, &status.operation_id) {
            (Some(uuid), Some(operation)) if self.config().auto_acknowledge => Some((
                status.agent_id.clone(),
                status.resource_provider_id.clone(),
                operation.clone(),
                uuid.value.clone(),
            )),
            _ => None,
        };
        self.scheduler
            .update_operation_status(&self.client, status)
            .await;
        if let Some((agent, provider, operation, uuid)) = ack
            && let Err(e) = self
                .client
                .acknowledge_operation_status(agent, provider, operation, uuid)
                .await
        {
            tracing::warn!(error = %e, "acknowledging an operation status failed");
        }
    }
}

fn missing(event: &str, field: &str) -> Result<(), SchedulerError> {
    tracing::warn!(event, field, "ignoring an event without its payload");
    Ok(())
}

/// Resolves once the stop flag is set. (A helper so that no `watch::Ref` is held
/// inside `select!`, which would make the driver's future `!Send`.)
/// Resolves when the detector reports a leader change (`true`), or when it stopped
/// reporting them (`false`); never without a detector that follows an election.
async fn leader_changed(
    leader: &mut Option<tokio::sync::watch::Receiver<Option<crate::transport::Url>>>,
) -> bool {
    match leader {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
