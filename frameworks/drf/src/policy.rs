//! What a DRF demo framework does with offers and status updates, without I/O.
//!
//! [`FrameworkPolicy`] turns offers into [`OfferDecision`]s (launch `sleep` tasks
//! carved out of the offer, or decline) and keeps count of its running tasks, so
//! the scheduler around it only forwards calls. See [`crate::scheduler`].

use std::collections::BTreeMap;
use std::time::Duration;

use mesos_sdk::calls;
use mesos_sdk::v1;

use crate::share::Amount;

/// How long offers are refused once a framework has launched all its tasks.
pub const DONE_REFUSE_SECONDS: f64 = 3600.0;

/// A framework gives up after this many of its tasks failed in a row, none of them
/// reaching TASK_RUNNING in between: its tasks cannot run on this cluster.
pub const MAX_FAILURES_IN_A_ROW: u64 = 5;

/// One framework's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkConfig {
    /// Framework name; task ids are derived from it.
    pub name: String,
    /// The role it subscribes with.
    pub role: String,
    /// One task's CPUs and memory (MB).
    pub task: Amount,
    /// How long each task sleeps.
    pub task_duration: Duration,
    /// Launch at most this many tasks in total, then finish (`None`: keep
    /// replacing finished tasks forever).
    pub max_tasks: Option<u64>,
    /// Launch as many tasks as each offer holds, instead of one per offer batch.
    pub pack: bool,
    /// `refuse_seconds` of the filter sent when declining an offer that holds no
    /// task: short, since resources may free up soon, but above zero, so that the
    /// master does not offer the same unusable resources straight back.
    pub refuse_seconds: f64,
    /// `refuse_seconds` for what is left of an offer the framework launched on
    /// (the ACCEPT's filter) and for offers set aside by one-task-per-batch. 0 by
    /// default: the allocator re-offers them at once to whoever now has the lowest
    /// (weighted) dominant share, which may be this framework again. A longer
    /// filter skips the framework meanwhile and so bends the order DRF would give.
    pub remainder_refuse_seconds: f64,
    /// How long the framework holds each batch of offers before answering (0 by
    /// default). Only for watching: it paces progressive filling so that samples
    /// of the master's state see each step. Held offers count in the framework's
    /// share, as in Mesos.
    pub offer_delay: Duration,
}

impl FrameworkConfig {
    /// A configuration with one task per offer batch, one-hour tasks, no task
    /// limit, a 0.2 s filter on unusable offers and none on remainders.
    pub fn new(name: &str, role: &str, task: Amount) -> Self {
        Self {
            name: name.to_owned(),
            role: role.to_owned(),
            task,
            task_duration: Duration::from_secs(3600),
            max_tasks: None,
            pack: false,
            refuse_seconds: 0.2,
            remainder_refuse_seconds: 0.0,
            offer_delay: Duration::ZERO,
        }
    }
}

/// What to do with one offer.
#[derive(Debug, Clone, PartialEq)]
pub enum OfferDecision {
    /// Accept the offer, launching these tasks; the rest of it is refused with the
    /// filter.
    Launch {
        /// The offer.
        offer_id: v1::OfferId,
        /// Tasks whose resources were carved out of the offer.
        tasks: Vec<v1::TaskInfo>,
        /// Filter for what is left.
        filters: v1::Filters,
    },
    /// Decline the whole offer with the filter.
    Decline {
        /// The offer.
        offer_id: v1::OfferId,
        /// Filter for the offered resources.
        filters: v1::Filters,
    },
}

/// The bookkeeping and offer handling of one DRF demo framework.
///
/// ```
/// use drf_demo::policy::{FrameworkConfig, FrameworkPolicy};
/// use drf_demo::share::Amount;
/// let policy = FrameworkPolicy::new(FrameworkConfig::new("A", "a", Amount::new(1.0, 4096.0)));
/// assert_eq!(policy.active_tasks(), 0);
/// assert!(!policy.is_done());
/// ```
#[derive(Debug, Clone)]
pub struct FrameworkPolicy {
    config: FrameworkConfig,
    cluster_total: Option<Amount>,
    launched: u64,
    finished: u64,
    failed: u64,
    failed_in_a_row: u64,
    /// The final update of the first task that failed.
    first_failure: Option<String>,
    active: BTreeMap<String, Amount>,
}

