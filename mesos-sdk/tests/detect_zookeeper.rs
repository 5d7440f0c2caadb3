//! `zk://` leader detection against a real ZooKeeper server (Debian's `zookeeper`
//! package: `apt-get install -y zookeeper`; `.ci/run` installs it). Each test starts
//! its own server on a free loopback port with a fresh data directory and kills it at
//! the end. Masters are simulated the way Mesos masters join: ephemeral sequential
//! `json.info_` children of the path, holding `MasterInfo` as Mesos's JSON.

mod support;

use std::time::{Duration, Instant};

use mesos_sdk::detect::{DetectError, MasterDetector, ZooKeeperDetector, ZooKeeperError};
use mesos_sdk::scheduler::{SchedulerDriver, SchedulerError};
use mesos_sdk::transport::Url;
use mesos_testkit::ZooKeeperServer as ZkServer;
use tokio::sync::watch;
use zookeeper_client::{Acls, Client, CreateMode};

/// Bound on every wait for the detector.
const WAIT: Duration = Duration::from_secs(30);

/// `MasterInfo` exactly as a Mesos master writes it (`stringify(JSON::protobuf(info))`:
/// compact, keys sorted).
fn master_info(ip: &str, port: u16) -> String {
    let packed = ip
        .split('.')
        .map(|o| o.parse::<u32>().unwrap())
        .rev()
        .fold(0u32, |acc, o| (acc << 8) | o);
    format!(
        r#"{{"address":{{"hostname":"master-{port}.example","ip":"{ip}","port":{port}}},"capabilities":[{{"type":"AGENT_UPDATE"}},{{"type":"AGENT_DRAINING"}},{{"type":"QUOTA_V2"}}],"hostname":"master-{port}.example","id":"0b6c9a3e-1f5d-4a7e-9c2b-{port:012}","ip":{packed},"pid":"master@{ip}:{port}","port":{port},"version":"1.11.0"}}"#
    )
}

fn http(ip: &str, port: u16) -> Url {
    Url::parse(&format!("http://{ip}:{port}/")).unwrap()
}

/// Creates the masters' znode (persistent, open or creator-only).
async fn create_path(client: &Client, path: &str, acls: Acls<'static>) {
    client
        .create(path, b"", &CreateMode::Persistent.with_acls(acls))
        .await
        .unwrap_or_else(|e| panic!("create {path}: {e}"));
}

/// Joins like a Mesos master: an ephemeral sequential `json.info_` child. Returns the
/// child's path.
async fn join(client: &Client, path: &str, data: &str, acls: Acls<'static>) -> String {
    let prefix = format!("{path}/json.info_");
    let (_, seq) = client
        .create(
            &prefix,
            data.as_bytes(),
            &CreateMode::EphemeralSequential.with_acls(acls),
        )
        .await
        .unwrap_or_else(|e| panic!("join {path}: {e}"));
    format!("{prefix}{seq}")
}

