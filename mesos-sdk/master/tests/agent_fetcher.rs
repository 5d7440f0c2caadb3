//! The agents' fetcher: `CommandInfo.uris` fetched into the sandbox before a command
//! task or an executor starts, from a real HTTP server and real files, with Mesos's
//! extraction, `executable`, `output_file` and cache; failures end the task TASK_FAILED
//! with REASON_CONTAINER_LAUNCH_FAILED.

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use mesos_master::agent::protocol::{FromAgent, ToAgent};
use mesos_sdk::v1;
use mesos_sdk::v1::TaskState;
use mesos_sdk::v1::task_status::{Reason, Source};
use support::agent::*;
use support::files::FileServer;
use support::*;

fn uri(value: &str) -> v1::command_info::Uri {
    v1::command_info::Uri {
        value: value.into(),
        ..Default::default()
    }
}

fn task_with(id: &str, command: &str, uris: Vec<v1::command_info::Uri>) -> v1::TaskInfo {
    let mut task = shell_task(id, command);
    task.command.as_mut().unwrap().uris = uris;
    task
}

/// The task's updates up to its terminal one (acknowledged); returns the last.
async fn terminal(h: &mut Harness) -> v1::TaskStatus {
    loop {
        let status = h.next_acked().await;
        if state(&status).is_terminal() {
            return status;
        }
    }
}

/// The stdout of the one task that ran in the harness.
fn stdout(h: &Harness) -> String {
    let path = find_files(&h.scratch.0, "stdout")
        .pop()
        .expect("a stdout file");
    std::fs::read_to_string(path).unwrap()
}

fn tar_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data, mode) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(*mode);
        header.set_cksum();
        builder.append_data(&mut header, path, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A tar whose one entry's name is written raw (so `..` and absolute names get in).
fn raw_tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, data).unwrap();
    builder.into_inner().unwrap()
}

