//! Health checks (`health:` on hosts, VMs, containers and services): is the thing up and answering?
//!
//! A check is one probe (`http`, `tcp` or `command`), tried up to `retries` times with exponential
//! backoff, all within its `timeout`; every attempt is reported as a progress event, and a check
//! that never passes is a [`DriverError`] naming it and its last answer. `http` and `tcp` probes run
//! from the machine rave runs on; `command` probes run on the check's [`Placement`]. Which checks a resource has, and what a failure means for it, is its driver's
//! business.

mod http;
mod tcp;

use std::fmt;
use std::time::Duration;

use tokio::time::{Instant, sleep, timeout};

use self::http::{HttpError, RESPONSE_LIMIT, Url};
use self::tcp::HostPort;
use super::DriverError;
use super::command_spec::CommandSpec;
use super::placement::Placement;
use super::process::{self, ProcessError, format_duration};
use crate::apply::EventSink;
use crate::model::{HealthCheck, HealthChecks};

/// How long a check may take in all, retries included, when it does not say.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How many attempts a check gets when it does not say.
pub(crate) const DEFAULT_ATTEMPTS: u32 = 3;

/// The pause after the first failed attempt; it doubles after each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// The longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Runs `checks` in order; the first that fails is the error. Says how each passed check passed.
pub(crate) async fn check_all(
    checks: &HealthChecks,
    placement: &Placement,
    events: &EventSink,
) -> Result<Vec<String>, DriverError> {
    let mut passed = Vec::with_capacity(checks.0.len());
    for health_check in &checks.0 {
        passed.push(check(health_check, placement, events).await?);
    }
    Ok(passed)
}

/// Runs one check from `placement` until it passes, its attempts run out or its time is up; says
/// how it passed (`http://… answered 200`).
pub(crate) async fn check(
    check: &HealthCheck,
    placement: &Placement,
    events: &EventSink,
) -> Result<String, DriverError> {
    let probe = Probe::of(check)?;
    let limit = check.timeout.map_or(DEFAULT_TIMEOUT, crate::model::Duration::as_std);
    let attempts = check.retries.unwrap_or(DEFAULT_ATTEMPTS).max(1);
    let started = Instant::now();
    let deadline = started + limit;
    let mut attempt = 1;
    let (failure, ending) = loop {
        // Each attempt gets its share of the time left, so one that hangs leaves room for retries.
        let budget = deadline.saturating_duration_since(Instant::now()) / (attempts - attempt + 1);
        let failure = match probe.attempt(check, placement, budget, events).await {
            Ok(outcome) => {
                events.progress(format!("health check {attempt}/{attempts}: {probe} {outcome}"));
                return Ok(format!("{probe} {outcome}"));
            }
            Err(failure) => failure,
        };
        events.progress(format!("health check {attempt}/{attempts}: {probe} {}", failure.outcome));
        if failure.is_final {
            break (failure, None);
        }
        let tried = if attempt == 1 { "1 attempt".to_owned() } else { format!("{attempt} attempts") };
        if attempt == attempts {
            break (failure, Some(format!("gave up after {tried} in {}", format_duration(started.elapsed()))));
        }
        if deadline.saturating_duration_since(Instant::now()) <= backoff(attempt) {
            break (failure, Some(format!("gave up after {tried}, at its time limit of {}", format_duration(limit))));
        }
        sleep(backoff(attempt)).await;
        attempt += 1;
    };
    let mut error = DriverError::new(format!("health check failed: {probe} {}", failure.outcome));
    error.details.extend(ending);
    error.details.extend(failure.details);
    Err(error)
}

/// The pause after failed attempt number `attempt` (from 1): 0.5s, 1s, 2s… up to [`MAX_BACKOFF`].
fn backoff(attempt: u32) -> Duration {
    let factor = 1_u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
    FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}

/// What one attempt found wrong.
struct Failure {
    /// What the target did, after its name: "answered 503, expected 200".
    outcome: String,
    /// Evidence: the command line, its last lines.
    details: Vec<String>,
    /// Whether trying again cannot help (a program that is not there).
    is_final: bool,
}

impl Failure {
    /// A failure worth another attempt.
    fn retry(outcome: impl Into<String>) -> Self {
        Self { outcome: outcome.into(), details: Vec::new(), is_final: false }
    }
}

