//! The `mesos-local` binary: serves the scheduler API, and SIGTERM stops it with its
//! tasks killed and no process left behind.

mod support;

use std::process::Stdio;

use mesos_sdk::codec::Encoding;
use mesos_sdk::v1::TaskState;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::scheduler::*;
use support::*;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn sigterm_kills_tasks_and_leaves_no_process() {
    let work = std::env::temp_dir().join(format!("mesos-local-test-{}", uuid::Uuid::new_v4()));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .args([
            "--port",
            "0",
            "--agents",
            "1",
            "--resources",
            "cpus:1;mem:256",
            "--log",
            "info",
        ])
        .arg("--work-dir")
        .arg(&work)
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("mesos-local starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            // "... scheduler API at http://127.0.0.1:PORT/api/v1/scheduler ..."
            if let Some(at) = line.find("http://") {
                let url: String = line[at..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                return url.trim_end_matches("/api/v1/scheduler").to_string();
            }
        }
        panic!("mesos-local exited before printing its URL");
    })
    .await
    .expect("URL logged in time");
    // Keep draining the log so the binary never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    // The web UI's URL is printed on standard output, and the page is served there.
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let printed = tokio::time::timeout(WAIT, out.next_line())
        .await
        .expect("UI URL printed in time")
        .unwrap()
        .expect("a line on stdout");
    assert_eq!(printed, format!("mesos-local web UI: {url}/"));
    tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
    let page = support::scheduler::client()
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Dominant shares over time")
    );

    let mut s = subscribe(&url, Encoding::Protobuf, framework_info("binary")).await;
    let offer = s.offers().await.remove(0);
    let pid_file = work.join("task.pid");
    let command = format!("echo $$ > {}; exec sleep 30", pid_file.display());
    s.launch(&offer, vec![command_task("t", &offer, &command)])
        .await;
    s.until_state("t", TaskState::TaskRunning).await;
    let pid: i32 = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                return pid;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("task wrote its pid");
    assert!(alive(pid));

    kill(Pid::from_raw(child.id().unwrap() as i32), Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!alive(pid), "task process {pid} survived mesos-local");
    let _ = std::fs::remove_dir_all(&work);
}
