//! Benchmark: NixOS deploys over SSH to real hosts (sshd in network namespaces, each with its own
//! `/nix`, from the integration tests' `testbed`), run as the real release binary, as root.
//!
//! - deploy of 4 hosts at `--parallelism 4` against `--parallelism 1` (one after another): each
//!   round deploys a new system to every host (build, `nix copy`, profile, switch, health check);
//!   the median of the rounds is reported;
//! - SSH logins a no-op apply opens, counted in each host's sshd log (target: at most one a host).
//!
//! Run with `cargo bench --bench deploy`; without `--bench` (`cargo test --benches`) it does
//! nothing, as it needs root and a few seconds a round. Figures go to `docs/performance.md`.

#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

#[allow(dead_code)] // the benchmark uses part of the test harness
#[path = "../tests/it/testbed/mod.rs"]
mod testbed;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testbed::nix::NIX_CONFIG;
use testbed::nixos_flake::{HEALTH_CHECK, System, write_flake};
use testbed::ssh_host::SshHost;

/// Hosts deployed at once.
const HOSTS: usize = 4;

/// Rounds per parallelism.
const ROUNDS: usize = 5;

/// Runs `rave` on the project in `dir`; panics with its output when it fails.
#[allow(clippy::disallowed_methods)] // the benchmark runs the real binary
fn rave(dir: &Path, args: &[&str]) -> Duration {
    let file = dir.join("rave.yaml").display().to_string();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_rave"))
        .args(["-f", &file])
        .args(args)
        .current_dir(dir)
        .env("NIX_CONFIG", NIX_CONFIG)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run rave");
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "`rave {}` failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

/// A project deploying `hosts` as `h0`…`h3`, with their systems at `version`.
fn write_project(dir: &Path, hosts: &[SshHost], version: &str) {
    let names: Vec<String> = (0..hosts.len()).map(|index| format!("h{index}")).collect();
    let mut text = "version: 1\nproject: bench\nhosts:\n".to_owned();
    for (name, host) in names.iter().zip(hosts) {
        let _ = write!(
            text,
            "  {name}:\n    ssh: root@{}\n    host_key: \"{}\"\n    ssh_key: file:{}\n    \
             nixos: \".#nixosConfigurations.{name}\"\n    health: {HEALTH_CHECK}\n",
            host.address(),
            host.host_key(),
            host.client_key().display(),
        );
    }
    std::fs::write(dir.join("rave.yaml"), text).expect("write rave.yaml");
    let systems: Vec<System<'_>> =
        names.iter().map(|name| System { name, version, is_healthy: true, locks_out: false }).collect();
    write_flake(dir, &systems);
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let hosts: Vec<SshHost> = (0..HOSTS).map(|index| SshHost::start(&format!("h{index}"))).collect();
    let project = tempfile::Builder::new().prefix("rave-bench-").tempdir().expect("temp dir");
    let dir = project.path();
    let _ssh_dir = testbed::SshRuntimeDir::of(dir);
    // The first deploy sets every host's profile up; it is not measured.
    write_project(dir, &hosts, "warm");
    rave(dir, &["apply", "--auto-approve"]);

    let mut report = String::new();
    let mut medians = Vec::new();
    for parallelism in [1, HOSTS] {
        let samples: Vec<Duration> = (0..ROUNDS)
            .map(|round| {
                write_project(dir, &hosts, &format!("p{parallelism}r{round}"));
                rave(dir, &["apply", "--auto-approve", "--parallelism", &parallelism.to_string()])
            })
            .collect();
        let shown: Vec<String> = samples.iter().map(|sample| format!("{:.2}", sample.as_secs_f64())).collect();
        let median = median(samples);
        medians.push(median);
        let _ = writeln!(
            report,
            "deploy/{HOSTS} hosts at parallelism {parallelism}: median {:.2} s of {ROUNDS} (runs: {} s)",
            median.as_secs_f64(),
            shown.join(", ")
        );
    }
    let _ = writeln!(
        report,
        "deploy/speed-up at parallelism {HOSTS}: ×{:.2}",
        medians[0].as_secs_f64() / medians[1].as_secs_f64()
    );

    let before: Vec<usize> = hosts.iter().map(SshHost::logins).collect();
    let no_op = rave(dir, &["apply", "--auto-approve"]);
    let logins: Vec<usize> = hosts.iter().zip(&before).map(|(host, before)| host.logins() - before).collect();
    let _ = writeln!(
        report,
        "no-op apply: {:.2} s, SSH logins per host: {logins:?} (target: at most 1 each)",
        no_op.as_secs_f64()
    );
    print!("{report}");
}
