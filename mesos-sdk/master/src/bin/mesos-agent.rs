//! `mesos-agent`: an agent of the reference master, in its own process.
//!
//! It registers with the master over HTTP, runs the tasks the master sends (command
//! tasks and custom executors, with Mesos's executor API), and re-registers when the
//! master goes away. Ctrl-C or SIGTERM kills its tasks and exits.
//!
//! ```text
//! mesos-agent --master http://127.0.0.1:5050 --resources 'cpus:2;mem:1024' \
//!     --attributes 'rack:r1' --work-dir /tmp/mesos-agent
//! mesos-agent --master zk://zk1:2181,zk2:2181/mesos   # follows the elected leader
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mesos_master::agent::{
    AgentConfig, CredentialFlags, ExecutorAuthFlags, FetcherFlags, IsolationFlags, SwitchUserFlags,
    parse_attributes, remote,
};
use mesos_master::tls::{TlsFlags, read_ca};
use mesos_sdk::resources::Resources;
use tracing_subscriber::EnvFilter;

/// jemalloc, as Mesos can be built with (the `jemalloc` feature, on by default).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// An agent for the mesos-rs reference master: registers with the master over HTTP
/// and runs its tasks as local processes.
#[derive(Debug, Parser)]
#[command(name = "mesos-agent", version)]
struct Args {
    /// The master: its HTTP address, or `zk://[user:password@]host:port[,...]/path` to
    /// register with the leader elected there and follow it across failovers.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:5050")]
    master: String,

    /// Resources to offer, in Mesos's --resources form: `name:value` pairs separated by
    /// `;`, e.g. `cpus:2;mem:1024;disk:4096;ports:[31000-32000]`. Default: every CPU of
    /// this machine, mem:1024, disk:1024, ports:[31000-32000].
    #[arg(long, value_name = "SPEC")]
    resources: Option<String>,

    /// Attributes, in Mesos's --attributes form: `name:value` pairs separated by `;`
    /// (text, scalar, or ranges such as `[1-10]`), e.g. `rack:r1;zone:eu`.
    #[arg(long, value_name = "SPEC", default_value = "")]
    attributes: String,

    /// Root directory of the task sandboxes (created if missing).
    #[arg(long, value_name = "DIR", default_value = "/tmp/mesos-agent")]
    work_dir: PathBuf,

    /// Hostname reported to the master and put into offers. Default: this machine's
    /// hostname.
    #[arg(long)]
    hostname: Option<String>,

    /// Register under this agent id (e.g. the id of a previous run); by default the
    /// master assigns one.
    #[arg(long, value_name = "ID")]
    agent_id: Option<String>,

    #[command(flatten)]
    switch_user: SwitchUserFlags,

    #[command(flatten)]
    isolation: IsolationFlags,

    #[command(flatten)]
    fetcher: FetcherFlags,

    #[command(flatten)]
    credential: CredentialFlags,

    /// Seconds before the first registration retry (Mesos's
    /// `--registration_backoff_factor`); each retry waits up to twice as long, at most
    /// one minute.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    registration_backoff_factor: f64,

    /// Address of the executor HTTP API (`/api/v1/executor`); port 0 picks a free port.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    executor_api: SocketAddr,

    /// Also serve the executor API on a Unix domain socket, named to executors in
    /// `MESOS_DOMAIN_SOCKET` (Mesos's `--http_executor_domain_sockets`); executors on
    /// this host then reach the agent without TCP.
    #[arg(long)]
    http_executor_domain_sockets: bool,

    /// Where that socket is created (Mesos's `--domain_socket_location`); shorter than
    /// 108 bytes. Default: `agent.sock` in `--work-dir`.
    #[arg(long, value_name = "PATH", requires = "http_executor_domain_sockets")]
    domain_socket_location: Option<PathBuf>,

    /// Serve the executor API over TLS.
    #[command(flatten)]
    tls: TlsFlags,

    /// Trust this PEM CA certificate (bundle) for an `https://` master, besides the
    /// bundled web PKI roots. With it, masters found through `zk://` are reached over
    /// https. With `--tls-cert`, executors are told to trust it for the agent too.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,

    #[command(flatten)]
    executor_auth: ExecutorAuthFlags,
}

fn default_resources() -> String {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    format!("cpus:{cpus};mem:1024;disk:1024;ports:[31000-32000]")
}

fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn config(args: &Args) -> Result<AgentConfig, String> {
    let spec = args.resources.clone().unwrap_or_else(default_resources);
    let resources =
        Resources::parse(&spec).map_err(|e| format!("invalid --resources '{spec}': {e}"))?;
    let attributes = parse_attributes(&args.attributes).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.work_dir)
        .map_err(|e| format!("cannot create --work-dir {}: {e}", args.work_dir.display()))?;
    let mut config = AgentConfig::new(
        args.agent_id.clone().unwrap_or_default(),
        resources,
        args.work_dir.clone(),
    );
    config.attributes = attributes;
    config.hostname = args.hostname.clone().unwrap_or_else(machine_hostname);
    config.executor_api_addr = args.executor_api;
    if args.http_executor_domain_sockets {
        let socket = args
            .domain_socket_location
            .clone()
            .unwrap_or_else(|| args.work_dir.join("agent.sock"));
        if socket.as_os_str().len() >= mesos_sdk::transport::MAX_SOCKET_PATH {
            return Err(format!(
                "the executor domain socket {} must be shorter than {} bytes (--domain-socket-location)",
                socket.display(),
                mesos_sdk::transport::MAX_SOCKET_PATH
            ));
        }
        config.executor_domain_socket = Some(socket);
    }
    config.switch_user = args.switch_user.enabled();
    config.isolation = args.isolation.config();
    config.fetcher = args.fetcher.config()?;
    config.credential = args.credential.credential()?;
    config.tls = args.tls.config().map_err(|e| format!("TLS: {e}"))?;
    if let Some(ca) = &args.tls_ca {
        config.master_tls_roots = vec![read_ca(ca).map_err(|e| format!("--tls-ca: {e}"))?];
        config.tls_ca_file = Some(ca.clone());
    }
    config.executor_auth = args.executor_auth.config().map_err(|e| e.to_string())?;
    config.registration_backoff =
        std::time::Duration::try_from_secs_f64(args.registration_backoff_factor)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!(
                    "--registration-backoff-factor must be a positive number of seconds, got {}",
                    args.registration_backoff_factor
                )
            })?;
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = match config(&args) {
        Ok(config) => config,
        Err(message) => {
            tracing::error!("{message}");
            return ExitCode::FAILURE;
        }
    };
    match remote::run_remote_until(config, &args.master, mesos_master::signals::termination()).await
    {
        Ok(()) => {
            tracing::info!("agent stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
