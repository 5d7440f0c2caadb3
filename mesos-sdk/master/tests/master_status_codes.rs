//! The scheduler endpoint's status-code table, one test per row, over real HTTP.

mod support;

use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Call, call};
use support::scheduler::*;
use support::*;

async fn cluster() -> LocalCluster {
    LocalCluster::builder()
        .agents(1)
        .start()
        .await
        .expect("cluster starts")
}

async fn raw(
    url: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    stream: Option<&str>,
    body: Vec<u8>,
) -> (u16, String) {
    let mut request = client().post(format!("{url}/api/v1/scheduler")).body(body);
    if let Some(ct) = content_type {
        request = request.header("Content-Type", ct);
    }
    if let Some(a) = accept {
        request = request.header("Accept", a);
    }
    if let Some(s) = stream {
        request = request.header("Mesos-Stream-Id", s);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    // Error answers have a readable body; streams are not read here.
    let text = if status == 200 {
        String::new()
    } else {
        response.text().await.unwrap()
    };
    (status, text)
}

fn subscribe_bytes(encoding: Encoding) -> Vec<u8> {
    encoding.encode(&subscribe_call(framework_info("codes")))
}

#[tokio::test]
async fn get_is_405_with_allow_post() {
    let c = cluster().await;
    let response = client()
        .get(format!("{}/api/v1/scheduler", c.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["Allow"], "POST");
    c.shutdown().await;
}

#[tokio::test]
async fn missing_content_type_is_400() {
    let c = cluster().await;
    let (status, body) = raw(&c.url(), None, None, None, subscribe_bytes(Encoding::Json)).await;
    assert_eq!(status, 400);
    assert!(body.contains("Content-Type"), "{body}");
    c.shutdown().await;
}

#[tokio::test]
async fn unsupported_content_type_is_415() {
    let c = cluster().await;
    let (status, body) = raw(&c.url(), Some("text/plain"), None, None, b"hi".to_vec()).await;
    assert_eq!(status, 415);
    assert!(body.contains("application/json"), "{body}");
    c.shutdown().await;
}

#[tokio::test]
async fn malformed_body_is_400_in_both_encodings() {
    let c = cluster().await;
    let (status, _) = raw(
        &c.url(),
        Some("application/json"),
        None,
        None,
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = raw(
        &c.url(),
        Some("application/x-protobuf"),
        None,
        None,
        vec![0xff, 0xff, 0xff],
    )
    .await;
    assert_eq!(status, 400);
    // A SUBSCRIBE without the required FrameworkInfo.user is rejected, as Mesos does.
    let (status, body) = raw(
        &c.url(),
        Some("application/json"),
        None,
        None,
        br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"x"}}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    c.shutdown().await;
}

#[tokio::test]
async fn unacceptable_accept_is_406() {
    let c = cluster().await;
    let (status, body) = raw(
        &c.url(),
        Some("application/json"),
        Some("text/html"),
        None,
        subscribe_bytes(Encoding::Json),
    )
    .await;
    assert_eq!(status, 406, "{body}");
    c.shutdown().await;
}

#[tokio::test]
async fn subscribe_with_stream_id_is_400() {
    let c = cluster().await;
    let (status, body) = raw(
        &c.url(),
        Some("application/json"),
        None,
        Some("abc"),
        subscribe_bytes(Encoding::Json),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("Mesos-Stream-Id"), "{body}");
    c.shutdown().await;
}

#[tokio::test]
async fn framework_id_differing_from_framework_info_id_is_400() {
    let c = cluster().await;
    let mut call = subscribe_call(framework_info("codes"));
    call.framework_id = Some(v1::FrameworkId {
        value: "other".into(),
    });
    let response = post(&c.url(), Encoding::Json, None, &call).await;
    assert_eq!(response.status(), 400);
    c.shutdown().await;
}

#[tokio::test]
async fn unknown_framework_is_400() {
    let c = cluster().await;
    let call = Call {
        framework_id: Some(v1::FrameworkId {
            value: "nope".into(),
        }),
        r#type: Some(call::Type::Revive as i32),
        ..Default::default()
    };
    let response = post(&c.url(), Encoding::Protobuf, Some("x"), &call).await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Framework cannot be found")
    );
    c.shutdown().await;
}

#[tokio::test]
async fn missing_framework_id_is_400() {
    let c = cluster().await;
    let call = Call {
        r#type: Some(call::Type::Revive as i32),
        ..Default::default()
    };
    let response = post(&c.url(), Encoding::Json, None, &call).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("framework_id"));
    c.shutdown().await;
}

#[tokio::test]
async fn missing_stream_id_is_400() {
    let c = cluster().await;
    let s = subscribe(&c.url(), Encoding::Json, framework_info("codes")).await;
    let response = post(&c.url(), Encoding::Json, None, &s.call(call::Type::Revive)).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("Mesos-Stream-Id"));
    c.shutdown().await;
}

#[tokio::test]
async fn wrong_stream_id_is_400() {
    let c = cluster().await;
    let s = subscribe(&c.url(), Encoding::Protobuf, framework_info("codes")).await;
    let response = post(
        &c.url(),
        Encoding::Protobuf,
        Some("not-the-stream"),
        &s.call(call::Type::Revive),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("didn't match"));
    c.shutdown().await;
}

#[tokio::test]
async fn disconnected_framework_is_403() {
    let c = cluster().await;
    let mut info = framework_info("codes");
    info.failover_timeout = Some(3600.0);
    let s = subscribe(&c.url(), Encoding::Json, info).await;
    let (url, stream_id, revive) = (
        s.url.clone(),
        s.stream_id.clone(),
        s.call(call::Type::Revive),
    );
    let fw = s.framework_id.value.clone();
    drop(s);
    // The master notices the closed connection on its own; poll until it has.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let response = post(&url, Encoding::Json, Some(&stream_id), &revive).await;
        if response.status() == 403 {
            assert!(response.text().await.unwrap().contains("not subscribed"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "framework {fw} still connected"
        );
        tokio::task::yield_now().await;
    }
    c.shutdown().await;
}

#[tokio::test]
async fn unknown_call_type_is_501() {
    let c = cluster().await;
    let s = subscribe(&c.url(), Encoding::Protobuf, framework_info("codes")).await;
    let mut unknown = s.call(call::Type::Revive);
    unknown.r#type = Some(call::Type::Unknown as i32);
    s.send_ok(&unknown, 501).await;
    c.shutdown().await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let c = cluster().await;
    let (status, _) = raw(
        &c.url(),
        Some("application/json"),
        None,
        None,
        vec![b' '; 17 * 1024 * 1024],
    )
    .await;
    assert_eq!(status, 413);
    c.shutdown().await;
}

#[tokio::test]
async fn accepted_calls_are_202_and_update_framework_200() {
    let c = cluster().await;
    let s = subscribe(&c.url(), Encoding::Json, framework_info("codes")).await;
    s.send_ok(&s.call(call::Type::Revive), 202).await;
    let mut update = s.call(call::Type::UpdateFramework);
    let mut info = framework_info("codes-renamed");
    info.id = Some(s.framework_id.clone());
    update.update_framework = Some(call::UpdateFramework {
        framework_info: info,
        ..Default::default()
    });
    s.send_ok(&update, 200).await;
    assert_eq!(
        c.state().framework(&s.framework_id.value).unwrap().name,
        "codes-renamed"
    );
    c.shutdown().await;
}
