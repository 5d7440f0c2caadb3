//! TLS on the master (`--tls-cert`, `--tls-key`): schedulers subscribe over https with
//! the SDK's `tls_root_certificate`, a `mesos-agent` process registers with a
//! `mesos-master` process over https (`--tls-ca`) and runs a task, a scheduler that
//! does not trust the certificate gets a typed error, a client that never completes
//! the handshake is dropped, and unusable certificate files stop the binaries with a
//! message. The certificates are made at test time (rcgen) for localhost and 127.0.0.1.

mod support;

use std::io::Read as _;
use std::time::Duration;

use mesos_master::tls::TlsConfig;
use mesos_master::{LocalCluster, MasterConfig};
use mesos_sdk::backoff::BackoffConfig;
use mesos_sdk::codec::Encoding;
use mesos_sdk::scheduler::{SchedulerDriver, SchedulerError};
use mesos_sdk::transport::TransportError;
use mesos_sdk::v1::TaskState;
use mesos_testkit::{ChildProcess, Scratch, free_port};
use support::driver::{Framework, failover_framework_info, launch};
use support::*;
use tokio::io::AsyncReadExt as _;

/// A self-signed certificate for `localhost` and `127.0.0.1` (it is its own CA), and
/// its key, both PEM.
fn test_certificate() -> (String, String) {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("certificate generated");
    (key.cert.pem(), key.signing_key.serialize_pem())
}

async fn tls_cluster(cert: &str, key: &str, tweak: impl FnOnce(&mut MasterConfig)) -> LocalCluster {
    let mut config = MasterConfig::default();
    config.allocation_interval = Duration::from_millis(50);
    config.heartbeat_interval = Duration::from_millis(500);
    config.tls = Some(TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).expect("usable TLS"));
    tweak(&mut config);
    LocalCluster::builder()
        .resources("cpus:2;mem:1024")
        .master_config(config)
        .start()
        .await
        .expect("cluster starts")
}

#[tokio::test]
async fn a_scheduler_trusting_the_ca_subscribes_over_https_and_runs_a_task() {
    let (cert, key) = test_certificate();
    let cluster = tls_cluster(&cert, &key, |_| {}).await;
    assert!(cluster.url().starts_with("https://"), "{}", cluster.url());
    let ca = cert.clone();
    let mut fw = Framework::start_with(
        &cluster.url(),
        Encoding::Protobuf,
        failover_framework_info("tls"),
        move |builder| builder.tls_root_certificate(ca),
    );
    fw.subscribed().await;
    let offer = fw.offer().await;
    launch(&fw.client, &offer, vec![command_task("t", &offer, "true")]).await;
    fw.status("t", TaskState::TaskFinished).await;

    // Every endpoint is behind TLS: /state over https with the CA, and plain HTTP on
    // the same port gets no HTTP answer.
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).unwrap())
        .build()
        .unwrap();
    let state = https
        .get(format!("{}/state", cluster.url()))
        .send()
        .await
        .expect("/state over https");
    assert_eq!(state.status(), 200);
    let plain = cluster.url().replacen("https://", "http://", 1);
    let answer = tokio::time::timeout(WAIT, reqwest::get(format!("{plain}/state")))
        .await
        .expect("an answer or an error in time");
    assert!(answer.is_err(), "plain HTTP must not be served: {answer:?}");
    drop(fw);
    cluster.shutdown().await;
}

/// A scheduler that does nothing (it never gets further than connecting).
struct Silent;

impl mesos_sdk::scheduler::Scheduler for Silent {}

