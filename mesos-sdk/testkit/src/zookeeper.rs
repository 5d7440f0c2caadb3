//! A ZooKeeper server in its own JVM, for tests.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zookeeper_client::Client;

/// Where Debian's package puts the server (its manifest's Class-Path names the
/// libraries it needs). `ZOOKEEPER_JAR` overrides it.
const DEBIAN_JAR: &str = "/usr/share/java/zookeeper.jar";
/// How long a server may take to answer after its JVM starts (2 shared cores).
const SERVER_START: Duration = Duration::from_secs(90);
/// The command that installs the server.
pub const INSTALL: &str = "apt-get install -y zookeeper";

/// A ZooKeeper server in its own JVM; killed, and its directory removed, on drop.
///
/// Its `tickTime` is 200 ms, so sessions negotiate timeouts between 0.4 s and 4 s.
#[derive(Debug)]
pub struct ZooKeeperServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl ZooKeeperServer {
    /// Starts a server on a free port and waits (boundedly) until it serves sessions.
    ///
    /// # Panics
    /// When ZooKeeper or Java is missing (naming the install command), or the server
    /// does not answer within 90 s (with its log).
    pub async fn start() -> ZooKeeperServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("pick a free port")
            .port();
        ZooKeeperServer::start_on(port).await
    }

    /// Starts a server with an empty data directory on `port`.
    ///
    /// # Panics
    /// As [`ZooKeeperServer::start`].
    pub async fn start_on(port: u16) -> ZooKeeperServer {
        let jar = std::env::var("ZOOKEEPER_JAR").unwrap_or_else(|_| DEBIAN_JAR.to_owned());
        assert!(
            std::path::Path::new(&jar).exists(),
            "ZooKeeper is not installed ({jar} is missing): run `{INSTALL}` \
             (Debian; .ci/run does this), or point ZOOKEEPER_JAR at a zookeeper jar"
        );
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mesos-testkit-zk-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).expect("create the ZooKeeper directory");
        let cfg = format!(
            "tickTime=200\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             admin.enableServer=false\nmaxClientCnxns=0\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("zoo.cfg"), cfg).expect("write zoo.cfg");
        let log = std::fs::File::create(dir.join("server.log")).expect("create the server log");
        let java = std::env::var("JAVA").unwrap_or_else(|_| "java".to_owned());
        let child = Command::new(&java)
            .args([
                "-Xmx128m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.admin.enableServer=false",
                "-cp",
                &jar,
                "org.apache.zookeeper.server.ZooKeeperServerMain",
            ])
            .arg(dir.join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {java} (ZooKeeper needs a Java runtime: `{INSTALL}` pulls one in): {e}")
            });
        let mut server = ZooKeeperServer { child, port, dir };
        server.wait_ready().await;
        server
    }

    /// The port it serves on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connect string, `127.0.0.1:<port>`.
    pub fn servers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A `zk://` URL for `path` on this server.
    pub fn zk_url(&self, path: &str) -> String {
        format!("zk://{}{path}", self.servers())
    }

    /// A client session (with `user:password` digest credentials if given).
    ///
    /// # Panics
    /// When no session can be established within 5 s (with the server's log).
    pub async fn client(&self, digest: Option<&str>) -> Client {
        connect(&self.servers(), digest)
            .await
            .unwrap_or_else(|e| panic!("connect to ZooKeeper: {e}\n{}", self.log()))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Polls until a session can be established, failing with the server's log.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + SERVER_START;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("ZooKeeper exited ({status}):\n{}", self.log());
            }
            if connect(&self.servers(), None).await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ZooKeeper did not answer on port {} within {SERVER_START:?}:\n{}",
                self.port,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ZooKeeperServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Opens a session to `servers` (4 s session timeout), with digest credentials if
/// given, waiting at most 5 s.
///
/// # Errors
/// The connection error, or `"timed out"`.
pub async fn connect(servers: &str, digest: Option<&str>) -> Result<Client, String> {
    let mut connector = Client::connector()
        .with_session_timeout(Duration::from_secs(4))
        .with_fail_eagerly();
    if let Some(digest) = digest {
        connector = connector.with_auth("digest", digest.as_bytes());
    }
    match tokio::time::timeout(Duration::from_secs(5), connector.connect(servers)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}
