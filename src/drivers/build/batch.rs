//! Building together: builds that start within [`BATCH_WINDOW`] of each other (the batch waits
//! until one window passes with no newcomer, at most [`MAX_WINDOWS`]) join one queue and are built
//! by one `nix build` per set of builders. Around a build on builders: ephemeral
//! builders are provisioned first and destroyed after, also when the build fails; every builder
//! is probed first, so an unreachable one is named before nix's "unable to start any build".

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::apply::EventSink;
use crate::drivers::ssh::nix_ssh_opts;
use crate::drivers::{DriverContext, DriverError, builder, cache};
use crate::model::{BuilderSpec, Name, ResourceId, ResourceKind};
use crate::nix::build::{BuildRequest, build_command, machines_line, parse_build_output};
use crate::nix::store::{parse_valid_paths, path_info_command};
use crate::nix::{Derivation, runner};

/// How long a batch waits, after the last build joined it, for another: the executor starts
/// builds that became ready together within microseconds of each other, milliseconds on a busy
/// machine.
const BATCH_WINDOW: Duration = Duration::from_millis(100);

/// The most windows a batch waits before it builds, however many keep joining.
const MAX_WINDOWS: usize = 10;

/// One build waiting to be built.
#[derive(Debug)]
pub(super) struct Job {
    /// The build.
    pub(super) address: ResourceId,
    /// `FLAKE#ATTRIBUTE`.
    pub(super) installable: String,
    /// What the plan evaluated it to: its result is found by `drv_path`.
    pub(super) derivation: Derivation,
    /// Where it must be built (empty: here).
    pub(super) builders: Vec<Name>,
    /// The caches it is pushed to: the machines that build it substitute from them.
    pub(super) push: Vec<Name>,
    /// Its progress sink.
    pub(super) events: EventSink,
}

/// What building a job gave.
#[derive(Debug, Clone)]
pub(super) struct Built {
    /// Its output path.
    pub(super) out_path: String,
    /// The builders it was built on.
    pub(super) builders: Vec<String>,
    /// What happened to the ephemeral builders it needed (`builder.burst-1: created, destroyed`).
    pub(super) ephemeral: Vec<String>,
}

type Waiting = (Job, oneshot::Sender<Result<Built, DriverError>>);

/// The builds waiting for the next batch.
#[derive(Debug, Default)]
pub(super) struct Queue {
    pending: Mutex<Vec<Waiting>>,
}

impl Queue {
    /// Builds `job` with whatever joins it within the batch window.
    pub(super) async fn build(self: &Arc<Self>, context: &DriverContext, job: Job) -> Result<Built, DriverError> {
        let (sender, receiver) = oneshot::channel();
        let is_first = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.push((job, sender));
            pending.len() == 1
        };
        if is_first {
            let queue = Arc::clone(self);
            let context = context.clone();
            tokio::spawn(async move {
                let mut waiting = 0;
                for _ in 0..MAX_WINDOWS {
                    tokio::time::sleep(BATCH_WINDOW).await;
                    let now = queue.pending.lock().unwrap_or_else(PoisonError::into_inner).len();
                    if now == waiting {
                        break;
                    }
                    waiting = now;
                }
                let jobs = std::mem::take(&mut *queue.pending.lock().unwrap_or_else(PoisonError::into_inner));
                run_batch(&context, jobs).await;
            });
        }
        receiver.await.unwrap_or_else(|_| Err(DriverError::new("the batch of builds stopped before it finished")))
    }
}

/// Builds every job, one `nix build` per set of builders, and answers each.
async fn run_batch(context: &DriverContext, jobs: Vec<Waiting>) {
    let mut groups: BTreeMap<Vec<Name>, Vec<Waiting>> = BTreeMap::new();
    for waiting in jobs {
        let mut builders = waiting.0.builders.clone();
        builders.sort();
        builders.dedup();
        groups.entry(builders).or_default().push(waiting);
    }
    for (builders, group) in groups {
        let (jobs, senders): (Vec<Job>, Vec<_>) = group.into_iter().unzip();
        let results = build_group(context, &builders, &jobs).await;
        for (sender, result) in senders.into_iter().zip(results) {
            // A build whose apply stopped waiting no longer needs its answer.
            let _ = sender.send(result);
        }
    }
}

