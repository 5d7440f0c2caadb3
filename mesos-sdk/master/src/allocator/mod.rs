//! Hierarchical Dominant Resource Fairness allocation (pure, no I/O).
//!
//! [`Allocator`] decides who is offered what, the way Mesos's hierarchical DRF
//! allocator does, but without timers or messages: the master calls
//! [`Allocator::allocate`] once per allocation interval and turns each [`Allocation`]
//! into an offer, and reports back with [`Allocator::recover`] when an offer is
//! declined, rescinded or partly used, or when a task ends.
//!
//! One cycle visits every agent with available resources. For each, it picks the role
//! with the lowest *weighted* dominant share (share / weight; the share counts
//! everything allocated to the role) among roles with an eligible framework, then, in
//! that role, the framework with the lowest dominant share. A framework is eligible
//! when it is active, subscribed to the role, not suppressed for it, and has no
//! unexpired decline filter covering what would be offered on that agent. Ties go to
//! fewer allocations so far, then to the lexically smaller name. The framework is
//! offered everything on the agent that the role may use (unreserved resources and
//! those reserved to the role or an ancestor), marked as allocated to the role; what
//! remains (reservations for other roles) goes to the next role in order.
//!
//! Each cycle visits the agents in a fresh random order, as Mesos does, so that no
//! agent is always offered first ([`AllocatorConfig::seed`] makes it reproducible).
//! Orders are kept in sorted ring buffers updated as shares change (the client that
//! just received an offer moves back, usually to near the end), so a cycle costs
//! O(agents × log(roles + frameworks)) comparisons when nothing is filtered.
//!
//! ```
//! use std::time::Instant;
//! use mesos_master::allocator::Allocator;
//! use mesos_sdk::resources::Resources;
//!
//! let mut alloc = Allocator::new();
//! alloc.add_agent("agent-1", Resources::parse("cpus:4;mem:4096")?);
//! alloc.add_framework("fw-1", &["web".to_string()]);
//! let offers = alloc.allocate(Instant::now());
//! assert_eq!(offers.len(), 1);
//! assert_eq!(offers[0].role, "web");
//! assert_eq!(offers[0].resources, Resources::parse("cpus:4;mem:4096")?.allocate("web"));
//! assert_eq!(alloc.dominant_share("fw-1"), 1.0);
//! # Ok::<(), mesos_sdk::resources::ResourcesError>(())
//! ```

mod book;
pub mod convert;
mod filter;
mod order;
mod quantities;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use book::{Book, Framework, FwId, RoleId};
use filter::OfferFilter;
use quantities::Quantities;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use smallvec::SmallVec;

use mesos_sdk::resources::Resources;

/// Allocator settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AllocatorConfig {
    /// How often the master runs [`Allocator::allocate`] (Mesos's
    /// `--allocation_interval`, 1 s by default). A decline filter lasts at least this
    /// long, so it cannot expire before the next cycle has honoured it.
    pub allocation_interval: Duration,
    /// Seed of the random order in which each cycle visits the agents (as Mesos
    /// shuffles them, so that no agent is always offered first). `None` (the default)
    /// seeds from the operating system; set it for reproducible cycles, e.g. in tests.
    pub seed: Option<u64>,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        Self {
            allocation_interval: Duration::from_secs(1),
            seed: None,
        }
    }
}

impl AllocatorConfig {
    /// Sets [`AllocatorConfig::allocation_interval`].
    pub fn allocation_interval(mut self, interval: Duration) -> Self {
        self.allocation_interval = interval;
        self
    }

    /// Sets [`AllocatorConfig::seed`], making the agent visiting order reproducible.
    ///
    /// ```
    /// use mesos_master::allocator::{Allocator, AllocatorConfig};
    ///
    /// let alloc = Allocator::with_config(AllocatorConfig::default().seed(7));
    /// # drop(alloc);
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

/// One offer to make: `resources` (allocated to `role`) on `agent_id` for `framework_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct Allocation {
    /// The framework to offer to.
    pub framework_id: String,
    /// The role the resources are allocated to (`Offer.allocation_info.role`).
    pub role: String,
    /// The agent the resources are on.
    pub agent_id: String,
    /// The resources, each with `allocation_info.role` set to `role`.
    pub resources: Resources,
}

