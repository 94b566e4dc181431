//! `rave status`: every host's, service's, VM's and container's health, checked now, from the
//! file alone: no state, no lock, no plan. One line a resource on stdout; exit 1 when any is
//! unhealthy.

use std::fmt::Write as _;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::context::Context;
use super::planning::{close_connections, driver_context};
use crate::apply::EventSink;
use crate::cli::StatusArgs;
use crate::drivers::live_health::{LiveHealth, live_health};
use crate::exit_status::ExitStatus;
use crate::model::ResourceId;

/// Runs `rave status`.
pub(super) fn run(context: &Context<'_>, args: &StatusArgs) -> anyhow::Result<ExitStatus> {
    let project = context.load_project()?;
    let resources: Vec<_> =
        project.spec.resources.iter().map(|(address, resource)| (address.clone(), resource.spec.clone())).collect();
    let driver_context = driver_context(&project, resources.iter().map(|(address, spec)| (address, &**spec)));
    let runtime = Context::runtime()?;
    let permits = Arc::new(Semaphore::new(usize::from(args.parallelism)));
    let mut found = runtime.block_on(async {
        let mut checks = JoinSet::new();
        for (address, spec) in resources {
            let (driver_context, permits) = (Arc::clone(&driver_context), Arc::clone(&permits));
            checks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                // Progress is not shown: the answer is the line printed for the resource.
                let events = EventSink::silent(address.clone());
                let health = live_health(&driver_context, &address, &spec, &events).await;
                health.map(|health| (address, health))
            });
        }
        let mut found = Vec::new();
        while let Some(joined) = checks.join_next().await {
            match joined {
                Ok(Some(entry)) => found.push(entry),
                Ok(None) => {}
                Err(panic) => std::panic::resume_unwind(panic.into_panic()),
            }
        }
        found
    });
    close_connections(&project);
    found.sort_by(|a, b| a.0.cmp(&b.0));
    context.printer.data(&render(&found))?;
    let is_unhealthy = found.iter().any(|(_, health)| matches!(health, LiveHealth::Unhealthy(_)));
    Ok(if is_unhealthy { ExitStatus::Failure } else { ExitStatus::Success })
}

/// One line a resource, `address  state  how`, details indented below, then a count.
fn render(found: &[(ResourceId, LiveHealth)]) -> String {
    let width = found.iter().map(|(address, _)| address.to_string().len()).max().unwrap_or(0);
    let mut text = String::new();
    let mut counts = [0_usize; 3];
    for (address, health) in found {
        let (state, how, details, index) = match health {
            LiveHealth::Healthy(how) => ("healthy", how.as_str(), &[][..], 0),
            LiveHealth::Unhealthy(error) => ("unhealthy", error.summary.as_str(), error.details.as_slice(), 1),
            LiveHealth::Unchecked(why) => ("unchecked", why.as_str(), &[][..], 2),
        };
        counts[index] += 1;
        let _ = writeln!(text, "{:width$}  {state:9}  {how}", address.to_string());
        for detail in details {
            let _ = writeln!(text, "{:width$}    {detail}", "");
        }
    }
    if found.is_empty() {
        text.push_str("No hosts or services to check.\n");
    } else {
        let _ = writeln!(text, "\n{} healthy, {} unhealthy, {} unchecked.", counts[0], counts[1], counts[2]);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::DriverError;

    #[test]
    fn each_resource_gets_a_line_and_failures_their_details() {
        let found = vec![
            ("host.here".parse().unwrap(), LiveHealth::Healthy("`true` succeeded".to_owned())),
            (
                "service.redis".parse().unwrap(),
                LiveHealth::Unhealthy(
                    DriverError::new("health check failed: tcp 127.0.0.1:6379 refused the connection")
                        .with_detail("gave up after 3 attempts in 1.5s"),
                ),
            ),
            ("service.wiki".parse().unwrap(), LiveHealth::Unchecked("declares no `health`".to_owned())),
        ];
        insta::assert_snapshot!(render(&found), @r"
        host.here      healthy    `true` succeeded
        service.redis  unhealthy  health check failed: tcp 127.0.0.1:6379 refused the connection
                         gave up after 3 attempts in 1.5s
        service.wiki   unchecked  declares no `health`

        1 healthy, 1 unhealthy, 1 unchecked.
        ");
        assert_eq!(render(&[]), "No hosts or services to check.\n");
    }
}
