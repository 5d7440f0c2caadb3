//! The operator API's event subscribers (`SUBSCRIBE` on `POST /api/v1`): every change
//! the books apply is handed to each subscriber, in the order it was applied.
//!
//! Each subscriber has a bounded queue: one that falls `capacity` events behind is
//! dropped (its stream ends and it resubscribes), so a slow reader cannot make the
//! master buffer without bound. At most `max` subscribers are kept; a new one beyond
//! that closes the oldest, as Mesos does.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::mpsc::{Receiver, Sender, channel, error::TrySendError};
use tracing::{debug, warn};

use mesos_sdk::v1::master::Event;

/// The subscribers of the operator event stream.
pub(crate) struct Watchers {
    subscribers: VecDeque<Sender<Arc<Event>>>,
    max: usize,
    capacity: usize,
}

impl Watchers {
    /// At most `max` subscribers, each at most `capacity` events behind.
    pub(crate) fn new(max: usize, capacity: usize) -> Self {
        Watchers {
            subscribers: VecDeque::new(),
            max: max.max(1),
            capacity: capacity.max(1),
        }
    }

    /// Whether anyone listens (events are only built when someone does).
    pub(crate) fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
    }

    /// How many subscribers are connected.
    pub(crate) fn len(&self) -> usize {
        self.subscribers.len()
    }

    /// Adds a subscriber whose queue starts with `first`; beyond `max`, the oldest
    /// subscriber is closed.
    pub(crate) fn add(&mut self, first: Event) -> Receiver<Arc<Event>> {
        let (tx, rx) = channel(self.capacity);
        // The queue is empty and has room for at least one event.
        let _ = tx.try_send(Arc::new(first));
        self.subscribers.retain(|s| !s.is_closed());
        while self.subscribers.len() >= self.max {
            debug!(
                max = self.max,
                "operator subscriber limit reached; closing the oldest"
            );
            self.subscribers.pop_front();
        }
        self.subscribers.push_back(tx);
        rx
    }

    /// Closes every subscriber's stream (the HTTP server is stopping).
    pub(crate) fn close_all(&mut self) {
        self.subscribers.clear();
    }

    /// Sends `event` to every subscriber, dropping those gone or too far behind.
    pub(crate) fn send(&mut self, event: Event) {
        let event = Arc::new(event);
        self.subscribers
            .retain(|s| match s.try_send(event.clone()) {
                Ok(()) => true,
                Err(TrySendError::Closed(_)) => false,
                Err(TrySendError::Full(_)) => {
                    warn!("operator subscriber fell too far behind; closing its stream");
                    false
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_sdk::v1::master::event;

    fn heartbeat() -> Event {
        Event {
            r#type: Some(event::Type::Heartbeat as i32),
            ..Default::default()
        }
    }

    #[test]
    fn the_oldest_subscriber_is_closed_beyond_the_limit() {
        let mut w = Watchers::new(2, 8);
        let mut a = w.add(heartbeat());
        let mut b = w.add(heartbeat());
        let mut c = w.add(heartbeat());
        assert_eq!(w.len(), 2);
        w.send(heartbeat());
        // `a` got its first event, then its queue was closed.
        assert!(a.try_recv().is_ok());
        assert!(a.try_recv().is_err());
        assert!(a.is_closed());
        for rx in [&mut b, &mut c] {
            assert!(rx.try_recv().is_ok());
            assert!(rx.try_recv().is_ok());
        }
    }

    #[test]
    fn a_subscriber_too_far_behind_is_dropped() {
        let mut w = Watchers::new(10, 2);
        let rx = w.add(heartbeat());
        w.send(heartbeat());
        assert_eq!(w.len(), 1);
        w.send(heartbeat());
        assert_eq!(w.len(), 0);
        drop(rx);
    }
}