/// Builds `jobs` on `builders` (here when empty): provision, probe, build, destroy.
async fn build_group(context: &DriverContext, builders: &[Name], jobs: &[Job]) -> Vec<Result<Built, DriverError>> {
    let events = &jobs[0].events;
    let specs = match builder_specs(context, builders) {
        Ok(specs) => specs,
        Err(error) => return vec![Err(error); jobs.len()],
    };
    let mut provisioned = Vec::new();
    let mut outcome = Ok(BatchResult::default());
    for (address, spec) in specs.iter().filter(|(_, spec)| spec.ephemeral) {
        let Some(provision) = &spec.provision else { continue };
        // Recorded before it runs: a create that fails half way is destroyed too.
        provisioned.push((address, provision));
        if let Err(error) = builder::provision(context, events, address, &provision.create, "create").await {
            outcome = Err(error);
            break;
        }
    }
    if outcome.is_ok() {
        outcome = probe_and_build(context, &specs, jobs).await;
    }
    let mut ephemeral = Vec::new();
    for (address, provision) in provisioned {
        match builder::provision(context, events, address, &provision.destroy, "destroy").await {
            Ok(()) => ephemeral.push(format!("{address}: created, destroyed")),
            Err(error) => {
                ephemeral.push(format!("{address}: created, destroy failed"));
                let left = error.with_detail(format!("`{address}` may still be running: destroy it by hand"));
                outcome = Err(match outcome {
                    Ok(_) => left,
                    Err(build_error) => build_error.with_detail(left.to_string()),
                });
            }
        }
    }
    let built_on: Vec<String> = specs.iter().map(|(address, _)| address.to_string()).collect();
    let with_builders = |error: DriverError| error.with_detail(format!("ephemeral builders: {}", describe(&ephemeral)));
    jobs.iter()
        .map(|job| match &outcome {
            Ok(built) => match built.paths.get(&job.derivation.drv_path) {
                Some(out_path) => {
                    Ok(Built { out_path: out_path.clone(), builders: built_on.clone(), ephemeral: ephemeral.clone() })
                }
                None => Err(with_builders(built.failure.clone().unwrap_or_else(|| {
                    DriverError::new(format!("`{}`: nix built no `{}`", job.address, job.derivation.drv_path))
                }))),
            },
            Err(error) => Err(with_builders(error.clone())),
        })
        .collect()
}

/// `builder.a: created, destroyed; …`, or `none`.
fn describe(ephemeral: &[String]) -> String {
    if ephemeral.is_empty() { "none".to_owned() } else { ephemeral.join("; ") }
}

/// The declared builders named `names`.
fn builder_specs<'a>(
    context: &'a DriverContext,
    names: &[Name],
) -> Result<Vec<(ResourceId, &'a BuilderSpec)>, DriverError> {
    names
        .iter()
        .map(|name| {
            let address = ResourceId::new(ResourceKind::Builder, name.clone());
            match context.builders.get(&address) {
                Some(spec) => Ok((address, spec)),
                None => Err(DriverError::new(format!(
                    "builder `{address}` is not in the plan: declare it under `builders:`"
                ))),
            }
        })
        .collect()
}

/// What one `nix build` of a batch gave.
#[derive(Debug, Default)]
struct BatchResult {
    /// The `out` path of each derivation built, by `drvPath`.
    paths: BTreeMap<String, String>,
    /// Why the others were not built (`--keep-going` builds what it can).
    failure: Option<DriverError>,
}

