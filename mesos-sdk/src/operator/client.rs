use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;

use super::OperatorError;
use super::config::{Config, OperatorBuilder};
use crate::calls::operator as calls;
use crate::transport::{self, HttpTransport, TransportError, Url};
use crate::v1;
use crate::v1::master::{Call, Response, call, response};

struct Inner {
    http: HttpTransport,
    config: Config,
    /// The master that answered last (the leader, after redirects).
    leader: Mutex<Option<Url>>,
    /// Leader changes of an electing detector (ZooKeeper): a change forgets `leader`.
    changes: Mutex<Option<tokio::sync::watch::Receiver<Option<Url>>>>,
}

/// A typed client of a Mesos master's operator API (`POST /api/v1`).
///
/// Every call goes to the leading master: the client remembers the master that last
/// answered, follows `307` redirects to the leader as the scheduler does, and asks
/// its [`crate::detect::MasterDetector`] again (a `zk://` address follows the
/// election) when the remembered master is unreachable. It works against Apache
/// Mesos masters and the reference master alike, in protobuf or JSON.
///
/// Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_sdk::operator::OperatorError> {
/// use mesos_sdk::operator::OperatorClient;
/// let client = OperatorClient::new("http://127.0.0.1:5050")?;
/// let state = client.get_state().await?;
/// let frameworks = state.get_frameworks.unwrap_or_default().frameworks;
/// println!("{} frameworks", frameworks.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OperatorClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OperatorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorClient")
            .field("leader", &self.leader().as_ref().map(Url::as_str))
            .field("encoding", &self.inner.config.encoding)
            .finish()
    }
}

/// The operator endpoint of a master given by its base URL.
pub(crate) fn operator_endpoint(master: &Url) -> Url {
    let mut url = master.clone();
    url.set_path("/api/v1");
    url.set_query(None);
    url
}

/// The master (scheme, host, port) of an endpoint URL.
fn master_of(endpoint: &Url) -> Url {
    let mut url = endpoint.clone();
    url.set_path("/");
    url.set_query(None);
    url
}

impl OperatorClient {
    /// A client with default settings for `master`: `http://host:port`, a
    /// comma-separated list, or `zk://host:port/mesos`.
    ///
    /// # Errors
    /// As [`OperatorBuilder::build`].
    pub fn new(master: &str) -> Result<Self, OperatorError> {
        Self::builder(master).build()
    }

    /// A builder for `master` (see [`OperatorClient::new`]).
    pub fn builder(master: &str) -> OperatorBuilder {
        OperatorBuilder::new(master)
    }

