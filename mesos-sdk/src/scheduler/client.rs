use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::watch;

use super::SchedulerError;
use super::config::Config;
use crate::transport::{HttpTransport, Url};
use crate::v1;
use crate::v1::scheduler::{Call, call};

/// Subscription state shared by the driver, its event stream and every client clone.
pub(crate) struct Shared {
    pub(crate) http: HttpTransport,
    pub(crate) config: Config,
    state: Mutex<State>,
    pub(crate) stop: watch::Sender<bool>,
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
/// the outcome arrives later as events.
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

fn base(r#type: call::Type) -> Call {
    Call {
        r#type: Some(r#type as i32),
        ..Default::default()
    }
}

impl SchedulerClient {
    pub(crate) fn new(config: Config) -> Result<Self, SchedulerError> {
        let http = HttpTransport::new(config.encoding, config.auth.clone())?;
        let state = State {
            framework: config.framework.clone(),
            ..Default::default()
        };
        Ok(SchedulerClient {
            shared: Arc::new(Shared {
                http,
                config,
                state: Mutex::new(state),
                stop: watch::Sender::new(false),
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
        self.shared.http.post(&url, body, Some(&stream_id)).await?;
        Ok(())
    }

    /// ACCEPT: use offers for operations (launch, reserve, create volumes, ...).
    pub async fn accept(
        &self,
        offer_ids: Vec<v1::OfferId>,
        operations: Vec<v1::offer::Operation>,
        filters: Option<v1::Filters>,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Accept);
        c.accept = Some(call::Accept {
            offer_ids,
            operations,
            filters,
        });
        self.call(c).await
    }

    /// Launches `tasks` on one offer: ACCEPT with a single LAUNCH operation and the
    /// default filters.
    pub async fn launch(
        &self,
        offer_id: v1::OfferId,
        tasks: Vec<v1::TaskInfo>,
    ) -> Result<(), SchedulerError> {
        let launch = v1::offer::Operation {
            r#type: Some(v1::offer::operation::Type::Launch as i32),
            launch: Some(v1::offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        };
        self.accept(vec![offer_id], vec![launch], None).await
    }

    /// DECLINE offers, optionally refusing them for `filters.refuse_seconds`.
    pub async fn decline(
        &self,
        offer_ids: Vec<v1::OfferId>,
        filters: Option<v1::Filters>,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Decline);
        c.decline = Some(call::Decline { offer_ids, filters });
        self.call(c).await
    }

    /// ACCEPT_INVERSE_OFFERS.
    pub async fn accept_inverse_offers(
        &self,
        inverse_offer_ids: Vec<v1::OfferId>,
        filters: Option<v1::Filters>,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::AcceptInverseOffers);
        c.accept_inverse_offers = Some(call::AcceptInverseOffers {
            inverse_offer_ids,
            filters,
        });
        self.call(c).await
    }

    /// DECLINE_INVERSE_OFFERS.
    pub async fn decline_inverse_offers(
        &self,
        inverse_offer_ids: Vec<v1::OfferId>,
        filters: Option<v1::Filters>,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::DeclineInverseOffers);
        c.decline_inverse_offers = Some(call::DeclineInverseOffers {
            inverse_offer_ids,
            filters,
        });
        self.call(c).await
    }

    /// REVIVE offers for `roles` (all roles when empty), removing filters.
    pub async fn revive(&self, roles: Vec<String>) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Revive);
        c.revive = Some(call::Revive { roles });
        self.call(c).await
    }

    /// SUPPRESS offers for `roles` (all roles when empty).
    pub async fn suppress(&self, roles: Vec<String>) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Suppress);
        c.suppress = Some(call::Suppress { roles });
        self.call(c).await
    }

    /// KILL a task.
    pub async fn kill(
        &self,
        task_id: v1::TaskId,
        agent_id: Option<v1::AgentId>,
        kill_policy: Option<v1::KillPolicy>,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Kill);
        c.kill = Some(call::Kill {
            task_id,
            agent_id,
            kill_policy,
        });
        self.call(c).await
    }

    /// SHUTDOWN an executor.
    pub async fn shutdown(
        &self,
        executor_id: v1::ExecutorId,
        agent_id: v1::AgentId,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Shutdown);
        c.shutdown = Some(call::Shutdown {
            executor_id,
            agent_id,
        });
        self.call(c).await
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
        let mut c = base(call::Type::Acknowledge);
        c.acknowledge = Some(call::Acknowledge {
            agent_id,
            task_id,
            uuid,
        });
        self.call(c).await
    }

    /// ACKNOWLEDGE_OPERATION_STATUS.
    pub async fn acknowledge_operation_status(
        &self,
        agent_id: Option<v1::AgentId>,
        resource_provider_id: Option<v1::ResourceProviderId>,
        operation_id: v1::OperationId,
        uuid: Bytes,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::AcknowledgeOperationStatus);
        c.acknowledge_operation_status = Some(call::AcknowledgeOperationStatus {
            agent_id,
            resource_provider_id,
            uuid,
            operation_id,
        });
        self.call(c).await
    }

    /// RECONCILE tasks; an empty list asks for every task the master knows (implicit).
    pub async fn reconcile(
        &self,
        tasks: Vec<(v1::TaskId, Option<v1::AgentId>)>,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Reconcile);
        c.reconcile = Some(call::Reconcile {
            tasks: tasks
                .into_iter()
                .map(|(task_id, agent_id)| call::reconcile::Task { task_id, agent_id })
                .collect(),
        });
        self.call(c).await
    }

    /// RECONCILE_OPERATIONS.
    pub async fn reconcile_operations(
        &self,
        operations: Vec<call::reconcile_operations::Operation>,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::ReconcileOperations);
        c.reconcile_operations = Some(call::ReconcileOperations { operations });
        self.call(c).await
    }

    /// MESSAGE: opaque data for an executor.
    pub async fn message(
        &self,
        agent_id: v1::AgentId,
        executor_id: v1::ExecutorId,
        data: Bytes,
    ) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Message);
        c.message = Some(call::Message {
            agent_id,
            executor_id,
            data,
        });
        self.call(c).await
    }

    /// REQUEST resources (advisory; most allocators ignore it).
    pub async fn request(&self, requests: Vec<v1::Request>) -> Result<(), SchedulerError> {
        let mut c = base(call::Type::Request);
        c.request = Some(call::Request { requests });
        self.call(c).await
    }

    /// UPDATE_FRAMEWORK: change the framework's info; later resubscriptions use it.
    pub async fn update_framework(
        &self,
        mut framework_info: v1::FrameworkInfo,
    ) -> Result<(), SchedulerError> {
        if framework_info.id.is_none() {
            framework_info.id = self.framework_id();
        }
        let mut c = base(call::Type::UpdateFramework);
        c.update_framework = Some(call::UpdateFramework {
            framework_info: framework_info.clone(),
            ..Default::default()
        });
        self.call(c).await?;
        self.shared.state().framework = framework_info;
        Ok(())
    }

    /// TEARDOWN: ends the framework (its tasks are killed), then stops the driver.
    pub async fn teardown(&self) -> Result<(), SchedulerError> {
        let result = self.call(base(call::Type::Teardown)).await;
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
}
