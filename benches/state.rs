//! The local state backend at 10,000 resources: one `record` (what an apply pays per node) against
//! one full `commit` (what it pays once at the end), and a `load`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rave::bench_api::StateBench;

const RESOURCES: usize = 10_000;

fn state(criterion: &mut Criterion) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut group = criterion.benchmark_group("state_10000_resources");

    let mut recorder =
        StateBench::new(&directory.path().join("record.json"), RESOURCES).expect("a state");
    group.bench_function("record", |bencher| {
        bencher.iter(|| recorder.record().expect("recorded"));
    });

    let mut committer =
        StateBench::new(&directory.path().join("commit.json"), RESOURCES).expect("a state");
    group.bench_function("commit", |bencher| {
        bencher.iter(|| committer.commit().expect("committed"));
    });

    let mut loader =
        StateBench::new(&directory.path().join("load.json"), RESOURCES).expect("a state");
    group.bench_function("load", |bencher| {
        bencher.iter(|| black_box(loader.load().expect("loaded")));
    });

    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = state
}
criterion_main!(benches);
