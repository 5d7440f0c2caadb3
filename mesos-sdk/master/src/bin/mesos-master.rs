//! `mesos-master`: the reference master on its own, for agents on other machines
//! (`mesos-agent`), optionally one of several masters electing a leader through
//! ZooKeeper.
//!
//! ```text
//! mesos-master --ip 10.0.0.5 --port 5050 --zk zk://zk1:2181,zk2:2181/mesos
//! ```
//!
//! With `--zk` it serves only while it leads; the others redirect to the leader. When
//! a leader loses its ZooKeeper session it exits (status 1), as a Mesos master does:
//! run it under a supervisor that restarts it. Ctrl-C or SIGTERM stops it; tasks on the
//! agents keep running, and the agents re-register with the next master.

use std::process::ExitCode;

use clap::Parser;
use mesos_master::election::Leadership;
use mesos_master::tls::TlsFlags;
use mesos_master::{ElectionFlags, Master, MasterFlags};
use tracing::{info, warn};

/// jemalloc, as Mesos can be built with (the `jemalloc` feature, on by default).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A Mesos master speaking the v1 scheduler HTTP API, for remote agents, with
/// optional ZooKeeper leader election.
#[derive(Debug, Parser)]
#[command(name = "mesos-master", version)]
struct Args {
    #[command(flatten)]
    master: MasterFlags,
    #[command(flatten)]
    election: ElectionFlags,
    #[command(flatten)]
    tls: TlsFlags,
    /// Log filter (`RUST_LOG` syntax), e.g. `info` or `mesos_master=debug`.
    #[arg(long, default_value = "info")]
    log: String,
}

fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

async fn run(args: Args) -> Result<(), String> {
    let mut config = args.master.config(&machine_hostname())?;
    config.tls = args.tls.config().map_err(|e| e.to_string())?;
    let addr = args.master.addr();
    let master = match args.election.election()? {
        Some(election) => {
            info!(zk = %election.zk, session_timeout = ?election.session_timeout, "joining the leader election");
            Master::start_contending(config, addr, election).await
        }
        None => Master::start(config, addr).await,
    }
    .map_err(|e| e.to_string())?;
    info!(url = %master.url(), "mesos-master is up; scheduler API at {}/api/v1/scheduler", master.url());
    let mut leadership = master.leadership();
    let lost = async move {
        match leadership
            .wait_for(|l| matches!(l, Leadership::Lost(_)))
            .await
        {
            Ok(l) => l.clone(),
            Err(_) => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        () = mesos_master::signals::termination() => Ok(()),
        lost = lost => {
            let Leadership::Lost(why) = lost else { unreachable!("waited for Lost") };
            Err(format!("lost leadership ({why}); exiting so that a supervisor restarts this master"))
        }
    };
    if outcome.is_ok() {
        info!("stopping");
    } else {
        warn!("stepping down");
    }
    // Tasks on the agents keep running; they re-register with the next leader.
    master.stop().await;
    outcome
}

fn main() -> ExitCode {
    let args = Args::parse();
    let log = args.log.clone();
    mesos_master::signals::run_main(&log, run(args))
}
