//! [`ContainerDriver`]: `containers:`, NixOS containers on a host, through `nixos-container`.
//!
//! A container is created (`nixos-container create NAME --flake FLAKE#NAME`) or updated in place
//! (`update`), then started; deleting it stops and destroys it. `nixos-container` exists only on
//! NixOS hosts that run systemd: on any other host every action fails first with an error that
//! says so, before anything is changed. The command lines are built by pure functions.

use std::time::Duration;

use super::command_spec::CommandSpec;
use super::placement::Placement;
use super::{BoxFuture, Driver, DriverContext, DriverError, Outputs};
use crate::apply::EventSink;
use crate::model::{ContainerSpec, Name, ResourceId, ResourceKind, ResourceSpec};
use crate::nix::reference::{OutputKind, Reference};
use crate::plan::Desired;
use crate::state::ResourceState;

/// How long a `nixos-container` command may take (a create builds the container's system).
const CONTAINER_TIMEOUT: Duration = Duration::from_secs(3600);

/// Exits 0 on a host that has `nixos-container` and runs systemd.
const PROBE: &str = "command -v nixos-container >/dev/null 2>&1 && [ -d /run/systemd/system ]";

/// Exits 0 when the container `$1` exists (its configuration file is there).
const EXISTS: &str = r#"[ -e "/etc/nixos-containers/$1.conf" ]"#;

/// `nixos-container VERB NAME [ARGS…]`.
fn nixos_container(verb: &str, name: &str) -> CommandSpec {
    CommandSpec::new("nixos-container").args([verb, name]).timeout(CONTAINER_TIMEOUT)
}

/// `nixos-container create NAME --flake FLAKE`.
pub(crate) fn create_command(name: &str, flake: &str) -> CommandSpec {
    nixos_container("create", name).args(["--flake", flake])
}

/// `nixos-container update NAME --flake FLAKE`.
pub(crate) fn update_command(name: &str, flake: &str) -> CommandSpec {
    nixos_container("update", name).args(["--flake", flake])
}

/// `nixos-container start NAME`.
pub(crate) fn start_command(name: &str) -> CommandSpec {
    nixos_container("start", name)
}

/// `nixos-container stop NAME`.
pub(crate) fn stop_command(name: &str) -> CommandSpec {
    nixos_container("stop", name)
}

/// `nixos-container destroy NAME`.
pub(crate) fn destroy_command(name: &str) -> CommandSpec {
    nixos_container("destroy", name)
}

/// The `--flake` argument for a container: `FLAKE#NAME`, where `nixos:` names the configuration
/// `FLAKE#nixosConfigurations.NAME` (or `FLAKE#NAME`), a relative flake path resolved against
/// the file's directory.
fn flake_argument(context: &DriverContext, address: &ResourceId, nixos: &str) -> Result<String, DriverError> {
    let (_, attribute) = nixos
        .split_once('#')
        .ok_or_else(|| DriverError::new(format!("`{address}`: `nixos: {nixos}` is not `FLAKE#ATTRIBUTE`")))?;
    let configuration = attribute.strip_prefix("nixosConfigurations.").unwrap_or(attribute);
    let settings = &context.nix;
    let flake = Reference::parse(nixos, OutputKind::NixosConfiguration, settings, &settings.system, &context.base_dir)
        .map_err(|error| DriverError::new(format!("`{address}`: {error}")))?
        .flake;
    Ok(format!("{flake}#{configuration}"))
}

/// The driver for NixOS containers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ContainerDriver;

/// Where the container's commands run: its host.
fn placement(context: &DriverContext, address: &ResourceId, host: &Name) -> Result<Placement, DriverError> {
    Placement::of_target(address, &ResourceId::new(ResourceKind::Host, host.clone()), context)
}

/// Fails with the reason when the host cannot run NixOS containers.
async fn check_host(
    placement: &Placement,
    address: &ResourceId,
    host: &Name,
    events: &EventSink,
) -> Result<(), DriverError> {
    let probe = CommandSpec::new("sh").args(["-c", PROBE]).timeout(Duration::from_secs(30));
    if placement.run(probe, events).await.is_ok() {
        return Ok(());
    }
    Err(DriverError::new(format!(
        "`{address}` cannot run on `host.{host}`: it has no `nixos-container` with systemd running"
    ))
    .with_detail("NixOS containers need a NixOS host booted with systemd (`boot.enableContainers`)")
    .with_detail(format!("place the container on such a host, or leave it out with `--exclude {address}`")))
}

