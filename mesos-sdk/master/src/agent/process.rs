//! Running a `CommandInfo` as an OS process in its own process group, and stopping it:
//! SIGTERM to the group, then SIGKILL after a grace period.

use std::fs::File;
use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::error::AgentError;
use super::isolation::{Cgroup, Isolator, Limitation, Limits};
use super::user::RunAs;
use mesos_sdk::v1;

/// Work that must finish before the process starts (the fetch); an error fails the
/// launch with its text.
pub(crate) type Prepare = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// What to run and where.
pub(crate) struct LaunchSpec {
    /// The command (`shell` defaults to true, as in Mesos).
    pub command: v1::CommandInfo,
    /// Extra environment, applied before `command.environment`.
    pub env: Vec<(String, String)>,
    /// Working directory; receives the `stdout` and `stderr` files.
    pub sandbox: PathBuf,
    /// The user to run as (`None`: the agent's own).
    pub run_as: Option<RunAs>,
    /// Done first; a stop request meanwhile cancels it and the process never starts.
    pub prepare: Option<Prepare>,
    /// The container's isolation: its cgroup is made after `prepare` and the process
    /// joins it before it execs.
    pub isolation: Option<Isolation>,
}

/// The isolation of one container.
pub(crate) struct Isolation {
    /// The agent's isolator.
    pub isolator: Arc<Isolator>,
    /// The container's id (its cgroup's name).
    pub container_id: String,
    /// What its resources allow.
    pub limits: Limits,
}

/// How often a container's cgroup is checked for a memory overrun while it runs.
const LIMITATION_POLL: Duration = Duration::from_millis(100);

/// What happens to a launched process, in order: `Started` then `Ended`, or
/// `NotStarted`, or `Ended` alone when it was stopped before it started.
#[derive(Debug)]
pub(crate) enum Lifecycle {
    /// The process runs.
    Started {
        /// Its pid (also its process group id).
        pid: u32,
    },
    /// It ended (and was reaped, its group killed).
    Ended(Exit),
    /// It could not be started.
    NotStarted(LaunchFailure),
}

/// Why a process never started.
#[derive(Debug)]
pub(crate) enum LaunchFailure {
    /// The preparation (the fetch, or the container's cgroup) failed, with its text.
    Prepare(String),
    /// The process could not be spawned.
    Spawn(AgentError),
}

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exit {
    /// Exit code, when it exited normally.
    pub code: Option<i32>,
    /// Terminating signal, when a signal ended it.
    pub signal: Option<i32>,
    /// Whether a stop had been requested before it ended.
    pub stopped: bool,
    /// Whether the process ever ran (a stop may come before it starts).
    pub started: bool,
    /// The limit its container went over, when that ended it.
    pub limitation: Option<Limitation>,
}

impl Exit {
    /// Mesos's wording of a wait status: `exited with status N` or
    /// `terminated with signal NAME`.
    pub(crate) fn describe(&self) -> String {
        if !self.started {
            return "was stopped before it started".to_owned();
        }
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

/// Starts the launch: runs `spec.prepare`, then opens the sandbox's stdout/stderr
/// files and starts the command there, in a new process group. `on_event` hears the
/// [`Lifecycle`]; `Ended` comes once the process has been reaped and its group killed.
pub(crate) fn launch(
    mut spec: LaunchSpec,
    on_event: impl Fn(Lifecycle) + Send + 'static,
) -> ProcessControl {
    let (tx, mut stops) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        if let Some(prepare) = spec.prepare.take() {
            match prepared(prepare, &mut stops).await {
                Prepared::Ready => {}
                Prepared::Failed(message) => {
                    on_event(Lifecycle::NotStarted(LaunchFailure::Prepare(message)));
                    return;
                }
                Prepared::Stopped => {
                    on_event(Lifecycle::Ended(Exit {
                        code: None,
                        signal: None,
                        stopped: true,
                        started: false,
                        limitation: None,
                    }));
                    return;
                }
            }
        }
        let cgroup = match spec
            .isolation
            .take()
            .map(|i| i.isolator.container(&i.container_id, i.limits))
        {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(cgroup))) => Some(cgroup),
            Some(Err(e)) => {
                on_event(Lifecycle::NotStarted(LaunchFailure::Prepare(e.to_string())));
                return;
            }
        };
        let mut tries = 0;
        let spawned = loop {
            let result = spawn(&spec, cgroup.as_ref());
            let Some(pause) = result.as_ref().err().and_then(|e| busy_pause(e, tries)) else {
                break result;
            };
            tracing::debug!("program still open for writing elsewhere; launching again");
            tries += 1;
            tokio::time::sleep(pause).await;
        };
        let (child, pid) = match spawned {
            Ok(spawned) => spawned,
            Err(e) => {
                if let Some(cgroup) = &cgroup {
                    cgroup.destroy().await;
                }
                on_event(Lifecycle::NotStarted(LaunchFailure::Spawn(e)));
                return;
            }
        };
        super::orphans::record(&spec.sandbox, pid);
        on_event(Lifecycle::Started { pid });
        let mut exit = monitor(child, pid, stops, cgroup.as_ref()).await;
        if let Some(cgroup) = &cgroup {
            // A process the kernel OOM-killed just before the end counts too.
            exit.limitation = exit.limitation.or_else(|| cgroup.memory_limitation());
            cgroup.destroy().await;
        }
        super::orphans::forget(&spec.sandbox);
        on_event(Lifecycle::Ended(exit));
    });
    ProcessControl { stop: tx }
}

