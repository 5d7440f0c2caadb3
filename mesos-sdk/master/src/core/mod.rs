//! The master's books: frameworks, agents, offers and tasks, changed only under one
//! lock by short, non-blocking methods. Timers and I/O live in `server`.

mod accept;
mod agents;
mod answer;
mod calls;
mod error;
pub(crate) mod events;
mod offers;
pub(crate) mod operator;
mod recovery;
pub(crate) mod snapshot;
mod validate;
mod watch;

use std::collections::{HashMap, HashSet, VecDeque};

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::time::{Duration, Instant};
use tracing::{debug, info};

use crate::agent::protocol::ToAgent;
use crate::allocator::{Allocator, AllocatorConfig};
use crate::config::MasterConfig;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::Event;

pub(crate) use answer::{Answer, Subscription};
pub(crate) use error::CallError;
pub(crate) use operator::{OperatorError, OperatorEvents};

/// How many removed framework ids the master remembers, to refuse their SUBSCRIBE.
const REMEMBERED_REMOVED_FRAMEWORKS: usize = 1000;

/// The default `refuse_seconds` of a filter, as in Mesos.
const DEFAULT_REFUSE: Duration = Duration::from_secs(5);

/// A live event stream of a framework.
pub(crate) struct Stream {
    pub(crate) id: String,
    tx: UnboundedSender<Event>,
}

/// A framework known to the master.
pub(crate) struct Framework {
    pub(crate) id: String,
    pub(crate) info: v1::FrameworkInfo,
    pub(crate) stream: Option<Stream>,
    pub(crate) tasks: HashMap<String, Task>,
    /// Custom executors: (agent id, executor id) → the executor as first launched.
    pub(crate) executors: HashMap<(String, String), Executor>,
    /// When the failover timeout expires (set while disconnected).
    pub(crate) failover_deadline: Option<Instant>,
    /// When it first subscribed, in seconds since the epoch.
    pub(crate) registered_secs: f64,
    /// Terminal tasks whose last update was acknowledged, oldest first, at most
    /// [`MasterConfig::max_completed_tasks_per_framework`] (as each task carries only
    /// its latest status).
    pub(crate) completed_tasks: VecDeque<v1::Task>,
}

/// A removed framework, kept for the operator's views (`completed_frameworks`).
pub(crate) struct CompletedFramework {
    pub(crate) id: String,
    pub(crate) info: v1::FrameworkInfo,
    pub(crate) registered_secs: f64,
    pub(crate) unregistered_secs: f64,
    /// Its tasks, every one terminal, oldest first.
    pub(crate) tasks: VecDeque<v1::Task>,
}

impl Framework {
    /// A framework with no task or executor yet.
    pub(crate) fn new(id: String, info: v1::FrameworkInfo, stream: Option<Stream>) -> Self {
        Self {
            id,
            info,
            stream,
            tasks: HashMap::new(),
            executors: HashMap::new(),
            failover_deadline: None,
            registered_secs: events::now_secs(),
            completed_tasks: VecDeque::new(),
        }
    }

    /// Keeps a terminal task among the completed ones, dropping the oldest beyond
    /// `limit`.
    fn complete(&mut self, task: Task, limit: usize) {
        push_bounded(&mut self.completed_tasks, task.into_completed(), limit);
    }

    pub(crate) fn roles(&self) -> Vec<String> {
        roles_of(&self.info)
    }

    pub(crate) fn connected(&self) -> bool {
        self.stream.is_some()
    }

    fn send(&self, event: Event) {
        if let Some(stream) = &self.stream {
            // A closed receiver means the stream is going away; its guard reports it.
            let _ = stream.tx.send(event);
        }
    }

