//! What the user asks for, per kind of resource: the typed shape of each section of the file.
//!
//! These structs are read straight from the file (serde, with `deny_unknown_fields`), publish the
//! JSON Schema (schemars), and travel inside a saved plan, so an apply needs nothing but the plan.
//! Checks that need more than one field or more than one resource live in `model::lower`, not here.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use super::attribute_serializer::to_attributes;
use super::duration::Duration;
use super::resource_id::{Name, ResourceId, ResourceKind};
use super::secret_ref::SecretRef;
use super::size::Size;

/// A binary cache that builds are pushed to and machines substitute from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheSpec {
    /// `cachix` (pushed with the cachix CLI) or `nix-store` (pushed with `nix copy --to uri`).
    #[serde(rename = "type")]
    pub(crate) cache_type: CacheType,
    /// The Cachix cache name (`type: cachix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// The Nix store URI (`type: nix-store`): `file://`, `http(s)://`, `s3://`, `ssh://`, `ssh-ng://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<String>,
    /// The key that machines trust when they substitute from this cache (`name:base64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) public_key: Option<String>,
    /// Cachix auth token, as a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auth_token: Option<SecretRef>,
    /// Signing key for `nix-store` caches, as a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) secret_key: Option<SecretRef>,
    /// Explicit dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs: Vec<ResourceId>,
}

/// How a cache is pushed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum CacheType {
    /// A Cachix cache.
    Cachix,
    /// Any Nix store URI.
    NixStore,
}

/// How a machine is created and destroyed by an outside tool (e.g. Terraform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Provision {
    /// The command (argv, no shell) that creates the machine.
    pub(crate) create: Vec<String>,
    /// The command (argv, no shell) that destroys it.
    pub(crate) destroy: Vec<String>,
}

/// A remote Nix builder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuilderSpec {
    /// `user@host`.
    pub(crate) ssh: String,
    /// SSH port, when not 22.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    /// The private key to log in with, as a `file:` reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ssh_key: Option<SecretRef>,
    /// The builder's pinned SSH host key (`ssh-ed25519 AAAA…`).
    pub(crate) host_key: String,
    /// Systems it builds for.
    #[serde(default = "default_systems")]
    pub(crate) systems: Vec<String>,
    /// Jobs it runs at once.
    #[serde(default = "one")]
    pub(crate) max_jobs: u32,
    /// Relative speed, for Nix's choice among builders.
    #[serde(default = "one")]
    pub(crate) speed_factor: u32,
    /// Nix system features it supports (`kvm`, `big-parallel`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) features: Vec<String>,
    /// How the machine comes and goes, when rave manages that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) provision: Option<Provision>,
    /// Destroyed again when the apply that needed it is done.
    #[serde(default)]
    pub(crate) ephemeral: bool,
    /// Explicit dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs: Vec<ResourceId>,
}

fn default_systems() -> Vec<String> {
    vec!["x86_64-linux".to_owned()]
}

fn one() -> u32 {
    1
}

/// A flake output that rave builds and pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildSpec {
    /// The flake output, `.#packages.x86_64-linux.codex` (relative to `nix.flake`).
    pub(crate) attr: String,
    /// Builders to build on; empty means build locally.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) builders: Vec<Name>,
    /// Caches to push the result to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) push: Vec<Name>,
    /// Explicit dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs: Vec<ResourceId>,
}

/// How much a host can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Capacity {
    /// Virtual CPUs available to VMs.
    pub(crate) vcpus: u32,
    /// Memory available to VMs.
    pub(crate) memory: Size,
}

/// A machine: reached over SSH, or the local one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostSpec {
    /// `user@host`; with `host_key`. Absent for `local: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ssh: Option<String>,
    /// SSH port, when not 22.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    /// The private key to log in with, as a `file:` reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ssh_key: Option<SecretRef>,
    /// The host's pinned SSH host key (`ssh-ed25519 AAAA…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) host_key: Option<String>,
    /// The machine rave runs on: commands run directly, without SSH.
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) local: bool,
    /// The Nix system, `x86_64-linux` unless `nix.system` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) system: Option<String>,
    /// The host's own NixOS configuration, deployed by rave when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nixos: Option<String>,
    /// What VMs placed here may use in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) capacity: Option<Capacity>,
    /// Caches to push the host's system to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) push: Vec<Name>,
    /// Health checks run after every deploy.
    #[serde(default, skip_serializing_if = "HealthChecks::is_empty")]
    pub(crate) health: HealthChecks,
    /// Explicit dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs: Vec<ResourceId>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_false(value: &bool) -> bool {
    !value
}

/// The hypervisor a microVM runs under (microvm.nix runners).
#[allow(clippy::enum_variant_names)] // `cloud-hypervisor` is the program's name
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Hypervisor {
    /// QEMU.
    #[default]
    Qemu,
    /// cloud-hypervisor.
    CloudHypervisor,
    /// Firecracker.
    Firecracker,
}