/// Waits (at most [`WAIT`]) until the published leader is `want`.
async fn wait_leader(rx: &mut watch::Receiver<Option<Url>>, want: Option<&Url>) {
    let waited = tokio::time::timeout(WAIT, async {
        loop {
            if rx.borrow_and_update().as_ref() == want {
                return;
            }
            rx.changed().await.expect("detector gone");
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "leader is {:?}, not {want:?}, after {WAIT:?}",
        *rx.borrow()
    );
}

async fn leader(detector: &ZooKeeperDetector) -> Result<Url, ZooKeeperError> {
    tokio::time::timeout(WAIT + WAIT, detector.leader())
        .await
        .expect("leader() exceeded its own bounds")
}

/// (a) The lowest `json.info_` sequence leads; other children and malformed nodes are
/// skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detects_the_lowest_json_info_sequence() {
    let zk = ZkServer::start().await;
    let writer = zk.client(None).await;
    create_path(&writer, "/mesos", Acls::anyone_all()).await;
    // Not masters: the replicated log's directory and an old protobuf-era label.
    create_path(&writer, "/mesos/log_replicas", Acls::anyone_all()).await;
    let old = format!("{}/info_", "/mesos");
    writer
        .create(
            &old,
            b"master@10.9.9.9:5050",
            &CreateMode::EphemeralSequential.with_acls(Acls::anyone_all()),
        )
        .await
        .unwrap();
    // The lowest json.info_ nodes are malformed: not JSON, then JSON without an address.
    join(&writer, "/mesos", "{not json", Acls::anyone_all()).await;
    join(&writer, "/mesos", r#"{"id":"x"}"#, Acls::anyone_all()).await;
    join(
        &writer,
        "/mesos",
        &master_info("10.0.0.1", 5050),
        Acls::anyone_all(),
    )
    .await;
    join(
        &writer,
        "/mesos",
        &master_info("10.0.0.2", 5051),
        Acls::anyone_all(),
    )
    .await;

    let detector = ZooKeeperDetector::from_url(&zk.zk_url("/mesos")).unwrap();
    assert_eq!(leader(&detector).await, Ok(http("10.0.0.1", 5050)));
    assert_eq!(detector.current_leader(), Some(http("10.0.0.1", 5050)));
    // Through the trait the scheduler runtime uses.
    let masters = detector.masters().await.unwrap();
    assert_eq!(masters, [http("10.0.0.1", 5050)]);
    // The builder accepts the URL and builds the same kind of detector.
    SchedulerDriver::builder(zk.zk_url("/mesos"), Default::default())
        .build()
        .expect("zk:// master accepted");
}

/// (b) The detector follows the election: a path created late, the leader's node
/// deleted, the owning session closed, a new master joining.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_leader_changes() {
    let zk = ZkServer::start().await;
    let detector = ZooKeeperDetector::from_url(&zk.zk_url("/mesos/cluster"))
        .unwrap()
        .leader_timeout(WAIT);
    let mut changes = detector.changes();
    assert_eq!(*changes.borrow(), None);
    // Start waiting before the path exists.
    let first = tokio::spawn({
        let detector = detector.clone();
        async move { detector.leader().await }
    });

    let a_session = zk.client(None).await;
    let b_session = zk.client(None).await;
    create_path(&a_session, "/mesos", Acls::anyone_all()).await;
    create_path(&a_session, "/mesos/cluster", Acls::anyone_all()).await;
    let a_node = join(
        &a_session,
        "/mesos/cluster",
        &master_info("10.0.0.1", 5050),
        Acls::anyone_all(),
    )
    .await;
    join(
        &b_session,
        "/mesos/cluster",
        &master_info("10.0.0.2", 5050),
        Acls::anyone_all(),
    )
    .await;
    let (a, b, c) = (
        http("10.0.0.1", 5050),
        http("10.0.0.2", 5050),
        http("10.0.0.3", 5050),
    );
    assert_eq!(first.await.unwrap(), Ok(a.clone()));
    wait_leader(&mut changes, Some(&a)).await;

    // A withdraws: B leads.
    a_session.delete(&a_node, None).await.unwrap();
    wait_leader(&mut changes, Some(&b)).await;

    // B's session closes (its ephemeral node goes with it): nobody leads.
    drop(b_session);
    wait_leader(&mut changes, None).await;

    // C joins and leads.
    let c_session = zk.client(None).await;
    join(
        &c_session,
        "/mesos/cluster",
        &master_info("10.0.0.3", 5050),
        Acls::anyone_all(),
    )
    .await;
    wait_leader(&mut changes, Some(&c)).await;
    assert_eq!(leader(&detector).await, Ok(c));
}

/// The detector's session expires (the ensemble is replaced by one that does not know
/// it): it reconnects and reads the new election.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_session_expiry() {
    let zk = ZkServer::start().await;
    let port = zk.port();
    let writer = zk.client(None).await;
    create_path(&writer, "/mesos", Acls::anyone_all()).await;
    join(
        &writer,
        "/mesos",
        &master_info("10.0.0.1", 5050),
        Acls::anyone_all(),
    )
    .await;
    let detector = ZooKeeperDetector::from_url(&zk.zk_url("/mesos"))
        .unwrap()
        .session_timeout(Duration::from_secs(2));
    let mut changes = detector.changes();
    assert_eq!(leader(&detector).await, Ok(http("10.0.0.1", 5050)));

    // A new server with empty state on the same port: the old session is unknown there.
    drop(writer);
    drop(zk);
    let zk = ZkServer::start_on(port).await;
    let writer = zk.client(None).await;
    create_path(&writer, "/mesos", Acls::anyone_all()).await;
    join(
        &writer,
        "/mesos",
        &master_info("10.0.0.2", 5050),
        Acls::anyone_all(),
    )
    .await;
    wait_leader(&mut changes, Some(&http("10.0.0.2", 5050))).await;
}

