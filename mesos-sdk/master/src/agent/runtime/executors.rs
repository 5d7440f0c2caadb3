//! Custom executors: started once per (framework, executor id) with Mesos's executor
//! environment; launches wait for the executor to subscribe; when it exits its unfinished
//! tasks fail.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use super::sandbox::Container;
use super::{ExecTask, Executor, Internal, Launch, ProcessKey, Runtime};
use crate::agent::isolation::Limits;
use crate::agent::process::{Exit, LaunchFailure};
use crate::agent::protocol::FromAgent;
use crate::agent::status;
use crate::agent::user::SandboxError;
use mesos_sdk::v1;
use mesos_sdk::v1::executor::{Event, event};
use mesos_sdk::v1::task_status::{Reason, Source};

impl Runtime {
    /// Gets the custom executor `info` ready for a launch of `tasks`: started when the
    /// framework does not run it yet. `false` when the launch cannot go ahead: the
    /// executor could not be started or is shutting down (its tasks are then reported
    /// failed or lost).
    pub(super) fn prepare_executor(
        &mut self,
        framework_id: &v1::FrameworkId,
        info: &v1::ExecutorInfo,
        tasks: &[&v1::TaskInfo],
    ) -> bool {
        let exists = self
            .frameworks
            .get(&framework_id.value)
            .is_some_and(|f| f.executors.contains_key(&info.executor_id.value));
        if !exists {
            let started = self.start_executor(framework_id, info, tasks);
            if let Err(StartError::Sandbox(e)) = &started {
                let ids: Vec<v1::TaskId> = tasks.iter().map(|t| t.task_id.clone()).collect();
                self.executor_not_added(framework_id, &ids, &info.executor_id, e);
                // As Mesos's agent does, so that the master frees what it holds for
                // the executor; -1: it never ran.
                self.emit(FromAgent::ExecutorTerminated {
                    framework_id: framework_id.clone(),
                    executor_id: info.executor_id.clone(),
                    status: Some(-1),
                });
                return false;
            }
            if let Err(StartError::Launch(message)) = started {
                for task in tasks {
                    let status = self.agent_status(
                        &task.task_id,
                        &info.executor_id,
                        v1::TaskState::TaskFailed,
                        Source::Agent,
                        Some(Reason::ContainerLaunchFailed),
                        message.clone(),
                    );
                    self.update(framework_id, status);
                }
                return false;
            }
        }
        let shutting_down = match self
            .frameworks
            .get(&framework_id.value)
            .and_then(|f| f.executors.get(&info.executor_id.value))
        {
            None => return false,
            Some(executor) => executor.shutting_down,
        };
        if shutting_down {
            for task in tasks {
                let status = self.agent_status(
                    &task.task_id,
                    &info.executor_id,
                    v1::TaskState::TaskFailed,
                    Source::Agent,
                    Some(Reason::ExecutorTerminated),
                    "the executor is shutting down".into(),
                );
                self.update(framework_id, status);
            }
            return false;
        }
        true
    }

    /// Hands a launch to the executor `eid` that [`Runtime::prepare_executor`] got
    /// ready, and books its tasks.
    pub(super) fn launch_on_executor(
        &mut self,
        framework_id: &v1::FrameworkId,
        eid: &str,
        launch: Launch,
    ) {
        let Some(executor) = self
            .frameworks
            .get_mut(&framework_id.value)
            .and_then(|f| f.executors.get_mut(eid))
        else {
            return;
        };
        // A launch that cannot be sent (not subscribed, or the connection just broke)
        // waits for the next SUBSCRIBE, and its tasks count as not launched.
        let launched = launch.launched();
        let sent = match executor.send_launch(launch) {
            None => {
                executor.ever_sent = true;
                true
            }
            Some(unsent) => {
                executor.queued.push(unsent);
                false
            }
        };
        for (tid, info) in launched {
            executor.tasks.insert(
                tid,
                ExecTask {
                    launched: sent,
                    state: None,
                    info,
                },
            );
        }
        // Without cgroups nothing enforces limits (as with Mesos's posix isolators), so
        // they are not even computed.
        if !self.isolator.enforces_limits() {
            return;
        }
        // The container holds the executor and every task it runs (summed in place:
        // cloning every live task's resources made each launch cost as much as all the
        // executor's live tasks together).
        let resources = executor.info.resources.iter().chain(
            executor
                .tasks
                .values()
                .filter(|t| !t.is_terminal())
                .flat_map(|t| t.info.resources.iter()),
        );
        let limits = Limits::of_all(resources, self.isolator.enable_cfs());
        let container_id = executor.container_id.clone();
        if let Err(e) = self.isolator.update(&container_id, limits) {
            tracing::warn!(executor = %eid, error = %e, "could not update the executor's container limits");
        }
    }

