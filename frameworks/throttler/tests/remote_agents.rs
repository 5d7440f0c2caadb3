//! The Throttler against a master whose agent is "remote" (registered over HTTP, its
//! own work directory) and has never seen the binary: the scheduler process serves its
//! executable and the agent fetches it; a bad `--executor-uri` fails the run saying why.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use mesos_master::agent::{AgentConfig, remote};
use mesos_master::{LocalCluster, MasterConfig};
use mesos_sdk::resources::Resources;
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(90);

fn scratch(what: &str) -> PathBuf {
    use std::hash::{BuildHasher, RandomState};
    let suffix = RandomState::new().hash_one(std::time::SystemTime::now());
    let dir =
        std::env::temp_dir().join(format!("throttler-{what}-{}-{suffix}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn find(dir: &Path, name: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            find(&path, name, found);
        } else if path.file_name().is_some_and(|n| n == name) {
            found.push(path);
        }
    }
}

struct Remote {
    cluster: LocalCluster,
    stop: oneshot::Sender<()>,
    agent: tokio::task::JoinHandle<()>,
    work: PathBuf,
}

async fn remote_cluster() -> Remote {
    let mut config = MasterConfig::default();
    config.allocation_interval = Duration::from_millis(20);
    let cluster = LocalCluster::builder()
        .agents(0)
        .master_config(config)
        .start()
        .await
        .unwrap();
    let work = scratch("agent");
    let agent_config = AgentConfig::new(
        "",
        Resources::parse("cpus:2;mem:512").unwrap(),
        work.clone(),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let url = cluster.url();
    let agent = tokio::spawn(async move {
        remote::run_remote_until(agent_config, &url, async {
            let _ = stopped.await;
        })
        .await
        .expect("the agent ran");
    });
    let deadline = tokio::time::Instant::now() + WAIT;
    while cluster.state().slaves.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent registered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Remote {
        cluster,
        stop,
        agent,
        work,
    }
}

impl Remote {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(WAIT, self.agent)
            .await
            .expect("the agent stops")
            .unwrap();
        self.cluster.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// Runs `program` (a copy of the throttler) against `master` with a small noop run.
async fn throttler(program: &Path, master: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "--mesos-master",
        master,
        "--target",
        "noop",
        "--total-queries",
        "40",
        "--queries-per-task",
        "10",
        "--parallelism",
        "2",
        "--task-cpus",
        "0.1",
        "--task-mem",
        "16",
        "--json",
    ];
    args.extend_from_slice(extra);
    let child = tokio::process::Command::new(program)
        .args(&args)
        .env_remove("MESOS_AGENT_ENDPOINT")
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the throttler starts");
    tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("the throttler exits in time")
        .expect("its output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executor_is_served_to_an_agent_that_never_saw_the_binary() {
    let c = remote_cluster().await;
    let bin = scratch("bin");
    let program = bin.join("throttler-private");
    std::fs::copy(env!("CARGO_BIN_EXE_throttler"), &program).unwrap();
    let out = throttler(&program, &c.cluster.url(), &["--advertise-ip", "127.0.0.1"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(report["succeeded"], 40);
    let mut fetched = Vec::new();
    find(&c.work, "throttler-private", &mut fetched);
    assert!(!fetched.is_empty(), "the agent ran a fetched copy");
    c.stop().await;
    let _ = std::fs::remove_dir_all(bin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_executor_uri_fails_the_run_with_the_fetch_reason() {
    let c = remote_cluster().await;
    let out = throttler(
        Path::new(env!("CARGO_BIN_EXE_throttler")),
        &c.cluster.url(),
        &["--executor-uri", "http://127.0.0.1:1/dist/throttler"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("Failed to fetch 'http://127.0.0.1:1/dist/throttler'"),
        "{stderr}"
    );
    c.stop().await;
}
