//! Every scheduler call type end to end over real HTTP, with real agents running
//! command tasks; both encodings.

mod support;

use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::scheduler::{call, event};
use support::scheduler::*;
use support::*;

async fn cluster() -> LocalCluster {
    LocalCluster::builder()
        .agents(1)
        .resources("cpus:2;mem:512;disk:1024")
        .allocation_interval(Duration::from_millis(50))
        .kill_grace_period(Duration::from_millis(500))
        .start()
        .await
        .expect("cluster starts")
}

fn reason(status: &v1::TaskStatus) -> Option<v1::task_status::Reason> {
    status
        .reason
        .and_then(|r| v1::task_status::Reason::try_from(r).ok())
}

#[tokio::test]
async fn command_tasks_finish_fail_and_are_killed() {
    let c = cluster().await;
    for encoding in [Encoding::Json, Encoding::Protobuf] {
        let mut s = subscribe(&c.url(), encoding, framework_info("tasks")).await;
        let offer = s.offers().await.remove(0);
        s.launch(
            &offer,
            vec![
                command_task("ok", &offer, "exit 0"),
                command_task("bad", &offer, "exit 3"),
                command_task("long", &offer, "sleep 30"),
            ],
        )
        .await;
        s.until_state("ok", TaskState::TaskFinished).await;
        let failed = s.until_state("bad", TaskState::TaskFailed).await;
        assert!(failed.uuid.is_some(), "agent updates keep their uuid");
        s.until_state("long", TaskState::TaskRunning).await;
        assert_eq!(
            c.state()
                .framework(&s.framework_id.value)
                .unwrap()
                .tasks
                .len(),
            1
        );
        let mut kill = s.call(call::Type::Kill);
        kill.kill = Some(call::Kill {
            task_id: v1::TaskId {
                value: "long".into(),
            },
            agent_id: Some(offer.agent_id.clone()),
            kill_policy: None,
        });
        s.send_ok(&kill, 202).await;
        s.until_state("long", TaskState::TaskKilled).await;
        s.send_ok(&s.call(call::Type::Teardown), 202).await;
    }
    let metrics = c.metrics();
    assert_eq!(metrics["master/tasks_finished"], 2);
    assert_eq!(metrics["master/tasks_failed"], 2);
    assert_eq!(metrics["master/tasks_killed"], 2);
    c.shutdown().await;
}

#[tokio::test]
async fn invalid_launches_get_task_error_or_lost_never_a_crash() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("invalid")).await;
    let offer = s.offers().await.remove(0);
    let mut no_command = command_task("no-command", &offer, "true");
    no_command.command = None;
    let mut too_big = command_task("too-big", &offer, "true");
    too_big.resources = vec![scalar("cpus", 64.0)];
    s.launch(
        &offer,
        vec![
            command_task("dup", &offer, "sleep 30"),
            command_task("dup", &offer, "sleep 30"),
            no_command,
            too_big,
        ],
    )
    .await;
    let dup = s
        .expect("TASK_ERROR for the duplicate", |e| {
            e.update.as_ref().is_some_and(|u| {
                u.status.task_id.value == "dup" && u.status.state == TaskState::TaskError as i32
            })
        })
        .await
        .update
        .unwrap()
        .status;
    assert_eq!(reason(&dup), Some(v1::task_status::Reason::TaskInvalid));
    for task in ["no-command", "too-big"] {
        let status = s.update(task).await;
        assert_eq!(status.state, TaskState::TaskError as i32, "{task}");
        assert_eq!(reason(&status), Some(v1::task_status::Reason::TaskInvalid));
        assert!(status.uuid.is_none());
    }
    // The used offer is gone: a second ACCEPT of it loses its tasks.
    s.launch(&offer, vec![command_task("late", &offer, "true")])
        .await;
    let late = s.update("late").await;
    assert_eq!(late.state, TaskState::TaskLost as i32);
    assert_eq!(reason(&late), Some(v1::task_status::Reason::InvalidOffers));
    c.shutdown().await;
}

