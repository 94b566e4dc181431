//! Turning SIGINT and SIGTERM into a stop request for the executor.
//!
//! The first signal asks the apply to start nothing new; running steps finish and are recorded,
//! then the command saves, unlocks and exits non-zero. Later signals do not kill rave (a killed
//! apply could leave a step half done and unrecorded): they are passed on so the progress display
//! can say what is still running.
//!
//! Once the handlers are installed, SIGINT and SIGTERM no longer end the process at all (tokio
//! keeps them for the life of the process), so call [`watch_signals`] right before the apply
//! starts, after any confirmation prompt, where Ctrl-C should still simply quit.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// Starts watching for SIGINT and SIGTERM; the receiver turns true at the first one and is
/// notified again at every later one. Must be called inside a tokio runtime.
pub(crate) fn watch_signals() -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(false);
    let (interrupt, terminate) = match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(interrupt), Ok(terminate)) => (interrupt, terminate),
        (Err(error), _) | (_, Err(error)) => {
            // Without handlers the default applies: a signal ends rave at once. State recorded
            // so far survives that (every finished node is recorded), so apply still goes on.
            tracing::warn!(%error, "cannot watch for interrupts");
            return receiver;
        }
    };
    tokio::spawn(forward(interrupt, terminate, sender));
    receiver
}

/// Sends `true` for every signal until nobody listens.
async fn forward(
    mut interrupt: tokio::signal::unix::Signal,
    mut terminate: tokio::signal::unix::Signal,
    sender: watch::Sender<bool>,
) {
    loop {
        let received = tokio::select! {
            received = interrupt.recv() => received,
            received = terminate.recv() => received,
        };
        // `send` notifies even when the value stays `true`, so each signal is seen.
        if received.is_none() || sender.send(true).is_err() {
            break;
        }
    }
}