fn symlink_tar(link: &str, target: &str, then: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    header.set_mode(0o777);
    builder.append_link(&mut header, link, target).unwrap();
    let mut file = tar::Header::new_gnu();
    file.set_size(3);
    file.set_mode(0o644);
    builder.append_data(&mut file, then, &b"bad"[..]).unwrap();
    builder.into_inner().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bz2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zip_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data, mode) in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(*mode);
        w.start_file(*path, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn an_http_uri_is_fetched_executable_under_its_output_file() {
    let server = FileServer::start(vec![(
        "tool",
        b"#!/bin/sh\necho \"tool ran in $MESOS_SANDBOX\"\n".to_vec(),
    )])
    .await;
    let mut h = Harness::start().await;
    let mut fetched = uri(&server.url("tool"));
    fetched.executable = Some(true);
    fetched.output_file = Some("bin/run-me".into());
    h.run_task(task_with("t1", "./bin/run-me", vec![fetched]));

    assert_eq!(state(&h.next_acked().await), TaskState::TaskStarting);
    assert_eq!(state(&h.next_acked().await), TaskState::TaskRunning);
    let done = terminal(&mut h).await;
    assert_eq!(state(&done), TaskState::TaskFinished, "{:?}", done.message);

    let script = find_files(&h.scratch.0, "run-me").pop().unwrap();
    let sandbox = script.parent().unwrap().parent().unwrap();
    assert_eq!(
        std::fs::metadata(&script).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert_eq!(stdout(&h), format!("tool ran in {}\n", sandbox.display()));
    assert_eq!(server.hits("tool"), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn every_archive_kind_is_extracted_into_the_sandbox() {
    let src = Scratch::new();
    let tar = tar_of(&[
        ("pkg/hello.txt", b"hello\n", 0o644),
        ("pkg/run.sh", b"#!/bin/sh\necho ran\n", 0o755),
    ]);
    let zip = zip_of(&[
        ("zpkg/hello.txt", b"zipped\n", 0o644),
        ("zpkg/run.sh", b"#!/bin/sh\necho zran\n", 0o755),
    ]);
    let uris = vec![
        uri(&write(&src.0, "a.tar", &tar)),
        uri(&format!("file://{}", write(&src.0, "b.tar.gz", &gz(&tar)))),
        uri(&write(&src.0, "c.tgz", &gz(&tar))),
        uri(&write(&src.0, "d.tar.bz2", &bz2(&tar))),
        uri(&write(&src.0, "e.tar.xz", &xz(&tar))),
        uri(&write(&src.0, "f.txz", &xz(&tar))),
        uri(&write(&src.0, "g.zip", &zip)),
        uri(&write(&src.0, "notes.txt.gz", &gz(b"plain\n"))),
    ];
    let mut h = Harness::start().await;
    h.run_task(task_with(
        "t1",
        "cat pkg/hello.txt zpkg/hello.txt notes.txt && ./pkg/run.sh && ./zpkg/run.sh && ls",
        uris,
    ));
    let done = terminal(&mut h).await;
    assert_eq!(state(&done), TaskState::TaskFinished, "{:?}", done.message);
    let out = stdout(&h);
    assert!(
        out.starts_with("hello\nzipped\nplain\nran\nzran\n"),
        "{out}"
    );
    // Without the cache the archives stay next to what they held, as in Mesos.
    for name in ["a.tar", "b.tar.gz", "g.zip", "notes.txt.gz"] {
        assert!(out.lines().any(|l| l == name), "{name} in {out}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn extract_false_and_executable_leave_archives_packed() {
    let src = Scratch::new();
    let tar = tar_of(&[("pkg/hello.txt", b"hello\n", 0o644)]);
    let mut packed = uri(&write(&src.0, "a.tar", &tar));
    packed.extract = Some(false);
    let mut exec = uri(&write(&src.0, "b.tgz", &gz(&tar)));
    exec.executable = Some(true);
    let mut h = Harness::start().await;
    h.run_task(task_with(
        "t1",
        "test ! -e pkg && test -x b.tgz && test -f a.tar",
        vec![packed, exec],
    ));
    let done = terminal(&mut h).await;
    assert_eq!(state(&done), TaskState::TaskFinished, "{:?}", done.message);
    h.shutdown().await;
}

/// A failed fetch: TASK_FAILED from the agent, REASON_CONTAINER_LAUNCH_FAILED, a
/// message naming the URI and the cause; the task never started.
async fn fails_to_fetch(h: &mut Harness, uri_text: &str, cause: &str) {
    let status = h.next_acked().await;
    assert_eq!(
        state(&status),
        TaskState::TaskFailed,
        "{:?}",
        status.message
    );
    assert_eq!(status.reason, Some(Reason::ContainerLaunchFailed as i32));
    assert_eq!(status.source, Some(Source::Agent as i32));
    let message = status.message.unwrap();
    assert!(
        message.starts_with(&format!(
            "Failed to launch container: Failed to fetch '{uri_text}': "
        )),
        "{message}"
    );
    assert!(message.contains(cause), "{message} should say {cause}");
}

#[tokio::test]
async fn bad_uris_fail_the_task_naming_the_uri_and_the_cause() {
    let server = FileServer::start(vec![]).await;
    let missing = server.url("missing");
    let cases = [
        (missing.as_str(), "received HTTP return code 404"),
        (
            "/nonexistent/mesos-fetch-test",
            "is not a readable regular file",
        ),
        ("hdfs://namenode/x.tgz", "unsupported URI scheme 'hdfs'"),
        ("relative/x", "relative path"),
        ("http://127.0.0.1:1/x", "error downloading resource"),
    ];
    let mut h = Harness::start().await;
    for (i, (bad, cause)) in cases.iter().enumerate() {
        h.run_task(task_with(&format!("t{i}"), "touch ran", vec![uri(bad)]));
        fails_to_fetch(&mut h, bad, cause).await;
    }
    assert!(find_files(&h.scratch.0, "ran").is_empty(), "no task ran");
    h.shutdown().await;
}

#[tokio::test]
async fn path_traversal_is_refused() {
    let src = Scratch::new();
    let outside = src.0.join("escaped");
    let dotdot = write(
        &src.0,
        "dotdot.tar",
        &raw_tar("../../../../../../escaped", b"x"),
    );
    let absolute = write(
        &src.0,
        "abs.tar",
        &raw_tar(&outside.display().to_string(), b"x"),
    );
    let link = write(
        &src.0,
        "link.tar",
        &symlink_tar("up", &src.0.display().to_string(), "up/escaped"),
    );
    let climbing = write(
        &src.0,
        "climb.tar",
        &symlink_tar("a/up", "../../..", "a/up/escaped"),
    );
    let plain = write(&src.0, "plain.txt", b"x");
    let mut h = Harness::start().await;
    for (i, bad) in [&dotdot, &absolute, &link, &climbing]
        .into_iter()
        .enumerate()
    {
        h.run_task(task_with(&format!("t{i}"), "true", vec![uri(bad)]));
        fails_to_fetch(&mut h, bad, "outside the sandbox; refused").await;
    }
    for (i, output) in ["../escaped", "/tmp/escaped", "a/../../escaped"]
        .into_iter()
        .enumerate()
    {
        let mut out = uri(&plain);
        out.output_file = Some(output.into());
        h.run_task(task_with(&format!("o{i}"), "true", vec![out]));
        fails_to_fetch(&mut h, &plain, "is not a relative path inside the sandbox").await;
    }
    assert!(!outside.exists(), "nothing was written outside the sandbox");
    assert!(!Path::new("/tmp/escaped").exists());
    h.shutdown().await;
}

#[tokio::test]
async fn downloads_are_bounded_in_size_and_time() {
    let server = FileServer::start(vec![("big", vec![b'x'; 4096])]).await;
    let src = Scratch::new();
    let big_local = write(&src.0, "big.bin", &[b'y'; 4096]);
    let bomb = write(
        &src.0,
        "bomb.tgz",
        &gz(&tar_of(&[("zeros", &[0u8; 8192], 0o644)])),
    );
    let mut h = Harness::start_with(|c| {
        c.fetcher.max_bytes = 1024;
        c.fetcher.stall_timeout = Duration::from_millis(200);
    })
    .await;
    let big = server.url("big");
    h.run_task(task_with("t1", "true", vec![uri(&big)]));
    fails_to_fetch(&mut h, &big, "larger than the limit of 1024 bytes").await;
    h.run_task(task_with("t2", "true", vec![uri(&big_local)]));
    fails_to_fetch(&mut h, &big_local, "larger than the limit of 1024 bytes").await;
    // Small compressed, large unpacked: the content is bounded too.
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1024);
    h.run_task(task_with("t3", "true", vec![uri(&bomb)]));
    fails_to_fetch(&mut h, &bomb, "larger than the limit of 1024 bytes").await;
    let stalled = server.stall_url("slow");
    h.run_task(task_with("t4", "true", vec![uri(&stalled)]));
    fails_to_fetch(&mut h, &stalled, "the download stalled").await;
    h.shutdown().await;
}

#[tokio::test]
async fn a_task_killed_while_fetching_is_killed_without_starting() {
    let server = FileServer::start(vec![]).await;
    let mut h = Harness::start().await;
    h.run_task(task_with(
        "t1",
        "touch ran",
        vec![uri(&server.stall_url("x"))],
    ));
    // The agent takes the kill while the download hangs.
    h.to_agent
        .send(ToAgent::KillTask {
            framework_id: v1::FrameworkId { value: "f1".into() },
            task_id: v1::TaskId { value: "t1".into() },
            kill_policy: None,
        })
        .unwrap();
    let status = h.next_acked().await;
    assert_eq!(
        state(&status),
        TaskState::TaskKilled,
        "{:?}",
        status.message
    );
    assert!(find_files(&h.scratch.0, "ran").is_empty());
    h.shutdown().await;
}

#[tokio::test]
async fn cached_uris_are_downloaded_once_per_user() {
    let tar = tar_of(&[("pkg/hello.txt", b"cached\n", 0o644)]);
    let server = FileServer::start(vec![
        ("pkg.tgz", gz(&tar)),
        ("tool", b"#!/bin/sh\necho tool\n".to_vec()),
    ])
    .await;
    let mut h = Harness::start().await;
    for i in 0..3 {
        let mut archive = uri(&server.url("pkg.tgz"));
        archive.cache = Some(true);
        let mut tool = uri(&server.url("tool"));
        tool.cache = Some(true);
        tool.executable = Some(true);
        h.run_task(task_with(
            &format!("t{i}"),
            "cat pkg/hello.txt && ./tool && ls",
            vec![archive, tool],
        ));
        let done = terminal(&mut h).await;
        assert_eq!(state(&done), TaskState::TaskFinished, "{:?}", done.message);
    }
    assert_eq!(server.hits("pkg.tgz"), 1, "the archive came from the cache");
    assert_eq!(server.hits("tool"), 1, "the tool came from the cache");
    for out in find_files(&h.scratch.0, "stdout") {
        let out = std::fs::read_to_string(out).unwrap();
        assert!(out.starts_with("cached\ntool\n"), "{out}");
        // From the cache, only the extracted content lands in the sandbox.
        assert!(!out.lines().any(|l| l == "pkg.tgz"), "{out}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn an_executor_whose_fetch_fails_fails_its_tasks() {
    let server = FileServer::start(vec![]).await;
    let mut h = Harness::start().await;
    let bad = server.url("executor");
    let mut command = v1::CommandInfo {
        value: Some("./executor".into()),
        shell: Some(false),
        ..Default::default()
    };
    command.uris = vec![uri(&bad)];
    let mut task = shell_task("t1", "true");
    task.command = None;
    task.executor = Some(v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: "e1".into() },
        command: Some(command),
        ..Default::default()
    });
    h.run_task(task);
    fails_to_fetch(&mut h, &bad, "received HTTP return code 404").await;
    match h.next().await {
        FromAgent::ExecutorTerminated { executor_id, .. } => assert_eq!(executor_id.value, "e1"),
        other => panic!("expected the executor's end, got {other:?}"),
    }
    h.shutdown().await;
}