    fn has_capability(&self, t: v1::framework_info::capability::Type) -> bool {
        self.info
            .capabilities
            .iter()
            .any(|c| c.r#type == Some(t as i32))
    }

    /// Resources held by tasks and executors.
    pub(crate) fn used(&self) -> Resources {
        let mut used = Resources::new();
        for task in self.tasks.values().filter(|t| !t.is_terminal()) {
            used += &task.resources;
        }
        for executor in self.executors.values() {
            used += &executor.resources;
        }
        used
    }
}

/// A custom executor the master launched on an agent.
pub(crate) struct Executor {
    /// Its ExecutorInfo as the master normalised it (framework id filled in, resources
    /// tagged with the offer's role): every later task for this executor id on the
    /// agent must carry an equal one.
    pub(crate) info: v1::ExecutorInfo,
    /// The resources it holds (allocated form), counted once.
    pub(crate) resources: Resources,
}

/// The roles a framework subscribes with (`roles` for MULTI_ROLE, else `role`, else `*`).
#[allow(deprecated)] // `role` is how non-MULTI_ROLE frameworks name theirs.
pub(crate) fn roles_of(info: &v1::FrameworkInfo) -> Vec<String> {
    if !info.roles.is_empty() {
        return info.roles.clone();
    }
    vec![info.role.clone().unwrap_or_else(|| "*".to_string())]
}

/// A task and where it runs.
pub(crate) struct Task {
    pub(crate) task: v1::Task,
    /// The latest status (what reconciliation answers).
    pub(crate) latest: Option<v1::TaskStatus>,
    /// `task.resources` normalised (allocated form), once when booked: what the task
    /// holds until it ends.
    pub(crate) resources: Resources,
}

impl Task {
    /// The task as the operator views show it: with its latest status.
    pub(crate) fn view(&self) -> v1::Task {
        let mut task = self.task.clone();
        if let Some(latest) = &self.latest {
            task.statuses = vec![latest.clone()];
        }
        task
    }

    fn into_completed(self) -> v1::Task {
        let mut task = self.task;
        if let Some(latest) = self.latest {
            task.statuses = vec![latest];
        }
        task
    }
}

/// Appends `item`, then drops the oldest entries beyond `limit`.
fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, limit: usize) {
    queue.push_back(item);
    while queue.len() > limit {
        queue.pop_front();
    }
}

impl Task {
    /// Whether the task's state is terminal (Mesos's `isTerminalState`): its resources
    /// are released. An unknown state number is not terminal.
    pub(crate) fn is_terminal(&self) -> bool {
        v1::TaskState::try_from(self.task.state).is_ok_and(v1::TaskState::is_terminal)
    }
}

/// An agent registered with the master.
pub(crate) struct Agent {
    pub(crate) info: v1::AgentInfo,
    pub(crate) id: String,
    /// Everything on the agent (unallocated form); RESERVE/CREATE etc. reshape it.
    pub(crate) total: Resources,
    pub(crate) sender: UnboundedSender<ToAgent>,
    /// A remote agent may re-register after its stream drops; in-process agents are
    /// removed as soon as their channel closes.
    pub(crate) remote: bool,
    /// When the agent's channel was first seen closed.
    pub(crate) disconnected_since: Option<Instant>,
    /// Turned off by the operator's DEACTIVATE_AGENT: not offered.
    pub(crate) deactivated: bool,
    /// When it registered, in seconds since the epoch.
    pub(crate) registered_secs: f64,
}

impl Agent {
    /// Reachable: its command channel is open.
    pub(crate) fn connected(&self) -> bool {
        !self.sender.is_closed()
    }
}

/// An outstanding offer.
pub(crate) struct OfferEntry {
    pub(crate) offer: v1::Offer,
    /// The offered resources (allocated form, as in the offer).
    pub(crate) resources: Resources,
    pub(crate) made: Instant,
}

/// Counters for `/metrics/snapshot`.
#[derive(Default, Debug, Clone)]
pub(crate) struct Counters {
    pub(crate) tasks_finished: u64,
    pub(crate) tasks_failed: u64,
    pub(crate) tasks_killed: u64,
    pub(crate) tasks_lost: u64,
    pub(crate) tasks_error: u64,
    pub(crate) tasks_dropped: u64,
    pub(crate) offers_sent: u64,
    pub(crate) offers_declined: u64,
    pub(crate) offers_rescinded: u64,
    pub(crate) frameworks_removed: u64,
    pub(crate) calls: u64,
}

/// The books. Every allocation decision is the allocator's: it holds what each
/// framework is offered or uses on each agent, and what is free.
pub(crate) struct Core {
    pub(crate) config: MasterConfig,
    pub(crate) alloc: Allocator,
    pub(crate) master_info: v1::MasterInfo,
    pub(crate) frameworks: HashMap<String, Framework>,
    pub(crate) agents: HashMap<String, Agent>,
    pub(crate) offers: HashMap<String, OfferEntry>,
    pub(crate) counters: Counters,
    /// Ids of removed frameworks (torn down, or past their failover timeout), newest
    /// last, at most [`REMEMBERED_REMOVED_FRAMEWORKS`].
    removed_frameworks: VecDeque<String>,
    /// Removed frameworks with their tasks, newest last, at most
    /// [`MasterConfig::max_completed_frameworks`].
    pub(crate) completed_frameworks: VecDeque<CompletedFramework>,
    pub(crate) started: std::time::SystemTime,
    next_framework: u64,
    next_offer: u64,
    next_agent: u64,
    /// Set when allocation should run at once.
    pub(crate) allocation_wanted: bool,
    /// Agents of the registry (after a failover) not re-registered yet, with the
    /// deadline by which they must.
    pub(crate) recovered_agents: HashMap<String, Instant>,
    /// Agents removed since the server last looked: it removes them from the registry.
    pub(crate) registry_removals: Vec<String>,
    /// The operator API's event subscribers.
    watchers: watch::Watchers,
    /// Agents the operator marked gone: they may not come back.
    pub(crate) gone_agents: HashSet<String>,
}

