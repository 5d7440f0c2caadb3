//! Builders for every `mesos.v1.executor.Call` type.
//!
//! ```
//! use mesos_sdk::calls::executor;
//! use mesos_sdk::v1::{ExecutorId, FrameworkId, executor::call::Type};
//!
//! let call = executor::message(&FrameworkId { value: "f".into() }, &ExecutorId { value: "e".into() }, "hi".into());
//! assert_eq!(call.r#type(), Type::Message);
//! ```

use bytes::Bytes;

use crate::v1::{
    self,
    executor::{Call, call},
};

fn call_of(framework_id: &v1::FrameworkId, executor_id: &v1::ExecutorId, kind: call::Type) -> Call {
    Call {
        executor_id: executor_id.clone(),
        framework_id: framework_id.clone(),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// `SUBSCRIBE`: open the event stream, resending what the agent has not acknowledged.
pub fn subscribe(
    framework_id: &v1::FrameworkId,
    executor_id: &v1::ExecutorId,
    unacknowledged_tasks: Vec<v1::TaskInfo>,
    unacknowledged_updates: Vec<call::Update>,
) -> Call {
    Call {
        subscribe: Some(call::Subscribe {
            unacknowledged_tasks,
            unacknowledged_updates,
        }),
        ..call_of(framework_id, executor_id, call::Type::Subscribe)
    }
}

/// `UPDATE`: report a task status (which must carry a 16-byte uuid).
pub fn update(
    framework_id: &v1::FrameworkId,
    executor_id: &v1::ExecutorId,
    status: v1::TaskStatus,
) -> Call {
    Call {
        update: Some(call::Update { status }),
        ..call_of(framework_id, executor_id, call::Type::Update)
    }
}

/// `MESSAGE`: send opaque data to the scheduler.
pub fn message(framework_id: &v1::FrameworkId, executor_id: &v1::ExecutorId, data: Bytes) -> Call {
    Call {
        message: Some(call::Message { data }),
        ..call_of(framework_id, executor_id, call::Type::Message)
    }
}

/// `HEARTBEAT`: keep an idle connection alive.
pub fn heartbeat(framework_id: &v1::FrameworkId, executor_id: &v1::ExecutorId) -> Call {
    call_of(framework_id, executor_id, call::Type::Heartbeat)
}
