//! Benchmark: the PostgreSQL state backend against the local one at 10,000 resources, on a real
//! PostgreSQL 15 server this bench starts (the tests' own harness, `test_server.rs`).
//!
//! - the cost of one per-node save (`record`), of the commit that ends an apply, and of a load,
//!   through the backends themselves;
//! - `rave apply --auto-approve` of a project of 10,000 `local: true` hosts from empty state (every
//!   node saved as it finishes, then one commit), and `rave plan --refresh=false` against that
//!   recorded state, as the real release binary.
//!
//! Run with `cargo bench --features bench --bench postgres_state`. Without `--bench` (`cargo test
//! --benches`) it runs the same steps at 100 resources, as a check. Figures go to
//! `docs/performance.md`.

#![allow(unsafe_code)] // setting an environment variable before any thread starts
#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

#[path = "../src/state/postgres/test_server.rs"]
mod test_server;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rave::bench_api::StateBench;

fn main() {
    let is_bench = std::env::args().any(|argument| argument == "--bench");
    let resources = if is_bench { 10_000 } else { 100 };
    let (records, runs) = if is_bench { (300, 5) } else { (10, 1) };
    // PostgreSQL syncs its commits as the local backend syncs its files, for a fair comparison.
    // SAFETY: set before any other thread exists; the test server reads it when it starts.
    unsafe { std::env::set_var("RAVE_TEST_POSTGRES_FSYNC", "on") };
    println!("{resources} resources; figures are medians\n");
    show_durability(&test_server::database_url());
    backend_operations(resources, records, runs);
    binary_runs(resources, runs);
}

/// Shows the server's durability settings, to read the figures by.
fn show_durability(url: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
        let connection = tokio::spawn(connection);
        let fsync: String = client.query_one("SHOW fsync", &[]).await.expect("show fsync").get(0);
        let synchronous: String =
            client.query_one("SHOW synchronous_commit", &[]).await.expect("show synchronous_commit").get(0);
        println!("PostgreSQL fsync: {fsync}, synchronous_commit: {synchronous}\n");
        drop(client);
        let _ = connection.await;
    });
}

/// `record`, `commit` and `load` through each backend.
fn backend_operations(resources: usize, records: usize, runs: usize) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut local = StateBench::new(&directory.path().join("state.json"), resources).expect("a local state");
    let mut postgres = StateBench::on_postgres(&test_server::database_url(), resources).expect("a postgres state");
    println!("| operation | local | PostgreSQL |\n|---|---:|---:|");
    for (name, count) in [("record (one per-node save)", records), ("commit", runs), ("load", runs)] {
        let mut row = format!("| {name} |");
        for bench in [&mut local, &mut postgres] {
            let times: Vec<Duration> = (0..count)
                .map(|_| {
                    let started = Instant::now();
                    match name {
                        "commit" => bench.commit().expect("committed"),
                        "load" => assert_eq!(bench.load().expect("loaded"), resources),
                        _ => bench.record().expect("recorded"),
                    }
                    started.elapsed()
                })
                .collect();
            let _ = write!(row, " {} |", show(median(times)));
        }
        println!("{row}");
    }
    println!();
}

/// The release binary's apply from empty state and plan against the result, on each backend.
fn binary_runs(resources: usize, runs: usize) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let hosts = (0..resources).fold(String::new(), |mut hosts, index| {
        let _ = writeln!(hosts, "  h{index}: {{ local: true }}");
        hosts
    });
    let local_file = directory.path().join("local.yaml");
    let postgres_file = directory.path().join("postgres.yaml");
    std::fs::write(&local_file, format!("version: 1\nproject: bench\nhosts:\n{hosts}")).expect("write");
    std::fs::write(
        &postgres_file,
        format!("version: 1\nproject: bench\nstate: {{ backend: postgres, url: env:RAVE_PG_URL }}\nhosts:\n{hosts}"),
    )
    .expect("write");
    println!("| `rave` run | local | PostgreSQL |\n|---|---:|---:|");
    let mut applies = [Vec::new(), Vec::new()];
    let mut plans = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        // Each apply starts from empty state: a fresh file, a fresh database.
        let _ = std::fs::remove_dir_all(directory.path().join(".rave"));
        let url = test_server::database_url();
        for (index, file) in [&local_file, &postgres_file].into_iter().enumerate() {
            applies[index].push(time_rave(file, &url, &["apply", "--auto-approve", "--parallelism", "10"]));
            plans[index].push(time_rave(file, &url, &["plan", "--refresh=false", "--detailed-exitcode"]));
        }
    }
    let [local_apply, postgres_apply] = applies;
    let [local_plan, postgres_plan] = plans;
    println!("| apply from empty state | {} | {} |", show(median(local_apply)), show(median(postgres_apply)));
    println!("| plan against the recorded state | {} | {} |", show(median(local_plan)), show(median(postgres_plan)));
}

/// Runs the release binary on `file` with `args`, checks it succeeded, and times it.
#[allow(clippy::disallowed_methods)] // a bench runs the real binary
fn time_rave(file: &Path, url: &str, args: &[&str]) -> Duration {
    let started = Instant::now();
    let output = Command::new(binary())
        .arg("-f")
        .arg(file)
        .args(args)
        .env("RAVE_PG_URL", url)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run rave");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "rave {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    elapsed
}

/// This package's release build of `rave`.
fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rave"))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// `253 µs`, `58.1 ms`, `1.52 s`.
fn show(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros < 1_000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1_000_000.0 {
        format!("{:.1} ms", micros / 1e3)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}
