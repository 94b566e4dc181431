//! Generated valid desired-state documents, for property tests.
//!
//! [`document`] draws every section: caches, builders, builds, hosts (local and over SSH with a
//! pinned host key), VMs on declared hosts within their capacity, containers, and services
//! running on declared machines, with sizes, durations, secret references, health checks of
//! exactly one kind, and `needs` on declared addresses. References and `needs` only point at
//! resources earlier in file order, so the graph never has a cycle. Every document drawn passes
//! `model::lower`; [`lowered`] loads one from text and lowers it.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use crate::config::{Document, NixSettings, StateBackendKind, StateSettings};
use crate::model::resource_spec::{Capacity, Hypervisor, Interface, Provision, VmState, Volume};
use crate::model::{
    BuildSpec, BuilderSpec, CacheSpec, CacheType, ContainerSpec, Duration, HealthCheck, HealthChecks, HostSpec, Name,
    ResourceId, ResourceKind, SecretRef, ServiceSpec, Size, Spec, VmSpec,
};

/// The most VMs drawn, each with at most [`MAX_VM_VCPUS`] and [`MAX_VM_MEMORY_MIB`]: a host's
/// capacity is drawn large enough for all of them at once.
const MAX_VMS: usize = 4;
const MAX_VM_VCPUS: u32 = 8;
const MAX_VM_MEMORY_MIB: u64 = 16 * 1024;

/// Text that parsers like to read as something other than a string.
const TRICKY_TEXT: &[&str] =
    &["", "true", "no", "null", "~", "1.5", "0x1f", "1979-05-27", "8GiB", "env:X", "a: b", "#"];

const SYSTEMS: &[&str] = &["x86_64-linux", "aarch64-linux", "x86_64-darwin"];

const SERVICE_TYPES: &[&str] =
    &["gitlab", "mattermost", "nats", "grafana", "prometheus", "postgresql", "redis", "nginx"];

/// A valid document.
pub(crate) fn document() -> impl Strategy<Value = Document> {
    let names = |count: std::ops::Range<usize>| btree_set(name(), count).prop_map(|names| names.into_iter().collect());
    (names(0..3), names(0..3), names(0..3), names(1..4), names(0..MAX_VMS + 1), names(0..3), names(0..5)).prop_flat_map(
        |(caches, builders, builds, hosts, vms, containers, services)| {
            sections(&Names { caches, builders, builds, hosts, vms, containers, services })
        },
    )
}

/// Loads `text` as the file `name` (its extension gives the format) and lowers it, returning the
/// document read and the spec; panics with every diagnostic when either step fails.
pub(crate) fn lowered(name: &str, text: &str) -> (Document, Spec) {
    let mut loaded = crate::config::load_bytes(Path::new(name), text.as_bytes())
        .unwrap_or_else(|diagnostics| panic!("loading {name} failed: {diagnostics:#?}\n{text}"));
    // Lowering moves the resources out of the document.
    let document = loaded.document.clone();
    let spec = crate::model::lower::lower(&mut loaded)
        .unwrap_or_else(|diagnostics| panic!("lowering {name} failed: {diagnostics:#?}\n{text}"));
    (document, spec)
}

/// The names of each section's resources, drawn first so references can point at them.
struct Names {
    caches: Vec<Name>,
    builders: Vec<Name>,
    builds: Vec<Name>,
    hosts: Vec<Name>,
    vms: Vec<Name>,
    containers: Vec<Name>,
    services: Vec<Name>,
}

impl Names {
    fn of(&self, kind: ResourceKind) -> &[Name] {
        match kind {
            ResourceKind::Cache => &self.caches,
            ResourceKind::Builder => &self.builders,
            ResourceKind::Build => &self.builds,
            ResourceKind::Host => &self.hosts,
            ResourceKind::Vm => &self.vms,
            ResourceKind::Container => &self.containers,
            ResourceKind::Service => &self.services,
        }
    }

    /// Every address, in file order.
    fn addresses(&self) -> Vec<ResourceId> {
        ResourceKind::ALL
            .into_iter()
            .flat_map(|kind| self.of(kind).iter().map(move |name| ResourceId::new(kind, name.clone())))
            .collect()
    }

    fn ids(&self, kind: ResourceKind) -> Vec<ResourceId> {
        self.of(kind).iter().map(|name| ResourceId::new(kind, name.clone())).collect()
    }
}

