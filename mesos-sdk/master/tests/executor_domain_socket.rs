//! The executor API on a Unix domain socket (Mesos's `--http_executor_domain_sockets`):
//! the agent names it in `MESOS_DOMAIN_SOCKET`, the SDK's executor uses it instead of
//! TCP, only the executor API is served on it, and the socket file is made, replaced
//! and removed as Mesos's agent does.

mod support;

use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use mesos_master::agent::protocol::ToAgent;
use mesos_master::agent::spawn;
use mesos_sdk::codec::Encoding;
use mesos_sdk::executor::{Executor, ExecutorClient, ExecutorConfig, ExecutorDriver};
use mesos_sdk::transport::{HttpTransport, TransportError, Url};
use mesos_sdk::v1::{self, TaskState};
use support::agent::*;
use support::*;

/// Finishes every task at once.
struct FinishAtOnce;

#[async_trait::async_trait]
impl Executor for FinishAtOnce {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        client
            .send_status(task.task_id, TaskState::TaskFinished, None, None)
            .await
            .expect("the update is accepted over the socket");
    }
}

fn socket_in(dir: &Path) -> PathBuf {
    dir.join("agent.sock")
}

/// An executor the agent starts as a placeholder (`sleep`), which stays up only if the
/// agent named `socket` in `MESOS_DOMAIN_SOCKET`; the test's own SDK driver speaks for it.
fn placeholder_checking(socket: &Path) -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: "e".into() },
        command: Some(v1::CommandInfo {
            value: Some(format!(
                "[ \"$MESOS_DOMAIN_SOCKET\" = '{}' ] && exec sleep 60",
                socket.display()
            )),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_sdk_executor_reaches_its_agent_over_the_domain_socket_alone() {
    let scratch = Scratch::new();
    let socket = socket_in(&scratch.0);
    let mut h = Harness::start_with(|c| c.executor_domain_socket = Some(socket.clone())).await;
    let mut task = shell_task("t", "true");
    task.command = None;
    task.executor = Some(placeholder_checking(&socket));
    h.run_task(task);
    h.wait_for_sandbox().await;

    // Nothing listens on the TCP endpoint given: only the socket can carry the calls.
    let config = ExecutorConfig::from_vars(|name| match name {
        "MESOS_FRAMEWORK_ID" => Some("f1".into()),
        "MESOS_EXECUTOR_ID" => Some("e".into()),
        "MESOS_AGENT_ENDPOINT" => Some("127.0.0.1:1".into()),
        "MESOS_DIRECTORY" => Some(scratch.0.display().to_string()),
        "MESOS_DOMAIN_SOCKET" => Some(socket.display().to_string()),
        _ => None,
    })
    .unwrap();
    let driver = tokio::spawn(ExecutorDriver::new(config).run(FinishAtOnce));

    let finished = h.next_acked().await;
    assert_eq!(
        (finished.task_id.value.as_str(), state(&finished)),
        ("t", TaskState::TaskFinished),
        "{finished:?}"
    );
    h.shutdown().await;
    let stopped = tokio::time::timeout(WAIT, driver)
        .await
        .expect("the executor stops on the agent's SHUTDOWN")
        .unwrap();
    assert!(stopped.is_ok(), "{stopped:?}");
    assert!(!socket.exists(), "the socket file is removed at shutdown");
}

#[tokio::test]
async fn only_the_executor_api_is_served_on_the_socket() {
    let scratch = Scratch::new();
    let socket = socket_in(&scratch.0);
    let mut h = Harness::start_with(|c| c.executor_domain_socket = Some(socket.clone())).await;
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666, "every user's executors may connect");

    let http = HttpTransport::over_unix_socket(Encoding::Json, None, &socket).unwrap();
    let refused = |url: &str| {
        let http = http.clone();
        let url = Url::parse(url).unwrap();
        async move {
            match http.post(&url, b"{}".to_vec(), None).await {
                Err(TransportError::Api(e)) => e.status,
                other => panic!("{url}: expected a refusal, got {other:?}"),
            }
        }
    };
    // The executor API answers (an empty call is malformed), the monitor does not.
    assert_eq!(refused("http://localhost/api/v1/executor").await, 400);
    assert_eq!(refused("http://localhost/monitor/statistics").await, 403);
    h.shutdown().await;
}

#[tokio::test]
async fn a_socket_left_by_an_earlier_run_is_replaced_and_other_files_are_kept() {
    let scratch = Scratch::new();
    let socket = socket_in(&scratch.0);
    // A socket file whose server is gone, as a killed agent leaves it.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let (tx, _events) = tokio::sync::mpsc::unbounded_channel();
    let mut config = fast_config(&scratch.0);
    config.executor_domain_socket = Some(socket.clone());
    let agent = spawn(config.clone(), tx.clone())
        .await
        .expect("a stale socket is replaced");
    assert!(std::fs::metadata(&socket).unwrap().file_type().is_socket());
    tokio::time::timeout(WAIT, agent.shutdown()).await.unwrap();

    // A file that is not a socket is not the agent's to delete.
    std::fs::write(&socket, b"keep me").unwrap();
    let error = spawn(config.clone(), tx.clone()).await.unwrap_err();
    assert!(
        error.to_string().contains(&socket.display().to_string()),
        "{error}"
    );
    assert_eq!(std::fs::read(&socket).unwrap(), b"keep me");

    // A path longer than a socket address holds is refused before anything is made.
    config.executor_domain_socket = Some(scratch.0.join("s".repeat(120)));
    let error = spawn(config, tx).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().contains("108 bytes"), "{error}");
}

