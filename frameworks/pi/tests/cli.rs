//! The `pi` binary as a user runs it: JSON report, bad flags, unreachable master.

use std::process::{Command, Output};
use std::time::Duration;

fn pi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pi"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the pi binary runs")
}

#[test]
fn json_report_has_the_documented_keys_and_a_sound_estimate() {
    let out = pi(&[
        "--samples",
        "4000000",
        "--tasks",
        "4",
        "--seed",
        "11",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one JSON object: {stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "error",
            "pi",
            "samples",
            "samples_per_second",
            "std_error",
            "tasks",
            "wall_seconds"
        ]
    );
    assert_eq!(v["samples"], 4_000_000);
    assert_eq!(v["tasks"], 4);
    let (pi, se) = (v["pi"].as_f64().unwrap(), v["std_error"].as_f64().unwrap());
    assert!(
        (pi - std::f64::consts::PI).abs() < 5.0 * se,
        "pi={pi} se={se}"
    );
    assert!((v["error"].as_f64().unwrap() - (pi - std::f64::consts::PI).abs()).abs() < 1e-15);
    assert!(v["wall_seconds"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_flags_give_one_line_and_a_failure_code() {
    for args in [
        &["--samples", "lots"][..],
        &["--tasks", "0"],
        &["--task-cpus", "-1"],
        &["--bogus"],
    ] {
        let out = pi(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("pi: "), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// A local port with nothing behind it (a listener bound, then dropped).
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a job against `master` given with `flag`, which must fail within its 3 s
/// connect timeout (30 s only catches a hang) with one line; returns that line.
fn fails_fast_with_one_line(flag: &str, master: &str) -> String {
    let start = std::time::Instant::now();
    let out = pi(&[flag, master, "--connect-timeout", "3", "--samples", "1000"]);
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("pi: "), "{stderr}");
    stderr
}

#[test]
fn unreachable_master_fails_fast_with_one_line() {
    fails_fast_with_one_line("--master", &format!("http://127.0.0.1:{}", dead_port()));
}

#[test]
fn the_seed_spelling_and_zk_addresses_are_accepted() {
    // `--mesos-master zk://…` as the seed's commands type it: with no ZooKeeper behind
    // the address, the job fails within --connect-timeout with one line, not with
    // "unsupported scheme".
    let url = format!("zk://127.0.0.1:{}/mesos", dead_port());
    let stderr = fails_fast_with_one_line("--mesos-master", &url);
    assert!(!stderr.contains("unsupported scheme"), "{stderr}");
}
