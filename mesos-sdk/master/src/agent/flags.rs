//! Command-line flags the agent binaries (`mesos-local`, `mesos-agent`) share.

use super::isolation::{IsolationConfig, IsolationKind};

/// `--switch-user[=BOOL]` and `--no-switch-user`: whether agents run each task as its
/// user, as Mesos's `--switch_user` (on by default). Flatten it into a clap parser.
///
/// ```
/// use clap::Parser;
/// use mesos_master::agent::SwitchUserFlags;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     switch_user: SwitchUserFlags,
/// }
/// let args = Args::parse_from(["agent", "--no-switch-user"]);
/// assert!(!args.switch_user.enabled());
/// ```
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct SwitchUserFlags {
    /// Run each task as its user, as Mesos's `--switch_user` (on by default):
    /// `CommandInfo.user`, else `FrameworkInfo.user`, which must exist on this machine
    /// (else the task is TASK_LOST); only root can run tasks as other users.
    /// `--switch-user=false` (or `--no-switch-user`) runs every task as this process's user.
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        default_value_t = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        overrides_with = "no_switch_user"
    )]
    switch_user: bool,

    /// Same as `--switch-user=false`.
    #[arg(long, overrides_with = "switch_user")]
    no_switch_user: bool,
}

impl SwitchUserFlags {
    /// Whether tasks run as their user: `--switch-user[=BOOL]` and `--no-switch-user`,
    /// the last one given winning.
    pub fn enabled(&self) -> bool {
        self.switch_user && !self.no_switch_user
    }
}

/// `--isolation posix|cgroups`, `--cgroups-enable-cfs` and `--cgroups-root`: how
/// agents isolate their containers, as Mesos's flags of the same names. Flatten it into
/// a clap parser.
///
/// ```
/// use clap::Parser;
/// use mesos_master::agent::IsolationFlags;
/// use mesos_master::agent::isolation::IsolationKind;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     isolation: IsolationFlags,
/// }
/// let args = Args::parse_from(["agent", "--isolation", "cgroups", "--cgroups-enable-cfs"]);
/// let config = args.isolation.config();
/// assert_eq!(config.kind, IsolationKind::Cgroups);
/// assert!(config.cgroups_enable_cfs);
/// assert_eq!(Args::parse_from(["agent"]).isolation.config().kind, IsolationKind::Posix);
/// ```
#[derive(Debug, Clone, clap::Args)]
pub struct IsolationFlags {
    /// What agents enforce on each container (a command task, or a custom executor
    /// with its tasks): `posix` enforces nothing; `cgroups` puts each container in its
    /// own cgroup with its cpu shares and memory limit (v1 where the cpu and memory
    /// controllers are mounted under /sys/fs/cgroup, else v2; needs root). A task over
    /// its memory limit fails with REASON_CONTAINER_LIMITATION_MEMORY.
    #[arg(long, value_enum, value_name = "KIND", default_value_t = IsolationKind::Posix)]
    isolation: IsolationKind,

    /// With `--isolation cgroups`: also cap each container's cpu time at its cpus with
    /// a CFS quota (Mesos's `--cgroups_enable_cfs`), not only weigh it with shares.
    #[arg(long)]
    cgroups_enable_cfs: bool,

    /// With `--isolation cgroups`: the cgroup under which agents keep their containers
    /// (`<root>/<agent id>/<container id>`; in v1 relative to the agent's own cgroup).
    #[arg(long, value_name = "NAME", default_value = "mesos-rs")]
    cgroups_root: String,
}

impl IsolationFlags {
    /// The agents' [`IsolationConfig`].
    pub fn config(&self) -> IsolationConfig {
        IsolationConfig {
            kind: self.isolation,
            cgroups_enable_cfs: self.cgroups_enable_cfs,
            cgroups_root: self.cgroups_root.clone(),
        }
    }
}

/// `--credential FILE`: what a remote agent authenticates with (Mesos's agent
/// `--credential`: JSON `{"principal": "p", "secret": "s"}` or a `principal secret`
/// line; the path may be written `file:///path`). Flatten it into a clap parser.
#[derive(Debug, Clone, Default, clap::Args)]
#[non_exhaustive]
pub struct CredentialFlags {
    /// The credential sent to the master (HTTP Basic) when it authenticates agents:
    /// JSON `{"principal": "p", "secret": "s"}` or a `principal secret` line.
    #[arg(long, value_name = "FILE")]
    pub credential: Option<String>,
}

impl CredentialFlags {
    /// The credential, if one is given.
    ///
    /// # Errors
    /// A message naming `--credential` when the file cannot be read or parsed.
    pub fn credential(&self) -> Result<Option<crate::auth::Credential>, String> {
        self.credential
            .as_deref()
            .map(crate::auth::Credential::load)
            .transpose()
            .map_err(|e| format!("--credential: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        switch_user: SwitchUserFlags,
    }

    fn switch_user(flags: &[&str]) -> bool {
        Args::try_parse_from(std::iter::once("agent").chain(flags.iter().copied()))
            .expect("flags parse")
            .switch_user
            .enabled()
    }

    #[test]
    fn switch_user_is_on_unless_turned_off() {
        assert!(switch_user(&[]));
        assert!(switch_user(&["--switch-user"]));
        assert!(switch_user(&["--switch-user=true"]));
        assert!(!switch_user(&["--switch-user=false"]));
        assert!(!switch_user(&["--switch-user", "false"]));
        assert!(!switch_user(&["--no-switch-user"]));
        assert!(switch_user(&["--no-switch-user", "--switch-user"]));
        assert!(!switch_user(&["--switch-user", "--no-switch-user"]));
    }
}
