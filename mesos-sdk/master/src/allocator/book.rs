//! The DRF bookkeeping: who holds what, and the orders of roles and frameworks.
//!
//! Frameworks and roles live in slabs and are named by small integer ids inside the
//! allocator, so that one offer costs no hashing and no string copies: only the public
//! entry points translate ids given as strings.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::filter::OfferFilter;
use super::order::{Key, Order};
use super::quantities::{Names, Quantities};
use mesos_sdk::resources::Resources;

/// A framework's slot in [`Book`].
pub(crate) type FwId = u32;
/// A role's slot in [`Book`].
pub(crate) type RoleId = u32;

/// A framework as the allocator sees it.
#[derive(Clone, Debug)]
pub(crate) struct Framework {
    pub(crate) id: Arc<str>,
    pub(crate) roles: BTreeSet<String>,
    pub(crate) active: bool,
    pub(crate) suppressed: HashSet<String>,
    /// Decline filters by role, then agent.
    pub(crate) filters: HashMap<String, HashMap<String, Vec<OfferFilter>>>,
    /// Scalars held over all roles.
    pub(crate) allocated: Quantities,
    /// Per-role state, for every role the framework was subscribed to or held in.
    by_role: Vec<FwRole>,
}

/// A framework's state in one role.
#[derive(Clone, Debug)]
struct FwRole {
    role: RoleId,
    /// Scalars held in this role (the within-role DRF order uses these).
    allocated: Quantities,
    /// Allocations received in this role (the first tie-breaker).
    count: u64,
    /// The framework's key in the role's order, while it is eligible there.
    key: Option<Key>,
}

impl Framework {
    /// A new framework subscribed to `roles`.
    pub(crate) fn new(id: &str, roles: &[String], active: bool) -> Self {
        Self {
            id: Arc::from(id),
            roles: roles.iter().cloned().collect(),
            active,
            suppressed: HashSet::new(),
            filters: HashMap::new(),
            allocated: Quantities::default(),
            by_role: Vec::new(),
        }
    }

    fn eligible(&self, role: &str) -> bool {
        self.active && self.roles.contains(role) && !self.suppressed.contains(role)
    }

    fn withholds(&self, role: &str, agent_id: &str, offer: &Resources, now: Instant) -> bool {
        !self.filters.is_empty()
            && self
                .filters
                .get(role)
                .and_then(|by_agent| by_agent.get(agent_id))
                .is_some_and(|fs| fs.iter().any(|f| f.withholds(offer, now)))
    }

    fn role_mut(&mut self, role: RoleId) -> &mut FwRole {
        let i = match self.by_role.iter().position(|e| e.role == role) {
            Some(i) => i,
            None => {
                self.by_role.push(FwRole {
                    role,
                    allocated: Quantities::default(),
                    count: 0,
                    key: None,
                });
                self.by_role.len() - 1
            }
        };
        &mut self.by_role[i]
    }
}

/// A role's holdings and its frameworks in DRF order.
#[derive(Clone, Debug)]
struct Role {
    name: Arc<str>,
    weight: f64,
    allocated: Quantities,
    count: u64,
    /// Eligible frameworks (active, subscribed, not suppressed), lowest share first.
    order: Order,
    /// This role's key in [`Book::order`], while it has eligible frameworks.
    key: Option<Key>,
}

/// Everything but the agents: shares, orders, filters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Book {
    frameworks: Vec<Option<Framework>>,
    framework_ids: HashMap<Arc<str>, FwId>,
    /// Each framework slot's id (stale for an empty slot): breaks ties in the orders.
    fw_names: Vec<Arc<str>>,
    /// Empty slots of `frameworks`.
    free: Vec<FwId>,
    roles: Vec<Role>,
    role_ids: HashMap<Arc<str>, RoleId>,
    /// Each role's name, by slot: breaks ties in the role order.
    role_names: Vec<Arc<str>>,
    /// Scalars of all agents.
    total: Quantities,
    /// Numbers for scalar resource names.
    names: Names,
    /// Scratch space for [`Book::charge`].
    delta: Vec<(usize, i64)>,
    /// Roles with eligible frameworks, lowest weighted share first.
    order: Order,
    /// Set when `total` changed, so every share must be recomputed.
    pub(crate) dirty: bool,
}

impl Book {
    /// The slot of a known framework.
    pub(crate) fn framework_id(&self, id: &str) -> Option<FwId> {
        self.framework_ids.get(id).copied()
    }

    /// A framework by slot.
    pub(crate) fn framework(&self, fw: FwId) -> Option<&Framework> {
        self.frameworks.get(fw as usize).and_then(Option::as_ref)
    }

