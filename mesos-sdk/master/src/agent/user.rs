//! Mesos's `--switch_user`: which OS user runs an executor, and a sandbox owned by
//! that user.
//!
//! As in Mesos (`Framework::addExecutor`, `paths::createExecutorDirectory`, stout's
//! `os::chown`): with `switch_user` on, an executor (or a command task's command
//! executor) runs as `CommandInfo.user` when set, else as `FrameworkInfo.user`. Its
//! sandbox is created, then chowned recursively to that user; a user that does not exist
//! (an empty name included) or that the agent may not chown to fails the launch, and the
//! sandbox is removed again.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::unistd::{Gid, Uid, User};

use mesos_sdk::v1;

/// Why an executor's sandbox could not be prepared. `Display` gives Mesos's own text,
/// which the agent puts into the tasks' TASK_LOST (or TASK_DROPPED) updates.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SandboxError {
    /// The directory (or its `stdout`/`stderr` files) could not be created.
    #[error("Failed to create executor directory '{}': Failed to create directory: {}", dir.display(), os_text(source))]
    Create {
        /// The sandbox directory.
        dir: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The directory could not be given to the run-as user.
    #[error("Failed to create executor directory '{}': Failed to chown directory to '{user}': {source}", dir.display())]
    Chown {
        /// The sandbox directory.
        dir: PathBuf,
        /// The run-as user.
        user: String,
        /// What went wrong.
        #[source]
        source: ChownError,
    },
}

/// Why a directory could not be chowned to a user (stout's `os::chown` texts).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ChownError {
    /// The user database has no such user (an empty name never exists).
    #[error("No such user '{0}'")]
    NoSuchUser(String),
    /// Looking the user up failed.
    #[error("Failed to get user information for '{user}': {}", errno.desc())]
    Lookup {
        /// The user looked up.
        user: String,
        /// The lookup's error.
        errno: Errno,
    },
    /// `chown(2)` failed, e.g. `Operation not permitted` for an agent that is not root.
    #[error("{}", .0.desc())]
    Os(Errno),
}

/// The OS identity a process is started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunAs {
    /// The user's uid.
    pub uid: Uid,
    /// The user's primary gid.
    pub gid: Gid,
}

/// The user an executor runs as: `None` with `switch_user` off (the agent's own user),
/// else the command's `user` when set, else the framework's.
pub(crate) fn run_as_user(
    switch_user: bool,
    framework: &v1::FrameworkInfo,
    command: Option<&v1::CommandInfo>,
) -> Option<String> {
    if !switch_user {
        return None;
    }
    Some(
        command
            .and_then(|c| c.user.clone())
            .unwrap_or_else(|| framework.user.clone()),
    )
}

/// Creates `dir` with empty `stdout` and `stderr` files and, when `user` is given, chowns
/// all of it to that user. Returns the identity to start the process with: `None` when
/// there is no user or it is the agent's own user (nothing to switch). On a chown
/// failure the directory is removed again, as Mesos does.
pub(crate) fn create_sandbox(
    dir: &Path,
    user: Option<&str>,
) -> Result<Option<RunAs>, SandboxError> {
    let create_err = |source| SandboxError::Create {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(create_err)?;
    for name in ["stdout", "stderr"] {
        std::fs::File::options()
            .create(true)
            .append(true)
            .open(dir.join(name))
            .map_err(create_err)?;
    }
    let Some(user) = user else {
        return Ok(None);
    };
    let chowned = lookup(user).and_then(|run_as| {
        chown_recursive(dir, run_as).map_err(ChownError::Os)?;
        Ok(run_as)
    });
    match chowned {
        Ok(run_as) if run_as.uid == nix::unistd::geteuid() => Ok(None),
        Ok(run_as) => Ok(Some(run_as)),
        Err(source) => {
            // Best effort, as in Mesos: the launch has failed whatever happens here.
            let _ = std::fs::remove_dir_all(dir);
            Err(SandboxError::Chown {
                dir: dir.to_path_buf(),
                user: user.to_owned(),
                source,
            })
        }
    }
}

/// The uid and primary gid of `user`.
fn lookup(user: &str) -> Result<RunAs, ChownError> {
    if user.is_empty() {
        return Err(ChownError::NoSuchUser(String::new()));
    }
    match User::from_name(user) {
        Ok(Some(found)) => Ok(RunAs {
            uid: found.uid,
            gid: found.gid,
        }),
        Ok(None) => Err(ChownError::NoSuchUser(user.to_owned())),
        Err(errno) => Err(ChownError::Lookup {
            user: user.to_owned(),
            errno,
        }),
    }
}

/// Chowns `path` and everything under it, without following symbolic links (stout's
/// `os::chown` uses `lchown` over an `fts` walk).
pub(crate) fn chown_recursive(path: &Path, to: RunAs) -> Result<(), Errno> {
    let meta = std::fs::symlink_metadata(path).map_err(io_errno)?;
    if meta.file_type().is_symlink() {
        return std::os::unix::fs::lchown(path, Some(to.uid.as_raw()), Some(to.gid.as_raw()))
            .map_err(io_errno);
    }
    nix::unistd::chown(path, Some(to.uid), Some(to.gid))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io_errno)? {
            chown_recursive(&entry.map_err(io_errno)?.path(), to)?;
        }
    }
    Ok(())
}

