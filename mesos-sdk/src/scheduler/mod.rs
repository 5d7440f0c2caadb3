//! The scheduler runtime: the `Scheduler` trait, its handle and the event stream.
//!
//! Two levels:
//! - [`SchedulerDriver`] runs a [`Scheduler`] (callbacks per event) and takes care of
//!   the protocol: subscription and failover, leader redirects, `Mesos-Stream-Id`,
//!   the heartbeat watchdog, backoff, acknowledgements and reconciliation.
//! - [`subscribe`] gives a plain [`EventStream`] and a [`SchedulerClient`] for
//!   schedulers that want to drive the protocol themselves.
//!
//! # Rules a real Mesos cluster enforces
//!
//! The bundled reference master checks these too, so a framework that passes its tests
//! on the embedded cluster also runs on Apache Mesos (`docs/wire-compatibility.md`
//! lists every rule with its Mesos source):
//! - **`FrameworkInfo.user` must name a user that exists on every agent.** Agents run
//!   tasks as that user (or `CommandInfo.user`), and an agent that cannot fails the task
//!   with TASK_LOST or TASK_DROPPED (`No such user`). The driver fills an empty user
//!   with the current OS user ([`crate::calls::current_user`]), as Mesos's own
//!   libraries do.
//! - **Every task for one executor id carries an identical `ExecutorInfo`, resources
//!   included**, also when the executor is already running on the agent. The executor's
//!   resources are counted once: take them from an offer only for the task that starts
//!   the executor. A different `ExecutorInfo` under the same id ends the task
//!   TASK_ERROR: `ExecutorInfo is not compatible with existing ExecutorInfo with same
//!   ExecutorID`.
//! - Terminal states are those of [`v1::TaskState::is_terminal`]; use
//!   [`v1::TaskStatus::summary`] to tell a user why a task ended.

mod client;
mod config;
mod driver;
mod error;
mod reconcile;
mod subscription;

pub use client::SchedulerClient;
pub use config::{DEFAULT_MAX_EVENT_SIZE, SchedulerBuilder};
pub use driver::SchedulerDriver;
pub use error::SchedulerError;
pub use subscription::{EventStream, subscribe};

use crate::v1;

/// A framework's scheduler: one method per event of the Mesos scheduler API.
///
/// The driver calls the methods one at a time, in event order; a method may await
/// calls through the client it is handed. Every method has a default that does
/// nothing (ERROR and FAILURE are logged), so implement only what you need.
///
/// Status updates are acknowledged by the driver after [`Scheduler::update`] returns
/// (unless auto-acknowledgement is turned off), so a scheduler that persists state in
/// `update` does so before the agent forgets the update.
#[async_trait::async_trait]
pub trait Scheduler: Send + 'static {
    /// The connection to the master is up and SUBSCRIBE was accepted; SUBSCRIBED follows.
    async fn connected(&mut self, client: &SchedulerClient) {
        let _ = client;
    }

    /// The master registered the framework (also after each resubscription).
    async fn subscribed(
        &mut self,
        client: &SchedulerClient,
        subscribed: v1::scheduler::event::Subscribed,
    ) {
        let _ = (client, subscribed);
    }

    /// Resource offers: accept (e.g. [`SchedulerClient::launch`]) or decline them.
    async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
        let _ = (client, offers);
    }

    /// Inverse offers: the operator asks for resources back (maintenance).
    async fn inverse_offers(&mut self, client: &SchedulerClient, offers: Vec<v1::InverseOffer>) {
        let _ = (client, offers);
    }

    /// An offer is no longer valid.
    async fn rescind(&mut self, client: &SchedulerClient, offer_id: v1::OfferId) {
        let _ = (client, offer_id);
    }

    /// An inverse offer is no longer valid.
    async fn rescind_inverse_offer(&mut self, client: &SchedulerClient, offer_id: v1::OfferId) {
        let _ = (client, offer_id);
    }

    /// A task's status changed.
    async fn update(&mut self, client: &SchedulerClient, status: v1::TaskStatus) {
        let _ = (client, status);
    }

    /// An offer operation's status changed.
    async fn update_operation_status(
        &mut self,
        client: &SchedulerClient,
        status: v1::OperationStatus,
    ) {
        let _ = (client, status);
    }

    /// An executor sent the framework a message.
    async fn message(&mut self, client: &SchedulerClient, message: v1::scheduler::event::Message) {
        let _ = (client, message);
    }

    /// An agent or an executor failed.
    async fn failure(&mut self, client: &SchedulerClient, failure: v1::scheduler::event::Failure) {
        let _ = client;
        tracing::warn!(
            agent_id = failure.agent_id.as_ref().map(|a| a.value.as_str()),
            executor_id = failure.executor_id.as_ref().map(|e| e.value.as_str()),
            status = failure.status,
            "agent or executor failure"
        );
    }

    /// The master sent ERROR; the driver stops after this returns.
    async fn error(&mut self, client: &SchedulerClient, message: String) {
        let _ = client;
        tracing::error!(%message, "error from the master");
    }

    /// The subscription was lost; the driver resubscribes. Not called when the run
    /// ends through [`SchedulerClient::stop`] or [`SchedulerClient::teardown`].
    async fn disconnected(&mut self, client: &SchedulerClient) {
        let _ = client;
    }
}
