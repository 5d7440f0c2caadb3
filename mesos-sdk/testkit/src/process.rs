//! Child processes for tests: killed on drop, their output kept in a log file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A child process whose stdout and stderr go to a log file; killed (`SIGKILL`) and
/// reaped when dropped.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl ChildProcess {
    /// Spawns `command` with its output in `log`.
    ///
    /// # Panics
    /// When the log cannot be created or the program cannot be started.
    pub fn spawn(name: &str, command: Command, log: &Path) -> ChildProcess {
        let file =
            std::fs::File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        Self::spawn_into(name, command, log, file)
    }

    /// As [`ChildProcess::spawn`], appending to `log` (a restarted process keeps its
    /// predecessor's output).
    ///
    /// # Panics
    /// As [`ChildProcess::spawn`].
    pub fn spawn_appending(name: &str, command: Command, log: &Path) -> ChildProcess {
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
        Self::spawn_into(name, command, log, file)
    }

    fn spawn_into(
        name: &str,
        mut command: Command,
        log: &Path,
        file: std::fs::File,
    ) -> ChildProcess {
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({command:?}): {e}"));
        ChildProcess {
            name: name.to_owned(),
            child: Some(child),
            log: log.to_owned(),
        }
    }

    /// The process id (0 once the process was reaped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Its name, as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Kills it with `SIGKILL` (as `kill -9`) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `SIGTERM` and waits (at most `patience`) for it to exit; `SIGKILL` after.
    /// Returns whether it exited on its own.
    pub fn terminate(&mut self, patience: std::time::Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + patience;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Its output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A port that was free a moment ago (the OS picked it; the listener is closed again).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("pick a free port")
        .port()
}

/// A fresh directory under the temp dir, removed on drop unless `KEEP_SCRATCH` is
/// set in the environment (to read a failed test's logs and sandboxes afterwards).
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates `<tmp>/<prefix>-<pid>-<n>`.
    ///
    /// # Panics
    /// When it cannot be created.
    pub fn new(prefix: &str) -> Scratch {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Scratch(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_SCRATCH").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
