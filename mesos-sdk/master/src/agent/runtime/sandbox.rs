//! Processes and their sandboxes: where a task or executor runs, as whom, and what is
//! fetched into the sandbox first.

use super::{Internal, ProcessKey, Runtime};
use crate::agent::isolation::Limits;
use crate::agent::process::{self, Isolation, LaunchSpec, Prepare, ProcessControl};
use crate::agent::user::{self, RunAs, SandboxError};
use mesos_sdk::v1;

/// The container a process runs in: its id and what its resources allow.
pub(super) struct Container<'a> {
    /// The container's id (its cgroup's name).
    pub id: &'a str,
    /// Its limits (enforced under cgroups isolation).
    pub limits: Limits,
}

impl Runtime {
    /// Starts `command` in `sandbox` once its URIs are fetched, in `container`; what
    /// happens to it comes back to the event loop as [`Internal::Process`] under `key`.
    pub(super) fn spawn_process(
        &self,
        key: ProcessKey,
        command: &v1::CommandInfo,
        env: Vec<(String, String)>,
        sandbox: &std::path::Path,
        run_as: Option<RunAs>,
        container: Container<'_>,
    ) -> ProcessControl {
        let internal = self.internal.clone();
        let prepare = self.fetch(&key, command, sandbox, run_as);
        process::launch(
            LaunchSpec {
                command: command.clone(),
                env,
                sandbox: sandbox.to_path_buf(),
                run_as,
                prepare,
                isolation: Some(Isolation {
                    isolator: self.isolator.clone(),
                    container_id: container.id.to_owned(),
                    limits: container.limits,
                }),
            },
            move |event| {
                let _ = internal.send(Internal::Process(key.clone(), event));
            },
        )
    }

    /// The fetch of `command.uris` into `sandbox`, when there are any. The cache is
    /// kept per user, as in Mesos.
    fn fetch(
        &self,
        key: &ProcessKey,
        command: &v1::CommandInfo,
        sandbox: &std::path::Path,
        run_as: Option<RunAs>,
    ) -> Option<Prepare> {
        if command.uris.is_empty() {
            return None;
        }
        let fid = match key {
            ProcessKey::Command { framework, .. } | ProcessKey::Executor { framework, .. } => {
                framework
            }
        };
        let user = self
            .frameworks
            .get(fid)
            .and_then(|f| user::run_as_user(self.config.switch_user, &f.info, Some(command)));
        let fetcher = self.fetcher.clone();
        let uris = command.uris.clone();
        let sandbox = sandbox.to_path_buf();
        Some(Box::pin(async move {
            fetcher
                .fetch(&uris, &sandbox, user.as_deref(), run_as)
                .await
                .map_err(|e| e.to_string())
        }))
    }

    /// Creates an executor's sandbox, owned by its run-as user when `switch_user` is on
    /// (`command.user`, else the framework's user); returns whom to run it as.
    pub(super) fn create_sandbox(
        &self,
        fid: &str,
        command: Option<&v1::CommandInfo>,
        sandbox: &std::path::Path,
    ) -> Result<Option<RunAs>, SandboxError> {
        let user = self
            .frameworks
            .get(fid)
            .and_then(|f| user::run_as_user(self.config.switch_user, &f.info, command));
        user::create_sandbox(sandbox, user.as_deref())
    }
}
