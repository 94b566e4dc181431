//! The `rave` binary: everything lives in the library.

/// mimalloc rather than the system allocator: planning and rendering make many small, short-lived
/// allocations, which it serves faster (docs/decisions/0004-allocator.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rave::run(std::env::args_os())
}