/// Whether a VM should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum VmState {
    /// Booted and kept running.
    #[default]
    Running,
    /// Declared but shut down.
    Stopped,
}

/// A disk attached to a VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Volume {
    /// The volume's name, unique in the VM.
    pub(crate) name: Name,
    /// Its size.
    pub(crate) size: Size,
    /// Where the guest mounts it.
    pub(crate) mount: String,
}

/// A network interface of a VM.
#[allow(clippy::struct_field_names)] // `type` in the file; `type` is a keyword here
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Interface {
    /// `tap`, `user`, `bridge` or `macvtap`, as microvm.nix names them.
    #[serde(rename = "type")]
    pub(crate) interface_type: String,
    /// The interface's id on the host.
    pub(crate) id: String,
    /// Its MAC address.
    pub(crate) mac: String,
}

/// A microVM on a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmSpec {
    /// The host it runs on.
    pub(crate) host: Name,
    /// Which hypervisor runs it.
    #[serde(default)]
    pub(crate) hypervisor: Hypervisor,
    /// Virtual CPUs.
    #[serde(default = "one")]
    pub(crate) vcpus: u32,
    /// Memory.
    #[serde(default = "default_vm_memory")]
    pub(crate) memory: Size,
    /// The VM's NixOS configuration; generated from the services on it when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nixos: Option<String>,
    /// Disks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) volumes: Vec<Volume>,
    /// Network interfaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) interfaces: Vec<Interface>,
    /// `running` or `stopped`.
    #[serde(default)]
    pub(crate) state: VmState,
    /// Caches to push the runner to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) push: Vec<Name>,
    /// Health checks run after every boot.
    #[serde(default, skip_serializing_if = "HealthChecks::is_empty")]
    pub(crate) health: HealthChecks,
    /// Explicit dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs: Vec<ResourceId>,
}

fn default_vm_memory() -> Size {
    Size::from_mebibytes(512)
}

/// A NixOS container on a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContainerSpec {
    /// The host it runs on.
    pub(crate) host: Name,
    /// The container's NixOS configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nixos: Option<String>,
    /// Caches to push its system to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) push: Vec<Name>,
    /// Health checks run after every deploy.
    #[serde(default, skip_serializing_if = "HealthChecks::is_empty")]
    pub(crate) health: HealthChecks,
    /// Explicit dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs: Vec<ResourceId>,
}

/// A service placed on a host, VM or container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceSpec {
    /// The service type: `gitlab`, `mattermost`, `nats`, `grafana`, `prometheus`, `postgresql`, `redis`, `nginx`…
    #[serde(rename = "type")]
    pub(crate) service_type: String,
    /// Where it runs: `host.NAME`, `vm.NAME` or `container.NAME`.
    pub(crate) runs_on: ResourceId,
    /// The port it listens on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    /// Whether NATS runs with `JetStream`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) jetstream: Option<bool>,
    /// Secrets the service needs, by name, as references.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) secrets: BTreeMap<String, SecretRef>,
    /// Type-specific settings passed to the service's NixOS module.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) settings: BTreeMap<String, serde_json::Value>,
    /// Health checks; the type's default probe when absent.
    #[serde(default, skip_serializing_if = "HealthChecks::is_empty")]
    pub(crate) health: HealthChecks,
    /// Explicit dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) needs: Vec<ResourceId>,
}

/// One health check: exactly one of `http`, `tcp` or `command`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HealthCheck {
    /// A URL that must answer with `expect` (200 unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) http: Option<String>,
    /// `host:port` that must accept a TCP connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tcp: Option<String>,
    /// A command (argv) run on the placement that must exit 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) command: Option<Vec<String>>,
    /// The HTTP status expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expect: Option<u16>,
    /// Text the HTTP body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<String>,
    /// How long the check may take in all, retries included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout: Option<Duration>,
    /// How many attempts before the check fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) retries: Option<u32>,
}

/// Health checks, written as one check or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub(crate) struct HealthChecks(pub(crate) Vec<HealthCheck>);

impl JsonSchema for HealthChecks {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HealthChecks".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one = generator.subschema_for::<HealthCheck>();
        schemars::json_schema!({
            "description": "One health check, or a list of them.",
            "oneOf": [one, { "type": "array", "items": one }]
        })
    }
}

