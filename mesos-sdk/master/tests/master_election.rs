//! Masters electing a leader through a real ZooKeeper (Debian's `zookeeper` package;
//! `.ci/run` installs it): only the leader serves, the others redirect to it, and a new
//! leader rebuilds its books from the registry and from what the agents report.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use mesos_master::agent::{AgentConfig, remote};
use mesos_master::election::{ElectionConfig, Leadership};
use mesos_master::{Master, MasterConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::detect::{ZooKeeperDetector, ZooKeeperUrl};
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::call;
use mesos_testkit::ZooKeeperServer;
use support::scheduler::*;
use support::*;
use tokio::sync::{oneshot, watch};

const LOCAL: &str = "127.0.0.1:0";

fn election(zk: &ZooKeeperServer) -> ElectionConfig {
    let mut election = ElectionConfig::new(ZooKeeperUrl::parse(&zk.zk_url("/mesos")).unwrap());
    // The server's tickTime is 200 ms: sessions may be as short as 0.4 s.
    election.session_timeout = Duration::from_secs(1);
    election
}

fn config() -> MasterConfig {
    let mut config = MasterConfig::default();
    config.hostname = "127.0.0.1".into();
    config.allocation_interval = Duration::from_millis(50);
    config.agent_reregister_timeout = Duration::from_secs(30);
    config
}

async fn contender(zk: &ZooKeeperServer, config: MasterConfig) -> Master {
    let addr: SocketAddr = LOCAL.parse().unwrap();
    Master::start_contending(config, addr, election(zk))
        .await
        .expect("master starts")
}

/// Waits (at most [`WAIT`]) until `want` holds for the master's leadership.
async fn until(master: &Master, what: &str, want: impl Fn(&Leadership) -> bool) {
    let mut rx: watch::Receiver<Leadership> = master.leadership();
    tokio::time::timeout(WAIT, rx.wait_for(|l| want(l)))
        .await
        .unwrap_or_else(|_| panic!("master {} not {what} within {WAIT:?}", master.addr()))
        .expect("leadership channel open");
}

/// Two masters: the first (with `first`) leads, the second follows it.
async fn leader_and_follower(zk: &ZooKeeperServer, first: MasterConfig) -> (Master, Master) {
    let a = contender(zk, first).await;
    until(&a, "leading", Leadership::is_leading).await;
    let b = contender(zk, config()).await;
    until(&b, "following", |l| {
        matches!(l, Leadership::Following { .. })
    })
    .await;
    (a, b)
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.expect("request sent")
}

#[tokio::test]
async fn only_the_leader_serves_the_others_redirect_and_without_zookeeper_none_does() {
    let zk = ZooKeeperServer::start().await;
    let a = contender(&zk, config()).await;
    until(&a, "leading", Leadership::is_leading).await;
    let b = contender(&zk, config()).await;
    let leader = a.addr().to_string();
    until(&b, "following a", |l| {
        *l == Leadership::Following {
            leader: leader.clone(),
        }
    })
    .await;

    // The leader serves; the follower redirects every request to it, as Mesos does.
    assert_eq!(get(&format!("{}/state", a.url())).await.status(), 200);
    let redirected = get(&format!("{}/state?jsonp=x", b.url())).await;
    assert_eq!(redirected.status(), 307);
    assert_eq!(
        redirected.headers()["location"],
        format!("//{leader}/state?jsonp=x").as_str()
    );
    let call = subscribe_call(framework_info("redirected"));
    let redirected = post(&b.url(), Encoding::Json, None, &call).await;
    assert_eq!(redirected.status(), 307);
    assert_eq!(
        redirected.headers()["location"],
        format!("//{leader}/api/v1/scheduler").as_str()
    );
    assert_eq!(get(&format!("{}/health", b.url())).await.status(), 200);

    // The leader's znode is what Mesos writes: MasterInfo as JSON, which the SDK's
    // detector (and pymesos, and Mesos's tools) read.
    let client = zk.client(None).await;
    let children = client.list_children("/mesos").await.unwrap();
    let mut joined: Vec<&String> = children
        .iter()
        .filter(|c| c.starts_with("json.info_"))
        .collect();
    joined.sort();
    assert_eq!(joined.len(), 2, "both masters joined: {children:?}");
    let (data, _) = client
        .get_data(&format!("/mesos/{}", joined[0]))
        .await
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(info["address"]["ip"], "127.0.0.1");
    assert_eq!(info["address"]["port"], a.addr().port());
    assert_eq!(info["port"], a.addr().port());
    assert_eq!(info["hostname"], "127.0.0.1");
    assert_eq!(info["pid"], format!("master@{}", a.addr()));
    let detector = ZooKeeperDetector::from_url(&zk.zk_url("/mesos")).unwrap();
    assert_eq!(
        detector.leader().await.unwrap().as_str(),
        format!("{}/", a.url())
    );

    // The leader goes away (cleanly): the follower takes over.
    a.stop().await;
    until(&b, "leading", Leadership::is_leading).await;
    assert_eq!(get(&format!("{}/state", b.url())).await.status(), 200);

    // ZooKeeper goes away: the leader cannot know whether it still leads, so it stops
    // serving at once.
    drop(zk);
    until(&b, "without a leader", |l| !l.is_leading()).await;
    let refused = get(&format!("{}/state", b.url())).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.text().await.unwrap(), "No leader elected");
    b.shutdown().await;
}

