//! Diagnostics for whoever debugs rave: `tracing` to stderr, filtered by `RAVE_LOG` or `-v`.
//!
//! Warnings only by default, `-v` adds rave's debug events (and info from libraries), `-vv`
//! everything. `RAVE_LOG` (an `EnvFilter` directive such as `rave=trace`) wins over `-v`. User
//! messages never go through here: they go through [`crate::ui::Printer`].

use tracing_subscriber::EnvFilter;

/// The environment variable that sets the filter.
const FILTER_VARIABLE: &str = "RAVE_LOG";

/// Sends `tracing` events to stderr from now on; `verbose` counts `-v`, `is_colored` says
/// whether stderr gets colour. Calling it again changes nothing.
pub(crate) fn init(verbose: u8, is_colored: bool) {
    let from_variable = std::env::var(FILTER_VARIABLE).ok().filter(|value| !value.trim().is_empty());
    let (filter, rejected) = match from_variable.map(|value| EnvFilter::try_new(&value).map_err(|error| (value, error)))
    {
        Some(Ok(filter)) => (filter, None),
        Some(Err(rejected)) => (EnvFilter::new(default_directive(verbose)), Some(rejected)),
        None => (EnvFilter::new(default_directive(verbose)), None),
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(is_colored)
        .try_init()
        .is_ok();
    if let (true, Some((value, error))) = (installed, rejected) {
        tracing::warn!(%error, "ignoring `{FILTER_VARIABLE}={value}`");
    }
}

/// The filter for `-v` given `verbose` times.
fn default_directive(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn",
        1 => "info,rave=debug",
        _ => "trace",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_v_says_more() {
        assert_eq!(default_directive(0), "warn");
        assert_eq!(default_directive(1), "info,rave=debug");
        assert_eq!(default_directive(3), "trace");
        for verbose in 0..3 {
            assert!(EnvFilter::try_new(default_directive(verbose)).is_ok());
        }
    }
}
