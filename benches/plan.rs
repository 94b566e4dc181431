//! Benchmark: `rave plan --refresh=false` of generated files of 1,000, 10,000 and 100,000
//! resources, run as the real release binary. Reports the median wall time of several runs and the
//! peak resident memory, and checks growth is linear (10× resources within 12× time).
//!
//! Run with `cargo bench --bench plan`. Figures go to `docs/performance.md`.

#![allow(unsafe_code)] // getrusage, to read the children's peak memory
#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A project of about `count` resources: caches, builders, builds, hosts, VMs and services.
fn generate(count: usize) -> String {
    let per = count / 10;
    let mut yaml = String::from("version: 1\nproject: bench\ncaches:\n");
    yaml.push_str("  lan: { type: nix-store, uri: \"file:///var/cache/rave\", public_key: \"lan-1:AAAA\" }\n");
    yaml.push_str("builders:\n  b0: { ssh: root@192.0.2.9, host_key: \"ssh-ed25519 AAAA\", max_jobs: 8 }\nbuilds:\n");
    for index in 0..per {
        let _ = writeln!(
            yaml,
            "  build{index}: {{ attr: \".#packages.x86_64-linux.p{index}\", builders: [b0], push: [lan] }}"
        );
    }
    yaml.push_str("hosts:\n");
    for index in 0..per {
        let _ = writeln!(
            yaml,
            "  host{index}: {{ ssh: root@192.0.2.{}, host_key: \"ssh-ed25519 AAAA{index}\", push: [lan] }}",
            index % 250 + 1
        );
    }
    yaml.push_str("vms:\n");
    for index in 0..per * 4 {
        let _ = writeln!(
            yaml,
            "  vm{index}: {{ host: host{}, vcpus: 2, memory: 2GiB, volumes: [{{ name: data, size: 10GiB, mount: /var/lib/data }}] }}",
            index % per
        );
    }
    yaml.push_str("services:\n");
    for index in 0..count.saturating_sub(2 + 6 * per) {
        let _ = writeln!(
            yaml,
            "  svc{index}: {{ type: nats, runs_on: vm.vm{}, port: 4222, health: {{ tcp: \"192.0.2.1:4222\" }} }}",
            index % (per * 4)
        );
    }
    yaml
}

/// Peak resident set of the largest child waited for so far, in MiB.
fn children_peak_rss_mib() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a full rusage into the pointer it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss as f64 / 1024.0
}

#[allow(clippy::disallowed_methods)] // the benchmark runs the real binary
fn plan_once(binary: &Path, dir: &Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(binary)
        .args(["plan", "--refresh=false", "-f", "rave.yaml"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .expect("run rave");
    let elapsed = started.elapsed();
    assert!(status.success(), "rave plan failed");
    elapsed
}

fn main() {
    let binary = Path::new(env!("CARGO_BIN_EXE_rave"));
    let mut medians = Vec::new();
    println!("plan --refresh=false of a generated file (release binary, whole process)");
    println!("{:>10} {:>10} {:>12} {:>14}", "resources", "file", "median", "peak RSS");
    for count in [1_000usize, 10_000, 100_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        let yaml = generate(count);
        std::fs::write(dir.path().join("rave.yaml"), &yaml).expect("write");
        let runs = if count > 10_000 { 3 } else { 11 };
        let mut times: Vec<Duration> = (0..runs).map(|_| plan_once(binary, dir.path())).collect();
        times.sort();
        let median = times[runs / 2];
        medians.push(median);
        println!(
            "{count:>10} {:>8.1}MB {:>10.1}ms {:>11.1}MiB",
            yaml.len() as f64 / 1e6,
            median.as_secs_f64() * 1e3,
            children_peak_rss_mib()
        );
    }
    for pair in medians.windows(2) {
        println!("growth ×10 resources: ×{:.1} time", pair[1].as_secs_f64() / pair[0].as_secs_f64());
    }
}
