//! The Throttler's per-query overhead: one task's runner against the noop target with
//! zero service time, at several concurrencies. This measures the framework (request
//! futures, scheduling, histogram recording), not any database.

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use throttler::assignment::Assignment;
use throttler::config::Workload;
use throttler::plan::TaskSpec;
use throttler::progress::Counters;
use throttler::runner::run_task;
use throttler::target::noop::{NoopSettings, NoopTarget};
use throttler::target::{QueryTarget, TargetSpec};

const QUERIES: u64 = 20_000;

fn assignment(concurrency: u32) -> Assignment {
    Assignment {
        spec: TaskSpec {
            index: 0,
            first_query: 0,
            queries: QUERIES,
        },
        attempt: 1,
        concurrency,
        rate_per_task: None,
        deadline_ms: None,
        workload: Workload::Mixed,
        read_ratio: 0.5,
        key_space_size: 1_000_000,
        target: TargetSpec::Noop(NoopSettings::default()),
        progress_interval_ms: 0,
    }
}

fn runner(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let target: Arc<dyn QueryTarget> = Arc::new(NoopTarget::new(NoopSettings::default()));
    let mut group = c.benchmark_group("throttler_runner_noop");
    group.throughput(Throughput::Elements(QUERIES));
    group.sample_size(20);
    for concurrency in [1u32, 32, 256] {
        let a = assignment(concurrency);
        group.bench_with_input(BenchmarkId::from_parameter(concurrency), &a, |b, a| {
            b.iter(|| {
                rt.block_on(run_task(Arc::clone(&target), a, None, &Counters::default()))
                    .expect("noop run")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, runner);
criterion_main!(benches);
