//! End-to-end helpers: a [`LocalCluster`] with short intervals, and a framework run by
//! the SDK's [`SchedulerDriver`] whose [`Scheduler`] records every callback, so a test
//! can wait (with a bounded timeout) for what the scheduler saw and make calls through
//! the driver's [`SchedulerClient`].

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use mesos_master::LocalCluster;
use mesos_sdk::backoff::BackoffConfig;
use mesos_sdk::codec::Encoding;
use mesos_sdk::scheduler::{
    Scheduler, SchedulerBuilder, SchedulerClient, SchedulerDriver, SchedulerError,
};
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::event;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{WAIT, framework_info};

/// One agent with room for a few small tasks; offers every 50 ms, heartbeats every
/// 500 ms, quick kills.
pub async fn cluster() -> LocalCluster {
    LocalCluster::builder()
        .resources("cpus:4;mem:2048")
        .heartbeat_interval(Duration::from_millis(500))
        .allocation_interval(Duration::from_millis(50))
        .kill_grace_period(Duration::from_millis(300))
        .executor_shutdown_grace_period(Duration::from_millis(500))
        .start()
        .await
        .expect("local cluster starts")
}

/// A framework that may run as the current user and survives a minute of failover.
pub fn failover_framework_info(name: &str) -> v1::FrameworkInfo {
    v1::FrameworkInfo {
        failover_timeout: Some(60.0),
        ..framework_info(name)
    }
}

/// What the scheduler was told, one entry per callback (heartbeats are not callbacks).
#[derive(Debug, Clone)]
pub enum Seen {
    /// `connected`.
    Connected,
    /// `subscribed`.
    Subscribed(event::Subscribed),
    /// `offers`.
    Offers(Vec<v1::Offer>),
    /// `rescind`.
    Rescind(v1::OfferId),
    /// `update`.
    Update(v1::TaskStatus),
    /// `message`.
    Message(event::Message),
    /// `failure`.
    Failure(event::Failure),
    /// `error`.
    Error(String),
    /// `disconnected`.
    Disconnected,
}

struct Recorder(mpsc::UnboundedSender<Seen>);

impl Recorder {
    fn see(&self, seen: Seen) {
        // The test may have stopped listening; nothing to do then.
        let _ = self.0.send(seen);
    }
}

#[async_trait::async_trait]
impl Scheduler for Recorder {
    async fn connected(&mut self, _client: &SchedulerClient) {
        self.see(Seen::Connected);
    }
    async fn subscribed(&mut self, _client: &SchedulerClient, s: event::Subscribed) {
        self.see(Seen::Subscribed(s));
    }
    async fn offers(&mut self, _client: &SchedulerClient, offers: Vec<v1::Offer>) {
        self.see(Seen::Offers(offers));
    }
    async fn rescind(&mut self, _client: &SchedulerClient, offer_id: v1::OfferId) {
        self.see(Seen::Rescind(offer_id));
    }
    async fn update(&mut self, _client: &SchedulerClient, status: v1::TaskStatus) {
        self.see(Seen::Update(status));
    }
    async fn message(&mut self, _client: &SchedulerClient, m: event::Message) {
        self.see(Seen::Message(m));
    }
    async fn failure(&mut self, _client: &SchedulerClient, f: event::Failure) {
        self.see(Seen::Failure(f));
    }
    async fn error(&mut self, _client: &SchedulerClient, message: String) {
        self.see(Seen::Error(message));
    }
    async fn disconnected(&mut self, _client: &SchedulerClient) {
        self.see(Seen::Disconnected);
    }
}

/// A framework run by [`SchedulerDriver`] in a background task.
pub struct Framework {
    /// The driver's client, for calls.
    pub client: SchedulerClient,
    run: Option<JoinHandle<Result<(), SchedulerError>>>,
    seen: mpsc::UnboundedReceiver<Seen>,
    /// Callbacks passed over by [`Framework::expect`], searched first next time.
    backlog: VecDeque<Seen>,
}

impl Drop for Framework {
    fn drop(&mut self) {
        if let Some(run) = &self.run {
            run.abort();
        }
    }
}

impl Framework {
    /// Starts a driver for `info` against `url` in `encoding`, resubscribing quickly.
    pub fn start(url: &str, encoding: Encoding, info: v1::FrameworkInfo) -> Self {
        Self::start_with(url, encoding, info, |builder| builder)
    }

