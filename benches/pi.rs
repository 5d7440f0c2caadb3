//! Sampling-kernel throughput of the Pi framework: every kernel variant this CPU supports,
//! the plain scalar loop first, in one run so their ratio is meaningful.
//!
//! `cargo bench -p mesos-benches --bench pi`; results are recorded in docs/benchmarks.md.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mesos_pi::kernel::Kernel;
use std::hint::black_box;

/// Samples per iteration: large enough that seeding the lanes is negligible.
const SAMPLES: u64 = 16 << 20;

fn kernel_variants(c: &mut Criterion) {
    let mut group = c.benchmark_group("pi_kernel");
    group.throughput(Throughput::Elements(SAMPLES));
    group.sample_size(20);
    for kernel in Kernel::available() {
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{kernel:?}")),
            &kernel,
            |b, &kernel| {
                let mut stream = 0u64;
                b.iter(|| {
                    stream += 1;
                    kernel.count_hits(black_box(7), stream, black_box(SAMPLES))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, kernel_variants);
criterion_main!(benches);
