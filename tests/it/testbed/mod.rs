//! Real infrastructure for the integration tests, set up and torn down by the tests themselves
//! (the machines' testbed notes): real Nix with its traps handled, and binary caches.

pub(crate) mod binary_cache;
pub(crate) mod nix;
