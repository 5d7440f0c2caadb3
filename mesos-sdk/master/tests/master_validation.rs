//! The reference master refuses what Apache Mesos refuses, with Mesos's outcome and
//! message, over real HTTP with real agents: each rule of `docs/wire-compatibility.md`
//! ("Rules the reference master and agents enforce") is pinned here or in the unit
//! tests of `core/validate`.

mod support;

use std::time::Duration;

use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::RecordIoDecoder;
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::scheduler::{Event, call, event};
use mesos_sdk::v1::task_status::{Reason, Source};
use support::scheduler::*;
use support::*;

async fn cluster() -> LocalCluster {
    LocalCluster::builder()
        .agents(1)
        .resources("cpus:4;mem:2048;gpus:1;ports:[31000-31010]")
        .allocation_interval(Duration::from_millis(50))
        .kill_grace_period(Duration::from_millis(200))
        .executor_shutdown_grace_period(Duration::from_millis(200))
        .start()
        .await
        .expect("cluster starts")
}

fn ranges(name: &str, list: &[(u64, u64)]) -> v1::Resource {
    v1::Resource {
        name: name.into(),
        r#type: v1::value::Type::Ranges as i32,
        ranges: Some(v1::value::Ranges {
            range: list
                .iter()
                .map(|&(begin, end)| v1::value::Range { begin, end })
                .collect(),
        }),
        ..Default::default()
    }
}

/// A custom executor that never subscribes (the master's books are what is tested).
fn executor(id: &str) -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: id.into() },
        command: Some(v1::CommandInfo {
            value: Some("sleep 30".into()),
            ..Default::default()
        }),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
        ..Default::default()
    }
}

fn executor_task(id: &str, offer: &v1::Offer, executor: v1::ExecutorInfo) -> v1::TaskInfo {
    v1::TaskInfo {
        command: None,
        executor: Some(executor),
        ..command_task(id, offer, "")
    }
}

fn assert_master_error(status: &v1::TaskStatus, reason: Reason, message: &str) {
    let id = &status.task_id.value;
    assert_eq!(
        status.state,
        TaskState::TaskError as i32,
        "{id}: {status:?}"
    );
    assert_eq!(status.reason, Some(reason as i32), "{id}");
    assert_eq!(status.source, Some(Source::Master as i32), "{id}");
    assert!(status.uuid.is_none(), "{id}: master updates carry no uuid");
    let got = status.message.as_deref().unwrap_or_default();
    assert!(
        got == message
            || (message.ends_with('…') && got.starts_with(message.trim_end_matches('…'))),
        "{id}: got {got:?}, want {message:?}"
    );
}

