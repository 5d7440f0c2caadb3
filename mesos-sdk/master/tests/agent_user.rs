//! Mesos's `--switch_user` in the agents: tasks run as `CommandInfo.user`, else
//! `FrameworkInfo.user`, in a sandbox owned by that user; a user that does not exist, or
//! that the agent may not switch to, loses every task of the launch (TASK_LOST, or
//! TASK_DROPPED for PARTITION_AWARE frameworks) with Mesos's own message. Real master,
//! real agents, real processes. The tests that switch to `nobody` need root (CI runs as
//! root) and fail, saying so, without it.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_master::agent::protocol::ToAgent;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::scheduler::{call, event};
use mesos_sdk::v1::task_status::{Reason, Source};
use nix::unistd::{User, geteuid};
use support::scheduler::{Subscriber, subscribe};
use support::{WAIT, command_task, framework_info, scalar};

const UNKNOWN: &str = "no-such-user-xyz";

async fn cluster(switch_user: bool) -> LocalCluster {
    LocalCluster::builder()
        .resources("cpus:4;mem:2048;disk:1024")
        .allocation_interval(Duration::from_millis(50))
        .kill_grace_period(Duration::from_millis(300))
        .status_update_retry(Duration::from_millis(100))
        .switch_user(switch_user)
        .start()
        .await
        .expect("cluster starts")
}

fn framework_of(name: &str, user: &str) -> v1::FrameworkInfo {
    v1::FrameworkInfo {
        user: user.into(),
        ..framework_info(name)
    }
}

fn partition_aware(mut info: v1::FrameworkInfo) -> v1::FrameworkInfo {
    info.capabilities.push(v1::framework_info::Capability {
        r#type: Some(v1::framework_info::capability::Type::PartitionAware as i32),
    });
    info
}

fn with_command_user(mut task: v1::TaskInfo, user: &str) -> v1::TaskInfo {
    task.command.as_mut().unwrap().user = Some(user.into());
    task
}

/// A custom executor that never gets to run in these tests (its sandbox fails first).
fn executor(id: &str, user: Option<&str>) -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: id.into() },
        command: Some(v1::CommandInfo {
            value: Some("sleep 30".into()),
            user: user.map(Into::into),
            ..Default::default()
        }),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
        ..Default::default()
    }
}

fn executor_task(id: &str, offer: &v1::Offer, executor: v1::ExecutorInfo) -> v1::TaskInfo {
    let mut task = command_task(id, offer, "");
    task.command = None;
    task.executor = Some(executor);
    task
}

/// Checks a failed launch's update as Mesos's agent sends it: `state`, from the agent,
/// REASON_EXECUTOR_TERMINATED, a uuid, the executor id, and
/// `Failed to create executor directory '<sandbox>': Failed to chown directory to
/// '<user>': <error>` naming the executor's real (and since removed) sandbox.
fn assert_launch_failed(
    c: &LocalCluster,
    s: &Subscriber,
    status: &v1::TaskStatus,
    state: TaskState,
    executor_id: &str,
    user: &str,
    error: &str,
) {
    assert_eq!(status.state, state as i32, "{status:?}");
    assert_eq!(status.source, Some(Source::Agent as i32));
    assert_eq!(status.reason, Some(Reason::ExecutorTerminated as i32));
    assert_eq!(status.uuid.as_ref().map(|u| u.len()), Some(16), "a uuid");
    assert_eq!(status.executor_id.as_ref().unwrap().value, executor_id);
    let agent_id = &status.agent_id.as_ref().unwrap().value;
    let runs = runs_dir(c, agent_id, &s.framework_id.value, executor_id);
    let message = status.message.as_deref().unwrap_or_default();
    let prefix = format!("Failed to create executor directory '{}/", runs.display());
    let suffix = format!("': Failed to chown directory to '{user}': {error}");
    let container = message
        .strip_prefix(&prefix)
        .and_then(|m| m.strip_suffix(&suffix))
        .unwrap_or_else(|| panic!("message {message:?} is not {prefix:?} <container> {suffix:?}"));
    assert!(uuid::Uuid::parse_str(container).is_ok(), "{message}");
    assert!(
        !runs.join(container).exists(),
        "the failed sandbox is removed, as in Mesos"
    );
}

fn runs_dir(c: &LocalCluster, agent_id: &str, framework_id: &str, executor_id: &str) -> PathBuf {
    c.work_dir()
        .join("slaves")
        .join(agent_id)
        .join("frameworks")
        .join(framework_id)
        .join("executors")
        .join(executor_id)
        .join("runs")
}