impl ContainerDriver {
    /// Create and update alike: create or update the container, then start it.
    async fn converge(
        context: &DriverContext,
        events: &EventSink,
        address: &ResourceId,
        desired: &Desired,
    ) -> Result<Outputs, DriverError> {
        let ResourceSpec::Container(spec) = &*desired.spec else {
            return Err(DriverError::wrong_kind(address, &desired.spec));
        };
        let placement = placement(context, address, &spec.host)?;
        check_host(&placement, address, &spec.host, events).await?;
        let name = address.name.to_string();
        let flake = flake_of(context, address, spec)?;
        let exists = CommandSpec::new("sh").args(["-c", EXISTS, "rave-container", &name]);
        let command = if placement.run(exists, events).await.is_ok() {
            update_command(&name, &flake)
        } else {
            create_command(&name, &flake)
        };
        events.progress(format!("running `{command}`"));
        placement.run(command, events).await?;
        placement.run(start_command(&name), events).await?;
        super::health::check_all(&spec.health, &placement, events).await?;
        Ok(Outputs::from([("flake".to_owned(), serde_json::Value::String(flake))]))
    }
}

/// The container's `--flake` argument; a container without `nixos:` has nothing to run.
fn flake_of(context: &DriverContext, address: &ResourceId, spec: &ContainerSpec) -> Result<String, DriverError> {
    let Some(nixos) = &spec.nixos else {
        return Err(DriverError::new(format!(
            "`{address}` has no `nixos:`: a container needs its NixOS configuration"
        ))
        .with_detail("add `nixos: \".#nixosConfigurations.NAME\"`"));
    };
    flake_argument(context, address, nixos)
}

impl Driver for ContainerDriver {
    fn replace_attributes(&self) -> &'static [&'static str] {
        // A container moves host only by being recreated.
        &["host"]
    }

    fn create<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(Self::converge(context, events, address, desired))
    }

    fn delete<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let host = recorded.attributes.get("host").and_then(serde_json::Value::as_str).unwrap_or_default();
            let host: Name = Name::new(host).map_err(|_| {
                DriverError::new(format!("`{address}` has no recorded host: cannot tell where to destroy it"))
                    .with_detail(format!("to forget it without destroying it, run `rave state rm {address}`"))
            })?;
            let placement = placement(context, address, &host)?;
            check_host(&placement, address, &host, events).await?;
            let name = address.name.to_string();
            placement.run(stop_command(&name), events).await?;
            placement.run(destroy_command(&name), events).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::drivers::test_support::sink;

    #[test]
    fn the_command_lines() {
        let flake = "/srv/infra#registry";
        let lines = [
            create_command("registry", flake),
            update_command("registry", flake),
            start_command("registry"),
            stop_command("registry"),
            destroy_command("registry"),
        ]
        .map(|command| command.to_string());
        insta::assert_snapshot!(lines.join("\n"), @r"
        nixos-container create registry --flake /srv/infra#registry
        nixos-container update registry --flake /srv/infra#registry
        nixos-container start registry
        nixos-container stop registry
        nixos-container destroy registry
        ");
    }

    #[test]
    fn the_flake_argument_names_the_configuration() {
        let context = DriverContext { base_dir: "/srv/infra".into(), ..DriverContext::default() };
        let address: ResourceId = "container.registry".parse().unwrap();
        let cases = [
            (".#nixosConfigurations.registry", "/srv/infra#registry"),
            ("./cim#registry", "/srv/infra/cim#registry"),
            ("github:owner/cim#nixosConfigurations.registry", "github:owner/cim#registry"),
        ];
        for (nixos, expected) in cases {
            assert_eq!(flake_argument(&context, &address, nixos).unwrap(), expected, "{nixos}");
        }
    }

    #[tokio::test]
    async fn a_host_without_nixos_container_is_refused_before_anything_changes() {
        let host: crate::model::HostSpec = serde_json::from_value(serde_json::json!({ "local": true })).unwrap();
        let context = DriverContext {
            hosts: BTreeMap::from([("host.workstation".parse().unwrap(), host)]),
            base_dir: "/srv/infra".into(),
            ..DriverContext::default()
        };
        let address: ResourceId = "container.registry".parse().unwrap();
        let spec = serde_json::from_value(
            serde_json::json!({ "host": "workstation", "nixos": ".#nixosConfigurations.registry" }),
        )
        .unwrap();
        let desired = Desired {
            spec: ResourceSpec::Container(spec).into(),
            dependencies: Vec::new(),
            secret_digests: BTreeMap::new(),
            derivation: None,
        };
        let (events, _receiver) = sink("container.registry");
        let error = ContainerDriver.create(&context, &events, &address, &desired).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "`container.registry` cannot run on `host.workstation`: it has no `nixos-container` with systemd running\n  NixOS containers need a NixOS host booted with systemd (`boot.enableContainers`)\n  place the container on such a host, or leave it out with `--exclude container.registry`"
        );
    }
}
