//! Converting what a framework holds in place (Mesos's `updateAllocation`), and setting
//! a framework's suppressed roles exactly.
//!
//! Offer operations such as RESERVE, UNRESERVE, CREATE and DESTROY do not hand anything
//! back: the framework keeps holding the same quantities, in another shape (reserved
//! instead of unreserved, a persistent volume instead of plain disk). The master applies
//! them with [`Allocator::update_allocation`], which changes the framework's holding and
//! the agent's total alike, so that a later [`Allocator::recover`] returns the converted
//! resources.
//!
//! ```
//! use std::time::Instant;
//! use mesos_master::allocator::Allocator;
//! use mesos_sdk::resources::Resources;
//!
//! let mut alloc = Allocator::new();
//! alloc.add_agent("a1", Resources::parse("cpus:4;mem:1024")?);
//! alloc.add_framework("fw", &["web".to_string()]);
//! let offer = alloc.allocate(Instant::now()).remove(0).resources;
//! // RESERVE one cpu for `web`.
//! let from = Resources::parse("cpus:1")?.allocate("web");
//! let to = Resources::parse("cpus(web):1")?.allocate("web");
//! alloc.update_allocation("fw", "a1", &from, &to).unwrap();
//! let held = alloc.allocated_on("fw", "a1");
//! assert_eq!(held, (offer - &from) + &to);
//! # Ok::<(), mesos_sdk::resources::ResourcesError>(())
//! ```

use std::collections::HashSet;

use super::Allocator;
use mesos_sdk::resources::Resources;

/// Why [`Allocator::update_allocation`] refused a conversion (nothing was changed).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateAllocationError {
    /// The agent is not known to the allocator.
    #[error("agent `{agent_id}` is not known to the allocator; was it removed?")]
    UnknownAgent {
        /// The agent.
        agent_id: String,
    },
    /// The framework is not known to the allocator.
    #[error("framework `{framework_id}` is not known to the allocator; was it removed?")]
    UnknownFramework {
        /// The framework.
        framework_id: String,
    },
    /// The resources to convert carry more than one allocation role.
    #[error(
        "resources to convert are allocated to several roles ({roles}); convert one role at a time"
    )]
    SeveralRoles {
        /// The roles found, comma separated.
        roles: String,
    },
    /// The framework does not hold `from` on that agent (in the role it names).
    #[error(
        "framework `{framework_id}` does not hold {from} on agent `{agent_id}`; check the offer it came from"
    )]
    NotHeld {
        /// The framework.
        framework_id: String,
        /// The agent.
        agent_id: String,
        /// The resources asked for, in the text form.
        from: String,
    },
}

