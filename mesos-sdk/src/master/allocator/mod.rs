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
//! Orders are kept in `BTreeSet`s updated as shares change, so a cycle costs
//! O(agents × log(roles + frameworks)) when nothing is filtered.
//!
//! ```
//! use std::time::Instant;
//! use mesos_sdk::master::allocator::Allocator;
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
mod filter;
mod order;
mod quantities;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use book::{Book, Framework};
use filter::OfferFilter;

use crate::resources::Resources;

/// Allocator settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AllocatorConfig {
    /// How often the master runs [`Allocator::allocate`] (Mesos's
    /// `--allocation_interval`, 1 s by default). A decline filter lasts at least this
    /// long, so it cannot expire before the next cycle has honoured it.
    pub allocation_interval: Duration,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        Self {
            allocation_interval: Duration::from_secs(1),
        }
    }
}

impl AllocatorConfig {
    /// Sets [`AllocatorConfig::allocation_interval`].
    pub fn allocation_interval(mut self, interval: Duration) -> Self {
        self.allocation_interval = interval;
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

#[derive(Clone, Debug, Default)]
struct Agent {
    total: Resources,
    /// Not allocated to anyone (unallocated form).
    available: Resources,
    /// What each framework holds here, by role (allocated form).
    held: HashMap<String, HashMap<String, Resources>>,
}

/// A hierarchical DRF allocator. See the [module docs](self) for the algorithm.
#[derive(Clone, Debug, Default)]
pub struct Allocator {
    config: AllocatorConfig,
    agents: BTreeMap<String, Agent>,
    book: Book,
}

impl Allocator {
    /// An allocator with the default [`AllocatorConfig`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An allocator with the given settings.
    pub fn with_config(config: AllocatorConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Adds an agent with everything on it available. Re-adding an agent first removes
    /// it (returning what it held).
    pub fn add_agent(&mut self, agent_id: &str, total: Resources) {
        if self.agents.contains_key(agent_id) {
            tracing::debug!(agent_id, "agent added again; replacing it");
            self.remove_agent(agent_id);
        }
        let total = total.unallocate();
        self.book.total.apply(&total, 1);
        self.book.dirty = true;
        self.agents.insert(
            agent_id.to_owned(),
            Agent {
                available: total.clone(),
                total,
                held: HashMap::new(),
            },
        );
    }

    /// Removes an agent; whatever frameworks held there stops counting in their shares.
    pub fn remove_agent(&mut self, agent_id: &str) {
        let Some(agent) = self.agents.remove(agent_id) else {
            return;
        };
        for (fw, by_role) in &agent.held {
            for (role, res) in by_role {
                self.book.charge(fw, role, res, -1);
            }
        }
        for fw in self.book.frameworks.values_mut() {
            for by_agent in fw.filters.values_mut() {
                by_agent.remove(agent_id);
            }
        }
        self.book.total.apply(&agent.total, -1);
        self.book.dirty = true;
    }

    /// Adds an active framework subscribed to `roles`. Adding a known framework updates
    /// its roles and activates it.
    pub fn add_framework(&mut self, framework_id: &str, roles: &[String]) {
        if self.book.frameworks.contains_key(framework_id) {
            self.update_framework_roles(framework_id, roles);
            self.activate_framework(framework_id);
            return;
        }
        self.book.frameworks.insert(
            framework_id.to_owned(),
            Framework {
                roles: roles.iter().cloned().collect(),
                active: true,
                ..Framework::default()
            },
        );
        self.book.reindex_framework(framework_id);
    }

    /// Removes a framework; everything it held goes back to the agents.
    pub fn remove_framework(&mut self, framework_id: &str) {
        for agent in self.agents.values_mut() {
            if let Some(by_role) = agent.held.remove(framework_id) {
                for (role, res) in by_role {
                    agent.available += res.clone().unallocate();
                    self.book.charge(framework_id, &role, &res, -1);
                }
            }
        }
        if let Some(fw) = self.book.frameworks.get_mut(framework_id) {
            fw.active = false;
        }
        self.book.reindex_framework(framework_id);
        self.book.frameworks.remove(framework_id);
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
        if let Some(fw) = self.book.frameworks.get_mut(framework_id) {
            fw.active = active;
            self.book.reindex_framework(framework_id);
        }
    }

    /// Changes the roles a framework is subscribed to. What it holds in a dropped role
    /// keeps counting for that role until recovered; suppression of dropped roles is
    /// forgotten.
    pub fn update_framework_roles(&mut self, framework_id: &str, roles: &[String]) {
        let Some(fw) = self.book.frameworks.get_mut(framework_id) else {
            return;
        };
        let old = std::mem::replace(&mut fw.roles, roles.iter().cloned().collect());
        fw.suppressed.retain(|r| roles.contains(r));
        for role in old.iter().chain(roles) {
            self.book.reindex(framework_id, role);
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
        self.book.weights.insert(role.to_owned(), weight);
        self.book.reindex_role(role);
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
        let Some(agent) = self.agents.get_mut(agent_id) else {
            tracing::debug!(framework_id, agent_id, "recover on unknown agent ignored");
            return;
        };
        let Some(by_role) = agent.held.get_mut(framework_id) else {
            tracing::debug!(
                framework_id,
                agent_id,
                "recover of resources not held ignored"
            );
            return;
        };
        let mut unallocated = resources.filter(|r| r.allocation_info.is_none());
        let mut returned: Vec<(String, Resources, Resources)> = Vec::new();
        let mut roles: Vec<&String> = by_role.keys().collect();
        roles.sort();
        let roles: Vec<String> = roles.into_iter().cloned().collect();
        for role in roles {
            let Some(held) = by_role.get_mut(&role) else {
                continue;
            };
            let tagged = resources.filter(|r| {
                r.allocation_info.as_ref().and_then(|a| a.role.as_deref()) == Some(role.as_str())
            });
            let asked = tagged + unallocated.clone().allocate(&role);
            if asked.is_empty() {
                continue;
            }
            let actual = &*held - &(&*held - &asked);
            unallocated -= actual.clone().unallocate();
            *held -= &actual;
            if held.is_empty() {
                by_role.remove(&role);
            }
            returned.push((role, asked.unallocate(), actual));
        }
        if by_role.is_empty() {
            agent.held.remove(framework_id);
        }
        let refuse = refuse.filter(|d| !d.is_zero());
        for (role, asked, actual) in returned {
            agent.available += actual.clone().unallocate();
            self.book.charge(framework_id, &role, &actual, -1);
            if let (Some(d), Some(fw)) = (refuse, self.book.frameworks.get_mut(framework_id)) {
                let expires = now + d.max(self.config.allocation_interval);
                fw.filters
                    .entry(role)
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
        let Some(fw) = self.book.frameworks.get_mut(framework_id) else {
            return;
        };
        let roles: Vec<String> = match roles {
            Some(r) => r.to_vec(),
            None => fw.roles.iter().cloned().collect(),
        };
        for role in &roles {
            if on {
                fw.suppressed.insert(role.clone());
            } else {
                fw.suppressed.remove(role);
                fw.filters.remove(role);
            }
        }
        for role in &roles {
            self.book.reindex(framework_id, role);
        }
    }

    /// Runs one allocation cycle at `now` (which decides which decline filters have
    /// expired) and returns the offers to make. What is offered counts in shares until
    /// [recovered](Allocator::recover).
    pub fn allocate(&mut self, now: Instant) -> Vec<Allocation> {
        if self.book.dirty {
            self.book.rebuild();
        }
        self.book.expire_filters(now);
        let mut out = Vec::with_capacity(self.agents.len());
        for (agent_id, agent) in &mut self.agents {
            while !agent.available.is_empty() {
                let Some((role, framework_id, part)) =
                    self.book.pick(agent_id, &agent.available, now)
                else {
                    break;
                };
                let offer = match part {
                    Some(part) => {
                        agent.available -= &part;
                        part
                    }
                    None => std::mem::take(&mut agent.available),
                };
                let offer = offer.allocate(&role);
                *book::slot(book::slot(&mut agent.held, &framework_id), &role) += &offer;
                self.book.charge(&framework_id, &role, &offer, 1);
                out.push(Allocation {
                    framework_id,
                    role,
                    agent_id: agent_id.clone(),
                    resources: offer,
                });
            }
        }
        tracing::trace!(offers = out.len(), "allocation cycle");
        out
    }

    /// A framework's dominant share over all its roles: the largest fraction of any
    /// scalar resource in the cluster it holds (0 if unknown).
    pub fn dominant_share(&self, framework_id: &str) -> f64 {
        self.book
            .frameworks
            .get(framework_id)
            .map_or(0.0, |fw| fw.allocated.share(&self.book.total))
    }

    /// A role's dominant share (not divided by its weight), counting every allocation to
    /// the role.
    pub fn role_share(&self, role: &str) -> f64 {
        self.book
            .roles
            .get(role)
            .map_or(0.0, |r| r.allocated.share(&self.book.total))
    }

    /// Everything a framework holds, over all agents and roles (allocated form).
    pub fn allocated(&self, framework_id: &str) -> Resources {
        let mut out = Resources::new();
        for agent in self.agents.values() {
            if let Some(by_role) = agent.held.get(framework_id) {
                for res in by_role.values() {
                    out += res;
                }
            }
        }
        out
    }

    /// What a framework holds on one agent, over its roles (allocated form).
    pub fn allocated_on(&self, framework_id: &str, agent_id: &str) -> Resources {
        let mut out = Resources::new();
        if let Some(by_role) = self
            .agents
            .get(agent_id)
            .and_then(|a| a.held.get(framework_id))
        {
            for res in by_role.values() {
                out += res;
            }
        }
        out
    }

    /// What is not allocated on an agent (empty if unknown).
    pub fn available(&self, agent_id: &str) -> Resources {
        self.agents
            .get(agent_id)
            .map(|a| a.available.clone())
            .unwrap_or_default()
    }
}
