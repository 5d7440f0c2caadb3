//! Reliable status updates: per task an ordered queue whose head is re-sent, with capped
//! exponential backoff, until the scheduler acknowledges it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use mesos_sdk::v1;

/// Identifies a task across frameworks: (framework id, task id).
pub(crate) type TaskKey = (String, String);

/// The key of a status update's task.
pub(crate) fn task_key(framework_id: &v1::FrameworkId, task_id: &v1::TaskId) -> TaskKey {
    (framework_id.value.clone(), task_id.value.clone())
}

struct Stream {
    framework_id: v1::FrameworkId,
    pending: VecDeque<v1::TaskStatus>,
    acknowledged: HashSet<Bytes>,
    /// When the head is due to be (re-)sent; `None` when the queue is empty.
    due: Option<Instant>,
    interval: Duration,
}

/// The outcome of an acknowledgement.
#[derive(Debug)]
pub(crate) struct Acked {
    /// The update that was acknowledged.
    pub status: v1::TaskStatus,
    /// The task's stream is finished (its terminal update was acknowledged): forget it.
    pub task_done: bool,
}

/// Every task's pending status updates.
pub(crate) struct StatusUpdates {
    streams: HashMap<TaskKey, Stream>,
    /// No head is due before this: kept as a lower bound as updates are queued and
    /// acknowledged (an acknowledgement may remove the head that set it), made exact
    /// again whenever heads are re-sent, so that the agent's loop learns when to wake
    /// without walking every task's queue per message.
    earliest: Option<Instant>,
    first_retry: Duration,
    max_retry: Duration,
}

impl StatusUpdates {
    pub(crate) fn new(first_retry: Duration, max_retry: Duration) -> Self {
        StatusUpdates {
            streams: HashMap::new(),
            earliest: None,
            first_retry,
            max_retry: max_retry.max(first_retry),
        }
    }

    /// Appends an update (which must carry a uuid) to its task's queue. Returns it when it
    /// is now the head and must be sent right away.
    pub(crate) fn enqueue(
        &mut self,
        framework_id: &v1::FrameworkId,
        status: v1::TaskStatus,
        now: Instant,
    ) -> Option<v1::TaskStatus> {
        let key = task_key(framework_id, &status.task_id);
        let stream = self.streams.entry(key).or_insert_with(|| Stream {
            framework_id: framework_id.clone(),
            pending: VecDeque::new(),
            acknowledged: HashSet::new(),
            due: None,
            interval: self.first_retry,
        });
        stream.pending.push_back(status);
        if stream.pending.len() == 1 {
            stream.interval = self.first_retry;
            let due = now + stream.interval;
            stream.due = Some(due);
            self.earliest = Some(self.earliest.map_or(due, |e| e.min(due)));
            stream.pending.front().cloned()
        } else {
            None
        }
    }

    /// Whether an update with this uuid is queued or was already acknowledged.
    pub(crate) fn knows(&self, key: &TaskKey, uuid: &[u8]) -> bool {
        self.streams.get(key).is_some_and(|s| {
            s.acknowledged.contains(uuid)
                || s.pending.iter().any(|p| p.uuid.as_deref() == Some(uuid))
        })
    }

    /// Matches an acknowledgement against the head of the task's queue. On a match the
    /// head is dropped and the next update (if any) is returned in `next` for sending.
    pub(crate) fn acknowledge(
        &mut self,
        key: &TaskKey,
        uuid: &[u8],
        now: Instant,
    ) -> (Option<Acked>, Option<v1::TaskStatus>) {
        let Some(stream) = self.streams.get_mut(key) else {
            return (None, None);
        };
        if stream.pending.front().and_then(|s| s.uuid.as_deref()) != Some(uuid) {
            return (None, None);
        }
        let status = stream.pending.pop_front().expect("head checked above");
        stream.acknowledged.insert(Bytes::copy_from_slice(uuid));
        let task_done = status.is_terminal() && stream.pending.is_empty();
        let next = stream.pending.front().cloned();
        stream.interval = self.first_retry;
        stream.due = next.as_ref().map(|_| now + stream.interval);
        if let Some(due) = stream.due {
            self.earliest = Some(self.earliest.map_or(due, |e| e.min(due)));
        }
        if task_done {
            self.streams.remove(key);
            if self.streams.is_empty() {
                self.earliest = None;
            }
        }
        (Some(Acked { status, task_done }), next)
    }