#[tokio::test]
async fn decline_filters_suppress_and_revive() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Protobuf, framework_info("decline")).await;
    let offer = s.offers().await.remove(0);
    let mut decline = s.call(call::Type::Decline);
    decline.decline = Some(call::Decline {
        offer_ids: vec![offer.id.clone()],
        filters: Some(v1::Filters {
            refuse_seconds: Some(3600.0),
        }),
    });
    s.send_ok(&decline, 202).await;
    let state = c.state();
    assert_eq!(state.framework(&s.framework_id.value).unwrap().offers, 0);
    assert_eq!(c.metrics()["master/offers_declined"], 1);
    // Filtered for an hour: a REVIVE clears it and offers come back.
    s.send_ok(&s.call(call::Type::Revive), 202).await;
    let again = s.offers().await.remove(0);
    assert_ne!(again.id, offer.id);
    // SUPPRESS, decline with no filter: nothing is offered until REVIVE.
    s.send_ok(&s.call(call::Type::Suppress), 202).await;
    decline.decline = Some(call::Decline {
        offer_ids: vec![again.id.clone()],
        filters: Some(v1::Filters {
            refuse_seconds: Some(0.0),
        }),
    });
    s.send_ok(&decline, 202).await;
    assert_eq!(
        c.state().framework(&s.framework_id.value).unwrap().offers,
        0
    );
    s.send_ok(&s.call(call::Type::Revive), 202).await;
    s.offers().await;
    c.shutdown().await;
}

#[tokio::test]
async fn unanswered_offers_are_rescinded() {
    let c = LocalCluster::builder()
        .offer_timeout(Duration::from_millis(200))
        .allocation_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("slow")).await;
    let offer = s.offers().await.remove(0);
    let rescind = s
        .expect("RESCIND", |e| e.r#type == Some(event::Type::Rescind as i32))
        .await;
    assert_eq!(rescind.rescind.unwrap().offer_id, offer.id);
    c.shutdown().await;
}

#[tokio::test]
async fn kill_and_reconcile_of_unknown_tasks_answer_task_lost() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("unknown")).await;
    let mut kill = s.call(call::Type::Kill);
    kill.kill = Some(call::Kill {
        task_id: v1::TaskId {
            value: "ghost".into(),
        },
        agent_id: None,
        kill_policy: None,
    });
    s.send_ok(&kill, 202).await;
    let lost = s.update("ghost").await;
    assert_eq!(lost.state, TaskState::TaskLost as i32);
    assert!(lost.uuid.is_none());
    let mut reconcile = s.call(call::Type::Reconcile);
    reconcile.reconcile = Some(call::Reconcile {
        tasks: vec![call::reconcile::Task {
            task_id: v1::TaskId {
                value: "phantom".into(),
            },
            agent_id: None,
        }],
    });
    s.send_ok(&reconcile, 202).await;
    let status = s.update("phantom").await;
    assert_eq!(status.state, TaskState::TaskLost as i32);
    assert_eq!(
        reason(&status),
        Some(v1::task_status::Reason::Reconciliation)
    );
    c.shutdown().await;
}

