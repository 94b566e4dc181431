//! The test harness: a temporary project directory and the real `rave` binary run in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary project directory that tests write files into and run `rave` in.
pub(crate) struct Project {
    dir: tempfile::TempDir,
}

/// What one run of `rave` did.
pub(crate) struct Run {
    /// The exit code (`None` when killed by a signal).
    pub(crate) code: Option<i32>,
    /// Standard output, temp paths replaced by `[TEMP]`.
    pub(crate) stdout: String,
    /// Standard error, temp paths replaced by `[TEMP]`.
    pub(crate) stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr in one text, for whole-output snapshots.
    pub(crate) fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code.map_or_else(|| "signal".to_owned(), |code| code.to_string()),
            self.stdout,
            self.stderr
        )
    }

    /// Panics with the transcript unless the exit code is `code`.
    #[track_caller]
    pub(crate) fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code\n{}", self.transcript());
        self
    }
}

impl Project {
    /// A new empty directory.
    pub(crate) fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `name` in the directory (parents created).
    pub(crate) fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
        std::fs::write(path, contents).expect("write file");
        self
    }

    /// Reads `name` from the directory.
    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).expect("read file")
    }

    /// A `rave` command ready to run in the directory, without colour or a terminal.
    #[allow(clippy::disallowed_methods)] // tests run the real binary, not through rave's own runner
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RAVE_FILE")
            .env_remove("RAVE_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        command
    }

    /// Runs `rave` with `args` and waits for it.
    pub(crate) fn rave(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run rave");
        self.run_from(&output)
    }

    /// Turns a finished process's output into a [`Run`], with temp paths filtered.
    pub(crate) fn run_from(&self, output: &Output) -> Run {
        let filter =
            |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&self.dir.path().display().to_string(), "[TEMP]");
        Run { code: output.status.code(), stdout: filter(&output.stdout), stderr: filter(&output.stderr) }
    }
}

/// The `rave` binary cargo built for these tests.
pub(crate) fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rave"))
}