    /// As [`Framework::start`], with the driver's builder adjusted by `tweak`.
    pub fn start_with(
        url: &str,
        encoding: Encoding,
        info: v1::FrameworkInfo,
        tweak: impl FnOnce(SchedulerBuilder) -> SchedulerBuilder,
    ) -> Self {
        let driver = tweak(SchedulerDriver::builder(url, info))
            .encoding(encoding)
            .backoff(BackoffConfig {
                initial: Duration::from_millis(20),
                max: Duration::from_millis(200),
                multiplier: 2.0,
                jitter: 0.0,
            })
            .build()
            .expect("driver builds");
        let client = driver.client();
        let (tx, seen) = mpsc::unbounded_channel();
        let run = tokio::spawn(driver.run(Recorder(tx)));
        Framework {
            client,
            run: Some(run),
            seen,
            backlog: VecDeque::new(),
        }
    }

    /// The first callback (earlier ones skipped are searched first) for which `want`
    /// gives a value; panics after [`WAIT`] or when the driver ended.
    pub async fn expect<T>(&mut self, what: &str, mut want: impl FnMut(&Seen) -> Option<T>) -> T {
        if let Some((pos, value)) = self
            .backlog
            .iter()
            .enumerate()
            .find_map(|(i, s)| want(s).map(|v| (i, v)))
        {
            self.backlog.remove(pos);
            return value;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let seen = tokio::time::timeout_at(deadline, self.seen.recv())
                .await
                .unwrap_or_else(|_| panic!("the scheduler saw no {what} within {WAIT:?}"))
                .unwrap_or_else(|| panic!("the driver ended before the scheduler saw {what}"));
            if let Some(value) = want(&seen) {
                return value;
            }
            self.backlog.push_back(seen);
        }
    }

    /// The next SUBSCRIBED.
    pub async fn subscribed(&mut self) -> event::Subscribed {
        self.expect("SUBSCRIBED", |s| match s {
            Seen::Subscribed(s) => Some(s.clone()),
            _ => None,
        })
        .await
    }

    /// The first offer of the next OFFERS.
    pub async fn offer(&mut self) -> v1::Offer {
        self.expect("an offer", |s| match s {
            Seen::Offers(o) if !o.is_empty() => Some(o[0].clone()),
            _ => None,
        })
        .await
    }

    /// The next update of `task` in `state`; panics if the task ends in another state.
    pub async fn status(&mut self, task: &str, state: v1::TaskState) -> v1::TaskStatus {
        let status = self
            .expect(&format!("{task} in {state:?} (or terminal)"), |s| match s {
                Seen::Update(u)
                    if u.task_id.value == task && (u.state == state as i32 || u.is_terminal()) =>
                {
                    Some(u.clone())
                }
                _ => None,
            })
            .await;
        assert_eq!(
            status.state,
            state as i32,
            "task {task} is {:?} ({:?}), expected {state:?}",
            v1::TaskState::try_from(status.state),
            status.message
        );
        status
    }

    /// The next MESSAGE from an executor.
    pub async fn message(&mut self) -> event::Message {
        self.expect("MESSAGE", |s| match s {
            Seen::Message(m) => Some(m.clone()),
            _ => None,
        })
        .await
    }

    /// Waits for the driver's `run` to return (bounded) and gives its result and every
    /// callback not consumed yet, in order.
    pub async fn finish(mut self) -> (Result<(), SchedulerError>, Vec<Seen>) {
        let run = self.run.take().expect("run handle");
        let result = tokio::time::timeout(WAIT, run)
            .await
            .expect("the driver's run returned in time")
            .expect("the driver's task did not panic");
        let mut rest: Vec<Seen> = self.backlog.drain(..).collect();
        while let Some(seen) = self.seen.recv().await {
            rest.push(seen);
        }
        (result, rest)
    }
}

/// ACCEPTs `offer` with one LAUNCH of `tasks`, without filtering what is left (so
/// the next offer comes at once).
pub async fn launch(client: &SchedulerClient, offer: &v1::Offer, tasks: Vec<v1::TaskInfo>) {
    client
        .accept(
            vec![offer.id.clone()],
            vec![mesos_sdk::calls::operations::launch(tasks)],
            Some(v1::Filters {
                refuse_seconds: Some(0.0),
            }),
        )
        .await
        .expect("ACCEPT accepted");
}

/// `Bytes` from a string, for messages and task data.
pub fn bytes(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}
