//! Benchmark: microVM boots (QEMU under TCG, booting the integration tests' guest from `testbed`)
//! run by the real release binary: `rave apply` of 4 VMs on the local host at `--parallelism 4`
//! against `--parallelism 1` (one after another).
//!
//! - each round boots all four from nothing (no runner running, empty state) and is timed until
//!   the apply ends, every VM having answered its health check; the VMs are then destroyed (not
//!   timed) and every QEMU is confirmed gone by the PID rave recorded;
//! - rounds of the two parallelisms alternate, so a change in the shared machine's load falls on
//!   both; one unmeasured round first builds the runners, so the rounds measure boots, not builds;
//! - beside the apply's wall time, a watcher outside rave notes when each VM's PID file appears
//!   and when its guest first answers `/healthz` (looked at every 100 ms): the boot time of each
//!   guest, which the health check's backoff (0.5 s doubling up to 8 s) does not round up.
//!
//! Run with `cargo bench --bench vms`; without `--bench` (`cargo test --benches`) it does nothing,
//! as a round takes both cores for tens of seconds. Figures go to `docs/performance.md`.

#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

#[allow(dead_code)] // the benchmark uses part of the test harness
#[path = "../tests/it/testbed/mod.rs"]
mod testbed;

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use testbed::nix::Nix;
use testbed::vm_guest::{Guest, guest};
use testbed::vm_runner::{self, Runner, is_gone, write_runners};
use testbed::{free_port, stop_pid, wait_until};

/// VMs booted by each apply.
const VMS: usize = 4;

/// Rounds per parallelism.
const ROUNDS: usize = 5;

/// How often the watcher looks at a VM.
const POLL: Duration = Duration::from_millis(100);

/// The longest the watcher looks at a VM (rave's own health check gives up well before).
const WATCH_LIMIT: Duration = Duration::from_secs(900);

/// The name of VM number `index`.
fn name(index: usize) -> String {
    format!("v{index}")
}

/// The directory rave keeps VM `index` in (its PID file and console log).
fn vm_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join(".rave/vms").join(name(index))
}

/// Writes the project: the runner flake with the guest's files, and `rave.yaml` with the VMs.
fn write_project(dir: &Path, guest: &Guest, ports: &[u16]) {
    let names: Vec<String> = (0..ports.len()).map(name).collect();
    let runners: Vec<Runner<'_>> =
        names.iter().zip(ports).map(|(name, &port)| Runner { name, bind: "127.0.0.1", port, generation: 1 }).collect();
    write_runners(&dir.join("runner"), guest, &runners);
    let mut text = "version: 1\nproject: vmbench\nnix: { flake: \"./runner\", system: x86_64-linux }\n\
                    hosts:\n  here: { local: true }\nvms:\n"
        .to_owned();
    for (index, port) in ports.iter().enumerate() {
        let name = name(index);
        let _ = write!(
            text,
            "  {name}:\n    host: here\n    vcpus: 1\n    memory: 256MiB\n    nixos: \".#nixosConfigurations.{name}\"\n    \
             health: {{ http: \"http://127.0.0.1:{port}/healthz\", body: ok, retries: 60, timeout: 300s }}\n"
        );
    }
    std::fs::write(dir.join("rave.yaml"), text).expect("write rave.yaml");
}

/// Runs `rave` on the project in `dir`; its wall time and stderr. Panics with its output when it fails.
#[allow(clippy::disallowed_methods)] // the benchmark runs the real binary
fn rave(dir: &Path, nix: &Nix, args: &[&str]) -> (Duration, String) {
    let file = dir.join("rave.yaml").display().to_string();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rave"));
    command
        .args(["-f", &file])
        .args(args)
        .current_dir(dir)
        .env_remove("RAVE_FILE")
        .env_remove("RAVE_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    nix.configure(&mut command);
    let started = Instant::now();
    let output = command.output().expect("run rave");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "`rave {}` failed:\n{}{stderr}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
    );
    (elapsed, stderr)
}

/// Stops, by the PIDs rave recorded, the runners still running when dropped: a panic anywhere in
/// the benchmark leaves no QEMU behind.
struct VmGuard<'a>(&'a Path);