#[tokio::test]
async fn every_task_rule_ends_the_task_task_error_with_mesos_message() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("rules")).await;
    let offer = s.offers().await.remove(0);
    let agent = offer.agent_id.value.clone();
    let t = |id: &str| command_task(id, &offer, "sleep 30");
    let mut cases: Vec<(v1::TaskInfo, String)> = Vec::new();
    let mut case = |task: v1::TaskInfo, message: &str| cases.push((task, message.to_string()));

    case(
        v1::TaskInfo {
            task_id: v1::TaskId {
                value: "a/b".into(),
            },
            ..t("a/b")
        },
        "'a/b' contains invalid characters",
    );
    case(
        v1::TaskInfo {
            agent_id: v1::AgentId {
                value: "elsewhere".into(),
            },
            ..t("wrong-agent")
        },
        &format!("Task uses invalid agent elsewhere while agent {agent} is expected"),
    );
    case(
        v1::TaskInfo {
            kill_policy: Some(v1::KillPolicy {
                grace_period: Some(v1::DurationInfo { nanoseconds: -1 }),
            }),
            ..t("kill-policy")
        },
        "Task's 'kill_policy.grace_period' must be non-negative",
    );
    case(
        v1::TaskInfo {
            max_completion_time: Some(v1::DurationInfo { nanoseconds: -1 }),
            ..t("completion")
        },
        "Task's `max_completion_time` must be non-negative",
    );
    case(
        v1::TaskInfo {
            check: Some(Box::new(v1::CheckInfo {
                r#type: Some(v1::check_info::Type::Tcp as i32),
                ..Default::default()
            })),
            ..t("check")
        },
        "Task uses invalid check: Expecting 'tcp' to be set for TCP check",
    );
    case(
        v1::TaskInfo {
            // No type: the master infers COMMAND from `command`, which has no value.
            health_check: Some(Box::new(v1::HealthCheck {
                command: Some(v1::CommandInfo::default()),
                ..Default::default()
            })),
            ..t("health")
        },
        "Task uses invalid health check: Command health check must contain 'shell command'",
    );
    case(
        v1::TaskInfo {
            resources: Vec::new(),
            ..t("no-resources")
        },
        "Task uses no resources",
    );
    case(
        v1::TaskInfo {
            resources: vec![scalar("cpus", 0.1), scalar("gpus", 0.5)],
            ..t("half-gpu")
        },
        "Task uses invalid resources: Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer",
    );
    case(
        v1::TaskInfo {
            resources: vec![ranges("ports", &[(31000, 31005), (31003, 31007)])],
            ..t("overlap")
        },
        "Resource 'ports(allocated: *):[31000-31005, 31003-31007]' is invalid: Invalid ranges resource: overlapping ranges",
    );
    case(
        v1::TaskInfo {
            command: Some(v1::CommandInfo {
                value: Some("true".into()),
                environment: Some(v1::Environment {
                    variables: vec![v1::environment::Variable {
                        name: "X".into(),
                        ..Default::default()
                    }],
                }),
                ..Default::default()
            }),
            ..t("env")
        },
        "Task's `CommandInfo` is invalid: Environment variable 'X' of type 'VALUE' must have a value set",
    );
    case(
        v1::TaskInfo {
            command: None,
            ..t("neither")
        },
        "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present",
    );
    case(
        v1::TaskInfo {
            executor: Some(executor("both")),
            ..t("both")
        },
        "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present",
    );
    case(
        executor_task(
            "foreign-executor",
            &offer,
            v1::ExecutorInfo {
                framework_id: Some(v1::FrameworkId {
                    value: "other".into(),
                }),
                ..executor("x1")
            },
        ),
        &format!(
            "ExecutorInfo has an invalid FrameworkID (Actual: other vs Expected: {})",
            s.framework_id.value
        ),
    );
    case(
        executor_task(
            "default-executor",
            &offer,
            v1::ExecutorInfo {
                r#type: Some(v1::executor_info::Type::Default as i32),
                command: None,
                ..executor("x2")
            },
        ),
        "'ExecutorInfo.type' must be 'CUSTOM'",
    );
    case(
        executor_task(
            "no-command",
            &offer,
            v1::ExecutorInfo {
                command: None,
                ..executor("x3")
            },
        ),
        "'ExecutorInfo.command' must be set",
    );
    case(
        v1::TaskInfo {
            resources: vec![scalar("cpus", 0.1), ranges("ports", &[(31000, 31000)])],
            ..executor_task(
                "shared-port",
                &offer,
                v1::ExecutorInfo {
                    resources: vec![ranges("ports", &[(31000, 31000)])],
                    ..executor("x4")
                },
            )
        },
        "There are overlapping resources in the task resources cpus(allocated: *):0.1; ports(allocated: *):[31000-31000] and executor resources ports(allocated: *):[31000-31000]",
    );
    case(
        v1::TaskInfo {
            resources: vec![scalar("cpus", 64.0)],
            ..t("too-big")
        },
        "Total resources cpus(allocated: *):64 required by task and its executor is more than available …",
    );
    case(t("twice"), "");
    case(t("twice"), "Task has duplicate ID: twice");

    let ids: Vec<String> = cases.iter().map(|(t, _)| t.task_id.value.clone()).collect();
    s.launch(&offer, cases.iter().map(|(t, _)| t.clone()).collect())
        .await;
    // Every task but the first "twice" ends TASK_ERROR; that one runs.
    for (task, message) in cases.iter().filter(|(_, m)| !m.is_empty()) {
        let id = task.task_id.value.as_str();
        let status = s
            .expect(&format!("TASK_ERROR of {id}"), |e| {
                e.update.as_ref().is_some_and(|u| {
                    u.status.task_id.value == id && u.status.state == TaskState::TaskError as i32
                })
            })
            .await
            .update
            .unwrap()
            .status;
        assert_master_error(&status, Reason::TaskInvalid, message);
        assert_eq!(
            status.agent_id.as_ref().map(|a| a.value.as_str()),
            Some(task.agent_id.value.as_str()),
            "Mesos answers with the task's own agent id"
        );
    }
    assert_eq!(ids.len(), 19);
    s.until_state("twice", TaskState::TaskRunning).await;
    c.shutdown().await;
}

