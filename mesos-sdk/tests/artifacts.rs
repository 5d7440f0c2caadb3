//! Serving the executor program to agents: a real HTTP server on an OS-chosen port,
//! fetched with a real HTTP client.

use std::net::{IpAddr, Ipv4Addr};

use mesos_sdk::artifacts::{ArtifactError, ExecutorProgram, FileServer};

fn scratch_file(name: &str, content: &[u8]) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("mesos-artifacts-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    (dir, path)
}

#[tokio::test]
async fn the_file_is_served_at_its_name_and_nothing_else() {
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let (dir, path) = scratch_file("my-executor", &content);
    let server = FileServer::start(&path, IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap();
    assert_eq!(server.name(), "my-executor");
    assert_eq!(server.advertised_addr().port(), server.local_addr().port());
    assert_eq!(
        server.url(),
        format!(
            "http://127.0.0.1:{}/my-executor",
            server.local_addr().port()
        )
    );
    let uri = server.uri();
    assert_eq!(uri.value, server.url());
    assert_eq!(uri.executable, Some(true));
    assert_eq!(uri.output_file.as_deref(), Some("my-executor"));

    let client = reqwest::Client::new();
    let got = client.get(server.url()).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.content_length(), Some(content.len() as u64));
    assert_eq!(got.bytes().await.unwrap().as_ref(), &content[..]);

    let head = client.head(server.url()).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"].to_str().unwrap(),
        content.len().to_string()
    );
    let base = format!("http://127.0.0.1:{}", server.local_addr().port());
    let other = client
        .get(format!("{base}/etc/passwd"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let post = client.post(server.url()).send().await.unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");

    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_missing_file_is_a_typed_error() {
    let err = FileServer::start(
        std::path::Path::new("/nonexistent/executor"),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ArtifactError::NotAFile { .. }), "{err}");
}

#[tokio::test]
async fn a_served_program_runs_from_the_sandbox() {
    let (dir, path) = scratch_file("pi", b"#!/bin/sh\n");
    // A loopback master: the agents reach this machine over loopback too.
    let program = ExecutorProgram::serve(&path, "http://127.0.0.1:5050", None)
        .await
        .unwrap();
    let server = program.server().expect("served");
    assert_eq!(
        server.advertised_addr().ip(),
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    );
    let command = program.command(["--flag".to_string()]);
    assert_eq!(command.value.as_deref(), Some("./pi"));
    assert_eq!(command.shell, Some(false));
    assert_eq!(command.arguments, ["./pi", "--flag"]);
    assert_eq!(command.uris, [server.uri()]);

    // An explicit address wins.
    let ip: IpAddr = "10.1.2.3".parse().unwrap();
    let program = ExecutorProgram::serve(&path, "http://127.0.0.1:5050", Some(ip))
        .await
        .unwrap();
    assert!(
        program.command([]).uris[0]
            .value
            .starts_with("http://10.1.2.3:")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn given_uris_are_fetched_as_the_program_or_extracted() {
    let plain = ExecutorProgram::from_uri("https://h/dist/pi-1.0?sig=x", "pi").unwrap();
    let command = plain.command([]);
    assert_eq!(command.value.as_deref(), Some("./pi"));
    assert_eq!(command.uris[0].value, "https://h/dist/pi-1.0?sig=x");
    assert_eq!(command.uris[0].executable, Some(true));
    assert_eq!(command.uris[0].output_file.as_deref(), Some("pi"));

    let archive = ExecutorProgram::from_uri("file:///opt/pi.tar.gz", "pi").unwrap();
    let command = archive.command([]);
    assert_eq!(command.value.as_deref(), Some("./pi"));
    assert_eq!(command.uris[0].extract, Some(true));
    assert_eq!(command.uris[0].output_file, None);

    let local = ExecutorProgram::local("/usr/bin/pi");
    let command = local.command([]);
    assert_eq!(command.value.as_deref(), Some("/usr/bin/pi"));
    assert!(command.uris.is_empty());
    assert!(matches!(
        ExecutorProgram::from_uri("http://h/", "pi"),
        Err(ArtifactError::InvalidUri(_))
    ));
}
