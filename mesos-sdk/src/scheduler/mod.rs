//! The scheduler runtime: the `Scheduler` trait, its handle and the event stream.
