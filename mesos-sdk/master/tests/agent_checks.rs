//! Checks of command tasks (`TaskInfo.check`, Mesos's `CheckInfo`): real probes (a
//! command in the sandbox, HTTP against a real server, TCP against a real listener)
//! whose results are reported in TASK_RUNNING updates' `check_status` with
//! REASON_TASK_CHECK_STATUS_UPDATED, only when they change, and never kill the task.

mod support;

use mesos_master::agent::protocol::ToAgent;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::check_info::{Command, Http, Tcp, Type};
use mesos_sdk::v1::task_status::Reason;
use support::agent::*;
use support::files::FileServer;

/// A check run at once and every 50 ms.
fn fast(kind: Type) -> v1::CheckInfo {
    v1::CheckInfo {
        r#type: Some(kind as i32),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.05),
        timeout_seconds: Some(5.0),
        ..Default::default()
    }
}

fn checked(id: &str, command: &str, check: v1::CheckInfo) -> v1::TaskInfo {
    let mut task = shell_task(id, command);
    task.check = Some(Box::new(check));
    task
}

/// TASK_STARTING, then TASK_RUNNING carrying the check's type with an empty result.
async fn started(h: &mut Harness, kind: Type) {
    assert_eq!(state(&h.next_acked().await), TaskState::TaskStarting);
    let running = h.next_acked().await;
    assert_eq!(state(&running), TaskState::TaskRunning);
    let check = running
        .check_status
        .expect("a checked task's TASK_RUNNING carries its check status");
    assert_eq!(check.r#type, Some(kind as i32));
    let empty = match kind {
        Type::Command => check.command == Some(Default::default()),
        Type::Http => check.http == Some(Default::default()),
        Type::Tcp => check.tcp == Some(Default::default()),
        Type::Unknown => false,
    };
    assert!(empty, "no result before the first check: {check:?}");
}

/// The next update: a TASK_RUNNING check update, returning its check status.
async fn check_update(h: &mut Harness) -> v1::CheckStatusInfo {
    let status = h.next_acked().await;
    assert_eq!(
        state(&status),
        TaskState::TaskRunning,
        "{:?}",
        status.message
    );
    assert_eq!(status.reason, Some(Reason::TaskCheckStatusUpdated as i32));
    assert_eq!(status.healthy, None, "no health check, no health");
    status
        .check_status
        .expect("a check update carries the check status")
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
async fn a_command_check_reports_each_changed_exit_code_and_never_kills() {
    let mut h = Harness::start().await;
    let mut check = fast(Type::Command);
    // Exits 1, 0, 1, 0, ...: counted in a file of the sandbox.
    check.command = Some(Command {
        command: v1::CommandInfo {
            value: Some(
                "n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count; exit $((n % 2))"
                    .into(),
            ),
            ..Default::default()
        },
    });
    h.run_task(checked("t1", "sleep 30", check));
    started(&mut h, Type::Command).await;
    for expected in [1, 0, 1, 0, 1] {
        let status = check_update(&mut h).await;
        assert_eq!(status.r#type, Some(Type::Command as i32));
        assert_eq!(status.command.and_then(|c| c.exit_code), Some(expected));
    }
    // Failing exit codes did not end the task: it is killed only when asked.
    let killed = kill(&mut h, "t1").await;
    assert_eq!(
        state(&killed),
        TaskState::TaskKilled,
        "{:?}",
        killed.message
    );
    h.shutdown().await;
}

#[tokio::test]
async fn an_http_check_reports_the_status_code_once_while_it_stays_the_same() {
    let server = FileServer::start(vec![("ok", b"ok".to_vec())]).await;
    let mut h = Harness::start().await;
    let http = |path: &str| {
        let mut check = fast(Type::Http);
        check.http = Some(Http {
            port: u32::from(server.addr.port()),
            path: Some(path.into()),
        });
        check
    };
    h.run_task(checked("ok", "sleep 30", http("/files/ok")));
    started(&mut h, Type::Http).await;
    let status = check_update(&mut h).await;
    assert_eq!(status.http.and_then(|s| s.status_code), Some(200));
    // Later identical results are not reported: the next update is the kill's.
    support::eventually("several checks ran", || server.hits("ok") >= 3).await;
    assert_eq!(state(&kill(&mut h, "ok").await), TaskState::TaskKilled);

    // A 404 is a result like any other: reported, and the task keeps running.
    h.run_task(checked("missing", "sleep 30", http("/files/missing")));
    started(&mut h, Type::Http).await;
    let status = check_update(&mut h).await;
    assert_eq!(status.http.and_then(|s| s.status_code), Some(404));
    support::eventually("several checks ran", || server.hits("missing") >= 3).await;
    assert_eq!(state(&kill(&mut h, "missing").await), TaskState::TaskKilled);
    h.shutdown().await;
}

#[tokio::test]
async fn a_tcp_check_reports_whether_it_connected() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let tcp = |port: u16| {
        let mut check = fast(Type::Tcp);
        check.tcp = Some(Tcp {
            port: u32::from(port),
        });
        check
    };
    let mut h = Harness::start().await;
    h.run_task(checked("up", "sleep 30", tcp(open)));
    started(&mut h, Type::Tcp).await;
    let status = check_update(&mut h).await;
    assert_eq!(status.tcp.and_then(|t| t.succeeded), Some(true));
    assert_eq!(state(&kill(&mut h, "up").await), TaskState::TaskKilled);

    h.run_task(checked("down", "sleep 30", tcp(closed)));
    started(&mut h, Type::Tcp).await;
    let status = check_update(&mut h).await;
    assert_eq!(status.tcp.and_then(|t| t.succeeded), Some(false));
    // No kill follows a failed connection: the next update is the one asked for.
    assert_eq!(state(&kill(&mut h, "down").await), TaskState::TaskKilled);
    drop(listener);
    h.shutdown().await;
}

#[tokio::test]
async fn a_check_and_a_health_check_do_not_shadow_each_other() {
    let mut h = Harness::start().await;
    let mut check = fast(Type::Command);
    check.command = Some(Command {
        command: v1::CommandInfo {
            value: Some("exit 3".into()),
            ..Default::default()
        },
    });
    let health = v1::HealthCheck {
        r#type: Some(v1::health_check::Type::Command as i32),
        command: Some(v1::CommandInfo {
            value: Some("true".into()),
            ..Default::default()
        }),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.05),
        grace_period_seconds: Some(0.0),
        ..Default::default()
    };
    let mut task = checked("t1", "sleep 30", check);
    task.health_check = Some(Box::new(health));
    h.run_task(task);
    started(&mut h, Type::Command).await;
    // One check update and one health update, in either order; the later one carries
    // what the earlier one reported.
    let first = h.next_acked().await;
    let second = h.next_acked().await;
    let exit_code = |s: &v1::TaskStatus| {
        s.check_status
            .as_ref()
            .and_then(|c| c.command)
            .and_then(|c| c.exit_code)
    };
    let check_reason = Some(Reason::TaskCheckStatusUpdated as i32);
    let health_reason = Some(Reason::TaskHealthCheckStatusUpdated as i32);
    if first.reason == check_reason {
        assert_eq!((exit_code(&first), first.healthy), (Some(3), None));
        assert_eq!(second.reason, health_reason);
    } else {
        assert_eq!(first.reason, health_reason, "{first:?}");
        assert_eq!((exit_code(&first), first.healthy), (None, Some(true)));
        assert_eq!(second.reason, check_reason);
    }
    assert_eq!(
        (exit_code(&second), second.healthy),
        (Some(3), Some(true)),
        "the later update keeps what the earlier one said"
    );
    assert_eq!(state(&kill(&mut h, "t1").await), TaskState::TaskKilled);
    h.shutdown().await;
}
