//! The demo's outputs: a text table and a JSON report.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::state::FrameworkAllocation;
use crate::timeline::Sample;

/// Everything a demo run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Whether the allocation became steady (see [`crate::timeline::SteadyState`])
    /// before the time bound.
    pub steady: bool,
    /// Seconds from the first to the last sample.
    pub elapsed_secs: f64,
    /// The final allocation per framework.
    pub frameworks: Vec<FrameworkAllocation>,
    /// Every sample taken.
    pub timeline: Vec<Sample>,
}

/// Renders allocations as an aligned text table.
///
/// ```
/// use drf_demo::report::render_table;
/// use drf_demo::state::FrameworkAllocation;
/// let a = FrameworkAllocation { name: "A".into(), role: "a".into(), tasks: 3,
///     cpus: 3.0, mem: 12288.0, dominant_share: 2.0 / 3.0 };
/// let table = render_table(&[a]);
/// assert!(table.lines().nth(1).unwrap().contains("0.667"));
/// ```
pub fn render_table(frameworks: &[FrameworkAllocation]) -> String {
    let width = frameworks
        .iter()
        .map(|f| f.name.chars().count())
        .chain(std::iter::once("framework".len()))
        .max()
        .unwrap_or(9);
    let role_width = frameworks
        .iter()
        .map(|f| f.role.chars().count())
        .chain(std::iter::once("role".len()))
        .max()
        .unwrap_or(4);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<role_width$}  {:>5}  {:>6}  {:>9}  {:>14}",
        "framework", "role", "tasks", "cpus", "mem (MB)", "dominant share"
    );
    for f in frameworks {
        let _ = writeln!(
            out,
            "{:<width$}  {:<role_width$}  {:>5}  {:>6.2}  {:>9.0}  {:>14.3}",
            f.name, f.role, f.tasks, f.cpus, f.mem, f.dominant_share
        );
    }
    out
}
