//! The smallest scheduler: launch one shell command as a task on the first offer big
//! enough, collect its status updates, and end the framework when the task ends.
//!
//! ```no_run
//! # async fn demo() -> Result<(), examples::ExampleError> {
//! let updates = examples::hello_scheduler::run("http://127.0.0.1:5050").await?;
//! for status in &updates {
//!     println!("{}: {}", status.task_id.value, examples::state_of(status).as_str_name());
//! }
//! # Ok(()) }
//! ```

use mesos_sdk::calls::{framework_info, task_info};
use mesos_sdk::resources::{Resources, fit};
use mesos_sdk::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use mesos_sdk::v1;
use std::sync::{Arc, Mutex, PoisonError};

use crate::{ExampleError, finished, is_over, state_of};

/// The task's id.
pub const TASK_ID: &str = "hello-1";

/// The task's shell command.
pub const COMMAND: &str = "echo hello from a Mesos task";

/// Launches one task on the first offer big enough, then waits for it to end.
struct Hello {
    launched: bool,
    updates: Arc<Mutex<Vec<v1::TaskStatus>>>,
}

#[async_trait::async_trait]
impl Scheduler for Hello {
    async fn offers(&mut self, client: &SchedulerClient, offers: Vec<v1::Offer>) {
        for offer in offers {
            // The task needs 0.1 CPU and 32 MB; take exactly that from the offer.
            let wanted = Resources::parse("cpus:0.1;mem:32").map(|r| r.allocate("*"));
            let available = Resources::from(offer.resources.clone());
            let taken = wanted.ok().and_then(|w| fit::first_fit(&available, &w));
            match taken {
                Some(resources) if !self.launched => {
                    let task = task_info(TASK_ID, "hello", offer.agent_id.clone())
                        .shell(COMMAND)
                        .resources(resources.into_vec())
                        .build();
                    if let Err(error) = client.launch(offer.id, vec![task]).await {
                        tracing::warn!(%error, "launch failed; waiting for the next offer");
                        continue;
                    }
                    self.launched = true;
                }
                // Not needed: give the offer back.
                _ => {
                    let _ = client.decline(vec![offer.id], None).await;
                }
            }
        }
    }

    async fn update(&mut self, client: &SchedulerClient, status: v1::TaskStatus) {
        let terminal = is_over(state_of(&status));
        self.updates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(status);
        if terminal {
            // Ends the framework; `run` below returns.
            if client.teardown().await.is_err() {
                client.stop();
            }
        }
    }
}

/// Runs the framework against the master at `master` until its one task ends; returns
/// the task's status updates in the order they arrived (the last one terminal).
///
/// # Errors
/// [`ExampleError::Scheduler`] if the master cannot be used, [`ExampleError::Unfinished`]
/// if the framework ended before the task did.
pub async fn run(master: &str) -> Result<Vec<v1::TaskStatus>, ExampleError> {
    let updates = Arc::new(Mutex::new(Vec::new()));
    let framework = framework_info("hello", "").build();
    let driver = SchedulerDriver::builder(master, framework).build()?;
    driver
        .run(Hello {
            launched: false,
            updates: updates.clone(),
        })
        .await?;
    let updates = std::mem::take(&mut *updates.lock().unwrap_or_else(PoisonError::into_inner));
    finished(updates)
}
