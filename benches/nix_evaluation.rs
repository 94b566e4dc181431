//! Benchmark: `rave plan` of a file with 200 builds evaluates them all in **one** `nix eval`
//! process, against the 200 separate `nix eval` calls a per-resource evaluation would make.
//!
//! The flake holds 200 plain derivations (no nixpkgs: these machines are offline), so the figures
//! are evaluation overhead, which is what batching saves. Nix processes are counted with a
//! wrapper named `nix` first on `PATH` that logs each start and runs the real `nix`. Run with
//! `cargo bench --bench nix_evaluation` (needs `nix`); without `--bench` it checks 5 builds only.
//! Figures go to `docs/performance.md`.

#![allow(clippy::print_stdout, clippy::disallowed_methods)] // a benchmark prints and runs programs

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Settings for every nix run: offline, no sandbox (as the tests run it).
const NIX_CONFIG: &str = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false";

/// A project of `count` builds with its flake, and a `nix` wrapper counting starts.
struct Bench {
    dir: tempfile::TempDir,
    real_nix: PathBuf,
    count: usize,
}

impl Bench {
    fn new(count: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let real_nix = which("nix").expect("the benchmark runs the real `nix`: install nix-bin");
        let salt = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |time| time.as_nanos());
        let mut flake = String::from("{\n  outputs = { self }: {\n");
        let mut file = String::from("version: 1\nproject: bench\nnix: { flake: ./flake }\nbuilds:\n");
        for index in 0..count {
            let _ = writeln!(
                flake,
                "    packages.x86_64-linux.p{index} = derivation {{ name = \"p{index}-1.0\"; system = \"x86_64-linux\"; builder = \"/bin/sh\"; args = [ \"-c\" \"echo {salt} > $out\" ]; }};"
            );
            let _ = writeln!(file, "  p{index}: {{ attr: \".#p{index}\" }}");
        }
        flake.push_str("  };\n}\n");
        std::fs::create_dir_all(dir.path().join("flake")).expect("flake dir");
        std::fs::write(dir.path().join("flake/flake.nix"), flake).expect("flake.nix");
        std::fs::write(dir.path().join("rave.yaml"), file).expect("rave.yaml");
        let wrapper_dir = dir.path().join("bin");
        std::fs::create_dir_all(&wrapper_dir).expect("bin dir");
        let wrapper = wrapper_dir.join("nix");
        let log = dir.path().join("nix-starts.log");
        std::fs::write(
            &wrapper,
            format!("#!/bin/sh\necho start >> '{}'\nexec '{}' \"$@\"\n", log.display(), real_nix.display()),
        )
        .expect("wrapper");
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Self { dir, real_nix, count }
    }

    /// `PATH` with the counting wrapper first.
    fn path(&self) -> String {
        format!("{}:{}", self.dir.path().join("bin").display(), std::env::var("PATH").unwrap_or_default())
    }

    /// How many `nix` processes started since the last call.
    fn take_starts(&self) -> usize {
        let log = self.dir.path().join("nix-starts.log");
        let starts = std::fs::read_to_string(&log).map_or(0, |text| text.lines().count());
        let _ = std::fs::remove_file(log);
        starts
    }

    /// One `rave plan`: its time and how many nix processes it started.
    fn plan(&self) -> (Duration, usize) {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_rave"))
            .arg("plan")
            .current_dir(self.dir.path())
            .env("PATH", self.path())
            .env("NIX_CONFIG", NIX_CONFIG)
            .env("NO_COLOR", "1")
            .output()
            .expect("run rave");
        let elapsed = started.elapsed();
        assert!(output.status.success(), "rave plan failed: {}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(&format!("Plan: {} to add", self.count)), "{stdout}");
        (elapsed, self.take_starts())
    }

    /// What a per-resource evaluation would do: one `nix eval` per build, for its drvPath and outPath.
    fn separate(&self) -> (Duration, usize) {
        let flake = self.dir.path().join("flake");
        let started = Instant::now();
        for index in 0..self.count {
            let output = Command::new("nix")
                .args(["eval", "--json", "--apply", "d: { drv = d.drvPath; out = d.outPath; }"])
                .arg(format!("path:{}#packages.x86_64-linux.p{index}", flake.display()))
                .env("PATH", self.path())
                .env("NIX_CONFIG", NIX_CONFIG)
                .output()
                .expect("run nix");
            assert!(output.status.success(), "nix eval failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        (started.elapsed(), self.take_starts())
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn millis(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

fn main() {
    let is_bench = std::env::args().any(|argument| argument == "--bench");
    let (count, runs) = if is_bench { (200, 5) } else { (5, 1) };
    let bench = Bench::new(count);
    println!("{count} builds, `{}` (real nix at `{}`)", env!("CARGO_BIN_EXE_rave"), bench.real_nix.display());
    // A first plan warms the store (the flake's source, the .drv files) for both ways.
    let (_, warm_starts) = bench.plan();
    assert_eq!(warm_starts, 1, "one plan, one nix process");
    let plans: Vec<(Duration, usize)> = (0..runs).map(|_| bench.plan()).collect();
    assert!(plans.iter().all(|(_, starts)| *starts == 1), "every plan starts exactly one nix process: {plans:?}");
    let plan = median(plans.iter().map(|(elapsed, _)| *elapsed).collect());
    let separate_runs: Vec<(Duration, usize)> = (0..runs.min(3)).map(|_| bench.separate()).collect();
    let separate_starts = separate_runs[0].1;
    let separate = median(separate_runs.into_iter().map(|(elapsed, _)| elapsed).collect());
    println!("{:<44} {:>10} {:>14}", "", "median", "nix processes");
    println!("{:<44} {:>10} {:>14}", "rave plan (one batched nix eval)", millis(plan), 1);
    println!("{:<44} {:>10} {:>14}", format!("{count} separate nix eval calls"), millis(separate), separate_starts);
    println!("separate / batched: ×{:.1}", separate.as_secs_f64() / plan.as_secs_f64());
}
