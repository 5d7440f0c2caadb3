//! Sort keys for DRF: lowest share first, then fewest allocations, then name.

use std::cmp::Ordering;
use std::sync::Arc;

/// A client's position in a DRF ordering.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    /// (Weighted) dominant share.
    share: f64,
    /// How many allocations the client has received.
    count: u64,
    /// The first 8 bytes of `name`, big-endian and zero-padded: orders most names
    /// without comparing strings.
    prefix: u64,
    /// Role name or framework id (unique within one ordering).
    name: Arc<str>,
    /// The role's or framework's slot in the book (not part of the order).
    pub(crate) id: u32,
}

impl Key {
    /// The key of client `id` called `name`.
    pub(crate) fn new(share: f64, count: u64, name: Arc<str>, id: u32) -> Self {
        let mut head = [0u8; 8];
        let n = name.len().min(8);
        head[..n].copy_from_slice(&name.as_bytes()[..n]);
        Self {
            share,
            count,
            prefix: u64::from_be_bytes(head),
            name,
            id,
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        // Equal prefixes say nothing (`"ab"` and `"ab\0"` pad alike): compare the names.
        self.share
            .total_cmp(&other.share)
            .then(self.count.cmp(&other.count))
            .then(self.prefix.cmp(&other.prefix))
            .then_with(|| self.name.cmp(&other.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(share: f64, count: u64, name: &str) -> Key {
        Key::new(share, count, Arc::from(name), 0)
    }

    #[test]
    fn orders_by_share_then_count_then_name() {
        assert!(key(0.1, 9, "z") < key(0.2, 0, "a"));
        assert!(key(0.1, 1, "z") < key(0.1, 2, "a"));
        let names = [
            "",
            "a",
            "ab",
            "ab\0",
            "ab\0\0\0\0\0\0\0",
            "abcdefgh",
            "abcdefgh1",
            "abcdefgi",
            "b",
            "fw-0009",
            "fw-0010",
            "é",
        ];
        for a in names {
            for b in names {
                assert_eq!(key(0.0, 0, a).cmp(&key(0.0, 0, b)), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }
}
