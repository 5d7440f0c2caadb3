//! mesos-sdk
#![warn(missing_docs)]

pub mod codec;
pub mod v1;