    fn start_executor(
        &mut self,
        framework_id: &v1::FrameworkId,
        info: &v1::ExecutorInfo,
        first: &[&v1::TaskInfo],
    ) -> Result<(), StartError> {
        let fid = framework_id.value.clone();
        let eid = info.executor_id.value.clone();
        let Some(command) = info.command.clone() else {
            return Err(StartError::Launch(format!(
                "executor '{eid}' has no command to run"
            )));
        };
        let container_id = uuid::Uuid::new_v4().to_string();
        let sandbox = status::sandbox_dir(
            &self.config.work_dir,
            &self.config.agent_id,
            &fid,
            &eid,
            &container_id,
        );
        let grace = info
            .shutdown_grace_period
            .as_ref()
            .map(status::duration)
            .unwrap_or(self.config.executor_shutdown_grace_period);
        let run_as = self
            .create_sandbox(&fid, Some(&command), &sandbox)
            .map_err(StartError::Sandbox)?;
        let mut env = executor_env(&fid, &eid, &sandbox, self.endpoint, grace);
        if let Some(auth) = &self.config.executor_auth {
            let token = auth
                .token(&fid, &eid, &container_id)
                .map_err(|e| StartError::Launch(e.to_string()))?;
            env.push((crate::agent::executor_auth::TOKEN_ENV.into(), token));
        }
        if let Some(socket) = &self.config.executor_domain_socket {
            env.push(("MESOS_DOMAIN_SOCKET".into(), socket.display().to_string()));
        }
        if self.config.tls.is_some() {
            env.push(("LIBPROCESS_SSL_ENABLED".into(), "true".into()));
            if let Some(ca) = &self.config.tls_ca_file {
                env.push(("LIBPROCESS_SSL_CA_FILE".into(), ca.display().to_string()));
            }
        }
        let key = ProcessKey::Executor {
            framework: fid.clone(),
            executor: eid.clone(),
        };
        // The URIs are fetched first; the registration timeout starts with the process.
        let limits = Limits::of(
            &container_resources(info, first),
            self.isolator.enable_cfs(),
        );
        let process = self.spawn_process(
            key,
            &command,
            env,
            &sandbox,
            run_as,
            Container {
                id: &container_id,
                limits,
            },
        );
        tracing::info!(executor = %eid, sandbox = %sandbox.display(), uris = command.uris.len(), "launching executor");
        let framework = self
            .frameworks
            .get_mut(&fid)
            .ok_or_else(|| StartError::Launch("unknown framework".to_owned()))?;
        let mut info = info.clone();
        info.framework_id
            .get_or_insert_with(|| framework_id.clone());
        framework.executors.insert(
            eid,
            Executor {
                info,
                container_id,
                pid: None,
                process,
                stream: None,
                queued: Vec::new(),
                pending_kills: Vec::new(),
                ever_sent: false,
                subscribed: false,
                tasks: HashMap::new(),
                shutting_down: false,
                termination: None,
            },
        );
        Ok(())
    }

