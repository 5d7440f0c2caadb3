//! Every call builder sets `type` and exactly the payload field that goes with it, as
//! the master's validation demands.

use bytes::Bytes;
use mesos_sdk::calls::{self, executor as ecalls, operations, scheduler as scalls};
use mesos_sdk::codec::{Encoding, json};
use mesos_sdk::v1;

fn fw() -> v1::FrameworkId {
    v1::FrameworkId {
        value: "fw-1".into(),
    }
}
fn agent() -> v1::AgentId {
    v1::AgentId {
        value: "agent-1".into(),
    }
}
fn task_id() -> v1::TaskId {
    v1::TaskId {
        value: "task-1".into(),
    }
}

/// The JSON keys of a call other than `type`, `framework_id` and `executor_id`.
fn payload_keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("a call is an object")
        .keys()
        .filter(|k| !matches!(k.as_str(), "type" | "framework_id" | "executor_id"))
        .cloned()
        .collect();
    keys.sort();
    keys
}

#[test]
fn scheduler_calls_carry_the_payload_named_by_their_type() {
    let uuid = calls::new_uuid();
    let cases: Vec<(v1::scheduler::Call, &str, Option<&str>)> = vec![
        (
            scalls::subscribe(calls::framework_info("f", "u").id(fw()).build()),
            "SUBSCRIBE",
            Some("subscribe"),
        ),
        (scalls::teardown(&fw()), "TEARDOWN", None),
        (
            scalls::accept(&fw(), vec![], vec![operations::launch(vec![])], None),
            "ACCEPT",
            Some("accept"),
        ),
        (
            scalls::decline(&fw(), vec![], Some(calls::filters(1.0))),
            "DECLINE",
            Some("decline"),
        ),
        (
            scalls::accept_inverse_offers(&fw(), vec![], None),
            "ACCEPT_INVERSE_OFFERS",
            Some("accept_inverse_offers"),
        ),
        (
            scalls::decline_inverse_offers(&fw(), vec![], None),
            "DECLINE_INVERSE_OFFERS",
            Some("decline_inverse_offers"),
        ),
        (
            scalls::revive(&fw(), vec!["r".into()]),
            "REVIVE",
            Some("revive"),
        ),
        (
            scalls::suppress(&fw(), vec!["r".into()]),
            "SUPPRESS",
            Some("suppress"),
        ),
        (
            scalls::kill(&fw(), task_id(), Some(agent()), None),
            "KILL",
            Some("kill"),
        ),
        (
            scalls::shutdown(&fw(), v1::ExecutorId { value: "e".into() }, agent()),
            "SHUTDOWN",
            Some("shutdown"),
        ),
        (
            scalls::acknowledge(&fw(), agent(), task_id(), uuid.clone()),
            "ACKNOWLEDGE",
            Some("acknowledge"),
        ),
        (
            scalls::acknowledge_operation_status(
                &fw(),
                v1::OperationId { value: "op".into() },
                uuid.clone(),
                Some(agent()),
                None,
            ),
            "ACKNOWLEDGE_OPERATION_STATUS",
            Some("acknowledge_operation_status"),
        ),
        (
            scalls::reconcile(&fw(), vec![(task_id(), None)]),
            "RECONCILE",
            Some("reconcile"),
        ),
        (
            scalls::reconcile_operations(&fw(), vec![]),
            "RECONCILE_OPERATIONS",
            Some("reconcile_operations"),
        ),
        (
            scalls::message(
                &fw(),
                agent(),
                v1::ExecutorId { value: "e".into() },
                Bytes::from_static(b"x"),
            ),
            "MESSAGE",
            Some("message"),
        ),
        (scalls::request(&fw(), vec![]), "REQUEST", Some("request")),
        (
            scalls::update_framework(&fw(), calls::framework_info("f", "u").build()),
            "UPDATE_FRAMEWORK",
            Some("update_framework"),
        ),
    ];
    for (call, kind, payload) in cases {
        let value = json::to_value(&call);
        assert_eq!(value["type"], kind);
        assert_eq!(value["framework_id"]["value"], "fw-1", "{kind}");
        let expected: Vec<String> = payload.into_iter().map(String::from).collect();
        assert_eq!(payload_keys(&value), expected, "{kind}");
        // Complete enough for the master's strict decoding.
        let bytes = Encoding::Protobuf.encode(&call);
        Encoding::Protobuf
            .decode_strict::<v1::scheduler::Call>(&bytes)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
}

#[test]
fn subscribe_takes_the_framework_id_from_the_framework_info() {
    let first = scalls::subscribe(calls::framework_info("f", "u").build());
    assert_eq!(first.framework_id, None);
    let again = scalls::subscribe(calls::framework_info("f", "u").id(fw()).build());
    assert_eq!(again.framework_id, Some(fw()));
}

#[test]
fn roles_add_the_multi_role_capability_once() {
    let info = calls::framework_info("f", "u")
        .roles(["a", "b"])
        .roles(["c"])
        .build();
    assert_eq!(info.roles, vec!["c".to_string()]);
    let multi = info
        .capabilities
        .iter()
        .filter(|c| c.r#type() == v1::framework_info::capability::Type::MultiRole)
        .count();
    assert_eq!(multi, 1);
}

#[test]
fn only_updates_with_a_uuid_are_acknowledged() {
    let mut status = v1::TaskStatus {
        task_id: task_id(),
        state: v1::TaskState::TaskRunning as i32,
        agent_id: Some(agent()),
        ..Default::default()
    };
    assert!(scalls::acknowledge_status(&fw(), &status).is_none());
    status.uuid = Some(calls::new_uuid());
    let ack = scalls::acknowledge_status(&fw(), &status).expect("an ack");
    let ack = ack.acknowledge.unwrap();
    assert_eq!(ack.uuid.len(), 16);
    assert_eq!(ack.task_id, task_id());
}

#[test]
fn executor_calls_carry_the_payload_named_by_their_type() {
    let e = v1::ExecutorId {
        value: "exec".into(),
    };
    let status = v1::TaskStatus {
        task_id: task_id(),
        state: v1::TaskState::TaskFinished as i32,
        uuid: Some(calls::new_uuid()),
        ..Default::default()
    };
    let cases = vec![
        (
            ecalls::subscribe(&fw(), &e, vec![], vec![]),
            "SUBSCRIBE",
            Some("subscribe"),
        ),
        (ecalls::update(&fw(), &e, status), "UPDATE", Some("update")),
        (
            ecalls::message(&fw(), &e, Bytes::from_static(b"m")),
            "MESSAGE",
            Some("message"),
        ),
        (ecalls::heartbeat(&fw(), &e), "HEARTBEAT", None),
    ];
    for (call, kind, payload) in cases {
        let value = json::to_value(&call);
        assert_eq!(value["type"], kind);
        assert_eq!(value["executor_id"]["value"], "exec");
        let expected: Vec<String> = payload.into_iter().map(String::from).collect();
        assert_eq!(payload_keys(&value), expected, "{kind}");
    }
}

#[test]
fn task_builder_makes_command_and_executor_tasks() {
    let shell = calls::task_info("t", "n", agent())
        .shell("echo hi")
        .resources([])
        .kill_grace_period(std::time::Duration::from_millis(1500))
        .label("k", "v")
        .build();
    let command = shell.command.as_ref().unwrap();
    assert_eq!(command.shell, Some(true));
    assert_eq!(
        shell.kill_policy.unwrap().grace_period.unwrap().nanoseconds,
        1_500_000_000
    );
    let argv = calls::task_info("t", "n", agent())
        .argv("/bin/echo", ["a", "b"])
        .build();
    let command = argv.command.unwrap();
    assert_eq!(command.shell, Some(false));
    assert_eq!(command.arguments, vec!["/bin/echo", "a", "b"]);
}
