//! The terminal progress bar: follows the scheduler's [`Snapshot`]s and shows queries
//! completed (moving per query, from executors' progress messages), the rate in
//! queries per second, and the running tasks. Drawn on stderr, and only when stderr is a
//! terminal and `--json` is off.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::progress::Snapshot;

/// Starts drawing the bar for a run of `total` queries (`None` for a `--duration`
/// run: a spinner). Returns `None` when no bar is drawn. The task ends, clearing the
/// bar, on a snapshot marked done or when the sender is dropped.
pub fn spawn(
    config: &Config,
    total: Option<u64>,
    rx: watch::Receiver<Snapshot>,
) -> Option<JoinHandle<()>> {
    if config.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            "{bar:40} {pos}/{len} queries, {per_sec}, {msg} [{elapsed}]",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {pos} queries, {per_sec}, {msg} [{elapsed}]",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(tokio::spawn(follow(bar, rx)))
}

async fn follow(bar: ProgressBar, mut rx: watch::Receiver<Snapshot>) {
    loop {
        let s = *rx.borrow_and_update();
        bar.set_position(s.position());
        bar.set_message(format!("{} tasks running", s.running));
        if s.done || rx.changed().await.is_err() {
            break;
        }
    }
    bar.finish_and_clear();
}
