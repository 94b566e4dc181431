//! The apply engine's own cost (`cargo bench --features bench --bench engine`).
//!
//! - `engine/1000 no-op nodes`: 1,000 creates in a chain-and-fan graph whose drivers return at
//!   once; target ≤ 50 ms.
//! - `engine/100 one-second steps at parallelism 10`: run once per bench run (not sampled), real
//!   time; target ≤ 10.3 s.

use std::time::Duration;

use criterion::Criterion;
use rave::bench::Workload;

fn no_op_nodes(criterion: &mut Criterion) {
    let workload = Workload::no_op(1_000);
    criterion.bench_function("engine/1000 no-op nodes", |bencher| {
        bencher.iter_custom(|iterations| (0..iterations).map(|_| workload.run()).sum());
    });
}

/// Ten seconds of sleeping at the very least, so once, and only when benchmarking (`cargo test
/// --benches` runs this binary without `--bench`).
fn fan_out_once() {
    let workload = Workload::fan_out(100, Duration::from_secs(1), 10);
    let elapsed = workload.run();
    let verdict = if elapsed <= Duration::from_millis(10_300) { "within" } else { "over" };
    #[allow(clippy::print_stdout)] // a bench binary reports on stdout, as criterion does
    {
        println!(
            "engine/100 one-second steps at parallelism 10: {:.3} s ({verdict} the 10.3 s target)",
            elapsed.as_secs_f64()
        );
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    no_op_nodes(&mut criterion);
    criterion.final_summary();
    if std::env::args().any(|argument| argument == "--bench") {
        fan_out_once();
    }
}
