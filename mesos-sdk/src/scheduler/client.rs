use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::watch;

use super::SchedulerError;
use super::config::Config;
use crate::calls::scheduler as sc;
use crate::transport::{HttpTransport, ReconnectingPipeline, Url};
use crate::v1;
use crate::v1::scheduler::{Call, call};

/// Subscription state shared by the driver, its event stream and every client clone.
pub(crate) struct Shared {
    /// SUBSCRIBE, whose answer is the event stream.
    pub(crate) http: HttpTransport,
    /// Every other call, pipelined on one connection to the leader.
    calls: ReconnectingPipeline,
    pub(crate) config: Config,
    state: Mutex<State>,
    pub(crate) stop: watch::Sender<bool>,
    /// Set before TEARDOWN is sent: the master closing the stream (or sending ERROR)
    /// from then on is the expected end of the run, not a lost subscription.
    pub(crate) ending: AtomicBool,
}

#[derive(Default)]
pub(crate) struct State {
    /// The master that accepted the subscription.
    pub(crate) leader: Option<Url>,
    /// `Mesos-Stream-Id` of the current subscription.
    pub(crate) stream_id: Option<String>,
    /// The framework as it will be (re)subscribed; its id is set after SUBSCRIBED.
    pub(crate) framework: v1::FrameworkInfo,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state itself stays valid.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A handle for making calls to the master on behalf of the subscribed framework.
///
/// Cheap to clone; every clone talks through the current subscription (its leader and
/// `Mesos-Stream-Id`, both updated on resubscription). Calls made before the first
/// SUBSCRIBED event fail with [`SchedulerError::NotSubscribed`].
///
/// Each method sends one call and returns once the master accepted it (HTTP 202);
/// the outcome arrives later as events. Calls are pipelined on one connection to the
/// leader (its own, beside the subscription's), as Mesos's scheduler library sends
/// them, so concurrent calls reach the master in the order they were made.
#[derive(Clone)]
pub struct SchedulerClient {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for SchedulerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.state();
        f.debug_struct("SchedulerClient")
            .field("leader", &state.leader.as_ref().map(Url::as_str))
            .field("framework_id", &state.framework.id)
            .field("stream_id", &state.stream_id)
            .finish()
    }
}

impl SchedulerClient {
    pub(crate) fn new(config: Config) -> Result<Self, SchedulerError> {
        let http = HttpTransport::with_root_certificates(
            config.encoding,
            config.auth.clone(),
            &config.tls_roots,
        )?;
        let state = State {
            framework: config.framework.clone(),
            ..Default::default()
        };
        Ok(SchedulerClient {
            shared: Arc::new(Shared {
                calls: ReconnectingPipeline::new(http.clone()),
                http,
                config,
                state: Mutex::new(state),
                stop: watch::Sender::new(false),
                ending: AtomicBool::new(false),
            }),
        })
    }

    /// The framework id assigned by the master (or given in `FrameworkInfo.id`).
    pub fn framework_id(&self) -> Option<v1::FrameworkId> {
        self.shared.state().framework.id.clone()
    }

    /// The `Mesos-Stream-Id` of the current subscription.
    pub fn stream_id(&self) -> Option<String> {
        self.shared.state().stream_id.clone()
    }

    /// The master currently subscribed to.
    pub fn leader(&self) -> Option<Url> {
        self.shared.state().leader.clone()
    }

    /// Sends any call. `framework_id` is filled in when absent.
    ///
    /// # Errors
    /// [`SchedulerError::NotSubscribed`] before SUBSCRIBED; [`SchedulerError::Transport`]
    /// when the master is unreachable or refuses the call (see
    /// [`SchedulerError::api`] for its status code and message).
    pub async fn call(&self, mut call: Call) -> Result<(), SchedulerError> {
        let (url, stream_id) = {
            let state = self.shared.state();
            let (Some(url), Some(stream_id), Some(id)) = (
                state.leader.clone(),
                state.stream_id.clone(),
                state.framework.id.clone(),
            ) else {
                return Err(SchedulerError::NotSubscribed);
            };
            if call.framework_id.is_none() {
                call.framework_id = Some(id);
            }
            (url, stream_id)
        };
        let body = self.shared.http.encoding().encode(&call);
        let kind = call.r#type;
        tracing::debug!(call = ?kind.and_then(|t| call::Type::try_from(t).ok()), "sending call");
        self.shared.calls.post(&url, body, Some(&stream_id)).await?;
        Ok(())
    }

