//! DRF demo: several frameworks compete and dominant shares are shown.
#![warn(missing_docs)]
