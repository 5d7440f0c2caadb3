//! The DRF bookkeeping: who holds what, and the orders of roles and frameworks.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use super::filter::OfferFilter;
use super::order::Key;
use super::quantities::Quantities;
use crate::resources::Resources;

/// `map[key]`, inserting a default first; allocates the key only when inserting.
pub(crate) fn slot<'a, V: Default>(map: &'a mut HashMap<String, V>, key: &str) -> &'a mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

/// A framework as the allocator sees it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Framework {
    pub(crate) roles: BTreeSet<String>,
    pub(crate) active: bool,
    pub(crate) suppressed: HashSet<String>,
    /// Decline filters by role, then agent.
    pub(crate) filters: HashMap<String, HashMap<String, Vec<OfferFilter>>>,
    /// Scalars held over all roles.
    pub(crate) allocated: Quantities,
    /// Scalars held per role (the within-role DRF order uses these).
    pub(crate) by_role: HashMap<String, Quantities>,
    /// Allocations received per role (the first tie-breaker).
    pub(crate) counts: HashMap<String, u64>,
}

impl Framework {
    fn eligible(&self, role: &str) -> bool {
        self.active && self.roles.contains(role) && !self.suppressed.contains(role)
    }

    fn withholds(&self, role: &str, agent_id: &str, offer: &Resources, now: Instant) -> bool {
        self.filters
            .get(role)
            .and_then(|by_agent| by_agent.get(agent_id))
            .is_some_and(|fs| fs.iter().any(|f| f.withholds(offer, now)))
    }
}

/// A role's holdings and its frameworks in DRF order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Role {
    pub(crate) allocated: Quantities,
    pub(crate) count: u64,
    /// Eligible frameworks (active, subscribed, not suppressed), lowest share first.
    order: BTreeSet<Key>,
    /// Each eligible framework's key in `order`.
    keys: HashMap<String, Key>,
    /// This role's key in [`Book::order`], while it has eligible frameworks.
    key: Option<Key>,
}

/// Everything but the agents: shares, orders, filters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Book {
    pub(crate) frameworks: HashMap<String, Framework>,
    pub(crate) roles: HashMap<String, Role>,
    pub(crate) weights: HashMap<String, f64>,
    /// Scalars of all agents.
    pub(crate) total: Quantities,
    /// Roles with eligible frameworks, lowest weighted share first.
    order: BTreeSet<Key>,
    /// Set when `total` changed, so every share must be recomputed.
    pub(crate) dirty: bool,
}

impl Book {
    fn weight(&self, role: &str) -> f64 {
        self.weights.get(role).copied().unwrap_or(1.0)
    }

    /// Puts `framework_id` at its place in `role`'s order, or takes it out if it is not
    /// eligible there; then does the same for the role.
    pub(crate) fn reindex(&mut self, framework_id: &str, role: &str) {
        let entry = slot(&mut self.roles, role);
        if let Some(old) = entry.keys.remove(framework_id) {
            entry.order.remove(&old);
        }
        if let Some(fw) = self
            .frameworks
            .get(framework_id)
            .filter(|f| f.eligible(role))
        {
            let key = Key {
                share: fw.by_role.get(role).map_or(0.0, |q| q.share(&self.total)),
                count: fw.counts.get(role).copied().unwrap_or(0),
                name: framework_id.to_owned(),
            };
            entry.order.insert(key.clone());
            entry.keys.insert(framework_id.to_owned(), key);
        }
        self.reindex_role(role);
    }

    /// Puts `role` at its place in the role order (if it has eligible frameworks).
    pub(crate) fn reindex_role(&mut self, role: &str) {
        let weight = self.weight(role);
        let Some(entry) = self.roles.get_mut(role) else {
            return;
        };
        if let Some(old) = entry.key.take() {
            self.order.remove(&old);
        }
        if !entry.order.is_empty() {
            let key = Key {
                share: entry.allocated.share(&self.total) / weight,
                count: entry.count,
                name: role.to_owned(),
            };
            self.order.insert(key.clone());
            entry.key = Some(key);
        }
    }

    /// Reindexes a framework in every role it is subscribed to.
    pub(crate) fn reindex_framework(&mut self, framework_id: &str) {
        let Some(fw) = self.frameworks.get(framework_id) else {
            return;
        };
        let roles: Vec<String> = fw.roles.iter().cloned().collect();
        for role in roles {
            self.reindex(framework_id, &role);
        }
    }

    /// Recomputes every share (after the cluster total changed).
    pub(crate) fn rebuild(&mut self) {
        self.order.clear();
        for role in self.roles.values_mut() {
            role.order.clear();
            role.keys.clear();
            role.key = None;
        }
        let pairs: Vec<(String, String)> = self
            .frameworks
            .iter()
            .flat_map(|(id, fw)| fw.roles.iter().map(move |r| (id.clone(), r.clone())))
            .collect();
        for (id, role) in pairs {
            self.reindex(&id, &role);
        }
        self.dirty = false;
    }

    /// Records that `framework_id` received (`sign = 1`) or returned (`sign = -1`)
    /// `resources` in `role`.
    pub(crate) fn charge(
        &mut self,
        framework_id: &str,
        role: &str,
        resources: &Resources,
        sign: i64,
    ) {
        let entry = slot(&mut self.roles, role);
        entry.allocated.apply(resources, sign);
        if sign > 0 {
            entry.count += 1;
        }
        if let Some(fw) = self.frameworks.get_mut(framework_id) {
            fw.allocated.apply(resources, sign);
            slot(&mut fw.by_role, role).apply(resources, sign);
            if sign > 0 {
                *slot(&mut fw.counts, role) += 1;
            }
        }
        self.reindex(framework_id, role);
    }

    /// The next offer on one agent: the lowest weighted-share role with something
    /// allocatable there, and its lowest-share framework that has not filtered it.
    /// The offer is `None` when it is everything in `available`.
    pub(crate) fn pick(
        &self,
        agent_id: &str,
        available: &Resources,
        now: Instant,
    ) -> Option<(String, String, Option<Resources>)> {
        let unreserved = available.iter().all(|r| r.reservations.is_empty());
        for role_key in &self.order {
            let role = &role_key.name;
            let part = (!unreserved).then(|| available.allocatable_to(role));
            let offer = part.as_ref().unwrap_or(available);
            if offer.is_empty() {
                continue;
            }
            for fw_key in &self.roles[role].order {
                let fw = &self.frameworks[&fw_key.name];
                if !fw.withholds(role, agent_id, offer, now) {
                    return Some((role.clone(), fw_key.name.clone(), part));
                }
            }
        }
        None
    }

    /// Drops expired decline filters.
    pub(crate) fn expire_filters(&mut self, now: Instant) {
        for fw in self.frameworks.values_mut() {
            if fw.filters.is_empty() {
                continue;
            }
            for by_agent in fw.filters.values_mut() {
                for fs in by_agent.values_mut() {
                    fs.retain(|f| now < f.expires);
                }
                by_agent.retain(|_, fs| !fs.is_empty());
            }
            fw.filters.retain(|_, by_agent| !by_agent.is_empty());
        }
    }
}
