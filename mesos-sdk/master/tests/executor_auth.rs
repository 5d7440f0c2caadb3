//! Executor authentication (Mesos's `--jwt_secret_key` and
//! `--authenticate_http_executors`): the agent gives each executor a JWT in
//! `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`; an SDK executor (this test binary, re-run as
//! `auth_executor`) sends it and runs its tasks, while calls on the agent's executor API
//! without a valid token get 401 and calls with another executor's token get 403. Both
//! with in-process agents (`LocalCluster`) and with a `mesos-agent` process.

mod support;

use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_master::agent::ExecutorAuth;
use mesos_sdk::codec::Encoding;
use mesos_sdk::executor::{Executor, ExecutorClient, run_if_executor};
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_testkit::{ChildProcess, Scratch};
use support::driver::{Framework, bytes, failover_framework_info, launch};
use support::executor::this_binary_running;
use support::*;

const SECRET: &[u8] = b"the agents' executor secret";

/// The executor: each task goes RUNNING, then FINISHED if its data is `finish`, else
/// runs until killed.
struct Tasks(Vec<v1::TaskId>);

#[async_trait::async_trait]
impl Executor for Tasks {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        let _ = client
            .send_status(task.task_id.clone(), TaskState::TaskRunning, None, None)
            .await;
        if task.data.as_deref() == Some(b"finish") {
            let _ = client
                .send_status(task.task_id, TaskState::TaskFinished, None, None)
                .await;
        } else {
            self.0.push(task.task_id);
        }
    }

    async fn kill(
        &mut self,
        client: &ExecutorClient,
        task_id: v1::TaskId,
        _policy: Option<v1::KillPolicy>,
    ) {
        self.0.retain(|t| *t != task_id);
        let _ = client
            .send_status(task_id, TaskState::TaskKilled, None, None)
            .await;
    }

    async fn shutdown(&mut self, client: &ExecutorClient) {
        for task_id in std::mem::take(&mut self.0) {
            let _ = client
                .send_status(task_id, TaskState::TaskKilled, None, None)
                .await;
        }
    }
}

/// Entry point of the executor process: the agent starts this binary as
/// `<test binary> auth_executor --exact --ignored`.
#[tokio::test]
#[ignore = "the executor process of these tests; started by the agent"]
async fn auth_executor() {
    let Some(result) = run_if_executor(|| Tasks(Vec::new())).await else {
        return; // Not started by an agent: nothing to do.
    };
    std::process::exit(if result.is_ok() { 0 } else { 1 });
}

fn executor_task(id: &str, offer: &v1::Offer, behaviour: &str) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 16.0)],
        executor: Some(v1::ExecutorInfo {
            executor_id: v1::ExecutorId {
                value: "sdk".into(),
            },
            command: Some(this_binary_running("auth_executor")),
            resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
            ..Default::default()
        }),
        data: Some(bytes(behaviour)),
        ..Default::default()
    }
}

/// The executor API of the agent that made `offer`, over `scheme`.
fn executor_api(offer: &v1::Offer, scheme: &str) -> String {
    let url = offer.url.as_ref().expect("offers carry the agent's URL");
    format!("{scheme}://127.0.0.1:{}/api/v1/executor", url.address.port)
}

/// A SUBSCRIBE of executor `sdk` of `framework`, posted with `authorization`.
async fn subscribe_as(
    http: &reqwest::Client,
    api: &str,
    framework: &v1::FrameworkId,
    authorization: Option<&str>,
) -> reqwest::Response {
    let call = v1::executor::Call {
        framework_id: framework.clone(),
        executor_id: v1::ExecutorId {
            value: "sdk".into(),
        },
        r#type: Some(v1::executor::call::Type::Subscribe as i32),
        subscribe: Some(Default::default()),
        ..Default::default()
    };
    let mut request = http
        .post(api)
        .header("Content-Type", Encoding::Json.content_type())
        .header("Accept", Encoding::Json.content_type())
        .body(Encoding::Json.encode(&call));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.expect("the agent answers")
}

fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("WWW-Authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Calls without the caller's own valid token are refused: 401 with a Bearer
/// challenge without one (or with an invalid one), 403 with another executor's.
async fn refuses_calls_without_the_callers_token(
    http: &reqwest::Client,
    api: &str,
    framework: &v1::FrameworkId,
) {
    let missing = subscribe_as(http, api, framework, None).await;
    assert_eq!(missing.status(), 401);
    assert_eq!(challenge(&missing), "Bearer realm=\"mesos-agent-executor\"");

    let garbage = subscribe_as(http, api, framework, Some("Bearer not-a-jwt")).await;
    assert_eq!(garbage.status(), 401);
    assert!(
        challenge(&garbage).contains("error=\"invalid_token\""),
        "{}",
        challenge(&garbage)
    );

    let forged = ExecutorAuth::new(b"another key".to_vec(), true)
        .unwrap()
        .token(&framework.value, "sdk", "any-container")
        .unwrap();
    let forged = subscribe_as(http, api, framework, Some(&format!("Bearer {forged}"))).await;
    assert_eq!(forged.status(), 401, "a token signed with another key");

    let basic = subscribe_as(http, api, framework, Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(basic.status(), 401);

    // Well signed, but another executor's token.
    let agent_key = ExecutorAuth::new(SECRET.to_vec(), true).unwrap();
    let other = agent_key
        .token(&framework.value, "another-executor", "any-container")
        .unwrap();
    let other = subscribe_as(http, api, framework, Some(&format!("Bearer {other}"))).await;
    assert_eq!(other.status(), 403);
    assert!(other.text().await.unwrap().contains("'eid'"));

    // The right framework and executor, but not its container.
    let stale = agent_key
        .token(&framework.value, "sdk", "an-old-container")
        .unwrap();
    let stale = subscribe_as(http, api, framework, Some(&format!("Bearer {stale}"))).await;
    assert_eq!(stale.status(), 403);
    assert!(stale.text().await.unwrap().contains("'cid'"));
}

#[tokio::test]
async fn an_sdk_executor_runs_tasks_with_its_token_and_others_are_refused() {
    let cluster = LocalCluster::builder()
        .resources("cpus:4;mem:2048")
        .heartbeat_interval(Duration::from_millis(500))
        .allocation_interval(Duration::from_millis(50))
        .kill_grace_period(Duration::from_millis(300))
        .executor_shutdown_grace_period(Duration::from_millis(500))
        .executor_auth(ExecutorAuth::new(SECRET.to_vec(), true).unwrap())
        // The SDK executor calls over the agent's socket: it is authenticated there
        // too, as in Mesos, while the TCP endpoint below refuses calls without a token.
        .executor_domain_sockets(true)
        .start()
        .await
        .expect("cluster starts");
    let mut fw = Framework::start(
        &cluster.url(),
        Encoding::Protobuf,
        failover_framework_info("executor-auth"),
    );
    let framework = fw.subscribed().await.framework_id;
    let offer = fw.offer().await;
    launch(
        &fw.client,
        &offer,
        vec![
            executor_task("done", &offer, "finish"),
            executor_task("running", &offer, "run"),
            // Command tasks (the built-in executor, no HTTP) are not affected.
            command_task("command", &offer, "true"),
        ],
    )
    .await;
    fw.status("done", TaskState::TaskFinished).await;
    fw.status("running", TaskState::TaskRunning).await;
    fw.status("command", TaskState::TaskFinished).await;

    refuses_calls_without_the_callers_token(
        &reqwest::Client::new(),
        &executor_api(&offer, "http"),
        &framework,
    )
    .await;

    // The executor, authenticated, still gets its kill and answers it.
    fw.client
        .kill(
            v1::TaskId {
                value: "running".into(),
            },
            Some(offer.agent_id.clone()),
            None,
        )
        .await
        .expect("KILL accepted");
    fw.status("running", TaskState::TaskKilled).await;
    drop(fw);
    cluster.shutdown().await;
}

/// A mesos-agent process serving its executor API over TLS and requiring executor
/// tokens: its SDK executor connects over https (told so by `LIBPROCESS_SSL_ENABLED`
/// and `LIBPROCESS_SSL_CA_FILE`, as a Mesos agent with SSL does) with its token.
#[tokio::test]
async fn a_mesos_agent_with_tls_and_jwt_flags_authenticates_its_executors() {
    let cluster = LocalCluster::builder()
        .agents(0)
        .allocation_interval(Duration::from_millis(50))
        .start()
        .await
        .expect("cluster starts");
    let scratch = Scratch::new("executor-auth");
    let secret = scratch.path().join("jwt-secret");
    std::fs::write(&secret, SECRET).unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("certificate generated");
    let (cert, key) = (
        scratch.path().join("cert.pem"),
        scratch.path().join("key.pem"),
    );
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
    command
        .args(["--master", &cluster.url()])
        .args(["--resources", "cpus:2;mem:512", "--hostname", "127.0.0.1"])
        .arg("--jwt-secret-key")
        .arg(&secret)
        .arg("--authenticate-http-executors")
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .arg("--tls-ca")
        .arg(&cert)
        .arg("--work-dir")
        .arg(scratch.path().join("work"));
    let agent = ChildProcess::spawn("mesos-agent", command, &scratch.path().join("agent.log"));

    let mut fw = Framework::start(
        &cluster.url(),
        Encoding::Json,
        failover_framework_info("remote-executor-auth"),
    );
    let framework = fw.subscribed().await.framework_id;
    let offer = tokio::time::timeout(Duration::from_secs(30), fw.offer())
        .await
        .unwrap_or_else(|_| panic!("no offer; agent log:\n{}", agent.log()));
    launch(
        &fw.client,
        &offer,
        vec![
            executor_task("done", &offer, "finish"),
            executor_task("running", &offer, "run"),
        ],
    )
    .await;
    fw.status("done", TaskState::TaskFinished).await;
    fw.status("running", TaskState::TaskRunning).await;
    let https = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    refuses_calls_without_the_callers_token(&https, &executor_api(&offer, "https"), &framework)
        .await;
    drop(fw);
    // The master shuts the agent's frameworks down (their executors stop), then the
    // agent stops.
    cluster.shutdown().await;
    let mut agent = agent;
    assert!(agent.terminate(WAIT), "mesos-agent stops on SIGTERM");
}

#[test]
fn authenticating_executors_needs_a_key() {
    let scratch = Scratch::new("executor-auth-flags");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .arg("--work-dir")
        .arg(scratch.path().join("work"))
        .arg("--authenticate-http-executors")
        .output()
        .expect("mesos-agent runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("--jwt-secret-key"), "{stderr}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .args(["--port", "0", "--authenticate-http-executors"])
        .output()
        .expect("mesos-local runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--jwt-secret-key"));

    let empty = scratch.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .arg("--work-dir")
        .arg(scratch.path().join("work"))
        .arg("--jwt-secret-key")
        .arg(&empty)
        .output()
        .expect("mesos-agent runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("empty"));
}