/// The whole document, given the names.
fn sections(names: &Names) -> impl Strategy<Value = Document> + use<> {
    let order = names.addresses();
    let mut machines = names.ids(ResourceKind::Host);
    machines.extend(names.ids(ResourceKind::Vm));
    machines.extend(names.ids(ResourceKind::Container));
    (
        (name(), state_settings(), nix_settings()),
        section(names, ResourceKind::Cache, &order, |_, needs| cache(needs)),
        section(names, ResourceKind::Builder, &order, |_, needs| builder(needs)),
        section(names, ResourceKind::Build, &order, |_, needs| build(&names.builders, &names.caches, needs)),
        section(names, ResourceKind::Host, &order, |_, needs| host(&names.caches, needs)),
        section(names, ResourceKind::Vm, &order, |index, needs| vm(index, &names.hosts, &names.caches, needs)),
        section(names, ResourceKind::Container, &order, |_, needs| container(&names.hosts, &names.caches, needs)),
        section(names, ResourceKind::Service, &order, |_, needs| service(&machines, needs)),
    )
        .prop_map(|((project, state, nix), caches, builders, builds, hosts, vms, containers, services)| Document {
            version: 1,
            project,
            state,
            nix,
            caches,
            builders,
            builds,
            hosts,
            vms,
            containers,
            services,
            moved: Vec::new(),
        })
}

/// One section: a spec per name of `kind`, each drawn by `make` from its index and the `needs` it
/// may have (some of the addresses before it).
fn section<S: Strategy + 'static>(
    names: &Names,
    kind: ResourceKind,
    order: &[ResourceId],
    make: impl Fn(usize, BoxedStrategy<Vec<ResourceId>>) -> S,
) -> BoxedStrategy<BTreeMap<Name, S::Value>> {
    let own: Vec<Name> = names.of(kind).to_vec();
    let strategies: Vec<S> = own
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let id = ResourceId::new(kind, name.clone());
            let earlier = order.iter().take_while(|address| **address != id).cloned().collect();
            make(index, some_of(earlier, 2).boxed())
        })
        .collect();
    strategies.prop_map(move |specs| own.iter().cloned().zip(specs).collect()).boxed()
}

/// Up to `most` of `items`, in their order.
fn some_of<T: Clone + std::fmt::Debug + 'static>(items: Vec<T>, most: usize) -> impl Strategy<Value = Vec<T>> {
    let most = items.len().min(most);
    subsequence(items, 0..=most)
}

fn name() -> impl Strategy<Value = Name> {
    "[a-z0-9][a-z0-9_-]{0,8}".prop_filter_map("a valid name", |text| Name::new(&text).ok())
}

/// Any printable text, or text a parser might read as something else.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,16}", select(TRICKY_TEXT).prop_map(str::to_owned)]
}

fn size(mebibytes: std::ops::RangeInclusive<u64>) -> impl Strategy<Value = Size> {
    mebibytes.prop_map(Size::from_mebibytes)
}

fn secret() -> impl Strategy<Value = SecretRef> {
    prop_oneof![
        "[A-Z_][A-Z0-9_]{0,12}".prop_map(SecretRef::Env),
        "(/run/keys|secrets|\\.)/[a-z0-9._-]{1,12}".prop_map(|path| SecretRef::File(path.into())),
    ]
}

/// A secret read from a file (SSH keys may not come from the environment).
fn file_secret() -> impl Strategy<Value = SecretRef> {
    "secrets/[a-z0-9_-]{1,12}".prop_map(|path| SecretRef::File(path.into()))
}

fn ssh() -> impl Strategy<Value = String> {
    ("[a-z][a-z0-9]{0,6}", 1..=254u8).prop_map(|(user, octet)| format!("{user}@192.0.2.{octet}"))
}

fn host_key() -> impl Strategy<Value = String> {
    (
        select(&["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA", "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAA"]),
        "[A-Za-z0-9+/]{8,32}",
    )
        .prop_map(|(prefix, key)| format!("{prefix}{key}"))
}

fn nixos() -> impl Strategy<Value = Option<String>> {
    option::of("\\.#nixosConfigurations\\.[a-z]{1,8}")
}

fn argv() -> impl Strategy<Value = Vec<String>> {
    (select(&["systemctl", "terraform", "curl", "true"]), vec("[a-z-]{1,8}", 0..3)).prop_map(|(program, mut args)| {
        args.insert(0, program.to_owned());
        args
    })
}

