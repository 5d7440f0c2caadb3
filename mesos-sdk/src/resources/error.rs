//! Errors from parsing or validating resources.

/// Why a resources text or a `v1::Resource` was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourcesError {
    /// A `name:value` entry was not of that shape.
    #[error("malformed resource entry `{entry}`: expected `name:value` or `name(role):value`")]
    Syntax {
        /// The offending entry, trimmed.
        entry: String,
    },
    /// The resource name is empty.
    #[error("resource entry `{entry}` has an empty name")]
    EmptyName {
        /// The offending entry, trimmed.
        entry: String,
    },
    /// A scalar value is not a finite decimal number.
    #[error("resource `{name}`: `{value}` is not a finite number")]
    BadNumber {
        /// Resource name.
        name: String,
        /// The text that failed to parse.
        value: String,
    },
    /// A scalar value is negative.
    #[error("resource `{name}`: value {value} is negative; resources must be >= 0")]
    Negative {
        /// Resource name.
        name: String,
        /// The negative value.
        value: f64,
    },
    /// A range is malformed or has `begin > end`.
    #[error("resource `{name}`: bad range `{range}`: expected `begin-end` with begin <= end")]
    BadRange {
        /// Resource name.
        name: String,
        /// The offending range text.
        range: String,
    },
    /// A `[...]` or `{...}` value is not closed, or the role/annotation syntax is wrong.
    #[error("resource `{name}`: malformed value or annotation `{text}`")]
    BadValue {
        /// Resource name.
        name: String,
        /// The offending text.
        text: String,
    },
    /// The same name is used with two different value types (e.g. scalar and ranges).
    #[error("resource `{name}` is given both as {first} and as {second}; use one type per name")]
    ConflictingTypes {
        /// Resource name.
        name: String,
        /// The first type seen.
        first: &'static str,
        /// The conflicting type.
        second: &'static str,
    },
    /// A `v1::Resource` lacks the value its `type` calls for, or has an unsupported type.
    #[error("resource `{name}`: type {kind} but the matching value field is absent or unsupported")]
    MissingValue {
        /// Resource name.
        name: String,
        /// The declared type.
        kind: &'static str,
    },
    /// A resource has refined (stacked) reservations, which the pre-refinement format
    /// cannot carry.
    #[error(
        "resource `{name}` has refined reservations; the peer needs the RESERVATION_REFINEMENT capability"
    )]
    RefinedReservation {
        /// Resource name.
        name: String,
    },
}
