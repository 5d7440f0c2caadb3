//! Pure builders for scheduler and executor calls (no I/O).
