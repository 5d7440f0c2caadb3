//! End-to-end task throughput: tasks launched through the real HTTP scheduler API of a
//! [`LocalCluster`], run by a custom executor that finishes each task at once, every
//! status update acknowledged by the scheduler.
//!
//! `cargo bench -p mesos-benches --bench task_throughput`
//!
//! One iteration launches [`TASKS`] tasks and waits until the scheduler has received
//! (and acknowledged) TASK_FINISHED for each. Each task goes:
//! scheduler ACCEPT (HTTP, many tasks per offer) → master → agent → executor LAUNCH
//! event (HTTP stream) → executor UPDATE (HTTP POST) → agent → master → scheduler
//! UPDATE event (HTTP stream) → scheduler ACKNOWLEDGE (HTTP POST) → master → agent →
//! executor ACKNOWLEDGED event.
//!
//! The scheduler's calls (ACCEPT, ACKNOWLEDGE) are pipelined on one connection
//! ([`Pipeline`]), as Mesos's own scheduler library sends its calls; every answer is
//! still checked.
//!
//! The executor is this very binary, re-run by the agent (it sees `MESOS_EXECUTOR_ID`
//! and becomes the SDK's [`ExecutorDriver`]); one executor per agent runs every task
//! launched there. A Mesos executor may report TASK_FINISHED without TASK_RUNNING
//! first; the `finished_only` case does that (one update per task), the
//! `running_then_finished` case sends both (two updates and two acknowledgements per
//! task), as most real executors do.
//!
//! Profiling mode (criterion is not run): with `TASK_THROUGHPUT_PROFILE_ITERATIONS=<k>`
//! the binary starts the cluster, runs `k` iterations of [`TASKS`] tasks of the case named
//! by `TASK_THROUGHPUT_PROFILE_CASE` (`finished_only`, the default, or
//! `running_then_finished`), shuts the cluster down and exits. Running it under
//! `valgrind --tool=callgrind` with `k = 1` and `k = 2` and subtracting gives the cost of
//! one steady-state iteration without start-up and shutdown (`docs/benchmarks.md`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures::StreamExt;
use mesos_master::LocalCluster;
use mesos_sdk::calls;
use mesos_sdk::codec::Encoding;
use mesos_sdk::codec::recordio::decode_stream;
use mesos_sdk::executor::{Executor, ExecutorClient, ExecutorConfig, ExecutorDriver};
use mesos_sdk::resources::{self, Resources};
use mesos_sdk::transport::{Pipeline, Url};
use mesos_sdk::v1;
use mesos_sdk::v1::scheduler::{Call, Event, event};
use tokio::sync::mpsc;

/// The allocator of the reference master's binaries (`mesos-local`, `mesos-master`,
/// `mesos-agent`): this process stands for one of them, and its executors for an SDK
/// executor built the same way. `docs/benchmarks.md` compares it with glibc's malloc.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Tasks per measured iteration.
const TASKS: usize = 2_000;
/// Agents in the cluster (one executor each).
const AGENTS: usize = 4;
/// At most this many tasks per offer, so that every agent gets a share.
const PER_OFFER: usize = TASKS / AGENTS;
/// Unused offered resources are refused for this long; resources freed by a finished
/// task lift the filter at once (the offer then grows), so this only stops the
/// master and the scheduler from bouncing an offer nobody needs.
const REFUSE_SECONDS: f64 = 1.0;
const TASK_CPUS: f64 = 0.01;
const TASK_MEM: f64 = 1.0;
const EXECUTOR_CPUS: f64 = 0.1;
const EXECUTOR_MEM: f64 = 32.0;
/// No iteration may take longer than this (a hang is a failure, not a slow result).
const ITERATION_LIMIT: Duration = Duration::from_secs(120);
/// Task `data` asking the executor to send TASK_RUNNING before TASK_FINISHED.
const RUNNING_FIRST: &[u8] = b"running-first";

// ---------------------------------------------------------------------------------
// The executor process.

/// Finishes every task as soon as it is launched.
struct FinishAtOnce;

#[async_trait::async_trait]
impl Executor for FinishAtOnce {
    async fn launch(&mut self, client: &ExecutorClient, task: v1::TaskInfo) {
        // Updates are sent concurrently: the driver handles the next LAUNCH meanwhile.
        let client = client.clone();
        tokio::spawn(async move {
            if task.data.as_deref() == Some(RUNNING_FIRST) {
                let _ = client
                    .send_status(task.task_id.clone(), v1::TaskState::TaskRunning, None, None)
                    .await;
            }
            let _ = client
                .send_status(task.task_id, v1::TaskState::TaskFinished, None, None)
                .await;
        });
    }
}

