//! The bundled reference master and its agents (feature `master`).

pub mod agent;
pub mod allocator;