    pub(crate) fn from_parts(http: HttpTransport, config: Config) -> Self {
        let changes = config.detector.leader_changes();
        OperatorClient {
            inner: Arc::new(Inner {
                http,
                config,
                leader: Mutex::new(None),
                changes: Mutex::new(changes),
            }),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn http(&self) -> &HttpTransport {
        &self.inner.http
    }

    /// The master that answered the last call (after redirects), if any.
    pub fn leader(&self) -> Option<Url> {
        self.inner
            .leader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_leader(&self, leader: Option<Url>) {
        *self.inner.leader.lock().unwrap_or_else(|e| e.into_inner()) = leader;
    }

    /// The masters to try, the remembered leader first.
    async fn targets(&self) -> Result<Vec<Url>, OperatorError> {
        let changed = {
            let mut changes = self.inner.changes.lock().unwrap_or_else(|e| e.into_inner());
            match changes.as_mut().map(|rx| rx.has_changed()) {
                Some(Ok(true)) => {
                    changes.as_mut().map(|rx| rx.borrow_and_update());
                    true
                }
                _ => false,
            }
        };
        if changed {
            tracing::info!("the leading master changed; forgetting the old one");
            self.set_leader(None);
        }
        let mut targets: Vec<Url> = self.leader().into_iter().collect();
        match self.inner.config.detector.masters().await {
            Ok(masters) => {
                for master in masters {
                    if !targets.contains(&master) {
                        targets.push(master);
                    }
                }
            }
            Err(e) if targets.is_empty() => return Err(e.into()),
            Err(e) => tracing::debug!(error = %e, "detection failed; trying the last leader"),
        }
        Ok(targets)
    }

    /// Posts `call` to the leading master and returns its successful HTTP answer
    /// (whose body may be a stream), following redirects.
    pub(crate) async fn post(&self, call: &Call) -> Result<transport::Response, OperatorError> {
        let body = self.inner.http.encoding().encode(call);
        let mut last = None;
        for master in self.targets().await? {
            match self.post_at(operator_endpoint(&master), &body).await {
                Ok(response) => return Ok(response),
                Err(e) if e.is_retryable() => {
                    tracing::debug!(%master, error = %e, "master failed; trying the next");
                    if self.leader().as_ref() == Some(&master) {
                        self.set_leader(None);
                    }
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(OperatorError::InvalidMaster(
            crate::detect::DetectError::Empty,
        )))
    }

    async fn post_at(
        &self,
        mut url: Url,
        body: &[u8],
    ) -> Result<transport::Response, OperatorError> {
        let max = self.inner.config.max_redirects;
        let mut hops = 0;
        loop {
            match self.inner.http.post(&url, body.to_vec(), None).await {
                Ok(response) => {
                    self.set_leader(Some(master_of(&url)));
                    return Ok(response);
                }
                Err(TransportError::Api(api)) if api.is_redirect() => {
                    let Some(next) = api.location().and_then(|l| url.join(l).ok()) else {
                        return Err(OperatorError::BadRedirect {
                            endpoint: url.to_string(),
                        });
                    };
                    if hops >= max {
                        return Err(OperatorError::TooManyRedirects {
                            hops,
                            last: next.to_string(),
                        });
                    }
                    hops += 1;
                    tracing::info!(from = %url, to = %next, "following redirect to the leading master");
                    url = next;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends any operator call. Returns the decoded `Response` of a synchronous call
    /// (200 with a body), `None` for a call answered without one (200 or 202).
    ///
    /// # Errors
    /// [`OperatorError::Transport`] when no master answers or the master refuses the
    /// call ([`OperatorError::api`] has its status and message),
    /// [`OperatorError::Decode`], [`OperatorError::ResponseTooLarge`].
    pub async fn call(&self, call: Call) -> Result<Option<Response>, OperatorError> {
        let kind = call.r#type.and_then(|t| call::Type::try_from(t).ok());
        tracing::debug!(call = ?kind, "operator call");
        let response = self.post(&call).await?;
        let endpoint = response.url().to_string();
        let limit = self.inner.config.max_response_size;
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > limit {
                return Err(OperatorError::ResponseTooLarge { endpoint, limit });
            }
            body.extend_from_slice(&chunk);
        }
        if body.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.inner.http.encoding().decode(&body)?))
    }

    /// Sends a synchronous call and takes the payload `pick` finds in its answer.
    async fn ask<T>(
        &self,
        call: Call,
        expected: response::Type,
        pick: impl FnOnce(Response) -> Option<T>,
    ) -> Result<T, OperatorError> {
        let unexpected = |got: String| OperatorError::UnexpectedResponse {
            expected: expected.as_str_name(),
            got,
        };
        let Some(response) = self.call(call).await? else {
            return Err(unexpected("an empty answer".into()));
        };
        if response.r#type != Some(expected as i32) {
            let got = response
                .r#type
                .and_then(|t| response::Type::try_from(t).ok())
                .map_or_else(|| "no type".to_string(), |t| t.as_str_name().to_string());
            return Err(unexpected(got));
        }
        pick(response)
            .ok_or_else(|| unexpected(format!("{} without its payload", expected.as_str_name())))
    }

    /// Sends a call answered without a body.
    async fn act(&self, call: Call) -> Result<(), OperatorError> {
        self.call(call).await.map(|_| ())
    }

    /// GET_HEALTH: whether the master is healthy.
    pub async fn get_health(&self) -> Result<bool, OperatorError> {
        self.ask(calls::get_health(), response::Type::GetHealth, |r| {
            r.get_health.map(|h| h.healthy)
        })
        .await
    }

    /// GET_FLAGS: the master's flags.
    pub async fn get_flags(&self) -> Result<Vec<v1::Flag>, OperatorError> {
        self.ask(calls::get_flags(), response::Type::GetFlags, |r| {
            r.get_flags.map(|f| f.flags)
        })
        .await
    }

    /// GET_VERSION.
    pub async fn get_version(&self) -> Result<v1::VersionInfo, OperatorError> {
        self.ask(calls::get_version(), response::Type::GetVersion, |r| {
            r.get_version.map(|v| v.version_info)
        })
        .await
    }

    /// GET_METRICS, waiting at most `timeout` on the master's side when set.
    pub async fn get_metrics(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Vec<v1::Metric>, OperatorError> {
        self.ask(
            calls::get_metrics(timeout),
            response::Type::GetMetrics,
            |r| r.get_metrics.map(|m| m.metrics),
        )
        .await
    }

    /// GET_LOGGING_LEVEL.
    pub async fn get_logging_level(&self) -> Result<u32, OperatorError> {
        self.ask(
            calls::get_logging_level(),
            response::Type::GetLoggingLevel,
            |r| r.get_logging_level.map(|l| l.level),
        )
        .await
    }

    /// GET_STATE: tasks, executors, frameworks and agents at one instant.
    pub async fn get_state(&self) -> Result<response::GetState, OperatorError> {
        self.ask(calls::get_state(), response::Type::GetState, |r| {
            r.get_state
        })
        .await
    }

    /// GET_AGENTS.
    pub async fn get_agents(&self) -> Result<response::GetAgents, OperatorError> {
        self.ask(calls::get_agents(), response::Type::GetAgents, |r| {
            r.get_agents
        })
        .await
    }

    /// GET_FRAMEWORKS.
    pub async fn get_frameworks(&self) -> Result<response::GetFrameworks, OperatorError> {
        self.ask(
            calls::get_frameworks(),
            response::Type::GetFrameworks,
            |r| r.get_frameworks,
        )
        .await
    }

    /// GET_EXECUTORS.
    pub async fn get_executors(&self) -> Result<response::GetExecutors, OperatorError> {
        self.ask(calls::get_executors(), response::Type::GetExecutors, |r| {
            r.get_executors
        })
        .await
    }

    /// GET_TASKS.
    pub async fn get_tasks(&self) -> Result<response::GetTasks, OperatorError> {
        self.ask(calls::get_tasks(), response::Type::GetTasks, |r| {
            r.get_tasks
        })
        .await
    }

    /// GET_ROLES.
    pub async fn get_roles(&self) -> Result<Vec<v1::Role>, OperatorError> {
        self.ask(calls::get_roles(), response::Type::GetRoles, |r| {
            r.get_roles.map(|r| r.roles)
        })
        .await
    }

    /// GET_OPERATIONS.
    pub async fn get_operations(&self) -> Result<Vec<v1::Operation>, OperatorError> {
        self.ask(
            calls::get_operations(),
            response::Type::GetOperations,
            |r| r.get_operations.map(|o| o.operations),
        )
        .await
    }

    /// GET_MASTER.
    pub async fn get_master(&self) -> Result<response::GetMaster, OperatorError> {
        self.ask(calls::get_master(), response::Type::GetMaster, |r| {
            r.get_master
        })
        .await
    }

    /// GET_WEIGHTS.
    pub async fn get_weights(&self) -> Result<Vec<v1::WeightInfo>, OperatorError> {
        self.ask(calls::get_weights(), response::Type::GetWeights, |r| {
            r.get_weights.map(|w| w.weight_infos)
        })
        .await
    }

    /// UPDATE_WEIGHTS: `(role, weight)` pairs, all or nothing.
    pub async fn update_weights<R: Into<String>>(
        &self,
        weights: impl IntoIterator<Item = (R, f64)>,
    ) -> Result<(), OperatorError> {
        self.act(calls::update_weights(weights)).await
    }

    /// RESERVE_RESOURCES on an agent (answered 202: applied asynchronously).
    pub async fn reserve_resources(
        &self,
        agent_id: v1::AgentId,
        resources: Vec<v1::Resource>,
    ) -> Result<(), OperatorError> {
        self.act(calls::reserve_resources(agent_id, resources))
            .await
    }

    /// UNRESERVE_RESOURCES on an agent (answered 202).
    pub async fn unreserve_resources(
        &self,
        agent_id: v1::AgentId,
        resources: Vec<v1::Resource>,
    ) -> Result<(), OperatorError> {
        self.act(calls::unreserve_resources(agent_id, resources))
            .await
    }

    /// TEARDOWN of a framework.
    pub async fn teardown(&self, framework_id: v1::FrameworkId) -> Result<(), OperatorError> {
        self.act(calls::teardown(framework_id)).await
    }

    /// MARK_AGENT_GONE.
    pub async fn mark_agent_gone(&self, agent_id: v1::AgentId) -> Result<(), OperatorError> {
        self.act(calls::mark_agent_gone(agent_id)).await
    }

    /// DEACTIVATE_AGENT.
    pub async fn deactivate_agent(&self, agent_id: v1::AgentId) -> Result<(), OperatorError> {
        self.act(calls::deactivate_agent(agent_id)).await
    }

    /// REACTIVATE_AGENT.
    pub async fn reactivate_agent(&self, agent_id: v1::AgentId) -> Result<(), OperatorError> {
        self.act(calls::reactivate_agent(agent_id)).await
    }
}