impl Core {
    pub(crate) fn new(config: MasterConfig, master_info: v1::MasterInfo) -> Self {
        let mut alloc = Allocator::with_config(
            AllocatorConfig::default().allocation_interval(config.allocation_interval),
        );
        for (role, weight) in &config.role_weights {
            alloc.set_weight(role, *weight);
        }
        let watchers = watch::Watchers::new(
            config.max_operator_subscribers,
            config.operator_event_buffer,
        );
        Self {
            watchers,
            gone_agents: HashSet::new(),
            alloc,
            config,
            master_info,
            frameworks: HashMap::new(),
            agents: HashMap::new(),
            offers: HashMap::new(),
            counters: Counters::default(),
            removed_frameworks: VecDeque::new(),
            completed_frameworks: VecDeque::new(),
            started: std::time::SystemTime::now(),
            next_framework: 0,
            next_offer: 0,
            next_agent: 0,
            allocation_wanted: false,
            recovered_agents: HashMap::new(),
            registry_removals: Vec::new(),
        }
    }

    /// A fresh agent id, `<master-id>-S<n>`.
    pub(crate) fn new_agent_id(&mut self) -> String {
        loop {
            let id = format!("{}-S{}", self.master_info.id, self.next_agent);
            self.next_agent += 1;
            if !self.agents.contains_key(&id) {
                return id;
            }
        }
    }

    fn new_offer_id(&mut self) -> String {
        let id = format!("{}-O{}", self.master_info.id, self.next_offer);
        self.next_offer += 1;
        id
    }

    /// Why Mesos would refuse this SUBSCRIBE: an invalid FrameworkInfo, the id of a
    /// removed framework, or a changed principal.
    fn refusal(&self, subscribe: &v1::scheduler::call::Subscribe) -> Option<String> {
        let info = &subscribe.framework_info;
        if let Err(message) = validate::framework_info(info, &subscribe.suppressed_roles) {
            return Some(message);
        }
        if let Err(message) = self.authorize_roles(info) {
            return Some(message);
        }
        let id = info.id.as_ref()?;
        if self.is_removed_framework(&id.value) {
            return Some("Framework has been removed".into());
        }
        match self.frameworks.get(&id.value) {
            Some(fw) if fw.info.principal != info.principal => {
                Some("Changing framework's principal is not allowed.".into())
            }
            _ => None,
        }
    }

    /// Mesos's `checkSubscribeAuthorization` (also on UPDATE_FRAMEWORK): the
    /// `register_frameworks` ACLs allow every role of the framework for its principal.
    /// Refused: Mesos's message, `Not authorized to register framework <id> with roles
    /// { a, b }`.
    pub(crate) fn authorize_roles(&self, info: &v1::FrameworkInfo) -> Result<(), String> {
        let mut roles = roles_of(info);
        if self
            .config
            .auth
            .acls
            .may_register(info.principal.as_deref(), &roles)
        {
            return Ok(());
        }
        roles.sort();
        roles.dedup();
        Err(format!(
            "Not authorized to register framework {} with roles {{ {} }}",
            info.id.as_ref().map_or("", |id| id.value.as_str()),
            roles.join(", ")
        ))
    }

    /// How many frameworks have an event stream open.
    pub(crate) fn subscribed_count(&self) -> usize {
        self.frameworks.values().filter(|f| f.connected()).count()
    }

    /// Whether this framework has an event stream open.
    pub(crate) fn is_subscribed(&self, framework_id: &str) -> bool {
        self.frameworks
            .get(framework_id)
            .is_some_and(Framework::connected)
    }

    /// Whether the framework was removed (torn down, or past its failover timeout).
    pub(crate) fn is_removed_framework(&self, framework_id: &str) -> bool {
        self.removed_frameworks.iter().any(|id| id == framework_id)
    }