/// An I/O error as `strerror` words it, without Rust's ` (os error N)` suffix.
fn os_text(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), |n| Errno::from_raw(n).desc().to_owned())
}

fn io_errno(e: std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework(user: &str) -> v1::FrameworkInfo {
        v1::FrameworkInfo {
            user: user.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_command_user_overrides_the_framework_user() {
        let command = v1::CommandInfo {
            user: Some("alice".into()),
            ..Default::default()
        };
        let fw = framework("bob");
        assert_eq!(
            run_as_user(true, &fw, Some(&command)).as_deref(),
            Some("alice")
        );
        assert_eq!(run_as_user(true, &fw, None).as_deref(), Some("bob"));
        let no_user = v1::CommandInfo::default();
        assert_eq!(
            run_as_user(true, &fw, Some(&no_user)).as_deref(),
            Some("bob")
        );
        assert_eq!(run_as_user(false, &fw, Some(&command)), None);
    }

    #[test]
    fn errors_read_as_mesos_writes_them() {
        let dir = PathBuf::from("/w/runs/c");
        let chown = |user: &str, source| SandboxError::Chown {
            dir: dir.clone(),
            user: user.into(),
            source,
        };
        assert_eq!(
            chown("nope", ChownError::NoSuchUser("nope".into())).to_string(),
            "Failed to create executor directory '/w/runs/c': Failed to chown directory to 'nope': No such user 'nope'"
        );
        assert_eq!(
            chown("bin", ChownError::Os(Errno::EPERM)).to_string(),
            "Failed to create executor directory '/w/runs/c': Failed to chown directory to 'bin': Operation not permitted"
        );
    }

    #[test]
    fn an_unknown_or_empty_user_fails_and_leaves_no_sandbox() {
        let root = std::env::temp_dir().join(format!("user-test-{}", uuid::Uuid::new_v4()));
        let dir = root.join("runs/c");
        for user in ["no-such-user-xyz", ""] {
            let err = create_sandbox(&dir, Some(user)).unwrap_err();
            assert!(
                matches!(&err, SandboxError::Chown { source: ChownError::NoSuchUser(u), .. } if u == user),
                "{err}"
            );
            assert!(!dir.exists());
        }
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn the_agents_own_user_needs_no_switch() {
        let root = std::env::temp_dir().join(format!("user-test-{}", uuid::Uuid::new_v4()));
        let me = User::from_uid(nix::unistd::geteuid()).unwrap().unwrap();
        assert_eq!(create_sandbox(&root, Some(&me.name)).unwrap(), None);
        assert!(root.join("stdout").is_file() && root.join("stderr").is_file());
        assert_eq!(create_sandbox(&root, None).unwrap(), None);
        std::fs::remove_dir_all(root).unwrap();
    }
}
