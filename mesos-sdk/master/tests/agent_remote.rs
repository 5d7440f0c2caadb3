//! Remote agents: an agent registering over HTTP with the master routes
//! (`master_routes`) in front of an in-test `AgentRegistry`.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesos_master::agent::protocol::{FromAgent, ToAgent};
use mesos_master::agent::remote::{
    AgentRegistration, AgentRegistry, EVENTS_PATH, REGISTER_PATH, RegistrationError, RemoteOptions,
    master_routes_with,
};
use mesos_master::agent::{AgentConfig, AgentError};
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::task_status::Reason;
use support::agent::{Scratch, fast_config, framework, shell_task, state};
use support::files::FileServer;
use support::{WAIT, alive, wait_pid};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// What the in-test master hears about agents.
#[derive(Debug)]
enum Notice {
    Registered(AgentRegistration, String),
    Disconnected(String),
}

/// An in-test master: assigns ids `remote-N`, keeps each agent's command sender.
struct TestRegistry {
    commands: Mutex<HashMap<String, mpsc::UnboundedSender<ToAgent>>>,
    events: mpsc::UnboundedSender<(String, FromAgent)>,
    notices: mpsc::UnboundedSender<Notice>,
    next_id: AtomicUsize,
    /// Answer registrations with 503 (the master is going away).
    closed: AtomicBool,
    /// Refuse every registration.
    refuse: AtomicBool,
}

#[async_trait::async_trait]
impl AgentRegistry for TestRegistry {
    async fn register(
        &self,
        registration: AgentRegistration,
        commands: mpsc::UnboundedSender<ToAgent>,
    ) -> Result<String, RegistrationError> {
        if self.refuse.load(Ordering::SeqCst) {
            return Err(RegistrationError::Refused("this agent was removed".into()));
        }
        if self.closed.load(Ordering::SeqCst) {
            return Err(RegistrationError::Unavailable("restarting".into()));
        }
        let id = registration.agent_id.clone().unwrap_or_else(|| {
            format!("remote-{}", self.next_id.fetch_add(1, Ordering::SeqCst) + 1)
        });
        self.commands.lock().unwrap().insert(id.clone(), commands);
        let _ = self
            .notices
            .send(Notice::Registered(registration, id.clone()));
        Ok(id)
    }

    fn events(&self) -> mpsc::UnboundedSender<(String, FromAgent)> {
        self.events.clone()
    }

    async fn disconnected(&self, agent_id: &str) {
        let _ = self.notices.send(Notice::Disconnected(agent_id.to_owned()));
    }
}

/// The master side: routes on a real HTTP server, plus the registry's channels.
struct Master {
    registry: Arc<TestRegistry>,
    events: mpsc::UnboundedReceiver<(String, FromAgent)>,
    notices: mpsc::UnboundedReceiver<Notice>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

/// Binds `addr`. A restarted master binds its old port again: while the kernel still
/// holds it for a moment (the old listener closing, or a connection of another test
/// given it as its ephemeral port), binding is retried, for at most [`WAIT`].
async fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("bind {addr}: {e}"),
        }
    }
}

