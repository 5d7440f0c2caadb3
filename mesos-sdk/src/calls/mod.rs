//! Pure builders for scheduler, executor and operator calls (no I/O).
//!
//! Mesos calls are nested proto2 messages with a `type` tag and one payload field that
//! must agree with it. These builders set both, so a framework never assembles the
//! optionals by hand:
//!
//! ```
//! use mesos_sdk::calls::{self, scheduler};
//! use mesos_sdk::v1::{self, scheduler::call::Type};
//!
//! let framework = calls::framework_info("pi", "nobody").roles(["analytics"]).build();
//! let subscribe = scheduler::subscribe(framework);
//! assert_eq!(subscribe.r#type(), Type::Subscribe);
//!
//! let id = v1::FrameworkId { value: "f-1".into() };
//! let decline = scheduler::decline(&id, vec![v1::OfferId { value: "o-1".into() }], Some(calls::filters(30.0)));
//! assert_eq!(decline.decline.unwrap().filters.unwrap().refuse_seconds, Some(30.0));
//! ```

pub mod executor;
mod framework;
pub mod operations;
pub mod operator;
pub mod scheduler;
mod task;

pub use framework::{FrameworkInfoBuilder, current_user, fill_user, framework_info};
pub use task::{TaskInfoBuilder, task_info};

use crate::v1;

/// Offer filters: do not offer these resources again for `refuse_seconds`.
///
/// Mesos applies 5 seconds when a call carries no filters.
pub fn filters(refuse_seconds: f64) -> v1::Filters {
    v1::Filters {
        refuse_seconds: Some(refuse_seconds),
    }
}

/// A fresh random (version 4) UUID in the 16-byte binary form Mesos puts in
/// `TaskStatus.uuid` and `Call.Acknowledge.uuid`.
pub fn new_uuid() -> bytes::Bytes {
    bytes::Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())
}
