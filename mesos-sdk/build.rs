//! Compiles the Mesos v1 schema in `proto/` into Rust types with prost.
//!
//! `protox` parses the `.proto` files in Rust, so a fresh machine needs no `protoc`.
//! The encoded descriptor set is written beside the generated code; the JSON codec
//! reads it at run time to walk messages by reflection.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "mesos/v1/mesos.proto",
    "mesos/v1/scheduler/scheduler.proto",
    "mesos/v1/executor/executor.proto",
    "mesos/v1/master/master.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);

    let fds = protox::compile(PROTOS, ["proto"])?;
    std::fs::write(
        out.join("mesos_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;

    prost_build::Config::new()
        .enable_type_names()
        .bytes(["."])
        .boxed(".mesos.v1.Resource.disk")
        .boxed(".mesos.v1.TaskInfo.container")
        .boxed(".mesos.v1.TaskInfo.health_check")
        .boxed(".mesos.v1.TaskInfo.check")
        .boxed(".mesos.v1.TaskInfo.discovery")
        .boxed(".mesos.v1.ExecutorInfo.container")
        .boxed(".mesos.v1.ExecutorInfo.discovery")
        .compile_fds(fds)?;
    Ok(())
}
