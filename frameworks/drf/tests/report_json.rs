//! The `--json` report's shape: what scripts reading it rely on.

use drf_demo::report::{Report, render_table};
use drf_demo::state::FrameworkAllocation;
use drf_demo::timeline::Sample;

fn alloc(name: &str, tasks: u64, cpus: f64, mem: f64, share: f64) -> FrameworkAllocation {
    FrameworkAllocation {
        name: name.to_owned(),
        role: name.to_lowercase(),
        tasks,
        cpus,
        mem,
        dominant_share: share,
    }
}

#[test]
fn json_report_has_frameworks_and_a_timeline() {
    let last = vec![
        alloc("A", 3, 3.0, 12288.0, 2.0 / 3.0),
        alloc("B", 2, 6.0, 2048.0, 2.0 / 3.0),
    ];
    let report = Report {
        scenario: "paper".into(),
        steady: true,
        elapsed_secs: 0.5,
        frameworks: last.clone(),
        timeline: vec![
            Sample {
                t: 0.0,
                frameworks: vec![alloc("A", 1, 1.0, 4096.0, 0.222)],
            },
            Sample {
                t: 0.5,
                frameworks: last,
            },
        ],
    };
    let value = serde_json::to_value(&report).unwrap();
    let a = &value["frameworks"][0];
    for key in ["name", "role", "tasks", "cpus", "mem", "dominant_share"] {
        assert!(a.get(key).is_some(), "frameworks[0] lacks {key}: {a}");
    }
    assert_eq!(a["tasks"], 3);
    assert_eq!(value["timeline"][1]["t"], 0.5);
    assert_eq!(value["timeline"][0]["frameworks"][0]["name"], "A");
    assert_eq!(value["steady"], true);

    let back: Report = serde_json::from_value(value).unwrap();
    assert_eq!(back, report, "the report reads back unchanged");
}

#[test]
fn the_table_has_a_row_per_framework_in_order() {
    let table = render_table(&[
        alloc("Framework A", 3, 3.0, 12288.0, 2.0 / 3.0),
        alloc("B", 0, 0.0, 0.0, 0.0),
    ]);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].starts_with("framework"));
    assert!(rows[1].starts_with("Framework A") && rows[1].ends_with("0.667"));
    assert!(rows[2].starts_with("B ") && rows[2].ends_with("0.000"));
    // Columns line up: every row is as wide as the header.
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{table}");
}