impl Master {
    async fn start(addr: SocketAddr) -> Self {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (notices_tx, notices) = mpsc::unbounded_channel();
        let registry = Arc::new(TestRegistry {
            commands: Mutex::new(HashMap::new()),
            events: events_tx,
            notices: notices_tx,
            next_id: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            refuse: AtomicBool::new(false),
        });
        let mut options = RemoteOptions::default();
        options.heartbeat_interval = Duration::from_millis(200);
        let app = master_routes_with(registry.clone(), options);
        let listener = bind(addr).await;
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("master server");
        });
        Master {
            registry,
            events,
            notices,
            addr,
            stop: Some(stop),
            server: Some(server),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops as a master process would: refuses new registrations, ends every agent
    /// stream, and closes the server and its connections.
    async fn stop(&mut self) {
        self.registry.closed.store(true, Ordering::SeqCst);
        self.registry.commands.lock().unwrap().clear();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server)
                .await
                .expect("the master server stopped in time")
                .unwrap();
        }
    }

    async fn notice(&mut self) -> Notice {
        tokio::time::timeout(WAIT, self.notices.recv())
            .await
            .expect("no registry notice in time")
            .expect("registry gone")
    }

    async fn registered(&mut self) -> (AgentRegistration, String) {
        match self.notice().await {
            Notice::Registered(registration, id) => (registration, id),
            other => panic!("expected a registration, got {other:?}"),
        }
    }

    fn send(&self, agent_id: &str, message: ToAgent) {
        self.registry.commands.lock().unwrap()[agent_id]
            .send(message)
            .expect("agent stream open");
    }

    async fn next_update(&mut self, agent_id: &str) -> (v1::FrameworkId, v1::TaskStatus) {
        let (from, message) = tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("no agent message in time")
            .expect("events closed");
        assert_eq!(from, agent_id);
        match message {
            FromAgent::StatusUpdate {
                framework_id,
                status,
            } => (framework_id, status),
            other => panic!("expected a status update, got {other:?}"),
        }
    }

    fn ack(&self, agent_id: &str, framework_id: &v1::FrameworkId, status: &v1::TaskStatus) {
        self.send(
            agent_id,
            ToAgent::Acknowledge {
                framework_id: framework_id.clone(),
                task_id: status.task_id.clone(),
                uuid: status.uuid.clone().expect("uuid"),
            },
        );
    }
}

fn remote_config(scratch: &Scratch) -> AgentConfig {
    let mut config = fast_config(&scratch.0);
    config.agent_id = String::new();
    config.hostname = "remote-host".into();
    config.resources = Resources::parse("cpus:2;mem:1024").unwrap();
    config.attributes = mesos_master::agent::parse_attributes("rack:r1").unwrap();
    config.registration_backoff = Duration::from_millis(20);
    config.registration_backoff_max = Duration::from_millis(100);
    config
}

type Running = (oneshot::Sender<()>, JoinHandle<Result<(), AgentError>>);

fn run_agent(config: AgentConfig, master: String) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let agent = tokio::spawn(async move {
        mesos_master::agent::remote::run_remote_until(config, &master, async move {
            let _ = stopped.await;
        })
        .await
    });
    (stop, agent)
}

async fn stop_agent((stop, agent): Running) -> Result<(), AgentError> {
    let _ = stop.send(());
    tokio::time::timeout(WAIT, agent)
        .await
        .expect("the agent stopped in time")
        .unwrap()
}

#[tokio::test]
async fn remote_agent_runs_a_task_and_delivers_updates_until_acknowledged() {
    let scratch = Scratch::new();
    let mut master = Master::start("127.0.0.1:0".parse().unwrap()).await;
    let agent = run_agent(remote_config(&scratch), master.url());

    let (registration, id) = master.registered().await;
    assert_eq!(id, "remote-1");
    assert_eq!(registration.agent_id, None);
    assert_eq!(registration.hostname, "remote-host");
    assert_eq!(registration.resources.cpus(), 2.0);
    assert_eq!(registration.attributes.len(), 1);
    assert_ne!(registration.executor_endpoint.port(), 0);
    let info = registration.agent_info(&id);
    assert_eq!(
        info.port,
        Some(i32::from(registration.executor_endpoint.port()))
    );

    master.send(
        &id,
        ToAgent::RunTask {
            framework: framework("f1"),
            task: shell_task("t1", "echo remote > out"),
        },
    );
    // Not acknowledged: the same update comes again.
    let (fid, starting) = master.next_update(&id).await;
    assert_eq!(state(&starting), TaskState::TaskStarting);
    assert_eq!(starting.agent_id.as_ref().unwrap().value, "remote-1");
    let (_, again) = master.next_update(&id).await;
    assert_eq!(again.uuid, starting.uuid);
    master.ack(&id, &fid, &again);
    let mut seen = Vec::new();
    loop {
        let (fid, status) = master.next_update(&id).await;
        master.ack(&id, &fid, &status);
        if seen.last() != Some(&state(&status)) {
            seen.push(state(&status));
        }
        if state(&status) == TaskState::TaskFinished {
            break;
        }
    }
    assert_eq!(seen, [TaskState::TaskRunning, TaskState::TaskFinished]);
    let out = support::find_files(&scratch.0, "out");
    assert_eq!(std::fs::read_to_string(&out[0]).unwrap(), "remote\n");

    assert!(stop_agent(agent).await.is_ok());
    match master.notice().await {
        Notice::Disconnected(agent_id) => assert_eq!(agent_id, "remote-1"),
        other => panic!("expected a disconnection, got {other:?}"),
    }
    master.stop().await;
}

