//! Integration tests: the real `rave` binary, run in temporary directories.

mod apply;
mod crash;
mod examples;
mod interrupt;
mod lock;
mod nix_builds;
mod plan;
mod services;
mod ssh_hosts;
mod support;
mod testbed;
mod validate;