    /// When to look for head updates due for a re-send: never later than the earliest
    /// (it may be earlier; [`StatusUpdates::due`] then finds none and makes it exact).
    /// `None` when no update waits.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.earliest
    }

    /// Makes [`StatusUpdates::next_due`] exact again.
    fn recompute_earliest(&mut self) {
        self.earliest = self.streams.values().filter_map(|s| s.due).min();
    }

    /// Head updates due at `now`, to be re-sent; their next re-send is scheduled with a
    /// doubled interval, capped.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(v1::FrameworkId, v1::TaskStatus)> {
        let mut out = Vec::new();
        for stream in self.streams.values_mut() {
            if stream.due.is_some_and(|d| d <= now) {
                if let Some(head) = stream.pending.front() {
                    out.push((stream.framework_id.clone(), head.clone()));
                }
                stream.interval = (stream.interval * 2).min(self.max_retry);
                stream.due = Some(now + stream.interval);
            }
        }
        self.recompute_earliest();
        out
    }

    /// Every head update, to be sent again now (the agent re-registered: a new master
    /// may never have seen them); their retry intervals start over.
    pub(crate) fn resend_all(&mut self, now: Instant) -> Vec<(v1::FrameworkId, v1::TaskStatus)> {
        let mut out = Vec::new();
        for stream in self.streams.values_mut() {
            if let Some(head) = stream.pending.front() {
                out.push((stream.framework_id.clone(), head.clone()));
                stream.interval = self.first_retry;
                stream.due = Some(now + stream.interval);
            }
        }
        self.recompute_earliest();
        out
    }

    /// The newest queued update of every task with updates not yet acknowledged.
    pub(crate) fn newest_pending(
        &self,
    ) -> impl Iterator<Item = (&v1::FrameworkId, &v1::TaskStatus)> {
        self.streams
            .values()
            .filter_map(|s| s.pending.back().map(|status| (&s.framework_id, status)))
    }

    /// Forgets every stream of a framework (it was shut down).
    pub(crate) fn forget_framework(&mut self, framework_id: &str) {
        self.streams.retain(|(f, _), _| f != framework_id);
        if self.streams.is_empty() {
            self.earliest = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(task: &str, state: v1::TaskState, uuid: u8) -> v1::TaskStatus {
        v1::TaskStatus {
            task_id: v1::TaskId { value: task.into() },
            state: state as i32,
            uuid: Some(Bytes::from(vec![uuid; 16])),
            ..Default::default()
        }
    }

    #[test]
    fn head_is_resent_with_capped_doubling_until_acknowledged() {
        let fw = v1::FrameworkId { value: "f".into() };
        let mut u = StatusUpdates::new(Duration::from_secs(1), Duration::from_secs(3));
        let t0 = Instant::now();
        assert!(
            u.enqueue(&fw, status("t", v1::TaskState::TaskRunning, 1), t0)
                .is_some()
        );
        // Second update waits behind the first.
        assert!(
            u.enqueue(&fw, status("t", v1::TaskState::TaskFinished, 2), t0)
                .is_none()
        );
        assert!(u.due(t0).is_empty());
        let mut at = t0;
        let mut gaps = Vec::new();
        for _ in 0..4 {
            let next = u.next_due().unwrap();
            gaps.push(next - at);
            at = next;
            let resent = u.due(at);
            assert_eq!(resent.len(), 1);
            assert_eq!(resent[0].1.uuid.as_deref(), Some(&[1u8; 16][..]));
        }
        let secs: Vec<u64> = gaps.iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 3, 3]);
        let key = task_key(&fw, &v1::TaskId { value: "t".into() });
        // A wrong uuid does not acknowledge anything.
        assert!(u.acknowledge(&key, &[2; 16], at).0.is_none());
        let (acked, next) = u.acknowledge(&key, &[1; 16], at);
        assert!(!acked.unwrap().task_done);
        assert_eq!(next.unwrap().uuid.as_deref(), Some(&[2u8; 16][..]));
        assert!(u.knows(&key, &[1; 16]));
        let (acked, next) = u.acknowledge(&key, &[2; 16], at);
        assert!(acked.unwrap().task_done);
        assert!(next.is_none());
        assert!(u.next_due().is_none());
        assert!(!u.knows(&key, &[2; 16]), "a finished task is forgotten");
    }

    #[test]
    fn the_wake_up_time_never_misses_a_due_head_and_is_made_exact_when_it_fires() {
        let fw = v1::FrameworkId { value: "f".into() };
        let mut u = StatusUpdates::new(Duration::from_secs(1), Duration::from_secs(8));
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        u.enqueue(&fw, status("a", v1::TaskState::TaskFinished, 1), t0);
        u.enqueue(
            &fw,
            status("b", v1::TaskState::TaskFinished, 2),
            t0 + ms(500),
        );
        assert_eq!(u.next_due(), Some(t0 + ms(1000)));
        let a = task_key(&fw, &v1::TaskId { value: "a".into() });
        assert!(u.acknowledge(&a, &[1; 16], t0 + ms(600)).0.is_some());
        // Still the acknowledged head's time: early, never late.
        let wake = u.next_due().unwrap();
        assert!(wake <= t0 + ms(1500));
        assert!(u.due(wake).is_empty(), "nothing is due yet");
        assert_eq!(u.next_due(), Some(t0 + ms(1500)), "exact after a wake-up");
        let resent = u.due(t0 + ms(1500));
        assert_eq!(resent.len(), 1);
        assert_eq!(resent[0].1.task_id.value, "b");
        assert_eq!(u.next_due(), Some(t0 + ms(3500)), "b's doubled interval");
        u.forget_framework("f");
        assert_eq!(u.next_due(), None, "no update waits");
    }
}
