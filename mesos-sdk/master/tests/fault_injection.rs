//! The fault-injection suite: a framework runs a stream of tasks (command tasks and an
//! SDK executor's tasks) on real processes, two `mesos-master` processes electing a
//! leader through a real ZooKeeper and three `mesos-agent` processes, while faults are
//! injected at random (seeded): `kill -9` of an executor, `kill -9` and restart of an
//! agent, SIGSTOP/SIGCONT of an agent, the leader's connections cut, delayed or refused
//! (each master is reached through a TCP proxy it advertises), and `kill -9` of the
//! leading master.
//!
//! Invariants, checked from the scheduler's own record and the leader's `/state`:
//! every launched task ends in exactly one terminal state; the scheduler saw it and
//! acknowledged it (or was told by the master's reconciliation); no task runs on two
//! agents; afterwards every agent's resources are free with no offer outstanding; no
//! process is left behind.
//!
//! The CI run is small (`FAULT_TASKS=120`, `FAULT_FAULTS=15`); the long run is
//! `FAULT_TASKS=1000 FAULT_FAULTS=100 cargo test -p mesos-master --test
//! fault_injection -- --nocapture` (figures in `docs/reliability.md`).

mod support;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use mesos_sdk::codec::Encoding;
use mesos_sdk::executor::{Executor, ExecutorClient, run_if_executor};
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_testkit::{ChildProcess, ProxyMode, Scratch, TcpProxy, ZooKeeperServer, free_port};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::driver::{Framework, Seen};
use support::executor::this_binary_running;
use support::*;

const EXECUTOR_ENTRY: &str = "fault_executor";
const MASTERS: usize = 2;
const AGENTS: usize = 3;
/// Longest the run may take without any task ending before it is declared stuck.
const STUCK: Duration = Duration::from_secs(60);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The SDK executor: each task runs for the milliseconds in its data, then finishes.
struct Sleeper;

#[async_trait::async_trait]
impl Executor for Sleeper {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        let _ = client
            .send_status(task.task_id.clone(), TaskState::TaskRunning, None, None)
            .await;
        let millis: u64 = task
            .data
            .as_deref()
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse().ok())
            .unwrap_or(200);
        let client = client.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            let _ = client
                .send_status(task.task_id, TaskState::TaskFinished, None, None)
                .await;
        });
    }

    async fn kill(
        &mut self,
        client: &ExecutorClient,
        task_id: v1::TaskId,
        _policy: Option<v1::KillPolicy>,
    ) {
        let _ = client
            .send_status(task_id, TaskState::TaskKilled, None, None)
            .await;
    }

    async fn message(&mut self, _client: &ExecutorClient, _data: Bytes) {}
}

/// Entry point of the executor process (`<test binary> fault_executor --exact --ignored`).
#[tokio::test]
#[ignore = "the executor process of the fault-injection suite; started by the agents"]
async fn fault_executor() {
    let Some(result) = run_if_executor(|| Sleeper).await else {
        return;
    };
    std::process::exit(if result.is_ok() { 0 } else { 1 });
}

/// Masters behind proxies and agents, all real processes.
struct Cluster {
    zk: ZooKeeperServer,
    scratch: Scratch,
    /// Each master's own port, its proxy (the address it advertises), its process.
    masters: Vec<(u16, TcpProxy, Option<ChildProcess>)>,
    agents: Vec<Option<ChildProcess>>,
    http: reqwest::Client,
}

impl Cluster {
    async fn start() -> Cluster {
        let zk = ZooKeeperServer::start().await;
        let mut cluster = Cluster {
            zk,
            scratch: Scratch::new("faults"),
            masters: Vec::new(),
            agents: Vec::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap(),
        };
        for i in 0..MASTERS {
            let port = free_port();
            let proxy = TcpProxy::start(format!("127.0.0.1:{port}").parse().unwrap()).await;
            cluster.masters.push((port, proxy, None));
            cluster.start_master(i);
        }
        for i in 0..AGENTS {
            cluster.agents.push(None);
            cluster.start_agent(i);
        }
        cluster
    }

    fn zk_url(&self) -> String {
        self.zk.zk_url("/mesos")
    }

