//! The operator client against scripted masters: typed answers in both encodings,
//! leader following on 307, refusals with their status, bounded answers, and the
//! event stream's heartbeat watchdog and resubscription.

mod support;

use std::time::Duration;

use futures::StreamExt;
use mesos_sdk::backoff::BackoffConfig;
use mesos_sdk::codec::Encoding;
use mesos_sdk::operator::{OperatorClient, OperatorError};
use mesos_sdk::v1::master::{Call, Event, Response, call, event, response};
use support::{Reply, ScriptedServer, WAIT};

fn health(encoding: Encoding) -> Reply {
    let answer = Response {
        r#type: Some(response::Type::GetHealth as i32),
        get_health: Some(response::GetHealth { healthy: true }),
        ..Default::default()
    };
    Reply::Status {
        status: 200,
        headers: vec![("Content-Type".into(), encoding.content_type().into())],
        body: encoding.encode(&answer),
    }
}

fn subscribed(heartbeat: f64) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            get_state: Some(response::GetState::default()),
            heartbeat_interval_seconds: Some(heartbeat),
        }),
        ..Default::default()
    }
}

/// Polls the client's event stream in its own task (it subscribes only when polled).
fn follow(
    op: &OperatorClient,
) -> tokio::sync::mpsc::UnboundedReceiver<Result<Event, OperatorError>> {
    let mut events = op.events();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(e) = events.next().await {
            if tx.send(e).is_err() {
                return;
            }
        }
    });
    rx
}

async fn next(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Result<Event, OperatorError>>,
) -> Event {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("an event in time")
        .expect("stream open")
        .expect("an event, not an error")
}

fn client(url: &str, encoding: Encoding) -> OperatorClient {
    OperatorClient::builder(url)
        .encoding(encoding)
        .heartbeat_misses(2)
        .backoff(BackoffConfig {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(50),
            multiplier: 2.0,
            jitter: 0.0,
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn typed_answers_decode_in_both_encodings() {
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let mut master = ScriptedServer::start(move |_| health(encoding)).await;
        let op = client(&master.url(), encoding);
        assert!(op.get_health().await.unwrap());
        let request = master.next_request().await;
        assert_eq!(request.path, "/api/v1");
        assert_eq!(
            request.header("accept").as_deref(),
            Some(encoding.content_type())
        );
        let call: Call = request.decode();
        assert_eq!(call.r#type(), call::Type::GetHealth);
    }
}

#[tokio::test]
async fn calls_follow_a_redirect_and_stay_with_the_leader() {
    let leader = ScriptedServer::start(|_| health(Encoding::Protobuf)).await;
    let location = format!("//{}/api/v1", leader.addr);
    let mut follower = ScriptedServer::start(move |_| Reply::redirect(&location)).await;
    let op = client(&follower.url(), Encoding::Protobuf);
    assert!(op.get_health().await.unwrap());
    assert_eq!(op.leader().unwrap().port(), Some(leader.addr.port()));
    assert!(op.get_health().await.unwrap());
    follower.next_request().await;
    // The second call went to the leader directly.
    let again = tokio::time::timeout(Duration::from_millis(200), follower.next_request());
    assert!(again.await.is_err(), "the follower is asked once");
}

#[tokio::test]
async fn refusals_carry_the_status_and_message() {
    for (status, message) in [(400, "No framework found with specified ID"), (501, "nope")] {
        let master = ScriptedServer::start(move |_| Reply::status(status, message)).await;
        let op = client(&master.url(), Encoding::Json);
        let error = op
            .teardown(mesos_sdk::v1::FrameworkId { value: "f".into() })
            .await
            .unwrap_err();
        let api = error.api().expect("an HTTP answer");
        assert_eq!((api.status, api.message.as_str()), (status, message));
        assert!(!error.is_retryable());
    }
}

#[tokio::test]
async fn answers_of_the_wrong_type_or_too_large_are_errors() {
    let master = ScriptedServer::start(|_| health(Encoding::Json)).await;
    let op = client(&master.url(), Encoding::Json);
    assert!(matches!(
        op.get_state().await,
        Err(OperatorError::UnexpectedResponse {
            expected: "GET_STATE",
            ..
        })
    ));
    let small = OperatorClient::builder(&master.url())
        .encoding(Encoding::Json)
        .max_response_size(8)
        .build()
        .unwrap();
    assert!(matches!(
        small.get_health().await,
        Err(OperatorError::ResponseTooLarge { limit: 8, .. })
    ));
}

#[tokio::test]
async fn a_silent_stream_is_dropped_and_resubscribed() {
    let mut master = ScriptedServer::start(|_| Reply::Stream { headers: vec![] }).await;
    let op = client(&master.url(), Encoding::Protobuf);
    let mut events = follow(&op);
    let first = master.next_stream().await;
    let call: Call = first.request.decode();
    assert_eq!(call.r#type(), call::Type::Subscribe);
    // 20 ms heartbeats announced, then silence: two missed ones end the subscription.
    first.send(Encoding::Protobuf, &subscribed(0.02));
    assert_eq!(next(&mut events).await.r#type(), event::Type::Subscribed);
    let second = master.next_stream().await;
    second.send(Encoding::Protobuf, &subscribed(0.02));
    assert_eq!(next(&mut events).await.r#type(), event::Type::Subscribed);
    drop(first);
}

#[tokio::test]
async fn a_closed_stream_is_resubscribed_and_heartbeats_pass_through() {
    let mut master = ScriptedServer::start(|_| Reply::Stream { headers: vec![] }).await;
    let op = client(&master.url(), Encoding::Json);
    let mut events = follow(&op);
    let first = master.next_stream().await;
    first.send(Encoding::Json, &subscribed(10.0));
    let heartbeat = Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Default::default()
    };
    first.send(Encoding::Json, &heartbeat);
    assert_eq!(next(&mut events).await.r#type(), event::Type::Subscribed);
    assert_eq!(next(&mut events).await.r#type(), event::Type::Heartbeat);
    drop(first);
    let second = master.next_stream().await;
    second.send(Encoding::Json, &subscribed(10.0));
    assert_eq!(next(&mut events).await.r#type(), event::Type::Subscribed);
}

#[tokio::test]
async fn a_hopeless_subscription_ends_the_stream_with_its_error() {
    let master = ScriptedServer::start(|_| Reply::status(401, "unauthenticated")).await;
    let op = client(&master.url(), Encoding::Protobuf);
    let mut events = op.events();
    let error = tokio::time::timeout(WAIT, events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(error.api().unwrap().status, 401);
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn resubscription_gives_up_after_the_configured_attempts() {
    let master = ScriptedServer::start(|_| Reply::status(503, "no leader")).await;
    let op = OperatorClient::builder(&master.url())
        .max_resubscribe_attempts(Some(3))
        .backoff(BackoffConfig {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(5),
            multiplier: 2.0,
            jitter: 0.0,
        })
        .build()
        .unwrap();
    let mut events = op.events();
    let error = tokio::time::timeout(WAIT, events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(
        error,
        OperatorError::ResubscribesExhausted { attempts: 3, .. }
    ));
}
