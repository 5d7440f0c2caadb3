//! The allocation cycle: every agent's free resources go, as one offer, to the
//! eligible (framework, role) chosen by hierarchical DRF: the role with the lowest
//! weighted dominant share, then the framework in it with the lowest dominant share;
//! ties go to the framework with fewer allocations so far.

use std::collections::HashMap;

use tokio::time::Instant;
use tracing::debug;

use super::pool::Pool;
use super::{Core, OfferEntry, events, is_terminal};
use crate::v1;

const KINDS: [&str; 4] = ["cpus", "mem", "disk", "gpus"];

/// Scalar quantities of the resources DRF shares are computed over.
type Amounts = [f64; 4];

fn amounts<'a>(resources: impl IntoIterator<Item = &'a v1::Resource>) -> Amounts {
    let mut out = [0.0; 4];
    for r in resources {
        if let (Some(i), Some(s)) = (KINDS.iter().position(|k| *k == r.name), r.scalar.as_ref()) {
            out[i] += s.value;
        }
    }
    out
}

fn add(into: &mut Amounts, more: &Amounts) {
    for (a, b) in into.iter_mut().zip(more) {
        *a += b;
    }
}

fn role_of(r: &v1::Resource) -> Option<&str> {
    r.allocation_info.as_ref().and_then(|a| a.role.as_deref())
}

/// What every framework and role holds (tasks, executors, offers), computed once per
/// cycle and updated as the cycle makes offers: O(tasks) per cycle.
struct Shares {
    total: Amounts,
    framework: HashMap<String, Amounts>,
    role: HashMap<String, Amounts>,
}

impl Shares {
    fn of(core: &Core) -> Self {
        let mut total = [0.0; 4];
        for agent in core.agents.values() {
            add(&mut total, &amounts(agent.total.resources()));
        }
        let mut framework: HashMap<String, Amounts> = HashMap::new();
        let mut role: HashMap<String, Amounts> = HashMap::new();
        for fw in core.frameworks.values() {
            let held = framework.entry(fw.id.clone()).or_default();
            for task in fw.tasks.values().filter(|t| !is_terminal(t.task.state)) {
                for r in &task.task.resources {
                    let one = amounts([r]);
                    add(held, &one);
                    if let Some(name) = role_of(r) {
                        add(role.entry(name.to_string()).or_default(), &one);
                    }
                }
            }
            for executor in fw.executors.values() {
                add(held, &amounts(executor.resources()));
            }
        }
        for o in core.offers.values() {
            let one = amounts(&o.offer.resources);
            add(
                framework
                    .entry(o.offer.framework_id.value.clone())
                    .or_default(),
                &one,
            );
            if let Some(name) = o
                .offer
                .allocation_info
                .as_ref()
                .and_then(|a| a.role.as_deref())
            {
                add(role.entry(name.to_string()).or_default(), &one);
            }
        }
        Shares {
            total,
            framework,
            role,
        }
    }

    fn share(&self, held: Option<&Amounts>) -> f64 {
        let Some(held) = held else { return 0.0 };
        held.iter()
            .zip(&self.total)
            .map(|(h, t)| if *t > 0.0 { h / t } else { 0.0 })
            .fold(0.0, f64::max)
    }

    /// A framework's dominant share.
    fn framework(&self, id: &str) -> f64 {
        self.share(self.framework.get(id))
    }

    /// A role's dominant share divided by its weight.
    fn role(&self, role: &str, weights: &HashMap<String, f64>) -> f64 {
        let weight = weights
            .get(role)
            .copied()
            .filter(|w| *w > 0.0)
            .unwrap_or(1.0);
        self.share(self.role.get(role)) / weight
    }

    fn offered(&mut self, framework: &str, role: &str, resources: &Pool) {
        let one = amounts(resources.resources());
        add(
            self.framework.entry(framework.to_string()).or_default(),
            &one,
        );
        add(self.role.entry(role.to_string()).or_default(), &one);
    }
}

impl Core {
    /// A framework's dominant share: the largest fraction of the cluster's cpus, mem,
    /// disk or gpus that its tasks, executors and offers hold.
    pub(crate) fn dominant_share(&self, framework_id: &str) -> f64 {
        Shares::of(self).framework(framework_id)
    }

    pub(super) fn allocate(&mut self, now: Instant) {
        let mut agent_ids: Vec<String> = self
            .agents
            .values()
            .filter(|a| !a.free.is_empty() && a.connected())
            .map(|a| a.id.clone())
            .collect();
        agent_ids.sort();
        let mut batches: HashMap<String, Vec<v1::Offer>> = HashMap::new();
        let mut shares = Shares::of(self);
        for agent_id in agent_ids {
            // Candidates: connected frameworks, per unsuppressed role, not filtered
            // for this agent, that can use some of the agent's free resources.
            // Ordered as hierarchical DRF: the role with the lowest weighted share
            // first, then the framework with the lowest share within it.
            let mut candidates: Vec<(f64, f64, u64, String, String)> = Vec::new();
            for fw in self.frameworks.values().filter(|f| f.connected()) {
                if fw.filters.get(&agent_id).is_some_and(|until| *until > now) {
                    continue;
                }
                let share = shares.framework(&fw.id);
                for role in fw.roles() {
                    if fw.suppressed.contains(&role) {
                        continue;
                    }
                    candidates.push((
                        shares.role(&role, &self.config.role_weights),
                        share,
                        fw.allocations,
                        fw.id.clone(),
                        role,
                    ));
                }
            }
            candidates.sort_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then(a.1.total_cmp(&b.1))
                    .then(a.2.cmp(&b.2))
                    .then(a.3.cmp(&b.3))
            });
            for (_, _, _, fw_id, role) in candidates {
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
                shares.offered(&fw_id, &role, &usable);
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