    fn start_master(&mut self, i: usize) {
        let (port, proxy, _) = &self.masters[i];
        let mut command = Command::new(env!("CARGO_BIN_EXE_mesos-master"));
        command
            .args(["--ip", "127.0.0.1", "--hostname", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args(["--advertise-port", &proxy.addr().port().to_string()])
            .args(["--zk", &self.zk_url(), "--zk-session-timeout", "1"])
            .args([
                "--allocation-interval",
                "0.05",
                "--heartbeat-interval",
                "0.5",
            ])
            .args(["--agent-reregister-timeout", "30"]);
        let log = self.scratch.path().join(format!("master{i}.log"));
        // Appending: a restarted master keeps its predecessor's log.
        let process = ChildProcess::spawn_appending(&format!("master{i}"), command, &log);
        self.masters[i].2 = Some(process);
    }

    fn start_agent(&mut self, i: usize) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
        command
            .args([
                "--master",
                &self.zk_url(),
                "--agent-id",
                &format!("agent-{i}"),
            ])
            .args(["--resources", "cpus:2;mem:1024", "--hostname", "127.0.0.1"])
            .args(["--registration-backoff-factor", "0.1"])
            .arg("--work-dir")
            .arg(self.scratch.path().join(format!("agent{i}")));
        let log = self.scratch.path().join(format!("agent{i}.log"));
        // Appending: a restarted agent keeps its predecessor's log.
        let process = ChildProcess::spawn_appending(&format!("agent{i}"), command, &log);
        self.agents[i] = Some(process);
    }

    /// The master serving `/state` on its own port, if exactly one does.
    async fn leader(&self) -> Option<usize> {
        let mut serving = Vec::new();
        for (i, (port, _, _)) in self.masters.iter().enumerate() {
            let url = format!("http://127.0.0.1:{port}/state");
            if self
                .http
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                serving.push(i);
            }
        }
        assert!(
            serving.len() <= 1,
            "two masters serve as leader: {serving:?}"
        );
        serving.first().copied()
    }

    async fn wait_leader(&self) -> usize {
        let deadline = tokio::time::Instant::now() + STUCK;
        loop {
            if let Some(leader) = self.leader().await {
                return leader;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no leader\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn leader_state(&self) -> serde_json::Value {
        let leader = self.wait_leader().await;
        let url = format!("http://127.0.0.1:{}/state", self.masters[leader].0);
        let body = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        let tail = |p: &ChildProcess| {
            p.log()
                .lines()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .join("\n")
        };
        for (_, _, p) in &self.masters {
            if let Some(p) = p {
                out.push_str(&format!("--- {} (newest first)\n{}\n", p.name(), tail(p)));
            }
        }
        for p in self.agents.iter().flatten() {
            out.push_str(&format!("--- {} (newest first)\n{}\n", p.name(), tail(p)));
        }
        out
    }
}

/// The faults the suite injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fault {
    KillExecutor,
    RestartAgent,
    PauseAgent,
    CutLeaderConnections,
    DelayLeaderConnections,
    RefuseLeaderConnections,
    KillLeader,
}

const FAULTS: [Fault; 7] = [
    Fault::KillExecutor,
    Fault::RestartAgent,
    Fault::PauseAgent,
    Fault::CutLeaderConnections,
    Fault::DelayLeaderConnections,
    Fault::RefuseLeaderConnections,
    Fault::KillLeader,
];

/// Pids of live processes whose working directory is under `dir`.
fn processes_under(dir: &std::path::Path) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd")) else {
            continue;
        };
        if cwd.starts_with(dir) && alive(pid) {
            found.push(pid);
        }
    }
    found
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill").args([name, &pid.to_string()]).status();
}

impl Cluster {
    /// Injects `fault`; `false` when it could not be (e.g. no executor runs).
    async fn inject(&mut self, fault: Fault, rng: &mut StdRng) -> bool {
        match fault {
            Fault::KillExecutor => {
                let executors: Vec<i32> = processes_under(self.scratch.path())
                    .into_iter()
                    .filter(|pid| {
                        std::fs::read(format!("/proc/{pid}/cmdline"))
                            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(EXECUTOR_ENTRY))
                    })
                    .collect();
                if executors.is_empty() {
                    return false;
                }
                let pid = executors[rng.random_range(0..executors.len())];
                signal(pid as u32, "-KILL");
            }
            Fault::RestartAgent => {
                let i = rng.random_range(0..AGENTS);
                if let Some(mut agent) = self.agents[i].take() {
                    agent.kill9();
                }
                self.start_agent(i);
            }
            Fault::PauseAgent => {
                let i = rng.random_range(0..AGENTS);
                let Some(pid) = self.agents[i].as_ref().map(ChildProcess::pid) else {
                    return false;
                };
                signal(pid, "-STOP");
                tokio::time::sleep(Duration::from_millis(1500)).await;
                signal(pid, "-CONT");
            }
            Fault::CutLeaderConnections => {
                let leader = self.wait_leader().await;
                self.masters[leader].1.cut();
            }
            Fault::DelayLeaderConnections => {
                let leader = self.wait_leader().await;
                let proxy = &self.masters[leader].1;
                proxy.set_mode(ProxyMode::Delay(Duration::from_millis(300)));
                tokio::time::sleep(Duration::from_secs(2)).await;
                proxy.set_mode(ProxyMode::Pass);
            }
            Fault::RefuseLeaderConnections => {
                let leader = self.wait_leader().await;
                let proxy = &self.masters[leader].1;
                proxy.set_mode(ProxyMode::Refuse);
                proxy.cut();
                tokio::time::sleep(Duration::from_secs(1)).await;
                proxy.set_mode(ProxyMode::Pass);
            }
            Fault::KillLeader => {
                let leader = self.wait_leader().await;
                if let Some(mut master) = self.masters[leader].2.take() {
                    master.kill9();
                }
                self.start_master(leader);
            }
        }
        true
    }
}

