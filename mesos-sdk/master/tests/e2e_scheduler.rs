//! The SDK's `SchedulerDriver` against the reference master over real HTTP: command
//! tasks in both encodings, kill, reconciliation, a master restart under a subscribed
//! scheduler, graceful stop and teardown.

mod support;

use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::task_status::Reason;
use support::driver::*;
use support::*;

/// Subscribe, launch a command task with `SchedulerClient::launch`, see it run and
/// finish. The agent sends a task's next update only once the previous one was
/// acknowledged, so TASK_FINISHED arriving proves the driver's acknowledgement of
/// TASK_RUNNING reached the agent.
async fn command_task_runs_and_finishes(encoding: Encoding) {
    let cluster = cluster().await;
    let mut fw = Framework::start(&cluster.url(), encoding, failover_framework_info("e2e-cmd"));
    let subscribed = fw.subscribed().await;
    assert_eq!(
        fw.client.framework_id(),
        Some(subscribed.framework_id.clone())
    );
    assert!(
        subscribed
            .heartbeat_interval_seconds
            .is_some_and(|s| s > 0.0)
    );

    let offer = fw.offer().await;
    assert_eq!(offer.framework_id, subscribed.framework_id);
    fw.client
        .launch(offer.id.clone(), vec![command_task("t1", &offer, "exit 0")])
        .await
        .expect("LAUNCH accepted");
    let running = fw.status("t1", TaskState::TaskRunning).await;
    assert!(running.uuid.as_ref().is_some_and(|u| !u.is_empty()));
    assert_eq!(running.agent_id.as_ref(), Some(&offer.agent_id));
    let finished = fw.status("t1", TaskState::TaskFinished).await;
    assert_ne!(finished.uuid, running.uuid);

    let framework = cluster
        .state()
        .frameworks
        .into_iter()
        .find(|f| f.id == subscribed.framework_id.value)
        .expect("framework in /state");
    assert!(framework.active);
    assert!(
        framework
            .completed_tasks
            .iter()
            .any(|t| t.id == "t1" && t.state == "TASK_FINISHED"),
        "{framework:?}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_command_task_runs_and_finishes_over_protobuf() {
    command_task_runs_and_finishes(Encoding::Protobuf).await;
}

#[tokio::test]
async fn a_command_task_runs_and_finishes_over_json() {
    command_task_runs_and_finishes(Encoding::Json).await;
}

#[tokio::test]
async fn kill_ends_a_running_task_with_task_killed() {
    let cluster = cluster().await;
    let mut fw = Framework::start(
        &cluster.url(),
        Encoding::Protobuf,
        failover_framework_info("e2e-kill"),
    );
    fw.subscribed().await;
    let offer = fw.offer().await;
    launch(
        &fw.client,
        &offer,
        vec![command_task("long", &offer, "sleep 30")],
    )
    .await;
    fw.status("long", TaskState::TaskRunning).await;
    fw.client
        .kill(
            v1::TaskId {
                value: "long".into(),
            },
            Some(offer.agent_id.clone()),
            None,
        )
        .await
        .expect("KILL accepted");
    let killed = fw.status("long", TaskState::TaskKilled).await;
    assert_eq!(killed.agent_id.as_ref(), Some(&offer.agent_id));
    eventually("the task's resources are released", || {
        cluster.state().slaves[0].used_resources.cpus < 1e-9
    })
    .await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn reconciliation_answers_known_unknown_and_implicit() {
    let cluster = cluster().await;
    let mut fw = Framework::start(
        &cluster.url(),
        Encoding::Json,
        failover_framework_info("e2e-rec"),
    );
    fw.subscribed().await;
    let offer = fw.offer().await;
    launch(
        &fw.client,
        &offer,
        vec![command_task("known", &offer, "sleep 30")],
    )
    .await;
    fw.status("known", TaskState::TaskRunning).await;
    let known = v1::TaskId {
        value: "known".into(),
    };
    let is_reconciliation =
        |s: &v1::TaskStatus| s.reason == Some(Reason::Reconciliation as i32) && s.uuid.is_none();

    // Explicit, for a known task: its latest state, no uuid (nothing to acknowledge).
    fw.client
        .reconcile(vec![(known.clone(), Some(offer.agent_id.clone()))])
        .await
        .expect("RECONCILE accepted");
    let status = fw.status("known", TaskState::TaskRunning).await;
    assert!(is_reconciliation(&status), "{status:?}");
    assert_eq!(status.agent_id.as_ref(), Some(&offer.agent_id));

    // Explicit, for a task the master never heard of: TASK_LOST.
    fw.client
        .reconcile(vec![(
            v1::TaskId {
                value: "ghost".into(),
            },
            None,
        )])
        .await
        .expect("RECONCILE accepted");
    let ghost = fw.status("ghost", TaskState::TaskLost).await;
    assert!(is_reconciliation(&ghost), "{ghost:?}");

    // Implicit: every task the master knows for the framework.
    fw.client
        .reconcile(Vec::new())
        .await
        .expect("RECONCILE accepted");
    let status = fw.status("known", TaskState::TaskRunning).await;
    assert!(is_reconciliation(&status), "{status:?}");
    cluster.shutdown().await;
}

#[tokio::test]
async fn after_a_master_restart_the_driver_resubscribes_with_its_id_and_keeps_its_task() {
    let mut cluster = cluster().await;
    let mut fw = Framework::start(
        &cluster.url(),
        Encoding::Protobuf,
        failover_framework_info("e2e-restart"),
    );
    let first = fw.subscribed().await;
    let offer = fw.offer().await;
    launch(
        &fw.client,
        &offer,
        vec![command_task("survivor", &offer, "sleep 30")],
    )
    .await;
    fw.status("survivor", TaskState::TaskRunning).await;
    // The driver acknowledges TASK_RUNNING after the callback returned and before it
    // handles the next event: once a reconciliation answer arrives, the acknowledgement
    // reached the master (an acknowledgement lost in the restart would hold the task's
    // later updates back until the agent re-sends TASK_RUNNING).
    fw.client
        .reconcile(Vec::new())
        .await
        .expect("RECONCILE accepted");
    let status = fw.status("survivor", TaskState::TaskRunning).await;
    assert_eq!(
        status.reason,
        Some(Reason::Reconciliation as i32),
        "{status:?}"
    );

    cluster.restart_master().await.expect("master restarts");
    fw.expect("disconnected", |s| {
        matches!(s, Seen::Disconnected).then_some(())
    })
    .await;
    let again = fw.subscribed().await;
    assert_eq!(
        again.framework_id, first.framework_id,
        "the framework id is kept"
    );
    // The driver reconciles the tasks it knows after resubscribing.
    let status = fw.status("survivor", TaskState::TaskRunning).await;
    assert_eq!(
        status.reason,
        Some(Reason::Reconciliation as i32),
        "{status:?}"
    );

    let state = cluster.state();
    let framework = state
        .frameworks
        .iter()
        .find(|f| f.id == first.framework_id.value)
        .expect("framework in /state");
    assert!(framework.active);
    assert!(
        framework
            .tasks
            .iter()
            .any(|t| t.id == "survivor" && t.state == "TASK_RUNNING"),
        "{framework:?}"
    );
    // Calls work on the new subscription.
    fw.client
        .kill(
            v1::TaskId {
                value: "survivor".into(),
            },
            None,
            None,
        )
        .await
        .expect("KILL on the new stream");
    fw.status("survivor", TaskState::TaskKilled).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn stop_leaves_the_framework_registered_but_disconnected() {
    let cluster = cluster().await;
    let mut fw = Framework::start(
        &cluster.url(),
        Encoding::Protobuf,
        failover_framework_info("e2e-stop"),
    );
    let id = fw.subscribed().await.framework_id;
    let offer = fw.offer().await;
    launch(
        &fw.client,
        &offer,
        vec![command_task("kept", &offer, "sleep 30")],
    )
    .await;
    fw.status("kept", TaskState::TaskRunning).await;

    fw.client.stop();
    let (result, rest) = fw.finish().await;
    result.expect("stop() ends run with Ok");
    assert!(
        !rest
            .iter()
            .any(|s| matches!(s, Seen::Disconnected | Seen::Error(_))),
        "a stop is not a lost subscription: {rest:?}"
    );
    eventually("the master sees the framework disconnected", || {
        cluster
            .state()
            .frameworks
            .iter()
            .any(|f| f.id == id.value && !f.active && !f.connected)
    })
    .await;
    let state = cluster.state();
    let framework = state.frameworks.iter().find(|f| f.id == id.value).unwrap();
    assert!(
        framework
            .tasks
            .iter()
            .any(|t| t.id == "kept" && t.state == "TASK_RUNNING"),
        "its task runs on until failover: {framework:?}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn teardown_removes_the_framework_kills_its_tasks_and_ends_quietly() {
    let cluster = cluster().await;
    let mut fw = Framework::start(
        &cluster.url(),
        Encoding::Json,
        failover_framework_info("e2e-teardown"),
    );
    let id = fw.subscribed().await.framework_id;
    let offer = fw.offer().await;
    launch(
        &fw.client,
        &offer,
        vec![command_task("doomed", &offer, "sleep 30")],
    )
    .await;
    fw.status("doomed", TaskState::TaskRunning).await;

    fw.client.teardown().await.expect("TEARDOWN accepted");
    let (result, rest) = fw.finish().await;
    result.expect("teardown() ends run with Ok");
    assert!(
        !rest
            .iter()
            .any(|s| matches!(s, Seen::Disconnected | Seen::Error(_))),
        "teardown must end quietly, not as a lost subscription: {rest:?}"
    );
    assert!(
        !cluster.state().frameworks.iter().any(|f| f.id == id.value),
        "the framework is gone from /state"
    );
    assert_eq!(cluster.metrics()["master/tasks_killed"].as_f64(), Some(1.0));
    eventually("the task's resources are released", || {
        cluster.state().slaves[0].used_resources.cpus < 1e-9
    })
    .await;
    cluster.shutdown().await;
}
