//! Encodings of the Mesos v1 HTTP API: protobuf and Mesos's JSON, plus RecordIO framing.
//!
//! Nothing here performs I/O. The codecs turn messages into bytes and back; the
//! [`recordio`] module frames and unframes event streams with a bounded record size.
//!
//! ```
//! use mesos_sdk::codec::Encoding;
//! use mesos_sdk::v1::FrameworkId;
//!
//! let id = FrameworkId { value: "f-1".into() };
//! for encoding in [Encoding::Protobuf, Encoding::Json] {
//!     let bytes = encoding.encode(&id);
//!     let back: FrameworkId = encoding.decode(&bytes).unwrap();
//!     assert_eq!(back, id);
//! }
//! assert_eq!(Encoding::Json.encode(&id), br#"{"value":"f-1"}"#);
//! ```

mod descriptors;
mod error;
pub mod json;
pub mod protobuf;
pub mod recordio;
mod required;

pub use descriptors::schema;
pub use error::DecodeError;

/// A message of the Mesos v1 schema: a prost message that knows its protobuf name.
///
/// Every generated type in [`crate::v1`] implements it.
pub trait WireMessage: prost::Message + prost::Name + Default {}

impl<T: prost::Message + prost::Name + Default> WireMessage for T {}

/// The body encoding of a call or an event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// `application/x-protobuf`: compact and fast; the default.
    #[default]
    Protobuf,
    /// `application/json`, in the shape Apache Mesos itself reads and writes.
    Json,
}

impl Encoding {
    /// The media type for `Content-Type` and `Accept` headers.
    pub const fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }

    /// The encoding named by a `Content-Type` header value (parameters such as
    /// `; charset=utf-8` are ignored), or `None` for any other media type.
    ///
    /// ```
    /// use mesos_sdk::codec::Encoding;
    /// assert_eq!(Encoding::from_media_type("application/json; charset=utf-8"), Some(Encoding::Json));
    /// assert_eq!(Encoding::from_media_type("text/plain"), None);
    /// ```
    pub fn from_media_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case("application/x-protobuf") {
            Some(Encoding::Protobuf)
        } else if essence.eq_ignore_ascii_case("application/json") {
            Some(Encoding::Json)
        } else {
            None
        }
    }

    /// The encoding a client's `Accept` header asks for, as Mesos reads it: a missing
    /// header, `*/*` or `application/*` mean `default`; otherwise the first supported
    /// media type listed wins. `None` means nothing acceptable (HTTP 406).
    ///
    /// ```
    /// use mesos_sdk::codec::Encoding;
    /// assert_eq!(Encoding::from_accept(None, Encoding::Json), Some(Encoding::Json));
    /// assert_eq!(Encoding::from_accept(Some("application/x-protobuf"), Encoding::Json), Some(Encoding::Protobuf));
    /// assert_eq!(Encoding::from_accept(Some("text/html"), Encoding::Json), None);
    /// ```
    pub fn from_accept(accept: Option<&str>, default: Encoding) -> Option<Self> {
        let Some(accept) = accept else {
            return Some(default);
        };
        for range in accept.split(',') {
            let essence = range.split(';').next().unwrap_or("").trim();
            if essence == "*/*" || essence.eq_ignore_ascii_case("application/*") {
                return Some(default);
            }
            if let Some(encoding) = Self::from_media_type(essence) {
                return Some(encoding);
            }
        }
        if accept.trim().is_empty() {
            return Some(default);
        }
        None
    }

    /// Encodes a message in this encoding.
    pub fn encode<M: WireMessage>(self, message: &M) -> Vec<u8> {
        match self {
            Encoding::Protobuf => message.encode_to_vec(),
            Encoding::Json => json::to_vec(message),
        }
    }

    /// Appends a message in this encoding to `dst` as one RecordIO record
    /// (`<length>\n<bytes>`), the framing of event streams. A protobuf message is encoded
    /// straight into `dst`, without an intermediate buffer.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use mesos_sdk::codec::Encoding;
    /// use mesos_sdk::v1::FrameworkId;
    ///
    /// let id = FrameworkId { value: "f-1".into() };
    /// let mut stream = BytesMut::new();
    /// Encoding::Json.encode_record(&id, &mut stream);
    /// Encoding::Json.encode_record(&id, &mut stream);
    /// assert_eq!(&stream[..], &b"15\n{\"value\":\"f-1\"}15\n{\"value\":\"f-1\"}"[..]);
    /// ```
    pub fn encode_record<M: WireMessage>(self, message: &M, dst: &mut bytes::BytesMut) {
        match self {
            Encoding::Protobuf => {
                let len = message.encoded_len();
                recordio::encode_header(len, dst);
                dst.reserve(len);
                message.encode_raw(dst);
            }
            Encoding::Json => recordio::encode_record(&json::to_vec(message), dst),
        }
    }

    /// Decodes a message in this encoding, leniently: absent required fields take their
    /// defaults, as prost does. Use [`Encoding::decode_strict`] to reject them.
    ///
    /// # Errors
    /// [`DecodeError`] when the bytes are not a valid message of type `M`.
    pub fn decode<M: WireMessage>(self, bytes: &[u8]) -> Result<M, DecodeError> {
        match self {
            Encoding::Protobuf => protobuf::decode(bytes),
            Encoding::Json => json::from_slice(bytes),
        }
    }

    /// Decodes a message and also checks that every `required` field of the schema is
    /// present, at any depth, as the C++ protobuf library behind Apache Mesos does.
    ///
    /// # Errors
    /// [`DecodeError`] for malformed input or a missing required field (the error
    /// names the field's path).
    pub fn decode_strict<M: WireMessage>(self, bytes: &[u8]) -> Result<M, DecodeError> {
        match self {
            Encoding::Protobuf => protobuf::decode_strict(bytes),
            Encoding::Json => json::from_slice_strict(bytes),
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.content_type())
    }
}