fn run_executor() -> ! {
    // One thread: the driver and the updates it spawns share it, with no wake-ups
    // across threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("executor runtime");
    let result = runtime.block_on(async {
        let config = ExecutorConfig::from_env()?;
        ExecutorDriver::new(config).run(FinishAtOnce).await
    });
    std::process::exit(if result.is_ok() { 0 } else { 1 })
}

// ---------------------------------------------------------------------------------
// The scheduler.

struct Scheduler {
    /// Calls are pipelined on one connection (`mesos_sdk::transport::Pipeline`), as
    /// Mesos's own scheduler library sends them.
    calls: Pipeline,
    framework_id: v1::FrameworkId,
    events: mpsc::UnboundedReceiver<Event>,
    executor: v1::ExecutorInfo,
    next_task: u64,
    /// Offers received and ACCEPTs posted without a task (declines), reported by the
    /// profiling mode: offers that bounce cost the control plane without running work.
    offers: u64,
    declines: u64,
    /// The first call the master did not take (checked after every iteration).
    failed: Arc<Mutex<Option<String>>>,
}

fn executor_info() -> v1::ExecutorInfo {
    let exe = std::env::current_exe().expect("bench binary path");
    let exe = exe.display().to_string();
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId {
            value: "finish-at-once".into(),
        },
        command: Some(v1::CommandInfo {
            shell: Some(false),
            value: Some(exe.clone()),
            arguments: vec![exe],
            ..Default::default()
        }),
        resources: vec![
            resources::scalar("cpus", EXECUTOR_CPUS),
            resources::scalar("mem", EXECUTOR_MEM),
        ],
        ..Default::default()
    }
}

impl Scheduler {
    async fn subscribe(url: &str) -> Self {
        let http = reqwest::Client::new();
        let url = format!("{url}/api/v1/scheduler");
        let info = calls::framework_info("throughput", calls::current_user()).build();
        let response = http
            .post(&url)
            .header("Content-Type", Encoding::Protobuf.content_type())
            .header("Accept", Encoding::Protobuf.content_type())
            .body(Encoding::Protobuf.encode(&calls::scheduler::subscribe(info)))
            .send()
            .await
            .expect("SUBSCRIBE sent");
        assert_eq!(response.status(), 200, "SUBSCRIBE accepted");
        let stream_id = response.headers()["Mesos-Stream-Id"]
            .to_str()
            .expect("stream id")
            .to_owned();
        let (tx, mut events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut records = decode_stream(response.bytes_stream(), 16 << 20);
            while let Some(Ok(record)) = records.next().await {
                let event: Event = Encoding::Protobuf.decode(&record).expect("event");
                if tx.send(event).is_err() {
                    return;
                }
            }
        });
        let subscribed = events.recv().await.expect("SUBSCRIBED");
        let framework_id = subscribed
            .subscribed
            .expect("SUBSCRIBED first")
            .framework_id;
        let url = Url::parse(&url).expect("scheduler API URL");
        let calls = Pipeline::connect(
            &url,
            Encoding::Protobuf,
            None,
            &[("Mesos-Stream-Id", &stream_id)],
        )
        .await
        .expect("pipelined calls");
        Self {
            calls,
            framework_id,
            events,
            executor: executor_info(),
            next_task: 0,
            offers: 0,
            declines: 0,
            failed: Arc::new(Mutex::new(None)),
        }
    }

    /// Posts a call without waiting for the answer (the caller's loop keeps going).
    fn post(&self, call: &Call) {
        let body = Encoding::Protobuf.encode(call);
        let calls = self.calls.clone();
        let failed = self.failed.clone();
        tokio::spawn(async move {
            let error = match calls.post(body).await {
                Ok(()) => return,
                Err(e) => format!("call failed: {e}"),
            };
            if let Ok(mut first) = failed.lock() {
                first.get_or_insert(error);
            }
        });
    }

    /// Launches as many of `wanted` tasks as fit in `offer`; returns how many.
    fn launch(&mut self, offer: &v1::Offer, wanted: usize, data: &Bytes) -> usize {
        let mut left = Resources::from(offer.resources.clone());
        let executor = Resources::from(self.executor.resources.clone());
        left = left
            .checked_sub(&executor.allocate(offer_role(offer)))
            .unwrap_or_default();
        let fit = ((left.cpus() / TASK_CPUS).floor() as usize)
            .min((left.mem() / TASK_MEM).floor() as usize)
            .min(wanted)
            .min(PER_OFFER);
        let tasks: Vec<v1::TaskInfo> = (0..fit)
            .map(|_| {
                self.next_task += 1;
                calls::task_info(
                    format!("t{}", self.next_task),
                    "finish",
                    offer.agent_id.clone(),
                )
                .executor(self.executor.clone())
                .resources([
                    resources::scalar("cpus", TASK_CPUS),
                    resources::scalar("mem", TASK_MEM),
                ])
                .data(data.clone())
                .build()
            })
            .collect();
        self.offers += 1;
        let operations = if tasks.is_empty() {
            self.declines += 1;
            Vec::new()
        } else {
            vec![calls::operations::launch(tasks)]
        };
        self.post(&calls::scheduler::accept(
            &self.framework_id,
            vec![offer.id.clone()],
            operations,
            Some(calls::filters(REFUSE_SECONDS)),
        ));
        fit
    }

    /// Launches `n` tasks and returns once each has finished (every update acked).
    /// A retried (duplicate) update or one of an earlier iteration's task is not
    /// counted.
    async fn run_tasks(&mut self, n: usize, data: &Bytes) {
        let first = self.next_task;
        let mut launched = 0;
        let mut finished: HashSet<u64> = HashSet::with_capacity(n);
        while finished.len() < n {
            let event = self.events.recv().await.expect("event stream open");
            match event.r#type() {
                event::Type::Offers => {
                    for offer in event.offers.map(|o| o.offers).unwrap_or_default() {
                        launched += self.launch(&offer, n - launched, data);
                    }
                }
                event::Type::Update => {
                    let status = event.update.expect("update").status;
                    if let Some(ack) =
                        calls::scheduler::acknowledge_status(&self.framework_id, &status)
                    {
                        self.post(&ack);
                    }
                    let number = status.task_id.value[1..].parse::<u64>().expect("t<n>");
                    match status.state() {
                        v1::TaskState::TaskFinished if number > first => {
                            finished.insert(number);
                        }
                        v1::TaskState::TaskFinished => {}
                        v1::TaskState::TaskRunning => {}
                        other => panic!("task {} ended {other:?}", status.task_id.value),
                    }
                }
                event::Type::Error => panic!("ERROR event: {:?}", event.error),
                _ => {}
            }
        }
        if let Some(error) = self.failed.lock().ok().and_then(|f| f.clone()) {
            panic!("{error}");
        }
    }
}

