//! What every command starts from: the printer, the file, and a way to load the project.

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::exit_status::ExitStatus;
use crate::project::Project;
use crate::ui::Printer;

/// An error that has already been shown to the user; only its exit status is left to give.
#[derive(Debug)]
pub(crate) struct Reported(pub(crate) ExitStatus);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the problems above were reported")
    }
}

impl std::error::Error for Reported {}

/// What a command needs from the command line and the terminal.
pub(super) struct Context<'a> {
    /// Where output goes.
    pub(super) printer: &'a Printer,
    /// The desired-state file.
    pub(super) file: PathBuf,
}

impl<'a> Context<'a> {
    /// Finds the file named by `-f` or present in the working directory.
    pub(super) fn new(global: &GlobalArgs, printer: &'a Printer) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir()?;
        let file = crate::settings::find_file(global.file.as_deref(), &cwd)?;
        Ok(Self { printer, file })
    }

    /// Loads the project, printing every problem in the file when it is not valid.
    pub(super) fn load_project(&self) -> anyhow::Result<Project> {
        Project::load(&self.file).map_err(|invalid| {
            self.printer.diagnostics(&invalid.diagnostics, invalid.source.as_ref());
            anyhow::Error::new(Reported(ExitStatus::Failure))
        })
    }

    /// A tokio runtime for the async stages (refresh, apply).
    pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
        Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
    }

    /// A runtime on the calling thread alone, for a command whose async stages are skipped (a
    /// plan without refresh): no worker threads to start and to stop.
    pub(super) fn local_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
        Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
    }
}
