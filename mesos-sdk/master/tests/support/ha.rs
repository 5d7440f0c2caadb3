//! A highly available cluster of real processes: a ZooKeeper server, `mesos-master`
//! processes electing a leader through it, and `mesos-agent` processes following the
//! leader. Used by the failover tests and the failover benchmark.

use std::process::Command;
use std::time::Duration;

use mesos_testkit::{ChildProcess, Scratch, ZooKeeperServer, free_port};

use super::WAIT;

/// Masters, agents and their ZooKeeper; every process is killed on drop.
pub struct HaCluster {
    pub zk: ZooKeeperServer,
    pub scratch: Scratch,
    /// Each master's port and process (`None` once killed).
    pub masters: Vec<(u16, Option<ChildProcess>)>,
    pub agents: Vec<ChildProcess>,
    session_timeout: Duration,
    http: reqwest::Client,
}

impl HaCluster {
    /// Starts ZooKeeper, `masters` masters (ZooKeeper session timeout
    /// `session_timeout`) and `agents` agents of `resources` each, and waits until one
    /// master leads and every agent registered with it.
    pub async fn start(
        masters: usize,
        agents: usize,
        resources: &str,
        session_timeout: Duration,
    ) -> HaCluster {
        let zk = ZooKeeperServer::start().await;
        let mut cluster = HaCluster {
            zk,
            scratch: Scratch::new("mesos-ha"),
            masters: Vec::new(),
            agents: Vec::new(),
            session_timeout,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_millis(500))
                .build()
                .expect("HTTP client"),
        };
        for _ in 0..masters {
            let port = free_port();
            cluster.masters.push((port, None));
            let i = cluster.masters.len() - 1;
            cluster.start_master(i);
        }
        let leader = cluster.wait_leader(None).await;
        for i in 0..agents {
            let work = cluster.scratch.path().join(format!("agent{i}"));
            let mut command = Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
            command
                .args(["--master", &cluster.zk_url()])
                .args(["--resources", resources])
                .args(["--hostname", "127.0.0.1"])
                .arg("--work-dir")
                .arg(&work);
            let log = cluster.scratch.path().join(format!("agent{i}.log"));
            cluster
                .agents
                .push(ChildProcess::spawn(&format!("agent{i}"), command, &log));
        }
        cluster.wait_agents(leader, agents).await;
        cluster
    }

    /// `zk://…/mesos`.
    pub fn zk_url(&self) -> String {
        self.zk.zk_url("/mesos")
    }

    /// `http://127.0.0.1:<port>` of master `i`.
    pub fn url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.masters[i].0)
    }

    /// (Re)starts master `i` on its port.
    pub fn start_master(&mut self, i: usize) {
        let port = self.masters[i].0;
        let mut command = Command::new(env!("CARGO_BIN_EXE_mesos-master"));
        command
            .args(["--ip", "127.0.0.1", "--hostname", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args(["--zk", &self.zk_url()])
            .args([
                "--zk-session-timeout",
                &self.session_timeout.as_secs_f64().to_string(),
            ])
            .args(["--allocation-interval", "0.05"])
            .args(["--heartbeat-interval", "1"])
            .args(["--agent-reregister-timeout", "60"]);
        let log = self.scratch.path().join(format!("master{i}-{port}.log"));
        self.masters[i].1 = Some(ChildProcess::spawn(&format!("master{i}"), command, &log));
    }

    /// `kill -9` of master `i`.
    pub fn kill_master(&mut self, i: usize) {
        if let Some(mut master) = self.masters[i].1.take() {
            master.kill9();
        }
    }

    /// The masters answering `GET /state` with 200 (serving as leader) right now.
    pub async fn serving(&self) -> Vec<usize> {
        let probes = (0..self.masters.len()).map(|i| {
            let url = format!("{}/state", self.url(i));
            let http = self.http.clone();
            async move {
                let ok = http.get(url).send().await.is_ok_and(|r| r.status() == 200);
                (i, ok)
            }
        });
        futures::future::join_all(probes)
            .await
            .into_iter()
            .filter(|(_, ok)| *ok)
            .map(|(i, _)| i)
            .collect()
    }

    /// Waits (bounded by the session timeout plus [`WAIT`]) until one master other than
    /// `not` serves; returns it.
    pub async fn wait_leader(&self, not: Option<usize>) -> usize {
        let deadline = tokio::time::Instant::now() + WAIT + self.session_timeout;
        loop {
            let serving = self.serving().await;
            if let [one] = serving[..]
                && Some(one) != not
            {
                return one;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "no single leader within {WAIT:?}: {serving:?}\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until master `leader` knows `count` agents.
    pub async fn wait_agents(&self, leader: usize, count: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let state: Option<serde_json::Value> = match self
                .http
                .get(format!("{}/state", self.url(leader)))
                .send()
                .await
            {
                Ok(r) if r.status() == 200 => r
                    .bytes()
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok()),
                _ => None,
            };
            let known = state
                .as_ref()
                .and_then(|s| s["slaves"].as_array().map(Vec::len))
                .unwrap_or(0);
            if known == count {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{known} of {count} agents registered with master{leader}\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every process's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for (i, (_, master)) in self.masters.iter().enumerate() {
            if let Some(master) = master {
                let log = master.log();
                let tail: String = log.lines().rev().take(15).collect::<Vec<_>>().join("\n");
                out.push_str(&format!(
                    "--- master{i} (last lines, newest first)\n{tail}\n"
                ));
            }
        }
        for agent in &self.agents {
            let log = agent.log();
            let tail: String = log.lines().rev().take(15).collect::<Vec<_>>().join("\n");
            out.push_str(&format!(
                "--- {} (last lines, newest first)\n{tail}\n",
                agent.name()
            ));
        }
        out
    }

    /// Stops the agents (SIGTERM: they kill their tasks) and then every master.
    pub fn stop(mut self) {
        for agent in &mut self.agents {
            agent.terminate(Duration::from_secs(5));
        }
        for (_, master) in &mut self.masters {
            if let Some(master) = master {
                master.terminate(Duration::from_secs(5));
            }
        }
    }
}
