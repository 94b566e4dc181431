//! What happens during an apply, as events on one channel to one consumer (`ui::progress`).

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::model::ResourceId;
use crate::plan::Action;

/// Which output stream a logged line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One thing that happened during an apply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A node started.
    Started {
        /// Which resource.
        address: ResourceId,
        /// What is being done.
        action: Action,
    },
    /// A step inside a node: "building", "waiting for health check".
    Progress {
        /// Which resource.
        address: ResourceId,
        /// The step, for the user.
        message: String,
    },
    /// A line a program printed.
    Log {
        /// Which resource.
        address: ResourceId,
        /// Which stream.
        stream: Stream,
        /// The line, without its newline.
        line: String,
    },
    /// A node finished well.
    Succeeded {
        /// Which resource.
        address: ResourceId,
        /// What was done.
        action: Action,
        /// How long it took.
        elapsed: Duration,
    },
    /// A node failed.
    Failed {
        /// Which resource.
        address: ResourceId,
        /// What was tried.
        action: Action,
        /// Why, as the user sees it.
        error: String,
        /// How long it ran.
        elapsed: Duration,
    },
    /// A node was not started because something it needs failed or was skipped.
    Skipped {
        /// Which resource.
        address: ResourceId,
        /// The failed or skipped dependency.
        because: ResourceId,
    },
    /// A node was not started because the apply was interrupted.
    Cancelled {
        /// Which resource.
        address: ResourceId,
    },
    /// A stop was asked for (a signal): nothing new starts, the running nodes finish. Sent again
    /// for every further request while nodes still run.
    Interrupted {
        /// How many nodes are still running.
        running: usize,
    },
}

/// Where a driver sends its progress and log lines, already tagged with its resource.
#[derive(Debug, Clone)]
pub(crate) struct EventSink {
    address: ResourceId,
    sender: UnboundedSender<Event>,
}

impl EventSink {
    /// A sink for `address` sending to `sender`.
    pub(crate) fn new(address: ResourceId, sender: UnboundedSender<Event>) -> Self {
        Self { address, sender }
    }

    /// A sink whose events nobody reads: for work whose answer is its only report (refresh,
    /// `rave status`).
    pub(crate) fn silent(address: ResourceId) -> Self {
        let (sender, _receiver) = tokio::sync::mpsc::unbounded_channel();
        Self::new(address, sender)
    }

    /// The resource this sink reports for.
    pub(crate) fn address(&self) -> &ResourceId {
        &self.address
    }

    /// Reports a step.
    pub(crate) fn progress(&self, message: impl Into<String>) {
        // A closed channel means nobody is watching any more; the work goes on regardless.
        let _ = self.sender.send(Event::Progress { address: self.address.clone(), message: message.into() });
    }

    /// Reports a line a program printed.
    pub(crate) fn log(&self, stream: Stream, line: impl Into<String>) {
        let _ = self.sender.send(Event::Log { address: self.address.clone(), stream, line: line.into() });
    }
}
