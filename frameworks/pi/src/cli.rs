//! The command line: `pi [--master URL] [--samples N] [--tasks N] … [--json]`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::sync::watch;

use crate::executor::PiExecutor;
use crate::job::{self, JobConfig, Report};
use crate::scheduler::Progress;

/// Estimate π with a Monte Carlo job on Apache Mesos (or on an embedded cluster).
#[derive(Debug, Clone, Parser)]
#[command(name = "pi", version, about)]
pub struct Args {
    /// Master URL, e.g. http://127.0.0.1:5050 (or a comma-separated list), or the
    /// ZooKeeper election `zk://host:2181/mesos` (also `--mesos-master`). Without it an
    /// embedded master with local agents is started.
    #[arg(long, visible_alias = "mesos-master")]
    pub master: Option<String>,
    /// Total samples.
    #[arg(long, default_value_t = 1_000_000_000)]
    pub samples: u64,
    /// Tasks to split the samples into (default: twice this machine's CPUs).
    #[arg(long)]
    pub tasks: Option<u64>,
    /// CPUs per task.
    #[arg(long, default_value_t = 1.0)]
    pub task_cpus: f64,
    /// Memory per task, in MB.
    #[arg(long, default_value_t = 32.0)]
    pub task_mem: f64,
    /// Agents of the embedded cluster (ignored with --master); this machine's CPUs are
    /// shared between them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub agents: u16,
    /// Seed of the job: the same seed and task split give the same estimate.
    #[arg(long, default_value_t = 0x5eed)]
    pub seed: u64,
    /// Framework name.
    #[arg(long, default_value = "pi")]
    pub name: String,
    /// Framework role.
    #[arg(long, default_value = "*")]
    pub role: String,
    /// Where the agents fetch the executor from (like Spark's `spark.executor.uri`):
    /// http(s)://, file:// or a path on the agents; the program itself, or an archive
    /// (.tar.gz, .tgz, .zip, ...) with `pi` at its top level. Without it and with
    /// --master, this process serves its own binary over HTTP for the agents.
    #[arg(long, value_name = "URL")]
    pub executor_uri: Option<String>,
    /// The address agents fetch the served executor from (default: this machine's
    /// address towards the master).
    #[arg(long, value_name = "IP")]
    pub advertise_ip: Option<std::net::IpAddr>,
    /// Seconds to wait for the master to accept the framework.
    #[arg(long, default_value_t = 10)]
    pub connect_timeout: u64,
    /// Print exactly one JSON object on stdout instead of the human report.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// The job these arguments describe.
    pub fn job(&self) -> JobConfig {
        let defaults = JobConfig::default();
        let agents = usize::from(self.agents);
        JobConfig {
            master: self.master.clone(),
            samples: self.samples,
            tasks: self.tasks.unwrap_or(defaults.tasks),
            task_cpus: self.task_cpus,
            task_mem: self.task_mem,
            agents,
            agent_cpus: (defaults.agent_cpus / agents).max(1),
            seed: self.seed,
            name: self.name.clone(),
            role: self.role.clone(),
            connect_timeout: Duration::from_secs(self.connect_timeout),
            executor_uri: self.executor_uri.clone(),
            advertise_ip: self.advertise_ip,
            ..defaults
        }
    }
}

/// The whole program: the executor when an agent started this process, otherwise the
/// scheduler driven by the command line. `cargo run --example pi` and the `pi` binary
/// both call this.
pub async fn main() -> ExitCode {
    init_tracing();
    if let Some(result) = mesos_sdk::executor::run_if_executor(PiExecutor::new).await {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "executor failed");
                ExitCode::FAILURE
            }
        };
    }
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line: clap's first line without its "error: " prefix.
            let text = e.render().to_string();
            let line = text.lines().next().unwrap_or_default();
            eprintln!("pi: {} (see pi --help)", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(report) => {
            print_report(&report, args.json);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("pi: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<Report, job::JobError> {
    let config = args.job();
    let (tx, rx) = watch::channel(Progress::default());
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| spawn_progress_bar(rx));
    let result = job::run(&config, tx).await;
    if let Some(bar) = bar {
        let _ = bar.await;
    }
    result
}

/// Draws tasks done and samples/s on stderr until the progress sender is dropped.
fn spawn_progress_bar(mut rx: watch::Receiver<Progress>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tasks  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let start = std::time::Instant::now();
        while rx.changed().await.is_ok() {
            let p = *rx.borrow_and_update();
            bar.set_length(p.tasks as u64);
            bar.set_position(p.done as u64);
            let rate = p.samples as f64 / start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{:.3} G samples/s", rate / 1e9));
        }
        bar.finish_and_clear();
    })
}

/// Prints the report: one JSON object, or a few human lines.
pub fn print_report(report: &Report, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
        return;
    }
    println!("pi                 {:.10}", report.pi);
    println!(
        "error              {:.3e}  (|pi - std::f64::consts::PI|)",
        report.error
    );
    println!("standard error     {:.3e}", report.std_error);
    println!("samples            {}", report.samples);
    println!("tasks              {}", report.tasks);
    println!("wall time          {:.3} s", report.wall_seconds);
    println!("samples/s          {:.3e}", report.samples_per_second);
    println!(
        "CPU time           {:.3} s  ({:.3e} samples per CPU-second)",
        report.cpu_seconds, report.samples_per_cpu_second
    );
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
