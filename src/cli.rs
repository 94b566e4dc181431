//! The command line as clap sees it: flags and subcommands, with their help text.
//!
//! Nothing here is resolved or checked beyond what clap does; `settings` turns a [`Cli`] into
//! values the commands use.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Plan and apply Nix-based infrastructure from one desired-state file.
#[derive(Debug, Parser)]
#[command(name = "rave", version, about, propagate_version = true, max_term_width = 100)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The desired-state file; by default `rave.yaml`, `rave.yml` or `rave.toml` in the working directory
    #[arg(short = 'f', long = "file", global = true, env = "RAVE_FILE", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// When to use colour
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(crate) color: ColorChoice,
    /// Print more: `-v` shows program output during apply, `-vv` debug logs (or set `RAVE_LOG`)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Print only errors and the requested data
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set
    Auto,
    /// Always
    Always,
    /// Never
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check the file: syntax, types, references, cycles. Reads no state, touches nothing
    Validate,
    /// Show what an apply would change and why
    Plan(PlanArgs),
    /// Make reality match the file (or carry out a saved plan)
    Apply(ApplyArgs),
    /// Destroy everything rave manages in this project (or the `--target`s)
    Destroy(DestroyArgs),
    /// Print the resource graph in Graphviz DOT
    Graph,
    /// Check every host's and service's health now, without planning
    Status(StatusArgs),
    /// Inspect and repair recorded state
    #[command(subcommand)]
    State(StateCommand),
    /// Start managing a VM, host or cache that exists already, as the file declares it
    Import(ImportArgs),
}

/// `rave import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The resource's address in the file, like `vm.gitlab`
    pub(crate) address: String,
    /// What identifies the existing resource: a VM's or host's name, a cache's URI
    pub(crate) id: String,
    /// How long to wait for the state lock
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub(crate) lock_timeout: String,
}

/// Options shared by every command that plans.
#[derive(Debug, Args)]
pub(crate) struct PlanningArgs {
    /// Only this resource and what it depends on (repeatable)
    #[arg(long = "target", value_name = "ADDRESS")]
    pub(crate) targets: Vec<String>,
    /// Leave out this resource and everything that depends on it (repeatable)
    #[arg(long = "exclude", value_name = "ADDRESS")]
    pub(crate) excludes: Vec<String>,
    /// Read reality through the drivers and evaluate Nix-built resources (one `nix eval`) before planning
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub(crate) refresh: bool,
    /// How long to wait for another rave holding the state lock, like `30s` or `5m`
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub(crate) lock_timeout: String,
}

/// `rave plan`.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Planning options.
    #[command(flatten)]
    pub(crate) planning: PlanningArgs,
    /// Replace this resource even if nothing changed (repeatable)
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub(crate) replace: Vec<String>,
    /// Plan to destroy everything (or the targets)
    #[arg(long)]
    pub(crate) destroy: bool,
    /// Only report what changed outside of rave (drift), planning nothing; with
    /// `--detailed-exitcode`, exit 2 when something drifted
    #[arg(long, conflicts_with_all = ["destroy", "replace", "out", "refresh"])]
    pub(crate) refresh_only: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub(crate) format: PlanFormat,
    /// Save the plan here, for `rave apply FILE`
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 1 on error, 2 when there are changes
    #[arg(long)]
    pub(crate) detailed_exitcode: bool,
}

/// How to print a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// For a person at a terminal
    Human,
    /// Versioned JSON (schema in `schemas/plan.schema.json`)
    Json,
    /// For a pull-request comment
    Markdown,
}

/// `rave apply`.
#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// A plan saved with `rave plan -o FILE`: carried out exactly, or refused if state moved on
    #[arg(value_name = "PLAN")]
    pub(crate) plan_file: Option<PathBuf>,
    /// Planning options (ignored with a saved plan).
    #[command(flatten)]
    pub(crate) planning: PlanningArgs,
    /// Replace this resource even if nothing changed (repeatable)
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub(crate) replace: Vec<String>,
    /// Do not ask for confirmation
    #[arg(long)]
    pub(crate) auto_approve: bool,
    /// How many resources to act on at once
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..), value_name = "N")]
    pub(crate) parallelism: u16,
    /// Delete the volume images of VMs that are destroyed (kept otherwise)
    #[arg(long)]
    pub(crate) destroy_volumes: bool,
}

/// `rave destroy`.
#[derive(Debug, Args)]
pub(crate) struct DestroyArgs {
    /// Planning options.
    #[command(flatten)]
    pub(crate) planning: PlanningArgs,
    /// Do not ask for confirmation
    #[arg(long)]
    pub(crate) auto_approve: bool,
    /// How many resources to act on at once
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..), value_name = "N")]
    pub(crate) parallelism: u16,
    /// Delete the volume images of VMs that are destroyed (kept otherwise)
    #[arg(long)]
    pub(crate) destroy_volumes: bool,
}

/// `rave status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// How many resources to check at once
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..), value_name = "N")]
    pub(crate) parallelism: u16,
}

/// `rave state …`.
#[derive(Debug, Subcommand)]
pub(crate) enum StateCommand {
    /// List the addresses rave manages
    List,
    /// Show what is recorded for one resource, or the whole state
    Show {
        /// The resource, like `vm.gitlab`; the whole state when left out
        address: Option<String>,
        /// Show it as it was at this serial (see `rave state history`)
        #[arg(long, value_name = "N")]
        serial: Option<u64>,
    },
    /// List the committed versions of the state the backend keeps, newest first
    History,
    /// Print the whole current state as JSON
    Pull,
    /// Replace the state with FILE (from `rave state pull`); refused when the state's lineage
    /// differs or its serial moved past the file's
    Push {
        /// The state file
        #[arg(value_name = "FILE")]
        state_file: PathBuf,
        /// How long to wait for the state lock
        #[arg(long, default_value = "0s", value_name = "DURATION")]
        lock_timeout: String,
    },
    /// Copy the state to another backend; then point `state:` in the file at it
    Migrate {
        /// The backend to copy to
        #[arg(long, value_enum)]
        to: MigrateTarget,
        /// With `--to postgres`: the connection URL as a secret reference
        #[arg(long, default_value = "env:RAVE_PG_URL", value_name = "REFERENCE")]
        url: String,
        /// With `--to local`: the state file, relative to the desired-state file
        #[arg(long, default_value = ".rave/state.json", value_name = "PATH")]
        path: PathBuf,
        /// How long to wait for the state locks
        #[arg(long, default_value = "0s", value_name = "DURATION")]
        lock_timeout: String,
    },
    /// Forget resources without destroying them
    Rm {
        /// The resources, like `vm.gitlab`
        #[arg(required = true)]
        addresses: Vec<String>,
        /// How long to wait for the state lock
        #[arg(long, default_value = "0s", value_name = "DURATION")]
        lock_timeout: String,
    },
    /// Record a resource under a new address, for a rename in the file; nothing is touched
    Mv {
        /// The address state records, like `vm.old`
        from: String,
        /// The new address, of the same kind, like `vm.new`
        to: String,
        /// How long to wait for the state lock
        #[arg(long, default_value = "0s", value_name = "DURATION")]
        lock_timeout: String,
    },
    /// Release a lock whose holder is gone
    Unlock {
        /// The lock id, as printed by the command that found the lock held
        id: String,
    },
}

/// Where `rave state migrate` copies the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MigrateTarget {
    /// A JSON file on this machine
    Local,
    /// A PostgreSQL database
    Postgres,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
