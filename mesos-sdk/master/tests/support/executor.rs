//! Executors for the tests: this test binary re-run by an agent as an executor (an
//! ignored test of the same binary), what such a process learns from its environment,
//! and the stream of events the agent sends to an executor.

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::{DEFAULT_MAX_RECORD_LEN, RecordStream, decode_stream};
use mesos_sdk::v1;
use mesos_sdk::v1::executor::Event;

use super::WAIT;

/// The command that re-runs this test binary as an executor: it runs only the ignored
/// test `test` (`<test binary> <test> --exact --ignored`), which is the executor's entry
/// point and does nothing unless an agent started it ([`AgentEnv::from_env`]).
pub fn this_binary_running(test: &str) -> v1::CommandInfo {
    let exe = std::env::current_exe()
        .expect("test binary path")
        .display()
        .to_string();
    v1::CommandInfo {
        shell: Some(false),
        value: Some(exe.clone()),
        arguments: vec![exe, test.into(), "--exact".into(), "--ignored".into()],
        ..Default::default()
    }
}

/// What an agent tells the executor process it starts.
pub struct AgentEnv {
    /// `MESOS_AGENT_ENDPOINT`: the agent's `host:port`.
    pub endpoint: String,
    /// The executor API: `http://<endpoint>/api/v1/executor`.
    pub url: String,
    pub framework_id: v1::FrameworkId,
    pub executor_id: v1::ExecutorId,
}

impl AgentEnv {
    /// The agent's variables, or `None` when this process was not started by an agent.
    pub fn from_env() -> Option<Self> {
        let (Ok(endpoint), Ok(framework_id), Ok(executor_id)) = (
            std::env::var("MESOS_AGENT_ENDPOINT"),
            std::env::var("MESOS_FRAMEWORK_ID"),
            std::env::var("MESOS_EXECUTOR_ID"),
        ) else {
            return None;
        };
        Some(AgentEnv {
            url: format!("http://{endpoint}/api/v1/executor"),
            endpoint,
            framework_id: v1::FrameworkId {
                value: framework_id,
            },
            executor_id: v1::ExecutorId { value: executor_id },
        })
    }
}

/// The events of a SUBSCRIBE response to an executor, decoded from RecordIO.
pub struct Events {
    records: RecordStream<BoxStream<'static, reqwest::Result<Bytes>>>,
    encoding: Encoding,
}

impl Events {
    /// Reads `response`'s body as events in `encoding`.
    pub fn new(response: reqwest::Response, encoding: Encoding) -> Self {
        Events {
            records: decode_stream(response.bytes_stream().boxed(), DEFAULT_MAX_RECORD_LEN),
            encoding,
        }
    }

    /// The next event, or `None` once the stream has ended (or broke).
    pub async fn next(&mut self) -> Option<Event> {
        let record = self.records.next().await?.ok()?;
        Some(self.encoding.decode(&record).expect("event decodes"))
    }

    /// The next event; panics after [`WAIT`] or if the stream ended.
    pub async fn expect_next(&mut self) -> Event {
        tokio::time::timeout(WAIT, self.next())
            .await
            .expect("an event in time")
            .expect("stream open")
    }
}
