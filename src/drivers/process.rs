//! The one door through which rave runs programs: [`run`] takes a [`CommandSpec`] and returns
//! what the program printed, or a [`ProcessError`] that carries the evidence.
//!
//! Both pipes are read line by line at once, while the program runs: a program that fills the
//! stderr pipe while rave waits on stdout would otherwise block forever (the deadlock ripgrep's
//! `process.rs` explains). Every line goes out as an `Event::Log` and is kept. The program starts
//! in its own process group so that a timeout, or dropping the future, stops everything it started,
//! by the group's id (the child's PID), never by name. No other module may spawn: `clippy.toml`
//! forbids `Command::new` everywhere else.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::time::{Instant, timeout, timeout_at};

use super::DriverError;
use super::command_spec::CommandSpec;
use crate::apply::{EventSink, Stream};

/// How many of the last lines a failure reports (colmena's `LOG_CONTEXT_LINES`).
pub(crate) const CONTEXT_LINES: usize = 20;

/// How much of stderr is kept in full; past it only the last lines are.
const STDERR_LIMIT: usize = 1024 * 1024;

/// Longer lines are cut into pieces of this size, so no line grows without bound.
const LINE_LIMIT: usize = 64 * 1024;

/// How long a stopped program gets between SIGTERM and SIGKILL, and how long rave then waits
/// for it to be gone.
const TERMINATE_GRACE: Duration = Duration::from_secs(2);

/// How long the pipes are still read after the program exited: something it left running in
/// the background may hold them open, and rave must not wait for that.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// What a program that succeeded printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessOutput {
    /// Everything it wrote to stdout.
    pub(crate) stdout: String,
    /// What it wrote to stderr, up to 1 MiB.
    pub(crate) stderr: String,
    /// How long it ran.
    pub(crate) elapsed: Duration,
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Termination {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl Termination {
    fn of(status: ExitStatus) -> Self {
        match status.code() {
            Some(code) => Self::Code(code),
            None => Self::Signal(status.signal().unwrap_or_default()),
        }
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(code) => write!(f, "exit code {code}"),
            Self::Signal(signal) => {
                let name = match signal {
                    1 => "SIGHUP",
                    2 => "SIGINT",
                    3 => "SIGQUIT",
                    4 => "SIGILL",
                    6 => "SIGABRT",
                    7 => "SIGBUS",
                    8 => "SIGFPE",
                    9 => "SIGKILL",
                    11 => "SIGSEGV",
                    13 => "SIGPIPE",
                    14 => "SIGALRM",
                    15 => "SIGTERM",
                    _ => return write!(f, "signal {signal}"),
                };
                write!(f, "signal {signal} ({name})")
            }
        }
    }
}

/// Why a program did not run to a successful end.
#[derive(Debug)]
pub(crate) enum ProcessError {
    /// The program is not on `PATH` (or the path does not exist).
    NotFound {
        /// The program as the spec names it.
        program: String,
    },
    /// The operating system refused to start it.
    Spawn {
        /// The program.
        program: String,
        /// The command line, shell-quoted.
        command: String,
        /// Why.
        source: io::Error,
    },
    /// Reading its output or waiting for it failed.
    Io {
        /// The program.
        program: String,
        /// The command line, shell-quoted.
        command: String,
        /// Why.
        source: io::Error,
    },
    /// It ended with a non-zero exit code or was killed by a signal.
    Failed {
        /// The program.
        program: String,
        /// The command line, shell-quoted.
        command: String,
        /// Its exit code or signal.
        status: Termination,
        /// The last lines it wrote to stderr (at most [`CONTEXT_LINES`]).
        last_stderr: Vec<String>,
        /// The last lines it wrote to stdout, for programs that explain themselves there.
        last_stdout: Vec<String>,
    },
    /// It ran past its time limit; its process group was stopped.
    TimedOut {
        /// The program.
        program: String,
        /// The command line, shell-quoted.
        command: String,
        /// The limit it ran past.
        after: Duration,
        /// The last lines it wrote to stderr before it was stopped.
        last_stderr: Vec<String>,
    },
}