/// Waits (bounded) until the master's books show nothing held by the framework.
async fn wait_released(c: &LocalCluster, framework_id: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let used = c
            .state()
            .framework(framework_id)
            .unwrap()
            .used_resources
            .cpus;
        if used < 1e-9 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the framework still holds cpus:{used}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The single sandbox `stdout` of `executor_id`, read once the task has finished.
fn task_stdout(
    c: &LocalCluster,
    agent_id: &str,
    framework_id: &str,
    executor_id: &str,
) -> (PathBuf, String) {
    let runs = runs_dir(c, agent_id, framework_id, executor_id);
    let path = support::find_files(&runs, "stdout")
        .pop()
        .unwrap_or_else(|| panic!("no stdout under {}", runs.display()));
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

fn require_root(what: &str) {
    assert!(
        geteuid().is_root(),
        "this test needs root (CI runs as root): {what}; run it as root"
    );
}

#[tokio::test]
async fn an_unknown_user_loses_the_task_and_nothing_else() {
    let c = cluster(true).await;
    // Another framework's task is running on the agent and must not notice.
    let mut other = subscribe(&c.url(), Encoding::Json, framework_info("other")).await;
    let offer = other.offers().await.remove(0);
    other
        .launch(
            &offer,
            vec![command_task("keeps-running", &offer, "sleep 30")],
        )
        .await;
    other
        .until_state("keeps-running", TaskState::TaskRunning)
        .await;
    // What is left of the agent goes to the next framework.
    let rest = other.offers().await;
    let mut decline = other.call(call::Type::Decline);
    decline.decline = Some(call::Decline {
        offer_ids: rest.iter().map(|o| o.id.clone()).collect(),
        filters: Some(v1::Filters {
            refuse_seconds: Some(3600.0),
        }),
    });
    other.send_ok(&decline, 202).await;

    let mut s = subscribe(&c.url(), Encoding::Json, framework_of("ghost", UNKNOWN)).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "exit 0")])
        .await;
    let lost = s.update("t").await;
    let error = format!("No such user '{UNKNOWN}'");
    assert_launch_failed(&c, &s, &lost, TaskState::TaskLost, "t", UNKNOWN, &error);
    // Like every agent update, it is re-sent until acknowledged.
    let again = s.update("t").await;
    assert_eq!(again.uuid, lost.uuid, "the same update, re-sent");
    s.acknowledge(&again).await;
    wait_released(&c, &s.framework_id.value).await;
    assert_eq!(c.metrics()["master/tasks_lost"], 1);

    let task = c
        .state()
        .framework(&other.framework_id.value)
        .unwrap()
        .tasks
        .clone();
    assert_eq!(task.len(), 1, "{task:?}");
    assert_eq!(task[0].state, "TASK_RUNNING", "{task:?}");
    c.shutdown().await;
}

#[tokio::test]
async fn an_empty_user_counts_as_no_such_user() {
    let c = cluster(true).await;
    // JSON leaves an empty string out (and `user` is required), so protobuf it is.
    let mut s = subscribe(&c.url(), Encoding::Protobuf, framework_of("nameless", "")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "exit 0")])
        .await;
    let lost = s.update("t").await;
    assert_launch_failed(
        &c,
        &s,
        &lost,
        TaskState::TaskLost,
        "t",
        "",
        "No such user ''",
    );
    s.acknowledge(&lost).await;
    wait_released(&c, &s.framework_id.value).await;
    c.shutdown().await;
}

