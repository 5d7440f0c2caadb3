//! Running a `CommandInfo` as an OS process in its own process group, and stopping it:
//! SIGTERM to the group, then SIGKILL after a grace period.

use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::error::AgentError;
use super::user::RunAs;
use mesos_sdk::v1;

/// What to run and where.
pub(crate) struct LaunchSpec<'a> {
    /// The command (`shell` defaults to true, as in Mesos).
    pub command: &'a v1::CommandInfo,
    /// Extra environment, applied before `command.environment`.
    pub env: Vec<(String, String)>,
    /// Working directory; receives the `stdout` and `stderr` files.
    pub sandbox: &'a Path,
    /// The user to run as (`None`: the agent's own).
    pub run_as: Option<RunAs>,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exit {
    /// Exit code, when it exited normally.
    pub code: Option<i32>,
    /// Terminating signal, when a signal ended it.
    pub signal: Option<i32>,
    /// Whether a stop had been requested before it ended.
    pub stopped: bool,
}

impl Exit {
    /// Mesos's wording of a wait status: `exited with status N` or
    /// `terminated with signal NAME`.
    pub(crate) fn describe(&self) -> String {
        match (self.code, self.signal) {
            (Some(code), _) => format!("exited with status {code}"),
            (None, Some(sig)) => match Signal::try_from(sig) {
                Ok(s) => format!("terminated with signal {}", s.as_str()),
                Err(_) => format!("terminated with signal {sig}"),
            },
            (None, None) => "ended with an unknown wait status".to_owned(),
        }
    }
}

/// A request to stop the process group: SIGTERM after `term_after`, SIGKILL
/// `kill_after` later.
#[derive(Debug, Clone, Copy)]
struct Stop {
    term_after: Duration,
    kill_after: Duration,
}

/// A handle on a running process; dropping it does not stop the process.
#[derive(Debug, Clone)]
pub(crate) struct ProcessControl {
    /// The process id (also its process group id).
    pub pid: u32,
    stop: mpsc::UnboundedSender<Stop>,
}

impl ProcessControl {
    /// Stops the process group: SIGTERM after `term_after`, then SIGKILL after
    /// `kill_after` more if it is still alive. A later request may only shorten the wait.
    pub(crate) fn stop(&self, term_after: Duration, kill_after: Duration) {
        // The monitor may have finished already; then there is nothing to stop.
        let _ = self.stop.send(Stop {
            term_after,
            kill_after,
        });
    }
}

/// Opens the sandbox's stdout/stderr files and starts the command there, in a new
/// process group. `on_exit` runs once the process has been reaped and its group killed.
pub(crate) fn launch(
    spec: LaunchSpec<'_>,
    on_exit: impl FnOnce(Exit) + Send + 'static,
) -> Result<ProcessControl, AgentError> {
    let launch_err = |what: &str, source| AgentError::Launch {
        what: what.to_owned(),
        source,
    };
    std::fs::create_dir_all(spec.sandbox)
        .map_err(|e| launch_err(&spec.sandbox.display().to_string(), e))?;
    let stdout = open_log(spec.sandbox, "stdout").map_err(|e| launch_err("stdout", e))?;
    let stderr = open_log(spec.sandbox, "stderr").map_err(|e| launch_err("stderr", e))?;
    let value = spec.command.value.clone().unwrap_or_default();
    let mut cmd = if spec.command.shell.unwrap_or(true) {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(&value);
        c
    } else {
        let mut c = Command::new(&value);
        // Mesos passes `arguments` as the whole argv, argv[0] included.
        if let Some((argv0, rest)) = spec.command.arguments.split_first() {
            c.arg0(argv0).args(rest);
        }
        c
    };
    cmd.current_dir(spec.sandbox)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .kill_on_drop(true);
    if let Some(run_as) = spec.run_as {
        // std drops the supplementary groups when root sets a uid.
        cmd.uid(run_as.uid.as_raw()).gid(run_as.gid.as_raw());
    }
    cmd.envs(spec.env);
    if let Some(env) = &spec.command.environment {
        for var in &env.variables {
            cmd.env(&var.name, var.value.as_deref().unwrap_or(""));
        }
    }
    let child = cmd.spawn().map_err(|e| launch_err(&value, e))?;
    let pid = child.id().ok_or_else(|| {
        launch_err(
            &value,
            std::io::Error::other("the process exited before its pid was read"),
        )
    })?;
    super::orphans::record(spec.sandbox, pid);
    let sandbox = spec.sandbox.to_owned();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let exit = monitor(child, pid, rx).await;
        super::orphans::forget(&sandbox);
        on_exit(exit);
    });
    Ok(ProcessControl { pid, stop: tx })
}

fn open_log(dir: &Path, name: &str) -> std::io::Result<File> {
    let path: PathBuf = dir.join(name);
    File::options().create(true).append(true).open(path)
}

fn signal_group(pid: u32, signal: Signal) {
    let Ok(raw) = i32::try_from(pid) else { return };
    match killpg(Pid::from_raw(raw), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => tracing::warn!(pid, ?signal, error = %e, "failed to signal process group"),
    }
}

enum Next {
    Term,
    Kill,
}

async fn monitor(
    mut child: tokio::process::Child,
    pid: u32,
    mut stops: mpsc::UnboundedReceiver<Stop>,
) -> Exit {
    let mut stops_open = true;
    let mut stopped = false;
    let mut deadline: Option<(Instant, Next, Duration)> = None;
    let status = loop {
        let sleep_until = deadline.as_ref().map(|(at, _, _)| *at);
        tokio::select! {
            status = child.wait() => break status,
            stop = stops.recv(), if stops_open => match stop {
                None => stops_open = false,
                Some(stop) => {
                    stopped = true;
                    let at = Instant::now() + stop.term_after;
                    let shorter = match &deadline {
                        None => true,
                        Some((current, Next::Term, _)) => at < *current,
                        Some((_, Next::Kill, _)) => false,
                    };
                    if shorter {
                        deadline = Some((at, Next::Term, stop.kill_after));
                    }
                }
            },
            () = tokio::time::sleep_until(sleep_until.unwrap_or_else(Instant::now)), if sleep_until.is_some() => {
                match deadline.take() {
                    Some((_, Next::Term, kill_after)) => {
                        tracing::debug!(pid, "sending SIGTERM to process group");
                        signal_group(pid, Signal::SIGTERM);
                        deadline = Some((Instant::now() + kill_after, Next::Kill, kill_after));
                    }
                    Some((_, Next::Kill, _)) => {
                        tracing::debug!(pid, "grace period over, sending SIGKILL to process group");
                        signal_group(pid, Signal::SIGKILL);
                    }
                    None => {}
                }
            }
        }
    };
    // Whatever the leader left behind in its group goes with it (no orphans).
    signal_group(pid, Signal::SIGKILL);
    match status {
        Ok(status) => Exit {
            code: status.code(),
            signal: status.signal(),
            stopped,
        },
        Err(e) => {
            tracing::warn!(pid, error = %e, "failed to wait for process");
            Exit {
                code: None,
                signal: None,
                stopped,
            }
        }
    }
}
