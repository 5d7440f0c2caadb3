//! The reconciliation schedule after a (re)subscription, as a pure state machine.
//!
//! Explicit rounds list the tasks that have not reported yet, spaced by a truncated
//! exponential backoff; once every listed task has reported, one implicit round
//! (empty task list) follows so the master also reports tasks the framework forgot.

use std::collections::BTreeMap;

use tokio::time::{Duration, Instant};

use crate::backoff::{Backoff, BackoffConfig};
use crate::v1;

/// What to send now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Round {
    /// RECONCILE listing these tasks.
    Explicit(Vec<(v1::TaskId, Option<v1::AgentId>)>),
    /// RECONCILE with no tasks.
    Implicit,
}

#[derive(Debug)]
pub(crate) struct Reconciler {
    pending: BTreeMap<String, (v1::TaskId, Option<v1::AgentId>)>,
    backoff: Backoff,
    next: Option<Instant>,
    implicit_due: bool,
}

impl Reconciler {
    pub(crate) fn new(config: BackoffConfig) -> Self {
        Reconciler {
            pending: BTreeMap::new(),
            backoff: Backoff::new(config),
            next: None,
            implicit_due: false,
        }
    }

    /// Starts over after a subscription with the tasks to ask about.
    pub(crate) fn start(
        &mut self,
        tasks: impl IntoIterator<Item = (v1::TaskId, Option<v1::AgentId>)>,
        now: Instant,
    ) {
        self.pending = tasks
            .into_iter()
            .map(|(t, a)| (t.value.clone(), (t, a)))
            .collect();
        self.backoff.reset();
        if self.pending.is_empty() {
            self.next = None;
            self.implicit_due = true;
        } else {
            self.next = Some(now);
            self.implicit_due = false;
        }
    }

    /// When the next round is due, if any.
    pub(crate) fn due_at(&self, now: Instant) -> Option<Instant> {
        if self.implicit_due {
            Some(now)
        } else {
            self.next
        }
    }

    /// A status update arrived for `task_id`.
    pub(crate) fn observe(&mut self, task_id: &v1::TaskId) {
        if self.pending.remove(&task_id.value).is_some() && self.pending.is_empty() {
            self.next = None;
            self.implicit_due = true;
        }
    }

    /// The round to send at `now`, if one is due; schedules the next.
    pub(crate) fn poll(&mut self, now: Instant) -> Option<Round> {
        if self.implicit_due {
            self.implicit_due = false;
            return Some(Round::Implicit);
        }
        match self.next {
            Some(at) if at <= now && !self.pending.is_empty() => {
                let delay: Duration = self.backoff.next_delay();
                self.next = Some(now + delay);
                Some(Round::Explicit(self.pending.values().cloned().collect()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> (v1::TaskId, Option<v1::AgentId>) {
        (
            v1::TaskId { value: id.into() },
            Some(v1::AgentId { value: "a".into() }),
        )
    }

    fn cfg() -> BackoffConfig {
        BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(4),
            multiplier: 2.0,
            jitter: 0.0,
        }
    }

    #[test]
    fn explicit_rounds_back_off_until_all_report_then_one_implicit() {
        let t0 = Instant::now();
        let mut r = Reconciler::new(cfg());
        r.start([task("t1"), task("t2")], t0);
        assert_eq!(
            r.poll(t0),
            Some(Round::Explicit(vec![task("t1"), task("t2")]))
        );
        assert_eq!(r.due_at(t0), Some(t0 + Duration::from_secs(1)));
        assert_eq!(r.poll(t0), None, "not due yet");
        let t1 = t0 + Duration::from_secs(1);
        r.observe(&task("t1").0);
        assert_eq!(r.poll(t1), Some(Round::Explicit(vec![task("t2")])));
        assert_eq!(r.due_at(t1), Some(t1 + Duration::from_secs(2)));
        let t3 = t1 + Duration::from_secs(2);
        assert!(matches!(r.poll(t3), Some(Round::Explicit(_))));
        let t7 = t3 + Duration::from_secs(4);
        assert!(matches!(r.poll(t7), Some(Round::Explicit(_))));
        assert_eq!(
            r.due_at(t7),
            Some(t7 + Duration::from_secs(4)),
            "truncated at max"
        );
        r.observe(&task("unrelated").0);
        assert!(r.due_at(t7) != Some(t7));
        r.observe(&task("t2").0);
        assert_eq!(r.poll(t7), Some(Round::Implicit));
        assert_eq!(r.poll(t7 + Duration::from_secs(100)), None);
        assert_eq!(r.due_at(t7), None);
    }

    #[test]
    fn no_tasks_means_one_implicit_round() {
        let t0 = Instant::now();
        let mut r = Reconciler::new(cfg());
        r.start([], t0);
        assert_eq!(r.poll(t0), Some(Round::Implicit));
        assert_eq!(r.poll(t0), None);
    }
}
