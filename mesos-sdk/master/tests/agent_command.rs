//! The built-in command executor: tasks as real processes, their status updates, kills
//! and agent shutdown.

mod support;

use mesos_master::agent::protocol::ToAgent;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::task_status::Source;
use support::agent::*;
use support::*;

fn run(h: &Harness, fw: &str, task: v1::TaskInfo) {
    h.to_agent
        .send(ToAgent::RunTask {
            framework: framework(fw),
            task,
        })
        .unwrap();
}

#[tokio::test]
async fn command_task_runs_in_its_sandbox_and_finishes() {
    let mut h = Harness::start().await;
    let mut task = shell_task(
        "t1",
        r#"echo "hello from $GREETING"; echo "sandbox=$MESOS_SANDBOX"; pwd; echo oops >&2"#,
    );
    task.command.as_mut().unwrap().environment = Some(v1::Environment {
        variables: vec![v1::environment::Variable {
            name: "GREETING".into(),
            value: Some("mesos".into()),
            ..Default::default()
        }],
    });
    run(&h, "f1", task);

    let mut uuids = Vec::new();
    for expected in [
        TaskState::TaskStarting,
        TaskState::TaskRunning,
        TaskState::TaskFinished,
    ] {
        let (fid, status) = h.next_update().await;
        assert_eq!(fid.value, "f1");
        assert_eq!(state(&status), expected);
        assert_eq!(status.task_id.value, "t1");
        assert_eq!(status.source, Some(Source::Executor as i32));
        assert_eq!(status.agent_id.as_ref().unwrap().value, "agent-1");
        assert_eq!(status.executor_id.as_ref().unwrap().value, "t1");
        assert!(status.timestamp.unwrap() > 1.0e9);
        let uuid = status.uuid.clone().unwrap();
        assert_eq!(uuid.len(), 16);
        assert!(!uuids.contains(&uuid), "every update has a fresh uuid");
        uuids.push(uuid);
        h.ack(&fid, &status);
    }

    let stdout_path = find_files(&h.scratch.0, "stdout")
        .pop()
        .expect("stdout file");
    let sandbox = stdout_path.parent().unwrap();
    assert!(
        sandbox.starts_with(
            h.scratch
                .0
                .join("slaves/agent-1/frameworks/f1/executors/t1/runs")
        )
    );
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    assert!(stdout.contains("hello from mesos"), "{stdout}");
    assert!(
        stdout.contains(&format!("sandbox={}", sandbox.display())),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| std::path::Path::new(l) == sandbox),
        "cwd is the sandbox: {stdout}"
    );
    let stderr = std::fs::read_to_string(sandbox.join("stderr")).unwrap();
    assert_eq!(stderr, "oops\n");
    h.shutdown().await;
}

#[tokio::test]
async fn non_shell_command_gets_its_argv() {
    let mut h = Harness::start().await;
    let mut task = shell_task("argv", "");
    task.command = Some(v1::CommandInfo {
        shell: Some(false),
        value: Some("/bin/sh".into()),
        arguments: vec![
            "sh".into(),
            "-c".into(),
            "echo \"$0:$1\"".into(),
            "zero".into(),
            "one".into(),
        ],
        ..Default::default()
    });
    run(&h, "f1", task);
    for _ in 0..3 {
        h.next_acked().await;
    }
    let stdout =
        std::fs::read_to_string(find_files(&h.scratch.0, "stdout").pop().unwrap()).unwrap();
    assert_eq!(stdout, "zero:one\n");
    h.shutdown().await;
}

#[tokio::test]
async fn failing_command_reports_its_exit_status() {
    let mut h = Harness::start().await;
    run(&h, "f1", shell_task("bad", "exit 3"));
    assert_eq!(state(&h.next_acked().await), TaskState::TaskStarting);
    assert_eq!(state(&h.next_acked().await), TaskState::TaskRunning);
    let failed = h.next_acked().await;
    assert_eq!(state(&failed), TaskState::TaskFailed);
    assert_eq!(
        failed.message.as_deref(),
        Some("Command exited with status 3")
    );
    h.shutdown().await;
}