/// The one probe a check declares, its target parsed.
enum Probe<'a> {
    /// `http: URL`.
    Http(&'a str, Url),
    /// `tcp: host:port`.
    Tcp(&'a str, HostPort),
    /// `command: [argv]`.
    Command(CommandSpec),
}

impl<'a> Probe<'a> {
    /// The probe `check` declares; an error when it declares none or several, or names a target
    /// that can never be reached (trying again would not help).
    fn of(check: &'a HealthCheck) -> Result<Self, DriverError> {
        match (&check.http, &check.tcp, &check.command) {
            (Some(url), None, None) => Ok(Self::Http(url, Url::parse(url).map_err(DriverError::new)?)),
            (None, Some(address), None) => {
                Ok(Self::Tcp(address, HostPort::parse(address, None).map_err(DriverError::new)?))
            }
            (None, None, Some(command)) => match command.split_first() {
                Some((program, arguments)) => Ok(Self::Command(CommandSpec::new(program).args(arguments))),
                None => Err(DriverError::new("a `command` health check needs a program to run")),
            },
            _ => Err(DriverError::new("a health check has exactly one of `http`, `tcp` or `command`")),
        }
    }

    /// Tries once, within `budget`; `Ok` says how the target answered.
    async fn attempt(
        &self,
        check: &HealthCheck,
        placement: &Placement,
        budget: Duration,
        events: &EventSink,
    ) -> Result<String, Failure> {
        match (self, placement) {
            (Self::Http(_, url), _) => match timeout(budget, http::get(url)).await {
                Err(_) => Err(Failure::retry(format!("did not answer within {}", format_duration(budget)))),
                Ok(Err(error)) => Err(Failure::retry(match error {
                    HttpError::Connect(error) => format!("could not be reached: {error}"),
                    HttpError::Exchange(error) => format!("broke off the exchange: {error}"),
                    HttpError::Malformed(problem) => format!("did not answer in HTTP: {problem}"),
                })),
                Ok(Ok(response)) => judge_response(check, &response),
            },
            (Self::Tcp(_, address), _) => match timeout(budget, address.connect()).await {
                Err(_) => {
                    Err(Failure::retry(format!("did not accept a connection within {}", format_duration(budget))))
                }
                Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                    Err(Failure::retry("refused the connection"))
                }
                Ok(Err(error)) => Err(Failure::retry(format!("could not be reached: {error}"))),
                Ok(Ok(_)) => Ok("accepted a connection".to_owned()),
            },
            (Self::Command(spec), placement) => {
                // The process's own time limit stops its whole process group cleanly.
                let spec = placement.command(spec.clone().timeout(budget)).map_err(|error| Failure {
                    outcome: format!("could not be started: {}", error.summary),
                    details: error.details,
                    is_final: true,
                })?;
                match process::run(&spec, Some(events)).await {
                    Ok(_) => Ok("succeeded".to_owned()),
                    Err(error) => Err(match placement.ssh_failure(&error) {
                        // The machine was not reached: say so; retry only what may pass later.
                        Some(failure) => Failure {
                            outcome: format!("could not be run: {}", failure.error.summary),
                            details: failure.error.details,
                            is_final: !failure.is_transient,
                        },
                        None => judge_command_error(error),
                    }),
                }
            }
        }
    }
}

impl fmt::Display for Probe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(url, _) => f.write_str(url),
            Self::Tcp(address, _) => write!(f, "tcp {address}"),
            Self::Command(spec) => write!(f, "`{spec}`"),
        }
    }
}

/// Whether an HTTP answer is the one `check` expects.
fn judge_response(check: &HealthCheck, response: &http::Response) -> Result<String, Failure> {
    let status = response.status;
    let expected = check.expect.unwrap_or(200);
    if status != expected {
        return Err(Failure::retry(format!("answered {status}, expected {expected}")));
    }
    if let Some(wanted) = &check.body
        && !String::from_utf8_lossy(&response.body).contains(wanted.as_str())
    {
        let mut failure = Failure::retry(format!("answered {status}, but without `{wanted}` in its body"));
        if response.is_truncated {
            let kept = RESPONSE_LIMIT / 1024;
            failure.details.push(format!("only the body's first {kept} KiB (or what arrived) was read"));
        }
        return Err(failure);
    }
    Ok(format!("answered {status}"))
}

/// How a failed `command` probe is reported, and whether retrying can help.
fn judge_command_error(error: ProcessError) -> Failure {
    let outcome = match &error {
        ProcessError::Failed { status, .. } => Some(format!("failed with {status}")),
        ProcessError::TimedOut { after, .. } => Some(format!("did not finish within {}", format_duration(*after))),
        ProcessError::Io { source, .. } => Some(format!("could not be followed: {source}")),
        ProcessError::NotFound { .. } | ProcessError::Spawn { .. } => None,
    };
    let is_final = outcome.is_none();
    let error = DriverError::from(error);
    Failure {
        outcome: outcome.unwrap_or_else(|| format!("could not run: {}", error.summary)),
        details: error.details,
        is_final,
    }
}

#[cfg(test)]
mod tests;