/// What one framework holds on an agent in one role (unallocated form, never empty:
/// the role is `role`).
#[derive(Clone, Debug)]
struct Held {
    fw: FwId,
    role: RoleId,
    /// `None` stands for *the rest*: everything on the agent that is neither available
    /// nor in one of the agent's other holdings (at most one holding per agent is
    /// `None`). An offer of everything available (the common case, idle or partly used
    /// agent) is recorded so and costs no copy; moving resources between the available
    /// pool and the other holdings leaves the rest unchanged.
    resources: Option<Resources>,
}

#[derive(Clone, Debug)]
struct Agent {
    id: Arc<str>,
    total: Resources,
    /// Not allocated to anyone (unallocated form).
    available: Resources,
    /// The scalars of `available`, kept up to date with it: offering everything available
    /// (the common case) then needs no resource names looked up.
    available_q: Quantities,
    /// Whether `total` has reserved resources (if not, neither has `available`).
    reserved: bool,
    /// What frameworks hold here, by framework and role (at most one entry per pair).
    held: SmallVec<[Held; 2]>,
    /// Offered in allocation cycles (an operator's DEACTIVATE_AGENT turns it off).
    active: bool,
}

/// Whether any of `r` is reserved.
fn has_reservations(r: &Resources) -> bool {
    r.iter().any(|r| !r.reservations.is_empty())
}

impl Agent {
    /// Everything neither available nor held explicitly: what a `None` holding stands
    /// for.
    fn rest(&self) -> Resources {
        let mut rest = self.total.clone();
        if !self.available.is_empty() {
            rest -= &self.available;
        }
        for r in self.held.iter().filter_map(|h| h.resources.as_ref()) {
            rest -= r;
        }
        rest
    }

    /// What `h` (one of this agent's holdings) stands for.
    fn resources_of<'a>(&'a self, h: &'a Held) -> Cow<'a, Resources> {
        match &h.resources {
            Some(r) => Cow::Borrowed(r),
            None if self.held.len() == 1 && self.available.is_empty() => Cow::Borrowed(&self.total),
            None => Cow::Owned(self.rest()),
        }
    }

    /// Holding `i`, spelled out so that it can be changed.
    fn held_mut(&mut self, i: usize) -> &mut Resources {
        if self.held[i].resources.is_none() {
            let rest = self.rest();
            self.held[i].resources = Some(rest);
        }
        self.held[i].resources.get_or_insert_with(Resources::new)
    }

    /// Reads what offering this agent will read, so that the memory is on its way to
    /// the cache while the agent before it is offered (agents are visited in random
    /// order, so at large sizes their memory is rarely cached). Has no effect otherwise.
    fn touch(&self) {
        let first_labels = self
            .available
            .iter()
            .filter(|r| r.allocation_info.is_some())
            .count();
        std::hint::black_box((
            self.id.as_bytes().first(),
            first_labels,
            self.active,
            self.reserved,
            self.held.len(),
            self.available_q.is_empty(),
        ));
    }

    /// Moves `part` (everything available if `None`) from the available pool into what
    /// `fw` holds here in `role`, and returns it (unallocated form).
    fn give(&mut self, fw: FwId, role: RoleId, part: Option<Resources>) -> Resources {
        let existing = self.held.iter().position(|h| h.fw == fw && h.role == role);
        if let Some(i) = existing {
            // Spelled out before the available pool changes, while the rest is right.
            self.held_mut(i);
        }
        let everything = part.is_none();
        let offer = match part {
            Some(part) => {
                self.available -= &part;
                part
            }
            None => std::mem::take(&mut self.available),
        };
        match existing {
            Some(i) => *self.held_mut(i) += &offer,
            None => {
                // The whole pool, and no other holding stands for the rest: this one
                // can (it is exactly what was available).
                let lazy = everything && self.held.iter().all(|h| h.resources.is_some());
                self.held.push(Held {
                    fw,
                    role,
                    resources: (!lazy).then(|| offer.clone()),
                });
            }
        }
        offer
    }
}

