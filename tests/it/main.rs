//! Integration tests: the real `rave` binary, run in temporary directories.

mod apply;
mod ci_examples;
mod crash;
mod drift;
mod examples;
mod import;
mod interrupt;
mod lock;
mod moved;
mod nix_builders;
mod nix_builds;
mod nixos_hosts;
mod plan;
mod postgres_state;
mod services;
mod ssh_hosts;
mod support;
mod testbed;
mod validate;
mod vms;
