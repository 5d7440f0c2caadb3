//! What travels in `TaskInfo.data` and `TaskStatus.data`: small JSON documents, readable
//! in any Mesos UI, decoded with a size cap because an agent or executor could send
//! anything.

use serde::{Deserialize, Serialize};

/// Largest `data` payload accepted in either direction; the real ones are under 100 bytes.
pub const MAX_PAYLOAD: usize = 1024;

/// The work of one task: `samples` points of stream `stream` under `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInput {
    /// The job seed.
    pub seed: u64,
    /// The stream id, which is the task's index in the job.
    pub stream: u64,
    /// How many samples to draw.
    pub samples: u64,
}

/// The outcome of one task, sent back in the data of `TASK_FINISHED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskOutput {
    /// The stream id the samples came from.
    pub stream: u64,
    /// Samples drawn.
    pub samples: u64,
    /// Samples inside the quarter circle.
    pub hits: u64,
}

/// A task payload could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload is larger than [`MAX_PAYLOAD`].
    #[error("task payload is {0} bytes, over the {MAX_PAYLOAD}-byte limit; is this a Pi task?")]
    TooLarge(usize),
    /// The payload is not the expected JSON document.
    #[error(
        "task payload is not valid Pi JSON (check that scheduler and executor versions match): {0}"
    )]
    Malformed(#[from] serde_json::Error),
    /// The document is well formed but inconsistent.
    #[error("task payload is inconsistent: {0}")]
    Invalid(&'static str),
}

impl TaskInput {
    /// The JSON bytes for `TaskInfo.data`.
    pub fn encode(&self) -> bytes::Bytes {
        encode(self)
    }

    /// Reads `TaskInfo.data`.
    ///
    /// # Errors
    /// [`PayloadError`] when the data is too large or not a task input.
    pub fn decode(data: &[u8]) -> Result<Self, PayloadError> {
        decode(data)
    }
}

impl TaskOutput {
    /// The JSON bytes for `TaskStatus.data`.
    pub fn encode(&self) -> bytes::Bytes {
        encode(self)
    }

    /// Reads `TaskStatus.data`, rejecting more hits than samples.
    ///
    /// # Errors
    /// [`PayloadError`] when the data is too large, not a task output, or inconsistent.
    pub fn decode(data: &[u8]) -> Result<Self, PayloadError> {
        let out: TaskOutput = decode(data)?;
        if out.hits > out.samples {
            return Err(PayloadError::Invalid("more hits than samples"));
        }
        Ok(out)
    }
}

fn encode<T: Serialize>(value: &T) -> bytes::Bytes {
    // Serialising a struct of integers to a Vec cannot fail.
    serde_json::to_vec(value).unwrap_or_default().into()
}

fn decode<T: for<'de> Deserialize<'de>>(data: &[u8]) -> Result<T, PayloadError> {
    if data.len() > MAX_PAYLOAD {
        return Err(PayloadError::TooLarge(data.len()));
    }
    Ok(serde_json::from_slice(data)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let i = TaskInput {
            seed: u64::MAX,
            stream: 3,
            samples: 1 << 40,
        };
        assert_eq!(TaskInput::decode(&i.encode()).unwrap(), i);
        let o = TaskOutput {
            stream: 3,
            samples: 10,
            hits: 7,
        };
        assert_eq!(TaskOutput::decode(&o.encode()).unwrap(), o);
    }

    #[test]
    fn rejects_bad_payloads() {
        assert!(matches!(
            TaskInput::decode(b"nope"),
            Err(PayloadError::Malformed(_))
        ));
        assert!(matches!(
            TaskInput::decode(&[b' '; 2000]),
            Err(PayloadError::TooLarge(2000))
        ));
        let bad = br#"{"stream":0,"samples":1,"hits":2}"#;
        assert!(matches!(
            TaskOutput::decode(bad),
            Err(PayloadError::Invalid(_))
        ));
    }
}
