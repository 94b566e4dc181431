//! Talking to the user: the only code that writes to the terminal.
//!
//! [`Printer`] decides colour and verbosity once and writes data to stdout and messages to
//! stderr; `progress` shows an apply live from its events; `apply_summary` renders how an apply
//! ended; `logging` sets up `tracing` for `-v` and `RAVE_LOG`. Deciding what to say is the
//! caller's job; rendering a plan is `render`'s.

pub(crate) mod apply_summary;
mod elapsed;
pub(crate) mod logging;
mod printer;
pub(crate) mod progress;
mod verbs;

pub(crate) use apply_summary::apply_summary;
pub(crate) use printer::{ColorChoice, Printer, Verbosity};