#[tokio::test]
async fn a_task_id_stays_taken_until_its_terminal_update_is_acknowledged() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Protobuf, framework_info("reuse")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "exit 0")])
        .await;
    let mut finished;
    loop {
        finished = s.update("t").await;
        if finished.state == TaskState::TaskFinished as i32 {
            break;
        }
        s.acknowledge(&finished).await;
    }
    // Not acknowledged yet: Mesos still has the task, so its id is taken.
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "exit 0")])
        .await;
    let refused = s
        .expect("TASK_ERROR for the reused id", |e| {
            e.update.as_ref().is_some_and(|u| {
                u.status.task_id.value == "t" && u.status.state == TaskState::TaskError as i32
            })
        })
        .await
        .update
        .unwrap()
        .status;
    assert_master_error(&refused, Reason::TaskInvalid, "Task has duplicate ID: t");
    s.acknowledge(&finished).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("t", &offer, "exit 0")])
        .await;
    s.until_state("t", TaskState::TaskFinished).await;
    c.shutdown().await;
}

#[tokio::test]
async fn every_task_for_an_executor_carries_the_identical_executor_info() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("executor")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![executor_task("first", &offer, executor("e"))])
        .await;
    let offer = s.offers().await.remove(0);
    // The executor runs: later tasks send the same ExecutorInfo, resources included
    // (they are not taken from the offer again); a different one is refused.
    let mut no_resources = executor("e");
    no_resources.resources.clear();
    let mut other_command = executor("e");
    other_command.command.as_mut().unwrap().value = Some("sleep 60".into());
    s.launch(
        &offer,
        vec![
            executor_task("same", &offer, executor("e")),
            executor_task("no-resources", &offer, no_resources),
            executor_task("other-command", &offer, other_command),
        ],
    )
    .await;
    for id in ["no-resources", "other-command"] {
        let status = s.update(id).await;
        assert_master_error(
            &status,
            Reason::TaskInvalid,
            "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID.\n…",
        );
    }
    let books = c.state();
    let tasks = &books.framework(&s.framework_id.value).unwrap().tasks;
    let mut ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["first", "same"],
        "both tasks of the executor are in the books"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn launches_on_invalid_offers_are_lost_or_dropped_with_mesos_text() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("offers")).await;
    let offer = s.offers().await.remove(0);
    let mut accept = s.call(call::Type::Accept);
    accept.accept = Some(call::Accept {
        offer_ids: vec![offer.id.clone(), offer.id.clone()],
        operations: vec![v1::offer::Operation {
            r#type: Some(v1::offer::operation::Type::Launch as i32),
            launch: Some(v1::offer::operation::Launch {
                task_infos: vec![command_task("dup-offer", &offer, "true")],
            }),
            ..Default::default()
        }],
        filters: None,
    });
    s.send_ok(&accept, 202).await;
    let status = s.update("dup-offer").await;
    assert_eq!(status.state, TaskState::TaskLost as i32);
    assert_eq!(status.reason, Some(Reason::InvalidOffers as i32));
    assert_eq!(
        status.message.as_deref(),
        Some(
            format!(
                "Task launched with invalid offers: Duplicate offer {} in offer list",
                offer.id.value
            )
            .as_str()
        )
    );
    // A PARTITION_AWARE framework gets TASK_DROPPED; an unknown offer is "no longer valid".
    let mut info = framework_info("aware");
    info.capabilities = vec![v1::framework_info::Capability {
        r#type: Some(v1::framework_info::capability::Type::PartitionAware as i32),
    }];
    let aware = subscribe(&c.url(), Encoding::Json, info).await;
    let mut aware = aware;
    let mut accept = aware.call(call::Type::Accept);
    accept.accept = Some(call::Accept {
        offer_ids: vec![v1::OfferId {
            value: "no-such-offer".into(),
        }],
        operations: vec![v1::offer::Operation {
            r#type: Some(v1::offer::operation::Type::Launch as i32),
            launch: Some(v1::offer::operation::Launch {
                task_infos: vec![command_task("gone-offer", &offer, "true")],
            }),
            ..Default::default()
        }],
        filters: None,
    });
    aware.send_ok(&accept, 202).await;
    let status = aware.update("gone-offer").await;
    assert_eq!(status.state, TaskState::TaskDropped as i32);
    assert_eq!(
        status.message.as_deref(),
        Some("Task launched with invalid offers: Offer no-such-offer is no longer valid")
    );
    c.shutdown().await;
}