/// (c) Bad input fails with typed errors, within the configured bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gives_typed_errors() {
    // Malformed URLs: no I/O, no server needed.
    for (url, why) in [
        (
            "zk://127.0.0.1:2181/",
            "Expecting a (chroot) path for ZooKeeper ('/' is not supported)",
        ),
        (
            "zk://127.0.0.1:2181",
            "Expecting a (chroot) path for ZooKeeper ('/' is not supported)",
        ),
        ("zk://127.0.0.1:notaport/mesos", "invalid port"),
        ("zk://,/mesos", "empty server"),
        ("zk://user@127.0.0.1/mesos", "user:password"),
    ] {
        match ZooKeeperDetector::from_url(url) {
            Err(ZooKeeperError::InvalidUrl { reason, .. }) => {
                assert!(reason.contains(why), "{url}: {reason}")
            }
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }
    match SchedulerDriver::builder("zk://127.0.0.1:2181/", Default::default()).build() {
        Err(SchedulerError::InvalidMaster(DetectError::ZooKeeper(
            ZooKeeperError::InvalidUrl { .. },
        ))) => {}
        other => panic!(
            "expected InvalidMaster(ZooKeeper(InvalidUrl)), got {:?}",
            other.err()
        ),
    }

    // Nothing listens on this port: Unreachable once the connect timeout passes.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let bound = Duration::from_secs(2);
    let detector = ZooKeeperDetector::from_url(&format!("zk://127.0.0.1:{closed}/mesos"))
        .unwrap()
        .connect_timeout(bound);
    let started = Instant::now();
    let got = leader(&detector).await;
    let took = started.elapsed();
    assert!(
        matches!(&got, Err(ZooKeeperError::Unreachable { waited, .. }) if *waited == bound),
        "{got:?}"
    );
    assert!(
        took >= bound && took < bound + Duration::from_secs(5),
        "{took:?}"
    );
    // The scheduler runtime sees it as "no master yet", which it retries.
    assert!(matches!(
        detector.masters().await,
        Err(DetectError::NoMaster(_))
    ));

    // A reachable ZooKeeper where no master has joined: NoLeader, saying why.
    let zk = ZkServer::start().await;
    let writer = zk.client(None).await;
    create_path(&writer, "/mesos", Acls::anyone_all()).await;
    create_path(&writer, "/mesos/log_replicas", Acls::anyone_all()).await;
    let bound = Duration::from_secs(1);
    let detector = ZooKeeperDetector::from_url(&zk.zk_url("/mesos"))
        .unwrap()
        .leader_timeout(bound);
    match leader(&detector).await {
        Err(ZooKeeperError::NoLeader { waited, reason, .. }) => {
            assert_eq!(waited, bound);
            assert!(reason.contains("no master has joined"), "{reason}");
        }
        other => panic!("expected NoLeader, got {other:?}"),
    }
}

