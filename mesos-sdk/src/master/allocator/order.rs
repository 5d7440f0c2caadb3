//! Sort keys for DRF: lowest share first, then fewest allocations, then name.

use std::cmp::Ordering;

/// A client's position in a DRF ordering.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    /// (Weighted) dominant share.
    pub(crate) share: f64,
    /// How many allocations the client has received.
    pub(crate) count: u64,
    /// Role name or framework id.
    pub(crate) name: String,
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
        self.share
            .total_cmp(&other.share)
            .then(self.count.cmp(&other.count))
            .then_with(|| self.name.cmp(&other.name))
    }
}
