//! Benchmark: `rave plan --refresh=false` of generated projects of 1,000, 10,000 and 100,000
//! resources, written both as `rave.yaml` and as its twin `rave.toml`, run as the real release
//! binary. Reports the median wall time of several runs and the peak resident memory of the runs,
//! and the growth in time per 10× resources (the target is linear: within 12×).
//!
//! Run with `cargo bench --bench plan`; `RAVE_BENCH_BINARY=path` times another build of `rave`
//! (an older one, to compare); `RAVE_BENCH_WRITE=DIR` only writes the 10,000-resource files into
//! `DIR/yaml` and `DIR/toml`, for profiling. Without `--bench` (`cargo test --benches`) it only checks that the
//! smallest project plans. Figures go to `docs/performance.md`.

#![allow(unsafe_code)] // wait4, to read each child's peak memory
#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A value in the generated file, written the way a person would write it in each format.
enum Value {
    /// A string YAML needs no quotes for: `root@192.0.2.9`, `2GiB`.
    Plain(String),
    /// A string written in quotes in both formats.
    Quoted(String),
    Number(u64),
    List(Vec<Value>),
    Map(Vec<(&'static str, Value)>),
}

/// The two file formats.
#[derive(Clone, Copy)]
enum Format {
    Yaml,
    Toml,
}

impl Format {
    fn file_name(self) -> &'static str {
        match self {
            Self::Yaml => "rave.yaml",
            Self::Toml => "rave.toml",
        }
    }
}

fn plain(text: impl Into<String>) -> Value {
    Value::Plain(text.into())
}

fn quoted(text: impl Into<String>) -> Value {
    Value::Quoted(text.into())
}

/// The sections of the file, in the order written.
#[derive(Clone, Copy)]
enum Section {
    Caches,
    Builders,
    Builds,
    Hosts,
    Vms,
    Services,
}

impl Section {
    const ALL: [Self; 6] = [Self::Caches, Self::Builders, Self::Builds, Self::Hosts, Self::Vms, Self::Services];

    fn key(self) -> &'static str {
        match self {
            Self::Caches => "caches",
            Self::Builders => "builders",
            Self::Builds => "builds",
            Self::Hosts => "hosts",
            Self::Vms => "vms",
            Self::Services => "services",
        }
    }

    /// How many resources it has in a project of about `count`: one cache, one builder, and
    /// builds, hosts, VMs and services in the proportions 1:1:4:4.
    fn size(self, count: usize) -> usize {
        let per = count / 10;
        match self {
            Self::Caches | Self::Builders => 1,
            Self::Builds | Self::Hosts => per,
            Self::Vms => per * 4,
            Self::Services => count.saturating_sub(2 + 6 * per),
        }
    }

