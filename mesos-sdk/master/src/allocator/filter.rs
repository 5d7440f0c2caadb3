//! Decline ("refuse") filters, as Mesos's refused-offer filter.

use std::time::Instant;

use mesos_sdk::resources::Resources;

/// A framework declined `resources` on one agent for one role until `expires`: offers
/// of those resources or fewer are withheld; offering more lifts the filter.
#[derive(Clone, Debug)]
pub(crate) struct OfferFilter {
    pub(crate) resources: Resources,
    pub(crate) expires: Instant,
}

impl OfferFilter {
    /// Whether this filter withholds an offer of `offered` (unallocated) at `now`.
    pub(crate) fn withholds(&self, offered: &Resources, now: Instant) -> bool {
        now < self.expires && self.resources.contains(offered)
    }
}
