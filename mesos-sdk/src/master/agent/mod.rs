//! Agents: run tasks as real processes and deliver their status updates reliably.

pub mod protocol;
