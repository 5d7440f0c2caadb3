//! The running master's state, shared by the HTTP handlers, the timer loop and the
//! agents' event loop: the books under one lock, and what wakes the timer loop.

use std::sync::Mutex;

use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;

use crate::agent::protocol::FromAgent;
use crate::config::MasterConfig;
use crate::core::Core;
use crate::state::MasterState;

/// State shared by the HTTP handlers, the timer loop and the agents' event loop.
pub(crate) struct Shared {
    core: Mutex<Core>,
    /// Wakes the timer loop (allocation, timeouts) early.
    pub(crate) wake: Notify,
    pub(crate) config: MasterConfig,
    /// Where agents' reports go.
    pub(crate) agent_events: UnboundedSender<(String, FromAgent)>,
}

impl Shared {
    pub(crate) fn new(
        core: Core,
        config: MasterConfig,
        agent_events: UnboundedSender<(String, FromAgent)>,
    ) -> Self {
        Shared {
            core: Mutex::new(core),
            wake: Notify::new(),
            config,
            agent_events,
        }
    }

    /// Runs `f` on the books under the lock, then wakes the allocation loop when the
    /// change asks for it. Never hold the lock across an await.
    pub(crate) fn with_core<R>(&self, f: impl FnOnce(&mut Core) -> R) -> R {
        let mut core = self.core.lock().unwrap_or_else(|p| p.into_inner());
        let result = f(&mut core);
        if core.allocation_wanted {
            self.wake.notify_one();
        }
        result
    }

    pub(crate) fn snapshot(&self) -> MasterState {
        self.with_core(|c| c.snapshot())
    }

    pub(crate) fn metrics(&self) -> serde_json::Map<String, serde_json::Value> {
        self.with_core(|c| c.metrics())
    }
}
