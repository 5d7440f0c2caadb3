//! Subscriptions: SUBSCRIBED and heartbeats in both encodings, a SUBSCRIBE replacing a
//! connected stream, failover within and past the timeout, TEARDOWN.

mod support;

use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1::scheduler::{call, event};
use support::scheduler::*;
use support::*;

async fn cluster(heartbeat: Duration) -> LocalCluster {
    LocalCluster::builder()
        .agents(1)
        .resources("cpus:2;mem:512")
        .heartbeat_interval(heartbeat)
        .allocation_interval(Duration::from_millis(50))
        .start()
        .await
        .expect("cluster starts")
}

#[tokio::test]
async fn subscribed_offers_and_heartbeats_in_both_encodings() {
    let c = cluster(Duration::from_millis(100)).await;
    for encoding in [Encoding::Json, Encoding::Protobuf] {
        let mut s = subscribe(&c.url(), encoding, framework_info("hb")).await;
        assert!((s.heartbeat_interval - 0.1).abs() < 1e-9);
        assert!(s.framework_id.value.ends_with("-0000") || s.framework_id.value.ends_with("-0001"));
        let offers = s.offers().await;
        assert_eq!(offers[0].framework_id, s.framework_id);
        assert!(offers[0].allocation_info.as_ref().unwrap().role.as_deref() == Some("*"));
        assert_eq!(offers[0].hostname, "127.0.0.1");
        for _ in 0..2 {
            s.expect("HEARTBEAT", |e| {
                e.r#type == Some(event::Type::Heartbeat as i32)
            })
            .await;
        }
        s.send_ok(&s.call(call::Type::Teardown), 202).await;
    }
    c.shutdown().await;
}

#[tokio::test]
async fn events_follow_accept_not_content_type() {
    let c = cluster(Duration::from_secs(15)).await;
    let response = client()
        .post(format!("{}/api/v1/scheduler", c.url()))
        .header("Content-Type", "application/json")
        .header("Accept", "application/x-protobuf")
        .body(Encoding::Json.encode(&subscribe_call(framework_info("accept"))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["Content-Type"], "application/x-protobuf");
    let s = stream(&c.url(), Encoding::Protobuf, response).await;
    assert!(!s.stream_id.is_empty());
    c.shutdown().await;
}

#[tokio::test]
async fn a_new_subscribe_replaces_the_connected_stream() {
    let c = cluster(Duration::from_secs(15)).await;
    let mut info = framework_info("replace");
    info.failover_timeout = Some(60.0);
    let mut first = subscribe(&c.url(), Encoding::Json, info.clone()).await;
    info.id = Some(first.framework_id.clone());
    let second = subscribe(&c.url(), Encoding::Json, info).await;
    assert_eq!(second.framework_id, first.framework_id);
    assert_ne!(second.stream_id, first.stream_id);
    let error = first
        .expect("ERROR", |e| e.r#type == Some(event::Type::Error as i32))
        .await;
    assert!(error.error.unwrap().message.contains("failed over"));
    assert!(
        tokio::time::timeout(WAIT, first.events.recv())
            .await
            .unwrap()
            .is_none(),
        "old stream closed"
    );
    // The old stream id is no longer valid; the new one is.
    first.send_ok(&first.call(call::Type::Revive), 400).await;
    second.send_ok(&second.call(call::Type::Revive), 202).await;
    c.shutdown().await;
}

#[tokio::test]
async fn failover_within_the_timeout_keeps_tasks() {
    let c = cluster(Duration::from_secs(15)).await;
    let mut info = framework_info("failover");
    info.failover_timeout = Some(3600.0);
    let mut s = subscribe(&c.url(), Encoding::Protobuf, info.clone()).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("sleeper", &offer, "sleep 30")])
        .await;
    s.until_state("sleeper", mesos_sdk::v1::TaskState::TaskRunning)
        .await;
    let fw = s.framework_id.clone();
    drop(s);
    eventually("framework disconnected", || {
        c.state().framework(&fw.value).is_some_and(|f| !f.connected)
    })
    .await;
    assert_eq!(c.state().framework(&fw.value).unwrap().tasks.len(), 1);
    info.id = Some(fw.clone());
    let mut back = subscribe(&c.url(), Encoding::Protobuf, info).await;
    assert_eq!(back.framework_id, fw);
    let mut reconcile = back.call(call::Type::Reconcile);
    reconcile.reconcile = Some(call::Reconcile { tasks: vec![] });
    back.send_ok(&reconcile, 202).await;
    let status = back.update("sleeper").await;
    assert_eq!(status.state, mesos_sdk::v1::TaskState::TaskRunning as i32);
    assert_eq!(
        status.reason,
        Some(mesos_sdk::v1::task_status::Reason::Reconciliation as i32)
    );
    assert!(status.uuid.is_none());
    c.shutdown().await;
}

#[tokio::test]
async fn failover_past_the_timeout_removes_the_framework_and_kills_its_tasks() {
    let c = cluster(Duration::from_secs(15)).await;
    let mut info = framework_info("gone");
    info.failover_timeout = Some(0.2);
    let mut s = subscribe(&c.url(), Encoding::Json, info.clone()).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("sleeper", &offer, "sleep 30")])
        .await;
    s.until_state("sleeper", mesos_sdk::v1::TaskState::TaskRunning)
        .await;
    let fw = s.framework_id.clone();
    drop(s);
    eventually("framework removed", || {
        c.state().framework(&fw.value).is_none()
    })
    .await;
    assert_eq!(c.metrics()["master/tasks_killed"], 1);
    // Resources are free again.
    eventually("cpus freed", || {
        c.state().slaves[0].used_resources.cpus == 0.0
    })
    .await;
    c.shutdown().await;
}

#[tokio::test]
async fn teardown_removes_the_framework() {
    let c = cluster(Duration::from_secs(15)).await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("bye")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "sleep 30")])
        .await;
    s.until_state("t", mesos_sdk::v1::TaskState::TaskRunning)
        .await;
    s.send_ok(&s.call(call::Type::Teardown), 202).await;
    assert!(c.state().framework(&s.framework_id.value).is_none());
    assert!(
        tokio::time::timeout(WAIT, async { while s.events.recv().await.is_some() {} })
            .await
            .is_ok(),
        "stream closed"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn restarted_master_takes_the_framework_back() {
    let mut c = cluster(Duration::from_secs(15)).await;
    // No failover timeout of its own: the restart grace keeps it.
    let mut info = framework_info("restart");
    let mut s = subscribe(&c.url(), Encoding::Json, info.clone()).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "sleep 30")])
        .await;
    s.until_state("t", mesos_sdk::v1::TaskState::TaskRunning)
        .await;
    c.restart_master().await.expect("restarted");
    assert!(
        tokio::time::timeout(WAIT, async { while s.events.recv().await.is_some() {} })
            .await
            .is_ok()
    );
    info.id = Some(s.framework_id.clone());
    let back = subscribe(&c.url(), Encoding::Json, info).await;
    assert_eq!(back.framework_id, s.framework_id);
    assert_eq!(
        c.state()
            .framework(&back.framework_id.value)
            .unwrap()
            .tasks
            .len(),
        1
    );
    c.shutdown().await;
}