/// SUBSCRIBEs with `info` and reads the whole stream, which Mesos closes after one
/// ERROR event when it refuses the framework.
async fn refused(url: &str, info: v1::FrameworkInfo, suppressed: &[&str]) -> String {
    let mut call = subscribe_call(info);
    call.subscribe.as_mut().unwrap().suppressed_roles =
        suppressed.iter().map(|r| r.to_string()).collect();
    let response = post(url, Encoding::Json, None, &call).await;
    assert_eq!(
        response.status(),
        200,
        "a refusal is an event on a 200 stream"
    );
    let body = tokio::time::timeout(WAIT, response.bytes())
        .await
        .expect("the master closes the stream")
        .expect("body");
    let mut decoder = RecordIoDecoder::new(1 << 20);
    decoder.feed(&body);
    let mut events = Vec::new();
    while let Some(record) = decoder.decode_next().expect("RecordIO") {
        let event: Event = Encoding::Json.decode(&record).expect("event");
        events.push(event);
    }
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].r#type, Some(event::Type::Error as i32));
    events.remove(0).error.unwrap().message
}

#[tokio::test]
#[allow(deprecated)] // `FrameworkInfo.role`, which Mesos still validates.
async fn invalid_framework_infos_get_one_error_event() {
    let c = cluster().await;
    let url = c.url();
    let multi_role = vec![v1::framework_info::Capability {
        r#type: Some(v1::framework_info::capability::Type::MultiRole as i32),
    }];
    let roles_without_capability = v1::FrameworkInfo {
        roles: vec!["a".into()],
        ..framework_info("x")
    };
    assert_eq!(
        refused(&url, roles_without_capability, &[]).await,
        "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"
    );
    let role_and_roles = v1::FrameworkInfo {
        role: Some("a".into()),
        roles: vec!["a".into()],
        capabilities: multi_role.clone(),
        ..framework_info("x")
    };
    assert_eq!(
        refused(&url, role_and_roles, &[]).await,
        "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
    );
    let duplicate = v1::FrameworkInfo {
        roles: vec!["a".into(), "a".into()],
        capabilities: multi_role.clone(),
        ..framework_info("x")
    };
    assert_eq!(
        refused(&url, duplicate, &[]).await,
        "'FrameworkInfo.roles' contains duplicate items: { a }"
    );
    let bad_role = v1::FrameworkInfo {
        role: Some("a/".into()),
        ..framework_info("x")
    };
    assert_eq!(
        refused(&url, bad_role, &[]).await,
        "'FrameworkInfo.role' is not a valid role: Role 'a/' cannot end with a slash"
    );
    let timeout = v1::FrameworkInfo {
        failover_timeout: Some(1e300),
        ..framework_info("x")
    };
    assert_eq!(
        refused(&url, timeout, &[]).await,
        "The framework failover_timeout (1e+300) is invalid"
    );
    let web = v1::FrameworkInfo {
        roles: vec!["web".into()],
        capabilities: multi_role,
        ..framework_info("x")
    };
    assert_eq!(
        refused(&url, web, &["db"]).await,
        "Suppressed roles { db } are not contained in the set of roles"
    );

    // A torn-down framework cannot come back with its id; its principal cannot change.
    let s = subscribe(&url, Encoding::Json, framework_info("bye")).await;
    s.send_ok(&s.call(call::Type::Teardown), 202).await;
    let again = v1::FrameworkInfo {
        id: Some(s.framework_id.clone()),
        ..framework_info("bye")
    };
    assert_eq!(
        refused(&url, again, &[]).await,
        "Framework has been removed"
    );
    let p = subscribe(
        &url,
        Encoding::Json,
        v1::FrameworkInfo {
            principal: Some("alice".into()),
            ..framework_info("p")
        },
    )
    .await;
    let changed = v1::FrameworkInfo {
        id: Some(p.framework_id.clone()),
        principal: Some("mallory".into()),
        ..framework_info("p")
    };
    assert_eq!(
        refused(&url, changed, &[]).await,
        "Changing framework's principal is not allowed."
    );
    c.shutdown().await;
}

