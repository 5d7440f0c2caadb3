//! Golden JSON: the examples of Apache Mesos's scheduler and executor HTTP API docs
//! decode to the expected typed values, re-encode to equivalent JSON, and survive a
//! protobuf round trip. Where Mesos's doc examples do not match the schema Mesos
//! actually enforces, the test says so and uses the schema's form.

use std::fmt::Debug;

use mesos_sdk::codec::{DecodeError, Encoding, WireMessage, json};
use mesos_sdk::v1::{self, executor, scheduler};
use serde_json::{Value, json};

/// Decodes strictly, checks the protobuf round trip, and returns the value.
fn decode_golden<M: WireMessage + PartialEq + Debug>(text: &str) -> M {
    let typed: M = Encoding::Json
        .decode_strict(text.as_bytes())
        .unwrap_or_else(|e| panic!("golden JSON does not decode: {e}"));
    let protobuf = Encoding::Protobuf.encode(&typed);
    let back: M = Encoding::Protobuf.decode_strict(&protobuf).unwrap();
    assert_eq!(back, typed, "protobuf round trip changed the message");
    typed
}

/// Numbers compare by value (`15` and `15.0` are the same JSON number to Mesos).
fn normalize(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                *value = json!(f);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => map.values_mut().for_each(normalize),
        _ => {}
    }
}

/// Re-encoding `typed` gives `expected` (the doc example, adjusted for its known
/// differences), comparing JSON values.
fn assert_reencodes_to<M: WireMessage>(typed: &M, mut expected: Value) {
    let mut actual = json::to_value(typed);
    normalize(&mut actual);
    normalize(&mut expected);
    assert_eq!(actual, expected);
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

const SCHEDULER_SUBSCRIBE: &str = r#"{
   "type"		: "SUBSCRIBE",
   "subscribe"	: {
      "framework_info"	: {
        "user" :  "foo",
        "name" :  "Example HTTP Framework",
        "roles": ["test1", "test2"],
        "capabilities" : [{"type": "MULTI_ROLE"}]
      },
      "suppressed_roles" : ["test2"],
      "offer_constraints" : {
        "role_constraints": {
          "test1": {
            "groups": [{
              "attribute_constraints": [{
                "selector": {"attribute_name": "foo"},
                "predicate": {"exists": {}}
              }]
            }]
          }
        }
      }
   }
}"#;

#[test]
fn scheduler_subscribe_call() {
    let call: scheduler::Call = decode_golden(SCHEDULER_SUBSCRIBE);
    assert_eq!(call.r#type, Some(scheduler::call::Type::Subscribe as i32));
    assert_eq!(call.framework_id, None);
    let subscribe = call.subscribe.as_ref().unwrap();
    let info = &subscribe.framework_info;
    assert_eq!(
        (info.user.as_str(), info.name.as_str()),
        ("foo", "Example HTTP Framework")
    );
    assert_eq!(info.roles, ["test1", "test2"]);
    assert_eq!(
        info.capabilities[0].r#type,
        Some(v1::framework_info::capability::Type::MultiRole as i32)
    );
    assert_eq!(subscribe.suppressed_roles, ["test2"]);
    let constraints = subscribe.offer_constraints.as_ref().unwrap();
    let group = &constraints.role_constraints["test1"].groups[0];
    assert_eq!(
        group.attribute_constraints[0].selector.selector,
        Some(scheduler::attribute_constraint::selector::Selector::AttributeName("foo".into()))
    );
    assert_reencodes_to(&call, parse(SCHEDULER_SUBSCRIBE));
}

#[test]
fn subscribed_event() {
    // The doc gives the interval as the integer 15; Mesos writes 15.0. Same number.
    let text = r#"{
 "type"			: "SUBSCRIBED",
 "subscribed"	: {
     "framework_id"               : {"value":"12220-3440-12532-2345"},
     "heartbeat_interval_seconds" : 15
  }
}"#;
    let event: scheduler::Event = decode_golden(text);
    assert_eq!(
        event.r#type,
        Some(scheduler::event::Type::Subscribed as i32)
    );
    let subscribed = event.subscribed.as_ref().unwrap();
    assert_eq!(subscribed.framework_id.value, "12220-3440-12532-2345");
    assert_eq!(subscribed.heartbeat_interval_seconds, Some(15.0));
    assert_reencodes_to(&event, parse(text));
}