#[tokio::test]
async fn partition_aware_frameworks_get_task_dropped_for_commands_executors_and_groups() {
    let c = cluster(true).await;
    let info = partition_aware(framework_of("ghost", UNKNOWN));
    let mut s = subscribe(&c.url(), Encoding::Json, info).await;
    let error = format!("No such user '{UNKNOWN}'");

    let offer = s.offers().await.remove(0);
    s.launch(
        &offer,
        vec![
            command_task("cmd", &offer, "exit 0"),
            executor_task("on-exec", &offer, executor("exec", None)),
        ],
    )
    .await;
    for (task, executor_id) in [("cmd", "cmd"), ("on-exec", "exec")] {
        let dropped = s.update(task).await;
        assert_launch_failed(
            &c,
            &s,
            &dropped,
            TaskState::TaskDropped,
            executor_id,
            UNKNOWN,
            &error,
        );
        s.acknowledge(&dropped).await;
    }
    // As Mesos's agent does, the executor that could not be added is reported exited
    // (status -1), which frees what the master holds for it.
    let failure = s
        .expect("FAILURE", |e| e.r#type == Some(event::Type::Failure as i32))
        .await
        .failure
        .unwrap();
    assert_eq!(failure.executor_id.unwrap().value, "exec");
    assert_eq!(failure.status, Some(-1));
    wait_released(&c, &s.framework_id.value).await;

    // A task group: every task of it.
    let offer = s.offers().await.remove(0);
    let group: Vec<v1::TaskInfo> = ["g1", "g2"]
        .into_iter()
        .map(|id| {
            let mut task = command_task(id, &offer, "");
            task.command = None;
            task
        })
        .collect();
    let mut accept = s.call(call::Type::Accept);
    accept.accept = Some(call::Accept {
        offer_ids: vec![offer.id.clone()],
        operations: vec![v1::offer::Operation {
            r#type: Some(v1::offer::operation::Type::LaunchGroup as i32),
            launch_group: Some(v1::offer::operation::LaunchGroup {
                // A task group's executor has a type and some disk, as Mesos requires.
                executor: v1::ExecutorInfo {
                    r#type: Some(v1::executor_info::Type::Custom as i32),
                    resources: vec![
                        scalar("cpus", 0.1),
                        scalar("mem", 32.0),
                        scalar("disk", 10.0),
                    ],
                    ..executor("group", None)
                },
                task_group: v1::TaskGroupInfo { tasks: group },
            }),
            ..Default::default()
        }],
        filters: None,
    });
    s.send_ok(&accept, 202).await;
    for task in ["g1", "g2"] {
        let dropped = s.update(task).await;
        assert_launch_failed(
            &c,
            &s,
            &dropped,
            TaskState::TaskDropped,
            "group",
            UNKNOWN,
            &error,
        );
        s.acknowledge(&dropped).await;
    }
    wait_released(&c, &s.framework_id.value).await;
    assert_eq!(c.metrics()["master/tasks_dropped"], 4);
    c.shutdown().await;
}

#[tokio::test]
async fn the_command_user_overrides_the_framework_user() {
    let c = cluster(true).await;
    let me = mesos_sdk::calls::current_user();
    // An unknown framework user does not matter when the command names a real one...
    let mut s = subscribe(&c.url(), Encoding::Json, framework_of("ghost", UNKNOWN)).await;
    let offer = s.offers().await.remove(0);
    s.launch(
        &offer,
        vec![with_command_user(
            command_task("runs", &offer, "exit 0"),
            &me,
        )],
    )
    .await;
    s.until_state("runs", TaskState::TaskFinished).await;
    s.send_ok(&s.call(call::Type::Teardown), 202).await;

    // ...and a real framework user does not help a command naming an unknown one, for
    // a command task as for a custom executor (`ExecutorInfo.command.user`).
    let mut s = subscribe(&c.url(), Encoding::Json, framework_of("real", &me)).await;
    let offer = s.offers().await.remove(0);
    let other = "no-such-user-abc";
    s.launch(
        &offer,
        vec![
            with_command_user(command_task("cmd", &offer, "exit 0"), other),
            executor_task("on-exec", &offer, executor("exec", Some(other))),
        ],
    )
    .await;
    let error = format!("No such user '{other}'");
    for (task, executor_id) in [("cmd", "cmd"), ("on-exec", "exec")] {
        let lost = s.update(task).await;
        assert_launch_failed(
            &c,
            &s,
            &lost,
            TaskState::TaskLost,
            executor_id,
            other,
            &error,
        );
        s.acknowledge(&lost).await;
    }
    wait_released(&c, &s.framework_id.value).await;
    c.shutdown().await;
}

#[tokio::test]
async fn with_switch_user_off_tasks_run_as_the_agents_user() {
    let c = cluster(false).await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_of("ghost", UNKNOWN)).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "id -u")])
        .await;
    s.until_state("t", TaskState::TaskFinished).await;
    let (_, stdout) = task_stdout(&c, &offer.agent_id.value, &s.framework_id.value, "t");
    assert_eq!(stdout.trim(), geteuid().to_string());
    c.shutdown().await;
}