/// Without a socket, `MESOS_DOMAIN_SOCKET` is not set: the placeholder's check fails,
/// its process exits, and the agent fails the task.
#[tokio::test]
async fn without_the_flag_executors_get_no_socket() {
    let mut h = Harness::start().await;
    let mut task = shell_task("t", "true");
    task.command = None;
    task.executor = Some(placeholder_checking(Path::new("/nowhere")));
    h.to_agent
        .send(ToAgent::RunTask {
            framework: framework("f1"),
            task,
        })
        .unwrap();
    let failed = h.next_acked().await;
    assert_eq!(failed.task_id.value, "t");
    assert!(
        matches!(state(&failed), TaskState::TaskFailed | TaskState::TaskLost),
        "{failed:?}"
    );
    h.shutdown().await;
}

/// `mesos-agent --http-executor-domain-sockets`: the socket is made in the work
/// directory once the agent has registered, and removed when it stops; a location too
/// long for a socket address stops the agent at start, naming the flag.
#[tokio::test]
async fn mesos_agent_serves_the_socket_its_flags_name() {
    let cluster = mesos_master::LocalCluster::builder()
        .agents(0)
        .start()
        .await
        .expect("cluster starts");
    let scratch = mesos_testkit::Scratch::new("executor-socket");
    let work = scratch.path().join("work");
    let agent = |extra: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
        command
            .args(["--master", &cluster.url(), "--resources", "cpus:1;mem:64"])
            .args(["--hostname", "127.0.0.1", "--http-executor-domain-sockets"])
            .args(extra)
            .arg("--work-dir")
            .arg(&work);
        command
    };

    let too_long = format!("/tmp/{}.sock", "s".repeat(110));
    let output = agent(&["--domain-socket-location", &too_long])
        .output()
        .expect("mesos-agent runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("--domain-socket-location") && stderr.contains("108"),
        "{stderr}"
    );

    let mut process = mesos_testkit::ChildProcess::spawn(
        "mesos-agent",
        agent(&[]),
        &scratch.path().join("agent.log"),
    );
    let socket = work.join("agent.sock");
    // The agent starts serving once the master has registered it.
    tokio::time::timeout(WAIT, async {
        while !std::fs::symlink_metadata(&socket).is_ok_and(|m| m.file_type().is_socket()) {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no socket; agent log:\n{}", process.log()));
    assert_eq!(cluster.state().slaves.len(), 1);
    assert!(process.terminate(WAIT), "mesos-agent stops on SIGTERM");
    assert!(
        !socket.exists(),
        "the socket is removed when the agent stops"
    );
    cluster.shutdown().await;
}
