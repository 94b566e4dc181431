//! [`Derivation`]: what one evaluation says a Nix-built resource is, before anything is built.

use serde::{Deserialize, Serialize};

/// A resource's derivation as `nix eval` found it: where its build recipe is and where its
/// result will be. Two evaluations that give the same `out_path` need no new build.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Derivation {
    /// The `.drv` file, `/nix/store/…-codex-1.0.drv`.
    pub(crate) drv_path: String,
    /// The output path (`out`), `/nix/store/…-codex-1.0`.
    pub(crate) out_path: String,
}

impl Derivation {
    /// The attribute a derivation adds to its resource's attributes: plans compare it with the
    /// recorded one, so a new store path is a change and the same one is none.
    pub(crate) const ATTRIBUTE: &'static str = "store_path";
}
