use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

use super::SchedulerError;
use super::client::{SchedulerClient, Shared};
use super::config::SchedulerBuilder;
use crate::transport::{
    Records, STREAM_ID_HEADER, TransportError, Url, records, records_from_stream,
};
use crate::v1::scheduler::{Event, event};

/// The events of one subscription, decoded, in order.
///
/// Ends when the master closes the stream; yields an error (and then ends) when the
/// stream breaks or an event cannot be decoded. A SUBSCRIBED event also records the
/// framework id in the [`SchedulerClient`] it came from, so calls work right away.
/// It has no heartbeat watchdog and never resubscribes: that is
/// [`super::SchedulerDriver`]'s job.
pub struct EventStream {
    records: Records,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("records", &self.records)
            .finish()
    }
}

impl EventStream {
    /// Events from any stream of RecordIO bytes in the client's encoding (for tests,
    /// replays and benchmarks: no network involved).
    pub fn from_bytes<S>(client: &SchedulerClient, bytes: S) -> Self
    where
        S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    {
        EventStream {
            records: records_from_stream(bytes, client.shared.config.max_event_size),
            shared: client.shared.clone(),
        }
    }
}

impl Stream for EventStream {
    type Item = Result<Event, SchedulerError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let record = match Pin::new(&mut self.records).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(Some(Ok(record))) => record,
        };
        let event: Event = match self.shared.http.encoding().decode(&record) {
            Ok(event) => event,
            Err(e) => return Poll::Ready(Some(Err(e.into()))),
        };
        if event.r#type == Some(event::Type::Subscribed as i32)
            && let Some(subscribed) = &event.subscribed
        {
            self.shared.state().framework.id = Some(subscribed.framework_id.clone());
        }
        Poll::Ready(Some(Ok(event)))
    }
}

/// Subscribes once, without the driver: the client for calls and the stream of
/// events. The caller handles heartbeats, acknowledgements and resubscription (call
/// [`SchedulerClient::subscribe`] again; the framework id is kept for failover).
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_sdk::scheduler::SchedulerError> {
/// use futures::StreamExt;
/// use mesos_sdk::scheduler::{SchedulerDriver, subscribe};
/// let framework = mesos_sdk::v1::FrameworkInfo { user: "me".into(), name: "raw".into(), ..Default::default() };
/// let (client, mut events) = subscribe(SchedulerDriver::builder("http://127.0.0.1:5050", framework)).await?;
/// while let Some(event) = events.next().await {
///     let event = event?;
///     if let Some(offers) = event.offers {
///         let ids = offers.offers.into_iter().map(|o| o.id).collect();
///         client.decline(ids, None).await?;
///     }
/// }
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`SchedulerClient::subscribe`], plus configuration errors of `builder`.
pub async fn subscribe(
    builder: SchedulerBuilder,
) -> Result<(SchedulerClient, EventStream), SchedulerError> {
    let client = builder.build()?.client();
    let events = client.subscribe().await?;
    Ok((client, events))
}

/// The scheduler endpoint of a master given by its base URL.
pub(crate) fn scheduler_endpoint(master: &Url) -> Url {
    let mut url = master.clone();
    url.set_path("/api/v1/scheduler");
    url.set_query(None);
    url
}

impl SchedulerClient {
    /// Sends SUBSCRIBE (with the framework id once known, for failover) to the
    /// detected masters in turn, following `307` redirects to the leader, and returns
    /// the event stream of the first master that accepts. The client's calls then go
    /// to that master with the new `Mesos-Stream-Id`.
    ///
    /// # Errors
    /// The last master's error: [`SchedulerError::Transport`] (unreachable, or an
    /// HTTP error such as 401 with the master's message), redirect errors,
    /// [`SchedulerError::MissingStreamId`].
    pub async fn subscribe(&self) -> Result<EventStream, SchedulerError> {
        let config = &self.shared.config;
        let masters = config.detector.masters().await?;
        let body = {
            let mut state = self.shared.state();
            state.stream_id = None;
            let framework = state.framework.clone();
            let mut call = crate::calls::scheduler::subscribe(framework);
            if let Some(subscribe) = call.subscribe.as_mut() {
                subscribe.suppressed_roles = config.suppressed_roles.clone();
            }
            self.shared.http.encoding().encode(&call)
        };
        let mut last = SchedulerError::InvalidMaster(crate::detect::DetectError::Empty);
        for master in masters {
            match self.subscribe_at(scheduler_endpoint(&master), &body).await {
                Ok(events) => return Ok(events),
                Err(e) => {
                    tracing::warn!(master = %master, error = %e, "subscription failed");
                    let fatal = !e.is_retryable();
                    last = e;
                    if fatal {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    async fn subscribe_at(&self, mut url: Url, body: &[u8]) -> Result<EventStream, SchedulerError> {
        let max = self.shared.config.max_redirects;
        let mut hops = 0;
        loop {
            tracing::debug!(%url, "subscribing");
            let response = match self.shared.http.post(&url, body.to_vec(), None).await {
                Ok(response) => response,
                Err(TransportError::Api(api)) if api.is_redirect() => {
                    let Some(next) = api.location().and_then(|l| url.join(l).ok()) else {
                        return Err(SchedulerError::BadRedirect {
                            endpoint: url.to_string(),
                        });
                    };
                    if hops >= max {
                        return Err(SchedulerError::TooManyRedirects {
                            hops,
                            last: next.to_string(),
                        });
                    }
                    hops += 1;
                    tracing::info!(from = %url, to = %next, "following redirect to the leading master");
                    url = next;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(stream_id) = response
                .headers()
                .get(STREAM_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
            else {
                return Err(SchedulerError::MissingStreamId {
                    endpoint: url.to_string(),
                });
            };
            {
                let mut state = self.shared.state();
                state.leader = Some(url.clone());
                state.stream_id = Some(stream_id);
            }
            return Ok(EventStream {
                records: records(response, self.shared.config.max_event_size),
                shared: self.shared.clone(),
            });
        }
    }
}

/// The framework id of a SUBSCRIBED event, for logs.
pub(crate) fn subscribed_id(s: &event::Subscribed) -> &str {
    &s.framework_id.value
}