/// Probes every builder, then runs one `nix build`; gives each derivation's `out` path. When
/// some builds fail, the others still count: what is in the store afterwards was built.
async fn probe_and_build(
    context: &DriverContext,
    specs: &[(ResourceId, &BuilderSpec)],
    jobs: &[Job],
) -> Result<BatchResult, DriverError> {
    let events = &jobs[0].events;
    let mut request = BuildRequest {
        installables: jobs.iter().map(|job| job.installable.clone()).collect(),
        ..BuildRequest::default()
    };
    request.installables.sort();
    request.installables.dedup();
    let caches: Vec<Name> = jobs.iter().flat_map(|job| job.push.iter().cloned()).collect();
    if !specs.is_empty() {
        let remote = cache::substituters(context, &caches, cache::Machine::Elsewhere);
        let mut lines = String::new();
        let mut targets = Vec::new();
        for (address, spec) in specs {
            builder::probe(context, address, spec, &remote).await?;
            let (options, target) = builder::target(context, address, spec)?;
            lines.push_str(&machines_line(&builder::store_uri(&target, &remote), &target, spec));
            lines.push('\n');
            targets.push((options, target));
        }
        request.machines = Some(write_machines(context, specs, &lines)?);
        request.is_remote_only = true;
        request.ssh_opts = Some(match targets.as_slice() {
            [(options, target)] => nix_ssh_opts(options, Some(target)),
            // Several builders share one NIX_SSHOPTS: each key is pinned by the machines file.
            [(options, _), ..] => nix_ssh_opts(options, None),
            [] => String::new(),
        });
    }
    request.substituters = cache::substituters(context, &caches, cache::Machine::Here);
    let on = if specs.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = specs.iter().map(|(address, _)| format!("`{address}`")).collect();
        format!(" on {}", names.join(", "))
    };
    let doing = match jobs {
        [job] => format!("building `{}`{on}", job.address),
        _ => format!("building {} outputs{on}", jobs.len()),
    };
    for job in jobs {
        job.events.progress(format!("{doing}…"));
    }
    let failure = match runner::run(doing, &build_command(&request), Some(events)).await {
        Ok(output) => {
            let built = parse_build_output(&output.stdout)?;
            let paths = built
                .into_iter()
                .filter_map(|(drv_path, built)| built.outputs.get("out").map(|out| (drv_path, out.clone())))
                .collect();
            return Ok(BatchResult { paths, failure: None });
        }
        Err(error) => DriverError::from(error),
    };
    let expected: Vec<String> = jobs.iter().map(|job| job.derivation.out_path.clone()).collect();
    let query = path_info_command(None, &expected, None);
    let valid = match runner::run("asking the local store what was built", &query, None).await {
        Ok(output) => parse_valid_paths(&output.stdout)?,
        Err(_) => return Err(failure),
    };
    let paths = jobs
        .iter()
        .filter(|job| valid.contains(&job.derivation.out_path))
        .map(|job| (job.derivation.drv_path.clone(), job.derivation.out_path.clone()))
        .collect();
    Ok(BatchResult { paths, failure: Some(failure) })
}

/// Writes the machines file for `specs` under the work directory; returns its path.
fn write_machines(
    context: &DriverContext,
    specs: &[(ResourceId, &BuilderSpec)],
    lines: &str,
) -> Result<std::path::PathBuf, DriverError> {
    // Absolute: nix's build hook does not read it from the directory rave runs in.
    let work_dir = std::path::absolute(&context.work_dir).unwrap_or_else(|_| context.work_dir.clone());
    let dir = work_dir.join("nix");
    let names: Vec<String> = specs.iter().map(|(address, _)| address.name.to_string()).collect();
    let path = dir.join(format!("machines-{}", names.join("+")));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, lines))
        .map_err(|error| DriverError::new(format!("cannot write the machines file `{}`: {error}", path.display())))?;
    Ok(path)
}