/// (d) Digest credentials from the URL open an ACL-protected election; without them
/// the detector fails with NotAuthorized.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_auth_reads_acl_protected_nodes() {
    let zk = ZkServer::start().await;
    let writer = zk.client(Some("mesos:s3cret")).await;
    // Only the creator (digest mesos:s3cret) may do anything, reading included.
    create_path(&writer, "/mesos", Acls::creator_all()).await;
    join(
        &writer,
        "/mesos",
        &master_info("10.0.0.1", 5050),
        Acls::creator_all(),
    )
    .await;

    let authed =
        ZooKeeperDetector::from_url(&format!("zk://mesos:s3cret@{}/mesos", zk.servers())).unwrap();
    assert_eq!(leader(&authed).await, Ok(http("10.0.0.1", 5050)));

    for url in [
        zk.zk_url("/mesos"),
        format!("zk://mesos:wrong@{}/mesos", zk.servers()),
    ] {
        let detector = ZooKeeperDetector::from_url(&url).unwrap();
        let got = leader(&detector).await;
        assert_eq!(
            got,
            Err(ZooKeeperError::NotAuthorized {
                path: "/mesos".into()
            }),
            "{url}"
        );
        // Permanent: the runtime must not retry it as "no master yet".
        assert!(matches!(
            detector.masters().await,
            Err(DetectError::ZooKeeper(ZooKeeperError::NotAuthorized { .. }))
        ));
    }
}

/// A scheduler that tells the test when it is subscribed.
struct Subscribed(Option<tokio::sync::oneshot::Sender<String>>);

#[async_trait::async_trait]
impl mesos_sdk::scheduler::Scheduler for Subscribed {
    async fn subscribed(
        &mut self,
        _client: &mesos_sdk::scheduler::SchedulerClient,
        subscribed: mesos_sdk::v1::scheduler::event::Subscribed,
    ) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(subscribed.framework_id.value);
        }
    }
}

/// A scripted master: SUBSCRIBE opens an event stream, other calls are accepted.
fn scripted_master(r: &support::Recorded) -> support::Reply {
    let call: mesos_sdk::v1::scheduler::Call = r.decode();
    if call.subscribe.is_some() {
        support::Reply::stream("stream-1")
    } else {
        support::Reply::accepted()
    }
}

/// A driver subscribed through `zk://` moves to the new leader when the election
/// changes, and resubscribes there with its framework id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribed_driver_follows_a_new_leader_with_its_framework_id() {
    use mesos_sdk::v1::scheduler::{Event, event};

    let zk = ZkServer::start().await;
    let mut first = support::ScriptedServer::start(scripted_master).await;
    let mut second = support::ScriptedServer::start(scripted_master).await;
    let a_session = zk.client(None).await;
    let b_session = zk.client(None).await;
    create_path(&a_session, "/mesos", Acls::anyone_all()).await;
    let a_node = join(
        &a_session,
        "/mesos",
        &master_info("127.0.0.1", first.addr.port()),
        Acls::anyone_all(),
    )
    .await;

    let framework = mesos_sdk::calls::framework_info("follower", "").build();
    let driver = SchedulerDriver::builder(zk.zk_url("/mesos"), framework)
        .backoff(mesos_sdk::backoff::BackoffConfig {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
            ..Default::default()
        })
        .build()
        .unwrap();
    let client = driver.client();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let run = tokio::spawn(driver.run(Subscribed(Some(tx))));

    let stream = first.next_stream().await;
    stream.send(
        mesos_sdk::codec::Encoding::Protobuf,
        &Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: mesos_sdk::v1::FrameworkId {
                    value: "fw-1".into(),
                },
                heartbeat_interval_seconds: Some(60.0),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let id = tokio::time::timeout(WAIT, rx)
        .await
        .expect("SUBSCRIBED")
        .unwrap();
    assert_eq!(id, "fw-1");

    // The first master withdraws and the second is elected: the open stream to the
    // first is left, and the driver subscribes to the second with its framework id.
    join(
        &b_session,
        "/mesos",
        &master_info("127.0.0.1", second.addr.port()),
        Acls::anyone_all(),
    )
    .await;
    a_session.delete(&a_node, None).await.unwrap();
    let again = second.next_stream().await;
    let call: mesos_sdk::v1::scheduler::Call = again.request.decode();
    assert_eq!(call.framework_id.map(|f| f.value).as_deref(), Some("fw-1"));
    assert_eq!(
        call.subscribe
            .unwrap()
            .framework_info
            .id
            .map(|f| f.value)
            .as_deref(),
        Some("fw-1")
    );
    client.stop();
    tokio::time::timeout(WAIT, run)
        .await
        .expect("the driver stops")
        .unwrap()
        .unwrap();
    drop(stream);
}
