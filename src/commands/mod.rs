//! One file per verb. [`run`] parses the command line, sets up output, and maps the result to an
//! exit code; each verb only resolves its settings, calls the stages and renders.

mod apply;
mod context;
mod graph;
mod import;
mod plan;
mod planning;
mod state;
mod state_transfer;
mod status;
mod validate;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::exit_status::ExitStatus;
use crate::ui::{ColorChoice, Printer, Verbosity};

pub(crate) use context::Reported;

/// Parses `args` and runs the command.
pub(crate) fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout and usage errors to stderr itself. Usage
            // errors exit 1, since `--detailed-exitcode` gives 2 its own meaning.
            let _ = error.print();
            return if error.use_stderr() { ExitStatus::Failure.into() } else { ExitStatus::Success.into() };
        }
    };
    let color = match cli.global.color {
        crate::cli::ColorChoice::Auto => ColorChoice::Auto,
        crate::cli::ColorChoice::Always => ColorChoice::Always,
        crate::cli::ColorChoice::Never => ColorChoice::Never,
    };
    let printer = Printer::new(Verbosity::from_flags(cli.global.verbose, cli.global.quiet), color);
    crate::ui::logging::init(cli.global.verbose, printer.stderr_is_tty() && color != ColorChoice::Never);
    let result = context::Context::new(&cli.global, &printer).and_then(|context| match cli.command {
        Command::Validate => validate::run(&context),
        Command::Plan(args) => plan::run(&context, &args),
        Command::Apply(args) => apply::run(&context, &args),
        Command::Destroy(args) => apply::run_destroy(&context, &args),
        Command::Graph => graph::run(&context),
        Command::Status(args) => status::run(&context, &args),
        Command::State(command) => state::run(&context, &command),
        Command::Import(args) => import::run(&context, &args),
    });
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            if let Some(reported) = error.downcast_ref::<Reported>() {
                return reported.0.into();
            }
            let (lines, hint) = crate::error::report(&error);
            printer.error_report(&lines, hint.as_deref());
            ExitStatus::Failure.into()
        }
    }
}
