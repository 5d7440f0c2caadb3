//! The smallest scheduler: start an embedded master with one agent, launch one shell
//! command as a task, print its status updates, and exit when it ends.
//!
//! `cargo run --example hello_scheduler`

use mesos_sdk::calls::{framework_info, task_info};
use mesos_sdk::master::LocalCluster;
use mesos_sdk::resources::{Resources, fit};
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use mesos_sdk::v1;

/// Launches one task on the first offer big enough, then waits for it to end.
struct Hello {
    launched: bool,
}

#[async_trait::async_trait]
impl Scheduler for Hello {
    async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
        for offer in offers {
            // The task needs 0.1 CPU and 32 MB; take exactly that from the offer.
            let wanted = Resources::parse("cpus:0.1;mem:32").expect("valid resources");
            let available = Resources::from(offer.resources.clone());
            let taken = fit::first_fit(&available, &wanted.allocate("*"));
            match taken {
                Some(resources) if !self.launched => {
                    let task = task_info("hello-1", "hello", offer.agent_id.clone())
                        .shell("echo hello from a Mesos task")
                        .resources(resources.into_vec())
                        .build();
                    client.launch(offer.id, vec![task]).await.expect("launch");
                    self.launched = true;
                }
                // Not needed: give the offer back.
                _ => client.decline(vec![offer.id], None).await.expect("decline"),
            }
        }
    }

    async fn update(&mut self, client: &SchedulerClient, status: v1::TaskStatus) {
        let state = v1::TaskState::try_from(status.state).unwrap_or(v1::TaskState::TaskUnknown);
        println!("{}: {}", status.task_id.value, state.as_str_name());
        let terminal = !matches!(
            state,
            v1::TaskState::TaskStaging | v1::TaskState::TaskStarting | v1::TaskState::TaskRunning
        );
        if terminal {
            // Ends the framework; `run` below returns.
            client.teardown().await.ok();
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An in-process master with one agent; its tasks are real processes.
    let cluster = LocalCluster::builder().agents(1).start().await?;
    println!("master at {}", cluster.url());

    let framework = framework_info("hello", "root").build();
    let driver = SchedulerDriver::builder(cluster.url(), framework).build()?;
    driver.run(Hello { launched: false }).await?;

    cluster.shutdown().await;
    Ok(())
}