impl Drop for VmGuard<'_> {
    fn drop(&mut self) {
        for index in 0..VMS {
            if let Some(pid) = vm_runner::running_pid(&vm_dir(self.0, index)) {
                stop_pid(pid);
            }
        }
    }
}

/// Whether the guest behind `port` answers `GET /healthz` with `ok`.
fn answers(port: u16) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut reply = Vec::new();
    let _ = stream.take(4096).read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    reply.starts_with("HTTP/1.") && reply.contains(" 200 ") && reply.ends_with("\r\n\r\nok\n")
}

/// When, from the apply's start, VM `index`'s PID file appeared and its guest first answered.
#[derive(Clone, Copy, Default)]
struct Watched {
    /// The PID file appeared: rave started the runner.
    started: Option<Duration>,
    /// The guest answered `/healthz`.
    answered: Option<Duration>,
}

impl Watched {
    /// From the runner's start to the guest's first answer.
    fn boot(self) -> Option<Duration> {
        Some(self.answered?.saturating_sub(self.started?))
    }
}

/// Watches VM `index` of the project in `dir` from `since` until its guest answers, or until
/// `done` (the apply ended) after one last look.
fn watch(dir: &Path, index: usize, port: u16, since: Instant, done: &AtomicBool) -> Watched {
    let pid_file = vm_dir(dir, index).join("pid");
    let mut watched = Watched::default();
    while since.elapsed() < WATCH_LIMIT {
        let is_done = done.load(Ordering::Acquire);
        if watched.started.is_none() && pid_file.exists() {
            watched.started = Some(since.elapsed());
        }
        if watched.started.is_some() && answers(port) {
            watched.answered = Some(since.elapsed());
            break;
        }
        if is_done {
            break;
        }
        std::thread::sleep(POLL);
    }
    watched
}

/// One measured apply.
struct Round {
    /// The apply's wall time.
    wall: Duration,
    /// Each VM's `vm.vN: created (…)` time, as rave printed it, in seconds.
    created: Vec<f64>,
    /// What the watcher saw of each VM.
    watched: Vec<Watched>,
}

/// The seconds in rave's `precise` elapsed time: `12.3s` or `1m05s`.
fn seconds(text: &str) -> Option<f64> {
    let text = text.strip_suffix('s')?;
    match text.split_once('m') {
        Some((minutes, seconds)) => Some(minutes.parse::<f64>().ok()? * 60.0 + seconds.parse::<f64>().ok()?),
        None => text.parse().ok(),
    }
}

/// Each VM's time in `vm.vN: created (12.3s)` in rave's stderr, in VM order.
fn created_times(stderr: &str) -> Vec<f64> {
    (0..VMS)
        .map(|index| {
            let prefix = format!("vm.{}: created (", name(index));
            stderr
                .lines()
                .find_map(|line| seconds(line.strip_prefix(&prefix)?.strip_suffix(')')?))
                .unwrap_or_else(|| panic!("no `{prefix}…)` line in rave's output:\n{stderr}"))
        })
        .collect()
}

/// Boots all VMs at `parallelism`, watched; then destroys them and checks every runner is gone.
fn round(dir: &Path, nix: &Nix, ports: &[u16], parallelism: usize) -> Round {
    let done = AtomicBool::new(false);
    let since = Instant::now();
    let (wall, stderr, watched) = std::thread::scope(|scope| {
        let watchers: Vec<_> = ports
            .iter()
            .enumerate()
            .map(|(index, &port)| {
                let done = &done;
                scope.spawn(move || watch(dir, index, port, since, done))
            })
            .collect();
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rave(dir, nix, &["apply", "--auto-approve", "--parallelism", &parallelism.to_string()])
        }));
        done.store(true, Ordering::Release);
        let watched: Vec<Watched> = watchers.into_iter().map(|watcher| watcher.join().expect("watcher")).collect();
        let (wall, stderr) = applied.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (wall, stderr, watched)
    });
    let pids: Vec<i32> = (0..VMS)
        .map(|index| {
            vm_runner::running_pid(&vm_dir(dir, index))
                .unwrap_or_else(|| panic!("`{}` is not running:\n{stderr}", name(index)))
        })
        .collect();
    assert!(watched.iter().all(|vm| vm.answered.is_some()), "a guest never answered the watcher:\n{stderr}");
    let created = created_times(&stderr);

    let (_, destroyed) = rave(dir, nix, &["destroy", "--auto-approve", "--destroy-volumes"]);
    for pid in pids {
        assert!(
            wait_until(Duration::from_secs(30), || is_gone(pid)),
            "the runner PID {pid} outlived destroy:\n{destroyed}"
        );
    }
    assert!((0..VMS).all(|index| !vm_dir(dir, index).exists()), "destroy left a VM directory:\n{destroyed}");
    Round { wall, created, watched }
}

