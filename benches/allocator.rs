//! One DRF allocation cycle (`Allocator::allocate`) at 1,000 and 10,000 agents with
//! 10, 100 and 1,000 frameworks spread over four roles. Every agent has all its
//! resources available and every framework is active, so each cycle makes one offer
//! per agent; the allocator is cloned outside the measurement for each iteration.
//!
//! Run: `cargo bench -p mesos-benches --bench allocator`; results in docs/benchmarks.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use mesos_sdk::master::allocator::Allocator;
use mesos_sdk::resources::Resources;

const ROLES: [&str; 4] = ["analytics", "batch", "services", "web"];

/// A cluster in steady state: one cycle has run and everything was declined back
/// without filters, so shares and allocation counts have history but all is free.
fn cluster(agents: usize, frameworks: usize, now: Instant) -> Allocator {
    let mut alloc = Allocator::new();
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

fn allocation_cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocator_cycle");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let now = Instant::now();
    for agents in [1_000, 10_000] {
        for frameworks in [10, 100, 1_000] {
            let base = cluster(agents, frameworks, now);
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
    }
    group.finish();
}

criterion_group!(benches, allocation_cycle);
criterion_main!(benches);