#[tokio::test]
async fn a_task_of_user_nobody_runs_as_nobody_in_a_sandbox_nobody_owns() {
    require_root(
        "it checks that a task of user 'nobody' runs as nobody, which only a root agent can do",
    );
    let nobody = User::from_name("nobody")
        .unwrap()
        .expect("user nobody exists");
    let c = cluster(true).await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_of("nobody", "nobody")).await;
    let offer = s.offers().await.remove(0);
    let script = "id -u; id -g; id -G";
    s.launch(
        &offer,
        vec![
            command_task("as-nobody", &offer, script),
            // The command's user wins over the framework's, here back to root.
            with_command_user(command_task("as-root", &offer, script), "root"),
        ],
    )
    .await;
    s.until_state("as-nobody", TaskState::TaskFinished).await;
    s.until_state("as-root", TaskState::TaskFinished).await;

    let (stdout_path, stdout) = task_stdout(
        &c,
        &offer.agent_id.value,
        &s.framework_id.value,
        "as-nobody",
    );
    let (uid, gid) = (nobody.uid.to_string(), nobody.gid.to_string());
    // uid, primary gid, and no supplementary group of the agent's.
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [&uid, &gid, &gid],
        "{stdout}"
    );
    let sandbox = stdout_path.parent().unwrap();
    for path in [sandbox, &stdout_path, &sandbox.join("stderr")] {
        let meta = std::fs::metadata(path).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (nobody.uid.as_raw(), nobody.gid.as_raw()),
            "{} is owned by nobody",
            path.display()
        );
    }

    let (_, stdout) = task_stdout(&c, &offer.agent_id.value, &s.framework_id.value, "as-root");
    assert_eq!(stdout.lines().next(), Some("0"), "{stdout}");
    c.shutdown().await;
}

/// Run by [`an_agent_that_is_not_root_runs_tasks_only_as_itself`] as user `nobody`: an
/// agent of its own, a task of another user (refused), then one of its own (runs,
/// without a switch).
#[tokio::test]
#[ignore = "run as user nobody by an_agent_that_is_not_root_runs_tasks_only_as_itself"]
async fn agent_as_nobody() {
    if std::env::var_os("AGENT_USER_TEST_AS_NOBODY").is_none() {
        return;
    }
    use support::agent::{Harness, framework, shell_task, state};
    let me = User::from_uid(geteuid()).unwrap().unwrap();
    assert!(!geteuid().is_root());
    let mut h = Harness::start().await;
    let run = |h: &Harness, user: &str, task: v1::TaskInfo| {
        let framework = v1::FrameworkInfo {
            user: user.into(),
            ..framework("f1")
        };
        h.to_agent
            .send(ToAgent::RunTask { framework, task })
            .unwrap();
    };

    run(&h, "root", shell_task("other", "exit 0"));
    let lost = h.next_acked().await;
    assert_eq!(state(&lost), TaskState::TaskLost);
    assert_eq!(lost.reason, Some(Reason::ExecutorTerminated as i32));
    assert_eq!(lost.source, Some(Source::Agent as i32));
    let runs = h
        .scratch
        .0
        .join("slaves/agent-1/frameworks/f1/executors/other/runs/");
    let message = lost.message.unwrap();
    assert!(
        message.starts_with(&format!(
            "Failed to create executor directory '{}",
            runs.display()
        )) && message.ends_with("': Failed to chown directory to 'root': Operation not permitted"),
        "{message}"
    );

    run(&h, &me.name, shell_task("own", "id -u"));
    for expected in [
        TaskState::TaskStarting,
        TaskState::TaskRunning,
        TaskState::TaskFinished,
    ] {
        assert_eq!(state(&h.next_acked().await), expected);
    }
    let stdout = support::find_files(
        &h.scratch
            .0
            .join("slaves/agent-1/frameworks/f1/executors/own"),
        "stdout",
    );
    let text = std::fs::read_to_string(&stdout[0]).unwrap();
    assert_eq!(text.trim(), me.uid.to_string());
    h.shutdown().await;
}

#[tokio::test]
async fn an_agent_that_is_not_root_runs_tasks_only_as_itself() {
    require_root("it runs an agent as user nobody to see it refuse another user's task");
    let nobody = User::from_name("nobody")
        .unwrap()
        .expect("user nobody exists");
    // A copy of this test binary that nobody may run, wherever the checkout is.
    let dir = std::env::temp_dir().join(format!("agent-user-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("agent_user");
    std::fs::copy(std::env::current_exe().unwrap(), &bin).unwrap();
    for path in [&dir, &bin] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let output = tokio::time::timeout(
        WAIT * 3,
        tokio::process::Command::new(&bin)
            .args([
                "agent_as_nobody",
                "--exact",
                "--ignored",
                "--test-threads=1",
            ])
            .env("AGENT_USER_TEST_AS_NOBODY", "1")
            .current_dir(&dir)
            .uid(nobody.uid.as_raw())
            .gid(nobody.gid.as_raw())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the agent run as nobody ended in time")
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the agent run as nobody failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
