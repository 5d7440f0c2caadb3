//! Failover time of the reference masters: from the leader's death (`kill -9`) to the
//! framework being subscribed to the new leader.
//!
//! Three masters (this bench binary re-run as a master process, so that it can be
//! killed) elect a leader through a real ZooKeeper (Debian's `zookeeper`); a framework
//! on `zk://` is subscribed. Each round kills the leader, times the failover, and
//! restarts the killed master. Each round reports:
//!
//! - `elected`: until a new leader serves (`GET /state` answers 200, polled every 5 ms),
//!   and
//! - `subscribed`: until the framework's driver is subscribed to it.
//!
//! The ZooKeeper session timeout bounds how soon the others can notice (the dead
//! leader's znode lives until its session expires); the rest is our own time, plus
//! ZooKeeper's expiry granularity (the test server's `tickTime`, 200 ms, which also caps
//! sessions at 4 s).
//!
//! ```text
//! cargo bench -p mesos-benches --bench failover                  # 20 rounds, 2 s sessions
//! FAILOVERS=50 ZK_SESSION_TIMEOUT=10 cargo bench -p mesos-benches --bench failover
//! ```

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use mesos_master::election::ElectionConfig;
use mesos_master::{Master, MasterConfig};
use mesos_sdk::detect::ZooKeeperUrl;
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use mesos_sdk::v1;
use mesos_testkit::{ChildProcess, Scratch, ZooKeeperServer, free_port};
use tokio::sync::mpsc;

const MASTER_ZK: &str = "FAILOVER_BENCH_MASTER_ZK";
const MASTER_PORT: &str = "FAILOVER_BENCH_MASTER_PORT";
const MASTER_SESSION: &str = "FAILOVER_BENCH_MASTER_SESSION";
const WAIT: Duration = Duration::from_secs(60);

/// Tells the bench each time the framework is subscribed.
struct Subscriptions(mpsc::UnboundedSender<Instant>);

#[async_trait::async_trait]
impl Scheduler for Subscriptions {
    async fn subscribed(
        &mut self,
        _client: &SchedulerClient,
        _subscribed: v1::scheduler::event::Subscribed,
    ) {
        let _ = self.0.send(Instant::now());
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The master process: contends until killed.
async fn master_process(zk: String) {
    let port: u16 = env_or(MASTER_PORT, 0);
    let session: f64 = env_or(MASTER_SESSION, 2.0);
    let mut config = MasterConfig::default();
    config.hostname = "127.0.0.1".into();
    let mut election = ElectionConfig::new(ZooKeeperUrl::parse(&zk).expect("valid zk URL"));
    election.session_timeout = Duration::from_secs_f64(session);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let _master = Master::start_contending(config, addr, election)
        .await
        .expect("master starts");
    std::future::pending::<()>().await;
}

struct Masters {
    zk_url: String,
    session: f64,
    scratch: Scratch,
    ports: Vec<u16>,
    processes: Vec<Option<ChildProcess>>,
    http: reqwest::Client,
}

impl Masters {
    fn start(&mut self, i: usize) {
        let mut command = Command::new(std::env::current_exe().expect("bench binary"));
        command
            .env(MASTER_ZK, &self.zk_url)
            .env(MASTER_PORT, self.ports[i].to_string())
            .env(MASTER_SESSION, self.session.to_string());
        let log = self.scratch.path().join(format!("master{i}.log"));
        self.processes[i] = Some(ChildProcess::spawn(&format!("master{i}"), command, &log));
    }

    /// The one master serving `/state`, other than `not`, waiting for it.
    async fn leader(&self, not: Option<usize>) -> usize {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            for i in (0..self.ports.len()).filter(|i| Some(*i) != not) {
                let url = format!("http://127.0.0.1:{}/state", self.ports[i]);
                if self
                    .http
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
                {
                    return i;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no leader within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn summary(name: &str, mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    format!(
        "{name:<28} min {:>6.0} ms   median {:>6.0} ms   max {:>6.0} ms",
        values[0],
        median,
        values[values.len() - 1]
    )
}

async fn bench() {
    let rounds: usize = env_or("FAILOVERS", 20);
    let session: f64 = env_or("ZK_SESSION_TIMEOUT", 2.0);
    let zk = ZooKeeperServer::start().await;
    let mut masters = Masters {
        zk_url: zk.zk_url("/mesos"),
        session,
        scratch: Scratch::new("failover-bench"),
        ports: vec![free_port(), free_port(), free_port()],
        processes: vec![None, None, None],
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(300))
            .build()
            .expect("HTTP client"),
    };
    for i in 0..3 {
        masters.start(i);
    }
    let mut leader = masters.leader(None).await;

    let info = mesos_sdk::calls::framework_info("failover-bench", "")
        .failover_timeout(Duration::from_secs(3600))
        .build();
    let driver = SchedulerDriver::builder(masters.zk_url.clone(), info)
        .backoff(mesos_sdk::backoff::BackoffConfig {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
            multiplier: 2.0,
            jitter: 0.0,
        })
        .build()
        .expect("driver builds");
    let (tx, mut subscribed) = mpsc::unbounded_channel();
    let run = tokio::spawn(driver.run(Subscriptions(tx)));
    tokio::time::timeout(WAIT, subscribed.recv())
        .await
        .expect("subscribed in time");

    eprintln!(
        "failover: {rounds} rounds, 3 masters, ZooKeeper session timeout {session} s (logs in {})",
        masters.scratch.path().display()
    );
    let (mut elected, mut resubscribed) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let killed_at = Instant::now();
        if let Some(mut process) = masters.processes[leader].take() {
            process.kill9();
        }
        let (next, at) = tokio::join!(
            async {
                let next = masters.leader(Some(leader)).await;
                (next, Instant::now())
            },
            async {
                tokio::time::timeout(WAIT, subscribed.recv())
                    .await
                    .expect("resubscribed in time")
                    .expect("driver running")
            }
        );
        let (next, serving_at) = next;
        let elected_ms = serving_at.duration_since(killed_at).as_secs_f64() * 1e3;
        let subscribed_ms = at.duration_since(killed_at).as_secs_f64() * 1e3;
        elected.push(elected_ms);
        resubscribed.push(subscribed_ms);
        eprintln!(
            "  [{round:>3}/{rounds}] master{leader} killed; master{next} leads; framework subscribed after {subscribed_ms:.0} ms"
        );
        masters.start(leader);
        leader = next;
    }
    run.abort();
    let own: Vec<f64> = resubscribed.iter().map(|ms| ms - session * 1e3).collect();
    println!("failover over {rounds} kills, ZooKeeper session timeout {session} s:");
    println!("{}", summary("new leader serving", elected));
    println!("{}", summary("framework re-subscribed", resubscribed));
    println!("{}", summary("  minus the session timeout", own));
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Ok(zk) = std::env::var(MASTER_ZK) {
        runtime.block_on(master_process(zk));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it with no flag: then
    // do nothing (the failover tests cover correctness).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    runtime.block_on(bench());
}