/// The doc's OFFERS example puts the offer list directly under `"offers"`; the schema
/// (and Mesos's own output) nests it: `"offers": {"offers": [...]}`.
const OFFERS_OFFER: &str = r#"{
      "allocation_info": { "role": "engineering" },
      "id"             : {"value": "12214-23523-O235235"},
      "framework_id"   : {"value": "12124-235325-32425"},
      "agent_id"       : {"value": "12325-23523-S23523"},
      "hostname"       : "agent.host",
      "resources"      : [
                          {
                           "allocation_info": { "role": "engineering" },
                           "name"   : "cpus",
                           "type"   : "SCALAR",
                           "scalar" : {"value" : 2},
                           "role"   : "*"
                          }
                         ],
      "attributes"     : [
                          {
                           "name"   : "os",
                           "type"   : "TEXT",
                           "text"   : {"value" : "ubuntu16.04"}
                          }
                         ],
      "executor_ids"   : [
                          {"value" : "12214-23523-my-executor"}
                         ]
    }"#;

#[test]
fn offers_event() {
    let text = format!(r#"{{"type": "OFFERS", "offers": {{"offers": [{OFFERS_OFFER}]}}}}"#);
    let event: scheduler::Event = decode_golden(&text);
    assert_eq!(event.r#type, Some(scheduler::event::Type::Offers as i32));
    let offer = &event.offers.as_ref().unwrap().offers[0];
    assert_eq!(offer.id.value, "12214-23523-O235235");
    assert_eq!(offer.framework_id.value, "12124-235325-32425");
    assert_eq!(offer.agent_id.value, "12325-23523-S23523");
    assert_eq!(offer.hostname, "agent.host");
    assert_eq!(
        offer.allocation_info.as_ref().unwrap().role.as_deref(),
        Some("engineering")
    );
    let cpus = &offer.resources[0];
    assert_eq!(cpus.name, "cpus");
    assert_eq!(cpus.r#type, v1::value::Type::Scalar as i32);
    assert_eq!(cpus.scalar.as_ref().unwrap().value, 2.0);
    let os = &offer.attributes[0];
    assert_eq!(os.text.as_ref().unwrap().value, "ubuntu16.04");
    assert_eq!(offer.executor_ids[0].value, "12214-23523-my-executor");
    assert_reencodes_to(&event, parse(&text));

    // The doc's literal shape is not what the schema says: a typed error, not a panic.
    let literal = format!(r#"{{"type": "OFFERS", "offers": [{OFFERS_OFFER}]}}"#);
    let error = Encoding::Json
        .decode_strict::<scheduler::Event>(literal.as_bytes())
        .unwrap_err();
    assert!(matches!(error, DecodeError::Json { .. }), "{error}");
}

#[test]
fn update_event_with_base64_uuid() {
    // The doc's status also has a `"bytes"` key, which is no TaskStatus field (the
    // payload field is `data`): Mesos ignores it, and so does the decoder.
    let text = r#"{
  "type"	: "UPDATE",
  "update"	: {
    "status"	: {
        "task_id"	: { "value" : "12344-my-task"},
        "state"		: "TASK_RUNNING",
        "source"	: "SOURCE_EXECUTOR",
        "uuid"		: "adfadfadbhgvjayd23r2uahj",
        "bytes"		: "uhdjfhuagdj63d7hadkf"
      }
  }
}"#;
    let event: scheduler::Event = decode_golden(text);
    let status = &event.update.as_ref().unwrap().status;
    assert_eq!(status.task_id.value, "12344-my-task");
    assert_eq!(status.state, v1::TaskState::TaskRunning as i32);
    assert_eq!(
        status.source,
        Some(v1::task_status::Source::Executor as i32)
    );
    use base64::Engine;
    let uuid = base64::engine::general_purpose::STANDARD
        .decode("adfadfadbhgvjayd23r2uahj")
        .unwrap();
    assert_eq!(status.uuid.as_deref(), Some(&uuid[..]));
    assert_eq!(status.data, None);
    let mut expected = parse(text);
    expected["update"]["status"]
        .as_object_mut()
        .unwrap()
        .remove("bytes");
    assert_reencodes_to(&event, expected);
}

#[test]
fn heartbeat_event() {
    let text = r#"{"type": "HEARTBEAT"}"#;
    let event: scheduler::Event = decode_golden(text);
    assert_eq!(event.r#type, Some(scheduler::event::Type::Heartbeat as i32));
    assert_eq!(
        event,
        scheduler::Event {
            r#type: Some(scheduler::event::Type::Heartbeat as i32),
            ..Default::default()
        }
    );
    assert_reencodes_to(&event, parse(text));
}

/// The doc's ACCEPT example, except `limits`: the doc writes the map values as bare
/// numbers/strings (`"cpus": "Infinity"`), but they are `Value.Scalar` messages, so the
/// schema's form is `{"value": ...}`. Doubles accept `"Infinity"`, as in Mesos.
const ACCEPT: &str = r#"{
  "framework_id": {"value": "12220-3440-12532-2345"},
  "type": "ACCEPT",
  "accept": {
    "offer_ids": [
      {"value": "12220-3440-12532-O12"}
    ],
    "operations": [
      {
        "type": "LAUNCH",
        "launch": {
          "task_infos": [
            {
              "name": "My Task",
              "task_id": {"value": "12220-3440-12532-my-task"},
              "agent_id": {"value": "12220-3440-12532-S1233"},
              "executor": {
                "command": {
                  "shell": true,
                  "value": "sleep 1000"
                },
                "executor_id": {"value": "12214-23523-my-executor"}
              },
              "resources": [
                {
                  "allocation_info": {"role": "engineering"},
                  "name": "cpus",
                  "role": "*",
                  "type": "SCALAR",
                  "scalar": {"value": 1.0}
                }, {
                  "allocation_info": {"role": "engineering"},
                  "name": "mem",
                  "role": "*",
                  "type": "SCALAR",
                  "scalar": {"value": 128.0}
                }
              ],
              "limits": {
                "cpus": {"value": "Infinity"},
                "mem": {"value": 512.0}
              }
            }
          ]
        }
      }
    ],
    "filters": {"refuse_seconds": 5.0}
  }
}"#;

#[test]
fn accept_call_with_launch() {
    let call: scheduler::Call = decode_golden(ACCEPT);
    assert_eq!(call.r#type, Some(scheduler::call::Type::Accept as i32));
    assert_eq!(
        call.framework_id.as_ref().unwrap().value,
        "12220-3440-12532-2345"
    );
    let accept = call.accept.as_ref().unwrap();
    assert_eq!(accept.offer_ids[0].value, "12220-3440-12532-O12");
    assert_eq!(accept.filters.as_ref().unwrap().refuse_seconds, Some(5.0));
    let operation = &accept.operations[0];
    assert_eq!(
        operation.r#type,
        Some(v1::offer::operation::Type::Launch as i32)
    );
    let task = &operation.launch.as_ref().unwrap().task_infos[0];
    assert_eq!(task.name, "My Task");
    assert_eq!(task.task_id.value, "12220-3440-12532-my-task");
    assert_eq!(task.agent_id.value, "12220-3440-12532-S1233");
    let executor = task.executor.as_ref().unwrap();
    assert_eq!(executor.executor_id.value, "12214-23523-my-executor");
    let command = executor.command.as_ref().unwrap();
    assert_eq!(
        (command.shell, command.value.as_deref()),
        (Some(true), Some("sleep 1000"))
    );
    let mem = &task.resources[1];
    assert_eq!(
        (mem.name.as_str(), mem.scalar.as_ref().unwrap().value),
        ("mem", 128.0)
    );
    assert_eq!(task.limits["cpus"].value, f64::INFINITY);
    assert_eq!(task.limits["mem"].value, 512.0);
    assert_reencodes_to(&call, parse(ACCEPT));

    // The doc's literal `"cpus": "Infinity"` map value does not fit `Value.Scalar`.
    let literal = ACCEPT
        .replace(r#""cpus": {"value": "Infinity"}"#, r#""cpus": "Infinity""#)
        .replace(r#""mem": {"value": 512.0}"#, r#""mem": 512.0"#);
    assert!(matches!(
        Encoding::Json.decode_strict::<scheduler::Call>(literal.as_bytes()),
        Err(DecodeError::Json { .. })
    ));
}

#[test]
fn acknowledge_call() {
    // The doc's uuid "jhadf73jhakdlfha723adf" is 22 characters: not valid padded
    // base64 (nor canonical unpadded). Here it is made a canonical 16-byte value,
    // "...adw==", as Mesos writes a raw UUID.
    let text = r#"{
  "framework_id"	: {"value" : "12220-3440-12532-2345"},
  "type"			: "ACKNOWLEDGE",
  "acknowledge"		: {
    "agent_id"	:  {"value" : "12220-3440-12532-S1233"},
    "task_id"	:  {"value" : "12220-3440-12532-my-task"},
    "uuid"		:  "jhadf73jhakdlfha723adw=="
  }
}"#;
    let call: scheduler::Call = decode_golden(text);
    assert_eq!(call.r#type, Some(scheduler::call::Type::Acknowledge as i32));
    let ack = call.acknowledge.as_ref().unwrap();
    assert_eq!(ack.agent_id.value, "12220-3440-12532-S1233");
    assert_eq!(ack.task_id.value, "12220-3440-12532-my-task");
    assert_eq!(ack.uuid.len(), 16);
    assert_reencodes_to(&call, parse(text));
}

const EXECUTOR_UUID: &str = "ZDQwZjNmM2UtYmJlMy00NGFmLWEyMzAtNGNiMWVhZTcyZjY3Cg==";

#[test]
fn executor_subscribe_call() {
    // The doc puts a `framework_id` inside each unacknowledged update, but
    // `Call.Update` has only `status`: ignored on input, absent on output.
    let text = format!(
        r#"{{
  "type": "SUBSCRIBE",
  "executor_id": {{"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"}},
  "framework_id": {{"value": "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"}},
  "subscribe": {{
    "unacknowledged_tasks": [
      {{
        "name": "dummy-task",
        "task_id": {{"value": "d40f3f3e-bbe3-44af-a230-4cb1eae72f67"}},
        "agent_id": {{"value": "f1c9cdc5-195e-41a7-a0d7-adaa9af07f81"}},
        "command": {{"value": "ls", "arguments": ["-l", "\/tmp"]}}
      }}
    ],
    "unacknowledged_updates": [
      {{
        "framework_id": {{"value": "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"}},
        "status": {{
          "source": "SOURCE_EXECUTOR",
          "task_id": {{"value": "d40f3f3e-bbe3-44af-a230-4cb1eae72f67"}},
          "state": "TASK_RUNNING",
          "uuid": "{EXECUTOR_UUID}"
        }}
      }}
    ]
  }}
}}"#
    );
    let call: executor::Call = decode_golden(&text);
    assert_eq!(call.r#type, Some(executor::call::Type::Subscribe as i32));
    assert_eq!(
        call.executor_id.value,
        "387aa966-8fc5-4428-a794-5a868a60d3eb"
    );
    assert_eq!(
        call.framework_id.value,
        "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"
    );
    let subscribe = call.subscribe.as_ref().unwrap();
    let task = &subscribe.unacknowledged_tasks[0];
    assert_eq!(task.command.as_ref().unwrap().arguments, ["-l", "/tmp"]);
    let status = &subscribe.unacknowledged_updates[0].status;
    assert_eq!(status.state, v1::TaskState::TaskRunning as i32);
    assert_eq!(
        status.uuid.as_deref(),
        Some(&b"d40f3f3e-bbe3-44af-a230-4cb1eae72f67\n"[..])
    );
    let mut expected = parse(&text);
    expected["subscribe"]["unacknowledged_updates"][0]
        .as_object_mut()
        .unwrap()
        .remove("framework_id");
    assert_reencodes_to(&call, expected);
}

#[test]
fn executor_update_call() {
    let text = format!(
        r#"{{
  "executor_id": {{"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"}},
  "framework_id": {{"value": "9aaa9d0d-e00d-444f-bfbd-23dd197939a0-0000"}},
  "type": "UPDATE",
  "update": {{
    "status": {{
      "executor_id": {{"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"}},
      "source": "SOURCE_EXECUTOR",
      "state": "TASK_RUNNING",
      "task_id": {{"value": "66724cec-2609-4fa0-8d93-c5fb2099d0f8"}},
      "uuid": "{EXECUTOR_UUID}"
    }}
  }}
}}"#
    );
    let call: executor::Call = decode_golden(&text);
    assert_eq!(call.r#type, Some(executor::call::Type::Update as i32));
    let status = &call.update.as_ref().unwrap().status;
    assert_eq!(status.task_id.value, "66724cec-2609-4fa0-8d93-c5fb2099d0f8");
    assert_eq!(
        status.executor_id.as_ref().unwrap().value,
        "387aa966-8fc5-4428-a794-5a868a60d3eb"
    );
    assert_reencodes_to(&call, parse(&text));
}

#[test]
fn executor_launch_event() {
    let text = r#"{
  "type": "LAUNCH",
  "launch": {
    "framework_info": {
      "id": {"value": "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"},
      "user": "foo",
      "name": "my_framework"
    },
    "task": {
      "name": "dummy-task",
      "task_id": {"value": "d40f3f3e-bbe3-44af-a230-4cb1eae72f67"},
      "agent_id": {"value": "f1c9cdc5-195e-41a7-a0d7-adaa9af07f81"},
      "command": {"value": "sleep", "arguments": ["100"]}
    }
  }
}"#;
    let event: executor::Event = decode_golden(text);
    assert_eq!(event.r#type, Some(executor::event::Type::Launch as i32));
    let launch = event.launch.as_ref().unwrap();
    assert_eq!(launch.task.name, "dummy-task");
    let command = launch.task.command.as_ref().unwrap();
    assert_eq!(command.value.as_deref(), Some("sleep"));
    assert_eq!(command.arguments, ["100"]);
    // The doc's LAUNCH also carries `framework_info`, but `Event.Launch` has only
    // `task` (the executor learns its framework from SUBSCRIBED): ignored.
    let mut expected = parse(text);
    expected["launch"]
        .as_object_mut()
        .unwrap()
        .remove("framework_info");
    assert_reencodes_to(&event, expected);
}

// --- Encoding rules -------------------------------------------------------------

#[test]
fn numbers_given_as_strings_are_accepted() {
    let status: v1::TaskStatus = Encoding::Json
        .decode_strict(
            br#"{"task_id": {"value": "t"}, "state": "TASK_RUNNING", "timestamp": "1700000000.5"}"#,
        )
        .unwrap();
    assert_eq!(status.timestamp, Some(1_700_000_000.5));
    let range: v1::value::Range =
        json::from_slice(br#"{"begin": "31000", "end": "32000"}"#).unwrap();
    assert_eq!((range.begin, range.end), (31000, 32000));
}

#[test]
fn unknown_fields_are_ignored() {
    let id: v1::TaskId = Encoding::Json
        .decode_strict(br#"{"value": "t", "added_in_mesos_9": {"x": [1]}}"#)
        .unwrap();
    assert_eq!(id.value, "t");
}

#[test]
fn unknown_enum_value_in_an_optional_field_is_dropped() {
    let status: v1::TaskStatus = Encoding::Json
        .decode_strict(br#"{"task_id": {"value": "t"}, "state": "TASK_RUNNING", "reason": "REASON_FROM_THE_FUTURE"}"#)
        .unwrap();
    assert_eq!(status.reason, None);
    assert_eq!(status.state, v1::TaskState::TaskRunning as i32);
}

#[test]
fn bytes_are_standard_base64() {
    let status = v1::TaskStatus {
        task_id: v1::TaskId { value: "t".into() },
        state: v1::TaskState::TaskRunning as i32,
        // Bytes whose base64 uses '+' and '/', which URL-safe base64 would not.
        data: Some(vec![0xfb, 0xff, 0xfe].into()),
        ..Default::default()
    };
    let value = json::to_value(&status);
    assert_eq!(value["data"], "+//+");
    let back: v1::TaskStatus = json::from_value(value).unwrap();
    assert_eq!(back, status);
}

#[test]
fn sixty_four_bit_integers_are_json_numbers() {
    let range = v1::value::Range {
        begin: 1,
        end: u64::MAX - 1,
    };
    let text = String::from_utf8(json::to_vec(&range)).unwrap();
    assert_eq!(text, format!(r#"{{"begin":1,"end":{}}}"#, u64::MAX - 1));
    let back: v1::value::Range = json::from_slice(text.as_bytes()).unwrap();
    assert_eq!(back, range);
}

#[test]
fn ids_are_objects_and_a_bare_string_id_is_rejected() {
    let id = v1::FrameworkId { value: "f".into() };
    assert_eq!(json::to_value(&id), json!({"value": "f"}));
    let error = Encoding::Json
        .decode_strict::<scheduler::Call>(br#"{"type": "TEARDOWN", "framework_id": "f"}"#)
        .unwrap_err();
    match &error {
        DecodeError::Json { message, .. } => assert_eq!(message, "mesos.v1.scheduler.Call"),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn missing_required_field_is_reported_with_its_path() {
    let error = Encoding::Json
        .decode_strict::<scheduler::Call>(
            br#"{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "no user"}}}"#,
        )
        .unwrap_err();
    match &error {
        DecodeError::MissingRequired { message, field } => {
            assert_eq!(message, "mesos.v1.scheduler.Call");
            assert_eq!(field, "subscribe.framework_info.user");
        }
        other => panic!("expected MissingRequired, got {other:?}"),
    }
    assert!(error.to_string().contains("subscribe.framework_info.user"));
    // Also through protobuf: type ACKNOWLEDGE (field 2 = 8) with an empty
    // `acknowledge` (field 8, length 0).
    let bare = [0x10, 0x08, 0x42, 0x00];
    let error = Encoding::Protobuf
        .decode_strict::<scheduler::Call>(&bare)
        .unwrap_err();
    assert!(
        matches!(&error, DecodeError::MissingRequired { field, .. } if field == "acknowledge.agent_id"),
        "{error}"
    );
}
