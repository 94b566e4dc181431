//! The thread that owns the backend's one PostgreSQL connection, and the way the synchronous
//! backend hands it work.
//!
//! `StateBackend` is synchronous and is called from inside the apply's tokio runtime, where
//! blocking on another runtime panics. So the connection lives on a thread of its own with a
//! current-thread runtime; each call sends it a job and waits for the answer on a std channel
//! (docs/decisions/0009-postgres-state-backend.md). Dropping the [`Worker`] closes the connection
//! cleanly and joins the thread.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;

use tokio::sync::mpsc as async_mpsc;

use crate::state::backend::StateError;
use crate::state::postgres::session::Session;

/// A future the worker runs, borrowing its session.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One piece of work for the connection's thread.
type Job = Box<dyn for<'a> FnOnce(&'a mut Session) -> BoxFuture<'a, ()> + Send>;

/// The connection's thread, and the way to send it jobs.
#[derive(Debug)]
pub(crate) struct Worker {
    /// Jobs for the thread; dropping it ends the thread.
    jobs: Option<async_mpsc::UnboundedSender<Job>>,
    /// The thread, joined on drop.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread and waits for `open` (connecting, migrating the schema) to finish on it.
    pub(crate) fn start(
        open: impl FnOnce() -> BoxFuture<'static, Result<(Session, tokio::task::JoinHandle<()>), StateError>>
        + Send
        + 'static,
    ) -> Result<Self, StateError> {
        let (opened_sender, opened) = mpsc::sync_channel(1);
        let (jobs, mut receiver) = async_mpsc::unbounded_channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("rave-postgres".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = opened_sender.send(Err(StateError::Database {
                            action: "start the PostgreSQL connection's runtime".to_owned(),
                            detail: error.to_string(),
                        }));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let (mut session, connection) = match open().await {
                        Ok(opened) => opened,
                        Err(error) => {
                            let _ = opened_sender.send(Err(error));
                            return;
                        }
                    };
                    let _ = opened_sender.send(Ok(()));
                    while let Some(job) = receiver.recv().await {
                        job(&mut session).await;
                    }
                    // Dropping the client makes the connection say goodbye and end; waiting for
                    // it means the server sees a clean close rather than a reset.
                    drop(session);
                    let _ = connection.await;
                });
            })
            .map_err(|error| StateError::Database {
                action: "start the PostgreSQL connection's thread".to_owned(),
                detail: error.to_string(),
            })?;
        let worker = Self { jobs: Some(jobs), thread: Some(thread) };
        opened.recv().unwrap_or_else(|_| Err(gone()))?;
        Ok(worker)
    }

    /// Runs `job` on the connection's thread and returns its result.
    pub(crate) fn call<T: Send + 'static>(
        &self,
        job: impl for<'a> FnOnce(&'a mut Session) -> BoxFuture<'a, Result<T, StateError>> + Send + 'static,
    ) -> Result<T, StateError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |session| {
            Box::pin(async move {
                let _ = reply.send(job(session).await);
            })
        });
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        jobs.send(job).map_err(|_| gone())?;
        answer.recv().unwrap_or_else(|_| Err(gone()))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            // A panic on the thread has nothing left to report by now.
            let _ = thread.join();
        }
    }
}

/// The error for a connection thread that stopped (it panicked, or the runtime failed).
fn gone() -> StateError {
    StateError::Database {
        action: "reach the PostgreSQL connection".to_owned(),
        detail: "its thread stopped".to_owned(),
    }
}