/// The median of `samples` (the upper one of an even count).
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// `/proc/loadavg`'s three load averages.
fn load() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Seconds with two decimals, joined.
fn shown(samples: &[f64]) -> String {
    samples.iter().map(|sample| format!("{sample:.2}")).collect::<Vec<_>>().join(", ")
}

fn main() {
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let load_before = load();
    let guest = guest();
    let nix = Nix::new();
    let project = tempfile::Builder::new().prefix("rave-bench-vms-").tempdir().expect("temp dir");
    let dir = project.path();
    let _guard = VmGuard(dir);
    let ports: Vec<u16> = (0..VMS).map(|_| free_port()).collect();
    write_project(dir, guest, &ports);
    // The first round builds the runners into the store; it is not measured.
    round(dir, &nix, &ports, VMS);

    let mut rounds: Vec<(usize, Round)> = Vec::new();
    for index in 0..ROUNDS {
        for parallelism in [VMS, 1] {
            let round = round(dir, &nix, &ports, parallelism);
            let watched: Vec<String> = round
                .watched
                .iter()
                .map(|vm| {
                    let at = |time: Option<Duration>| {
                        time.map_or("-".to_owned(), |time| format!("{:.1}", time.as_secs_f64()))
                    };
                    format!("{}→{}", at(vm.started), at(vm.answered))
                })
                .collect();
            println!(
                "round {index} parallelism {parallelism}: {:.2} s; created: {} s; started→answered: {} s; load {}",
                round.wall.as_secs_f64(),
                shown(&round.created),
                watched.join(", "),
                load()
            );
            rounds.push((parallelism, round));
        }
    }

    let mut report = format!("load average before: {load_before}; after: {}\n", load());
    let mut walls = Vec::new();
    for parallelism in [1, VMS] {
        let of: Vec<&Round> = rounds.iter().filter(|(each, _)| *each == parallelism).map(|(_, round)| round).collect();
        let wall: Vec<f64> = of.iter().map(|round| round.wall.as_secs_f64()).collect();
        let last: Vec<f64> = of
            .iter()
            .map(|round| round.watched.iter().filter_map(|vm| vm.answered).max().unwrap_or_default().as_secs_f64())
            .collect();
        let boots: Vec<f64> = of
            .iter()
            .flat_map(|round| round.watched.iter().filter_map(|vm| vm.boot()))
            .map(|boot| boot.as_secs_f64())
            .collect();
        let created: Vec<f64> = of.iter().flat_map(|round| round.created.iter().copied()).collect();
        let _ = writeln!(
            report,
            "vms/{VMS} VMs at parallelism {parallelism}: median {:.2} s of {ROUNDS} (runs: {} s); last guest answered: \
             median {:.2} s; one guest's boot (PID file → /healthz): median {:.2} s, range {:.2}–{:.2} s; \
             `created` per VM: median {:.1} s",
            median(wall.clone()),
            shown(&wall),
            median(last),
            median(boots.clone()),
            boots.iter().copied().fold(f64::INFINITY, f64::min),
            boots.iter().copied().fold(0.0, f64::max),
            median(created),
        );
        walls.push(median(wall));
    }
    let _ = writeln!(report, "vms/speed-up at parallelism {VMS}: ×{:.2}", walls[0] / walls[1]);
    print!("{report}");
}
