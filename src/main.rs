//! The `rave` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    rave::run(std::env::args_os())
}