    /// SUBSCRIBE: registers a new framework, or takes an existing one back (after a
    /// disconnection, or replacing its current stream). Unknown ids are accepted as
    /// Mesos does after a master failover. A refused SUBSCRIBE gets, as in Mesos, a
    /// stream with one ERROR event that then closes.
    pub(crate) fn subscribe(
        &mut self,
        subscribe: v1::scheduler::call::Subscribe,
        now: Instant,
    ) -> Subscription {
        if let Some(message) = self.refusal(&subscribe) {
            info!(framework = %subscribe.framework_info.name, %message, "SUBSCRIBE refused");
            let (tx, rx) = unbounded_channel();
            let _ = tx.send(events::error(&message));
            return Subscription {
                framework_id: String::new(),
                stream_id: uuid::Uuid::new_v4().to_string(),
                events: rx,
            };
        }
        let mut info = subscribe.framework_info;
        let id = match info.id.as_ref().map(|i| i.value.clone()) {
            Some(id) => id,
            None => {
                let id = format!("{}-{:04}", self.master_info.id, self.next_framework);
                self.next_framework += 1;
                id
            }
        };
        info.id = Some(v1::FrameworkId { value: id.clone() });
        let (tx, rx) = unbounded_channel();
        let stream_id = uuid::Uuid::new_v4().to_string();
        let stream = Stream {
            id: stream_id.clone(),
            tx,
        };
        let mut rescind = false;
        match self.frameworks.get_mut(&id) {
            Some(fw) => {
                if let Some(old) = fw.stream.take() {
                    info!(framework = %id, "framework resubscribed on a new stream; closing the old one");
                    let _ = old.tx.send(events::error("Framework failed over"));
                }
                // As Mesos, the user and checkpointing of a framework never change.
                info.user = std::mem::take(&mut fw.info.user);
                info.checkpoint = fw.info.checkpoint;
                fw.info = info;
                fw.failover_deadline = None;
                fw.stream = Some(stream);
                // Offers made to the old stream are rescinded (the scheduler cannot
                // know them any more).
                rescind = true;
            }
            None => {
                info!(framework = %id, name = %info.name, "framework registered");
                self.frameworks
                    .insert(id.clone(), Framework::new(id.clone(), info, Some(stream)));
            }
        }
        self.notify_framework(&id, !rescind);
        // Registers the framework, or updates its roles and activates it again.
        let roles = self.frameworks[&id].roles();
        self.alloc.add_framework(&id, &roles);
        self.alloc
            .set_suppressed_roles(&id, &subscribe.suppressed_roles);
        if rescind {
            self.remove_offers_of(&id, now);
        }
        let heartbeat = self.config.heartbeat_interval.as_secs_f64();
        let fw = &self.frameworks[&id];
        fw.send(events::subscribed(&id, heartbeat, &self.master_info));
        self.allocation_wanted = true;
        Subscription {
            framework_id: id,
            stream_id,
            events: rx,
        }
    }

    /// Checks that a non-SUBSCRIBE call may proceed, in Mesos's order: the framework
    /// exists, the request's authenticated principal (if any) is the framework's, the
    /// framework is connected, and the stream id is its current one.
    pub(crate) fn authorize(
        &self,
        framework_id: &str,
        principal: Option<&str>,
        stream_id: Option<&str>,
    ) -> Result<(), CallError> {
        let fw = self
            .frameworks
            .get(framework_id)
            .ok_or(CallError::UnknownFramework)?;
        if let Some(principal) = principal
            && fw.info.principal.as_deref() != Some(principal)
        {
            return Err(CallError::Refused(format!(
                "Authenticated principal '{principal}' does not match principal '{}' set in `FrameworkInfo`",
                fw.info.principal.as_deref().unwrap_or_default()
            )));
        }
        let Some(stream) = &fw.stream else {
            return Err(CallError::NotSubscribed);
        };
        let given = stream_id.ok_or(CallError::MissingStreamId)?;
        if given != stream.id {
            return Err(CallError::WrongStreamId {
                given: given.to_string(),
                framework_id: framework_id.to_string(),
            });
        }
        Ok(())
    }