impl ProcessError {
    /// One line: what went wrong.
    fn summary(&self) -> String {
        match self {
            Self::NotFound { program } => format!("`{program}` is not installed or not on PATH"),
            Self::Spawn { program, source, .. } => format!("could not start `{program}`: {source}"),
            Self::Io { program, source, .. } => format!("lost track of `{program}`: {source}"),
            Self::Failed { program, status, .. } => format!("`{program}` failed with {status}"),
            Self::TimedOut { program, after, .. } => {
                format!("`{program}` did not finish within {} and was stopped", format_duration(*after))
            }
        }
    }

    /// The evidence: the command line and the last lines the program printed.
    fn details(&self) -> Vec<String> {
        let (command, last_lines) = match self {
            Self::NotFound { .. } => return Vec::new(),
            Self::Spawn { command, .. } | Self::Io { command, .. } => (command, None),
            Self::Failed { command, last_stderr, last_stdout, .. } => {
                // Some programs (`systemctl is-system-running`) say why only on stdout.
                let lines = if last_stderr.is_empty() { ("stdout", last_stdout) } else { ("stderr", last_stderr) };
                (command, Some(lines))
            }
            Self::TimedOut { command, last_stderr, .. } => (command, Some(("stderr", last_stderr))),
        };
        let mut details = vec![format!("command: {command}")];
        if let Some((stream, lines)) = last_lines.filter(|(_, lines)| !lines.is_empty()) {
            details.push(format!("last lines of {stream}:"));
            details.extend(lines.iter().map(|line| format!("  {line}")));
        }
        details
    }
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        for detail in self.details() {
            write!(f, "\n  {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn { source, .. } | Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<ProcessError> for DriverError {
    fn from(error: ProcessError) -> Self {
        let mut driver_error = DriverError::new(error.summary());
        driver_error.details = error.details();
        driver_error
    }
}

/// A duration for people: `0.5s`, `30s`, `2m05s`.
pub(crate) fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 60 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else if duration.subsec_millis() == 0 {
        format!("{seconds}s")
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// Runs `spec` to its end and returns what it printed; a non-zero exit, a signal or the time
/// limit is an error. Each line printed goes to `events` (when given) as it comes.
pub(crate) async fn run(spec: &CommandSpec, events: Option<&EventSink>) -> Result<ProcessOutput, ProcessError> {
    let program = spec.program.clone();
    let command = spec.to_string();
    let started = Instant::now();
    let deadline = spec.timeout.map(|limit| started + limit);

    let mut child = spawn(spec).map_err(|source| {
        // A missing working directory also reads as "not found": only blame the program when
        // the directory is there.
        let is_cwd_present = spec.cwd.as_ref().is_none_or(|dir| dir.is_dir());
        if source.kind() == io::ErrorKind::NotFound && is_cwd_present {
            ProcessError::NotFound { program: program.clone() }
        } else {
            ProcessError::Spawn { program: program.clone(), command: command.clone(), source }
        }
    })?;
    let group = GroupGuard::of(&child);

    let mut stdout = Capture::new(None);
    let mut stderr = Capture::new(Some(STDERR_LIMIT));
    let (ending, reading) = {
        let stdin_pipe = child.stdin.take();
        let stdout_pipe = child.stdout.take();
        let stderr_pipe = child.stderr.take();
        let mut readers = pin!(async {
            let (fed, out, err) = tokio::join!(
                feed(stdin_pipe, spec.stdin.as_deref()),
                read_lines(stdout_pipe, Stream::Stdout, events, &mut stdout),
                read_lines(stderr_pipe, Stream::Stderr, events, &mut stderr),
            );
            fed.and(out).and(err)
        });
        // One wait, never restarted: the pipes close while a timed-out group is being stopped,
        // and a fresh wait would then see an exit instead of the timeout.
        let mut waiting = pin!(wait_until(&mut child, group.pid, deadline));
        tokio::select! {
            reading = &mut readers => (waiting.await, Some(reading)),
            ending = &mut waiting => (ending, timeout(DRAIN_GRACE, readers).await.ok()),
        }
    };
    group.disarm();

    let io_error = |source| ProcessError::Io { program: program.clone(), command: command.clone(), source };
    match ending.map_err(io_error)? {
        Ending::TimedOut => Err(ProcessError::TimedOut {
            program,
            command,
            after: spec.timeout.unwrap_or_default(),
            last_stderr: stderr.last_lines.into(),
        }),
        Ending::Exited(status) => {
            if let Some(Err(source)) = reading {
                return Err(io_error(source));
            }
            if !status.success() {
                return Err(ProcessError::Failed {
                    program,
                    command,
                    status: Termination::of(status),
                    last_stderr: stderr.last_lines.into(),
                    last_stdout: stdout.last_lines.into(),
                });
            }
            Ok(ProcessOutput { stdout: stdout.into_text(), stderr: stderr.into_text(), elapsed: started.elapsed() })
        }
    }
}

/// Starts the program in a process group of its own, its pipes ready to be read.
fn spawn(spec: &CommandSpec) -> io::Result<Child> {
    #[allow(clippy::disallowed_methods)] // the one door: every program rave runs starts here
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(name, value)| (name, value)))
        .stdin(if spec.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &spec.cwd {
        command.current_dir(dir);
    }
    command.spawn()
}

/// How the wait for a program ended.
enum Ending {
    /// It exited by itself (or was killed by someone else).
    Exited(ExitStatus),
    /// It ran past the deadline and was stopped.
    TimedOut,
}

/// Waits for the program to exit, stopping its whole process group at `deadline`.
async fn wait_until(child: &mut Child, group: Option<Pid>, deadline: Option<Instant>) -> io::Result<Ending> {
    let Some(deadline) = deadline else {
        return child.wait().await.map(Ending::Exited);
    };
    if let Ok(status) = timeout_at(deadline, child.wait()).await {
        return status.map(Ending::Exited);
    }
    signal_group(group, Signal::TERM);
    // Whether or not the leader went on TERM, KILL takes what is left of the group with it.
    let _ = timeout(TERMINATE_GRACE, child.wait()).await;
    signal_group(group, Signal::KILL);
    // Bounded even for a process stuck in the kernel; `kill_on_drop` and tokio reap it later.
    let _ = timeout(TERMINATE_GRACE, child.wait()).await;
    Ok(Ending::TimedOut)
}

/// Sends `signal` to every process in the group led by the child.
fn signal_group(group: Option<Pid>, signal: Signal) {
    if let Some(group) = group {
        // ESRCH: everyone in it is already gone, which is what was wanted.
        let _ = kill_process_group(group, signal);
    }
}

/// Kills the child's process group if [`run`] is dropped before the child was waited for, so a
/// cancelled step leaves nothing behind. `kill_on_drop` alone would only reach the leader.
struct GroupGuard {
    pid: Option<Pid>,
    is_armed: bool,
}

impl GroupGuard {
    fn of(child: &Child) -> Self {
        let pid = child.id().and_then(|id| i32::try_from(id).ok()).and_then(Pid::from_raw);
        Self { pid, is_armed: true }
    }

    /// The child was waited for: its group id may be reused from now on.
    fn disarm(mut self) {
        self.is_armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.is_armed {
            signal_group(self.pid, Signal::KILL);
        }
    }
}

/// Writes `input` to the program's stdin, then closes it so the program sees the end.
async fn feed(pipe: Option<ChildStdin>, input: Option<&[u8]>) -> io::Result<()> {
    let (Some(mut pipe), Some(input)) = (pipe, input) else { return Ok(()) };
    match pipe.write_all(input).await {
        // A program may exit without reading all of its input; that is its business.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// What rave keeps of one output stream.
struct Capture {
    bytes: Vec<u8>,
    limit: Option<usize>,
    is_truncated: bool,
    last_lines: VecDeque<String>,
}

impl Capture {
    fn new(limit: Option<usize>) -> Self {
        Self { bytes: Vec::new(), limit, is_truncated: false, last_lines: VecDeque::with_capacity(CONTEXT_LINES) }
    }

    /// Keeps one line (with its newline, if it had one) and sends it out.
    fn push(&mut self, line: &[u8], stream: Stream, events: Option<&EventSink>) {
        let fits = self.limit.is_none_or(|limit| self.bytes.len() + line.len() <= limit);
        if fits && !self.is_truncated {
            self.bytes.extend_from_slice(line);
        } else {
            self.is_truncated = true;
        }
        let text = String::from_utf8_lossy(line);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text).to_owned();
        if self.last_lines.len() == CONTEXT_LINES {
            self.last_lines.pop_front();
        }
        self.last_lines.push_back(text.clone());
        if let Some(events) = events {
            events.log(stream, text);
        }
    }

    fn into_text(self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.is_truncated {
            text.push_str("[rave: the rest of this output was not kept]\n");
        }
        text
    }
}

/// Reads `pipe` to its end, line by line, into `capture`.
async fn read_lines<R: AsyncRead + Unpin>(
    pipe: Option<R>,
    stream: Stream,
    events: Option<&EventSink>,
    capture: &mut Capture,
) -> io::Result<()> {
    let Some(pipe) = pipe else { return Ok(()) };
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    while next_line(&mut reader, &mut line).await? {
        capture.push(&line, stream, events);
    }
    Ok(())
}

/// Reads one line into `line`, cut at [`LINE_LIMIT`]; `false` at the end of the stream.
async fn next_line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, line: &mut Vec<u8>) -> io::Result<bool> {
    line.clear();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(!line.is_empty());
        }
        let window = &available[..available.len().min(LINE_LIMIT - line.len())];
        let (taken, is_complete) = match window.iter().position(|&byte| byte == b'\n') {
            Some(newline) => (newline + 1, true),
            None => (window.len(), line.len() + window.len() >= LINE_LIMIT),
        };
        line.extend_from_slice(&window[..taken]);
        reader.consume(taken);
        if is_complete {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::drivers::test_support::{drain, logged, sink};

    fn shell(script: &str) -> CommandSpec {
        CommandSpec::new("sh").args(["-c", script])
    }

    /// Whether `pid` is a live process (a zombie is not).
    fn is_alive(pid: i32) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
        let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
        state.is_some_and(|state| state != 'Z')
    }

    /// Waits (bounded) until none of `pids` is alive; returns those still alive.
    async fn survivors(pids: &[i32]) -> Vec<i32> {
        for _ in 0..50 {
            if !pids.iter().any(|&pid| is_alive(pid)) {
                return Vec::new();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        pids.iter().copied().filter(|&pid| is_alive(pid)).collect()
    }

    fn pids(lines: &[String]) -> Vec<i32> {
        lines.iter().map(|line| line.parse().unwrap()).collect()
    }

    #[tokio::test]
    async fn both_streams_are_captured_and_logged() {
        let (events, mut receiver) = sink("host.test");
        let output = run(&shell("printf 'a\\nb\\n'; printf 'e1\\ne2' >&2"), Some(&events)).await.unwrap();
        assert_eq!(output.stdout, "a\nb\n");
        assert_eq!(output.stderr, "e1\ne2");
        let all = drain(&mut receiver);
        assert_eq!(logged(&all, Stream::Stdout), ["a", "b"]);
        assert_eq!(logged(&all, Stream::Stderr), ["e1", "e2"]);
    }

    #[tokio::test]
    async fn a_flood_on_both_pipes_does_not_deadlock() {
        let (events, mut receiver) = sink("host.test");
        let spec = shell("seq 1 100000 >&2 & seq 1 100000; wait").timeout(Duration::from_secs(60));
        let output = run(&spec, Some(&events)).await.unwrap();
        assert_eq!(output.stdout.lines().count(), 100_000);
        assert_eq!(output.stderr.lines().count(), 100_000);
        assert_eq!(output.stdout.lines().last(), Some("100000"));
        let all = drain(&mut receiver);
        assert_eq!(logged(&all, Stream::Stdout).len(), 100_000);
        assert_eq!(logged(&all, Stream::Stderr).len(), 100_000);
    }

    #[tokio::test]
    async fn stderr_is_kept_up_to_its_limit() {
        // 2.2 MB of stderr: the first MiB is kept, the rest only counted as cut.
        let output = run(&shell("yes abcdefghij | head -n 200000 >&2"), None).await.unwrap();
        assert!(output.stderr.len() < STDERR_LIMIT + 100, "kept {} bytes", output.stderr.len());
        assert!(output.stderr.starts_with("abcdefghij\n"));
        assert!(output.stderr.ends_with("[rave: the rest of this output was not kept]\n"));
    }

    #[tokio::test]
    async fn a_line_longer_than_the_limit_is_cut_into_pieces() {
        let (events, mut receiver) = sink("host.test");
        let output = run(&shell("head -c 150000 /dev/zero | tr '\\0' x"), Some(&events)).await.unwrap();
        assert_eq!(output.stdout.len(), 150_000);
        let lengths: Vec<usize> = logged(&drain(&mut receiver), Stream::Stdout).iter().map(String::len).collect();
        assert_eq!(lengths, [LINE_LIMIT, LINE_LIMIT, 150_000 - 2 * LINE_LIMIT]);
    }

    #[tokio::test]
    async fn input_is_fed_and_otherwise_empty() {
        let output = run(&CommandSpec::new("cat").stdin("hello\n"), None).await.unwrap();
        assert_eq!(output.stdout, "hello\n");
        let output = run(&CommandSpec::new("cat").timeout(Duration::from_secs(10)), None).await.unwrap();
        assert_eq!(output.stdout, "");
    }

    #[tokio::test]
    async fn an_exit_code_is_reported_with_the_last_stderr_lines() {
        let error = run(&shell("echo doing >&2; echo oops >&2; exit 3"), None).await.unwrap_err();
        let ProcessError::Failed { status, last_stderr, .. } = &error else { panic!("{error:?}") };
        assert_eq!(*status, Termination::Code(3));
        assert_eq!(last_stderr, &["doing", "oops"]);
        assert_eq!(
            error.to_string(),
            "`sh` failed with exit code 3\n  command: sh -c 'echo doing >&2; echo oops >&2; exit 3'\n  \
             last lines of stderr:\n    doing\n    oops"
        );
    }

    #[tokio::test]
    async fn false_fails_with_code_one() {
        let error = run(&CommandSpec::new("false"), None).await.unwrap_err();
        assert!(matches!(error, ProcessError::Failed { status: Termination::Code(1), .. }), "{error:?}");
    }

    #[tokio::test]
    async fn a_signal_is_reported_by_name() {
        let error = run(&shell("kill -KILL $$"), None).await.unwrap_err();
        let ProcessError::Failed { status, .. } = &error else { panic!("{error:?}") };
        assert_eq!(*status, Termination::Signal(9));
        assert_eq!(error.to_string().lines().next(), Some("`sh` failed with signal 9 (SIGKILL)"));
    }

    #[tokio::test]
    async fn only_the_last_twenty_stderr_lines_are_reported() {
        let error = run(&shell("seq 1 100 >&2; exit 1"), None).await.unwrap_err();
        let ProcessError::Failed { last_stderr, .. } = error else { panic!("{error:?}") };
        let expected: Vec<String> = (81..=100).map(|number: u32| number.to_string()).collect();
        assert_eq!(last_stderr, expected);
    }

    #[tokio::test]
    async fn a_failure_silent_on_stderr_shows_stdout() {
        let error = DriverError::from(run(&shell("echo degraded; exit 1"), None).await.unwrap_err());
        assert_eq!(error.summary, "`sh` failed with exit code 1");
        assert_eq!(error.details, ["command: sh -c 'echo degraded; exit 1'", "last lines of stdout:", "  degraded"]);
        assert!(!error.is_partial);
    }

    #[tokio::test]
    async fn a_timeout_stops_the_whole_process_group() {
        let (events, mut receiver) = sink("host.test");
        let spec = shell("sleep 30 & echo $!; sleep 30 & echo $!; echo $$; wait").timeout(Duration::from_secs(1));
        let started = std::time::Instant::now();
        let error = run(&spec, Some(&events)).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
        let ProcessError::TimedOut { after, .. } = &error else { panic!("{error:?}") };
        assert_eq!(*after, Duration::from_secs(1));
        assert_eq!(error.to_string().lines().next(), Some("`sh` did not finish within 1s and was stopped"));
        let pids = pids(&logged(&drain(&mut receiver), Stream::Stdout));
        assert_eq!(pids.len(), 3);
        assert_eq!(survivors(&pids).await, Vec::<i32>::new());
    }

    #[tokio::test]
    async fn a_program_ignoring_sigterm_is_killed() {
        let (events, mut receiver) = sink("host.test");
        let spec = shell("trap '' TERM; echo $$; while :; do sleep 0.1; done").timeout(Duration::from_millis(500));
        let error = run(&spec, Some(&events)).await.unwrap_err();
        assert!(matches!(error, ProcessError::TimedOut { .. }), "{error:?}");
        let pids = pids(&logged(&drain(&mut receiver), Stream::Stdout));
        assert_eq!(survivors(&pids).await, Vec::<i32>::new());
    }

    #[tokio::test]
    async fn dropping_the_run_stops_the_whole_process_group() {
        let (events, mut receiver) = sink("host.test");
        let spec = shell("sleep 30 & echo $!; echo $$; wait");
        let cut_short = tokio::time::timeout(Duration::from_millis(500), run(&spec, Some(&events))).await;
        assert!(cut_short.is_err());
        let pids = pids(&logged(&drain(&mut receiver), Stream::Stdout));
        assert_eq!(pids.len(), 2);
        assert_eq!(survivors(&pids).await, Vec::<i32>::new());
    }

    #[tokio::test]
    async fn something_left_running_in_the_background_does_not_hold_the_run() {
        let started = std::time::Instant::now();
        let output = run(&shell("sleep 30 & echo $!"), None).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
        let pid: i32 = output.stdout.trim().parse().unwrap();
        // Clean up the one process this test left, by its PID.
        let _ = rustix::process::kill_process(Pid::from_raw(pid).unwrap(), Signal::KILL);
        assert_eq!(survivors(&[pid]).await, Vec::<i32>::new());
    }

    #[tokio::test]
    async fn a_missing_program_is_named() {
        let error = run(&CommandSpec::new("rave-test-no-such-program").arg("x"), None).await.unwrap_err();
        assert!(matches!(&error, ProcessError::NotFound { program } if program == "rave-test-no-such-program"));
        assert_eq!(error.to_string(), "`rave-test-no-such-program` is not installed or not on PATH");
    }

    #[tokio::test]
    async fn a_missing_directory_is_not_blamed_on_the_program() {
        let spec = CommandSpec::new("true").cwd("/nonexistent/rave-test");
        let error = run(&spec, None).await.unwrap_err();
        assert!(matches!(error, ProcessError::Spawn { .. }), "{error:?}");
        assert!(error.to_string().starts_with("could not start `true`: "), "{error}");
        assert!(error.to_string().contains("command: cd /nonexistent/rave-test && true"), "{error}");
    }

    #[test]
    fn terminations_read_well() {
        assert_eq!(Termination::Code(2).to_string(), "exit code 2");
        assert_eq!(Termination::Signal(15).to_string(), "signal 15 (SIGTERM)");
        assert_eq!(Termination::Signal(40).to_string(), "signal 40");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(Duration::from_millis(500)), "0.5s");
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(1250)), "1.2s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
    }
}
