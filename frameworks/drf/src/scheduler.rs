//! The DRF demo framework as a [`mesos_sdk::scheduler::Scheduler`].

use async_trait::async_trait;
use mesos_sdk::calls;
use mesos_sdk::scheduler::{
    Scheduler, SchedulerBuilder, SchedulerClient, SchedulerDriver, SchedulerError,
};
use mesos_sdk::v1;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::policy::{FrameworkConfig, FrameworkPolicy, OfferDecision, Progress};
use crate::share::Amount;

/// A scheduler that keeps launching `sleep` tasks of one size (see
/// [`FrameworkPolicy`]) and logs its task count and dominant share whenever they
/// change. It stops its driver once a `max_tasks` limit is used up and every task
/// has ended, or once [`crate::policy::MAX_FAILURES_IN_A_ROW`] tasks failed in a row;
/// [`Progress::failure`] then says why.
///
/// ```no_run
/// use drf_demo::policy::FrameworkConfig;
/// use drf_demo::scheduler::DrfScheduler;
/// use drf_demo::share::Amount;
/// # async fn demo() -> Result<(), mesos_sdk::scheduler::SchedulerError> {
/// let config = FrameworkConfig::new("A", "a", Amount::new(1.0, 4096.0));
/// let scheduler = DrfScheduler::new(config, Some(Amount::new(9.0, 18432.0)));
/// let driver = scheduler.driver("http://127.0.0.1:5050")?;
/// let client = driver.client(); // client.teardown().await ends it
/// driver.run(scheduler).await?;
/// # Ok(()) }
/// ```
pub struct DrfScheduler {
    policy: FrameworkPolicy,
    progress: watch::Sender<Progress>,
    start_gate: Option<watch::Receiver<bool>>,
}

/// The longest a gated scheduler holds offers waiting for its start gate.
pub const START_GATE_TIMEOUT: Duration = Duration::from_secs(30);

impl DrfScheduler {
    /// A scheduler with `config`. With `cluster_total` it can log its dominant share.
    pub fn new(config: FrameworkConfig, cluster_total: Option<Amount>) -> Self {
        let mut policy = FrameworkPolicy::new(config);
        if let Some(total) = cluster_total {
            policy.set_cluster_total(total);
        }
        let (progress, _) = watch::channel(policy.progress());
        Self {
            policy,
            progress,
            start_gate: None,
        }
    }

    /// Holds offers, unanswered, until `gate` turns `true` (at most
    /// [`START_GATE_TIMEOUT`]). Several frameworks given one gate, opened once all
    /// have subscribed, start competing together: otherwise the first to subscribe
    /// could fill the cluster before the others exist (DRF does not preempt).
    pub fn with_start_gate(mut self, gate: watch::Receiver<bool>) -> Self {
        self.start_gate = Some(gate);
        self
    }

    /// Follows the framework's task counts and share as they change (also after
    /// the scheduler has been moved into its driver).
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// The `FrameworkInfo` this scheduler subscribes with: its name and its role, run
    /// as the current OS user (Mesos agents run the tasks as that user).
    pub fn framework_info(&self) -> v1::FrameworkInfo {
        let config = self.policy.config();
        calls::framework_info(config.name.clone(), "")
            .roles([config.role.clone()])
            .build()
    }

    /// A driver that subscribes this framework to the master at `master_url`; run it
    /// with `driver.run(scheduler)`, and keep `driver.client()` to tear down.
    ///
    /// # Errors
    /// [`SchedulerError`] if the URL is unusable.
    pub fn driver(&self, master_url: &str) -> Result<SchedulerDriver, SchedulerError> {
        self.driver_builder(master_url).build()
    }

    /// The driver's builder, for settings beyond the defaults: e.g.
    /// `.suppressed_roles(..)` to subscribe without offers until
    /// [`SchedulerClient::revive`], so that several frameworks can start together.
    pub fn driver_builder(&self, master_url: &str) -> SchedulerBuilder {
        SchedulerDriver::builder(master_url, self.framework_info())
    }

    fn publish(&self) {
        let subscribed = self.progress.borrow().subscribed;
        self.progress.send_replace(Progress {
            subscribed,
            ..self.policy.progress()
        });
    }

    fn log_allocation(&self, why: &str) {
        self.publish();
        let config = self.policy.config();
        let held = self.policy.allocated();
        match self.policy.dominant_share() {
            Some(share) => info!(
                framework = %config.name,
                tasks = self.policy.active_tasks(),
                cpus = held.cpus,
                mem = held.mem,
                dominant_share = format_args!("{share:.3}"),
                "{why}"
            ),
            None => info!(
                framework = %config.name,
                tasks = self.policy.active_tasks(),
                cpus = held.cpus,
                mem = held.mem,
                "{why}"
            ),
        }
    }
}

#[async_trait]
impl Scheduler for DrfScheduler {
    async fn subscribed(
        &mut self,
        _client: &SchedulerClient,
        subscribed: v1::scheduler::event::Subscribed,
    ) {
        info!(
            framework = %self.policy.config().name,
            framework_id = %subscribed.framework_id.value,
            role = %self.policy.config().role,
            "subscribed"
        );
        self.progress.send_modify(|p| p.subscribed = true);
    }

    async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
        if let Some(gate) = &mut self.start_gate {
            let opened = tokio::time::timeout(START_GATE_TIMEOUT, gate.wait_for(|open| *open));
            if !matches!(opened.await, Ok(Ok(_))) {
                warn!(framework = %self.policy.config().name, "start gate did not open; starting anyway");
            }
            self.start_gate = None;
        }
        let delay = self.policy.config().offer_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut launched = 0;
        for decision in self.policy.on_offers(&offers) {
            let result = match decision {
                OfferDecision::Launch {
                    offer_id,
                    tasks,
                    filters,
                } => {
                    launched += tasks.len();
                    client
                        .accept(
                            vec![offer_id],
                            vec![calls::operations::launch(tasks)],
                            Some(filters),
                        )
                        .await
                }
                OfferDecision::Decline { offer_id, filters } => {
                    client.decline(vec![offer_id], Some(filters)).await
                }
            };
            if let Err(error) = result {
                warn!(framework = %self.policy.config().name, %error, "answering an offer failed");
            }
        }
        if launched > 0 {
            self.log_allocation("launched");
        }
    }

    async fn update(&mut self, client: &SchedulerClient, status: v1::TaskStatus) {
        if self.policy.on_update(&status) {
            if status.state == v1::TaskState::TaskFinished as i32 {
                self.log_allocation(&status.summary().to_string());
            } else {
                warn!(framework = %self.policy.config().name, "{}", status.summary());
                self.publish();
            }
        }
        if self.policy.should_stop() {
            let name = &self.policy.config().name;
            match self.policy.failure() {
                Some(failure) => error!(framework = %name, "{failure}; stopping"),
                None => info!(framework = %name, "all tasks done; stopping"),
            }
            client.stop();
        }
    }

    async fn error(&mut self, _client: &SchedulerClient, message: String) {
        warn!(framework = %self.policy.config().name, %message, "master reported an error");
    }
}
