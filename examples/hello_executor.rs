//! A custom executor and the scheduler that launches it, in one program: the scheduler
//! names this very binary as the executor command, and when an agent starts it, it runs
//! [`Echo`] instead of the scheduler.
//!
//! `cargo run --example hello_executor`

use bytes::Bytes;
use mesos_sdk::calls::{framework_info, task_info};
use mesos_sdk::executor::{Executor, ExecutorClient, run_if_executor};
use mesos_sdk::master::LocalCluster;
use mesos_sdk::resources::{Resources, fit};
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use mesos_sdk::v1;

/// The executor: answers each task with its data reversed, in TASK_FINISHED.
struct Echo;

#[async_trait::async_trait]
impl Executor for Echo {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        let id = task.task_id.clone();
        let _ = client
            .send_status(id.clone(), v1::TaskState::TaskRunning, None, None)
            .await;
        let mut reply = task.data.unwrap_or_default().to_vec();
        reply.reverse();
        let _ = client
            .send_status(
                id,
                v1::TaskState::TaskFinished,
                Some(Bytes::from(reply)),
                None,
            )
            .await;
    }
}

/// The scheduler: launches one task on the executor and prints what comes back.
struct Launcher {
    launched: bool,
}

#[async_trait::async_trait]
impl Scheduler for Launcher {
    async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
        for offer in offers {
            let available = Resources::from(offer.resources.clone());
            // One slice for the task and one for the executor itself.
            let want = Resources::parse("cpus:0.1;mem:32")
                .expect("valid")
                .allocate("*");
            let task_res = fit::first_fit(&available, &want);
            let exec_res = task_res
                .as_ref()
                .and_then(|t| fit::first_fit(&(available.clone() - t), &want));
            let (Some(task_res), Some(exec_res), false) = (task_res, exec_res, self.launched)
            else {
                client.decline(vec![offer.id], None).await.ok();
                continue;
            };
            // The executor is this program, run directly (no shell).
            let me = std::env::current_exe()
                .expect("own path")
                .display()
                .to_string();
            let executor = v1::ExecutorInfo {
                executor_id: v1::ExecutorId {
                    value: "echo".into(),
                },
                command: Some(v1::CommandInfo {
                    shell: Some(false),
                    value: Some(me.clone()),
                    arguments: vec![me],
                    ..Default::default()
                }),
                resources: exec_res.into_vec(),
                ..Default::default()
            };
            let task = task_info("echo-1", "echo", offer.agent_id.clone())
                .executor(executor)
                .resources(task_res.into_vec())
                .data(Bytes::from_static(b"hello, executor"))
                .build();
            client.launch(offer.id, vec![task]).await.expect("launch");
            self.launched = true;
        }
    }

    async fn update(&mut self, client: &SchedulerClient, status: v1::TaskStatus) {
        let state = v1::TaskState::try_from(status.state).unwrap_or(v1::TaskState::TaskUnknown);
        let data = String::from_utf8_lossy(status.data.as_deref().unwrap_or_default()).into_owned();
        println!("{}: {} {data}", status.task_id.value, state.as_str_name());
        if !matches!(
            state,
            v1::TaskState::TaskStaging | v1::TaskState::TaskStarting | v1::TaskState::TaskRunning
        ) {
            client.teardown().await.ok();
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Started by an agent? Then be the executor and nothing else.
    if let Some(result) = run_if_executor(|| Echo).await {
        return Ok(result?);
    }
    let cluster = LocalCluster::builder().agents(1).start().await?;
    let framework = framework_info("hello-executor", "root").build();
    SchedulerDriver::builder(cluster.url(), framework)
        .build()?
        .run(Launcher { launched: false })
        .await?;
    cluster.shutdown().await;
    Ok(())
}
