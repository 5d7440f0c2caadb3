//! Snapshots of the master's books (what `GET /state` serves), for tests and tools.

pub use crate::core::snapshot::{
    AgentState, FrameworkState, MasterState, ResourceSummary, TaskState,
};
