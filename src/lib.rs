//! rave: a declarative reconciler for Nix-based infrastructure.
//!
//! One desired-state file (`rave.yaml` or `rave.toml`) describes caches, builders, builds, hosts,
//! VMs, containers and services; `rave plan` shows what will change and why; `rave apply` does it.
//! The pipeline, one module per stage, each producing a value the next consumes:
//!
//! | stage | module | produces |
//! |---|---|---|
//! | command line | [`cli`] → [`settings`] | `Settings` |
//! | read the file | [`config`] | `LoadedFile` (text, positioned tree, typed `Document`) |
//! | validate | [`model::lower`] | `Spec` (or every `Diagnostic` at once) |
//! | order | [`graph`] | `ResourceGraph` (a DAG; cycles are diagnostics) |
//! | recall | [`state`] | `State` behind a `StateBackend` with a lock |
//! | observe | [`refresh`] | what drivers found, per recorded resource |
//! | evaluate | [`nix`] | every Nix-built resource's derivation, from one `nix eval` |
//! | decide | [`plan::diff`] | `Plan`, pure data |
//! | show | [`render`] | text, JSON or Markdown |
//! | act | [`apply`] | events, an outcome, state saved per node |
//! | touch the world | [`drivers`] | the only code that runs programs |
//! | talk to the user | [`ui`] | the only code that writes to the terminal |

// The crate's docs are for the engineers working on rave: they map the private modules.
#![allow(rustdoc::private_intra_doc_links)]

mod apply;
mod cli;
mod commands;
mod config;
mod diagnostic;
mod drivers;
mod error;
mod exit_status;
mod graph;
mod model;
mod nix;
mod plan;
mod project;
mod refresh;
mod render;
mod settings;
mod state;
mod ui;

#[cfg(feature = "bench")]
#[doc(hidden)]
pub use apply::bench;
#[cfg(feature = "bench")]
#[doc(hidden)]
pub use state::bench_api;

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs rave with these command-line arguments and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    commands::run(args)
}

/// Entry points for the fuzz targets in `fuzz/`; not part of rave's interface.
#[doc(hidden)]
pub mod fuzzing {
    use std::path::Path;

    /// Reads `bytes`, when they are UTF-8, as TOML with the fast reader of its common subset and
    /// with `toml`, whole and cut in pieces as a large file is cut; returns whether the fast reader
    /// read them whole. Panics when the fast reader reads anything otherwise than `toml` does.
    pub fn toml_fast_path_agrees(bytes: &[u8]) -> bool {
        std::str::from_utf8(bytes).is_ok_and(|text| crate::config::check_toml_fast_path(text, 8))
    }

    /// Reads `bytes` as a YAML (or TOML) desired-state file, validates it and renders every
    /// problem found. Whatever the bytes, this must return without panicking.
    pub fn load_bytes(bytes: &[u8], toml: bool) {
        let path = Path::new(if toml { "rave.toml" } else { "rave.yaml" });
        let (diagnostics, source) = match crate::config::load_bytes(path, bytes) {
            Err(diagnostics) => (diagnostics, None),
            Ok(mut loaded) => match crate::model::lower::lower(&mut loaded) {
                Ok(_) => return,
                Err(diagnostics) => (diagnostics, Some(loaded.source)),
            },
        };
        for diagnostic in &diagnostics {
            crate::diagnostic::render(diagnostic, source.as_ref());
        }
    }

    /// Reads `text` as YAML with the fast reader of the common subset and with saphyr, and
    /// panics when they disagree (events, positions or tree); returns whether the fast reader
    /// read it rather than falling back to saphyr.
    pub fn compare_yaml_readers(text: &str) -> bool {
        crate::config::yaml_subset_check::compare(text)
            .unwrap_or_else(|disagreement| panic!("{disagreement}\n{text:?}"))
    }
}