    /// A framework's event stream ended. When it is still the current stream the
    /// framework is deactivated and its failover timeout starts.
    pub(crate) fn stream_closed(&mut self, framework_id: &str, stream_id: &str, now: Instant) {
        let Some(fw) = self.frameworks.get_mut(framework_id) else {
            return;
        };
        if fw.stream.as_ref().is_none_or(|s| s.id != stream_id) {
            return;
        }
        fw.stream = None;
        let timeout = fw
            .info
            .failover_timeout
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| Duration::from_secs_f64(t.min(1e9)))
            .unwrap_or(Duration::ZERO);
        fw.failover_deadline = Some(now + timeout);
        info!(framework = %framework_id, ?timeout, "framework disconnected; failover timeout started");
        self.alloc.deactivate_framework(framework_id);
        self.remove_offers_of(framework_id, now);
        self.notify_framework(framework_id, false);
    }

    /// Takes back every outstanding offer of a framework (no filter).
    fn remove_offers_of(&mut self, framework_id: &str, now: Instant) {
        let offers: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.offer.framework_id.value == framework_id)
            .map(|(k, _)| k.clone())
            .collect();
        for offer in offers {
            self.remove_offer(&offer, false, now);
        }
    }

    /// Removes a framework: kills its tasks, recovers its offers, closes its stream.
    pub(crate) fn remove_framework(&mut self, framework_id: &str, now: Instant) {
        self.remove_offers_of(framework_id, now);
        let Some(mut fw) = self.frameworks.remove(framework_id) else {
            return;
        };
        info!(framework = %framework_id, "framework removed");
        self.counters.frameworks_removed += 1;
        push_bounded(
            &mut self.removed_frameworks,
            framework_id.to_string(),
            REMEMBERED_REMOVED_FRAMEWORKS,
        );
        let mut agents: HashSet<String> = fw
            .tasks
            .values()
            .filter(|t| !t.is_terminal())
            .map(|t| t.task.agent_id.value.clone())
            .collect();
        agents.extend(fw.executors.keys().map(|(a, _)| a.clone()));
        for agent_id in agents {
            if let Some(agent) = self.agents.get(&agent_id) {
                let _ = agent.sender.send(ToAgent::ShutdownFramework {
                    framework_id: v1::FrameworkId {
                        value: framework_id.to_string(),
                    },
                });
            }
        }
        // As Mesos: its live tasks are killed in the books (TASK_KILLED,
        // REASON_FRAMEWORK_REMOVED) and kept with the others among the completed.
        let message = format!("Framework {framework_id} removed");
        let mut tasks: Vec<Task> = fw.tasks.drain().map(|(_, t)| t).collect();
        tasks.sort_by(|a, b| a.task.task_id.value.cmp(&b.task.task_id.value));
        let mut killed = 0u64;
        for task in &mut tasks {
            if task.is_terminal() {
                continue;
            }
            let status = events::master_status(
                task.task.task_id.clone(),
                v1::TaskState::TaskKilled,
                v1::task_status::Reason::FrameworkRemoved,
                &message,
                Some(&task.task.agent_id.value),
            );
            task.task.state = status.state;
            task.latest = Some(status.clone());
            killed += 1;
            self.notify_task_updated(framework_id, &status);
        }
        self.counters.tasks_killed += killed;
        let limit = self.config.max_completed_tasks_per_framework;
        for task in tasks {
            fw.complete(task, limit);
        }
        self.notify_framework_removed(&fw.info);
        push_bounded(
            &mut self.completed_frameworks,
            CompletedFramework {
                id: fw.id,
                info: fw.info,
                registered_secs: fw.registered_secs,
                unregistered_secs: events::now_secs(),
                tasks: fw.completed_tasks,
            },
            self.config.max_completed_frameworks,
        );
        // Everything it held (tasks, executors) goes back to the agents.
        self.alloc.remove_framework(framework_id);
        self.allocation_wanted = true;
    }

    /// Takes an offer off the books and gives its resources back to the allocator (no
    /// filter). With `rescind`, the framework is told (RESCIND).
    pub(crate) fn remove_offer(
        &mut self,
        offer_id: &str,
        rescind: bool,
        now: Instant,
    ) -> Option<OfferEntry> {
        let entry = self.offers.remove(offer_id)?;
        self.alloc.recover(
            &entry.offer.framework_id.value,
            &entry.offer.agent_id.value,
            &entry.resources,
            None,
            now.into_std(),
        );
        if rescind {
            self.counters.offers_rescinded += 1;
            if let Some(fw) = self.frameworks.get(&entry.offer.framework_id.value) {
                fw.send(events::rescind(offer_id));
            }
        }
        self.allocation_wanted = true;
        Some(entry)
    }

    /// Gives resources a framework held on an agent back to the allocator, refusing
    /// them to that framework there for `filters.refuse_seconds` (Mesos's default 5 s
    /// when absent; 0 sets no filter).
    pub(crate) fn recover_filtered(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        resources: &Resources,
        filters: Option<&v1::Filters>,
        now: Instant,
    ) {
        let refuse = filters
            .and_then(|f| f.refuse_seconds)
            .filter(|s| s.is_finite())
            .map(|s| Duration::from_secs_f64(s.clamp(0.0, 1e9)))
            .unwrap_or(DEFAULT_REFUSE);
        self.alloc.recover(
            framework_id,
            agent_id,
            resources,
            Some(refuse),
            now.into_std(),
        );
        self.allocation_wanted = true;
    }

    /// Periodic work: failover timeouts, offer timeouts, lost agents, allocation.
    pub(crate) fn tick(&mut self, now: Instant, allocate: bool) {
        let expired: Vec<String> = self
            .frameworks
            .values()
            .filter(|f| f.stream.is_none() && f.failover_deadline.is_some_and(|d| d <= now))
            .map(|f| f.id.clone())
            .collect();
        for id in expired {
            info!(framework = %id, "failover timeout expired");
            self.remove_framework(&id, now);
        }
        if let Some(timeout) = self.config.offer_timeout {
            let stale: Vec<String> = self
                .offers
                .iter()
                .filter(|(_, o)| o.made + timeout <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for id in stale {
                debug!(offer = %id, "offer timed out; rescinding");
                self.remove_offer(&id, true, now);
            }
        }
        let grace = self.config.agent_reregister_timeout;
        let mut lost = Vec::new();
        let mut unreachable = Vec::new();
        for agent in self.agents.values_mut() {
            if agent.connected() {
                agent.disconnected_since = None;
                continue;
            }
            let since = *agent.disconnected_since.get_or_insert(now);
            if since == now {
                unreachable.push(agent.id.clone());
            }
            if !agent.remote || since + grace <= now {
                lost.push(agent.id.clone());
            }
        }
        for id in unreachable {
            // Offers on an unreachable agent cannot be used: rescind them.
            let offers: Vec<String> = self
                .offers
                .iter()
                .filter(|(_, o)| o.offer.agent_id.value == id)
                .map(|(k, _)| k.clone())
                .collect();
            for offer in offers {
                self.remove_offer(&offer, true, now);
            }
        }
        for id in lost {
            self.remove_agent(&id, now);
        }
        self.expire_recovered(now);
        if allocate || self.allocation_wanted {
            self.allocation_wanted = false;
            self.allocate(now);
        }
    }

    /// The earliest moment `tick` has timed work to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let failover = self.frameworks.values().filter_map(|f| f.failover_deadline);
        let grace = self.config.agent_reregister_timeout;
        let agents = self
            .agents
            .values()
            .filter_map(move |a| a.disconnected_since.map(|t| t + grace));
        let offers = self
            .config
            .offer_timeout
            .into_iter()
            .flat_map(|t| self.offers.values().map(move |o| o.made + t));
        failover
            .chain(offers)
            .chain(agents)
            .chain(self.next_recovery_deadline())
            .min()
    }

    /// Closes every event stream, the operator API's included (the HTTP server is
    /// stopping); frameworks become
    /// disconnected and their failover timeouts start.
    pub(crate) fn close_streams(&mut self, now: Instant, min_grace: Duration) {
        self.watchers.close_all();
        let open: Vec<(String, String)> = self
            .frameworks
            .values()
            .filter_map(|f| f.stream.as_ref().map(|s| (f.id.clone(), s.id.clone())))
            .collect();
        for (fw, stream) in open {
            self.stream_closed(&fw, &stream, now);
            // A master going away is not the framework's fault: it gets at least
            // `min_grace` to come back, whatever its own failover timeout.
            if let Some(f) = self.frameworks.get_mut(&fw) {
                f.failover_deadline = f.failover_deadline.map(|d| d.max(now + min_grace));
            }
        }
    }

    /// Removes every framework (their tasks are killed) and tells every agent to stop.
    pub(crate) fn shutdown_all(&mut self) {
        let now = Instant::now();
        let ids: Vec<String> = self.frameworks.keys().cloned().collect();
        for id in ids {
            self.remove_framework(&id, now);
        }
        for agent in self.agents.values() {
            let _ = agent.sender.send(ToAgent::Shutdown);
        }
    }
}

#[cfg(test)]
mod tests;
