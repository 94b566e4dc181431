//! Getting a VM's runner onto its host: the derivation the plan evaluated (or, planned without
//! one, evaluated now; for a VM without `nixos:` from the flake rave generates), built with
//! `nix build --json --no-link`, then copied to an SSH host with `nix copy`, the host substituting
//! from the VM's `push:` caches first.

use std::collections::BTreeMap;
use std::path::Path;

use super::flake::{SERVICES_MODULE, SERVICES_MODULE_FILE, VmFlake};
use crate::apply::EventSink;
use crate::drivers::nixos::commands::copy_to_host;
use crate::drivers::placement::Placement;
use crate::drivers::{DriverContext, DriverError};
use crate::model::{ResourceId, VmSpec};
use crate::nix::build::{BuildRequest, build_command, parse_build_output};
use crate::nix::evaluation::{Target, VM_RUNNER, evaluate};
use crate::nix::reference::{OutputKind, Reference};
use crate::nix::substituters::Substituters;
use crate::nix::{Derivation, runner};
use crate::plan::Desired;

/// Writes the generated flake of `address` (a VM without `nixos:`) into `dir`.
fn write_flake(context: &DriverContext, address: &ResourceId, spec: &VmSpec, dir: &Path) -> Result<(), DriverError> {
    let services: BTreeMap<String, _> = context
        .services
        .iter()
        .filter(|(_, service)| &service.runs_on == address)
        .map(|(service, spec)| (service.name.to_string(), spec))
        .collect();
    let flake = VmFlake { name: address.name.as_str(), spec, system: &context.nix.system, services };
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|error| {
            DriverError::new(format!("cannot write the flake of `{address}` to `{}`: {error}", dir.display()))
        })
    };
    std::fs::create_dir_all(dir)
        .map_err(|error| DriverError::new(format!("cannot create `{}`: {error}", dir.display())))?;
    write("flake.nix", &flake.render())?;
    write(SERVICES_MODULE_FILE, SERVICES_MODULE)
}

/// The runner's derivation: the plan's, or one evaluated now.
async fn derivation(
    context: &DriverContext,
    address: &ResourceId,
    spec: &VmSpec,
    desired: &Desired,
    flake_dir: &Path,
) -> Result<Derivation, DriverError> {
    if let Some(derivation) = &desired.derivation {
        return Ok(derivation.clone());
    }
    let reference = if let Some(nixos) = &spec.nixos {
        let settings = &context.nix;
        Reference::parse(nixos, OutputKind::NixosConfiguration, settings, &settings.system, &context.base_dir)
            .map_err(|error| DriverError::new(format!("`{address}`: {error}")))?
    } else {
        write_flake(context, address, spec, flake_dir)?;
        Reference {
            flake: format!("path:{}", flake_dir.display()),
            candidates: vec![vec!["nixosConfigurations".to_owned(), address.name.to_string()]],
        }
    };
    let target = Target { address: address.clone(), reference, suffix: VM_RUNNER };
    let mut derivations = evaluate(std::slice::from_ref(&target)).await?;
    derivations.remove(address).ok_or_else(|| DriverError::new(format!("evaluating `{address}` gave no runner")))
}

/// Builds the runner of `address`; returns its derivation, with the store path nix built.
pub(super) async fn build(
    context: &DriverContext,
    events: &EventSink,
    address: &ResourceId,
    spec: &VmSpec,
    desired: &Desired,
) -> Result<Derivation, DriverError> {
    let flake_dir = context.work_dir.join("vms").join(address.name.as_str());
    let derivation = derivation(context, address, spec, desired, &flake_dir).await?;
    events.progress(format!("building the runner `{}`", derivation.out_path));
    let request = BuildRequest { installables: vec![derivation.drv_path.clone()], ..BuildRequest::default() };
    let output =
        runner::run(format!("building the runner of `{address}`"), &build_command(&request), Some(events)).await?;
    let built = parse_build_output(&output.stdout)?;
    let out_path = built
        .get(&derivation.drv_path)
        .and_then(|built| built.outputs.get("out"))
        .cloned()
        .ok_or_else(|| DriverError::new(format!("`{address}`: nix built no `{}`", derivation.drv_path)))?;
    Ok(Derivation { out_path, ..derivation })
}

/// Copies the built `runner` to an SSH host, which substitutes what it can from `substituters`
/// first (as a host's system is copied); nothing to do on the machine rave runs on.
pub(super) async fn copy(
    address: &ResourceId,
    placement: &Placement,
    runner: &str,
    substituters: &Substituters,
    events: &EventSink,
) -> Result<(), DriverError> {
    if let Placement::Ssh(connection) = placement {
        events.progress(format!("copying the runner to `{}`", connection.target.destination()));
        connection.options.prepare(&connection.target)?;
        let copy = copy_to_host(connection, runner, substituters)?;
        runner::run(format!("copying the runner of `{address}`"), &copy, Some(events)).await?;
    }
    Ok(())
}
