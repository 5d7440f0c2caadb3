//! Master detection: which master to talk to.
