//! Scenario files: what parses, what is rejected and why.

use drf_demo::scenario::{Scenario, ScenarioError};
use drf_demo::share::Amount;

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("drf-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_full_scenario_file_loads_with_defaults() {
    let path = write_temp(
        "full.json",
        r#"{
          "name": "two-teams",
          "cluster": { "agents": 3, "resources": "cpus:4;mem:4096;ports:[31000-32000]" },
          "weights": { "prod": 3 },
          "frameworks": [
            { "name": "web", "role": "prod", "task_cpus": 0.5, "task_mem": 256,
              "task_duration_secs": 30, "max_tasks": 10, "pack": true },
            { "name": "batch", "task_cpus": 2, "task_mem": 512 }
          ]
        }"#,
    );
    let s = Scenario::by_name_or_path(path.to_str().unwrap()).unwrap();
    assert_eq!(s.name, "two-teams");
    assert_eq!(s.cluster_total(), Amount::new(12.0, 12288.0));
    assert_eq!(s.weight("prod"), 3.0);
    assert_eq!(s.weight("*"), 1.0);
    let web = &s.frameworks[0];
    assert_eq!(
        (web.max_tasks, web.pack, web.task_duration_secs),
        (Some(10), true, 30.0)
    );
    let batch = &s.frameworks[1];
    assert_eq!(batch.role, "*");
    assert_eq!((batch.max_tasks, batch.pack), (None, false));
    assert!(
        batch.task_duration_secs >= 600.0,
        "default tasks outlive a demo"
    );
}

#[test]
fn builtin_names_win_over_files() {
    assert_eq!(
        Scenario::by_name_or_path("paper").unwrap(),
        Scenario::paper()
    );
    assert_eq!(
        Scenario::by_name_or_path("workshop")
            .unwrap()
            .frameworks
            .len(),
        3
    );
}

#[test]
fn bad_scenarios_say_what_is_wrong() {
    let missing = Scenario::by_name_or_path("/nonexistent/drf-scenario.json").unwrap_err();
    assert!(matches!(missing, ScenarioError::Read { .. }));

    let typo = Scenario::from_json(
        r#"{"name":"x","cluster":{"agents":1,"resources":"cpus:1;mem:1"},"framworks":[]}"#,
    )
    .unwrap_err();
    assert!(matches!(typo, ScenarioError::Parse(_)), "{typo}");

    let cases = [
        (
            r#"{"agents":0,"resources":"cpus:1;mem:100"}"#,
            "A",
            1.0,
            "agents",
        ),
        (
            r#"{"agents":1,"resources":"cpus:one"}"#,
            "A",
            1.0,
            "cluster.resources",
        ),
        (
            r#"{"agents":1,"resources":"cpus:1;mem:100"}"#,
            "A",
            2.0,
            "never fits",
        ),
        (
            r#"{"agents":1,"resources":"cpus:1;mem:100"}"#,
            "",
            1.0,
            "unique",
        ),
    ];
    for (cluster, name, cpus, expect) in cases {
        let text = format!(
            r#"{{"name":"x","cluster":{cluster},"frameworks":[{{"name":"{name}","task_cpus":{cpus},"task_mem":10}}]}}"#
        );
        match Scenario::from_json(&text) {
            Err(ScenarioError::Invalid(msg)) => assert!(msg.contains(expect), "{msg}"),
            other => panic!("{text}: expected Invalid({expect}), got {other:?}"),
        }
    }

    let dup = Scenario::from_json(
        r#"{"name":"x","cluster":{"agents":1,"resources":"cpus:2;mem:100"},
            "weights":{"r":0},
            "frameworks":[{"name":"A","task_cpus":1,"task_mem":10}]}"#,
    )
    .unwrap_err();
    assert!(dup.to_string().contains("weight"), "{dup}");
}

#[test]
fn the_shipped_example_scenario_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/two-teams.json");
    let s = Scenario::load(std::path::Path::new(path)).unwrap();
    assert_eq!(s.frameworks.len(), 3);
    assert_eq!(s.weight("prod"), 2.0);
    assert_eq!(s.frameworks[2].max_tasks, Some(4));
}
