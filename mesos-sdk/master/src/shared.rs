//! The running master's state, shared by the HTTP handlers, the timer loop and the
//! agents' event loop: the books under one lock, and what wakes the timer loop.

use std::sync::Mutex;

use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;

use crate::agent::protocol::FromAgent;
use crate::config::MasterConfig;
use crate::core::Core;
use crate::election::Registrar;
use crate::state::MasterState;

/// State shared by the HTTP handlers, the timer loop and the agents' event loop.
pub(crate) struct Shared {
    core: Mutex<Core>,
    /// Wakes the timer loop (allocation, timeouts) early.
    pub(crate) wake: Notify,
    pub(crate) config: MasterConfig,
    /// Where agents' reports go.
    pub(crate) agent_events: UnboundedSender<(String, FromAgent)>,
    /// Registry writes (a no-op without an election).
    pub(crate) registrar: Registrar,
}

impl Shared {
    pub(crate) fn new(
        core: Core,
        config: MasterConfig,
        agent_events: UnboundedSender<(String, FromAgent)>,
        registrar: Registrar,
    ) -> Self {
        Shared {
            core: Mutex::new(core),
            wake: Notify::new(),
            config,
            agent_events,
            registrar,
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
        if !core.registry_removals.is_empty() {
            let removed = std::mem::take(&mut core.registry_removals);
            self.forget_agents(removed);
        }
        result
    }

    /// Removes agents from the registry, in the background (their removal from the
    /// books is already done; a failed write is logged, and the next leader forgets
    /// them after its re-registration timeout anyway).
    fn forget_agents(&self, agent_ids: Vec<String>) {
        if !self.registrar.is_enabled() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let registrar = self.registrar.clone();
        runtime.spawn(async move {
            for id in agent_ids {
                if let Err(e) = registrar.remove(&id).await {
                    tracing::warn!(agent = %id, "cannot remove the agent from the registry: {e}");
                }
            }
        });
    }

    pub(crate) fn snapshot(&self) -> MasterState {
        self.with_core(|c| c.snapshot())
    }

    pub(crate) fn metrics(&self) -> serde_json::Map<String, serde_json::Value> {
        self.with_core(|c| c.metrics())
    }
}
