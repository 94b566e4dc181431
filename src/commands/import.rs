//! `rave import ADDRESS ID`: adopt a VM, host or cache that exists already, so that rave manages
//! it from now on instead of creating another.
//!
//! The resource is recorded as the file declares it, with the given id among its outputs, and
//! its driver's refresh must find it there; what the driver then observes differently shows as
//! drift in the next plan. Nothing is created, changed or destroyed.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::context::Context;
use super::planning::{driver_context, secret_digests, state_or_new};
use crate::cli::ImportArgs;
use crate::drivers::{DriverSet, Registry};
use crate::error::CommandError;
use crate::exit_status::ExitStatus;
use crate::model::{ResourceId, ResourceKind};
use crate::plan::Observed;
use crate::project::Project;
use crate::settings::{parse_addresses, parse_duration};
use crate::state::backend::StateBackend;
use crate::state::lock::LockInfo;
use crate::state::{ResourceState, State};

/// The kinds that name something existing outside rave which can be adopted.
const IMPORTABLE: [ResourceKind; 3] = [ResourceKind::Vm, ResourceKind::Host, ResourceKind::Cache];

/// Runs `rave import`.
pub(super) fn run(context: &Context<'_>, args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    let project = context.load_project()?;
    let address = parse_addresses(std::slice::from_ref(&args.address), "import")?.remove(0);
    if !IMPORTABLE.contains(&address.kind) {
        return Err(CommandError::new(format!("`{address}` cannot be imported: only VMs, hosts and caches can"))
            .with_hint("declare it and let `rave apply` create it")
            .into());
    }
    if args.id.trim().is_empty() {
        return Err(CommandError::new("the id to import is empty").into());
    }
    let mut backend = project.state_backend()?;
    backend.lock(&LockInfo::current("import"), parse_duration(&args.lock_timeout, "--lock-timeout")?)?;
    let result = import(&project, backend.as_mut(), &address, &args.id);
    backend.unlock()?;
    let serial = result?;
    context.printer.status(&format!(
        "Imported `{address}` (id `{}`) into the state at serial {serial}; `rave plan` shows how it differs from the file.",
        args.id
    ));
    Ok(ExitStatus::Success)
}

/// Records `address` as found under `id` and commits the next serial; returns that serial.
fn import(project: &Project, backend: &mut dyn StateBackend, address: &ResourceId, id: &str) -> anyhow::Result<u64> {
    let resource = project.spec.resources.get(address).ok_or_else(|| {
        CommandError::new(format!("`{address}` is not declared in the file"))
            .with_hint("declare it as it exists, then import it")
    })?;
    let mut state = state_or_new(backend.load()?);
    if state.resources.contains_key(address) {
        return Err(CommandError::new(format!("`{address}` is already in the state"))
            .with_hint("`rave state rm` it first to import it again")
            .into());
    }
    let mut digests = secret_digests(project, &state)?;
    let recorded = ResourceState {
        attributes: resource.spec.attributes(),
        secret_digests: digests.remove(address).unwrap_or_default(),
        outputs: BTreeMap::from([("imported_id".to_owned(), serde_json::Value::from(id))]),
        dependencies: resource.dependencies.clone(),
        tainted: false,
    };
    check_exists(project, address, &recorded, id)?;
    state.resources.insert(address.clone(), recorded);
    state.serial += 1;
    backend.commit(&state)?;
    Ok(state.serial)
}

/// Asks the resource's driver whether it is there.
fn check_exists(project: &Project, address: &ResourceId, recorded: &ResourceState, id: &str) -> anyhow::Result<()> {
    let mut probe = State::new_lineage();
    probe.resources.insert(address.clone(), recorded.clone());
    let drivers: Arc<dyn DriverSet> = Arc::new(Registry::new());
    let context =
        driver_context(project, project.spec.resources.iter().map(|(address, resource)| (address, &*resource.spec)));
    let runtime = Context::runtime()?;
    let mut refreshed = runtime.block_on(crate::refresh::refresh(drivers, context, &probe, 1));
    if let Some((_, error)) = refreshed.errors.pop() {
        return Err(anyhow::Error::new(error).context(format!("could not read `{address}` (id `{id}`)")));
    }
    if refreshed.observed.get(address) == Some(&Observed::Missing) {
        return Err(CommandError::new(format!("`{address}` was not found as `{id}`"))
            .with_hint("check the id; `rave apply` creates resources that do not exist yet")
            .into());
    }
    Ok(())
}
