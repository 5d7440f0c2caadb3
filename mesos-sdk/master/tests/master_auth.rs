//! Authentication over real HTTP: with `--authenticate-frameworks` the scheduler API
//! takes only HTTP Basic credentials from the credentials file (401 otherwise, with
//! Mesos's realm), a framework's principal must be the authenticated one (400), and
//! read-only endpoints can be closed the same way, and the operator API with
//! `--authenticate-http-readwrite` (Mesos's read-write realm; frameworks' flag does not
//! cover it). `/health` is always open.

mod support;

use mesos_master::auth::{AuthConfig, Credentials};
use mesos_master::{LocalCluster, MasterConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1::scheduler::{Call, call};
use support::driver::{Framework, Seen};
use support::scheduler::subscribe_call;
use support::*;

const CREDENTIALS: &str = r#"{"credentials":[{"principal":"alice","secret":"a-secret"},{"principal":"bob","secret":"b-secret"}]}"#;

async fn cluster(frameworks: bool, readonly: bool) -> LocalCluster {
    let mut auth = AuthConfig::frameworks(Credentials::parse(CREDENTIALS).unwrap());
    auth.frameworks = frameworks;
    auth.readonly = readonly;
    let mut config = MasterConfig::default();
    config.auth = auth;
    LocalCluster::builder()
        .agents(1)
        .resources("cpus:1;mem:256")
        .master_config(config)
        .start()
        .await
        .unwrap()
}

/// POSTs `call` as JSON, with Basic credentials when given.
async fn post(
    url: &str,
    call: &Call,
    user: Option<(&str, &str)>,
    stream: Option<&str>,
) -> reqwest::Response {
    let mut request = support::scheduler::client()
        .post(format!("{url}/api/v1/scheduler"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(Encoding::Json.encode(call));
    if let Some((principal, secret)) = user {
        request = request.basic_auth(principal, Some(secret));
    }
    if let Some(stream) = stream {
        request = request.header("Mesos-Stream-Id", stream);
    }
    request.send().await.unwrap()
}

fn challenge(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn frameworks_authenticate_with_basic_credentials_and_their_own_principal() {
    let c = cluster(true, false).await;
    let subscribe = subscribe_call(framework_info("authenticated"));

    // No credentials, unknown principal, wrong secret: 401 with Mesos's realm.
    for user in [None, Some(("mallory", "x")), Some(("alice", "b-secret"))] {
        let refused = post(&c.url(), &subscribe, user, None).await;
        assert_eq!(refused.status(), 401, "{user:?}");
        assert_eq!(
            challenge(&refused),
            r#"Basic realm="mesos-master-scheduler""#
        );
    }

    // A FrameworkInfo naming another principal than the authenticated one: 400.
    let mut info = framework_info("impostor");
    info.principal = Some("bob".into());
    let refused = post(
        &c.url(),
        &subscribe_call(info),
        Some(("alice", "a-secret")),
        None,
    )
    .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.text().await.unwrap(),
        "Failed to validate scheduler::Call: Authenticated principal 'alice' does not match principal 'bob' set in `FrameworkInfo`"
    );

    // The SDK's driver with credentials subscribes; its principal becomes alice's.
    let mut fw = Framework::start_with(
        &c.url(),
        Encoding::Protobuf,
        framework_info("authenticated"),
        |builder| builder.credentials("alice", "a-secret"),
    );
    let subscribed = fw.subscribed().await;
    let _ = fw
        .expect("offers", |s| matches!(s, Seen::Offers(_)).then_some(()))
        .await;

    // Calls for alice's framework authenticated as bob: 400.
    let revive = Call {
        framework_id: Some(subscribed.framework_id.clone()),
        r#type: Some(call::Type::Revive as i32),
        revive: Some(call::Revive::default()),
        ..Default::default()
    };
    let refused = post(&c.url(), &revive, Some(("bob", "b-secret")), Some("any")).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.text().await.unwrap(),
        "Authenticated principal 'bob' does not match principal 'alice' set in `FrameworkInfo`"
    );
    // As alice it passes authentication (and is then checked as any call).
    let wrong_stream = post(&c.url(), &revive, Some(("alice", "a-secret")), Some("any")).await;
    assert_eq!(wrong_stream.status(), 400, "reaches the stream id check");

    // Read-only endpoints stay open unless asked; /health always is.
    let open = reqwest::get(format!("{}/state", c.url())).await.unwrap();
    assert_eq!(open.status(), 200);
    // So does the operator API: it is read-write, not the scheduler API.
    let operator = operator_call(&c.url(), None).await;
    assert_eq!(operator.status(), 200);
    let health = reqwest::get(format!("{}/health", c.url())).await.unwrap();
    assert_eq!(health.status(), 200);
    drop(fw);
    c.shutdown().await;
}

#[tokio::test]
async fn read_only_endpoints_can_require_credentials() {
    let c = cluster(false, true).await;
    for path in ["/state", "/master/state", "/metrics/snapshot"] {
        let refused = reqwest::get(format!("{}{path}", c.url())).await.unwrap();
        assert_eq!(refused.status(), 401, "{path}");
        assert_eq!(
            challenge(&refused),
            r#"Basic realm="mesos-master-readonly""#
        );
        let served = reqwest::Client::new()
            .get(format!("{}{path}", c.url()))
            .basic_auth("bob", Some("b-secret"))
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200, "{path}");
    }
    let health = reqwest::get(format!("{}/health", c.url())).await.unwrap();
    assert_eq!(health.status(), 200);
    // Frameworks were not asked to authenticate: the scheduler API is open.
    let open = post(
        &c.url(),
        &subscribe_call(framework_info("open")),
        None,
        None,
    )
    .await;
    assert_eq!(open.status(), 200);
    c.shutdown().await;
}

/// POSTs `{"type":"GET_HEALTH"}` to the operator API, with Basic credentials when given.
async fn operator_call(url: &str, user: Option<(&str, &str)>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/api/v1"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(r#"{"type":"GET_HEALTH"}"#);
    if let Some((principal, secret)) = user {
        request = request.basic_auth(principal, Some(secret));
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn read_write_endpoints_can_require_credentials() {
    let mut auth = AuthConfig::default();
    auth.readwrite = true;
    auth.credentials = Credentials::parse(CREDENTIALS).unwrap();
    let mut config = MasterConfig::default();
    config.auth = auth;
    let c = LocalCluster::builder()
        .agents(1)
        .resources("cpus:1;mem:256")
        .master_config(config)
        .start()
        .await
        .unwrap();
    for user in [
        None,
        Some(("alice", "wrong")),
        Some(("mallory", "a-secret")),
    ] {
        let refused = operator_call(&c.url(), user).await;
        assert_eq!(refused.status(), 401, "{user:?}");
        assert_eq!(
            challenge(&refused),
            r#"Basic realm="mesos-master-readwrite""#
        );
    }
    let served = operator_call(&c.url(), Some(("alice", "a-secret"))).await;
    assert_eq!(served.status(), 200);
    // Read-only endpoints and the scheduler API were not asked to authenticate; /flags
    // tells which protections are on.
    let flags = reqwest::get(format!("{}/flags", c.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let flags: serde_json::Value = serde_json::from_str(&flags).unwrap();
    assert_eq!(flags["flags"]["authenticate_http_readwrite"], "true");
    assert_eq!(flags["flags"]["authenticate_http_readonly"], "false");
    assert_eq!(flags["flags"]["authenticate_frameworks"], "false");
    assert_eq!(flags["flags"]["authenticate_agents"], "false");
    let open = post(
        &c.url(),
        &subscribe_call(framework_info("open")),
        None,
        None,
    )
    .await;
    assert_eq!(open.status(), 200);
    c.shutdown().await;
}
