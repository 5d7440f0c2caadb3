//! Building the status updates an agent originates, and sandbox paths.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use mesos_sdk::v1;

/// A fresh random 16-byte status update uuid.
pub(crate) fn fresh_uuid() -> Bytes {
    Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())
}

/// Seconds since the Unix epoch, as `TaskStatus.timestamp` carries it.
pub(crate) fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The fields of a status update the agent creates.
pub(crate) struct NewStatus<'a> {
    pub agent_id: &'a str,
    pub task_id: &'a v1::TaskId,
    pub executor_id: &'a v1::ExecutorId,
    pub state: v1::TaskState,
    pub source: v1::task_status::Source,
    pub reason: Option<v1::task_status::Reason>,
    pub message: Option<String>,
}

impl NewStatus<'_> {
    /// The update, with a fresh uuid and the current time.
    pub(crate) fn build(self) -> v1::TaskStatus {
        v1::TaskStatus {
            task_id: self.task_id.clone(),
            state: self.state as i32,
            message: self.message,
            source: Some(self.source as i32),
            reason: self.reason.map(|r| r as i32),
            agent_id: Some(v1::AgentId {
                value: self.agent_id.to_owned(),
            }),
            executor_id: Some(self.executor_id.clone()),
            timestamp: Some(now_seconds()),
            uuid: Some(fresh_uuid()),
            ..Default::default()
        }
    }
}

/// The directory of an agent's sandboxes, `<work_dir>/slaves/<agent>`.
pub(crate) fn agent_dir(work_dir: &Path, agent_id: &str) -> PathBuf {
    work_dir.join("slaves").join(sanitize(agent_id))
}

/// The sandbox of one executor run, laid out as the Mesos agent does:
/// `<work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>`.
pub(crate) fn sandbox_dir(
    work_dir: &Path,
    agent_id: &str,
    framework_id: &str,
    executor_id: &str,
    container_id: &str,
) -> PathBuf {
    agent_dir(work_dir, agent_id)
        .join("frameworks")
        .join(sanitize(framework_id))
        .join("executors")
        .join(sanitize(executor_id))
        .join("runs")
        .join(sanitize(container_id))
}

/// The default fetcher cache of an agent: `<work_dir>/fetch/<agent>`.
pub(crate) fn fetcher_cache_dir(work_dir: &Path, agent_id: &str) -> PathBuf {
    work_dir.join("fetch").join(sanitize(agent_id))
}

/// Ids come from frameworks: keep them to one path component.
fn sanitize(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => format!("_{cleaned}_"),
        _ => cleaned,
    }
}

/// A `DurationInfo` as a `Duration` (negative values count as zero).
pub(crate) fn duration(info: &v1::DurationInfo) -> std::time::Duration {
    std::time::Duration::from_nanos(u64::try_from(info.nanoseconds).unwrap_or(0))
}

/// Mesos's rendering of a duration in environment variables (`5secs`, `250ms`, ...).
pub(crate) fn mesos_duration(d: std::time::Duration) -> String {
    let nanos = d.as_nanos();
    if nanos % 1_000_000_000 == 0 {
        format!("{}secs", nanos / 1_000_000_000)
    } else if nanos % 1_000_000 == 0 {
        format!("{}ms", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!("{}us", nanos / 1_000)
    } else {
        format!("{nanos}ns")
    }
}

/// A duration as Mesos prints it in messages (stout's `operator<<`): in the largest
/// unit it reaches, fractions allowed: `1mins`, `1.5secs`, `300ms`.
pub(crate) fn mesos_duration_text(d: std::time::Duration) -> String {
    let secs = d.as_secs_f64();
    let units: [(f64, &str); 8] = [
        (7.0 * 86_400.0, "weeks"),
        (86_400.0, "days"),
        (3_600.0, "hrs"),
        (60.0, "mins"),
        (1.0, "secs"),
        (1e-3, "ms"),
        (1e-6, "us"),
        (1e-9, "ns"),
    ];
    let (size, name) = units
        .iter()
        .find(|(size, _)| secs >= *size)
        .copied()
        .unwrap_or((1e-9, "ns"));
    let value = secs / size;
    // Up to 15 significant digits, as stout prints, without trailing zeros.
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_mesos_does() {
        use std::time::Duration;
        assert_eq!(mesos_duration_text(Duration::from_secs(60)), "1mins");
        assert_eq!(mesos_duration_text(Duration::from_millis(1500)), "1.5secs");
        assert_eq!(mesos_duration_text(Duration::from_millis(300)), "300ms");
        assert_eq!(mesos_duration_text(Duration::from_secs(7200)), "2hrs");
    }

    #[test]
    fn sandbox_ids_cannot_escape_the_work_dir() {
        let dir = sandbox_dir(Path::new("/w"), "a", "../..", "x/y", "c");
        assert_eq!(
            dir,
            Path::new("/w/slaves/a/frameworks/.._../executors/x_y/runs/c")
        );
        assert!(!sandbox_dir(Path::new("/w"), "a", "..", "e", "c").ends_with(".."));
    }

    #[test]
    fn durations_use_mesos_units() {
        use std::time::Duration;
        assert_eq!(mesos_duration(Duration::from_secs(5)), "5secs");
        assert_eq!(mesos_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(mesos_duration(Duration::from_nanos(7)), "7ns");
    }
}
