//! One DRF allocation cycle (`Allocator::allocate`) at 1,000 and 10,000 agents with
//! 10, 100 and 1,000 frameworks spread over four roles. Every agent has all its
//! resources available and every framework is active, so each cycle makes one offer
//! per agent; the allocator is cloned outside the measurement for each iteration.
//! `allocator_cycle_busy` is the same at 10,000 agents × 1,000 frameworks, but every
//! agent runs one small task, so each offer is part of an agent (the offered resources
//! are copied and added to what the framework may already hold there).
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time,
//! so that other processes on a shared machine do not inflate it.
//!
//! `allocator_mesos_sizes` (and `_busy`) run the sizes of Mesos's own allocator
//! benchmark, up to 50,000 agents × 6,000 frameworks, reporting offers per CPU second.
//!
//! Run: `cargo bench -p mesos-benches --bench allocator`; results in docs/benchmarks.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mesos_master::allocator::{Allocator, AllocatorConfig};
use mesos_sdk::resources::Resources;

const ROLES: [&str; 4] = ["analytics", "batch", "services", "web"];

/// A cluster in steady state: one cycle has run and everything was declined back
/// without filters, so shares and allocation counts have history but all is free.
fn cluster(agents: usize, frameworks: usize, now: Instant) -> Allocator {
    // A fixed seed: every run visits the agents in the same (shuffled) order.
    let mut alloc = Allocator::with_config(AllocatorConfig::default().seed(1));
    let agent = Resources::parse("cpus:16;mem:65536;disk:1048576;ports:[31000-32000]")
        .expect("valid agent resources");
    for i in 0..agents {
        alloc.add_agent(&format!("agent-{i:05}"), agent.clone());
    }
    for j in 0..frameworks {
        alloc.add_framework(&format!("fw-{j:04}"), &[ROLES[j % ROLES.len()].to_owned()]);
    }
    for a in alloc.allocate(now) {
        alloc.recover(&a.framework_id, &a.agent_id, &a.resources, None, now);
    }
    alloc
}

/// [`cluster`], then one more cycle in which every framework keeps a small task out of
/// each offer and returns the rest: every agent is partly used.
fn busy_cluster(agents: usize, frameworks: usize, now: Instant) -> Allocator {
    let mut alloc = cluster(agents, frameworks, now);
    let task = Resources::parse("cpus:1;mem:1024;ports:[31000-31000]").expect("valid task");
    for a in alloc.allocate(now) {
        let rest = &a.resources - &task.clone().allocate(&a.role);
        alloc.recover(&a.framework_id, &a.agent_id, &rest, None, now);
    }
    alloc
}

/// CPU time of the calling thread, in nanoseconds.
struct ThreadCpu;

fn thread_cpu_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .expect("CLOCK_THREAD_CPUTIME_ID is available on Linux");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical >= 1e9 {
            (1e9, "s cpu")
        } else if typical >= 1e6 {
            (1e6, "ms cpu")
        } else if typical >= 1e3 {
            (1e3, "µs cpu")
        } else {
            (1.0, "ns cpu")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _t: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        values.iter_mut().for_each(|v| *v = 1e9 / *v);
        "elements/s cpu"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// One benchmark of a cycle of `base` (cloned outside the measurement), which must make
/// one offer per agent; with `per_offer`, criterion reports offers per CPU second.
fn bench_cycle(
    group: &mut criterion::BenchmarkGroup<'_, ThreadCpu>,
    (agents, frameworks): (usize, usize),
    base: &Allocator,
    per_offer: bool,
    now: Instant,
) {
    if per_offer {
        group.throughput(Throughput::Elements(agents as u64));
    }
    let id = BenchmarkId::new(
        format!("{agents}_agents"),
        format!("{frameworks}_frameworks"),
    );
    group.bench_function(id, |b| {
        b.iter_batched_ref(
            || base.clone(),
            |alloc| {
                let offers = alloc.allocate(black_box(now));
                assert_eq!(offers.len(), agents);
                offers
            },
            BatchSize::LargeInput,
        )
    });
}

/// A group with the short settings of this bench (the machine is shared).
fn group<'a>(
    c: &'a mut Criterion<ThreadCpu>,
    name: &str,
    measurement: Duration,
) -> criterion::BenchmarkGroup<'a, ThreadCpu> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(measurement);
    group
}

fn allocation_cycle(c: &mut Criterion<ThreadCpu>) {
    let now = Instant::now();
    let mut idle = group(c, "allocator_cycle", Duration::from_secs(3));
    for agents in [1_000, 10_000] {
        for frameworks in [10, 100, 1_000] {
            let base = cluster(agents, frameworks, now);
            bench_cycle(&mut idle, (agents, frameworks), &base, false, now);
        }
    }
    idle.finish();
    let mut busy = group(c, "allocator_cycle_busy", Duration::from_secs(3));
    let size = (10_000, 1_000);
    bench_cycle(
        &mut busy,
        size,
        &busy_cluster(size.0, size.1, now),
        false,
        now,
    );
    busy.finish();
}

/// Mesos's own largest benchmark sizes (`hierarchical_allocator_tests.cpp`,
/// `HierarchicalAllocator_BENCHMARK_Test`: up to 50,000 agents and 6,000 frameworks),
/// idle and busy, with throughput in offers so that criterion reports offers per CPU
/// second.
fn mesos_sizes(c: &mut Criterion<ThreadCpu>) {
    let now = Instant::now();
    for (name, busy) in [
        ("allocator_mesos_sizes", false),
        ("allocator_mesos_sizes_busy", true),
    ] {
        let mut group = group(c, name, Duration::from_secs(5));
        for (agents, frameworks) in [(10_000, 1_000), (20_000, 3_000), (50_000, 6_000)] {
            let base = if busy {
                busy_cluster(agents, frameworks, now)
            } else {
                cluster(agents, frameworks, now)
            };
            bench_cycle(&mut group, (agents, frameworks), &base, true, now);
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = allocation_cycle, mesos_sizes
}
criterion_main!(benches);
