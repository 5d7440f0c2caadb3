use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt as _};

use super::{OperatorClient, OperatorError};
use crate::backoff::Backoff;
use crate::calls::operator as calls;
use crate::transport::{Records, records};
use crate::v1::master::{Event, event};

/// The events of one operator subscription, decoded, in order: SUBSCRIBED (the
/// whole state) first, then every change the master applies and HEARTBEATs.
///
/// Ends when the master closes the stream; yields an error (and then ends) when the
/// stream breaks or an event cannot be decoded. It has no watchdog and never
/// resubscribes: [`OperatorClient::events`] does both.
pub struct Subscription {
    records: Records,
    client: OperatorClient,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Stream for Subscription {
    type Item = Result<Event, OperatorError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.records).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(Some(Ok(record))) => Poll::Ready(Some(
                self.client
                    .http()
                    .encoding()
                    .decode(&record)
                    .map_err(OperatorError::from),
            )),
        }
    }
}

impl OperatorClient {
    /// SUBSCRIBE once: the stream of one subscription to the leading master.
    ///
    /// # Errors
    /// As [`OperatorClient::call`].
    pub async fn subscribe(&self) -> Result<Subscription, OperatorError> {
        let response = self.post(&calls::subscribe()).await?;
        Ok(Subscription {
            records: records(response, self.config().max_response_size),
            client: self.clone(),
        })
    }

    /// The master's events, followed for as long as the stream is polled: SUBSCRIBE,
    /// then a heartbeat watchdog (no event for
    /// [`super::OperatorBuilder::heartbeat_misses`] heartbeat intervals drops the
    /// subscription) and resubscription with backoff, to the leader of the moment,
    /// whenever the stream breaks, ends or goes silent.
    ///
    /// Every subscription starts with SUBSCRIBED carrying the whole state again, so a
    /// consumer rebuilds its view from each SUBSCRIBED and applies the events after
    /// it. The stream yields an error and ends only when resubscribing is hopeless (a
    /// refusal such as 401, an undecodable event) or the configured attempts ran out.
    pub fn events(&self) -> EventStream {
        let state = Follow {
            client: self.clone(),
            current: None,
            heartbeat: self.config().default_heartbeat,
            backoff: Backoff::new(self.config().backoff),
            failures: 0,
            done: false,
        };
        EventStream {
            inner: futures::stream::unfold(state, Follow::next).boxed(),
        }
    }
}

/// The events of [`OperatorClient::events`]: subscriptions one after another.
pub struct EventStream {
    inner: BoxStream<'static, Result<Event, OperatorError>>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl Stream for EventStream {
    type Item = Result<Event, OperatorError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct Follow {
    client: OperatorClient,
    current: Option<Subscription>,
    heartbeat: Duration,
    backoff: Backoff,
    failures: u32,
    done: bool,
}

impl Follow {
    async fn next(mut self) -> Option<(Result<Event, OperatorError>, Follow)> {
        if self.done {
            return None;
        }
        loop {
            let Some(current) = self.current.as_mut() else {
                match self.client.subscribe().await {
                    Ok(subscription) => {
                        self.current = Some(subscription);
                        continue;
                    }
                    Err(e) => {
                        if let Some(fatal) = self.failed(e) {
                            return Some((Err(fatal), self));
                        }
                        tokio::time::sleep(self.backoff.next_delay()).await;
                        continue;
                    }
                }
            };
            let silence = self.heartbeat * self.client.config().heartbeat_misses;
            match tokio::time::timeout(silence, current.next()).await {
                Ok(Some(Ok(event))) => {
                    if event.r#type == Some(event::Type::Subscribed as i32) {
                        self.backoff.reset();
                        self.failures = 0;
                        if let Some(secs) = event
                            .subscribed
                            .as_ref()
                            .and_then(|s| s.heartbeat_interval_seconds)
                            .filter(|s| s.is_finite() && *s > 0.0)
                        {
                            self.heartbeat = Duration::from_secs_f64(secs.min(86_400.0));
                        }
                    }
                    return Some((Ok(event), self));
                }
                Ok(Some(Err(OperatorError::Decode(e)))) => {
                    self.done = true;
                    return Some((Err(OperatorError::Decode(e)), self));
                }
                Ok(Some(Err(e))) => {
                    tracing::warn!(error = %e, "operator event stream broke; resubscribing");
                }
                Ok(None) => {
                    tracing::info!("master closed the operator event stream; resubscribing")
                }
                Err(_) => tracing::warn!(
                    ?silence,
                    "no operator event or heartbeat in time; resubscribing"
                ),
            }
            self.current = None;
            self.heartbeat = self.client.config().default_heartbeat;
        }
    }

    /// Counts a failed subscription; the error to end with when it is hopeless.
    fn failed(&mut self, error: OperatorError) -> Option<OperatorError> {
        self.failures += 1;
        if !error.is_retryable() {
            self.done = true;
            return Some(error);
        }
        tracing::warn!(error = %error, attempt = self.failures, "operator subscription failed");
        match self.client.config().max_resubscribe_attempts {
            Some(max) if self.failures >= max => {
                self.done = true;
                Some(OperatorError::ResubscribesExhausted {
                    attempts: self.failures,
                    last: Box::new(error),
                })
            }
            _ => None,
        }
    }
}
