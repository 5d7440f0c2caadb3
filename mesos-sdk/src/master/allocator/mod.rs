//! Hierarchical Dominant Resource Fairness allocation (pure, no I/O).
