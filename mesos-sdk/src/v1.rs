//! Generated Mesos v1 types.
//!
//! A few large optional fields that tasks rarely set are boxed, so that the messages
//! every task carries stay small to move and copy: `Resource.disk`, and the
//! `container`, `health_check`, `check` and `discovery` of `TaskInfo` (`container` and
//! `discovery` of `ExecutorInfo`). Set them with `Some(Box::new(..))`. A `Resource`
//! is 280 bytes instead of 1,248, a `TaskInfo` 736 instead of 2,712.
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/mesos.v1.rs"));

/// `mesos.v1.scheduler`
pub mod scheduler {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.scheduler.rs"));
}
/// `mesos.v1.executor`
pub mod executor {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.executor.rs"));
}
/// `mesos.v1.master`
pub mod master {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.master.rs"));
}
/// `mesos.v1.quota`
pub mod quota {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.quota.rs"));
}
/// `mesos.v1.maintenance`
pub mod maintenance {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.maintenance.rs"));
}
/// `mesos.v1.allocator`
pub mod allocator {
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.allocator.rs"));
}
