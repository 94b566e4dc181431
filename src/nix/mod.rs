//! Nix: evaluating, building, copying and signing store paths, through the `nix` command line.
//!
//! Every command line is built by a pure function here and run through [`runner::run`] (which
//! uses `drivers::process`, the only code that starts programs), with a time limit; failures quote
//! nix's own message ([`NixError`]). Works with the Nix in Debian (2.8) and newer.
//!
//! - [`derivation`]: [`Derivation`], what an evaluation says a resource is.
//! - [`mod@reference`]: `.#attr` references resolved to a flake and attribute paths.
//! - [`evaluation`]: the derivations of every Nix-built resource from one `nix eval`.
//! - [`build`]: `nix build --json --no-link` and the machines file for remote builders.
//! - [`closure_diff`]: the packages whose versions changed between two closures.
//! - [`derivation_diff`]: the inputs that changed between two derivations, where the change starts
//!   (reading `.drv` files with `aterm`).
//! - [`store`]: `nix copy`, `nix path-info`, `nix store ping`, `nix store sign`, keys.
//! - [`substituters`]: extra caches and keys, for a command here or on the other end of SSH.
//! - [`cachix`]: `cachix push`.
//! - [`runner`]: the base command line and the runner.
//! - `nix_error`: [`NixError`], why a command gave no answer.

mod aterm;
pub(crate) mod build;
pub(crate) mod cachix;
pub(crate) mod closure_diff;
pub(crate) mod derivation;
pub(crate) mod derivation_diff;
pub(crate) mod evaluation;
mod nix_error;
pub(crate) mod reference;
pub(crate) mod runner;
pub(crate) mod store;
pub(crate) mod substituters;

pub(crate) use derivation::Derivation;
pub(crate) use nix_error::NixError;