#[tokio::test]
async fn a_scheduler_not_trusting_the_certificate_gets_a_typed_error() {
    let (cert, key) = test_certificate();
    let cluster = tls_cluster(&cert, &key, |_| {}).await;
    let driver = SchedulerDriver::builder(cluster.url(), failover_framework_info("untrusting"))
        .max_reconnect_attempts(Some(1))
        .backoff(BackoffConfig {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(10),
            ..BackoffConfig::default()
        })
        .build()
        .unwrap();
    let result = tokio::time::timeout(WAIT, driver.run(Silent))
        .await
        .expect("the driver gives up within its attempts");
    let error = result.expect_err("an untrusted certificate is refused");
    let SchedulerError::ReconnectsExhausted { last, .. } = &error else {
        panic!("expected the driver to give up, got {error:?}");
    };
    let SchedulerError::Transport(TransportError::Unreachable { endpoint, .. }) = last.as_ref()
    else {
        panic!("expected an unreachable master, got {last:?}");
    };
    assert!(endpoint.starts_with("https://"), "{endpoint}");
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(s) = source {
        chain.push_str(&format!(": {s}"));
        source = s.source();
    }
    assert!(
        chain.contains("invalid peer certificate: UnknownIssuer"),
        "{chain}"
    );
    assert!(cluster.state().frameworks.is_empty());
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_completes_the_handshake_is_dropped() {
    let (cert, key) = test_certificate();
    let cluster = tls_cluster(&cert, &key, |c| {
        c.request_header_timeout = Duration::from_millis(200);
    })
    .await;
    // Connects and sends nothing: the server closes the connection after the header
    // timeout (the test waits at most WAIT for it).
    let mut stream = tokio::net::TcpStream::connect(cluster.addr())
        .await
        .unwrap();
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
        .await
        .expect("the server drops the connection");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the connection is closed without a handshake: {read:?}"
    );
    // The server still serves complete handshakes.
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).unwrap())
        .build()
        .unwrap();
    let health = https
        .get(format!("{}/health", cluster.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    cluster.shutdown().await;
}

/// The files of a test certificate in `scratch`: (cert, key).
fn write_certificate(scratch: &Scratch) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let (cert, key) = test_certificate();
    let cert_file = scratch.path().join("cert.pem");
    let key_file = scratch.path().join("key.pem");
    std::fs::write(&cert_file, &cert).unwrap();
    std::fs::write(&key_file, &key).unwrap();
    (cert_file, key_file, cert)
}

#[tokio::test]
async fn a_remote_mesos_agent_registers_with_a_tls_mesos_master_and_runs_a_task() {
    let scratch = Scratch::new("master-tls");
    let (cert_file, key_file, cert) = write_certificate(&scratch);
    let port = free_port();
    let mut master = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-master"));
    master
        .args(["--ip", "127.0.0.1", "--hostname", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .args(["--allocation-interval", "0.05"])
        .arg("--tls-cert")
        .arg(&cert_file)
        .arg("--tls-key")
        .arg(&key_file);
    let _master = ChildProcess::spawn("mesos-master", master, &scratch.path().join("master.log"));
    let url = format!("https://127.0.0.1:{port}");
    let mut agent = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
    agent
        .args(["--master", &url])
        .args(["--resources", "cpus:1;mem:256", "--hostname", "127.0.0.1"])
        .args(["--registration-backoff-factor", "0.05"])
        .arg("--tls-ca")
        .arg(&cert_file)
        .arg("--work-dir")
        .arg(scratch.path().join("work"));
    let agent = ChildProcess::spawn("mesos-agent", agent, &scratch.path().join("agent.log"));

    let ca = cert.clone();
    let mut fw = Framework::start_with(
        &url,
        Encoding::Json,
        failover_framework_info("tls-remote"),
        move |builder| builder.tls_root_certificate(ca),
    );
    // The first offer comes from the remote agent, which registered over https.
    let offer = tokio::time::timeout(Duration::from_secs(30), fw.offer())
        .await
        .unwrap_or_else(|_| panic!("no offer; agent log:\n{}", agent.log()));
    launch(
        &fw.client,
        &offer,
        vec![command_task("t", &offer, "echo over-tls")],
    )
    .await;
    fw.status("t", TaskState::TaskFinished).await;
    drop(fw);
    let mut agent = agent;
    assert!(agent.terminate(WAIT), "mesos-agent stops on SIGTERM");
}

/// With ZooKeeper, `MasterInfo` does not carry a scheme: a `mesos-agent` given
/// `--tls-ca` and a scheduler whose detector is set to https reach the elected TLS
/// master over https.
#[tokio::test]
async fn agents_and_schedulers_reach_a_tls_master_elected_in_zookeeper_over_https() {
    let zk = mesos_testkit::ZooKeeperServer::start().await;
    let zk_url = zk.zk_url("/mesos");
    let scratch = Scratch::new("master-tls-zk");
    let (cert_file, key_file, cert) = write_certificate(&scratch);
    let port = free_port();
    let mut master = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-master"));
    master
        .args(["--ip", "127.0.0.1", "--hostname", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .args(["--zk", &zk_url])
        .args(["--allocation-interval", "0.05"])
        .arg("--tls-cert")
        .arg(&cert_file)
        .arg("--tls-key")
        .arg(&key_file);
    let master = ChildProcess::spawn("mesos-master", master, &scratch.path().join("master.log"));
    let mut agent = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
    agent
        .args(["--master", &zk_url])
        .args(["--resources", "cpus:1;mem:256", "--hostname", "127.0.0.1"])
        .args(["--registration-backoff-factor", "0.05"])
        .arg("--tls-ca")
        .arg(&cert_file)
        .arg("--work-dir")
        .arg(scratch.path().join("work"));
    let agent = ChildProcess::spawn("mesos-agent", agent, &scratch.path().join("agent.log"));

    let detector = mesos_sdk::detect::ZooKeeperDetector::from_url(&zk_url)
        .expect("zk URL")
        .https(true);
    let ca = cert.clone();
    let mut fw = Framework::start_with(
        &zk_url,
        Encoding::Json,
        failover_framework_info("tls-zk"),
        move |builder| builder.detector(detector).tls_root_certificate(ca),
    );
    let offer = tokio::time::timeout(Duration::from_secs(30), fw.offer())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no offer; master log:\n{}\nagent log:\n{}",
                master.log(),
                agent.log()
            )
        });
    launch(&fw.client, &offer, vec![command_task("t", &offer, "true")]).await;
    fw.status("t", TaskState::TaskFinished).await;
    drop(fw);
    let mut agent = agent;
    assert!(agent.terminate(WAIT), "mesos-agent stops on SIGTERM");
}

/// Runs a binary to its end (it must stop at once) and returns its status and stderr.
fn run_to_end(program: &str, args: &[&std::ffi::OsStr]) -> (std::process::ExitStatus, String) {
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap(), stderr)
}