#[tokio::test]
async fn remote_agent_re_registers_after_the_master_restarts() {
    let scratch = Scratch::new();
    let mut first = Master::start("127.0.0.1:0".parse().unwrap()).await;
    let agent = run_agent(remote_config(&scratch), first.url());
    let (_, id) = first.registered().await;

    first.send(
        &id,
        ToAgent::RunTask {
            framework: framework("f1"),
            task: shell_task("t1", "echo $$ > pid; exec sleep 60"),
        },
    );
    let (fid, starting) = first.next_update(&id).await;
    first.ack(&id, &fid, &starting);
    let (_, running) = first.next_update(&id).await;
    assert_eq!(state(&running), TaskState::TaskRunning);
    let pid = wait_pid(&scratch.0, "pid").await;

    // The master goes away before acknowledging TASK_RUNNING, and comes back on the
    // same address without any state.
    let addr = first.addr;
    first.stop().await;
    let mut second = Master::start(addr).await;
    let (registration, again) = second.registered().await;
    assert_eq!(registration.agent_id.as_deref(), Some("remote-1"));
    assert_eq!(again, "remote-1");
    assert!(alive(pid), "the task survives the master's restart");

    // The unacknowledged update reaches the new master.
    let (fid, resent) = second.next_update(&id).await;
    assert_eq!(resent.uuid, running.uuid);
    second.ack(&id, &fid, &resent);

    second.send(
        &id,
        ToAgent::KillTask {
            framework_id: fid.clone(),
            task_id: resent.task_id.clone(),
            kill_policy: None,
        },
    );
    let (fid, killed) = second.next_update(&id).await;
    assert_eq!(state(&killed), TaskState::TaskKilled);
    second.ack(&id, &fid, &killed);
    assert!(stop_agent(agent).await.is_ok());
    second.stop().await;
}

#[tokio::test]
async fn agent_re_registers_with_its_id_when_the_master_drops_its_stream() {
    let scratch = Scratch::new();
    let mut master = Master::start("127.0.0.1:0".parse().unwrap()).await;
    let agent = run_agent(remote_config(&scratch), master.url());
    let (_, id) = master.registered().await;

    // The master forgets the agent's command sender: the stream ends.
    master.registry.commands.lock().unwrap().clear();
    let registration = loop {
        match master.notice().await {
            Notice::Disconnected(gone) => assert_eq!(gone, id),
            Notice::Registered(registration, again) => {
                assert_eq!(again, id);
                break registration;
            }
        }
    };
    assert_eq!(registration.agent_id.as_deref(), Some(id.as_str()));

    // The new stream works, and no stale disconnection follows the registration.
    master.send(
        &id,
        ToAgent::RunTask {
            framework: framework("f1"),
            task: shell_task("t1", "true"),
        },
    );
    let (_, starting) = master.next_update(&id).await;
    assert_eq!(state(&starting), TaskState::TaskStarting);
    assert!(master.notices.try_recv().is_err());
    assert!(stop_agent(agent).await.is_ok());
    master.stop().await;
}