    /// Resource number `index`: its name and fields. VMs spread over the hosts, services over
    /// the VMs.
    fn resource(self, index: usize, count: usize) -> (String, Vec<(&'static str, Value)>) {
        let per = count / 10;
        match self {
            Self::Caches => (
                "lan".to_owned(),
                vec![
                    ("type", plain("nix-store")),
                    ("uri", quoted("file:///var/cache/rave")),
                    ("public_key", quoted("lan-1:AAAA")),
                ],
            ),
            Self::Builders => (
                "b0".to_owned(),
                vec![
                    ("ssh", plain("root@192.0.2.9")),
                    ("host_key", quoted("ssh-ed25519 AAAA")),
                    ("max_jobs", Value::Number(8)),
                ],
            ),
            Self::Builds => (
                format!("build{index}"),
                vec![
                    ("attr", quoted(format!(".#packages.x86_64-linux.p{index}"))),
                    ("builders", Value::List(vec![plain("b0")])),
                    ("push", Value::List(vec![plain("lan")])),
                ],
            ),
            Self::Hosts => (
                format!("host{index}"),
                vec![
                    ("ssh", plain(format!("root@192.0.2.{}", index % 250 + 1))),
                    ("host_key", quoted(format!("ssh-ed25519 AAAA{index}"))),
                    ("push", Value::List(vec![plain("lan")])),
                ],
            ),
            Self::Vms => {
                let volume = Value::Map(vec![
                    ("name", plain("data")),
                    ("size", plain("10GiB")),
                    ("mount", plain("/var/lib/data")),
                ]);
                (
                    format!("vm{index}"),
                    vec![
                        ("host", plain(format!("host{}", index % per))),
                        ("vcpus", Value::Number(2)),
                        ("memory", plain("2GiB")),
                        ("volumes", Value::List(vec![volume])),
                    ],
                )
            }
            Self::Services => (
                format!("svc{index}"),
                vec![
                    ("type", plain("nats")),
                    ("runs_on", plain(format!("vm.vm{}", index % (per * 4)))),
                    ("port", Value::Number(4222)),
                    ("health", Value::Map(vec![("tcp", quoted("192.0.2.1:4222"))])),
                ],
            ),
        }
    }
}

/// Writes a project of about `count` resources to `path`, every resource on one line as a flow
/// mapping (YAML) or an inline table (TOML), and returns the file's size. Line by line: the
/// benchmark's own memory must stay small, as each child's peak RSS counts its parent's peak
/// (`posix_spawn` shares the parent's memory until `exec`, and Linux carries the high-water mark
/// over).
fn write_project(path: &Path, format: Format, count: usize) -> u64 {
    let mut file = BufWriter::new(File::create(path).expect("create the file"));
    let mut line = String::new();
    match format {
        Format::Yaml => line.push_str("version: 1\nproject: bench\n"),
        Format::Toml => line.push_str("version = 1\nproject = \"bench\"\n"),
    }
    for section in Section::ALL {
        match format {
            Format::Yaml => {
                let _ = writeln!(line, "{}:", section.key());
            }
            Format::Toml => {
                let _ = writeln!(line, "[{}]", section.key());
            }
        }
        for index in 0..section.size(count) {
            let (name, fields) = section.resource(index, count);
            let _ = match format {
                Format::Yaml => write!(line, "  {name}: "),
                Format::Toml => write!(line, "{name} = "),
            };
            write_map(&mut line, format, &fields);
            line.push('\n');
            file.write_all(line.as_bytes()).expect("write the file");
            line.clear();
        }
    }
    file.write_all(line.as_bytes()).expect("write the file");
    file.flush().expect("write the file");
    std::fs::metadata(path).expect("the file").len()
}

/// `{ key: value, … }` or `{ key = value, … }`.
fn write_map(text: &mut String, format: Format, fields: &[(&'static str, Value)]) {
    text.push_str("{ ");
    for (index, (key, value)) in fields.iter().enumerate() {
        if index > 0 {
            text.push_str(", ");
        }
        text.push_str(key);
        text.push_str(match format {
            Format::Yaml => ": ",
            Format::Toml => " = ",
        });
        write_value(text, format, value);
    }
    text.push_str(" }");
}

fn write_value(text: &mut String, format: Format, value: &Value) {
    match (value, format) {
        (Value::Plain(string), Format::Yaml) => text.push_str(string),
        (Value::Plain(string) | Value::Quoted(string), _) => {
            let _ = write!(text, "\"{string}\"");
        }
        (Value::Number(number), _) => {
            let _ = write!(text, "{number}");
        }
        (Value::List(items), _) => {
            text.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    text.push_str(", ");
                }
                write_value(text, format, item);
            }
            text.push(']');
        }
        (Value::Map(fields), _) => write_map(text, format, fields),
    }
}

/// What one run cost.
struct Run {
    elapsed: Duration,
    peak_rss_mib: f64,
}

/// Runs `rave plan --refresh=false` once in `dir` and waits for it with `wait4`, which gives this
/// child's own peak memory (`RUSAGE_CHILDREN` would give the largest child so far). The figure
/// cannot be below this process's own peak (see [`write_project`]), a few MiB.
#[allow(clippy::disallowed_methods)] // the benchmark runs the real binary
#[allow(clippy::zombie_processes)] // waited for with `wait4`, not `Child::wait`
fn plan_once(binary: &Path, dir: &Path, format: Format) -> Run {
    let started = Instant::now();
    let child = Command::new(binary)
        .args(["plan", "--refresh=false", "-f", format.file_name()])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run rave");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `pid` is our child, not yet waited for; wait4 writes a full rusage into the pointer.
    let (waited, usage) = unsafe {
        let waited = libc::wait4(pid, &raw mut status, 0, usage.as_mut_ptr());
        (waited, usage.assume_init())
    };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "rave plan failed");
    Run { elapsed, peak_rss_mib: usage.ru_maxrss as f64 / 1024.0 }
}

