//! Benchmark: `rave plan --refresh=false` of generated projects of 1,000, 10,000 and 100,000
//! resources, written both as `rave.yaml` and as its twin `rave.toml`, run as the real release
//! binary. Reports the median wall time of several runs and the peak resident memory of the runs,
//! and the growth in time per 10× resources (the target is linear: within 12×).
//!
//! Run with `cargo bench --bench plan`; `RAVE_BENCH_BINARY=path` times another build of `rave`
//! (an older one, to compare). Without `--bench` (`cargo test --benches`) it only checks that the
//! smallest project plans. Figures go to `docs/performance.md`.

#![allow(unsafe_code)] // wait4, to read each child's peak memory
#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

use std::fmt::Write as _;
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

/// One section of the file (`vms`) and its resources, each a name and its fields.
type Section = (&'static str, Vec<(String, Vec<(&'static str, Value)>)>);

/// A project of about `count` resources: caches, builders, builds, hosts, VMs and services.
fn project(count: usize) -> Vec<Section> {
    let per = count / 10;
    let caches = vec![(
        "lan".to_owned(),
        vec![
            ("type", plain("nix-store")),
            ("uri", quoted("file:///var/cache/rave")),
            ("public_key", quoted("lan-1:AAAA")),
        ],
    )];
    let builders = vec![(
        "b0".to_owned(),
        vec![("ssh", plain("root@192.0.2.9")), ("host_key", quoted("ssh-ed25519 AAAA")), ("max_jobs", Value::Number(8))],
    )];
    let builds = (0..per)
        .map(|index| {
            let fields = vec![
                ("attr", quoted(format!(".#packages.x86_64-linux.p{index}"))),
                ("builders", Value::List(vec![plain("b0")])),
                ("push", Value::List(vec![plain("lan")])),
            ];
            (format!("build{index}"), fields)
        })
        .collect();
    let hosts = (0..per)
        .map(|index| {
            let fields = vec![
                ("ssh", plain(format!("root@192.0.2.{}", index % 250 + 1))),
                ("host_key", quoted(format!("ssh-ed25519 AAAA{index}"))),
                ("push", Value::List(vec![plain("lan")])),
            ];
            (format!("host{index}"), fields)
        })
        .collect();
    let vms = (0..per * 4)
        .map(|index| {
            let volume =
                Value::Map(vec![("name", plain("data")), ("size", plain("10GiB")), ("mount", plain("/var/lib/data"))]);
            let fields = vec![
                ("host", plain(format!("host{}", index % per))),
                ("vcpus", Value::Number(2)),
                ("memory", plain("2GiB")),
                ("volumes", Value::List(vec![volume])),
            ];
            (format!("vm{index}"), fields)
        })
        .collect();
    let services = (0..count.saturating_sub(2 + 6 * per))
        .map(|index| {
            let fields = vec![
                ("type", plain("nats")),
                ("runs_on", plain(format!("vm.vm{}", index % (per * 4)))),
                ("port", Value::Number(4222)),
                ("health", Value::Map(vec![("tcp", quoted("192.0.2.1:4222"))])),
            ];
            (format!("svc{index}"), fields)
        })
        .collect();
    vec![
        ("caches", caches),
        ("builders", builders),
        ("builds", builds),
        ("hosts", hosts),
        ("vms", vms),
        ("services", services),
    ]
}

/// The project as the text of a file: every resource on one line, as a flow mapping (YAML) or an
/// inline table (TOML).
fn write_file(format: Format, sections: &[Section]) -> String {
    let mut text = String::new();
    match format {
        Format::Yaml => text.push_str("version: 1\nproject: bench\n"),
        Format::Toml => text.push_str("version = 1\nproject = \"bench\"\n"),
    }
    for (section, resources) in sections {
        match format {
            Format::Yaml => {
                let _ = writeln!(text, "{section}:");
            }
            Format::Toml => {
                let _ = writeln!(text, "[{section}]");
            }
        }
        for (name, fields) in resources {
            let separator = match format {
                Format::Yaml => ": ",
                Format::Toml => " = ",
            };
            let indent = match format {
                Format::Yaml => "  ",
                Format::Toml => "",
            };
            let _ = write!(text, "{indent}{name}{separator}");
            write_map(&mut text, format, fields);
            text.push('\n');
        }
    }
    text
}

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
/// child's own peak memory (`RUSAGE_CHILDREN` would give the largest child so far).
#[allow(clippy::disallowed_methods)] // the benchmark runs the real binary
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
    let is_bench = std::env::args().any(|argument| argument == "--bench");
    let binary = binary();
    let counts: &[usize] = if is_bench { &[1_000, 10_000, 100_000] } else { &[1_000] };
    println!("plan --refresh=false of a generated file (`{}`, whole process)", binary.display());
    println!("{:>10} {:>6} {:>10} {:>12} {:>14}", "resources", "format", "file", "median", "peak RSS");
    for format in [Format::Yaml, Format::Toml] {
        let mut medians = Vec::new();
        for &count in counts {
            let dir = tempfile::tempdir().expect("temp dir");
            let text = write_file(format, &project(count));
            std::fs::write(dir.path().join(format.file_name()), &text).expect("write");
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
                text.len() as f64 / 1e6,
                median.as_secs_f64() * 1e3,
                peak
            );
        }
        for pair in medians.windows(2) {
            println!("growth ×10 resources: ×{:.1} time", pair[1].as_secs_f64() / pair[0].as_secs_f64());
        }
    }
}
