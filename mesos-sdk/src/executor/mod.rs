//! The executor runtime: the `Executor` trait, environment configuration and its handle.
