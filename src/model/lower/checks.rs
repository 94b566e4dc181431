//! The checks of one resource kind at a time (caches, builders, hosts, VMs, health checks), and
//! the two that look across VMs (MAC addresses, host capacity). Reporting and positions are the
//! parent module's.

use std::collections::{BTreeMap, HashMap};

use super::{Lowering, MAX_LISTED_VMS, Step};
use crate::model::{
    BuilderSpec, CacheSpec, CacheType, HealthChecks, HostSpec, Name, ResourceId, ResourceKind, ResourceSpec, SecretRef,
    Size, Spec, VmSpec,
};

impl Lowering<'_> {
    /// A cache has what its type needs, and nothing the other type takes.
    pub(super) fn check_cache(&mut self, id: &ResourceId, cache: &CacheSpec) {
        match cache.cache_type {
            CacheType::Cachix => {
                if cache.name.is_none() {
                    self.error_at(
                        id,
                        &[],
                        "a `cachix` cache needs `name`",
                        Some("add `name: CACHE`, the part before `.cachix.org`".to_owned()),
                    );
                }
                if cache.uri.is_some() {
                    self.error_at(
                        id,
                        &[Step::Field("uri")],
                        "only `nix-store` caches take `uri`",
                        Some("a `cachix` cache is named with `name`".to_owned()),
                    );
                }
            }
            CacheType::NixStore => {
                if cache.uri.is_none() {
                    self.error_at(
                        id,
                        &[],
                        "a `nix-store` cache needs `uri`",
                        Some("add a store URI like `file:///var/cache/rave` or `ssh://user@host`".to_owned()),
                    );
                }
                if cache.name.is_some() {
                    self.error_at(
                        id,
                        &[Step::Field("name")],
                        "only `cachix` caches take `name`",
                        Some("a `nix-store` cache is reached with `uri`".to_owned()),
                    );
                }
            }
        }
    }

    /// A builder's SSH settings and provisioning commands are well formed.
    pub(super) fn check_builder(&mut self, id: &ResourceId, builder: &BuilderSpec) {
        self.check_ssh(id, &builder.ssh);
        self.check_host_key(id, &builder.host_key);
        self.check_ssh_key(id, builder.ssh_key.as_ref());
        if let Some(provision) = &builder.provision {
            for (field, command) in [("create", &provision.create), ("destroy", &provision.destroy)] {
                if command.first().is_none_or(String::is_empty) {
                    self.error_at(
                        id,
                        &[Step::Field("provision"), Step::Field(field)],
                        "the command is empty",
                        Some("give the program and its arguments, like `[terraform, apply, -auto-approve]`".to_owned()),
                    );
                }
            }
        }
    }

    /// A host is reached one way: `local: true`, or `ssh` with a pinned `host_key`.
    pub(super) fn check_host(&mut self, id: &ResourceId, host: &HostSpec) {
        let reached_over_ssh = host.ssh.is_some() || host.host_key.is_some();
        if host.local && (reached_over_ssh || host.port.is_some() || host.ssh_key.is_some()) {
            self.error_at(
                id,
                &[Step::Field("local")],
                "a host is either `local: true` or reached over `ssh`, not both",
                Some("remove `local: true`, or remove the SSH settings".to_owned()),
            );
        } else if !host.local {
            match (&host.ssh, &host.host_key) {
                (None, None) => self.error_at(
                    id,
                    &[],
                    "say how to reach this host: `ssh` and `host_key`, or `local: true`",
                    None,
                ),
                (Some(_), None) => self.error_at(
                    id,
                    &[Step::Field("ssh")],
                    "`ssh` needs a pinned `host_key`",
                    Some(
                        "add the host's public key, `host_key: \"ssh-ed25519 AAAA…\"` (see `ssh-keyscan`); rave never trusts a key on first use"
                            .to_owned(),
                    ),
                ),
                (None, Some(_)) => self.error_at(
                    id,
                    &[Step::Field("host_key")],
                    "`host_key` without `ssh`",
                    Some("add `ssh: user@host`, or remove `host_key`".to_owned()),
                ),
                (Some(ssh), Some(host_key)) => {
                    self.check_ssh(id, ssh);
                    self.check_host_key(id, host_key);
                }
            }
        }
        self.check_ssh_key(id, host.ssh_key.as_ref());
    }

    /// `ssh` is `user@host`.
    fn check_ssh(&mut self, id: &ResourceId, ssh: &str) {
        let is_valid = ssh.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && !host.is_empty() && !host.contains('@') && !ssh.contains(char::is_whitespace)
        });
        if !is_valid {
            self.error_at(
                id,
                &[Step::Field("ssh")],
                &format!("`{ssh}` is not `user@host`"),
                Some("write it like `root@192.0.2.2`; the port goes in `port`".to_owned()),
            );
        }
    }

    /// A host key is an OpenSSH public key line: a type and the key.
    fn check_host_key(&mut self, id: &ResourceId, host_key: &str) {
        let mut words = host_key.split_whitespace();
        let is_valid = words.next().is_some_and(|kind| kind.starts_with("ssh-") || kind.starts_with("ecdsa-"))
            && words.next().is_some();
        if !is_valid {
            self.error_at(
                id,
                &[Step::Field("host_key")],
                "this is not an SSH public key like `ssh-ed25519 AAAA…`",
                Some(
                    "copy the key from `ssh-keyscan HOST` or the host's `/etc/ssh/ssh_host_ed25519_key.pub`".to_owned(),
                ),
            );
        }
    }

    /// An SSH private key is read from a file, never from the environment.
    fn check_ssh_key(&mut self, id: &ResourceId, ssh_key: Option<&SecretRef>) {
        if let Some(SecretRef::Env(_)) = ssh_key {
            self.error_at(
                id,
                &[Step::Field("ssh_key")],
                "an SSH key is a `file:` reference",
                Some("write `ssh_key: file:PATH`, relative to this file".to_owned()),
            );
        }
    }

    /// Each health check is exactly one kind, with only the options of its kind.
    pub(super) fn check_health(&mut self, id: &ResourceId, health: &HealthChecks) {
        for (index, check) in health.0.iter().enumerate() {
            let at = [Step::Field("health"), Step::Index(index)];
            let kinds =
                [("http", check.http.is_some()), ("tcp", check.tcp.is_some()), ("command", check.command.is_some())];
            let present: Vec<&str> = kinds.iter().filter(|(_, is_set)| *is_set).map(|(name, _)| *name).collect();
            if present.len() != 1 {
                let found = if present.is_empty() {
                    "none".to_owned()
                } else {
                    present.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(" and ")
                };
                self.error_at(
                    id,
                    &at,
                    &format!("a health check has exactly one of `http`, `tcp` or `command`, this one has {found}"),
                    Some("write one check per item of a list: `health: [{ http: … }, { tcp: … }]`".to_owned()),
                );
            }
            if check.http.is_none() {
                for (field, is_set) in [("expect", check.expect.is_some()), ("body", check.body.is_some())] {
                    if is_set {
                        self.error_at(
                            id,
                            &[at[0], at[1], Step::Field(field)],
                            &format!("`{field}` applies only to `http` checks"),
                            None,
                        );
                    }
                }
            }
            if let Some(tcp) = &check.tcp
                && tcp.rsplit_once(':').is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
            {
                self.error_at(
                    id,
                    &[at[0], at[1], Step::Field("tcp")],
                    &format!("`{tcp}` is not `host:port`"),
                    Some("write it like `192.0.2.2:4222`".to_owned()),
                );
            }
            if check.command.as_ref().is_some_and(|command| command.first().is_none_or(String::is_empty)) {
                self.error_at(
                    id,
                    &[at[0], at[1], Step::Field("command")],
                    "the command is empty",
                    Some("give the program and its arguments, like `[systemctl, is-system-running]`".to_owned()),
                );
            }
        }
    }

    /// Volume names are unique in a VM.
    pub(super) fn check_volumes(&mut self, id: &ResourceId, vm: &VmSpec) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (index, volume) in vm.volumes.iter().enumerate() {
            if let Some(earlier) = first.get(volume.name.as_str()) {
                let (_, earlier_position) = self.locate(id, &[Step::Field("volumes"), Step::Index(*earlier)]);
                self.error_at(
                    id,
                    &[Step::Field("volumes"), Step::Index(index), Step::Field("name")],
                    &format!("volume `{}` is declared twice, first on line {}", volume.name, earlier_position.line),
                    Some("give each volume its own name".to_owned()),
                );
            } else {
                first.insert(volume.name.as_str(), index);
            }
        }
    }

    /// MAC addresses are well formed, and no two interfaces on one host share one.
    pub(super) fn check_mac_addresses(&mut self, spec: &Spec) {
        // Per host: VMs on different hosts sit on different bridges and may reuse addresses.
        let mut owners: HashMap<(&Name, String), &ResourceId> = HashMap::new();
        for resource in spec.resources.values() {
            let ResourceSpec::Vm(vm) = &*resource.spec else {
                continue;
            };
            for (index, interface) in vm.interfaces.iter().enumerate() {
                let steps = [Step::Field("interfaces"), Step::Index(index), Step::Field("mac")];
                if !is_mac_address(&interface.mac) {
                    self.error_at(
                        &resource.id,
                        &steps,
                        &format!("`{}` is not a MAC address", interface.mac),
                        Some("write six pairs of hex digits, like `02:00:00:00:00:01`".to_owned()),
                    );
                } else if let Some(owner) = owners.insert((&vm.host, interface.mac.to_ascii_lowercase()), &resource.id)
                {
                    let message = format!("MAC address `{}` is also used by `{owner}` on the same host", interface.mac);
                    self.error_at(&resource.id, &steps, &message, None);
                }
            }
        }
    }

    /// The VMs placed on a host with a declared capacity fit in it.
    pub(super) fn check_capacity(&mut self, spec: &Spec) {
        let mut placed: BTreeMap<&Name, Vec<(&ResourceId, &VmSpec)>> = BTreeMap::new();
        for resource in spec.resources.values() {
            if let ResourceSpec::Vm(vm) = &*resource.spec {
                placed.entry(&vm.host).or_default().push((&resource.id, vm));
            }
        }
        for (host_name, vms) in placed {
            let host_id = ResourceId::new(ResourceKind::Host, host_name.clone());
            let Some(ResourceSpec::Host(HostSpec { capacity: Some(capacity), .. })) =
                spec.resources.get(&host_id).map(|resource| &*resource.spec)
            else {
                continue;
            };
            let vcpus: u64 = vms.iter().map(|(_, vm)| u64::from(vm.vcpus)).sum();
            let memory: u64 = vms.iter().map(|(_, vm)| vm.memory.mebibytes()).sum();
            if vcpus <= u64::from(capacity.vcpus) && memory <= capacity.memory.mebibytes() {
                continue;
            }
            let mut listed: Vec<String> = vms
                .iter()
                .take(MAX_LISTED_VMS)
                .map(|(id, vm)| format!("`{id}` ({} vcpus, {})", vm.vcpus, vm.memory))
                .collect();
            if vms.len() > MAX_LISTED_VMS {
                listed.push(format!("and {} more", vms.len() - MAX_LISTED_VMS));
            }
            self.error_at(
                &host_id,
                &[Step::Field("capacity")],
                &format!(
                    "the VMs placed on `{host_id}` need {vcpus} vcpus and {}, more than its capacity of {} vcpus and {}",
                    Size::from_mebibytes(memory),
                    capacity.vcpus,
                    capacity.memory
                ),
                Some(format!(
                    "VMs on it: {}; raise its capacity or move a VM to another host",
                    listed.join(", ")
                )),
            );
        }
    }
}

/// Six pairs of hex digits separated by `:`.
fn is_mac_address(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 6
        && parts.iter().all(|part| part.len() == 2 && part.chars().all(|character| character.is_ascii_hexdigit()))
}
