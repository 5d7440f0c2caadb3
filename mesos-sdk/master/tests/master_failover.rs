//! Failover of real processes: three `mesos-master` processes elect a leader through a
//! real ZooKeeper, two `mesos-agent` processes follow it, and a framework (the SDK's
//! driver, given `zk://`) runs tasks. The leader is killed with `kill -9` mid-job: a
//! new leader is elected, agents and framework follow it, and every task ends exactly
//! once with its terminal update acknowledged. Every master is sampled throughout: no
//! two ever serve as leader at once.

mod support;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use mesos_sdk::codec::Encoding;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;
use support::driver::{Framework, Seen};
use support::ha::HaCluster;
use support::*;

/// Tasks of the job, each `cpus:0.5`: 8 fit at once on the two agents.
const TASKS: usize = 12;
const SESSION_TIMEOUT: Duration = Duration::from_secs(1);

/// Samples every master until stopped: the most that ever served at once, and how many
/// rounds it took.
struct Sampler {
    stop: Arc<AtomicBool>,
    most: Arc<AtomicUsize>,
    rounds: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(urls: Vec<String>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let most = Arc::new(AtomicUsize::new(0));
        let rounds = Arc::new(AtomicUsize::new(0));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        let task = tokio::spawn({
            let (stop, most, rounds) = (stop.clone(), most.clone(), rounds.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    let probes = urls.iter().map(|url| {
                        let request = http.get(format!("{url}/state")).send();
                        async move { request.await.is_ok_and(|r| r.status() == 200) }
                    });
                    let serving = futures::future::join_all(probes)
                        .await
                        .into_iter()
                        .filter(|ok| *ok)
                        .count();
                    most.fetch_max(serving, Ordering::Relaxed);
                    rounds.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
        Sampler {
            stop,
            most,
            rounds,
            task,
        }
    }

    async fn finish(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        (
            self.most.load(Ordering::Relaxed),
            self.rounds.load(Ordering::Relaxed),
        )
    }
}

fn task(id: &str, offer: &v1::Offer) -> v1::TaskInfo {
    let mut task = command_task(id, offer, "sleep 2");
    task.resources = Resources::parse("cpus:0.5;mem:32")
        .unwrap()
        .allocate("*")
        .into_vec();
    task
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_killed_mid_job_is_replaced_and_every_task_ends_exactly_once() {
    let mut cluster = HaCluster::start(3, 2, "cpus:2;mem:512", SESSION_TIMEOUT).await;
    let first_leader = cluster.wait_leader(None).await;
    let sampler = Sampler::start((0..3).map(|i| cluster.url(i)).collect());

    let mut info = framework_info("failover");
    info.failover_timeout = Some(3600.0);
    let mut fw = Framework::start_with(&cluster.zk_url(), Encoding::Json, info, |builder| {
        builder.auto_acknowledge(false)
    });
    let framework_id = fw.subscribed().await.framework_id;

    let mut pending: VecDeque<String> = (0..TASKS).map(|i| format!("task-{i}")).collect();
    let mut launched: HashSet<String> = HashSet::new();
    let mut running: HashSet<String> = HashSet::new();
    // Per task: every terminal (state, uuid) the scheduler was told.
    let mut ended: HashMap<String, BTreeSet<(i32, Vec<u8>)>> = HashMap::new();
    // Tasks whose terminal update a leader accepted the acknowledgement of.
    let mut acknowledged: HashSet<String> = HashSet::new();
    let mut killed = None;
    while acknowledged.len() < TASKS {
        let seen = fw
            .expect("offers, updates or a new subscription", |s| match s {
                Seen::Offers(_) | Seen::Update(_) | Seen::Subscribed(_) => Some(s.clone()),
                _ => None,
            })
            .await;
        match seen {
            Seen::Subscribed(subscribed) => {
                assert_eq!(
                    subscribed.framework_id, framework_id,
                    "the framework id is kept"
                );
            }
            Seen::Offers(offers) => {
                for offer in offers {
                    let slots = (Resources::from(offer.resources.clone()).cpus() / 0.5) as usize;
                    let batch: Vec<String> = (0..slots.min(pending.len()))
                        .filter_map(|_| pending.pop_front())
                        .collect();
                    if batch.is_empty() {
                        let _ = fw.client.decline(vec![offer.id.clone()], None).await;
                        continue;
                    }
                    let tasks = batch.iter().map(|id| task(id, &offer)).collect();
                    fw.client
                        .launch(offer.id.clone(), tasks)
                        .await
                        .expect("LAUNCH accepted by the leader");
                    launched.extend(batch);
                }
            }
            Seen::Update(status) => {
                let id = status.task_id.value.clone();
                assert!(launched.contains(&id), "an update for {id}, never launched");
                if status.state == v1::TaskState::TaskRunning as i32 {
                    running.insert(id.clone());
                }
                // Reconciliation answers (after each subscription) carry no uuid: they
                // repeat a state, they are not updates to acknowledge.
                if let Some(uuid) = status.uuid.clone() {
                    let terminal = status.is_terminal();
                    if terminal {
                        ended
                            .entry(id.clone())
                            .or_default()
                            .insert((status.state, uuid.to_vec()));
                    }
                    let acked = fw
                        .client
                        .acknowledge(
                            status.agent_id.clone().expect("agent id"),
                            status.task_id.clone(),
                            uuid,
                        )
                        .await;
                    // A dead leader cannot take it: the agent sends it again to the next.
                    if terminal && acked.is_ok() {
                        acknowledged.insert(id);
                    }
                }
                // Mid-job, with every launch on its agent: kill the leader.
                let settled = launched
                    .iter()
                    .all(|t| running.contains(t) || ended.contains_key(t));
                if killed.is_none() && running.len() >= 4 && settled {
                    cluster.kill_master(first_leader);
                    killed = Some(first_leader);
                    let next = cluster.wait_leader(Some(first_leader)).await;
                    assert_ne!(next, first_leader);
                }
            }
            _ => unreachable!("filtered above"),
        }
    }
    let (most_serving, rounds) = sampler.finish().await;

    assert!(killed.is_some(), "the leader was killed mid-job");
    assert!(rounds > 10, "the masters were sampled ({rounds} rounds)");
    assert_eq!(most_serving, 1, "two masters served as leader at once");
    assert_eq!(ended.len(), TASKS, "every task ended: {ended:?}");
    for (id, ends) in &ended {
        assert_eq!(
            ends.len(),
            1,
            "task {id} ended more than once (distinct terminal updates): {ends:?}"
        );
        let (state, _) = ends.iter().next().unwrap();
        assert_eq!(
            *state,
            v1::TaskState::TaskFinished as i32,
            "task {id} did not finish"
        );
    }
    // The new leader's books hold no task still running, and both agents.
    let leader = cluster.wait_leader(killed).await;
    cluster.wait_agents(leader, 2).await;
    let body = reqwest::get(format!("{}/state", cluster.url(leader)))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let state: serde_json::Value = serde_json::from_slice(&body).unwrap();
    for framework in state["frameworks"].as_array().unwrap() {
        assert!(
            framework["tasks"].as_array().unwrap().is_empty(),
            "tasks still running on the new leader: {framework}"
        );
    }
    drop(fw);
    cluster.stop();
}