    /// A framework by slot, mutably.
    pub(crate) fn framework_mut(&mut self, fw: FwId) -> Option<&mut Framework> {
        self.frameworks
            .get_mut(fw as usize)
            .and_then(Option::as_mut)
    }

    /// All frameworks, mutably.
    pub(crate) fn frameworks_mut(&mut self) -> impl Iterator<Item = &mut Framework> {
        self.frameworks.iter_mut().flatten()
    }

    /// Stores a new framework (its id must be unknown) and returns its slot.
    pub(crate) fn insert_framework(&mut self, fw: Framework) -> FwId {
        let id = fw.id.clone();
        let slot = match self.free.pop() {
            Some(slot) => {
                self.frameworks[slot as usize] = Some(fw);
                self.fw_names[slot as usize] = id.clone();
                slot
            }
            None => {
                self.frameworks.push(Some(fw));
                self.fw_names.push(id.clone());
                FwId::try_from(self.frameworks.len() - 1).unwrap_or(FwId::MAX)
            }
        };
        self.framework_ids.insert(id, slot);
        slot
    }

    /// Takes a framework out of every order and forgets it.
    pub(crate) fn remove_framework(&mut self, fw: FwId) {
        if let Some(f) = self.framework_mut(fw) {
            f.active = false;
        }
        self.reindex_framework(fw);
        if let Some(f) = self.frameworks.get_mut(fw as usize).and_then(Option::take) {
            self.framework_ids.remove(&f.id);
            self.free.push(fw);
        }
    }

    /// The slot of role `name`, creating it if needed.
    pub(crate) fn role_id(&mut self, name: &str) -> RoleId {
        if let Some(&id) = self.role_ids.get(name) {
            return id;
        }
        let name: Arc<str> = Arc::from(name);
        let id = RoleId::try_from(self.roles.len()).unwrap_or(RoleId::MAX);
        self.roles.push(Role {
            name: name.clone(),
            weight: 1.0,
            allocated: Quantities::default(),
            count: 0,
            order: Order::default(),
            key: None,
        });
        self.role_names.push(name.clone());
        self.role_ids.insert(name, id);
        id
    }

    /// A role's name.
    pub(crate) fn role_name(&self, role: RoleId) -> &Arc<str> {
        &self.roles[role as usize].name
    }

    /// Sets a role's weight and moves it in the role order.
    pub(crate) fn set_weight(&mut self, role: &str, weight: f64) {
        let role = self.role_id(role);
        self.roles[role as usize].weight = weight;
        self.reindex_role(role);
    }

    /// Adds (`sign = 1`) or removes (`sign = -1`) an agent's scalars to the cluster
    /// total; shares are recomputed at the next [`Book::rebuild`].
    pub(crate) fn add_total(&mut self, resources: &Resources, sign: i64) {
        self.names.scalars(resources, sign, &mut self.delta);
        self.total.apply(&self.delta);
        self.dirty = true;
    }

    /// The numbering of scalar resource names.
    #[cfg(test)]
    pub(crate) fn names(&self) -> &Names {
        &self.names
    }

    /// The scalars (times `sign`) of the last [`Book::add_total`], [`Book::charge`] or
    /// [`Book::charge_quantities`].
    pub(crate) fn last_delta(&self) -> &[(usize, i64)] {
        &self.delta
    }

    /// A framework's dominant share over all its roles.
    pub(crate) fn framework_share(&self, id: &str) -> f64 {
        self.framework_id(id)
            .and_then(|fw| self.framework(fw))
            .map_or(0.0, |f| f.allocated.share(&self.total))
    }

    /// A role's dominant share (not weighted).
    pub(crate) fn role_share(&self, role: &str) -> f64 {
        self.role_ids.get(role).map_or(0.0, |&r| {
            self.roles[r as usize].allocated.share(&self.total)
        })
    }

    /// Puts framework `fw` at its place in `role`'s order, or takes it out if it is not
    /// eligible there; then does the same for the role.
    pub(crate) fn reindex(&mut self, fw: FwId, role: RoleId) {
        let Some(f) = self
            .frameworks
            .get_mut(fw as usize)
            .and_then(Option::as_mut)
        else {
            return;
        };
        let r = &mut self.roles[role as usize];
        let eligible = f.eligible(&r.name);
        let entry = f.role_mut(role);
        let names = &self.fw_names;
        let name = |id: FwId| &*names[id as usize];
        let new = eligible.then(|| {
            let share = entry.allocated.share(&self.total);
            match entry.key {
                Some(old) => old.with(share, entry.count),
                None => Key::new(share, entry.count, name(fw), fw),
            }
        });
        r.order.update(entry.key, new, &name);
        entry.key = new;
        self.reindex_role(role);
    }

