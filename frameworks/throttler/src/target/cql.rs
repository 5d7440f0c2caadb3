//! The CQL target: Cassandra or ScyllaDB through the scylla driver.
//!
//! One [`CqlTarget`] (one driver `Session`, with its connection pools) serves every task
//! of an executor. Statements are prepared once; requests run concurrently on the
//! session. The schema is created if absent and never dropped.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{DbError, ExecutionError, NewSessionError, PrepareError, RequestAttemptError};
use scylla::statement::Consistency;
use scylla::statement::prepared::PreparedStatement;
use serde::{Deserialize, Serialize};

use super::{Op, QueryError, QueryTarget};
use crate::config::{Config, ConfigError, ConsistencyLevel};

/// Where and how to reach the cluster; sent to executors inside each task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CqlSettings {
    /// Contact points, `host:port`.
    pub contact_points: Vec<String>,
    /// Keyspace (a validated CQL identifier).
    pub keyspace: String,
    /// Table (a validated CQL identifier).
    pub table: String,
    /// Consistency of every request.
    pub consistency: ConsistencyLevel,
    /// Replication factor when the keyspace is created.
    pub replication_factor: u32,
    /// Connection and per-request timeout, milliseconds.
    pub timeout_ms: u64,
}

impl CqlSettings {
    /// The settings of a validated [`Config`].
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for bad contact points.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            contact_points: config.contact_points()?,
            keyspace: config.keyspace.clone(),
            table: config.table.clone(),
            consistency: config.consistency,
            replication_factor: config.replication_factor,
            timeout_ms: u64::try_from(config.request_timeout.as_millis()).unwrap_or(u64::MAX),
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }

    /// The `CREATE KEYSPACE IF NOT EXISTS` statement.
    pub fn create_keyspace_cql(&self) -> String {
        format!(
            "CREATE KEYSPACE IF NOT EXISTS {} WITH replication = \
             {{'class': 'SimpleStrategy', 'replication_factor': {}}}",
            self.keyspace, self.replication_factor
        )
    }

    /// The `CREATE TABLE IF NOT EXISTS` statement.
    pub fn create_table_cql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {}.{} (key bigint PRIMARY KEY, value bigint)",
            self.keyspace, self.table
        )
    }
}

/// Why the CQL target could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CqlError {
    /// No contact point answered in time.
    #[error(
        "cannot connect to Cassandra at {hosts}: {source} \
         (check --cassandra-host and that the server is listening)"
    )]
    Connect {
        /// The contact points tried.
        hosts: String,
        /// The driver's error.
        source: NewSessionError,
    },
    /// Connecting took longer than the timeout.
    #[error(
        "connecting to Cassandra at {hosts} timed out after {timeout:?} (check --cassandra-host)"
    )]
    ConnectTimeout {
        /// The contact points tried.
        hosts: String,
        /// The timeout.
        timeout: Duration,
    },
    /// A schema statement failed (often: no CREATE permission for this user).
    #[error(
        "`{statement}` failed: {source} (check the user's CREATE permission and --replication-factor)"
    )]
    Schema {
        /// The statement.
        statement: String,
        /// The driver's error.
        source: ExecutionError,
    },
    /// Preparing a workload statement failed.
    #[error(
        "preparing `{statement}` failed: {source} (check SELECT/MODIFY permission on the table)"
    )]
    Prepare {
        /// The statement.
        statement: String,
        /// The driver's error.
        source: PrepareError,
    },
}

/// The CQL target.
#[derive(Debug, Clone)]
pub struct CqlTarget {
    session: Arc<Session>,
    insert: PreparedStatement,
    select: PreparedStatement,
}

impl CqlTarget {
    /// Connects (bounded by the settings' timeout), creates the schema if absent, and
    /// prepares the workload's statements.
    ///
    /// # Errors
    ///
    /// [`CqlError`] saying which step failed and what to check.
    pub async fn connect(settings: &CqlSettings) -> Result<Self, CqlError> {
        let hosts = settings.contact_points.join(",");
        let timeout = settings.timeout();
        let builder = SessionBuilder::new()
            .known_nodes(&settings.contact_points)
            .connection_timeout(timeout);
        // The driver's own timeout covers each connection attempt; bound the whole
        // bootstrap (metadata fetch included) as well so an unreachable cluster cannot hang.
        let session = tokio::time::timeout(timeout * 3, builder.build())
            .await
            .map_err(|_| CqlError::ConnectTimeout {
                hosts: hosts.clone(),
                timeout: timeout * 3,
            })?
            .map_err(|source| CqlError::Connect { hosts, source })?;
        for statement in [settings.create_keyspace_cql(), settings.create_table_cql()] {
            tracing::debug!(%statement, "ensuring schema");
            if let Err(source) = session.query_unpaged(statement.as_str(), ()).await {
                return Err(CqlError::Schema { statement, source });
            }
        }
        let insert = prepare(
            &session,
            format!(
                "INSERT INTO {}.{} (key, value) VALUES (?, ?)",
                settings.keyspace, settings.table
            ),
            settings,
        )
        .await?;
        let select = prepare(
            &session,
            format!(
                "SELECT value FROM {}.{} WHERE key = ?",
                settings.keyspace, settings.table
            ),
            settings,
        )
        .await?;
        Ok(Self {
            session: Arc::new(session),
            insert,
            select,
        })
    }
}