fn health() -> impl Strategy<Value = HealthChecks> {
    let timeout = || option::of((1..=7200u64).prop_map(Duration::from_seconds));
    let retries = || option::of(0..10u32);
    let http =
        ("https?://192\\.0\\.2\\.[1-9]/[a-z]{0,8}", option::of(100..600u16), option::of(text()), timeout(), retries())
            .prop_map(|(url, expect, body, timeout, retries)| HealthCheck {
                http: Some(url),
                tcp: None,
                command: None,
                expect,
                body,
                timeout,
                retries,
            });
    let tcp = ("[a-z0-9.]{1,12}", any::<u16>(), timeout(), retries()).prop_map(|(host, port, timeout, retries)| {
        HealthCheck {
            http: None,
            tcp: Some(format!("{host}:{port}")),
            command: None,
            expect: None,
            body: None,
            timeout,
            retries,
        }
    });
    let command = (argv(), timeout(), retries()).prop_map(|(command, timeout, retries)| HealthCheck {
        http: None,
        tcp: None,
        command: Some(command),
        expect: None,
        body: None,
        timeout,
        retries,
    });
    vec(prop_oneof![http, tcp, command], 0..3).prop_map(HealthChecks)
}

fn state_settings() -> impl Strategy<Value = StateSettings> {
    prop_oneof![
        option::of("\\.rave/[a-z]{1,8}\\.json").prop_map(|path| StateSettings {
            backend: StateBackendKind::Local,
            path,
            url: None
        }),
        secret().prop_map(|url| StateSettings { backend: StateBackendKind::Postgres, path: None, url: Some(url) }),
    ]
}

fn nix_settings() -> impl Strategy<Value = NixSettings> {
    (select(&[".", "./nix", "github:owner/repo"]), select(SYSTEMS))
        .prop_map(|(flake, system)| NixSettings { flake: flake.to_owned(), system: system.to_owned() })
}

fn cache(needs: BoxedStrategy<Vec<ResourceId>>) -> impl Strategy<Value = CacheSpec> {
    let public_key = option::of("[a-z]{1,8}-1:[A-Za-z0-9+/]{8,16}=");
    let cachix = ("[a-z0-9-]{1,12}", option::of(secret()))
        .prop_map(|(name, token)| (CacheType::Cachix, Some(name), None, token, None));
    let nix_store = ("(file:///var/cache/|s3://|ssh://root@192.0.2.1/)[a-z]{1,8}", option::of(file_secret()))
        .prop_map(|(uri, key)| (CacheType::NixStore, None, Some(uri), None, key));
    (prop_oneof![cachix, nix_store], public_key, needs).prop_map(
        |((cache_type, name, uri, auth_token, secret_key), public_key, needs)| CacheSpec {
            cache_type,
            name,
            uri,
            public_key,
            auth_token,
            secret_key,
            needs,
        },
    )
}

fn builder(needs: BoxedStrategy<Vec<ResourceId>>) -> impl Strategy<Value = BuilderSpec> {
    let provision = option::of((argv(), argv()).prop_map(|(create, destroy)| Provision { create, destroy }));
    (
        (ssh(), option::of(1..=u16::MAX), option::of(file_secret()), host_key()),
        some_of(SYSTEMS.iter().map(|system| (*system).to_owned()).collect(), 3),
        (1..=16u32, 1..=4u32),
        some_of(vec!["kvm".to_owned(), "big-parallel".to_owned(), "nixos-test".to_owned()], 3),
        provision,
        any::<bool>(),
        needs,
    )
        .prop_map(
            |(
                (ssh, port, ssh_key, host_key),
                systems,
                (max_jobs, speed_factor),
                features,
                provision,
                ephemeral,
                needs,
            )| {
                BuilderSpec {
                    ssh,
                    port,
                    ssh_key,
                    host_key,
                    systems,
                    max_jobs,
                    speed_factor,
                    features,
                    provision,
                    ephemeral,
                    needs,
                }
            },
        )
}

fn build(
    builders: &[Name],
    caches: &[Name],
    needs: BoxedStrategy<Vec<ResourceId>>,
) -> impl Strategy<Value = BuildSpec> + use<> {
    ("\\.#packages\\.x86_64-linux\\.[a-z]{1,8}", some_of(builders.to_vec(), 2), some_of(caches.to_vec(), 2), needs)
        .prop_map(|(attr, builders, push, needs)| BuildSpec { attr, builders, push, needs })
}