/// A hierarchical DRF allocator. See the [module docs](self) for the algorithm.
#[derive(Clone, Debug)]
pub struct Allocator {
    config: AllocatorConfig,
    agents: Vec<Agent>,
    /// Each agent's index in `agents`.
    agent_ids: HashMap<Arc<str>, usize>,
    book: Book,
    /// Shuffles the agent visiting order of each cycle.
    rng: SmallRng,
    /// The visiting order of the last cycle (kept to reuse its buffer).
    visit: Vec<usize>,
}

impl Default for Allocator {
    fn default() -> Self {
        Self::with_config(AllocatorConfig::default())
    }
}

impl Allocator {
    /// An allocator with the default [`AllocatorConfig`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An allocator with the given settings.
    pub fn with_config(config: AllocatorConfig) -> Self {
        let rng = match config.seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::from_os_rng(),
        };
        Self {
            config,
            agents: Vec::new(),
            agent_ids: HashMap::new(),
            book: Book::default(),
            rng,
            visit: Vec::new(),
        }
    }

    /// Adds an agent with everything on it available. Re-adding an agent first removes
    /// it (returning what it held).
    pub fn add_agent(&mut self, agent_id: &str, total: Resources) {
        if self.agent_ids.contains_key(agent_id) {
            tracing::debug!(agent_id, "agent added again; replacing it");
            self.remove_agent(agent_id);
        }
        let total = total.unallocate();
        self.book.add_total(&total, 1);
        let mut available_q = Quantities::default();
        available_q.apply(self.book.last_delta());
        let id: Arc<str> = Arc::from(agent_id);
        self.agent_ids.insert(id.clone(), self.agents.len());
        self.agents.push(Agent {
            id,
            available: total.clone(),
            available_q,
            reserved: has_reservations(&total),
            total,
            held: SmallVec::new(),
            active: true,
        });
    }

    /// Stops offering an agent's resources (Mesos's `deactivateSlave`, the operator's
    /// DEACTIVATE_AGENT): what frameworks hold there stays theirs. Unknown agents are
    /// ignored.
    pub fn deactivate_agent(&mut self, agent_id: &str) {
        self.set_agent_active(agent_id, false);
    }

    /// Offers an agent's resources again after [`Allocator::deactivate_agent`].
    pub fn activate_agent(&mut self, agent_id: &str) {
        self.set_agent_active(agent_id, true);
    }

    fn set_agent_active(&mut self, agent_id: &str, active: bool) {
        if let Some(&i) = self.agent_ids.get(agent_id) {
            self.agents[i].active = active;
        }
    }

    /// Whether an agent is offered in allocation cycles (`false` if unknown).
    pub fn is_agent_active(&self, agent_id: &str) -> bool {
        self.agent_ids
            .get(agent_id)
            .is_some_and(|&i| self.agents[i].active)
    }

    /// Removes an agent; whatever frameworks held there stops counting in their shares.
    pub fn remove_agent(&mut self, agent_id: &str) {
        let Some(i) = self.agent_ids.remove(agent_id) else {
            return;
        };
        let agent = self.agents.swap_remove(i);
        if let Some(moved) = self.agents.get(i) {
            if let Some(slot) = self.agent_ids.get_mut(&moved.id) {
                *slot = i;
            }
        }
        for h in &agent.held {
            self.book.charge(h.fw, h.role, &agent.resources_of(h), -1);
        }
        for fw in self.book.frameworks_mut() {
            for by_agent in fw.filters.values_mut() {
                by_agent.remove(agent_id);
            }
        }
        self.book.add_total(&agent.total, -1);
    }

    /// Adds an active framework subscribed to `roles`. Adding a known framework updates
    /// its roles and activates it.
    pub fn add_framework(&mut self, framework_id: &str, roles: &[String]) {
        if self.book.framework_id(framework_id).is_some() {
            self.update_framework_roles(framework_id, roles);
            self.activate_framework(framework_id);
            return;
        }
        let fw = self
            .book
            .insert_framework(Framework::new(framework_id, roles, true));
        self.book.reindex_framework(fw);
    }

    /// Removes a framework; everything it held goes back to the agents.
    pub fn remove_framework(&mut self, framework_id: &str) {
        let Some(fw) = self.book.framework_id(framework_id) else {
            return;
        };
        for agent in &mut self.agents {
            let mut i = 0;
            while i < agent.held.len() {
                if agent.held[i].fw != fw {
                    i += 1;
                    continue;
                }
                let h = agent.held.swap_remove(i);
                // The rest is unchanged by what this loop moved to `available` so far.
                let resources = h.resources.unwrap_or_else(|| agent.rest());
                self.book.charge(fw, h.role, &resources, -1);
                agent.available_q.apply_signed(self.book.last_delta(), -1);
                agent.available += resources;
            }
        }
        self.book.remove_framework(fw);
    }

    /// Makes a framework eligible for offers again (it reconnected).
    pub fn activate_framework(&mut self, framework_id: &str) {
        self.set_active(framework_id, true);
    }

    /// Stops offering to a framework (it disconnected); it keeps what it holds.
    pub fn deactivate_framework(&mut self, framework_id: &str) {
        self.set_active(framework_id, false);
    }

    fn set_active(&mut self, framework_id: &str, active: bool) {
        let Some(fw) = self.book.framework_id(framework_id) else {
            return;
        };
        if let Some(f) = self.book.framework_mut(fw) {
            f.active = active;
        }
        self.book.reindex_framework(fw);
    }

    /// Changes the roles a framework is subscribed to. What it holds in a dropped role
    /// keeps counting for that role until recovered; suppression of dropped roles is
    /// forgotten.
    pub fn update_framework_roles(&mut self, framework_id: &str, roles: &[String]) {
        let Some(fw) = self.book.framework_id(framework_id) else {
            return;
        };
        let Some(f) = self.book.framework_mut(fw) else {
            return;
        };
        let old = std::mem::replace(&mut f.roles, roles.iter().cloned().collect());
        f.suppressed.retain(|r| roles.contains(r));
        for role in old.iter().chain(roles) {
            let role = self.book.role_id(role);
            self.book.reindex(fw, role);
        }
    }

    /// Sets a role's weight (default 1): a role of weight 2 is entitled to twice the
    /// dominant share of a role of weight 1. A weight that is not a positive finite
    /// number is ignored (logged as a warning).
    pub fn set_weight(&mut self, role: &str, weight: f64) {
        if !(weight.is_finite() && weight > 0.0) {
            tracing::warn!(
                role,
                weight,
                "ignoring role weight: must be a positive number"
            );
            return;
        }
        self.book.set_weight(role, weight);
    }

    /// Returns resources a framework held on an agent: an offer declined, rescinded or
    /// partly used, or the resources of a finished task.
    ///
    /// Resources carrying `allocation_info` are returned to that role; unallocated ones
    /// to the first of the framework's roles on that agent that holds them. Anything the
    /// framework does not hold there is ignored. With `refuse` set and non-zero (the
    /// decline's `Filters.refuse_seconds`), the framework is not offered these
    /// resources (or fewer) on this agent in this role until `now + refuse` (at least
    /// one allocation interval).
    pub fn recover(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        resources: &Resources,
        refuse: Option<Duration>,
        now: Instant,
    ) {
        let Some(&ai) = self.agent_ids.get(agent_id) else {
            tracing::debug!(framework_id, agent_id, "recover on unknown agent ignored");
            return;
        };
        let agent = &mut self.agents[ai];
        let fw = self.book.framework_id(framework_id);
        let mut mine: Vec<usize> = (0..agent.held.len())
            .filter(|&i| Some(agent.held[i].fw) == fw)
            .collect();
        let Some(fw) = fw.filter(|_| !mine.is_empty()) else {
            tracing::debug!(
                framework_id,
                agent_id,
                "recover of resources not held ignored"
            );
            return;
        };
        // Spell out the holding that may stand for the rest while the rest is right.
        for &i in &mine {
            agent.held_mut(i);
        }
        let book = &self.book;
        mine.sort_by(|&a, &b| {
            book.role_name(agent.held[a].role)
                .cmp(book.role_name(agent.held[b].role))
        });
        let mut unallocated = resources.filter(|r| r.allocation_info.is_none());
        let mut returned: Vec<(RoleId, Arc<str>, Resources, Resources)> = Vec::new();
        for i in mine {
            let role_id = agent.held[i].role;
            let role = book.role_name(role_id).clone();
            let held = agent.held_mut(i);
            // Everything below is in unallocated form, as `held` is.
            let in_role = |r: &mesos_sdk::v1::Resource| {
                r.allocation_info.as_ref().and_then(|a| a.role.as_deref()) == Some(&*role)
            };
            // Usually every resource returned is tagged with this one role.
            let asked = if unallocated.is_empty() && resources.iter().all(in_role) {
                resources.clone().unallocate()
            } else {
                resources.filter(in_role).unallocate() + &unallocated
            };
            if asked.is_empty() {
                continue;
            }
            // What is held of what is asked: usually all of it.
            let actual = if held.contains(&asked) {
                asked.clone()
            } else {
                &*held - &(&*held - &asked)
            };
            if !unallocated.is_empty() {
                unallocated -= &actual;
            }
            *held -= &actual;
            returned.push((role_id, role, asked, actual));
        }
        agent
            .held
            .retain(|h| h.resources.as_ref().is_none_or(|r| !r.is_empty()));
        let refuse = refuse.filter(|d| !d.is_zero());
        for (role_id, role, asked, actual) in returned {
            self.book.charge(fw, role_id, &actual, -1);
            agent.available_q.apply_signed(self.book.last_delta(), -1);
            agent.available += actual;
            if let (Some(d), Some(f)) = (refuse, self.book.framework_mut(fw)) {
                let expires = now + d.max(self.config.allocation_interval);
                f.filters
                    .entry(role.to_string())
                    .or_default()
                    .entry(agent_id.to_owned())
                    .or_default()
                    .push(OfferFilter {
                        resources: asked,
                        expires,
                    });
            }
        }
    }

    /// Records resources a framework already uses on an agent: what an agent reports
    /// running when it re-registers with a newly elected master (Mesos's `addSlave`
    /// with `used`). Each resource counts for the role of its `allocation_info`, or for
    /// the framework's first role without one. Resources the agent does not have
    /// available are ignored (logged).
    pub fn add_used(&mut self, framework_id: &str, agent_id: &str, resources: &Resources) {
        let (Some(&ai), Some(fw)) = (
            self.agent_ids.get(agent_id),
            self.book.framework_id(framework_id),
        ) else {
            tracing::debug!(
                framework_id,
                agent_id,
                "used resources of an unknown agent or framework ignored"
            );
            return;
        };
        let default_role = self
            .book
            .framework(fw)
            .and_then(|f| f.roles.iter().next().cloned())
            .unwrap_or_else(|| "*".into());
        let mut by_role: Vec<(String, Resources)> = Vec::new();
        for resource in resources.iter() {
            let role = resource
                .allocation_info
                .as_ref()
                .and_then(|a| a.role.clone())
                .unwrap_or_else(|| default_role.clone());
            let one = Resources::from(vec![resource.clone()]).unallocate();
            match by_role.iter_mut().find(|(r, _)| *r == role) {
                Some((_, sum)) => *sum += one,
                None => by_role.push((role, one)),
            }
        }
        let agent = &mut self.agents[ai];
        for (role, wanted) in by_role {
            let taken = &agent.available - &(&agent.available - &wanted);
            if taken != wanted {
                tracing::warn!(framework_id, agent_id, %role, "an agent reports using more than it has available; counting what it has");
            }
            if taken.is_empty() {
                continue;
            }
            let role = self.book.role_id(&role);
            self.book.charge(fw, role, &taken, 1);
            agent.available_q.apply_signed(self.book.last_delta(), -1);
            agent.give(fw, role, Some(taken));
            self.book.reindex(fw, role);
        }
    }

    /// Stops offering to a framework in `roles` (all its roles if `None`) until revived.
    pub fn suppress(&mut self, framework_id: &str, roles: Option<&[String]>) {
        self.set_suppressed(framework_id, roles, true);
    }

    /// Resumes offers to a framework in `roles` (all its roles if `None`) and clears its
    /// decline filters for them.
    pub fn revive(&mut self, framework_id: &str, roles: Option<&[String]>) {
        self.set_suppressed(framework_id, roles, false);
    }

    fn set_suppressed(&mut self, framework_id: &str, roles: Option<&[String]>, on: bool) {
        let Some(fw) = self.book.framework_id(framework_id) else {
            return;
        };
        let Some(f) = self.book.framework_mut(fw) else {
            return;
        };
        let roles: Vec<String> = match roles {
            Some(r) => r.to_vec(),
            None => f.roles.iter().cloned().collect(),
        };
        for role in &roles {
            if on {
                f.suppressed.insert(role.clone());
            } else {
                f.suppressed.remove(role);
                f.filters.remove(role);
            }
        }
        for role in &roles {
            let role = self.book.role_id(role);
            self.book.reindex(fw, role);
        }
    }

    /// Runs one allocation cycle at `now` (which decides which decline filters have
    /// expired) and returns the offers to make. Agents are visited in a random order
    /// (see [`AllocatorConfig::seed`]). What is offered counts in shares until
    /// [recovered](Allocator::recover).
    pub fn allocate(&mut self, now: Instant) -> Vec<Allocation> {
        if self.book.dirty {
            self.book.rebuild();
        }
        self.book.expire_filters(now);
        let mut visit = std::mem::take(&mut self.visit);
        visit.clear();
        visit.extend(0..self.agents.len());
        visit.shuffle(&mut self.rng);
        let mut out = Vec::with_capacity(self.agents.len());
        for (k, &i) in visit.iter().enumerate() {
            if let Some(&next) = visit.get(k + 1) {
                self.agents[next].touch();
            }
            if let Some(&after) = visit.get(k + 2) {
                // Its fields only (loading what they point to waits for them).
                let a = &self.agents[after];
                std::hint::black_box((a.active, a.available.len(), a.held.len()));
            }
            let agent = &mut self.agents[i];
            if !agent.active {
                continue;
            }
            while !agent.available.is_empty() {
                let Some((role, fw, part)) =
                    self.book
                        .pick(&agent.id, &agent.available, agent.reserved, now)
                else {
                    break;
                };
                let everything = part.is_none();
                let offer = agent.give(fw, role, part);
                if everything {
                    self.book.charge_quantities(fw, role, &agent.available_q);
                    agent.available_q.clear();
                } else {
                    self.book.charge(fw, role, &offer, 1);
                    agent.available_q.apply_signed(self.book.last_delta(), -1);
                }
                let role_name = self.book.role_name(role);
                let resources = offer.allocate(role_name);
                let role_name = String::from(&**role_name);
                let framework_id = self
                    .book
                    .framework(fw)
                    .map(|f| String::from(&*f.id))
                    .unwrap_or_default();
                out.push(Allocation {
                    framework_id,
                    role: role_name,
                    agent_id: String::from(&*agent.id),
                    resources,
                });
            }
        }
        self.visit = visit;
        tracing::trace!(offers = out.len(), "allocation cycle");
        out
    }

    /// A framework's dominant share over all its roles: the largest fraction of any
    /// scalar resource in the cluster it holds (0 if unknown).
    pub fn dominant_share(&self, framework_id: &str) -> f64 {
        self.book.framework_share(framework_id)
    }

    /// A role's dominant share (not divided by its weight), counting every allocation to
    /// the role.
    pub fn role_share(&self, role: &str) -> f64 {
        self.book.role_share(role)
    }

    /// Everything a framework holds, over all agents and roles (allocated form).
    pub fn allocated(&self, framework_id: &str) -> Resources {
        let mut out = Resources::new();
        if let Some(fw) = self.book.framework_id(framework_id) {
            for agent in &self.agents {
                for h in agent.held.iter().filter(|h| h.fw == fw) {
                    out += agent
                        .resources_of(h)
                        .into_owned()
                        .allocate(self.book.role_name(h.role));
                }
            }
        }
        out
    }

    /// What a framework holds on one agent, over its roles (allocated form).
    pub fn allocated_on(&self, framework_id: &str, agent_id: &str) -> Resources {
        let mut out = Resources::new();
        if let (Some(fw), Some(&ai)) = (
            self.book.framework_id(framework_id),
            self.agent_ids.get(agent_id),
        ) {
            let agent = &self.agents[ai];
            for h in agent.held.iter().filter(|h| h.fw == fw) {
                out += agent
                    .resources_of(h)
                    .into_owned()
                    .allocate(self.book.role_name(h.role));
            }
        }
        out
    }

    /// What is not allocated on an agent (empty if unknown).
    pub fn available(&self, agent_id: &str) -> Resources {
        self.agent_ids
            .get(agent_id)
            .map(|&i| self.agents[i].available.clone())
            .unwrap_or_default()
    }
}
