//! A Pi job on `--master zk://…` across the death of its leading master: two masters
//! (this test binary re-run as `ha_master_process`, so that the leader can be killed
//! with `kill -9`) elect a leader through a real ZooKeeper, two agents follow it, and
//! the leader is killed mid-job. The job finishes with exactly the requested samples,
//! each task counted once.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use mesos_master::agent::{AgentConfig, remote};
use mesos_master::election::ElectionConfig;
use mesos_master::{Master, MasterConfig};
use mesos_pi::job::{JobConfig, run};
use mesos_pi::plan::JobPlan;
use mesos_pi::scheduler::Progress;
use mesos_sdk::detect::ZooKeeperUrl;
use mesos_sdk::resources::Resources;
use mesos_testkit::{ChildProcess, Scratch, ZooKeeperServer, free_port};
use tokio::sync::{oneshot, watch};

const ZK_ENV: &str = "PI_HA_MASTER_ZK";
const PORT_ENV: &str = "PI_HA_MASTER_PORT";
const WAIT: Duration = Duration::from_secs(60);

/// Not a test: a contending master process for the failover test, which starts it with
/// `--ignored` and the environment below, and kills it.
#[tokio::test]
#[ignore = "a master process started by a_pi_job_finishes_exactly_across_a_leader_kill"]
async fn ha_master_process() {
    let (Ok(zk), Ok(port)) = (std::env::var(ZK_ENV), std::env::var(PORT_ENV)) else {
        return;
    };
    let mut config = MasterConfig::default();
    config.hostname = "127.0.0.1".into();
    config.allocation_interval = Duration::from_millis(50);
    let mut election = ElectionConfig::new(ZooKeeperUrl::parse(&zk).unwrap());
    election.session_timeout = Duration::from_secs(1);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let _master = Master::start_contending(config, addr, election)
        .await
        .expect("master starts");
    std::future::pending::<()>().await;
}

fn start_master(zk: &str, port: u16, scratch: &Scratch) -> ChildProcess {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["ha_master_process", "--exact", "--ignored", "--nocapture"])
        .env(ZK_ENV, zk)
        .env(PORT_ENV, port.to_string());
    let log = scratch.path().join(format!("master-{port}.log"));
    ChildProcess::spawn(&format!("master on {port}"), command, &log)
}

/// The port of the master that serves `/state` (the leader), waiting for one.
async fn leader(ports: &[u16], not: Option<u16>) -> u16 {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        for &port in ports.iter().filter(|p| Some(**p) != not) {
            let answer = http
                .get(format!("http://127.0.0.1:{port}/state"))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status() == 200) {
                return port;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no master leads within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pi_job_finishes_exactly_across_a_leader_kill() {
    let zk = ZooKeeperServer::start().await;
    let zk_url = zk.zk_url("/mesos");
    let scratch = Scratch::new("pi-failover");
    let ports = [free_port(), free_port()];
    let mut masters: Vec<ChildProcess> = ports
        .iter()
        .map(|port| start_master(&zk_url, *port, &scratch))
        .collect();
    let first = leader(&ports, None).await;

    // Two agents following the leader through ZooKeeper.
    let mut stops = Vec::new();
    let mut agents = Vec::new();
    for i in 0..2 {
        let mut config = AgentConfig::new(
            "",
            Resources::parse("cpus:2;mem:1024").unwrap(),
            scratch.path().join(format!("agent{i}")),
        );
        config.hostname = "127.0.0.1".into();
        config.registration_backoff = Duration::from_millis(20);
        config.registration_backoff_max = Duration::from_millis(200);
        let (stop, stopped) = oneshot::channel::<()>();
        stops.push(stop);
        let url = zk_url.clone();
        agents.push(tokio::spawn(async move {
            remote::run_remote_until(config, &url, async {
                let _ = stopped.await;
            })
            .await
        }));
    }

    // Tasks long enough (~0.2 s each at kernel speed) that the kill lands mid-job.
    let (samples, tasks, seed) = (4_000_000_000, 24, 11);
    let cfg = JobConfig {
        master: Some(zk_url.clone()),
        samples,
        tasks,
        seed,
        executor_path: Some(env!("CARGO_BIN_EXE_pi").into()),
        connect_timeout: WAIT,
        ..JobConfig::default()
    };
    let (tx, mut rx) = watch::channel(Progress::default());
    let job = tokio::spawn(async move { run(&cfg, tx).await });

    // Once results come in, kill the leading master with kill -9.
    let at_kill = tokio::time::timeout(WAIT, async {
        loop {
            let p = *rx.borrow_and_update();
            if p.done >= 2 && p.done < p.tasks {
                return p;
            }
            if rx.changed().await.is_err() {
                panic!("the job ended before the leader could be killed");
            }
        }
    })
    .await
    .expect("the job made progress");
    let i = ports.iter().position(|p| *p == first).unwrap();
    masters[i].kill9();
    let second = leader(&ports, Some(first)).await;
    assert_ne!(second, first);

    let report = tokio::time::timeout(Duration::from_secs(180), job)
        .await
        .expect("the job finished in time")
        .unwrap()
        .unwrap_or_else(|e| {
            panic!(
                "the job failed after the failover: {e}\n{}",
                masters[1 - i].log()
            )
        });
    assert!(at_kill.done < at_kill.tasks, "killed mid-job: {at_kill:?}");
    assert_eq!(report.samples, samples);
    let plan = JobPlan::new(samples, tasks, seed).unwrap();
    assert_eq!(
        report.pi,
        plan.exact_estimate(),
        "each task counted exactly once"
    );

    for stop in stops {
        let _ = stop.send(());
    }
    for agent in agents {
        let _ = tokio::time::timeout(WAIT, agent).await;
    }
}
