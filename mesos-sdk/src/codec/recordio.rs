//! RecordIO framing (placeholder; filled in by the RecordIO work).
