//! The binary's contract: exit codes, one-line errors, and `--json` on stdout.

use std::process::{Command, Stdio};
use std::time::Duration;

fn throttler(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_throttler"))
        .args(args)
        .env_remove("MESOS_AGENT_ENDPOINT")
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    // Bounded: a hang is a failure, not a stuck CI job.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("throttler {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let out = throttler(&["--total-queries", "10", "--parallelism", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--parallelism"), "{stderr}");
}

#[test]
fn unreachable_cassandra_is_a_prompt_one_line_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let out = throttler(&[
        "--total-queries",
        "10",
        "--cassandra-host",
        &host,
        "--request-timeout",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&host) && stderr.contains("--cassandra-host"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn json_report_is_exactly_one_object_on_stdout() {
    let out = throttler(&[
        "--target",
        "noop",
        "--total-queries",
        "40",
        "--queries-per-task",
        "10",
        "--parallelism",
        "2",
        "--task-cpus",
        "0.1",
        "--task-mem",
        "16",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON value");
    assert_eq!(stdout.trim().lines().count(), 1);
    assert_eq!(v["total_queries"], 40);
    assert_eq!(v["succeeded"], 40);
    assert!(v["max_running_tasks"].as_u64().unwrap() <= 2);
    assert_eq!(v["target"], "noop");
}

#[test]
fn tasks_that_fail_every_attempt_fail_the_run_and_say_why() {
    // Every task fails on every attempt: the report still comes out, but the run
    // exits 1 with one line naming a task, its final state and the executor's message.
    let out = throttler(&[
        "--target",
        "noop",
        "--total-queries",
        "20",
        "--queries-per-task",
        "10",
        "--parallelism",
        "2",
        "--max-task-attempts",
        "2",
        "--noop-fail-task-always-every",
        "1",
        "--task-cpus",
        "0.1",
        "--task-mem",
        "16",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("2 task(s) failed on every attempt")
            && stderr.contains("ended TASK_FAILED (from the executor): simulated task failure"),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the report");
    assert_eq!(v["failed"], 20);
    assert_eq!(v["errors"]["task_failed"], 20);
}
