//! Processes and their sandboxes: where a task or executor runs, and as whom.

use super::{Internal, ProcessKey, Runtime};
use crate::agent::error::AgentError;
use crate::agent::process::{self, LaunchSpec, ProcessControl};
use crate::agent::user::{self, RunAs, SandboxError};
use mesos_sdk::v1;

impl Runtime {
    /// Starts `command` in `sandbox`; its exit comes back to the event loop as
    /// [`Internal::Exited`] under `key`.
    pub(super) fn spawn_process(
        &self,
        key: ProcessKey,
        command: &v1::CommandInfo,
        env: Vec<(String, String)>,
        sandbox: &std::path::Path,
        run_as: Option<RunAs>,
    ) -> Result<ProcessControl, AgentError> {
        let internal = self.internal.clone();
        process::launch(
            LaunchSpec {
                command,
                env,
                sandbox,
                run_as,
            },
            move |exit| {
                let _ = internal.send(Internal::Exited(key, exit));
            },
        )
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