    /// Puts `role` at its place in the role order (if it has eligible frameworks).
    pub(crate) fn reindex_role(&mut self, role: RoleId) {
        let r = &mut self.roles[role as usize];
        let names = &self.role_names;
        let name = |id: RoleId| &*names[id as usize];
        let new = (!r.order.is_empty()).then(|| {
            let share = r.allocated.share(&self.total) / r.weight;
            match r.key {
                Some(old) => old.with(share, r.count),
                None => Key::new(share, r.count, name(role), role),
            }
        });
        self.order.update(r.key, new, &name);
        r.key = new;
    }

    /// Reindexes a framework in every role it is subscribed to.
    pub(crate) fn reindex_framework(&mut self, fw: FwId) {
        let Some(f) = self.framework(fw) else {
            return;
        };
        let roles: Vec<String> = f.roles.iter().cloned().collect();
        for role in roles {
            let role = self.role_id(&role);
            self.reindex(fw, role);
        }
    }

    /// Recomputes every share (after the cluster total changed).
    pub(crate) fn rebuild(&mut self) {
        self.order.clear();
        for role in &mut self.roles {
            role.order.clear();
            role.key = None;
        }
        for f in self.frameworks.iter_mut().flatten() {
            for entry in &mut f.by_role {
                entry.key = None;
            }
        }
        for fw in 0..self.frameworks.len() {
            self.reindex_framework(FwId::try_from(fw).unwrap_or(FwId::MAX));
        }
        self.dirty = false;
    }

    /// Records that framework `fw` received (`sign = 1`) or returned (`sign = -1`)
    /// `resources` in `role`, and moves both in their orders.
    pub(crate) fn charge(&mut self, fw: FwId, role: RoleId, resources: &Resources, sign: i64) {
        self.names.scalars(resources, sign, &mut self.delta);
        self.charge_delta(fw, role, sign);
    }

    /// [`Book::charge`] of resources whose scalars are `q` (already numbered: no
    /// resource names to look up), received by `fw`.
    pub(crate) fn charge_quantities(&mut self, fw: FwId, role: RoleId, q: &Quantities) {
        q.delta(&mut self.delta);
        self.charge_delta(fw, role, 1);
    }

    /// [`Book::charge`] of the scalars in `self.delta`.
    fn charge_delta(&mut self, fw: FwId, role: RoleId, sign: i64) {
        let r = &mut self.roles[role as usize];
        r.allocated.apply(&self.delta);
        if sign > 0 {
            r.count += 1;
        }
        let Some(f) = self
            .frameworks
            .get_mut(fw as usize)
            .and_then(Option::as_mut)
        else {
            return;
        };
        f.allocated.apply(&self.delta);
        let entry = f.role_mut(role);
        entry.allocated.apply(&self.delta);
        if sign > 0 {
            entry.count += 1;
        }
        // Only the share and count changed, not whether the framework is eligible: it
        // is in the order exactly when it has a key (see `reindex`).
        if let Some(old) = entry.key {
            let new = old.with(entry.allocated.share(&self.total), entry.count);
            let names = &self.fw_names;
            r.order.replace(&old, new, &|id: FwId| &*names[id as usize]);
            entry.key = Some(new);
        }
        self.reindex_role(role);
    }

    /// The next offer on one agent: the lowest weighted-share role with something
    /// allocatable there, and its lowest-share framework that has not filtered it.
    /// The offer is `None` when it is everything in `available`.
    /// `reserved` says whether the agent has reserved resources at all (if not,
    /// `available` need not be searched for any).
    pub(crate) fn pick(
        &self,
        agent_id: &str,
        available: &Resources,
        reserved: bool,
        now: Instant,
    ) -> Option<(RoleId, FwId, Option<Resources>)> {
        let unreserved = !reserved || available.iter().all(|r| r.reservations.is_empty());
        for role_key in self.order.iter() {
            let role = &self.roles[role_key.id as usize];
            let part = (!unreserved).then(|| available.allocatable_to(&role.name));
            let offer = part.as_ref().unwrap_or(available);
            if offer.is_empty() {
                continue;
            }
            for fw_key in role.order.iter() {
                let Some(f) = self.framework(fw_key.id) else {
                    continue;
                };
                if !f.withholds(&role.name, agent_id, offer, now) {
                    return Some((role_key.id, fw_key.id, part));
                }
            }
        }
        None
    }

    /// Drops expired decline filters.
    pub(crate) fn expire_filters(&mut self, now: Instant) {
        for fw in self.frameworks_mut() {
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
