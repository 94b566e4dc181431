//! Closing the shared connections (`ControlMaster`) a command opened, when it ends, so no ssh
//! process outlives rave by `ControlPersist` seconds.

use std::time::Duration;

use super::command::close_command;
use super::{SshOptions, SshTarget};
use crate::drivers::{DriverContext, process};

/// How long closing one connection may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Closes the shared connection of every SSH host in `context` that has one open, all at once.
/// Failures are ignored: a connection that is already gone is what this wants.
pub(crate) async fn close_all(context: &DriverContext) {
    let options = SshOptions::for_work_dir(&context.work_dir);
    let closing = context.hosts.iter().filter(|(_, spec)| !spec.local).filter_map(|(address, spec)| {
        let target = SshTarget::of_host(address, spec, &context.base_dir).ok()?;
        options.control_path(&target).exists().then(|| close_command(&options, &target).timeout(CLOSE_TIMEOUT))
    });
    let mut runs = tokio::task::JoinSet::new();
    for command in closing {
        runs.spawn(async move { process::run(&command, None).await });
    }
    while runs.join_next().await.is_some() {}
}