enum Prepared {
    Ready,
    Failed(String),
    Stopped,
}

/// Runs the preparation unless a stop request comes first.
async fn prepared(prepare: Prepare, stops: &mut mpsc::UnboundedReceiver<Stop>) -> Prepared {
    tokio::pin!(prepare);
    let mut stops_open = true;
    loop {
        tokio::select! {
            result = &mut prepare => {
                return match result {
                    Ok(()) => Prepared::Ready,
                    Err(message) => Prepared::Failed(message),
                };
            }
            stop = stops.recv(), if stops_open => match stop {
                Some(_) => return Prepared::Stopped,
                None => stops_open = false,
            },
        }
    }
}

/// A launch whose program is "text file busy" is tried this many times more, pausing
/// [`BUSY_PAUSE`], then twice as long each time (about 0.6 s in all).
const BUSY_RETRIES: u32 = 6;
const BUSY_PAUSE: Duration = Duration::from_millis(10);

/// The pause before launching again after `error` on try `tries` (counted from 0), or
/// `None` to give up. Only ETXTBSY is retried. The agent writes fetched executors
/// itself: if another launch forks while such a file is still open for writing, the
/// forked child holds the write descriptor until its own exec, and an exec of the file
/// in that window fails although nothing is wrong. (Mesos's fetcher is a separate
/// process, which has exited before the executor starts.)
fn busy_pause(error: &AgentError, tries: u32) -> Option<Duration> {
    (text_file_busy(error) && tries < BUSY_RETRIES).then(|| BUSY_PAUSE * 2u32.pow(tries))
}

fn text_file_busy(error: &AgentError) -> bool {
    matches!(error, AgentError::Launch { source, .. }
        if source.raw_os_error() == Some(nix::errno::Errno::ETXTBSY as i32))
}