#[tokio::test]
async fn task_groups_and_offer_operations_follow_mesos_rules() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("groups")).await;
    let offer = s.offers().await.remove(0);
    // A task group's executor needs some disk: every task of the group is refused.
    let group: Vec<v1::TaskInfo> = ["g1", "g2"]
        .iter()
        .map(|id| v1::TaskInfo {
            command: None,
            ..command_task(id, &offer, "")
        })
        .collect();
    let no_disk = v1::ExecutorInfo {
        r#type: Some(v1::executor_info::Type::Custom as i32),
        ..executor("ge")
    };
    // An operation with an id hears why it was refused: a RESERVE of resources that
    // are not dynamically reserved.
    let reserve = v1::offer::Operation {
        r#type: Some(v1::offer::operation::Type::Reserve as i32),
        id: Some(v1::OperationId {
            value: "op-1".into(),
        }),
        reserve: Some(v1::offer::operation::Reserve {
            resources: vec![scalar("cpus", 1.0)],
            source: Vec::new(),
        }),
        ..Default::default()
    };
    let mut accept = s.call(call::Type::Accept);
    accept.accept = Some(call::Accept {
        offer_ids: vec![offer.id.clone()],
        operations: vec![
            v1::offer::Operation {
                r#type: Some(v1::offer::operation::Type::LaunchGroup as i32),
                launch_group: Some(v1::offer::operation::LaunchGroup {
                    executor: no_disk,
                    task_group: v1::TaskGroupInfo { tasks: group },
                }),
                ..Default::default()
            },
            reserve,
        ],
        filters: None,
    });
    s.send_ok(&accept, 202).await;
    for id in ["g1", "g2"] {
        let status = s.update(id).await;
        assert_master_error(
            &status,
            Reason::TaskGroupInvalid,
            "Executor 'ge' uses no disk",
        );
    }
    let refused = s
        .expect("UPDATE_OPERATION_STATUS", |e| {
            e.r#type == Some(event::Type::UpdateOperationStatus as i32)
        })
        .await
        .update_operation_status
        .unwrap()
        .status;
    assert_eq!(refused.operation_id.unwrap().value, "op-1");
    assert_eq!(refused.state, v1::OperationState::OperationError as i32);
    assert_eq!(
        refused.message.as_deref(),
        Some("Resource cpus(allocated: *):1 is not dynamically reserved")
    );
    c.shutdown().await;
}