impl Allocator {
    /// Replaces `from` by `to` in what `framework_id` holds on `agent_id`, and in the
    /// agent's total (Mesos's `updateAllocation`, used for RESERVE, UNRESERVE, CREATE
    /// and DESTROY on offered resources).
    ///
    /// `from` names the role through `allocation_info` (as offered resources do); if it
    /// carries none, the first of the framework's roles (by name) holding all of `from`
    /// there is used. `to` is held in that same role. Shares change only if the scalar
    /// quantities of `from` and `to` differ.
    ///
    /// # Errors
    /// [`UpdateAllocationError`] when the agent or framework is unknown, `from` spans
    /// several roles, or the framework does not hold `from` there. Nothing changes then.
    pub fn update_allocation(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        from: &Resources,
        to: &Resources,
    ) -> Result<(), UpdateAllocationError> {
        let &ai =
            self.agent_ids
                .get(agent_id)
                .ok_or_else(|| UpdateAllocationError::UnknownAgent {
                    agent_id: agent_id.to_owned(),
                })?;
        let fw = self.book.framework_id(framework_id).ok_or_else(|| {
            UpdateAllocationError::UnknownFramework {
                framework_id: framework_id.to_owned(),
            }
        })?;
        let roles: HashSet<&str> = from
            .iter()
            .filter_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.as_deref()))
            .collect();
        if roles.len() > 1 {
            let mut roles: Vec<&str> = roles.into_iter().collect();
            roles.sort_unstable();
            return Err(UpdateAllocationError::SeveralRoles {
                roles: roles.join(", "),
            });
        }
        let named = roles.into_iter().next().map(str::to_owned);
        let from_u = from.clone().unallocate();
        let to_u = to.clone().unallocate();
        let book = &self.book;
        let agent = &mut self.agents[ai];
        // A holding may stand for the agent's whole total; spell every one out before
        // the total changes.
        for i in 0..agent.held.len() {
            agent.held_mut(i);
        }
        let held = agent
            .held
            .iter()
            .enumerate()
            .filter(|(_, h)| h.fw == fw)
            .filter(|(_, h)| {
                named
                    .as_deref()
                    .is_none_or(|role| &**book.role_name(h.role) == role)
            })
            .filter(|(_, h)| h.resources.as_ref().is_some_and(|r| r.contains(&from_u)))
            .min_by(|(_, a), (_, b)| book.role_name(a.role).cmp(book.role_name(b.role)))
            .map(|(i, _)| i);
        let Some(i) = held else {
            return Err(UpdateAllocationError::NotHeld {
                framework_id: framework_id.to_owned(),
                agent_id: agent_id.to_owned(),
                from: from_u.to_string(),
            });
        };
        let role = agent.held[i].role;
        let held = agent.held_mut(i);
        *held -= &from_u;
        *held += &to_u;
        agent
            .held
            .retain(|h| h.resources.as_ref().is_none_or(|r| !r.is_empty()));
        agent.total -= &from_u;
        agent.total += &to_u;
        agent.reserved = super::has_reservations(&agent.total);
        let same_quantities = from_u
            .names()
            .union(&to_u.names())
            .all(|name| from_u.scalar(name) == to_u.scalar(name));
        if !same_quantities {
            self.book.add_total(&from_u, -1);
            self.book.add_total(&to_u, 1);
            self.book.charge(fw, role, &from_u, -1);
            self.book.charge(fw, role, &to_u, 1);
        }
        tracing::debug!(framework_id, agent_id, from = %from_u, to = %to_u, "allocation converted");
        Ok(())
    }

    /// Replaces `from` by `to` in what is available (not allocated) on `agent_id`, and
    /// in the agent's total (Mesos's `updateAvailable`, used for the operator's
    /// RESERVE_RESOURCES and UNRESERVE_RESOURCES). Both are taken in unallocated form.
    ///
    /// # Errors
    /// [`UpdateAllocationError::UnknownAgent`]; [`UpdateAllocationError::NotHeld`]
    /// (with an empty framework id) when `from` is not available there. Nothing
    /// changes then.
    pub fn update_available(
        &mut self,
        agent_id: &str,
        from: &Resources,
        to: &Resources,
    ) -> Result<(), UpdateAllocationError> {
        let &ai =
            self.agent_ids
                .get(agent_id)
                .ok_or_else(|| UpdateAllocationError::UnknownAgent {
                    agent_id: agent_id.to_owned(),
                })?;
        let from_u = from.clone().unallocate();
        let to_u = to.clone().unallocate();
        let agent = &mut self.agents[ai];
        if !agent.available.contains(&from_u) {
            return Err(UpdateAllocationError::NotHeld {
                framework_id: String::new(),
                agent_id: agent_id.to_owned(),
                from: from_u.to_string(),
            });
        }
        // A holding may stand for the agent's whole total; spell every one out before
        // the total changes.
        for i in 0..agent.held.len() {
            agent.held_mut(i);
        }
        agent.available -= &from_u;
        agent.available += &to_u;
        agent.total -= &from_u;
        agent.total += &to_u;
        agent.reserved = super::has_reservations(&agent.total);
        self.book.add_total(&from_u, -1);
        agent.available_q.apply(self.book.last_delta());
        self.book.add_total(&to_u, 1);
        agent.available_q.apply(self.book.last_delta());
        tracing::debug!(agent_id, from = %from_u, to = %to_u, "available resources converted");
        Ok(())
    }

    /// Sets the roles in which a framework is suppressed to exactly `roles` (those it
    /// is subscribed to), as a SUBSCRIBE or UPDATE_FRAMEWORK with `suppressed_roles`
    /// does. Unlike [`Allocator::revive`], unsuppressing keeps decline filters.
    pub fn set_suppressed_roles(&mut self, framework_id: &str, roles: &[String]) {
        let Some(fw) = self.book.framework_id(framework_id) else {
            return;
        };
        let Some(f) = self.book.framework_mut(fw) else {
            return;
        };
        let mut touched: Vec<String> = f.suppressed.drain().collect();
        for role in roles.iter().filter(|r| f.roles.contains(*r)) {
            f.suppressed.insert(role.clone());
            touched.push(role.clone());
        }
        for role in &touched {
            let role = self.book.role_id(role);
            self.book.reindex(fw, role);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn r(spec: &str) -> Resources {
        Resources::parse(spec).unwrap()
    }

    fn one_framework() -> Allocator {
        let mut alloc = Allocator::new();
        alloc.add_agent("a1", r("cpus:4;mem:1024"));
        alloc.add_framework("fw", &["web".to_string()]);
        let offers = alloc.allocate(Instant::now());
        assert_eq!(offers.len(), 1);
        alloc
    }

    #[test]
    fn a_reservation_is_held_and_recovered_in_its_new_shape() {
        let mut alloc = one_framework();
        let from = r("cpus:1").allocate("web");
        let to = r("cpus(web):1").allocate("web");
        alloc.update_allocation("fw", "a1", &from, &to).unwrap();
        assert_eq!(
            alloc.allocated_on("fw", "a1"),
            r("cpus:3;mem:1024;cpus(web):1").allocate("web")
        );
        // Same quantities: the share is unchanged.
        assert_eq!(alloc.dominant_share("fw"), 1.0);
        let now = Instant::now();
        alloc.recover("fw", "a1", &alloc.allocated_on("fw", "a1"), None, now);
        assert_eq!(alloc.available("a1"), r("cpus:3;mem:1024;cpus(web):1"));
        // The reserved cpu is only offered to `web` from now on.
        alloc.add_framework("other", &["batch".to_string()]);
        alloc.deactivate_framework("fw");
        let offers = alloc.allocate(now);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].resources, r("cpus:3;mem:1024").allocate("batch"));
    }

    #[test]
    fn unallocated_from_uses_the_role_that_holds_it() {
        let mut alloc = one_framework();
        alloc
            .update_allocation("fw", "a1", &r("mem:24"), &r("mem(web):24"))
            .unwrap();
        assert!(
            alloc
                .allocated_on("fw", "a1")
                .contains(&r("mem(web):24").allocate("web"))
        );
    }

    #[test]
    fn converting_what_is_not_held_changes_nothing() {
        let mut alloc = one_framework();
        let before = alloc.allocated_on("fw", "a1");
        let err = alloc
            .update_allocation("fw", "a1", &r("cpus:5").allocate("web"), &r("cpus(web):5"))
            .unwrap_err();
        assert!(
            matches!(err, UpdateAllocationError::NotHeld { .. }),
            "{err}"
        );
        let err = alloc
            .update_allocation("fw", "a1", &r("cpus:1").allocate("db"), &r("cpus(db):1"))
            .unwrap_err();
        assert!(
            matches!(err, UpdateAllocationError::NotHeld { .. }),
            "{err}"
        );
        assert!(matches!(
            alloc.update_allocation("nope", "a1", &r("cpus:1"), &r("cpus:1")),
            Err(UpdateAllocationError::UnknownFramework { .. })
        ));
        assert!(matches!(
            alloc.update_allocation("fw", "a9", &r("cpus:1"), &r("cpus:1")),
            Err(UpdateAllocationError::UnknownAgent { .. })
        ));
        let mixed = r("cpus:1").allocate("web") + r("mem:1").allocate("db");
        assert!(matches!(
            alloc.update_allocation("fw", "a1", &mixed, &r("cpus:1")),
            Err(UpdateAllocationError::SeveralRoles { .. })
        ));
        assert_eq!(alloc.allocated_on("fw", "a1"), before);
    }

    #[test]
    fn a_conversion_that_changes_quantities_changes_shares_and_totals() {
        let mut alloc = one_framework();
        // Half the held cpus become something else entirely: the cluster total shrinks.
        alloc
            .update_allocation("fw", "a1", &r("cpus:2").allocate("web"), &r("gpus:1"))
            .unwrap();
        let now = Instant::now();
        alloc.recover("fw", "a1", &r("cpus:2;mem:1024").allocate("web"), None, now);
        // Still holds gpus:1, the whole cluster's gpus.
        assert_eq!(alloc.dominant_share("fw"), 1.0);
        assert_eq!(alloc.available("a1"), r("cpus:2;mem:1024"));
    }

    #[test]
    fn suppressed_roles_are_set_exactly_and_filters_survive() {
        let mut alloc = Allocator::new();
        alloc.add_agent("a1", r("cpus:4"));
        let roles = vec!["a".to_string(), "b".to_string()];
        alloc.add_framework("fw", &roles);
        alloc.set_suppressed_roles("fw", &roles);
        let now = Instant::now();
        assert!(alloc.allocate(now).is_empty());
        alloc.set_suppressed_roles("fw", &["a".to_string()]);
        let offers = alloc.allocate(now);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].role, "b");
        // Decline for an hour; unsuppressing "a" keeps that filter on "b".
        alloc.recover(
            "fw",
            "a1",
            &offers[0].resources,
            Some(std::time::Duration::from_secs(3600)),
            now,
        );
        alloc.set_suppressed_roles("fw", &[]);
        let offers = alloc.allocate(now);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].role, "a");
    }
}