#[test]
fn unusable_certificate_files_stop_the_binaries_with_a_message() {
    let scratch = Scratch::new("bad-tls");
    let (cert_file, key_file, _) = write_certificate(&scratch);
    let garbage = scratch.path().join("garbage.pem");
    std::fs::write(&garbage, "not PEM at all").unwrap();
    let missing = scratch.path().join("missing.pem");
    let port = free_port().to_string();
    for (cert, key, expected) in [
        (&missing, &key_file, "cannot read"),
        (&garbage, &key_file, "no PEM CERTIFICATE"),
        (&cert_file, &garbage, "no PEM private key"),
        // A certificate where the key should be.
        (&cert_file, &cert_file, "no PEM private key"),
    ] {
        for program in [
            env!("CARGO_BIN_EXE_mesos-master"),
            env!("CARGO_BIN_EXE_mesos-local"),
        ] {
            let (status, stderr) = run_to_end(
                program,
                &[
                    "--port".as_ref(),
                    port.as_ref(),
                    "--tls-cert".as_ref(),
                    cert.as_os_str(),
                    "--tls-key".as_ref(),
                    key.as_os_str(),
                ],
            );
            assert!(!status.success(), "{program} must fail");
            assert!(
                stderr.contains(expected) && !stderr.contains("panicked"),
                "{program}: {stderr}"
            );
        }
        let (status, stderr) = run_to_end(
            env!("CARGO_BIN_EXE_mesos-agent"),
            &[
                "--work-dir".as_ref(),
                scratch.path().join("agent").as_os_str(),
                "--tls-cert".as_ref(),
                cert.as_os_str(),
                "--tls-key".as_ref(),
                key.as_os_str(),
            ],
        );
        assert!(!status.success() && stderr.contains(expected), "{stderr}");
    }
    let (status, stderr) = run_to_end(
        env!("CARGO_BIN_EXE_mesos-agent"),
        &[
            "--work-dir".as_ref(),
            scratch.path().join("agent").as_os_str(),
            "--tls-ca".as_ref(),
            garbage.as_os_str(),
        ],
    );
    assert!(!status.success() && stderr.contains("--tls-ca"), "{stderr}");
}
