//! Command-line flags the agent binaries (`mesos-local`, `mesos-agent`) share.

use std::time::Duration;

use super::fetcher::FetcherConfig;
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

/// The fetcher's bounds: `--fetcher-cache-size` and `--fetcher-stall-timeout` (Mesos's
/// `--fetcher_cache_size` and `--fetcher_stall_timeout`), `--fetcher-max-size` and
/// `--fetcher-timeout` (this agent's own). Sizes are bytes, with an optional unit as
/// in Mesos (`B`, `KB`, `MB`, `GB`, `TB`, powers of 1024); times are seconds. Flatten
/// it into a clap parser.
///
/// ```
/// use clap::Parser;
/// use mesos_master::agent::FetcherFlags;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     fetcher: FetcherFlags,
/// }
/// let args = Args::parse_from(["agent", "--fetcher-max-size", "10MB", "--fetcher-timeout", "30"]);
/// let config = args.fetcher.config()?;
/// assert_eq!(config.max_bytes, 10 * 1024 * 1024);
/// assert_eq!(config.timeout, std::time::Duration::from_secs(30));
/// assert_eq!(config.cache_size, 2 << 30); // Mesos's default, 2 GB
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, clap::Args)]
pub struct FetcherFlags {
    /// The fetcher cache's size (Mesos's `--fetcher_cache_size`): URIs fetched with
    /// `cache` are kept up to this many bytes, least recently used evicted first.
    #[arg(long, value_name = "BYTES", default_value = "2GB")]
    fetcher_cache_size: String,

    /// Seconds a download may go without receiving data before it fails (Mesos's
    /// `--fetcher_stall_timeout`).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    fetcher_stall_timeout: f64,

    /// The largest resource the fetcher downloads, and the most an archive may unpack
    /// to: larger ones fail the task (TASK_FAILED naming the URI).
    #[arg(long, value_name = "BYTES", default_value = "4GB")]
    fetcher_max_size: String,

    /// Seconds fetching one URI may take, extraction included.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    fetcher_timeout: f64,
}

impl FetcherFlags {
    /// The agents' [`FetcherConfig`].
    ///
    /// # Errors
    /// A message naming the flag whose value is not a size or a number of seconds.
    pub fn config(&self) -> Result<FetcherConfig, String> {
        Ok(FetcherConfig {
            cache_size: bytes("fetcher-cache-size", &self.fetcher_cache_size)?,
            max_bytes: bytes("fetcher-max-size", &self.fetcher_max_size)?,
            stall_timeout: positive_seconds("fetcher-stall-timeout", self.fetcher_stall_timeout)?,
            timeout: positive_seconds("fetcher-timeout", self.fetcher_timeout)?,
            ..FetcherConfig::default()
        })
    }
}

/// A size in Mesos's form: a whole number of bytes with an optional unit (`B`, `KB`,
/// `MB`, `GB`, `TB`; powers of 1024).
fn bytes(flag: &str, value: &str) -> Result<u64, String> {
    let text = value.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => 0,
    };
    number
        .parse::<u64>()
        .ok()
        .filter(|_| scale > 0)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| {
            format!("--{flag} must be a size such as 1048576, 512MB or 2GB, got '{value}'")
        })
}

fn positive_seconds(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("--{flag} must be a positive number of seconds, got {value}"))
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

    #[derive(Parser)]
    struct FetcherArgs {
        #[command(flatten)]
        fetcher: FetcherFlags,
    }

    fn fetcher(flags: &[&str]) -> Result<FetcherConfig, String> {
        FetcherArgs::try_parse_from(std::iter::once("agent").chain(flags.iter().copied()))
            .map_err(|e| e.to_string())?
            .fetcher
            .config()
    }

    #[test]
    fn fetcher_flags_take_mesos_sizes_and_seconds() {
        let defaults = fetcher(&[]).unwrap();
        let mesos = FetcherConfig::default();
        assert_eq!(defaults.cache_size, mesos.cache_size);
        assert_eq!(defaults.max_bytes, mesos.max_bytes);
        assert_eq!(defaults.stall_timeout, mesos.stall_timeout);
        assert_eq!(defaults.timeout, mesos.timeout);
        let set = fetcher(&[
            "--fetcher-cache-size=1024",
            "--fetcher-max-size=3KB",
            "--fetcher-stall-timeout=0.5",
        ])
        .unwrap();
        assert_eq!(set.cache_size, 1024);
        assert_eq!(set.max_bytes, 3 * 1024);
        assert_eq!(set.stall_timeout, Duration::from_millis(500));
        for bad in [
            "--fetcher-max-size=lots",
            "--fetcher-max-size=12PB",
            "--fetcher-cache-size=-1",
            "--fetcher-timeout=0",
        ] {
            let error = fetcher(&[bad]).unwrap_err();
            let flag = bad.trim_start_matches("--").split('=').next().unwrap();
            assert!(error.contains(flag), "{bad}: {error}");
        }
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