#[tokio::test]
async fn an_executor_that_never_subscribes_fails_its_tasks_after_the_registration_timeout() {
    let c = LocalCluster::builder()
        .agents(1)
        .resources("cpus:2;mem:1024")
        .allocation_interval(Duration::from_millis(50))
        .executor_registration_timeout(Duration::from_millis(300))
        .start()
        .await
        .expect("cluster starts");
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("silent")).await;
    let offer = s.offers().await.remove(0);
    // `sleep 30` never subscribes to the executor API.
    s.launch(
        &offer,
        vec![executor_task("waits", &offer, executor("mute"))],
    )
    .await;
    let failed = s
        .expect("TASK_FAILED of waits", |e| {
            e.update.as_ref().is_some_and(|u| {
                u.status.task_id.value == "waits" && u.status.state == TaskState::TaskFailed as i32
            })
        })
        .await
        .update
        .unwrap()
        .status;
    assert_eq!(
        failed.reason,
        Some(Reason::ExecutorRegistrationTimeout as i32)
    );
    assert_eq!(failed.source, Some(Source::Agent as i32));
    assert_eq!(
        failed.message.as_deref(),
        Some("Executor did not register within 300ms")
    );
    s.acknowledge(&failed).await;
    c.shutdown().await;
}

#[tokio::test]
async fn a_command_task_may_not_reuse_a_running_executors_id() {
    let c = cluster().await;
    let mut s = subscribe(&c.url(), Encoding::Json, framework_info("reuse-executor")).await;
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![executor_task("first", &offer, executor("x"))])
        .await;
    // A command task's executor id is its task id: "x" is the custom executor's.
    let offer = s.offers().await.remove(0);
    s.launch(&offer, vec![command_task("x", &offer, "true")])
        .await;
    let dropped = s.update("x").await;
    assert_eq!(dropped.state, TaskState::TaskLost as i32);
    assert_eq!(dropped.reason, Some(Reason::TaskInvalid as i32));
    assert_eq!(dropped.source, Some(Source::Agent as i32));
    assert_eq!(
        dropped.message.as_deref(),
        Some("Cannot reuse an already existing executor for a command task")
    );
    s.acknowledge(&dropped).await;
    c.shutdown().await;
}

#[tokio::test]
async fn update_framework_may_not_change_what_mesos_keeps() {
    let c = cluster().await;
    let s = subscribe(&c.url(), Encoding::Json, framework_info("updates")).await;
    let answer = |info: v1::FrameworkInfo, suppressed: Vec<String>| {
        let mut update = s.call(call::Type::UpdateFramework);
        update.update_framework = Some(call::UpdateFramework {
            framework_info: info,
            suppressed_roles: suppressed,
            ..Default::default()
        });
        update
    };
    let base = v1::FrameworkInfo {
        id: Some(s.framework_id.clone()),
        ..framework_info("updates")
    };
    let cases = [
        (
            v1::FrameworkInfo {
                user: "someone-else".into(),
                ..base.clone()
            },
            Vec::new(),
            format!(
                "FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is unsupported; attempted to update from '{}' to 'someone-else'",
                base.user
            ),
        ),
        (
            v1::FrameworkInfo {
                roles: vec!["a".into()],
                ..base.clone()
            },
            Vec::new(),
            "Supplied FrameworkInfo is not valid: 'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable".to_string(),
        ),
        (
            base.clone(),
            vec!["db".to_string()],
            "'UpdateFramework' call is not valid: Suppressed roles { db } are not contained in the set of roles".to_string(),
        ),
        (
            v1::FrameworkInfo {
                id: Some(v1::FrameworkId {
                    value: "other".into(),
                }),
                ..base.clone()
            },
            Vec::new(),
            "Failed to validate scheduler::Call: 'framework_id' differs from 'update_framework.framework_info.id'".to_string(),
        ),
    ];
    for (info, suppressed, message) in cases {
        let response = s.send(&answer(info, suppressed)).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.text().await.unwrap(), message);
    }
    c.shutdown().await;
}