/// A framework's task counts and share at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// The master has accepted the framework's subscription.
    pub subscribed: bool,
    /// Tasks launched so far.
    pub launched: u64,
    /// Tasks launched and not yet ended.
    pub active: u64,
    /// Tasks that ended TASK_FINISHED.
    pub finished: u64,
    /// Tasks that ended in any other terminal state (failed, killed, lost, ...).
    pub failed: u64,
    /// CPUs and memory held by active tasks.
    pub allocated: Amount,
    /// Dominant share of `allocated`, once the cluster size is known.
    pub dominant_share: Option<f64>,
    /// Why the framework failed, once it has (see [`FrameworkPolicy::failure`]).
    pub failure: Option<String>,
}

impl FrameworkPolicy {
    /// A policy with no tasks yet.
    pub fn new(config: FrameworkConfig) -> Self {
        Self {
            config,
            cluster_total: None,
            launched: 0,
            finished: 0,
            failed: 0,
            failed_in_a_row: 0,
            first_failure: None,
            active: BTreeMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FrameworkConfig {
        &self.config
    }

    /// Tells the policy the cluster's size, so that it can report its dominant share.
    pub fn set_cluster_total(&mut self, total: Amount) {
        self.cluster_total = Some(total);
    }

    /// Tasks launched and not yet known to be over.
    pub fn active_tasks(&self) -> u64 {
        self.active.len() as u64
    }

    /// Tasks launched so far.
    pub fn launched(&self) -> u64 {
        self.launched
    }

    /// Task counts and share now.
    pub fn progress(&self) -> Progress {
        Progress {
            subscribed: false,
            launched: self.launched,
            active: self.active_tasks(),
            finished: self.finished,
            failed: self.failed,
            allocated: self.allocated(),
            dominant_share: self.dominant_share(),
            failure: self.failure(),
        }
    }

    /// Why the framework failed, if it has: [`MAX_FAILURES_IN_A_ROW`] tasks failed in
    /// a row (it gives up), or it is done and some of its tasks failed. Names the first
    /// failed task, its final state and the master's or agent's message.
    pub fn failure(&self) -> Option<String> {
        let first = self.first_failure.as_deref()?;
        if self.failed_in_a_row >= MAX_FAILURES_IN_A_ROW {
            Some(format!(
                "{} tasks failed in a row, so the framework gave up; the first: {first}",
                self.failed_in_a_row
            ))
        } else if self.is_done() {
            Some(format!(
                "{} of {} tasks failed; the first: {first}",
                self.failed, self.launched
            ))
        } else {
            None
        }
    }

    /// Resources held by active tasks.
    pub fn allocated(&self) -> Amount {
        self.active
            .values()
            .fold(Amount::default(), |acc, a| acc.plus(a))
    }

    /// The dominant share of [`Self::allocated`], once the cluster size is known.
    pub fn dominant_share(&self) -> Option<f64> {
        self.cluster_total
            .map(|total| self.allocated().dominant_share(&total))
    }

    /// Whether every allowed task was launched and has ended.
    pub fn is_done(&self) -> bool {
        self.remaining() == Some(0) && self.active.is_empty()
    }

    fn remaining(&self) -> Option<u64> {
        self.config
            .max_tasks
            .map(|max| max.saturating_sub(self.launched))
    }

    /// Decides, offer by offer, what to launch, up to `max_tasks`. By default one
    /// task per batch of offers (an OFFERS event), on the first offer that holds
    /// one: the other offers are declined, so that the allocator hands them to
    /// whoever now has the lowest dominant share, a task at a time. With `pack`,
    /// as many tasks as each offer holds. Offers that hold no task are declined.
    pub fn on_offers(&mut self, offers: &[v1::Offer]) -> Vec<OfferDecision> {
        let mut launched_in_batch = false;
        offers
            .iter()
            .map(|offer| {
                let decision = if launched_in_batch && !self.config.pack {
                    OfferDecision::Decline {
                        offer_id: offer.id.clone(),
                        filters: calls::filters(self.config.remainder_refuse_seconds),
                    }
                } else {
                    self.on_offer(offer)
                };
                launched_in_batch |= matches!(decision, OfferDecision::Launch { .. });
                decision
            })
            .collect()
    }

    fn on_offer(&mut self, offer: &v1::Offer) -> OfferDecision {
        let decline = |refuse: f64| OfferDecision::Decline {
            offer_id: offer.id.clone(),
            filters: calls::filters(refuse),
        };
        let limit = match self.remaining() {
            Some(0) => return decline(DONE_REFUSE_SECONDS),
            Some(n) => n,
            None => u64::MAX,
        };
        let limit = if self.config.pack {
            limit
        } else {
            limit.min(1)
        };
        let mut left = offer.resources.clone();
        let mut tasks = Vec::new();
        while (tasks.len() as u64) < limit {
            let Some(resources) = carve(&mut left, &self.config.task) else {
                break;
            };
            self.launched += 1;
            let id = format!("{}-{}", slug(&self.config.name), self.launched);
            let task = calls::task_info(
                id.clone(),
                format!("drf {} #{}", self.config.name, self.launched),
                offer.agent_id.clone(),
            )
            .resources(resources)
            // `exec`: the shell becomes the sleep, so killing the task kills it.
            .shell(format!(
                "exec sleep {}",
                self.config.task_duration.as_secs_f64()
            ))
            .build();
            self.active.insert(id, self.config.task);
            tasks.push(task);
        }
        if tasks.is_empty() {
            return decline(self.config.refuse_seconds);
        }
        OfferDecision::Launch {
            offer_id: offer.id.clone(),
            tasks,
            filters: calls::filters(self.config.remainder_refuse_seconds),
        }
    }

    /// Accounts for a status update; returns whether the number of active tasks
    /// changed (a task ended).
    ///
    /// A task ends in a terminal state ([`v1::TaskState::is_terminal`]), and also, for
    /// this demo, in TASK_UNREACHABLE or TASK_UNKNOWN: its resources are no longer
    /// counted in the framework's share, and a replacement is launched.
    pub fn on_update(&mut self, status: &v1::TaskStatus) -> bool {
        use v1::TaskState as S;
        let state = S::try_from(status.state);
        if matches!(state, Ok(S::TaskRunning | S::TaskFinished)) {
            self.failed_in_a_row = 0;
        }
        let ended = state
            .is_ok_and(|s| s.is_terminal() || matches!(s, S::TaskUnreachable | S::TaskUnknown));
        if !ended || self.active.remove(&status.task_id.value).is_none() {
            return false;
        }
        if status.state == S::TaskFinished as i32 {
            self.finished += 1;
        } else {
            self.failed += 1;
            self.failed_in_a_row += 1;
            self.first_failure
                .get_or_insert_with(|| status.summary().to_string());
        }
        true
    }

    /// Whether the framework should stop launching: every allowed task ended, or
    /// [`MAX_FAILURES_IN_A_ROW`] failed in a row.
    pub fn should_stop(&self) -> bool {
        self.is_done() || self.failed_in_a_row >= MAX_FAILURES_IN_A_ROW
    }
}

/// Takes `need` (CPUs and memory) out of the scalar resources in `left`, keeping
/// each piece's role, reservation and allocation info; `None` (and `left`
/// untouched) if they do not hold enough.
fn carve(left: &mut [v1::Resource], need: &Amount) -> Option<Vec<v1::Resource>> {
    let mut trial = left.to_vec();
    let mut taken = Vec::new();
    for (name, amount) in [("cpus", need.cpus), ("mem", need.mem)] {
        let mut wanted = amount;
        for r in trial.iter_mut().filter(|r| {
            r.name == name && r.r#type == v1::value::Type::Scalar as i32 && r.scalar.is_some()
        }) {
            if wanted <= 1e-3 {
                break;
            }
            let have = r.scalar.as_ref().map_or(0.0, |s| s.value);
            let take = round3(have.min(wanted));
            if take <= 0.0 {
                continue;
            }
            let mut piece = r.clone();
            piece.scalar = Some(v1::value::Scalar { value: take });
            taken.push(piece);
            r.scalar = Some(v1::value::Scalar {
                value: round3(have - take),
            });
            wanted = round3(wanted - take);
        }
        if wanted > 1e-3 {
            return None;
        }
    }
    left.clone_from_slice(&trial);
    Some(taken)
}

/// Mesos compares scalars at three decimal places.
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(name: &str, value: f64, role: Option<&str>) -> v1::Resource {
        v1::Resource {
            name: name.to_owned(),
            r#type: v1::value::Type::Scalar as i32,
            scalar: Some(v1::value::Scalar { value }),
            allocation_info: role.map(|r| v1::resource::AllocationInfo {
                role: Some(r.to_owned()),
            }),
            ..Default::default()
        }
    }

    fn offer(id: &str, cpus: f64, mem: f64) -> v1::Offer {
        v1::Offer {
            id: v1::OfferId { value: id.into() },
            agent_id: v1::AgentId {
                value: "agent-1".into(),
            },
            resources: vec![
                scalar("cpus", cpus, Some("a")),
                scalar("mem", mem, Some("a")),
            ],
            ..Default::default()
        }
    }

    fn task_scalars(task: &v1::TaskInfo) -> Amount {
        let mut a = Amount::default();
        for r in &task.resources {
            let v = r.scalar.as_ref().unwrap().value;
            match r.name.as_str() {
                "cpus" => a.cpus += v,
                "mem" => a.mem += v,
                other => panic!("unexpected resource {other}"),
            }
            assert_eq!(
                r.allocation_info.as_ref().unwrap().role.as_deref(),
                Some("a")
            );
        }
        a
    }

    #[test]
    fn one_task_per_batch_by_default() {
        let mut p = FrameworkPolicy::new(FrameworkConfig::new(
            "Framework A",
            "a",
            Amount::new(1.0, 4096.0),
        ));
        p.set_cluster_total(Amount::new(9.0, 18432.0));
        let decisions = p.on_offers(&[
            offer("o0", 0.5, 18432.0),
            offer("o1", 9.0, 18432.0),
            offer("o2", 9.0, 18432.0),
        ]);
        assert!(
            matches!(&decisions[0], OfferDecision::Decline { offer_id, filters }
                if offer_id.value == "o0" && filters.refuse_seconds == Some(0.2)),
            "too small for a task: refused for a while"
        );
        match &decisions[1] {
            OfferDecision::Launch {
                offer_id,
                tasks,
                filters,
            } => {
                assert_eq!(offer_id.value, "o1");
                assert_eq!(tasks.len(), 1);
                assert_eq!(tasks[0].task_id.value, "framework-a-1");
                assert_eq!(tasks[0].agent_id.value, "agent-1");
                assert_eq!(task_scalars(&tasks[0]), Amount::new(1.0, 4096.0));
                let cmd = tasks[0].command.as_ref().unwrap();
                assert_eq!(cmd.value.as_deref(), Some("exec sleep 3600"));
                assert_eq!(
                    filters.refuse_seconds,
                    Some(0.0),
                    "remainder goes straight back"
                );
            }
            other => panic!("expected a launch, got {other:?}"),
        }
        assert!(
            matches!(&decisions[2], OfferDecision::Decline { offer_id, .. } if offer_id.value == "o2"),
            "one task per batch: the rest goes back to the allocator"
        );
        assert_eq!(p.active_tasks(), 1);
        assert!((p.dominant_share().unwrap() - 4096.0 / 18432.0).abs() < 1e-9);
    }

    #[test]
    fn pack_fills_the_offer_and_max_tasks_caps_it() {
        let mut config = FrameworkConfig::new("B", "a", Amount::new(3.0, 1024.0));
        config.pack = true;
        let mut p = FrameworkPolicy::new(config.clone());
        match &p.on_offers(&[offer("o1", 9.5, 18432.0)])[0] {
            OfferDecision::Launch { tasks, .. } => assert_eq!(tasks.len(), 3),
            other => panic!("{other:?}"),
        }
        config.max_tasks = Some(2);
        let mut p = FrameworkPolicy::new(config);
        match &p.on_offers(&[offer("o1", 9.0, 18432.0)])[0] {
            OfferDecision::Launch { tasks, .. } => assert_eq!(tasks.len(), 2),
            other => panic!("{other:?}"),
        }
        match &p.on_offers(&[offer("o2", 9.0, 18432.0)])[0] {
            OfferDecision::Decline { filters, .. } => {
                assert_eq!(filters.refuse_seconds, Some(DONE_REFUSE_SECONDS))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn carving_spans_resource_pieces_and_rounds() {
        let mut left = vec![
            scalar("cpus", 0.3, Some("a")),
            scalar("cpus", 0.4, Some("a")),
            scalar("mem", 100.0, Some("a")),
        ];
        let taken = carve(&mut left, &Amount::new(0.1 + 0.2 + 0.2, 50.0)).unwrap();
        assert_eq!(taken.len(), 3);
        assert_eq!(left[0].scalar.as_ref().unwrap().value, 0.0);
        assert_eq!(left[1].scalar.as_ref().unwrap().value, 0.2);
        assert!(carve(&mut left, &Amount::new(1.0, 1.0)).is_none());
        assert_eq!(
            left[1].scalar.as_ref().unwrap().value,
            0.2,
            "untouched on failure"
        );
    }

    #[test]
    fn ended_tasks_free_their_share_and_finish_a_limited_framework() {
        let mut config = FrameworkConfig::new("A", "a", Amount::new(1.0, 1.0));
        config.max_tasks = Some(1);
        let mut p = FrameworkPolicy::new(config);
        p.on_offers(&[offer("o1", 2.0, 2.0)]);
        let mut status = v1::TaskStatus {
            task_id: v1::TaskId {
                value: "a-1".into(),
            },
            state: v1::TaskState::TaskRunning as i32,
            ..Default::default()
        };
        assert!(!p.on_update(&status));
        assert!(!p.is_done());
        status.state = v1::TaskState::TaskFinished as i32;
        assert!(p.on_update(&status));
        assert!(!p.on_update(&status), "a repeated update changes nothing");
        assert!(p.is_done());
        assert_eq!((p.active_tasks(), p.launched()), (0, 1));
        let progress = p.progress();
        assert_eq!((progress.finished, progress.failed), (1, 0));
        assert_eq!(progress.allocated, Amount::default());
    }

    fn failed(id: &str) -> v1::TaskStatus {
        v1::TaskStatus {
            task_id: v1::TaskId { value: id.into() },
            state: v1::TaskState::TaskLost as i32,
            source: Some(v1::task_status::Source::Agent as i32),
            message: Some("No such user 'x'".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_framework_whose_tasks_keep_failing_gives_up_and_names_the_first_failure() {
        let mut config = FrameworkConfig::new("A", "a", Amount::new(1.0, 1.0));
        config.pack = true;
        let mut p = FrameworkPolicy::new(config);
        p.on_offers(&[offer("o1", 8.0, 8.0)]);
        assert_eq!(p.active_tasks(), 8);
        for i in 1..MAX_FAILURES_IN_A_ROW {
            assert!(p.on_update(&failed(&format!("a-{i}"))));
            assert!(!p.should_stop() && p.failure().is_none(), "{i} failures");
        }
        // A task that runs resets the count.
        let mut running = failed("a-7");
        running.state = v1::TaskState::TaskRunning as i32;
        assert!(!p.on_update(&running));
        assert!(p.on_update(&failed("a-5")));
        assert!(!p.should_stop());
        for i in 6..=8 {
            p.on_update(&failed(&format!("a-{i}")));
        }
        assert!(!p.should_stop(), "4 in a row after the running task");
        p.on_offers(&[offer("o2", 2.0, 2.0)]);
        p.on_update(&failed("a-9"));
        assert!(p.should_stop());
        let failure = p.failure().expect("the framework failed");
        assert_eq!(
            failure,
            "5 tasks failed in a row, so the framework gave up; the first: \
             task a-1 ended TASK_LOST (from the agent): No such user 'x'"
        );
        assert_eq!(p.progress().failure, Some(failure));
    }

    #[test]
    fn a_limited_framework_with_failed_tasks_fails_when_done() {
        let mut config = FrameworkConfig::new("A", "a", Amount::new(1.0, 1.0));
        config.max_tasks = Some(2);
        config.pack = true;
        let mut p = FrameworkPolicy::new(config);
        p.on_offers(&[offer("o1", 2.0, 2.0)]);
        let mut ok = failed("a-1");
        ok.state = v1::TaskState::TaskFinished as i32;
        p.on_update(&ok);
        assert_eq!(p.failure(), None);
        p.on_update(&failed("a-2"));
        assert!(p.should_stop());
        assert_eq!(
            p.failure().as_deref(),
            Some(
                "1 of 2 tasks failed; the first: task a-2 ended TASK_LOST (from the agent): No such user 'x'"
            )
        );
    }
}