    /// The executor's process runs: Mesos's `--executor_registration_timeout` starts; an
    /// executor that has not subscribed by then is killed and its tasks fail.
    pub(super) fn executor_started(&mut self, fid: &str, eid: &str, pid: u32) {
        let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.get_mut(eid))
        else {
            return;
        };
        executor.pid = Some(pid);
        tracing::info!(executor = %eid, pid, "executor started");
        let internal = self.internal.clone();
        let timeout = self.config.executor_registration_timeout;
        let (framework, executor_id, container_id) = (
            fid.to_owned(),
            eid.to_owned(),
            executor.container_id.clone(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let _ = internal.send(Internal::RegistrationTimeout {
                framework,
                executor: executor_id,
                container_id,
            });
        });
    }

    /// The executor never ran (its fetch failed, or it could not be spawned): its tasks
    /// fail with `REASON_CONTAINER_LAUNCH_FAILED`, as in Mesos, and it is reported
    /// ended.
    pub(super) fn executor_not_started(&mut self, fid: &str, eid: &str, failure: LaunchFailure) {
        let message = match failure {
            LaunchFailure::Prepare(cause) => format!("Failed to launch container: {cause}"),
            LaunchFailure::Spawn(e) => format!("Failed to launch executor: {e}"),
        };
        tracing::warn!(executor = %eid, %message, "executor not started");
        if let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.get_mut(eid))
        {
            executor.termination = Some((Reason::ContainerLaunchFailed, message));
        }
        let never_ran = Exit {
            code: None,
            signal: None,
            stopped: false,
            started: false,
            limitation: None,
        };
        self.executor_exited(fid, eid, never_ran);
    }

    /// The registration timeout of an executor run: when that run never subscribed, it
    /// is killed at once and its tasks will fail with
    /// `REASON_EXECUTOR_REGISTRATION_TIMEOUT`.
    pub(super) fn registration_timeout(&mut self, fid: &str, eid: &str, container_id: &str) {
        let timeout = self.config.executor_registration_timeout;
        let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.get_mut(eid))
        else {
            return;
        };
        if executor.container_id != container_id || executor.subscribed || executor.shutting_down {
            return;
        }
        let within = status::mesos_duration_text(timeout);
        tracing::info!(executor = %eid, "terminating the executor: it did not register within {within}");
        executor.shutting_down = true;
        executor.termination = Some((
            Reason::ExecutorRegistrationTimeout,
            format!("Executor did not register within {within}"),
        ));
        executor.process.stop(Duration::ZERO, Duration::ZERO);
    }

    /// TASK_DROPPED for a PARTITION_AWARE framework, else TASK_LOST: what Mesos's agent
    /// sends for a launch it drops.
    pub(super) fn dropped_state(&self, framework_id: &v1::FrameworkId) -> v1::TaskState {
        let partition_aware = self.frameworks.get(&framework_id.value).is_some_and(|f| {
            f.info
                .capabilities
                .iter()
                .any(|c| c.r#type() == v1::framework_info::capability::Type::PartitionAware)
        });
        if partition_aware {
            v1::TaskState::TaskDropped
        } else {
            v1::TaskState::TaskLost
        }
    }

    /// An executor that could not be set up (Mesos's failed `Framework::addExecutor`):
    /// every task of the launch is lost (dropped for a `PARTITION_AWARE` framework),
    /// reported by the agent.
    pub(super) fn executor_not_added(
        &mut self,
        framework_id: &v1::FrameworkId,
        task_ids: &[v1::TaskId],
        executor_id: &v1::ExecutorId,
        error: &SandboxError,
    ) {
        let state = self.dropped_state(framework_id);
        tracing::warn!(executor = %executor_id.value, error = %error, "executor not launched");
        for task_id in task_ids {
            let status = self.agent_status(
                task_id,
                executor_id,
                state,
                Source::Agent,
                Some(Reason::ExecutorTerminated),
                error.to_string(),
            );
            self.update(framework_id, status);
        }
    }

    pub(super) fn executor_exited(&mut self, fid: &str, eid: &str, exit: Exit) {
        let Some(executor) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.executors.remove(eid))
        else {
            return;
        };
        tracing::info!(executor = %eid, status = %exit.describe(), "executor ended");
        let framework_id = v1::FrameworkId {
            value: fid.to_owned(),
        };
        let mut unfinished: Vec<&String> = executor
            .tasks
            .iter()
            .filter(|(_, t)| !t.is_terminal())
            .map(|(tid, _)| tid)
            .collect();
        unfinished.sort();
        let limitation = exit
            .limitation
            .as_ref()
            .map(|l| (super::command::limitation_reason(l.kind), l.message.clone()));
        let (reason, message) = executor
            .termination
            .clone()
            .or(limitation)
            .unwrap_or_else(|| {
                (
                    Reason::ExecutorTerminated,
                    format!("Executor {}", exit.describe()),
                )
            });
        for tid in unfinished {
            let status = self.agent_status(
                &v1::TaskId { value: tid.clone() },
                &executor.info.executor_id,
                v1::TaskState::TaskFailed,
                Source::Agent,
                Some(reason),
                message.clone(),
            );
            self.update(&framework_id, status);
        }
        self.emit(FromAgent::ExecutorTerminated {
            framework_id,
            executor_id: executor.info.executor_id.clone(),
            status: exit.code,
        });
        self.maybe_forget_framework(fid);
    }
}

/// What the container of a custom executor holds when it starts: the executor's
/// resources and its first launch's tasks'.
fn container_resources(info: &v1::ExecutorInfo, first: &[&v1::TaskInfo]) -> Vec<v1::Resource> {
    let mut resources = info.resources.clone();
    resources.extend(first.iter().flat_map(|t| t.resources.iter().cloned()));
    resources
}

/// Why a custom executor was not started.
enum StartError {
    /// Its sandbox could not be prepared (Mesos: the executor was not added).
    Sandbox(SandboxError),
    /// It could not be started.
    Launch(String),
}

/// The launch an event made by [`launch_event`] carries (given back when it could not
/// be sent).
pub(super) fn launch_of(event: Event) -> Launch {
    match (event.launch, event.launch_group) {
        (Some(launch), _) => Launch::Task(Box::new(launch.task)),
        (None, group) => Launch::Group(group.unwrap_or_default().task_group),
    }
}

pub(super) fn launch_event(launch: Launch) -> Event {
    match launch {
        Launch::Task(task) => Event {
            r#type: Some(event::Type::Launch as i32),
            launch: Some(event::Launch { task: *task }),
            ..Default::default()
        },
        Launch::Group(task_group) => Event {
            r#type: Some(event::Type::LaunchGroup as i32),
            launch_group: Some(event::LaunchGroup { task_group }),
            ..Default::default()
        },
    }
}

fn executor_env(
    fid: &str,
    eid: &str,
    sandbox: &std::path::Path,
    endpoint: SocketAddr,
    grace: Duration,
) -> Vec<(String, String)> {
    vec![
        ("MESOS_FRAMEWORK_ID".into(), fid.to_owned()),
        ("MESOS_EXECUTOR_ID".into(), eid.to_owned()),
        ("MESOS_DIRECTORY".into(), sandbox.display().to_string()),
        ("MESOS_SANDBOX".into(), sandbox.display().to_string()),
        ("MESOS_AGENT_ENDPOINT".into(), endpoint.to_string()),
        ("MESOS_CHECKPOINT".into(), "0".into()),
        (
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD".into(),
            status::mesos_duration(grace),
        ),
    ]
}