#[tokio::test]
async fn missing_program_fails_the_task() {
    let mut h = Harness::start().await;
    let mut task = shell_task("nope", "");
    task.command = Some(v1::CommandInfo {
        shell: Some(false),
        value: Some("/nonexistent/program".into()),
        ..Default::default()
    });
    run(&h, "f1", task);
    assert_eq!(state(&h.next_acked().await), TaskState::TaskStarting);
    let failed = h.next_acked().await;
    assert_eq!(state(&failed), TaskState::TaskFailed);
    assert!(failed.message.unwrap().contains("/nonexistent/program"));
    h.shutdown().await;
}

#[tokio::test]
async fn kill_terminates_the_whole_process_group() {
    let mut h = Harness::start().await;
    // The shell ignores SIGTERM, so only the SIGKILL after the grace period ends it;
    // its background child must go too.
    let mut task = shell_task(
        "k",
        "trap '' TERM; echo $$ > leader.pid; sleep 60 & echo $! > child.pid; wait; wait",
    );
    task.kill_policy = Some(v1::KillPolicy {
        grace_period: Some(v1::DurationInfo {
            nanoseconds: 100_000_000,
        }),
    });
    run(&h, "f1", task);
    assert_eq!(state(&h.next_acked().await), TaskState::TaskStarting);
    assert_eq!(state(&h.next_acked().await), TaskState::TaskRunning);
    let leader = wait_pid(&h.scratch.0, "leader.pid").await;
    let child = wait_pid(&h.scratch.0, "child.pid").await;
    assert!(alive(leader) && alive(child));

    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId { value: "k".into() },
            kill_policy: None,
        })
        .unwrap();
    let killed = h.next_acked().await;
    assert_eq!(state(&killed), TaskState::TaskKilled);
    assert_eq!(
        killed.message.as_deref(),
        Some("Command terminated with signal SIGKILL")
    );
    wait_gone(leader).await;
    wait_gone(child).await;
    h.shutdown().await;
}

#[tokio::test]
async fn updates_are_resent_until_acknowledged_and_stay_in_order() {
    let mut h = Harness::start().await;
    run(&h, "f1", shell_task("r", "exit 0"));
    let (fid, starting) = h.next_update().await;
    assert_eq!(state(&starting), TaskState::TaskStarting);
    // Not acknowledged: the same update comes again (same uuid), and nothing newer
    // for this task overtakes it.
    for _ in 0..3 {
        let (_, again) = h.next_update().await;
        assert_eq!(again, starting);
    }
    // A wrong uuid acknowledges nothing.
    h.to_agent
        .send(ToAgent::Acknowledge {
            framework_id: fid.clone(),
            task_id: starting.task_id.clone(),
            uuid: bytes::Bytes::from_static(&[7; 16]),
        })
        .unwrap();
    assert_eq!(h.next_update().await.1, starting);
    h.ack(&fid, &starting);
    // The queue moves on; a re-send of STARTING may still be in flight, skip it.
    let mut next = h.next_update().await.1;
    while next == starting {
        next = h.next_update().await.1;
    }
    assert_eq!(state(&next), TaskState::TaskRunning);
    h.ack(&fid, &next);
    let mut last = h.next_update().await.1;
    while last == next {
        last = h.next_update().await.1;
    }
    assert_eq!(state(&last), TaskState::TaskFinished);
    h.ack(&fid, &last);
    h.shutdown().await;
}

#[tokio::test]
async fn shutdown_leaves_no_processes_behind() {
    let mut h = Harness::start().await;
    run(&h, "f1", shell_task("a", "echo $$ > a.pid; exec sleep 60"));
    run(&h, "f2", shell_task("b", "echo $$ > b.pid; exec sleep 60"));
    let mut running = 0;
    while running < 2 {
        if state(&h.next_acked().await) == TaskState::TaskRunning {
            running += 1;
        }
    }
    let a = wait_pid(&h.scratch.0, "a.pid").await;
    let b = wait_pid(&h.scratch.0, "b.pid").await;
    assert!(alive(a) && alive(b));
    h.shutdown().await;
    // shutdown() returns after the children were reaped: they are gone already.
    assert!(!alive(a), "task a's process survived the agent");
    assert!(!alive(b), "task b's process survived the agent");
}
