//! Resource arithmetic (scalars, ranges, sets; roles and reservations) and offer fitting.
