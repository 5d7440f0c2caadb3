//! Generated Mesos v1 types.
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