/// The binary to time: `RAVE_BENCH_BINARY`, or this package's release build.
fn binary() -> PathBuf {
    std::env::var_os("RAVE_BENCH_BINARY").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_rave")), PathBuf::from)
}

fn main() {
    if let Some(dir) = std::env::var_os("RAVE_BENCH_WRITE") {
        // For profiling: write the 10,000-resource twins into DIR/yaml and DIR/toml, time nothing.
        for format in [Format::Yaml, Format::Toml] {
            let project = Path::new(&dir).join(format.file_name().trim_start_matches("rave."));
            std::fs::create_dir_all(&project).expect("create project dir");
            write_project(&project.join(format.file_name()), format, 10_000);
            check_fast_path(&project.join(format.file_name()), format);
        }
        return;
    }
    let is_bench = std::env::args().any(|argument| argument == "--bench");
    let binary = binary();
    let counts: &[usize] = if is_bench { &[1_000, 10_000, 100_000] } else { &[1_000] };
    println!("plan --refresh=false of a generated file (`{}`, whole process)", binary.display());
    println!("{:>10} {:>6} {:>10} {:>12} {:>14}", "resources", "format", "file", "median", "peak RSS");
    for format in [Format::Yaml, Format::Toml] {
        let mut medians = Vec::new();
        for &count in counts {
            let dir = tempfile::tempdir().expect("temp dir");
            let size = write_project(&dir.path().join(format.file_name()), format, count);
            let runs = match (is_bench, count > 10_000) {
                (false, _) => 1,
                (true, true) => 3,
                (true, false) => 11,
            };
            let mut results: Vec<Run> = (0..runs).map(|_| plan_once(&binary, dir.path(), format)).collect();
            results.sort_by_key(|run| run.elapsed);
            let median = results[runs / 2].elapsed;
            let peak = results.iter().map(|run| run.peak_rss_mib).fold(0.0, f64::max);
            medians.push(median);
            println!(
                "{count:>10} {:>6} {:>8.1}MB {:>10.1}ms {:>11.1}MiB",
                format.file_name().trim_start_matches("rave."),
                size as f64 / 1e6,
                median.as_secs_f64() * 1e3,
                peak
            );
        }
        for pair in medians.windows(2) {
            println!("growth ×10 resources: ×{:.1} time", pair[1].as_secs_f64() / pair[0].as_secs_f64());
        }
    }
    // After the runs, so that the check's memory does not count in their peaks.
    let dir = tempfile::tempdir().expect("temp dir");
    for format in [Format::Yaml, Format::Toml] {
        let path = dir.path().join(format.file_name());
        write_project(&path, format, 1_000);
        check_fast_path(&path, format);
    }
}

/// The generated file must be read by the fast reader of its format's common subset, and agree
/// with saphyr or `toml`, or the figures would time the slow path (`src/config/yaml_subset.rs`,
/// ADR 0012; `src/config/toml_fast.rs`, ADR 0013). Every size is written alike, so checking one
/// checks them all.
fn check_fast_path(path: &Path, format: Format) {
    let text = std::fs::read_to_string(path).expect("read the file back");
    let is_fast = match format {
        Format::Yaml => rave::fuzzing::compare_yaml_readers(&text),
        Format::Toml => rave::fuzzing::toml_fast_path_agrees(text.as_bytes()),
    };
    assert!(is_fast, "the benchmark's {} left the fast reader's subset", format.file_name());
}
