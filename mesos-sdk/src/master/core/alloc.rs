//! The allocation cycle: every agent's free resources go, as one offer, to the
//! eligible (framework, role) with the lowest dominant share (DRF); ties go to the
//! framework with fewer allocations so far.

use tokio::time::Instant;
use tracing::debug;

use super::{Core, OfferEntry, events};
use crate::v1;

impl Core {
    /// The framework's dominant share: max over cpus/mem/disk/gpus of used+offered
    /// divided by the cluster total.
    pub(crate) fn dominant_share(&self, framework_id: &str) -> f64 {
        let Some(fw) = self.frameworks.get(framework_id) else {
            return 0.0;
        };
        let mut held = fw.used();
        for o in self
            .offers
            .values()
            .filter(|o| o.offer.framework_id.value == framework_id)
        {
            held.add_all(o.resources.resources());
        }
        ["cpus", "mem", "disk", "gpus"]
            .iter()
            .map(|name| {
                let total: f64 = self.agents.values().map(|a| a.total.scalar(name)).sum();
                if total > 0.0 {
                    held.scalar(name) / total
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max)
    }

    pub(super) fn allocate(&mut self, now: Instant) {
        let mut agent_ids: Vec<String> = self
            .agents
            .values()
            .filter(|a| !a.free.is_empty())
            .map(|a| a.id.clone())
            .collect();
        agent_ids.sort();
        let mut batches: std::collections::HashMap<String, Vec<v1::Offer>> = Default::default();
        for agent_id in agent_ids {
            // Candidates: connected frameworks, per unsuppressed role, not filtered
            // for this agent, that can use some of the agent's free resources.
            let mut candidates: Vec<(f64, u64, String, String)> = Vec::new();
            for fw in self.frameworks.values().filter(|f| f.connected()) {
                if fw.filters.get(&agent_id).is_some_and(|until| *until > now) {
                    continue;
                }
                let share = self.dominant_share(&fw.id);
                for role in fw.roles() {
                    if fw.suppressed.contains(&role) {
                        continue;
                    }
                    candidates.push((share, fw.allocations, fw.id.clone(), role));
                }
            }
            candidates.sort_by(|a, b| {
                a.0.partial_cmp(&b.0)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.1.cmp(&b.1))
                    .then(a.2.cmp(&b.2))
            });
            for (_, _, fw_id, role) in candidates {
                let Some(agent) = self.agents.get(&agent_id) else {
                    break;
                };
                let usable = agent.free.usable_by(&role);
                if usable.is_empty() {
                    continue;
                }
                let offer_id = self.new_offer_id();
                let agent = self.agents.get_mut(&agent_id).expect("agent present");
                agent.free.subtract(&usable);
                let offer = v1::Offer {
                    id: v1::OfferId {
                        value: offer_id.clone(),
                    },
                    framework_id: v1::FrameworkId {
                        value: fw_id.clone(),
                    },
                    agent_id: v1::AgentId {
                        value: agent_id.clone(),
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
                    resources: usable.allocated_to(&role),
                    attributes: agent.info.attributes.clone(),
                    allocation_info: Some(v1::resource::AllocationInfo {
                        role: Some(role.clone()),
                    }),
                    ..Default::default()
                };
                debug!(offer = %offer_id, framework = %fw_id, agent = %agent_id, %role, "offering");
                self.offers.insert(
                    offer_id,
                    OfferEntry {
                        offer: offer.clone(),
                        resources: usable,
                        made: now,
                    },
                );
                if let Some(fw) = self.frameworks.get_mut(&fw_id) {
                    fw.allocations += 1;
                }
                self.counters.offers_sent += 1;
                batches.entry(fw_id).or_default().push(offer);
                // One framework per agent and cycle, as each offer takes what is free.
                if self.agents.get(&agent_id).is_none_or(|a| a.free.is_empty()) {
                    break;
                }
            }
        }
        for (fw_id, offers) in batches {
            if let Some(fw) = self.frameworks.get(&fw_id) {
                fw.send(events::offers(offers));
            }
        }
    }
}