fn offer_role(offer: &v1::Offer) -> &str {
    offer
        .allocation_info
        .as_ref()
        .and_then(|a| a.role.as_deref())
        .unwrap_or("*")
}

// ---------------------------------------------------------------------------------
// The benchmark.

/// Starts the cluster and subscribes the scheduler.
async fn start(grace: Duration) -> (LocalCluster, Scheduler) {
    let cluster = LocalCluster::builder()
        .agents(AGENTS)
        .resources("cpus:1000;mem:1000000")
        .allocation_interval(Duration::from_millis(100))
        .executor_shutdown_grace_period(grace)
        .start()
        .await
        .expect("cluster");
    let scheduler = Scheduler::subscribe(&cluster.url()).await;
    (cluster, scheduler)
}

/// The profiling mode (see the module documentation): `iterations` fixed iterations,
/// no criterion sampling.
fn profile(iterations: usize) {
    let data = match std::env::var("TASK_THROUGHPUT_PROFILE_CASE").as_deref() {
        Ok("running_then_finished") => Bytes::from_static(RUNNING_FIRST),
        Ok("finished_only") | Err(_) => Bytes::new(),
        Ok(other) => panic!("unknown TASK_THROUGHPUT_PROFILE_CASE {other}"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // A long grace period: executors run under a profiler exit on their own (and
        // write their profile) instead of being killed.
        let (cluster, mut scheduler) = start(Duration::from_secs(60)).await;
        for _ in 0..iterations {
            tokio::time::timeout(ITERATION_LIMIT * 10, scheduler.run_tasks(TASKS, &data))
                .await
                .expect("an iteration finished in time");
        }
        let tasks = (iterations * TASKS).max(1) as f64;
        eprintln!(
            "{} tasks: {} offers received ({:.3} per task), {} of them declined",
            iterations * TASKS,
            scheduler.offers,
            scheduler.offers as f64 / tasks,
            scheduler.declines,
        );
        cluster.shutdown().await;
    });
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (cluster, mut scheduler) = runtime.block_on(start(Duration::from_millis(100)));
    let mut group = c.benchmark_group("task_throughput");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(TASKS as u64));
    for (name, data) in [
        ("finished_only", Bytes::new()),
        ("running_then_finished", Bytes::from_static(RUNNING_FIRST)),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        tokio::time::timeout(ITERATION_LIMIT, scheduler.run_tasks(TASKS, &data))
                            .await
                            .expect("an iteration finished in time");
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
    runtime.block_on(cluster.shutdown());
}

fn main() {
    if mesos_sdk::executor::is_executor_env() {
        run_executor();
    }
    if let Ok(iterations) = std::env::var("TASK_THROUGHPUT_PROFILE_ITERATIONS") {
        profile(
            iterations
                .parse()
                .expect("TASK_THROUGHPUT_PROFILE_ITERATIONS: a count"),
        );
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