/// What the scheduler knows of one task.
#[derive(Default, Debug)]
struct Record {
    agent: String,
    /// Terminal updates: state, uuid (empty for the master's answers), and why (reason,
    /// source, message) for the report of a violation.
    ended: Vec<(i32, Vec<u8>, String)>,
    /// Agents it was reported RUNNING on.
    running_on: BTreeSet<String>,
    acknowledged: bool,
}

fn task(id: &str, offer: &v1::Offer, executor: bool, millis: u64) -> v1::TaskInfo {
    let resources = Resources::parse("cpus:0.25;mem:32")
        .unwrap()
        .allocate("*")
        .into_vec();
    let mut task = v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources,
        ..Default::default()
    };
    if executor {
        task.executor = Some(v1::ExecutorInfo {
            executor_id: v1::ExecutorId {
                value: "sleeper".into(),
            },
            command: Some(this_binary_running(EXECUTOR_ENTRY)),
            resources: Resources::parse("cpus:0.1;mem:32")
                .unwrap()
                .allocate("*")
                .into_vec(),
            ..Default::default()
        });
        task.data = Some(Bytes::from(millis.to_string()));
    } else {
        task.command = Some(v1::CommandInfo {
            value: Some(format!("sleep {}", millis as f64 / 1000.0)),
            ..Default::default()
        });
    }
    task
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_survive_injected_faults_with_every_invariant_kept() {
    let target = env_or("FAULT_TASKS", 120) as usize;
    let faults = env_or("FAULT_FAULTS", 15) as usize;
    let seed = env_or("FAULT_SEED", 7);
    let cluster = Cluster::start().await;
    let zk_url = cluster.zk_url();
    let scratch = cluster.scratch.path().to_owned();
    cluster.wait_leader().await;

    let mut info = framework_info("faults");
    info.failover_timeout = Some(3600.0);
    let mut fw = Framework::start_with(&zk_url, Encoding::Json, info, |builder| {
        builder.auto_acknowledge(false)
    });
    fw.subscribed().await;

    // The injector: one fault every 0.5-1.5 s until `faults` were injected.
    let injector = tokio::spawn(async move {
        let mut cluster = cluster;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut injected: HashMap<Fault, usize> = HashMap::new();
        while injected.values().sum::<usize>() < faults {
            tokio::time::sleep(Duration::from_millis(rng.random_range(500..1500))).await;
            let fault = FAULTS[rng.random_range(0..FAULTS.len())];
            if cluster.inject(fault, &mut rng).await {
                *injected.entry(fault).or_default() += 1;
            }
        }
        (cluster, injected)
    });

    // Open tasks (launched, not ended) with their agent: reconciled every 2 s, so
    // that a launch that died with a master is learned of.
    let open: Arc<Mutex<HashMap<String, v1::AgentId>>> = Arc::default();
    let reconciler = tokio::spawn({
        let (open, client) = (open.clone(), fw.client.clone());
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let tasks: Vec<(v1::TaskId, Option<v1::AgentId>)> = open
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(t, a)| (v1::TaskId { value: t.clone() }, Some(a.clone())))
                    .collect();
                if !tasks.is_empty() {
                    let _ = client.reconcile(tasks).await;
                }
            }
        }
    });

    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut queue: VecDeque<(usize, u32)> = (0..target).map(|w| (w, 0)).collect();
    let mut records: HashMap<String, Record> = HashMap::new();
    let mut work_of: HashMap<String, usize> = HashMap::new();
    let mut finished = 0usize;
    let mut next_work = target;
    let mut last_end = tokio::time::Instant::now();
    // Terminal updates whose acknowledgement failed (the master was lost meanwhile,
    // or the scheduler was resubscribing), by task: the agent resends the update until
    // one is acknowledged, and the scheduler acknowledges it again after the run.
    let mut unacknowledged: HashMap<String, v1::scheduler::call::Acknowledge> = HashMap::new();
    // At least `target` tasks finish, and work goes on until every fault is injected.
    while finished < target || !injector.is_finished() || !open.lock().unwrap().is_empty() {
        let seen = tokio::time::timeout(
            STUCK,
            fw.expect("an event", |s| match s {
                Seen::Offers(_) | Seen::Update(_) => Some(s.clone()),
                _ => None,
            }),
        )
        .await
        .unwrap_or_else(|_| {
            panic!(
                "stuck: {finished}/{target} finished, open {:?}",
                open.lock().unwrap()
            )
        });
        assert!(
            last_end.elapsed() < STUCK,
            "no task ended for {STUCK:?}: open {:?}",
            open.lock().unwrap()
        );
        match seen {
            Seen::Offers(offers) => {
                for offer in offers {
                    let free = Resources::from(offer.resources.clone()).cpus();
                    let slots = ((free - 0.1) / 0.25).max(0.0) as usize;
                    let mut tasks = Vec::new();
                    for _ in 0..slots {
                        if queue.is_empty() && !injector.is_finished() {
                            queue.push_back((next_work, 0));
                            next_work += 1;
                        }
                        let Some((work, attempt)) = queue.pop_front() else {
                            break;
                        };
                        let id = format!("w{work}-a{attempt}");
                        let executor = work % 2 == 0;
                        tasks.push(task(&id, &offer, executor, rng.random_range(100..400)));
                        work_of.insert(id.clone(), work);
                        records.insert(
                            id.clone(),
                            Record {
                                agent: offer.agent_id.value.clone(),
                                ..Default::default()
                            },
                        );
                    }
                    if tasks.is_empty() {
                        let _ = fw.client.decline(vec![offer.id.clone()], None).await;
                        continue;
                    }
                    let ids: Vec<String> = tasks.iter().map(|t| t.task_id.value.clone()).collect();
                    let _ = fw.client.launch(offer.id.clone(), tasks).await;
                    // A LAUNCH lost with a master is found by the reconciliation. The
                    // tasks are reconciled only once the ACCEPT is answered (or failed):
                    // asked earlier, a master rightly answers that it does not know them
                    // (Mesos: TASK_LOST, `Task is unknown to the agent`), and the tasks
                    // then run once the ACCEPT arrives.
                    let mut open = open.lock().unwrap();
                    for id in ids {
                        open.insert(id, offer.agent_id.clone());
                    }
                }
            }
            Seen::Update(status) => {
                let id = status.task_id.value.clone();
                let Some(record) = records.get_mut(&id) else {
                    panic!("an update for a task never launched: {status:?}");
                };
                if status.state == TaskState::TaskRunning as i32 {
                    if let Some(agent) = &status.agent_id {
                        record.running_on.insert(agent.value.clone());
                    }
                }
                let uuid = status.uuid.clone();
                if let Some(uuid) = &uuid {
                    let acked = fw
                        .client
                        .acknowledge(
                            status.agent_id.clone().unwrap_or_default(),
                            status.task_id.clone(),
                            uuid.clone(),
                        )
                        .await;
                    if status.is_terminal() && acked.is_ok() {
                        record.acknowledged = true;
                        unacknowledged.remove(&id);
                    } else if status.is_terminal() && !record.acknowledged {
                        let ack = v1::scheduler::call::Acknowledge {
                            agent_id: status.agent_id.clone().unwrap_or_default(),
                            task_id: status.task_id.clone(),
                            uuid: uuid.clone(),
                        };
                        unacknowledged.insert(id.clone(), ack);
                    }
                }
                if !status.is_terminal() {
                    continue;
                }
                let first = record.ended.is_empty();
                let why = format!(
                    "{:?} {:?} {:?}",
                    status.reason(),
                    status.source(),
                    status.message.as_deref().unwrap_or("")
                );
                record.ended.push((
                    status.state,
                    uuid.map(|u| u.to_vec()).unwrap_or_default(),
                    why,
                ));
                if first {
                    last_end = tokio::time::Instant::now();
                    open.lock().unwrap().remove(&id);
                    if status.state == TaskState::TaskFinished as i32 {
                        finished += 1;
                    } else {
                        let work = work_of[&id];
                        let attempt: u32 = id.rsplit('a').next().unwrap().parse().unwrap();
                        queue.push_back((work, attempt + 1));
                    }
                }
            }
            _ => unreachable!("filtered above"),
        }
    }
    reconciler.abort();
    let (cluster, injected) = injector.await.expect("the injector did not panic");
    // An acknowledgement that failed near the end may not have been resent yet (the
    // agent waits 10 s), or it took effect and only its answer was lost: the scheduler
    // sends it again now that no fault is injected (a repeated one is accepted).
    for (id, ack) in unacknowledged {
        for attempt in 1.. {
            let client = &fw.client;
            let acked =
                client.acknowledge(ack.agent_id.clone(), ack.task_id.clone(), ack.uuid.clone());
            match acked.await {
                Ok(()) => break,
                Err(error) if attempt < 20 => {
                    eprintln!("acknowledging {id} again: {error}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(error) => panic!("{id}: terminal update never acknowledged: {error}"),
            }
        }
        records.get_mut(&id).expect("a launched task").acknowledged = true;
    }

    // Invariants from the scheduler's record.
    let total_faults: usize = injected.values().sum();
    eprintln!(
        "fault injection: {} tasks launched, {finished} finished, {next_work} work items, {total_faults} faults {:?}",
        records.len(),
        {
            let mut by_kind: Vec<_> = injected.iter().collect();
            by_kind.sort();
            by_kind
        }
    );
    assert_eq!(total_faults, faults);
    let mut violations = Vec::new();
    for (id, record) in &records {
        // One terminal state: every terminal update agrees, and with the first answer
        // when that came from reconciliation. (A reconciliation answered after the task
        // ended, for a task the master has forgotten, is stale: Mesos's rule too.)
        let updates: BTreeSet<i32> = record
            .ended
            .iter()
            .filter(|(_, uuid, _)| !uuid.is_empty())
            .map(|(s, _, _)| *s)
            .collect();
        let first = record.ended.first().map(|(s, _, _)| *s);
        let agree = match first {
            None => false,
            Some(first) => updates.iter().all(|s| *s == first),
        };
        if updates.len() > 1 || !agree {
            violations.push(format!("{id} ended as {:?}", record.ended));
        }
        let by_update = record.ended.iter().any(|(_, uuid, _)| !uuid.is_empty());
        if by_update && !record.acknowledged {
            violations.push(format!("{id}: terminal update never acknowledged"));
        }
        if record.running_on.len() > 1 {
            violations.push(format!("{id} ran on {:?}", record.running_on));
        }
        let _ = &record.agent;
    }
    assert!(violations.is_empty(), "violations: {violations:#?}");

    // Everything is given back: executors shut down, no task, no offer, all free.
    fw.client.suppress(Vec::new()).await.ok();
    for agent in 0..AGENTS {
        let _ = fw
            .client
            .shutdown(
                v1::ExecutorId {
                    value: "sleeper".into(),
                },
                v1::AgentId {
                    value: format!("agent-{agent}"),
                },
            )
            .await;
    }
    let deadline = tokio::time::Instant::now() + STUCK;
    loop {
        let state = cluster.leader_state().await;
        let busy: Vec<String> = state["slaves"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| {
                a["used_resources"]["cpus"].as_f64().unwrap_or(0.0) > 0.0
                    || a["offered_resources"]["cpus"].as_f64().unwrap_or(0.0) > 0.0
            })
            .map(|a| a["id"].to_string())
            .collect();
        if busy.is_empty() && state["slaves"].as_array().unwrap().len() == AGENTS {
            break;
        }
        // Offers made before the suppression are declined as they arrive.
        if let Ok(Seen::Offers(offers)) = tokio::time::timeout(
            Duration::from_millis(200),
            fw.expect("offers", |s| {
                matches!(s, Seen::Offers(_)).then(|| s.clone())
            }),
        )
        .await
        {
            let ids = offers.into_iter().map(|o| o.id).collect();
            let _ = fw.client.decline(ids, None).await;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "resources still held on {busy:?}: {state}"
        );
    }
    drop(fw);

    // No process is left behind.
    let Cluster {
        zk,
        mut agents,
        mut masters,
        scratch: keep,
        ..
    } = cluster;
    for agent in agents.iter_mut().flatten() {
        assert!(
            agent.terminate(Duration::from_secs(10)),
            "{} stops on SIGTERM",
            agent.name()
        );
    }
    for (_, _, master) in &mut masters {
        if let Some(master) = master {
            master.terminate(Duration::from_secs(10));
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while !processes_under(&scratch).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "processes left behind: {:?}",
            processes_under(&scratch)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop((zk, keep));
}