#[tokio::test]
async fn master_shutdown_stops_the_remote_agent_and_its_tasks() {
    let scratch = Scratch::new();
    let mut master = Master::start("127.0.0.1:0".parse().unwrap()).await;
    let (_stop, agent) = run_agent(remote_config(&scratch), master.url());
    let (_, id) = master.registered().await;
    master.send(
        &id,
        ToAgent::RunTask {
            framework: framework("f1"),
            task: shell_task("t1", "echo $$ > pid; exec sleep 60"),
        },
    );
    let pid = wait_pid(&scratch.0, "pid").await;
    master.send(&id, ToAgent::Shutdown);
    let result = tokio::time::timeout(WAIT, agent)
        .await
        .expect("the agent stopped in time")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    support::wait_gone(pid).await;
    master.stop().await;
}

#[tokio::test]
async fn refused_registration_stops_the_agent_with_an_error() {
    let scratch = Scratch::new();
    let mut master = Master::start("127.0.0.1:0".parse().unwrap()).await;
    master.registry.refuse.store(true, Ordering::SeqCst);
    let (_stop, agent) = run_agent(remote_config(&scratch), master.url());
    let result = tokio::time::timeout(WAIT, agent)
        .await
        .expect("the agent stopped in time")
        .unwrap();
    match result {
        Err(AgentError::RegistrationRefused { status, message }) => {
            assert_eq!(status, 403);
            assert!(message.contains("removed"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    master.stop().await;
}

#[tokio::test]
async fn invalid_master_address_is_a_typed_error() {
    let scratch = Scratch::new();
    let result =
        mesos_master::agent::remote::run_remote(remote_config(&scratch), "ftp://127.0.0.1:5050")
            .await;
    assert!(
        matches!(result, Err(AgentError::InvalidMaster { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn master_routes_reject_bad_requests() {
    let mut master = Master::start("127.0.0.1:0".parse().unwrap()).await;
    let client = reqwest::Client::new();
    let post = |path: &str, content_type: &str, body: &'static str| {
        client
            .post(format!("{}{path}", master.url()))
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let status = |r: reqwest::Result<reqwest::Response>| r.unwrap().status().as_u16();
    assert_eq!(status(post(REGISTER_PATH, "text/plain", "{}").await), 415);
    assert_eq!(
        status(post(REGISTER_PATH, "application/json", "{").await),
        400
    );
    let bad_endpoint = r#"{"hostname":"h","executor_endpoint":"nowhere"}"#;
    assert_eq!(
        status(post(REGISTER_PATH, "application/json", bad_endpoint).await),
        400
    );
    let bad_resource = r#"{"hostname":"h","executor_endpoint":"127.0.0.1:1","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]}"#;
    assert_eq!(
        status(post(REGISTER_PATH, "application/json", bad_resource).await),
        400
    );
    let get = client
        .get(format!("{}{REGISTER_PATH}", master.url()))
        .send()
        .await;
    assert_eq!(status(get), 405);

    // Events need a current registration.
    let update = r#"{"type":"EXECUTOR_TERMINATED","framework_id":{"value":"f"},"executor_id":{"value":"e"}}"#;
    assert_eq!(
        status(post(EVENTS_PATH, "application/json", update).await),
        400
    );
    let stale = client
        .post(format!("{}{EVENTS_PATH}", master.url()))
        .header("Content-Type", "application/json")
        .header("Agent-Id", "remote-1")
        .header("Agent-Stream-Id", "not-a-stream")
        .body(update)
        .send()
        .await;
    assert_eq!(status(stale), 403);
    assert!(master.notices.try_recv().is_err(), "nothing was registered");
    master.stop().await;
}

#[test]
fn agent_binary_documents_every_flag() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .arg("--help")
        .output()
        .expect("mesos-agent runs");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--master",
        "--resources",
        "--attributes",
        "--work-dir",
        "--hostname",
        "--agent-id",
        "--executor-api",
        "--fetcher-cache-size",
        "--fetcher-stall-timeout",
        "--fetcher-max-size",
        "--fetcher-timeout",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
}

#[tokio::test]
async fn agent_binary_registers_runs_a_task_and_kills_it_on_sigterm() {
    let scratch = Scratch::new();
    let mut master = Master::start("127.0.0.1:0".parse().unwrap()).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .args(["--master", &master.url()])
        .args(["--resources", "cpus:3;mem:512"])
        .args(["--attributes", "rack:r9"])
        .args(["--hostname", "bin-host"])
        .arg("--work-dir")
        .arg(&scratch.0)
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("mesos-agent starts");
    let (registration, id) = master.registered().await;
    assert_eq!(registration.hostname, "bin-host");
    assert_eq!(registration.resources.cpus(), 3.0);
    assert_eq!(registration.attributes[0].name, "rack");

    master.send(
        &id,
        ToAgent::RunTask {
            framework: framework("f1"),
            task: shell_task("t1", "echo $$ > pid; exec sleep 60"),
        },
    );
    let (fid, starting) = master.next_update(&id).await;
    assert_eq!(state(&starting), TaskState::TaskStarting);
    master.ack(&id, &fid, &starting);
    let pid = wait_pid(&scratch.0, "pid").await;

    let agent_pid = nix::unistd::Pid::from_raw(child.id().expect("running") as i32);
    nix::sys::signal::kill(agent_pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("mesos-agent exited in time")
        .unwrap();
    assert!(status.success(), "{status:?}");
    support::wait_gone(pid).await;
    master.stop().await;
}

#[tokio::test]
async fn agent_binary_bounds_downloads_by_its_flags_and_serves_statistics() {
    let scratch = Scratch::new();
    let server = FileServer::start(vec![("big", vec![7u8; 4096])]).await;
    let mut master = Master::start("127.0.0.1:0".parse().unwrap()).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .args(["--master", &master.url()])
        .args(["--resources", "cpus:2;mem:512"])
        .args(["--fetcher-max-size", "1KB"])
        .arg("--work-dir")
        .arg(&scratch.0)
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("mesos-agent starts");
    let (registration, id) = master.registered().await;

    // A download over the lowered limit fails the task, naming the URI and the cause.
    let url = server.url("big");
    let mut fetching = shell_task("fetching", "true");
    if let Some(command) = fetching.command.as_mut() {
        command.uris.push(v1::command_info::Uri {
            value: url.clone(),
            ..Default::default()
        });
    }
    master.send(
        &id,
        ToAgent::RunTask {
            framework: framework("f1"),
            task: fetching,
        },
    );
    let (fid, failed) = master.next_update(&id).await;
    master.ack(&id, &fid, &failed);
    assert_eq!(state(&failed), TaskState::TaskFailed, "{failed:?}");
    assert_eq!(failed.reason, Some(Reason::ContainerLaunchFailed as i32));
    let message = failed.message.unwrap_or_default();
    assert!(
        message.contains(&format!("Failed to fetch '{url}'"))
            && message.contains("larger than the limit of 1024 bytes"),
        "{message}"
    );

    // The agent's HTTP server answers /monitor/statistics for what it runs.
    master.send(
        &id,
        ToAgent::RunTask {
            framework: framework("f1"),
            task: shell_task("sleeper", "exec sleep 60"),
        },
    );
    for expected in [TaskState::TaskStarting, TaskState::TaskRunning] {
        let (fid, status) = master.next_update(&id).await;
        master.ack(&id, &fid, &status);
        assert_eq!(state(&status), expected);
    }
    let body = reqwest::get(format!(
        "http://{}/monitor/statistics",
        registration.executor_endpoint
    ))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    let statistics: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(statistics.len(), 1, "{statistics:?}");
    assert_eq!(statistics[0]["executor_id"], "sleeper");
    assert_eq!(statistics[0]["framework_id"], "f1");
    assert!(statistics[0]["statistics"]["timestamp"].as_f64().unwrap() > 0.0);

    let agent_pid = nix::unistd::Pid::from_raw(child.id().expect("running") as i32);
    nix::sys::signal::kill(agent_pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("mesos-agent exited in time")
        .unwrap();
    assert!(status.success(), "{status:?}");
    master.stop().await;
}
