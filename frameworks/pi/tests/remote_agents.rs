//! Pi against a master whose agents are "remote": agents registered over HTTP with
//! their own work directories, which have never seen the pi binary. The executor
//! reaches them only through a URI: served by the scheduler, as a `file://` tarball to
//! extract, or not at all (a bad URI fails the tasks with the fetcher's reason).

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_master::agent::{AgentConfig, remote};
use mesos_master::{LocalCluster, MasterConfig};
use mesos_pi::job::{JobConfig, JobError, Report, run};
use mesos_pi::scheduler::Progress;
use mesos_sdk::resources::Resources;
use tokio::sync::{oneshot, watch};

const WAIT: Duration = Duration::from_secs(60);

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "pi-{what}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A master with no agents of its own and two remote agents, each in its own work
/// directory.
struct Cluster {
    cluster: LocalCluster,
    agents: Vec<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
    work: Vec<Scratch>,
}

impl Cluster {
    async fn start() -> Self {
        let mut config = MasterConfig::default();
        config.allocation_interval = Duration::from_millis(20);
        let cluster = LocalCluster::builder()
            .agents(0)
            .master_config(config)
            .start()
            .await
            .unwrap();
        let mut agents = Vec::new();
        let mut work = Vec::new();
        for i in 0..2 {
            let dir = Scratch::new(&format!("agent{i}"));
            let config = AgentConfig::new(
                "",
                Resources::parse("cpus:2.01;mem:256").unwrap(),
                dir.0.clone(),
            );
            let (stop, stopped) = oneshot::channel::<()>();
            let url = cluster.url();
            let agent = tokio::spawn(async move {
                remote::run_remote_until(config, &url, async {
                    let _ = stopped.await;
                })
                .await
                .expect("the agent ran");
            });
            agents.push((stop, agent));
            work.push(dir);
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        while cluster.state().slaves.len() < 2 {
            assert!(tokio::time::Instant::now() < deadline, "agents registered");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Cluster {
            cluster,
            agents,
            work,
        }
    }

    fn job(&self, executor_path: &Path) -> JobConfig {
        JobConfig {
            master: Some(self.cluster.url()),
            samples: 400_001,
            tasks: 4,
            seed: 7,
            max_retries: 0,
            executor_path: Some(executor_path.to_path_buf()),
            ..JobConfig::default()
        }
    }

    /// Every file named `name` in the agents' sandboxes.
    fn fetched(&self, name: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for dir in &self.work {
            find(&dir.0, name, &mut found);
        }
        found
    }

    async fn stop(self) {
        for (stop, agent) in self.agents {
            let _ = stop.send(());
            tokio::time::timeout(WAIT, agent)
                .await
                .expect("agent stops")
                .unwrap();
        }
        self.cluster.shutdown().await;
    }
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

/// The pi binary copied to a scratch directory under `name`: the only copy the job
/// knows of.
fn private_binary(scratch: &Scratch, name: &str) -> PathBuf {
    let path = scratch.0.join(name);
    std::fs::copy(env!("CARGO_BIN_EXE_pi"), &path).unwrap();
    path
}

async fn job(config: &JobConfig) -> Result<Report, JobError> {
    let (tx, _rx) = watch::channel(Progress::default());
    tokio::time::timeout(WAIT, run(config, tx))
        .await
        .expect("the job ends in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_serves_its_executor_to_agents_that_never_saw_it() {
    let c = Cluster::start().await;
    let bin = Scratch::new("bin");
    let program = private_binary(&bin, "pi-served");
    let report = job(&c.job(&program)).await.expect("the job succeeds");
    assert_eq!(report.samples, 400_001);
    // The agents ran the copy they fetched into their sandboxes, made executable.
    let fetched = c.fetched("pi-served");
    assert!(!fetched.is_empty(), "the executor was fetched");
    for copy in &fetched {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{}", copy.display());
    }
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uri_tarball_is_extracted_and_its_program_runs() {
    let c = Cluster::start().await;
    let bin = Scratch::new("tarball");
    private_binary(&bin, "pi");
    let tarball = bin.0.join("pi-dist.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&bin.0)
        .arg("pi")
        .status()
        .unwrap();
    assert!(status.success());
    let mut config = c.job(&bin.0.join("pi"));
    config.executor_uri = Some(format!("file://{}", tarball.display()));
    let report = job(&config).await.expect("the job succeeds");
    assert_eq!(report.samples, 400_001);
    assert!(
        !c.fetched("pi-dist.tar.gz").is_empty(),
        "the tarball was fetched"
    );
    assert!(!c.fetched("pi").is_empty(), "and extracted");
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_executor_uri_fails_the_tasks_with_the_fetch_reason() {
    let c = Cluster::start().await;
    let mut config = c.job(Path::new(env!("CARGO_BIN_EXE_pi")));
    config.executor_uri = Some("file:///nonexistent/pi-dist/pi".into());
    let err = job(&config).await.expect_err("no task can run");
    let message = err.to_string();
    assert!(
        message.contains("TASK_FAILED")
            && message.contains("REASON_CONTAINER_LAUNCH_FAILED")
            && message.contains("Failed to fetch 'file:///nonexistent/pi-dist/pi'"),
        "{message}"
    );
    c.stop().await;
}
