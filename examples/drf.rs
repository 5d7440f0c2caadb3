//! Watch Dominant Resource Fairness at work.
//!
//! ```text
//! cargo run --release --example drf -- --scenario paper
//! cargo run --release --example drf -- --scenario workshop --json
//! cargo run --release --example drf -- --scenario my-cluster.json --chart shares.svg
//! cargo run --release --example drf -- --scenario paper --serve   # watch it in a browser
//! ```
//!
//! Starts the embedded master with the scenario's cluster, runs each of its
//! frameworks as its own scheduler, samples the master's `/state` until the
//! allocation is steady, and prints a table per framework (tasks, CPUs, memory,
//! dominant share). Logs go to stderr (`RUST_LOG=info` shows each framework's own
//! view); stdout carries only the report. See `docs/drf-demo.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use drf_demo::chart::write_chart;
use drf_demo::demo::{DemoOptions, run_on, start_cluster};
use drf_demo::report::render_table;
use drf_demo::scenario::Scenario;
use drf_demo::simulate::{progressive_filling, summary};

/// Runs a DRF scenario on the embedded master and reports the allocation.
#[derive(Debug, Parser)]
#[command(name = "drf")]
struct Args {
    /// `paper`, `workshop`, `weighted`, or a JSON scenario file.
    #[arg(long, default_value = "paper")]
    scenario: String,
    /// Print one JSON object (steady-state frameworks and the timeline) instead of
    /// tables.
    #[arg(long)]
    json: bool,
    /// Write a chart of dominant share over time to this file: PNG for `.png`, SVG
    /// otherwise.
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Milliseconds between samples of the master's /state.
    #[arg(long, default_value_t = 100)]
    sample_ms: u64,
    /// Identical settled samples that make the allocation steady.
    #[arg(long, default_value_t = 5)]
    stable_samples: usize,
    /// Give up waiting for a steady allocation after this many seconds.
    #[arg(long, default_value_t = 30)]
    max_secs: u64,
    /// refuse_seconds when a framework declines an offer too small for a task.
    #[arg(long, default_value_t = 0.2)]
    refuse_seconds: f64,
    /// refuse_seconds for the rest of an offer a framework launched on.
    #[arg(long, default_value_t = 0.0)]
    remainder_refuse_seconds: f64,
    /// Milliseconds each framework holds offers before answering, so that the
    /// samples (and the chart) show every step of progressive filling; 0 is full speed.
    #[arg(long, default_value_t = 200)]
    offer_delay_ms: u64,
    /// The embedded master's allocation interval, in milliseconds.
    #[arg(long, default_value_t = 100)]
    allocation_ms: u64,
    /// Keep the cluster up after the run, until Ctrl-C, to watch it in the master's
    /// web UI (its URL is printed at the start).
    #[arg(long)]
    serve: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let scenario = match Scenario::by_name_or_path(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("drf: {e}");
            return ExitCode::from(2);
        }
    };
    let options = DemoOptions {
        sample_interval: Duration::from_millis(args.sample_ms.max(10)),
        stable_samples: args.stable_samples,
        max_duration: Duration::from_secs(args.max_secs),
        refuse_seconds: args.refuse_seconds,
        remainder_refuse_seconds: args.remainder_refuse_seconds,
        offer_delay: Duration::from_millis(args.offer_delay_ms),
        allocation_interval: Duration::from_millis(args.allocation_ms.max(10)),
    };
    if !args.json {
        let total = scenario.cluster_total();
        println!(
            "scenario {}: {} agent(s) of {} ({} CPU, {} MB in all)",
            scenario.name,
            scenario.cluster.agents,
            scenario.cluster.resources,
            total.cpus,
            total.mem
        );
    }
    let cluster = match start_cluster(&scenario, &options).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("drf: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.serve {
        // On stderr, so that `--json` output stays one JSON object.
        eprintln!("drf: web UI at {}/", cluster.url());
    }
    let mut last_counts: Vec<(String, u64)> = Vec::new();
    let quiet = args.json;
    let report = run_on(&scenario, &options, &cluster.url(), |sample| {
        let counts: Vec<(String, u64)> = sample
            .frameworks
            .iter()
            .map(|f| (f.name.clone(), f.tasks))
            .collect();
        if !quiet && counts != last_counts {
            println!(
                "\nt = {:.2} s\n{}",
                sample.t,
                render_table(&sample.frameworks)
            );
            last_counts = counts;
        }
    })
    .await;
    if args.serve {
        eprintln!("drf: serving {}/ until Ctrl-C", cluster.url());
        let _ = tokio::signal::ctrl_c().await;
    }
    cluster.shutdown().await;
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drf: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.chart {
        let title = format!("DRF scenario {}: dominant share over time", report.scenario);
        if let Err(e) = write_chart(path, &title, &report.timeline) {
            eprintln!("drf: {e}");
            return ExitCode::FAILURE;
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("drf: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        println!(
            "\nideal DRF (progressive filling, one task at a time) predicts: {}",
            summary(&progressive_filling(&scenario))
        );
        let state = if report.steady {
            "steady"
        } else {
            "NOT steady (time bound reached)"
        };
        println!(
            "\n{} after {:.2} s ({} samples):\n{}",
            state,
            report.elapsed_secs,
            report.timeline.len(),
            render_table(&report.frameworks)
        );
    }
    ExitCode::SUCCESS
}
