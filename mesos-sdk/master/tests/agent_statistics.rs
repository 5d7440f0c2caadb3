//! The agent's resource monitor, `GET /monitor/statistics`, over real HTTP with posix
//! isolation (the default): a CPU-burning command task's process group shows growing
//! cpu time and resident memory, under Mesos's command executor names and the
//! container's allocation. A `LocalCluster`'s (and so `mesos-local`'s) in-process agents
//! serve it on their own port, the one in offers' `url`. (The cgroup counters are
//! tested in `agent_isolation.rs`.)

mod support;

use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_master::agent::FetcherConfig;
use mesos_master::agent::protocol::ToAgent;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use serde_json::Value;
use support::agent::*;
use support::files::FileServer;
use support::scheduler::subscribe;
use support::*;

const MB: f64 = 1024.0 * 1024.0;

fn burner(id: &str) -> v1::TaskInfo {
    let mut task = shell_task(id, "while :; do :; done");
    task.resources = vec![scalar("cpus", 0.5), scalar("mem", 64.0)];
    task
}

async fn running(h: &mut Harness) {
    assert_eq!(state(&h.next_acked().await), TaskState::TaskStarting);
    assert_eq!(state(&h.next_acked().await), TaskState::TaskRunning);
}

/// The statistics of `executor`, which must be reported.
async fn statistics(h: &Harness, executor: &str) -> Value {
    let entry = h
        .executor_statistics(executor)
        .await
        .unwrap_or_else(|| panic!("no statistics for {executor}"));
    entry["statistics"].clone()
}

fn cpu_secs(statistics: &Value) -> f64 {
    statistics["cpus_user_time_secs"]
        .as_f64()
        .expect("user time")
        + statistics["cpus_system_time_secs"]
            .as_f64()
            .expect("system time")
}

/// Polls the statistics of `executor` until its cpu time exceeds `than`.
async fn cpu_time_above(h: &Harness, executor: &str, than: f64) -> f64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let secs = cpu_secs(&statistics(h, executor).await);
        if secs > than {
            return secs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cpu time of {executor} stayed at {secs} s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn kill(h: &mut Harness, id: &str) {
    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId { value: id.into() },
            kill_policy: None,
        })
        .unwrap();
    assert_eq!(state(&h.next_acked().await), TaskState::TaskKilled);
}

