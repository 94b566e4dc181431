//! The local state backend at 100 and 10,000 resources: one `record` (what an apply pays per
//! node, whatever the size of the state) against one full `commit` (what it pays once at the end),
//! and a `load`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rave::bench_api::StateBench;

fn state(criterion: &mut Criterion) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut group = criterion.benchmark_group("state");
    for resources in [100, 10_000] {
        let path = |name: &str| directory.path().join(format!("{name}-{resources}.json"));

        let mut recorder = StateBench::new(&path("record"), resources).expect("a state");
        group.bench_function(BenchmarkId::new("record", resources), |bencher| {
            bencher.iter(|| recorder.record().expect("recorded"));
        });

        let mut committer = StateBench::new(&path("commit"), resources).expect("a state");
        group.bench_function(BenchmarkId::new("commit", resources), |bencher| {
            bencher.iter(|| committer.commit().expect("committed"));
        });

        let mut loader = StateBench::new(&path("load"), resources).expect("a state");
        group.bench_function(BenchmarkId::new("load", resources), |bencher| {
            bencher.iter(|| black_box(loader.load().expect("loaded")));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = state
}
criterion_main!(benches);
