//! Command-line flags the agent binaries (`mesos-local`, `mesos-agent`) share.

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
