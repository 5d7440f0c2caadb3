//! Role ACLs (`--acls`, Mesos's `register_frameworks`) over real HTTP: a SUBSCRIBE
//! whose roles are not all allowed for its principal gets, as in Mesos, a `200` stream
//! with one ERROR event `Not authorized to register framework <id> with roles { … }`
//! that then closes; allowed ones are SUBSCRIBED. The first matching rule decides each
//! role, `permissive` the roles no rule matches. With `--authenticate-frameworks` the
//! subject is the authenticated principal. A malformed ACL file stops `mesos-master`
//! at start.

mod support;

use mesos_master::auth::{Acls, AuthConfig, Credentials};
use mesos_master::{LocalCluster, MasterConfig};
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::RecordIoDecoder;
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Event, call, event};
use mesos_testkit::{ChildProcess, Scratch};
use support::scheduler::*;
use support::*;

async fn cluster(acls: &str, credentials: Option<&str>) -> LocalCluster {
    let mut auth = AuthConfig::default();
    auth.acls = Acls::parse(acls).unwrap();
    if let Some(credentials) = credentials {
        auth.frameworks = true;
        auth.credentials = Credentials::parse(credentials).unwrap();
    }
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

/// A framework of `principal` (if any) with `roles`: one role the old way, several as
/// a MULTI_ROLE framework.
#[allow(deprecated)] // `role`: how a framework that is not MULTI_ROLE names its role.
fn info(principal: Option<&str>, roles: &[&str]) -> v1::FrameworkInfo {
    let mut info = framework_info("acl");
    info.principal = principal.map(str::to_owned);
    match roles {
        [role] => info.role = Some((*role).to_owned()),
        roles => {
            info.roles = roles.iter().map(|r| (*r).to_owned()).collect();
            info.capabilities = vec![v1::framework_info::Capability {
                r#type: Some(v1::framework_info::capability::Type::MultiRole as i32),
            }];
        }
    }
    info
}

/// SUBSCRIBEs (with Basic credentials when given): `Ok` with the open stream when
/// SUBSCRIBED, `Err` with the message of the ERROR event otherwise (the master then
/// closes the stream).
async fn subscribe_as(
    url: &str,
    info: v1::FrameworkInfo,
    user: Option<(&str, &str)>,
) -> Result<reqwest::Response, String> {
    let mut request = client()
        .post(format!("{url}/api/v1/scheduler"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(Encoding::Json.encode(&subscribe_call(info)));
    if let Some((principal, secret)) = user {
        request = request.basic_auth(principal, Some(secret));
    }
    let mut response = request.send().await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "a refusal is an event on a 200 stream"
    );
    let mut decoder = RecordIoDecoder::new(1 << 20);
    loop {
        if let Some(record) = decoder.decode_next().expect("RecordIO") {
            let event: Event = Encoding::Json.decode(&record).expect("event");
            return match event.r#type {
                Some(t) if t == event::Type::Subscribed as i32 => Ok(response),
                Some(t) if t == event::Type::Error as i32 => {
                    let message = event.error.unwrap().message;
                    // The stream ends after the ERROR event.
                    let rest = tokio::time::timeout(WAIT, response.chunk())
                        .await
                        .expect("the master closes the stream")
                        .expect("body");
                    assert_eq!(rest, None, "nothing follows the ERROR event");
                    Err(message)
                }
                other => panic!("unexpected first event {other:?}"),
            };
        }
        let chunk = tokio::time::timeout(WAIT, response.chunk())
            .await
            .expect("an event in time")
            .expect("body")
            .expect("the stream stays open until an event");
        decoder.feed(&chunk);
    }
}

const RULES: &str = r#"[
    {"principals": {"values": ["alice"]}, "roles": {"values": ["dev", "test"]}},
    {"principals": {"type": "ANY"}, "roles": {"values": ["public"]}},
    {"principals": {"values": ["carol"]}, "roles": {"type": "NONE"}}
]"#;

