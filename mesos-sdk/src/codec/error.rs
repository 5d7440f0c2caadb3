use thiserror::Error;

/// A body that could not be decoded as the expected message.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The protobuf bytes are malformed.
    #[error("invalid protobuf for {message}: {source}")]
    Protobuf {
        /// Full protobuf name of the expected message.
        message: String,
        /// What prost found wrong.
        #[source]
        source: prost::DecodeError,
    },
    /// The JSON is malformed or does not fit the message's schema.
    #[error("invalid JSON for {message}: {source}")]
    Json {
        /// Full protobuf name of the expected message.
        message: String,
        /// What the JSON parser found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// A `required` field of the schema is absent.
    #[error("{message} is missing required field '{field}'")]
    MissingRequired {
        /// Full protobuf name of the top-level message.
        message: String,
        /// Dotted path of the missing field, e.g. `subscribe.framework_info.user`.
        field: String,
    },
    /// The message type is not in the bundled schema (a bug in the SDK).
    #[error("message type {0} is not in the bundled Mesos schema")]
    UnknownMessage(String),
}