#[tokio::test]
async fn operations_reconcile_unknown_and_other_calls_are_accepted() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Protobuf, framework_info("misc")).await;
    let offer = s.offers().await.remove(0);
    let mut ops = s.call(call::Type::ReconcileOperations);
    ops.reconcile_operations = Some(call::ReconcileOperations {
        operations: vec![call::reconcile_operations::Operation {
            operation_id: v1::OperationId {
                value: "op-1".into(),
            },
            agent_id: None,
            resource_provider_id: None,
        }],
    });
    s.send_ok(&ops, 202).await;
    let event = s
        .expect("UPDATE_OPERATION_STATUS", |e| {
            e.r#type == Some(event::Type::UpdateOperationStatus as i32)
        })
        .await;
    let status = event.update_operation_status.unwrap().status;
    assert_eq!(status.state, v1::OperationState::OperationUnknown as i32);
    assert_eq!(status.operation_id.unwrap().value, "op-1");

    let mut accept_inverse = s.call(call::Type::AcceptInverseOffers);
    accept_inverse.accept_inverse_offers = Some(call::AcceptInverseOffers {
        inverse_offer_ids: vec![v1::OfferId { value: "io".into() }],
        filters: None,
    });
    s.send_ok(&accept_inverse, 202).await;
    let mut decline_inverse = s.call(call::Type::DeclineInverseOffers);
    decline_inverse.decline_inverse_offers = Some(call::DeclineInverseOffers {
        inverse_offer_ids: vec![v1::OfferId { value: "io".into() }],
        filters: None,
    });
    s.send_ok(&decline_inverse, 202).await;
    let mut request = s.call(call::Type::Request);
    request.request = Some(call::Request { requests: vec![] });
    s.send_ok(&request, 202).await;
    let mut ack_op = s.call(call::Type::AcknowledgeOperationStatus);
    ack_op.acknowledge_operation_status = Some(call::AcknowledgeOperationStatus {
        agent_id: Some(offer.agent_id.clone()),
        resource_provider_id: None,
        uuid: bytes::Bytes::from_static(&[0; 16]),
        operation_id: v1::OperationId {
            value: "op-1".into(),
        },
    });
    s.send_ok(&ack_op, 202).await;
    let mut shutdown = s.call(call::Type::Shutdown);
    shutdown.shutdown = Some(call::Shutdown {
        executor_id: v1::ExecutorId {
            value: "none".into(),
        },
        agent_id: offer.agent_id.clone(),
    });
    s.send_ok(&shutdown, 202).await;
    let mut message = s.call(call::Type::Message);
    message.message = Some(call::Message {
        agent_id: offer.agent_id.clone(),
        executor_id: v1::ExecutorId {
            value: "none".into(),
        },
        data: bytes::Bytes::from_static(b"hello"),
    });
    s.send_ok(&message, 202).await;
    // A call without its payload is a 400, as in Mesos.
    s.send_ok(&s.call(call::Type::Accept), 400).await;
    c.shutdown().await;
}