fn host(caches: &[Name], needs: BoxedStrategy<Vec<ResourceId>>) -> impl Strategy<Value = HostSpec> + use<> {
    // Room for every VM there may be, at their largest.
    let vcpus = u32::try_from(MAX_VMS).unwrap_or(u32::MAX) * MAX_VM_VCPUS;
    let memory = MAX_VMS as u64 * MAX_VM_MEMORY_MIB;
    let capacity = option::of(
        (vcpus..=vcpus * 4, size(memory..=memory * 8)).prop_map(|(vcpus, memory)| Capacity { vcpus, memory }),
    );
    let local = Just((None, None, None, None, true));
    let remote = (ssh(), option::of(1..=u16::MAX), option::of(file_secret()), host_key())
        .prop_map(|(ssh, port, ssh_key, host_key)| (Some(ssh), port, ssh_key, Some(host_key), false));
    (
        prop_oneof![local, remote],
        option::of(select(SYSTEMS)),
        nixos(),
        capacity,
        some_of(caches.to_vec(), 2),
        health(),
        needs,
    )
        .prop_map(|((ssh, port, ssh_key, host_key, local), system, nixos, capacity, push, health, needs)| {
            HostSpec {
                ssh,
                port,
                ssh_key,
                host_key,
                local,
                system: system.map(str::to_owned),
                nixos,
                capacity,
                push,
                health,
                needs,
            }
        })
}

fn vm(
    index: usize,
    hosts: &[Name],
    caches: &[Name],
    needs: BoxedStrategy<Vec<ResourceId>>,
) -> impl Strategy<Value = VmSpec> + use<> {
    let hypervisor = select(&[Hypervisor::Qemu, Hypervisor::CloudHypervisor, Hypervisor::Firecracker]);
    let volumes =
        btree_map(name(), (size(1..=1_048_576), "/(var/lib|srv|data)/[a-z]{0,8}"), 0..3).prop_map(|volumes| {
            volumes.into_iter().map(|(name, (size, mount))| Volume { name, size, mount }).collect::<Vec<_>>()
        });
    // The VM's index makes its MAC addresses unique on any host.
    let interfaces =
        vec((select(&["tap", "user", "bridge", "macvtap"]), "[a-z0-9-]{1,12}"), 0..3).prop_map(move |kinds| {
            kinds
                .into_iter()
                .enumerate()
                .map(|(number, (kind, id))| Interface {
                    interface_type: kind.to_owned(),
                    id,
                    mac: format!("02:00:00:00:{index:02x}:{number:02x}"),
                })
                .collect::<Vec<_>>()
        });
    (
        (select(hosts.to_vec()), hypervisor, 1..=MAX_VM_VCPUS, size(1..=MAX_VM_MEMORY_MIB)),
        nixos(),
        volumes,
        interfaces,
        select(&[VmState::Running, VmState::Stopped]),
        some_of(caches.to_vec(), 2),
        health(),
        needs,
    )
        .prop_map(|((host, hypervisor, vcpus, memory), nixos, volumes, interfaces, state, push, health, needs)| {
            VmSpec { host, hypervisor, vcpus, memory, nixos, volumes, interfaces, state, push, health, needs }
        })
}

fn container(
    hosts: &[Name],
    caches: &[Name],
    needs: BoxedStrategy<Vec<ResourceId>>,
) -> impl Strategy<Value = ContainerSpec> + use<> {
    (select(hosts.to_vec()), nixos(), some_of(caches.to_vec(), 2), health(), needs)
        .prop_map(|(host, nixos, push, health, needs)| ContainerSpec { host, nixos, push, health, needs })
}

/// A value for a service's `settings`: what both TOML and YAML can hold (no null, no floats).
fn setting() -> impl Strategy<Value = serde_json::Value> {
    let scalar = prop_oneof![
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        text().prop_map(serde_json::Value::from),
    ];
    scalar.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(serde_json::Value::Array),
            btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|fields| serde_json::Value::Object(fields.into_iter().collect())),
        ]
    })
}

fn service(
    machines: &[ResourceId],
    needs: BoxedStrategy<Vec<ResourceId>>,
) -> impl Strategy<Value = ServiceSpec> + use<> {
    (
        (select(SERVICE_TYPES), select(machines.to_vec()), option::of(any::<u16>()), option::of(any::<bool>())),
        btree_map("[a-z_]{1,12}", secret(), 0..3),
        btree_map("[a-z_]{1,12}", setting(), 0..3),
        health(),
        needs,
    )
        .prop_map(|((service_type, runs_on, port, jetstream), secrets, settings, health, needs)| ServiceSpec {
            service_type: service_type.to_owned(),
            runs_on,
            port,
            jetstream,
            secrets,
            settings,
            health,
            needs,
        })
}