async fn prepare(
    session: &Session,
    statement: String,
    settings: &CqlSettings,
) -> Result<PreparedStatement, CqlError> {
    let mut prepared = match session.prepare(statement.as_str()).await {
        Ok(p) => p,
        Err(source) => return Err(CqlError::Prepare { statement, source }),
    };
    prepared.set_consistency(consistency(settings.consistency));
    prepared.set_request_timeout(Some(settings.timeout()));
    // Both statements are safe to retry: an upsert of a fixed value and a read.
    prepared.set_is_idempotent(true);
    Ok(prepared)
}

/// The driver's consistency for a flag value.
pub fn consistency(level: ConsistencyLevel) -> Consistency {
    match level {
        ConsistencyLevel::Any => Consistency::Any,
        ConsistencyLevel::One => Consistency::One,
        ConsistencyLevel::Two => Consistency::Two,
        ConsistencyLevel::Three => Consistency::Three,
        ConsistencyLevel::Quorum => Consistency::Quorum,
        ConsistencyLevel::All => Consistency::All,
        ConsistencyLevel::LocalQuorum => Consistency::LocalQuorum,
        ConsistencyLevel::EachQuorum => Consistency::EachQuorum,
        ConsistencyLevel::LocalOne => Consistency::LocalOne,
    }
}

/// The report's error kind for a driver error.
pub fn error_kind(error: &ExecutionError) -> &'static str {
    match error {
        ExecutionError::RequestTimeout(_) => "client_timeout",
        ExecutionError::ConnectionPoolError(_) => "connection",
        ExecutionError::LastAttemptError(RequestAttemptError::BrokenConnectionError(_)) => {
            "connection"
        }
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(db, _)) => match db {
            DbError::Unavailable { .. } => "unavailable",
            DbError::ReadTimeout { .. } => "read_timeout",
            DbError::WriteTimeout { .. } => "write_timeout",
            DbError::ReadFailure { .. } => "read_failure",
            DbError::WriteFailure { .. } => "write_failure",
            DbError::Overloaded | DbError::RateLimitReached { .. } => "overloaded",
            DbError::Unauthorized | DbError::AuthenticationError => "unauthorized",
            DbError::IsBootstrapping => "bootstrapping",
            _ => "server_error",
        },
        _ => "driver",
    }
}

#[async_trait]
impl QueryTarget for CqlTarget {
    async fn execute(&self, _query: u64, op: Op) -> Result<(), QueryError> {
        let result = match op {
            Op::Write { key, value } => {
                self.session
                    .execute_unpaged(&self.insert, (key, value))
                    .await
            }
            Op::Read { key } => self.session.execute_unpaged(&self.select, (key,)).await,
        };
        result
            .map(drop)
            .map_err(|e| QueryError::new(error_kind(&e), e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_statements_never_drop_and_use_the_flags() {
        let s = CqlSettings {
            contact_points: vec!["127.0.0.1:9042".into()],
            keyspace: "ks".into(),
            table: "t".into(),
            consistency: ConsistencyLevel::One,
            replication_factor: 3,
            timeout_ms: 100,
        };
        assert_eq!(
            s.create_keyspace_cql(),
            "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 3}"
        );
        assert!(
            s.create_table_cql()
                .starts_with("CREATE TABLE IF NOT EXISTS ks.t (")
        );
        assert!(!format!("{}{}", s.create_keyspace_cql(), s.create_table_cql()).contains("DROP"));
    }

    #[test]
    fn client_timeouts_are_classified() {
        let e = ExecutionError::RequestTimeout(Duration::from_secs(1));
        assert_eq!(error_kind(&e), "client_timeout");
    }

    #[tokio::test]
    async fn unreachable_cluster_is_a_prompt_error() {
        // Nothing listens on a port we just bound and released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = CqlSettings {
            contact_points: vec![format!("127.0.0.1:{port}")],
            keyspace: "ks".into(),
            table: "t".into(),
            consistency: ConsistencyLevel::One,
            replication_factor: 1,
            timeout_ms: 500,
        };
        let err = tokio::time::timeout(Duration::from_secs(10), CqlTarget::connect(&s))
            .await
            .expect("connect is bounded")
            .unwrap_err();
        assert!(err.to_string().contains("--cassandra-host"), "{err}");
    }
}