#[tokio::test]
async fn reserve_and_create_change_the_agents_resources() {
    let c = cluster().await;
    let mut info = framework_info("reserve");
    info.roles = vec!["db".into()];
    info.capabilities = vec![v1::framework_info::Capability {
        r#type: Some(v1::framework_info::capability::Type::MultiRole as i32),
    }];
    let mut s = subscribe(&c.url(), Encoding::Json, info).await;
    let offer = s.offers().await.remove(0);
    let reservation = v1::resource::ReservationInfo {
        r#type: Some(v1::resource::reservation_info::Type::Dynamic as i32),
        role: Some("db".into()),
        principal: None,
        labels: None,
    };
    let mut reserved_cpus = scalar("cpus", 1.0);
    reserved_cpus.reservations = vec![reservation.clone()];
    let mut reserved_disk = scalar("disk", 100.0);
    reserved_disk.reservations = vec![reservation];
    let mut volume = reserved_disk.clone();
    volume.disk = Some(Box::new(v1::resource::DiskInfo {
        persistence: Some(v1::resource::disk_info::Persistence {
            id: "vol-1".into(),
            principal: None,
        }),
        volume: Some(v1::Volume {
            container_path: "data".into(),
            mode: v1::volume::Mode::Rw as i32,
            ..Default::default()
        }),
        source: None,
    }));
    let mut accept = s.call(call::Type::Accept);
    accept.accept = Some(call::Accept {
        offer_ids: vec![offer.id.clone()],
        operations: vec![
            v1::offer::Operation {
                r#type: Some(v1::offer::operation::Type::Reserve as i32),
                reserve: Some(v1::offer::operation::Reserve {
                    source: vec![],
                    resources: vec![reserved_cpus.clone(), reserved_disk],
                }),
                ..Default::default()
            },
            v1::offer::Operation {
                r#type: Some(v1::offer::operation::Type::Create as i32),
                create: Some(v1::offer::operation::Create {
                    volumes: vec![volume],
                }),
                ..Default::default()
            },
        ],
        filters: Some(v1::Filters {
            refuse_seconds: Some(0.0),
        }),
    });
    s.send_ok(&accept, 202).await;
    let next = s.offers().await.remove(0);
    let reserved: Vec<&v1::Resource> = next
        .resources
        .iter()
        .filter(|r| !r.reservations.is_empty())
        .collect();
    assert!(
        reserved
            .iter()
            .any(|r| r.name == "cpus" && r.scalar.unwrap().value == 1.0),
        "{reserved:?}"
    );
    assert!(
        reserved.iter().any(|r| r.name == "disk"
            && r.disk
                .as_ref()
                .and_then(|d| d.persistence.as_ref())
                .is_some_and(|p| p.id == "vol-1")),
        "{reserved:?}"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn state_metrics_and_health_endpoints() {
    let c = LocalCluster::builder()
        .agents(2)
        .resources("cpus:2;mem:512")
        .attributes(["rack:r1"])
        .start()
        .await
        .unwrap();
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("state")).await;
    let offer = s.offers().await.remove(0);
    assert_eq!(offer.attributes[0].name, "rack");
    s.launch(&offer, vec![command_task("t", &offer, "sleep 30")])
        .await;
    s.until_state("t", TaskState::TaskRunning).await;
    let http = client();
    let get_json = |path: &str| {
        let request = http.get(format!("{}{path}", c.url()));
        async move {
            serde_json::from_slice::<serde_json::Value>(
                &request.send().await.unwrap().bytes().await.unwrap(),
            )
            .unwrap()
        }
    };
    let state = get_json("/state").await;
    assert_eq!(state["slaves"].as_array().unwrap().len(), 2);
    assert_eq!(state["slaves"][0]["resources"]["cpus"], 2.0);
    let fw = &state["frameworks"][0];
    assert_eq!(fw["name"], "state");
    assert_eq!(fw["active"], true);
    assert_eq!(fw["tasks"][0]["id"], "t");
    assert_eq!(fw["tasks"][0]["state"], "TASK_RUNNING");
    assert_eq!(fw["used_resources"]["cpus"], 0.1);
    let metrics = get_json("/metrics/snapshot").await;
    assert_eq!(metrics["master/tasks_running"], 1);
    assert_eq!(metrics["master/frameworks_active"], 1);
    assert_eq!(metrics["master/slaves_active"], 2);
    assert_eq!(metrics["master/cpus_total"], 4.0);
    let health = http
        .get(format!("{}/health", c.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    c.shutdown().await;
}

#[tokio::test]
async fn reconciling_unknown_tasks_answers_as_mesos_by_what_is_known_of_the_agent() {
    let c = cluster().await;
    for partition_aware in [false, true] {
        let mut info = framework_info("reconciler");
        if partition_aware {
            info.capabilities.push(v1::framework_info::Capability {
                r#type: Some(v1::framework_info::capability::Type::PartitionAware as i32),
            });
        }
        let mut s = subscribe(&c.url(), Encoding::Json, info).await;
        let agent = s.offers().await.remove(0).agent_id;
        let ask = |task: &str, agent: Option<&v1::AgentId>| call::reconcile::Task {
            task_id: v1::TaskId { value: task.into() },
            agent_id: agent.cloned(),
        };
        let stranger = v1::AgentId {
            value: "no-such-agent".into(),
        };
        let mut reconcile = s.call(call::Type::Reconcile);
        reconcile.reconcile = Some(call::Reconcile {
            tasks: vec![
                ask("on-agent", Some(&agent)),
                ask("on-stranger", Some(&stranger)),
                ask("nowhere", None),
            ],
        });
        s.send_ok(&reconcile, 202).await;
        let (gone, unknown) = if partition_aware {
            (TaskState::TaskGone, TaskState::TaskUnknown)
        } else {
            (TaskState::TaskLost, TaskState::TaskLost)
        };
        for (task, state, message) in [
            (
                "on-agent",
                gone,
                "Reconciliation: Task is unknown to the agent",
            ),
            ("on-stranger", unknown, "Reconciliation: Task is unknown"),
            ("nowhere", unknown, "Reconciliation: Task is unknown"),
        ] {
            let status = s.update(task).await;
            assert_eq!(status.state(), state, "{task}: {status:?}");
            assert_eq!(status.message.as_deref(), Some(message), "{task}");
            assert_eq!(
                reason(&status),
                Some(v1::task_status::Reason::Reconciliation)
            );
            assert!(status.uuid.is_none());
        }
        s.send_ok(&s.call(call::Type::Teardown), 202).await;
    }
    c.shutdown().await;
}
