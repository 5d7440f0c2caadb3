//! The smallest scheduler: start an embedded master with one agent, launch one shell
//! command as a task, print its status updates, and exit when it ends. The framework
//! itself is `examples::hello_scheduler` (examples/src/hello_scheduler.rs).
//!
//! `cargo run --example hello_scheduler`

use mesos_master::LocalCluster;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An in-process master with one agent; its tasks are real processes.
    let cluster = LocalCluster::builder().agents(1).start().await?;
    println!("master at {}", cluster.url());
    let result = examples::hello_scheduler::run(&cluster.url()).await;
    cluster.shutdown().await;
    for status in result? {
        println!("{}", examples::describe(&status));
    }
    Ok(())
}
