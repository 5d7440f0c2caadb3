//! The embedded Mesos cluster used when `--mesos-master` is absent: the SDK's reference
//! master with full agents (which run custom executors such as the Throttler's own), all
//! in this process, on `127.0.0.1` with OS-chosen ports.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use mesos_sdk::master::agent::{AgentConfig, AgentHandle, spawn};
use mesos_sdk::master::{Master, MasterConfig};
use mesos_sdk::v1;

/// Why the embedded cluster did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddedError {
    /// The master did not start.
    #[error("the embedded master did not start: {0}")]
    Master(#[from] mesos_sdk::master::MasterError),
    /// An agent did not start (its executor API could not bind, or its work directory
    /// could not be created).
    #[error("an embedded agent did not start: {0} (check that the temp directory is writable)")]
    Agent(#[from] std::io::Error),
}

/// A master with `n` agents in this process.
pub struct EmbeddedCluster {
    master: Master,
    agents: Vec<AgentHandle>,
    work_dir: PathBuf,
}

fn scalar(name: &str, value: f64) -> v1::Resource {
    v1::Resource {
        name: name.to_string(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value }),
        ..Default::default()
    }
}

impl EmbeddedCluster {
    /// Starts a master and `agents` agents of `cpus` CPUs and `mem` MB each.
    ///
    /// # Errors
    ///
    /// [`EmbeddedError`] when the master or an agent cannot start.
    pub async fn start(agents: usize, cpus: f64, mem: f64) -> Result<Self, EmbeddedError> {
        let mut config = MasterConfig::default();
        // Offers follow task completions quickly; a load test should not wait on them.
        config.allocation_interval = Duration::from_millis(50);
        let master = Master::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let work_dir = std::env::temp_dir().join(format!("throttler-{}", master.state().id));
        std::fs::create_dir_all(&work_dir)?;
        let mut handles = Vec::new();
        for i in 0..agents {
            let id = format!("{}-S{i}", master.state().id);
            let mut agent = AgentConfig::new(
                id.clone(),
                vec![scalar("cpus", cpus), scalar("mem", mem)],
                work_dir.join(&id),
            );
            agent.hostname = "127.0.0.1".to_string();
            agent.status_update_retry = Duration::from_secs(2);
            let handle = match spawn(agent, master.agent_events()).await {
                Ok(h) => h,
                Err(e) => {
                    Self {
                        master,
                        agents: handles,
                        work_dir,
                    }
                    .shutdown()
                    .await;
                    return Err(e.into());
                }
            };
            master.add_agent(handle.info(), handle.sender());
            handles.push(handle);
        }
        Ok(Self {
            master,
            agents: handles,
            work_dir,
        })
    }

    /// The master's URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        self.master.url()
    }

    /// Stops every agent (and with them every executor process), then the master, and
    /// removes the work directory.
    pub async fn shutdown(self) {
        for agent in self.agents {
            agent.shutdown().await;
        }
        self.master.shutdown().await;
        if let Err(e) = std::fs::remove_dir_all(&self.work_dir) {
            tracing::debug!(error = %e, dir = %self.work_dir.display(), "work directory not removed");
        }
    }
}