#[tokio::test]
async fn roles_are_allowed_per_principal_and_refused_with_an_error_event() {
    let c = cluster(
        &format!(r#"{{"permissive": false, "register_frameworks": {RULES}}}"#),
        None,
    )
    .await;
    let url = c.url();
    let mut streams = Vec::new();
    for (principal, roles) in [
        (Some("alice"), &["dev"][..]),
        (Some("alice"), &["dev", "test"][..]),
        (Some("bob"), &["public"][..]),
        (None, &["public"][..]),
    ] {
        let stream = subscribe_as(&url, info(principal, roles), None).await;
        streams.push(stream.unwrap_or_else(|e| panic!("{principal:?} {roles:?}: {e}")));
    }
    for (principal, roles, message) in [
        // Every role must be allowed: prod is not alice's.
        (
            Some("alice"),
            &["prod", "dev"][..],
            "Not authorized to register framework  with roles { dev, prod }",
        ),
        // No rule matches bob with dev: not permissive.
        (
            Some("bob"),
            &["dev"][..],
            "Not authorized to register framework  with roles { dev }",
        ),
        // A framework without principal is refused what only alice may use.
        (
            None,
            &["test"][..],
            "Not authorized to register framework  with roles { test }",
        ),
        // carol matches the public rule first (ANY principal): allowed there, but her
        // own NONE rule refuses every other role.
        (
            Some("carol"),
            &["public", "dev"][..],
            "Not authorized to register framework  with roles { dev, public }",
        ),
    ] {
        assert_eq!(
            subscribe_as(&url, info(principal, roles), None)
                .await
                .map(drop),
            Err(message.to_owned()),
            "{principal:?} {roles:?}"
        );
    }
    // The refused frameworks were never registered.
    assert_eq!(c.state().frameworks.len(), 4);
    drop(streams);
    c.shutdown().await;
}

#[tokio::test]
async fn update_framework_to_a_refused_role_is_403() {
    let c = cluster(
        &format!(r#"{{"permissive": false, "register_frameworks": {RULES}}}"#),
        None,
    )
    .await;
    let first = info(Some("alice"), &["dev", "public"]);
    let response = post(
        &c.url(),
        Encoding::Json,
        None,
        &subscribe_call(first.clone()),
    )
    .await;
    let s = stream(&c.url(), Encoding::Json, response).await;
    let update = |roles: &[&str]| {
        let mut info = first.clone();
        info.id = Some(s.framework_id.clone());
        info.roles = roles.iter().map(|r| (*r).to_owned()).collect();
        let mut call = s.call(call::Type::UpdateFramework);
        call.update_framework = Some(call::UpdateFramework {
            framework_info: info,
            ..Default::default()
        });
        call
    };
    // As Mesos's `Master::updateFramework`: 403 with the authorization message, and
    // the framework keeps its roles.
    let refused = s.send(&update(&["dev", "prod"])).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.text().await.unwrap(),
        format!(
            "Not authorized to register framework {} with roles {{ dev, prod }}",
            s.framework_id.value
        )
    );
    let roles = |c: &LocalCluster| {
        c.state()
            .framework(&s.framework_id.value)
            .unwrap()
            .roles
            .clone()
    };
    assert_eq!(roles(&c), ["dev", "public"]);
    s.send_ok(&update(&["test"]), 200).await;
    assert_eq!(roles(&c), ["test"]);
    c.shutdown().await;
}

#[tokio::test]
async fn permissive_acls_allow_what_no_rule_matches() {
    let c = cluster(&format!(r#"{{"register_frameworks": {RULES}}}"#), None).await;
    let url = c.url();
    assert_eq!(
        subscribe_as(&url, info(Some("bob"), &["dev"]), None)
            .await
            .map(drop),
        Ok(())
    );
    assert_eq!(
        subscribe_as(&url, info(None, &["anything"]), None)
            .await
            .map(drop),
        Ok(())
    );
    assert_eq!(
        subscribe_as(&url, info(Some("carol"), &["dev"]), None)
            .await
            .map(drop),
        Err("Not authorized to register framework  with roles { dev }".to_owned())
    );
    c.shutdown().await;
}

#[tokio::test]
async fn the_authenticated_principal_is_the_subject() {
    let credentials =
        r#"{"credentials":[{"principal":"alice","secret":"a"},{"principal":"bob","secret":"b"}]}"#;
    let c = cluster(
        &format!(r#"{{"permissive": false, "register_frameworks": {RULES}}}"#),
        Some(credentials),
    )
    .await;
    let url = c.url();
    // No principal in FrameworkInfo: it becomes the authenticated one.
    assert_eq!(
        subscribe_as(&url, info(None, &["dev"]), Some(("alice", "a")))
            .await
            .map(drop),
        Ok(())
    );
    assert_eq!(
        subscribe_as(&url, info(None, &["dev"]), Some(("bob", "b")))
            .await
            .map(drop),
        Err("Not authorized to register framework  with roles { dev }".to_owned())
    );
    c.shutdown().await;
}

#[tokio::test]
async fn a_malformed_acl_file_stops_the_master_at_start() {
    let scratch = Scratch::new("master-acl");
    let acls = scratch.path().join("acls.json");
    for (content, want) in [
        (
            r#"{"register_frameworks": [{"principals": {"values": ["a"]}}]}"#,
            "--acls: invalid ACLs: register_frameworks",
        ),
        (
            r#"{"run_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]}"#,
            "--acls: ACLs of kind run_tasks are not enforced by this master",
        ),
    ] {
        std::fs::write(&acls, content).unwrap();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-master"));
        command.args(["--port", "0", "--acls"]).arg(&acls);
        let mut master =
            ChildProcess::spawn("mesos-master", command, &scratch.path().join("master.log"));
        eventually("mesos-master exits", || !master.running()).await;
        let log = master.log();
        assert!(log.contains(want), "{log}");
    }
}