    /// The framework id for building a call, or [`SchedulerError::NotSubscribed`].
    fn id(&self) -> Result<v1::FrameworkId, SchedulerError> {
        self.framework_id().ok_or(SchedulerError::NotSubscribed)
    }

    /// ACCEPT: use offers for operations (launch, reserve, create volumes, ...).
    pub async fn accept(
        &self,
        offer_ids: Vec<v1::OfferId>,
        operations: Vec<v1::offer::Operation>,
        filters: Option<v1::Filters>,
    ) -> Result<(), SchedulerError> {
        self.call(sc::accept(&self.id()?, offer_ids, operations, filters))
            .await
    }

    /// Launches `tasks` on one offer: ACCEPT with a single LAUNCH operation and the
    /// default filters.
    pub async fn launch(
        &self,
        offer_id: v1::OfferId,
        tasks: Vec<v1::TaskInfo>,
    ) -> Result<(), SchedulerError> {
        self.call(sc::launch(&self.id()?, offer_id, tasks)).await
    }

    /// DECLINE offers, optionally refusing them for `filters.refuse_seconds`.
    pub async fn decline(
        &self,
        offer_ids: Vec<v1::OfferId>,
        filters: Option<v1::Filters>,
    ) -> Result<(), SchedulerError> {
        self.call(sc::decline(&self.id()?, offer_ids, filters))
            .await
    }

    /// ACCEPT_INVERSE_OFFERS.
    pub async fn accept_inverse_offers(
        &self,
        inverse_offer_ids: Vec<v1::OfferId>,
        filters: Option<v1::Filters>,
    ) -> Result<(), SchedulerError> {
        self.call(sc::accept_inverse_offers(
            &self.id()?,
            inverse_offer_ids,
            filters,
        ))
        .await
    }

    /// DECLINE_INVERSE_OFFERS.
    pub async fn decline_inverse_offers(
        &self,
        inverse_offer_ids: Vec<v1::OfferId>,
        filters: Option<v1::Filters>,
    ) -> Result<(), SchedulerError> {
        self.call(sc::decline_inverse_offers(
            &self.id()?,
            inverse_offer_ids,
            filters,
        ))
        .await
    }

    /// REVIVE offers for `roles` (all roles when empty), removing filters.
    pub async fn revive(&self, roles: Vec<String>) -> Result<(), SchedulerError> {
        self.call(sc::revive(&self.id()?, roles)).await
    }

    /// SUPPRESS offers for `roles` (all roles when empty).
    pub async fn suppress(&self, roles: Vec<String>) -> Result<(), SchedulerError> {
        self.call(sc::suppress(&self.id()?, roles)).await
    }

    /// KILL a task.
    pub async fn kill(
        &self,
        task_id: v1::TaskId,
        agent_id: Option<v1::AgentId>,
        kill_policy: Option<v1::KillPolicy>,
    ) -> Result<(), SchedulerError> {
        self.call(sc::kill(&self.id()?, task_id, agent_id, kill_policy))
            .await
    }

    /// SHUTDOWN an executor.
    pub async fn shutdown(
        &self,
        executor_id: v1::ExecutorId,
        agent_id: v1::AgentId,
    ) -> Result<(), SchedulerError> {
        self.call(sc::shutdown(&self.id()?, executor_id, agent_id))
            .await
    }