fn spawn(
    spec: &LaunchSpec,
    cgroup: Option<&Cgroup>,
) -> Result<(tokio::process::Child, u32), AgentError> {
    let launch_err = |what: &str, source| AgentError::Launch {
        what: what.to_owned(),
        source,
    };
    let sandbox = spec.sandbox.as_path();
    std::fs::create_dir_all(sandbox).map_err(|e| launch_err(&sandbox.display().to_string(), e))?;
    let stdout = open_log(sandbox, "stdout").map_err(|e| launch_err("stdout", e))?;
    let stderr = open_log(sandbox, "stderr").map_err(|e| launch_err("stderr", e))?;
    let value = spec.command.value.clone().unwrap_or_default();
    let mut cmd = if spec.command.shell.unwrap_or(true) {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(&value);
        c
    } else {
        // A relative program path (`./executor`, as fetched) is in the sandbox.
        let program = if value.contains('/') && !value.starts_with('/') {
            sandbox.join(&value)
        } else {
            PathBuf::from(&value)
        };
        let mut c = Command::new(program);
        // Mesos passes `arguments` as the whole argv, argv[0] included.
        if let Some((argv0, rest)) = spec.command.arguments.split_first() {
            c.arg0(argv0).args(rest);
        }
        c
    };
    cmd.current_dir(sandbox)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .kill_on_drop(true);
    if let Some(run_as) = spec.run_as {
        // std drops the supplementary groups when root sets a uid.
        cmd.uid(run_as.uid.as_raw()).gid(run_as.gid.as_raw());
    }
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
    if let Some(env) = &spec.command.environment {
        for var in &env.variables {
            cmd.env(&var.name, var.value.as_deref().unwrap_or(""));
        }
    }
    if let Some(cgroup) = cgroup {
        let procs = cgroup
            .procs_files()
            .map_err(|e| launch_err("cgroup.procs", std::io::Error::other(e)))?;
        // SAFETY: the closure runs in the forked child before exec, where only
        // async-signal-safe operations are allowed. It only calls write(2) (through
        // `nix::unistd::write`, a thin wrapper) on file descriptors opened before the
        // fork and owned by the closure, so they stay valid; it allocates nothing (an
        // `Errno` converts into an `io::Error` holding the raw code), takes no locks and
        // touches no shared state. Writing `0` moves the calling process (the child)
        // into the cgroup, so everything it execs and starts is accounted there from
        // its first instruction. The files are close-on-exec and vanish at exec.
        unsafe {
            cmd.pre_exec(move || {
                for file in &procs {
                    nix::unistd::write(file, b"0")?;
                }
                Ok(())
            });
        }
    }
    let child = cmd.spawn().map_err(|e| launch_err(&value, e))?;
    let pid = child.id().ok_or_else(|| {
        launch_err(
            &value,
            std::io::Error::other("the process exited before its pid was read"),
        )
    })?;
    Ok((child, pid))
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
    cgroup: Option<&Cgroup>,
) -> Exit {
    let mut stops_open = true;
    let mut stopped = false;
    let mut limitation: Option<Limitation> = None;
    let mut checks = tokio::time::interval(LIMITATION_POLL);
    checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut deadline: Option<(Instant, Next, Duration)> = None;
    let status = loop {
        let sleep_until = deadline.as_ref().map(|(at, _, _)| *at);
        tokio::select! {
            status = child.wait() => break status,
            _ = checks.tick(), if cgroup.is_some() && limitation.is_none() => {
                if let Some(found) = cgroup.and_then(Cgroup::memory_limitation) {
                    // The container ends with its limitation, as in Mesos.
                    tracing::warn!(pid, message = %found.message, "container over its limit; killing it");
                    signal_group(pid, Signal::SIGKILL);
                    limitation = Some(found);
                }
            }
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
            started: true,
            limitation,
        },
        Err(e) => {
            tracing::warn!(pid, error = %e, "failed to wait for process");
            Exit {
                code: None,
                signal: None,
                stopped,
                started: true,
                limitation,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    fn launch_error(source: std::io::Error) -> AgentError {
        AgentError::Launch {
            what: "./executor".into(),
            source,
        }
    }

    /// A real ETXTBSY: the program is still open for writing when it is executed; it is
    /// retried, and starts once the writer has closed it.
    #[test]
    fn a_program_still_open_for_writing_is_busy_until_it_is_closed() {
        let dir = std::env::temp_dir().join(format!("busy-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let program = dir.join("executor");
        let mut writer = File::create(&program).unwrap();
        writer.write_all(b"#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let launch = || {
            std::process::Command::new(&program)
                .spawn()
                .map_err(launch_error)
        };
        let busy = launch().expect_err("busy while open for writing");
        assert!(text_file_busy(&busy), "the kernel's answer: {busy}");
        assert_eq!(busy_pause(&busy, 0), Some(BUSY_PAUSE));
        drop(writer);
        let mut child = launch().expect("launched once the file was closed");
        assert!(child.wait().unwrap().success());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn busy_launches_back_off_then_give_up_and_other_failures_are_not_retried() {
        let busy = launch_error(std::io::Error::from_raw_os_error(
            nix::errno::Errno::ETXTBSY as i32,
        ));
        let pauses: Vec<Duration> = (0..).map_while(|t| busy_pause(&busy, t)).collect();
        let ms: Vec<u128> = pauses.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [10, 20, 40, 80, 160, 320]);
        let missing = launch_error(std::io::ErrorKind::NotFound.into());
        assert_eq!(busy_pause(&missing, 0), None);
    }
}