#[tokio::test]
async fn a_master_without_zookeeper_answers_no_leader_elected() {
    let dead = std::net::TcpListener::bind(LOCAL).unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let url = ZooKeeperUrl::parse(&format!("zk://127.0.0.1:{port}/mesos")).unwrap();
    let master =
        Master::start_contending(config(), LOCAL.parse().unwrap(), ElectionConfig::new(url))
            .await
            .unwrap();
    assert_eq!(*master.leadership().borrow(), Leadership::NoLeader);
    let refused = get(&format!("{}/api/v1/scheduler", master.url())).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.text().await.unwrap(), "No leader elected");
    master.shutdown().await;
}

#[tokio::test]
async fn a_new_leader_rebuilds_its_books_from_the_registry_and_the_agents_reports() {
    let zk = ZooKeeperServer::start().await;
    let mut first = config();
    first.role_weights.insert("gold".into(), 2.0);
    let (a, b) = leader_and_follower(&zk, first).await;

    // A remote agent that follows the leader through ZooKeeper.
    let scratch = agent::Scratch::new();
    let mut agent_config = AgentConfig::new(
        "",
        Resources::parse("cpus:2;mem:512").unwrap(),
        scratch.0.clone(),
    );
    agent_config.kill_grace_period = Duration::from_millis(200);
    agent_config.registration_backoff = Duration::from_millis(20);
    agent_config.registration_backoff_max = Duration::from_millis(200);
    let (stop_agent, agent_stopped) = oneshot::channel::<()>();
    let zk_url = zk.zk_url("/mesos");
    let agent_task = tokio::spawn(async move {
        remote::run_remote_until(agent_config, &zk_url, async {
            let _ = agent_stopped.await;
        })
        .await
    });

    let mut info = framework_info("survivor");
    info.failover_timeout = Some(3600.0);
    let mut s = subscribe(&a.url(), Encoding::Json, info.clone()).await;
    let offer = s.offers().await.remove(0);
    let mut task = command_task("t1", &offer, "sleep 600");
    task.resources = Resources::parse("cpus:1;mem:128")
        .unwrap()
        .allocate("*")
        .into_vec();
    s.launch(&offer, vec![task]).await;
    s.until_state("t1", v1::TaskState::TaskRunning).await;
    let agent_id = offer.agent_id.value.clone();

    // The registry holds the admitted agent and the weights.
    let client = zk.client(None).await;
    let agents = client
        .list_children("/mesos/registry/agents")
        .await
        .unwrap();
    assert_eq!(agents, vec![agent_id.clone()]);
    let (weights, _) = client.get_data("/mesos/registry/weights").await.unwrap();
    let weights: serde_json::Value = serde_json::from_slice(&weights).unwrap();
    assert_eq!(weights["gold"], 2.0);

    // The leader goes away; b takes over, knowing nothing but the registry.
    a.stop().await;
    until(&b, "leading", Leadership::is_leading).await;
    eventually("the agent re-registers with the new leader", || {
        b.state()
            .framework(&s.framework_id.value)
            .is_some_and(|f| f.tasks.iter().any(|t| t.id == "t1"))
    })
    .await;
    assert_eq!(b.state().slaves.len(), 1);
    assert_eq!(b.state().slaves[0].id, agent_id);

    // The framework re-subscribes with its id and finds its task.
    info.id = Some(s.framework_id.clone());
    let mut s = subscribe(&b.url(), Encoding::Json, info).await;
    let mut reconcile = s.call(call::Type::Reconcile);
    reconcile.reconcile = Some(call::Reconcile {
        tasks: vec![call::reconcile::Task {
            task_id: v1::TaskId { value: "t1".into() },
            agent_id: None,
        }],
    });
    s.send_ok(&reconcile, 202).await;
    let answer = s.update("t1").await;
    assert_eq!(answer.state, v1::TaskState::TaskRunning as i32);
    assert_eq!(
        answer.reason,
        Some(v1::task_status::Reason::Reconciliation as i32)
    );

    // What the task uses is not offered again: only the other cpu.
    let offer = s.offers().await.remove(0);
    let offered = Resources::from(offer.resources.clone());
    assert_eq!(offered.cpus(), 1.0, "offered {offered:?}");

    // The new leader drives the old task: kill it.
    let mut kill = s.call(call::Type::Kill);
    kill.kill = Some(call::Kill {
        task_id: v1::TaskId { value: "t1".into() },
        agent_id: Some(offer.agent_id.clone()),
        kill_policy: None,
    });
    s.send_ok(&kill, 202).await;
    s.until_state("t1", v1::TaskState::TaskKilled).await;

    let _ = stop_agent.send(());
    tokio::time::timeout(WAIT, agent_task)
        .await
        .expect("agent stops")
        .unwrap()
        .expect("agent ran");
    b.shutdown().await;
}

