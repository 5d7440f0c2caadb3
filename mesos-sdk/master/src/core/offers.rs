//! The allocation cycle: the allocator decides, the master turns each allocation into
//! an OFFERS event (one event per framework and cycle).

use std::collections::HashMap;

use tokio::time::Instant;
use tracing::debug;

use super::{Agent, Core, OfferEntry, events};
use crate::allocator::Allocation;
use mesos_sdk::v1;

/// The offer for one allocation on `agent`.
fn offer_of(id: String, agent: &Agent, allocation: Allocation) -> v1::Offer {
    v1::Offer {
        id: v1::OfferId { value: id },
        framework_id: v1::FrameworkId {
            value: allocation.framework_id,
        },
        agent_id: v1::AgentId {
            value: allocation.agent_id,
        },
        hostname: agent.info.hostname.clone(),
        url: Some(v1::Url {
            scheme: "http".to_string(),
            address: v1::Address {
                hostname: Some(agent.info.hostname.clone()),
                ip: None,
                port: agent.info.port.unwrap_or(5051),
            },
            path: Some("/agent(1)".to_string()),
            ..Default::default()
        }),
        resources: allocation.resources.into_vec(),
        attributes: agent.info.attributes.clone(),
        allocation_info: Some(v1::resource::AllocationInfo {
            role: Some(allocation.role),
        }),
        ..Default::default()
    }
}

impl Core {
    /// A framework's dominant share (the allocator's: the largest fraction of any
    /// scalar resource of the cluster that its offers, tasks and executors hold).
    pub(crate) fn dominant_share(&self, framework_id: &str) -> f64 {
        self.alloc.dominant_share(framework_id)
    }

    /// Runs one allocation cycle and sends the offers.
    pub(super) fn allocate(&mut self, now: Instant) {
        let allocations = self.alloc.allocate(now.into_std());
        let mut batches: HashMap<String, Vec<v1::Offer>> = HashMap::new();
        for allocation in allocations {
            let usable = self
                .agents
                .get(&allocation.agent_id)
                .is_some_and(Agent::connected);
            if !usable {
                // An unreachable agent's resources cannot be used: hand them back
                // (no filter) until it re-registers or is removed.
                self.alloc.recover(
                    &allocation.framework_id,
                    &allocation.agent_id,
                    &allocation.resources,
                    None,
                    now.into_std(),
                );
                continue;
            }
            let offer_id = self.new_offer_id();
            let resources = allocation.resources.clone();
            let Some(agent) = self.agents.get(&allocation.agent_id) else {
                continue;
            };
            let offer = offer_of(offer_id.clone(), agent, allocation);
            debug!(
                offer = %offer_id,
                framework = %offer.framework_id.value,
                agent = %offer.agent_id.value,
                "offering"
            );
            self.offers.insert(
                offer_id,
                OfferEntry {
                    offer: offer.clone(),
                    resources,
                    made: now,
                },
            );
            self.counters.offers_sent += 1;
            batches
                .entry(offer.framework_id.value.clone())
                .or_default()
                .push(offer);
        }
        for (fw_id, offers) in batches {
            if let Some(fw) = self.frameworks.get(&fw_id) {
                fw.send(events::offers(offers));
            }
        }
    }
}
