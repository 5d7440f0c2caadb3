//! A custom executor and the scheduler that launches it, in one program: the scheduler
//! names this very binary as the executor command, and when an agent starts it, it runs
//! `Echo` instead of the scheduler. The code is `examples::hello_executor`
//! (examples/src/hello_executor.rs).
//!
//! `cargo run --example hello_executor`

use examples::hello_executor::{Echo, run, this_program};
use mesos_master::LocalCluster;
use mesos_sdk::executor::run_if_executor;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Started by an agent? Then be the executor and nothing else.
    if let Some(result) = run_if_executor(|| Echo).await {
        return Ok(result?);
    }
    let cluster = LocalCluster::builder().agents(1).start().await?;
    let result = run(&cluster.url(), this_program()?).await;
    cluster.shutdown().await;
    for status in result? {
        println!("{}", examples::describe(&status));
    }
    Ok(())
}