#[tokio::test]
async fn agents_marked_gone_and_weights_updated_by_the_operator_outlive_the_leader() {
    let zk = ZooKeeperServer::start().await;
    let (a, b) = leader_and_follower(&zk, config()).await;
    let scratch = agent::Scratch::new();
    let agent_config = || {
        let mut c = AgentConfig::new(
            "gone-agent",
            Resources::parse("cpus:1;mem:256").unwrap(),
            scratch.0.clone(),
        );
        c.registration_backoff = Duration::from_millis(20);
        c.registration_backoff_max = Duration::from_millis(200);
        c
    };
    let (_keep, never) = oneshot::channel::<()>();
    let zk_url = zk.zk_url("/mesos");
    let config = agent_config();
    let url = zk_url.clone();
    let first_run = tokio::spawn(async move {
        remote::run_remote_until(config, &url, async {
            let _ = never.await;
        })
        .await
    });
    eventually("the agent registers", || a.state().slaves.len() == 1).await;

    // The operator marks the agent gone and changes a weight, on the leader.
    let operator = mesos_sdk::operator::OperatorClient::builder(&a.url())
        .build()
        .unwrap();
    operator
        .mark_agent_gone(v1::AgentId {
            value: "gone-agent".into(),
        })
        .await
        .unwrap();
    operator.update_weights([("gold", 3.0)]).await.unwrap();
    tokio::time::timeout(WAIT, first_run)
        .await
        .expect("the agent shuts down when marked gone")
        .unwrap()
        .expect("a shutdown by the master is a clean stop");
    let client = zk.client(None).await;
    assert_eq!(
        client.list_children("/mesos/registry/gone").await.unwrap(),
        ["gone-agent"]
    );
    assert!(
        client
            .list_children("/mesos/registry/agents")
            .await
            .unwrap()
            .is_empty()
    );

    // The next leader knows both from the registry alone.
    a.stop().await;
    until(&b, "leading", Leadership::is_leading).await;
    let operator = mesos_sdk::operator::OperatorClient::builder(&b.url())
        .build()
        .unwrap();
    let weights = operator.get_weights().await.unwrap();
    assert!(
        weights
            .iter()
            .any(|w| w.role.as_deref() == Some("gold") && w.weight == 3.0),
        "{weights:?}"
    );
    let refused = tokio::time::timeout(
        WAIT,
        remote::run_remote_until(agent_config(), &zk_url, std::future::pending()),
    )
    .await
    .expect("the new leader answers the agent");
    let error = refused.expect_err("an agent marked gone may not come back");
    assert!(
        error.to_string().contains("has been marked gone"),
        "{error}"
    );
    assert!(b.state().slaves.is_empty());
    b.shutdown().await;
}
