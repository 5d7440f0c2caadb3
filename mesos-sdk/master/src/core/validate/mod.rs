//! What a real Apache Mesos master refuses from a scheduler, with Mesos's messages, so
//! that a framework tested against the reference master also runs on Mesos.
//!
//! Each function follows one validator of Mesos (`src/master/validation.cpp`,
//! `src/common/validation.cpp`, `src/common/resources.cpp`, `src/common/roles.cpp`)
//! and returns its message; `accept` and `subscribe` turn the message into Mesos's
//! outcome (TASK_ERROR, TASK_LOST/DROPPED, an ERROR event). The table of rules, their
//! Mesos sources and tests is in `docs/wire-compatibility.md`.

mod checks;
mod executor;
mod framework;
mod id;
mod offer;
mod operation;
mod resource;
mod task;

pub(crate) use framework::{framework as framework_info, update as framework_update};
pub(crate) use offer::{OfferOwner, offers};
pub(crate) use operation::{Operator, create, destroy, operator_reserve, reserve, unreserve};
pub(crate) use resource::role as role_name;
pub(crate) use task::{
    Books, fields as task_fields, group as task_group, normalize as normalize_task, task,
};
