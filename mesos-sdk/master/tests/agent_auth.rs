//! Agent authentication over real HTTP: with `--authenticate-agents` the master's agent
//! endpoints (`/agent/v1/register`, `/agent/v1/events`) take only HTTP Basic
//! credentials from its credentials file (401 with `WWW-Authenticate: Basic
//! realm="mesos-master-agent"` otherwise). A `mesos-agent` process with a good
//! `--credential` registers and runs tasks; one with a wrong or no credential never
//! registers and exits with a clear error, as a Mesos agent whose authentication is
//! refused does.

mod support;

use std::path::Path;
use std::time::Duration;

use mesos_master::auth::{AuthConfig, Credentials};
use mesos_master::{LocalCluster, MasterConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1::TaskState;
use mesos_testkit::{ChildProcess, Scratch, free_port};
use support::scheduler::*;
use support::*;

const CREDENTIALS: &str = r#"{"credentials":[{"principal":"agent","secret":"agent-secret"},{"principal":"alice","secret":"a-secret"}]}"#;

/// A master with no agent of its own that authenticates remote agents only.
async fn master() -> LocalCluster {
    let mut auth = AuthConfig::default();
    auth.agents = true;
    auth.credentials = Credentials::parse(CREDENTIALS).unwrap();
    let mut config = MasterConfig::default();
    config.auth = auth;
    config.allocation_interval = Duration::from_millis(50);
    LocalCluster::builder()
        .agents(0)
        .master_config(config)
        .start()
        .await
        .unwrap()
}

/// `mesos-agent` registering with `master`, with `--credential credential` if given.
fn agent(master: &str, scratch: &Scratch, credential: Option<&Path>) -> ChildProcess {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
    command
        .args(["--master", master])
        .args(["--resources", "cpus:1;mem:256", "--hostname", "127.0.0.1"])
        .args(["--registration-backoff-factor", "0.05"])
        .arg("--work-dir")
        .arg(scratch.path().join("work"));
    if let Some(credential) = credential {
        command.arg("--credential").arg(credential);
    }
    ChildProcess::spawn("mesos-agent", command, &scratch.path().join("agent.log"))
}

#[tokio::test]
async fn an_agent_with_its_credential_registers_and_runs_tasks() {
    let c = master().await;
    let scratch = Scratch::new("agent-auth-good");
    // Mesos's JSON form, given as a file:// path.
    let credential = scratch.path().join("credential.json");
    std::fs::write(
        &credential,
        r#"{"principal": "agent", "secret": "agent-secret"}"#,
    )
    .unwrap();
    let url = format!("file://{}", credential.display());
    let mut process = agent(&c.url(), &scratch, Some(Path::new(&url)));

    let mut s = subscribe(
        &c.url(),
        Encoding::Json,
        framework_info("authenticated-agent"),
    )
    .await;
    let offer = s.offers().await.remove(0);
    assert_eq!(c.state().slaves.len(), 1);
    s.launch(&offer, vec![command_task("t", &offer, "echo ran")])
        .await;
    // Its status updates (posted to /agent/v1/events with the credential) arrive.
    s.until_state("t", TaskState::TaskFinished).await;
    assert!(process.running(), "{}", process.log());
    assert!(process.terminate(WAIT));
    c.shutdown().await;
}

#[tokio::test]
async fn agents_without_an_accepted_credential_cannot_register() {
    let c = master().await;
    let scratch = Scratch::new("agent-auth-bad");
    // The text form, with a wrong secret; then no credential at all.
    let wrong = scratch.path().join("wrong");
    std::fs::write(&wrong, "agent not-the-secret\n").unwrap();
    for (credential, reason) in [
        (
            Some(wrong.as_path()),
            "principal 'agent' and its secret are not accepted",
        ),
        (None, "the agent has no --credential"),
    ] {
        let mut process = agent(&c.url(), &scratch, credential);
        eventually("the refused agent exits", || !process.running()).await;
        let log = process.log();
        assert!(log.contains("refused authentication"), "{log}");
        assert!(log.contains(reason), "{log}");
        assert!(log.contains("--credential"), "{log}");
        assert!(c.state().slaves.is_empty());
    }

    // Raw requests: 401 with the agent realm on both endpoints, before anything else is
    // looked at; a framework's credential from the same file is accepted as well (the
    // file lists every principal), and reaches the endpoint's own checks.
    let client = reqwest::Client::new();
    for path in ["/agent/v1/register", "/agent/v1/events"] {
        for user in [
            None,
            Some(("agent", "wrong")),
            Some(("nobody", "agent-secret")),
        ] {
            let mut request = client
                .post(format!("{}{path}", c.url()))
                .header("Content-Type", "application/json")
                .body("{}");
            if let Some((principal, secret)) = user {
                request = request.basic_auth(principal, Some(secret));
            }
            let refused = request.send().await.unwrap();
            assert_eq!(refused.status(), 401, "{path} {user:?}");
            assert_eq!(
                refused.headers()["www-authenticate"],
                r#"Basic realm="mesos-master-agent""#
            );
        }
        let passed = client
            .post(format!("{}{path}", c.url()))
            .header("Content-Type", "application/json")
            .basic_auth("agent", Some("agent-secret"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(
            passed.status(),
            400,
            "{path}: authenticated, then validated"
        );
    }
    // A forged status update without credentials cannot reach the master.
    let forged = client
        .post(format!("{}/agent/v1/events", c.url()))
        .header("Content-Type", "application/json")
        .header("Agent-Id", "some-agent")
        .header("Agent-Stream-Id", "some-stream")
        .body(r#"{"type":"HEARTBEAT"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert!(c.state().slaves.is_empty());
    c.shutdown().await;
}

#[tokio::test]
async fn mesos_master_takes_the_flag_and_refuses_strangers() {
    let scratch = Scratch::new("agent-auth-binary");
    let credentials = scratch.path().join("credentials");
    // The credentials file's text form.
    std::fs::write(&credentials, "agent agent-secret\n").unwrap();
    let port = free_port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-master"));
    command
        .args(["--port", &port.to_string(), "--authenticate-agents"])
        .arg("--credentials")
        .arg(&credentials);
    let _master = ChildProcess::spawn("mesos-master", command, &scratch.path().join("master.log"));
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    let flags = loop {
        if let Ok(response) = client.get(format!("{url}/flags")).send().await {
            break response.text().await.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "mesos-master is not up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let flags: serde_json::Value = serde_json::from_str(&flags).unwrap();
    assert_eq!(flags["flags"]["authenticate_agents"], "true");

    let refused = client
        .post(format!("{url}/agent/v1/register"))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers()["www-authenticate"],
        r#"Basic realm="mesos-master-agent""#
    );

    let mut stranger = agent(&url, &scratch, None);
    eventually("the refused agent exits", || !stranger.running()).await;
    assert!(stranger.log().contains("refused authentication"));
    let good = scratch.path().join("credential");
    std::fs::write(&good, r#"{"principal":"agent","secret":"agent-secret"}"#).unwrap();
    let mut process = agent(&url, &scratch, Some(&good));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let slaves = client.get(format!("{url}/slaves")).send().await.unwrap();
        let slaves: serde_json::Value =
            serde_json::from_str(&slaves.text().await.unwrap()).unwrap();
        if slaves["slaves"].as_array().is_some_and(|s| s.len() == 1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent did not register: {}",
            process.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(process.running());
}
