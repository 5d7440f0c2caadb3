//! Health checks of command tasks: real checks (a command in the sandbox, HTTP against
//! a real server, TCP against a real listener) reported as TASK_RUNNING with `healthy`;
//! a task failing its checks is killed and ends with `healthy=false`.

mod support;

use mesos_master::agent::protocol::ToAgent;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::health_check::{HttpCheckInfo, TcpCheckInfo, Type};
use mesos_sdk::v1::task_status::Reason;
use support::agent::*;
use support::files::FileServer;

/// A check run at once and every 50 ms, failures counting from the first.
fn fast(kind: Type) -> v1::HealthCheck {
    v1::HealthCheck {
        r#type: Some(kind as i32),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.05),
        timeout_seconds: Some(5.0),
        grace_period_seconds: Some(0.0),
        consecutive_failures: Some(2),
        ..Default::default()
    }
}

fn checked(id: &str, command: &str, check: v1::HealthCheck) -> v1::TaskInfo {
    let mut task = shell_task(id, command);
    task.health_check = Some(Box::new(check));
    task
}

async fn started(h: &mut Harness) {
    assert_eq!(state(&h.next_acked().await), TaskState::TaskStarting);
    let running = h.next_acked().await;
    assert_eq!(state(&running), TaskState::TaskRunning);
    assert_eq!(running.healthy, None, "no health before the first check");
}

/// The next update: a TASK_RUNNING health update, returning `healthy`.
async fn health(h: &mut Harness) -> bool {
    let status = h.next_acked().await;
    assert_eq!(
        state(&status),
        TaskState::TaskRunning,
        "{:?}",
        status.message
    );
    assert_eq!(
        status.reason,
        Some(Reason::TaskHealthCheckStatusUpdated as i32)
    );
    status
        .healthy
        .expect("a health update says whether the task is healthy")
}

async fn kill(h: &mut Harness, id: &str) -> v1::TaskStatus {
    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId { value: id.into() },
            kill_policy: None,
        })
        .unwrap();
    h.next_acked().await
}

#[tokio::test]
async fn a_healthy_http_check_is_reported_once() {
    let server = FileServer::start(vec![("health", b"ok".to_vec())]).await;
    let mut h = Harness::start().await;
    let mut check = fast(Type::Http);
    check.http = Some(HttpCheckInfo {
        port: u32::from(server.addr.port()),
        path: Some("/files/health".into()),
        ..Default::default()
    });
    h.run_task(checked("t1", "sleep 30", check));
    started(&mut h).await;
    assert!(health(&mut h).await, "the check passes");
    // Later passing checks are not reported again: the next update is the kill's.
    let wait = support::eventually("several checks ran", || server.hits("health") >= 3);
    wait.await;
    let killed = kill(&mut h, "t1").await;
    assert_eq!(state(&killed), TaskState::TaskKilled);
    assert_eq!(killed.healthy, None);
    h.shutdown().await;
}

#[tokio::test]
async fn a_failing_command_check_kills_the_task_unhealthy() {
    let mut h = Harness::start().await;
    let mut check = fast(Type::Command);
    check.command = Some(v1::CommandInfo {
        value: Some("test -e \"$MESOS_SANDBOX/ready\"".into()),
        ..Default::default()
    });
    h.run_task(checked("t1", "sleep 30", check));
    started(&mut h).await;
    assert!(!health(&mut h).await);
    assert!(!health(&mut h).await);
    let killed = h.next_acked().await;
    assert_eq!(
        state(&killed),
        TaskState::TaskKilled,
        "{:?}",
        killed.message
    );
    assert_eq!(killed.healthy, Some(false), "killed by its health check");
    h.shutdown().await;
}

#[tokio::test]
async fn a_command_check_runs_in_the_sandbox_and_recovers() {
    let mut h = Harness::start().await;
    let mut check = fast(Type::Command);
    check.consecutive_failures = Some(1000);
    check.command = Some(v1::CommandInfo {
        value: Some("test -e ready".into()),
        ..Default::default()
    });
    // Unhealthy until the task creates `ready` in its sandbox.
    h.run_task(checked(
        "t1",
        "while [ ! -e go ]; do sleep 0.01; done; touch ready; sleep 30",
        check,
    ));
    started(&mut h).await;
    assert!(!health(&mut h).await);
    let sandbox = support::find_files(&h.scratch.0, "stdout")
        .pop()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    std::fs::write(sandbox.join("go"), b"").unwrap();
    // Failures repeat until the file exists, then one healthy update.
    while !health(&mut h).await {}
    let killed = kill(&mut h, "t1").await;
    assert_eq!(state(&killed), TaskState::TaskKilled);
    assert_eq!(killed.healthy, None);
    h.shutdown().await;
}

#[tokio::test]
async fn tcp_checks_pass_on_a_listener_and_fail_without() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut h = Harness::start().await;
    let mut up = fast(Type::Tcp);
    up.tcp = Some(TcpCheckInfo {
        port: u32::from(open),
        ..Default::default()
    });
    h.run_task(checked("up", "sleep 30", up));
    started(&mut h).await;
    assert!(health(&mut h).await);
    assert_eq!(state(&kill(&mut h, "up").await), TaskState::TaskKilled);

    let mut down = fast(Type::Tcp);
    down.tcp = Some(TcpCheckInfo {
        port: u32::from(closed),
        ..Default::default()
    });
    down.consecutive_failures = Some(1);
    h.run_task(checked("down", "sleep 30", down));
    started(&mut h).await;
    assert!(!health(&mut h).await);
    let killed = h.next_acked().await;
    assert_eq!(state(&killed), TaskState::TaskKilled);
    assert_eq!(killed.healthy, Some(false));
    drop(listener);
    h.shutdown().await;
}