impl HealthChecks {
    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for HealthChecks {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrMany;
        impl<'de> serde::de::Visitor<'de> for OneOrMany {
            type Value = HealthChecks;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a health check or a list of them")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<HealthChecks, A::Error> {
                let check = HealthCheck::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(HealthChecks(vec![check]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<HealthChecks, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(HealthChecks)
            }
        }
        deserializer.deserialize_any(OneOrMany)
    }
}

/// The desired state of one resource, whatever its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "spec", rename_all = "snake_case")]
pub(crate) enum ResourceSpec {
    /// `caches:`.
    Cache(CacheSpec),
    /// `builders:`.
    Builder(BuilderSpec),
    /// `builds:`.
    Build(BuildSpec),
    /// `hosts:`.
    Host(HostSpec),
    /// `vms:`.
    Vm(VmSpec),
    /// `containers:`.
    Container(ContainerSpec),
    /// `services:`.
    Service(ServiceSpec),
}

impl ResourceSpec {
    /// The kind of resource this is.
    pub(crate) fn kind(&self) -> ResourceKind {
        match self {
            Self::Cache(_) => ResourceKind::Cache,
            Self::Builder(_) => ResourceKind::Builder,
            Self::Build(_) => ResourceKind::Build,
            Self::Host(_) => ResourceKind::Host,
            Self::Vm(_) => ResourceKind::Vm,
            Self::Container(_) => ResourceKind::Container,
            Self::Service(_) => ResourceKind::Service,
        }
    }

    /// The explicit `needs` of the resource.
    pub(crate) fn needs(&self) -> &[ResourceId] {
        match self {
            Self::Cache(spec) => &spec.needs,
            Self::Builder(spec) => &spec.needs,
            Self::Build(spec) => &spec.needs,
            Self::Host(spec) => &spec.needs,
            Self::Vm(spec) => &spec.needs,
            Self::Container(spec) => &spec.needs,
            Self::Service(spec) => &spec.needs,
        }
    }

    /// The resources this one refers to by field (a VM's host, a build's builders and caches,
    /// `push`), not counting `needs`, with the field that names each.
    pub(crate) fn references(&self) -> Vec<(&'static str, ResourceId)> {
        let named = |field: &'static str, kind: ResourceKind, names: &[Name]| {
            names.iter().map(move |name| (field, ResourceId::new(kind, name.clone()))).collect::<Vec<_>>()
        };
        match self {
            Self::Cache(_) | Self::Builder(_) => Vec::new(),
            Self::Build(spec) => {
                let mut references = named("builders", ResourceKind::Builder, &spec.builders);
                references.extend(named("push", ResourceKind::Cache, &spec.push));
                references
            }
            Self::Host(spec) => named("push", ResourceKind::Cache, &spec.push),
            Self::Vm(spec) => {
                let mut references = named("host", ResourceKind::Host, std::slice::from_ref(&spec.host));
                references.extend(named("push", ResourceKind::Cache, &spec.push));
                references
            }
            Self::Container(spec) => {
                let mut references = named("host", ResourceKind::Host, std::slice::from_ref(&spec.host));
                references.extend(named("push", ResourceKind::Cache, &spec.push));
                references
            }
            Self::Service(spec) => vec![("runs_on", spec.runs_on.clone())],
        }
    }

    /// Every secret reference in the spec, by attribute path (`auth_token`, `secrets.root_password`).
    pub(crate) fn secret_refs(&self) -> Vec<(String, &SecretRef)> {
        fn field<'a>(name: &str, secret: Option<&'a SecretRef>) -> Option<(String, &'a SecretRef)> {
            secret.map(|secret| (name.to_owned(), secret))
        }
        match self {
            Self::Cache(spec) => {
                [field("auth_token", spec.auth_token.as_ref()), field("secret_key", spec.secret_key.as_ref())]
                    .into_iter()
                    .flatten()
                    .collect()
            }
            Self::Builder(spec) => field("ssh_key", spec.ssh_key.as_ref()).into_iter().collect(),
            Self::Host(spec) => field("ssh_key", spec.ssh_key.as_ref()).into_iter().collect(),
            Self::Service(spec) => {
                spec.secrets.iter().map(|(name, secret)| (format!("secrets.{name}"), secret)).collect()
            }
            Self::Build(_) | Self::Vm(_) | Self::Container(_) => Vec::new(),
        }
    }

    /// The resource's attributes for diffing: its top-level fields as JSON values, `needs`
    /// included (a dependency added or dropped shows as a change). Secret references appear as
    /// references; their contents are compared by digest, apart.
    pub(crate) fn attributes(&self) -> Attributes {
        let attributes = match self {
            Self::Cache(spec) => to_attributes(spec),
            Self::Builder(spec) => to_attributes(spec),
            Self::Build(spec) => to_attributes(spec),
            Self::Host(spec) => to_attributes(spec),
            Self::Vm(spec) => to_attributes(spec),
            Self::Container(spec) => to_attributes(spec),
            Self::Service(spec) => to_attributes(spec),
        };
        attributes.unwrap_or_else(|error| unreachable!("resource specs serialize to JSON objects: {error}"))
    }
}

/// A resource's attributes by name, in a stable order.
pub(crate) type Attributes = BTreeMap<String, serde_json::Value>;