    /// ACKNOWLEDGE a status update (only updates that carry a uuid).
    ///
    /// # Errors
    /// [`SchedulerError::InvalidCall`] for an empty uuid.
    pub async fn acknowledge(
        &self,
        agent_id: v1::AgentId,
        task_id: v1::TaskId,
        uuid: Bytes,
    ) -> Result<(), SchedulerError> {
        if uuid.is_empty() {
            return Err(SchedulerError::InvalidCall(
                "ACKNOWLEDGE needs the status update's uuid; updates without one are not acknowledged".into(),
            ));
        }
        self.call(sc::acknowledge(&self.id()?, agent_id, task_id, uuid))
            .await
    }

    /// ACKNOWLEDGE_OPERATION_STATUS.
    pub async fn acknowledge_operation_status(
        &self,
        agent_id: Option<v1::AgentId>,
        resource_provider_id: Option<v1::ResourceProviderId>,
        operation_id: v1::OperationId,
        uuid: Bytes,
    ) -> Result<(), SchedulerError> {
        self.call(sc::acknowledge_operation_status(
            &self.id()?,
            operation_id,
            uuid,
            agent_id,
            resource_provider_id,
        ))
        .await
    }

    /// RECONCILE tasks; an empty list asks for every task the master knows (implicit).
    pub async fn reconcile(
        &self,
        tasks: Vec<(v1::TaskId, Option<v1::AgentId>)>,
    ) -> Result<(), SchedulerError> {
        self.call(sc::reconcile(&self.id()?, tasks)).await
    }

    /// RECONCILE_OPERATIONS: `(operation, agent, resource provider)` triples; an empty
    /// list asks for every operation the master knows.
    pub async fn reconcile_operations(
        &self,
        operations: Vec<(
            v1::OperationId,
            Option<v1::AgentId>,
            Option<v1::ResourceProviderId>,
        )>,
    ) -> Result<(), SchedulerError> {
        self.call(sc::reconcile_operations(&self.id()?, operations))
            .await
    }

    /// MESSAGE: opaque data for an executor.
    pub async fn message(
        &self,
        agent_id: v1::AgentId,
        executor_id: v1::ExecutorId,
        data: Bytes,
    ) -> Result<(), SchedulerError> {
        self.call(sc::message(&self.id()?, agent_id, executor_id, data))
            .await
    }

    /// REQUEST resources (advisory; most allocators ignore it).
    pub async fn request(&self, requests: Vec<v1::Request>) -> Result<(), SchedulerError> {
        self.call(sc::request(&self.id()?, requests)).await
    }

    /// UPDATE_FRAMEWORK: change the framework's info; later resubscriptions use it.
    pub async fn update_framework(
        &self,
        mut framework_info: v1::FrameworkInfo,
    ) -> Result<(), SchedulerError> {
        let id = self.id()?;
        if framework_info.id.is_none() {
            framework_info.id = Some(id.clone());
        }
        self.call(sc::update_framework(&id, framework_info.clone()))
            .await?;
        self.shared.state().framework = framework_info;
        Ok(())
    }

    /// TEARDOWN: ends the framework (its tasks are killed), then stops the driver.
    ///
    /// The master closes the subscription when it removes the framework; the driver
    /// takes that as the end of the run (no resubscription, no `disconnected`
    /// callback) and `run` returns `Ok(())`.
    pub async fn teardown(&self) -> Result<(), SchedulerError> {
        self.shared.ending.store(true, Ordering::SeqCst);
        let result = match self.id() {
            Ok(id) => self.call(sc::teardown(&id)).await,
            Err(e) => Err(e),
        };
        self.stop();
        result
    }

    /// Stops the driver gracefully: it closes the subscription and `run` returns
    /// `Ok(())`. The framework stays registered until its failover timeout.
    pub fn stop(&self) {
        self.shared.stop.send_replace(true);
    }

    /// `true` once [`SchedulerClient::stop`] or [`SchedulerClient::teardown`] was called.
    pub fn is_stopped(&self) -> bool {
        *self.shared.stop.borrow()
    }

    /// `true` once the run is meant to end: stopped, or a TEARDOWN is under way.
    pub(crate) fn is_ending(&self) -> bool {
        self.is_stopped() || self.shared.ending.load(Ordering::SeqCst)
    }
}
