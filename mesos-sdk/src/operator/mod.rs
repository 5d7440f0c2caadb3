//! A typed client of a Mesos master's operator API (`POST /api/v1`,
//! `include/mesos/v1/master/master.proto`): the `GET_*` queries, the calls that change
//! the cluster (weights, reservations, teardown, agents), and the SUBSCRIBE event
//! stream with a heartbeat watchdog and resubscription.
//!
//! [`OperatorClient`] finds the leading master like the scheduler does (`307`
//! redirects, and `zk://` detection through [`crate::detect`]), in protobuf or JSON.
//! It speaks to Apache Mesos masters and to the reference master alike.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mesos_sdk::operator::OperatorError> {
//! use futures::StreamExt;
//! use mesos_sdk::operator::OperatorClient;
//! use mesos_sdk::v1::master::event::Type;
//!
//! let client = OperatorClient::new("http://127.0.0.1:5050")?;
//! for agent in client.get_agents().await?.agents {
//!     println!("agent {}", agent.agent_info.hostname);
//! }
//! let mut events = client.events();
//! while let Some(event) = events.next().await {
//!     let event = event?;
//!     if event.r#type() == Type::TaskUpdated {
//!         println!("{:?}", event.task_updated.unwrap().state());
//!     }
//! }
//! # Ok(()) }
//! ```

mod client;
mod config;
mod error;
mod events;

pub use client::OperatorClient;
pub use config::{DEFAULT_MAX_RESPONSE_SIZE, OperatorBuilder};
pub use error::OperatorError;
pub use events::{EventStream, Subscription};
