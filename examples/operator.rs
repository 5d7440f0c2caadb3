//! Watch a cluster through the operator API: print its frameworks, agents and tasks,
//! then follow its events live (SUBSCRIBE on `POST /api/v1`, resubscribing as needed).
//! The body is `examples::operator_watch` (examples/src/operator_watch.rs).
//!
//! `cargo run --example operator -- --master http://127.0.0.1:5050` follows a running
//! master (Apache Mesos or `mesos-local`; `zk://` works too) until Ctrl-C. Without
//! `--master` it starts an embedded cluster, runs the hello scheduler's task on it and
//! stops once the task finished.

use clap::Parser;
use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::operator::OperatorClient;

#[derive(Parser)]
struct Args {
    /// The master: http://host:port, a comma-separated list, or zk://host:port/mesos.
    #[arg(long)]
    master: Option<String>,
    /// Speak JSON instead of protobuf.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let encoding = if args.json {
        Encoding::Json
    } else {
        Encoding::Protobuf
    };
    if let Some(master) = args.master {
        let client = OperatorClient::builder(&master)
            .encoding(encoding)
            .build()?;
        tokio::select! {
            result = examples::operator_watch::watch(&client, |line| {
                println!("{line}");
                true
            }) => result?,
            _ = tokio::signal::ctrl_c() => {}
        }
        return Ok(());
    }
    let cluster = LocalCluster::builder().agents(1).start().await?;
    println!("master at {}", cluster.url());
    let client = OperatorClient::builder(&cluster.url())
        .encoding(encoding)
        .build()?;
    let url = cluster.url();
    let framework = tokio::spawn(async move { examples::hello_scheduler::run(&url).await });
    let watched = examples::operator_watch::watch(&client, |line| {
        println!("{line}");
        !line.contains("TASK_FINISHED")
    })
    .await;
    let _ = framework.await;
    cluster.shutdown().await;
    Ok(watched?)
}
