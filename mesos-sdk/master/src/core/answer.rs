//! What the books hand back to the HTTP layer for a call.

use tokio::sync::mpsc::UnboundedReceiver;

use mesos_sdk::v1::scheduler::Event;

/// How a handled call is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 202 Accepted.
    Accepted,
    /// 200 OK (UPDATE_FRAMEWORK).
    Ok,
}

/// What a successful SUBSCRIBE hands to the HTTP layer.
pub(crate) struct Subscription {
    pub(crate) framework_id: String,
    pub(crate) stream_id: String,
    pub(crate) events: UnboundedReceiver<Event>,
}