#[tokio::test]
async fn a_burning_command_task_shows_growing_cpu_time_and_resident_memory() {
    let mut h = Harness::start().await;
    assert_eq!(
        h.statistics().await,
        Vec::<Value>::new(),
        "nothing runs yet"
    );
    h.run_task(burner("burn"));
    running(&mut h).await;

    let entry = h.executor_statistics("burn").await.expect("reported");
    assert_eq!(entry["framework_id"], "f1");
    assert_eq!(entry["source"], "burn");
    assert_eq!(
        entry["executor_name"],
        "Command Executor (Task: burn) (Command: sh -c 'while :; do ...')"
    );
    let first = cpu_time_above(&h, "burn", 0.0).await;
    let later = cpu_time_above(&h, "burn", first).await;
    assert!(later > first);

    let s = statistics(&h, "burn").await;
    assert!(s["timestamp"].as_f64().unwrap() > 0.0);
    assert!(s["mem_rss_bytes"].as_u64().unwrap() > 0, "{s}");
    assert!(s["processes"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["threads"].as_u64().unwrap() >= 1, "{s}");
    // The allocation: the task's plus the command executor's 0.1 cpus and 32 MB.
    assert_eq!(s["mem_limit_bytes"].as_f64(), Some(96.0 * MB));
    assert!(
        (s["cpus_soft_limit"].as_f64().unwrap() - 0.6).abs() < 1e-9,
        "{s}"
    );
    // posix measures processes: no cgroup counters.
    assert!(s.get("mem_total_bytes").is_none(), "{s}");
    assert!(s.get("cpus_nr_periods").is_none(), "{s}");

    kill(&mut h, "burn").await;
    assert!(
        h.executor_statistics("burn").await.is_none(),
        "an ended container is not reported"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn the_children_of_a_task_count_and_other_methods_are_refused() {
    let mut h = Harness::start().await;
    // Two burning children under one shell: all in the task's process group.
    h.run_task(shell_task(
        "family",
        "(while :; do :; done) & (while :; do :; done) & wait",
    ));
    running(&mut h).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = statistics(&h, "family").await;
        if s["processes"].as_u64() == Some(3) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the shell and its two children: {s}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let endpoint = h.agent.as_ref().unwrap().executor_endpoint();
    let client = reqwest::Client::new();
    let json = client
        .get(format!("http://{endpoint}/monitor/statistics.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), reqwest::StatusCode::OK);
    let entries: Vec<Value> = serde_json::from_slice(&json.bytes().await.unwrap()).unwrap();
    assert_eq!(entries.len(), 1);
    let post = client
        .post(format!("http://{endpoint}/monitor/statistics"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), reqwest::StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.headers()["allow"], "GET");

    kill(&mut h, "family").await;
    h.shutdown().await;
}

#[tokio::test]
async fn a_custom_executor_is_measured_with_its_tasks_allocation() {
    let mut h = Harness::start().await;
    // An executor that never subscribes: its task stays queued, its container runs.
    let mut task = shell_task("queued", "true");
    task.command = None;
    task.resources = vec![scalar("cpus", 0.5), scalar("mem", 64.0)];
    task.executor = Some(v1::ExecutorInfo {
        executor_id: v1::ExecutorId {
            value: "exec-1".into(),
        },
        name: Some("a quiet executor".into()),
        command: Some(v1::CommandInfo {
            value: Some("exec sleep 30".into()),
            ..Default::default()
        }),
        resources: vec![scalar("cpus", 0.25), scalar("mem", 32.0)],
        ..Default::default()
    });
    h.run_task(task);
    let deadline = tokio::time::Instant::now() + WAIT;
    let entry = loop {
        if let Some(entry) = h.executor_statistics("exec-1").await
            && entry["statistics"]["processes"].as_u64() == Some(1)
        {
            break entry;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the executor's process was not measured"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(entry["executor_name"], "a quiet executor");
    assert_eq!(entry["framework_id"], "f1");
    let s = &entry["statistics"];
    // The executor's resources and its (queued, live) task's.
    assert_eq!(s["mem_limit_bytes"].as_f64(), Some(96.0 * MB));
    assert!(
        (s["cpus_soft_limit"].as_f64().unwrap() - 0.75).abs() < 1e-9,
        "{s}"
    );
    assert!(s["mem_rss_bytes"].as_u64().unwrap() > 0, "{s}");
    h.shutdown().await;
}

#[tokio::test]
async fn local_cluster_agents_serve_statistics_at_the_offer_url_and_bound_fetches() {
    let server = FileServer::start(vec![("big", vec![7u8; 4096])]).await;
    let mut fetcher = FetcherConfig::default();
    fetcher.max_bytes = 1024;
    let cluster = LocalCluster::builder()
        .resources("cpus:2;mem:512")
        .allocation_interval(Duration::from_millis(50))
        .status_update_retry(Duration::from_millis(100))
        .fetcher(fetcher)
        .start()
        .await
        .expect("cluster starts");
    let mut s = subscribe(&cluster.url(), Encoding::Protobuf, framework_info("stats")).await;
    let offer = s.offers().await.remove(0);
    let address = offer
        .url
        .clone()
        .expect("offers carry the agent's URL")
        .address;
    let agent = format!(
        "http://{}:{}",
        address.hostname.expect("a hostname"),
        address.port
    );

    let url = server.url("big");
    let mut fetching = command_task("fetching", &offer, "true");
    if let Some(command) = fetching.command.as_mut() {
        command.uris.push(v1::command_info::Uri {
            value: url.clone(),
            ..Default::default()
        });
    }
    let sleeper = command_task("sleeper", &offer, "exec sleep 30");
    s.launch(&offer, vec![fetching, sleeper]).await;
    let failed = s.until_state("fetching", TaskState::TaskFailed).await;
    let message = failed.message.unwrap_or_default();
    assert!(
        message.contains(&format!("Failed to fetch '{url}'"))
            && message.contains("larger than the limit of 1024 bytes"),
        "{message}"
    );
    s.until_state("sleeper", TaskState::TaskRunning).await;

    let response = reqwest::get(format!("{agent}/monitor/statistics"))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let entries: Vec<Value> = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let sleeper = entries
        .iter()
        .find(|e| e["executor_id"] == "sleeper")
        .unwrap_or_else(|| panic!("the sleeper is measured: {entries:?}"));
    assert_eq!(
        sleeper["framework_id"],
        s.framework_id.value.as_str(),
        "{sleeper}"
    );
    cluster.shutdown().await;
}
