//! [`Document`](crate::config::Document) → [`Spec`]: resources with addresses and dependencies,
//! and every check that needs more than one field or more than one resource.
//!
//! All problems are collected and returned together, each at the position of the value at fault
//! (found through the loaded tree). Checks: the format version, references and `needs` to
//! declared resources, how hosts are reached, `ssh` and key shapes, cache kinds, placements,
//! health checks, provisioning commands, VM volumes and MAC addresses, and host capacity.
//! Dependency cycles are not checked here; `graph` does that.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{Key, LoadedFile, Node, NodeValue, StateBackendKind, suggest};
use crate::diagnostic::{self, Diagnostic, Location, Position};
use crate::model::{Name, Resource, ResourceId, ResourceKind, ResourceSpec, Spec};

mod checks;

/// The only format version this rave reads.
const FORMAT_VERSION: u32 = 1;

/// Most "did you mean" suggestions computed for one file. Each compares a name with every
/// declared one; a generated file with thousands of broken references would otherwise spend
/// seconds on hints nobody reads.
const MAX_SUGGESTIONS: usize = 100;

/// Most VMs listed by name when a host's capacity is exceeded.
const MAX_LISTED_VMS: usize = 10;

/// Validates the loaded file and builds its [`Spec`], or returns every problem found. The
/// resources are moved out of the document into the spec rather than copied: the document is left
/// without them.
pub(crate) fn lower(loaded: &mut LoadedFile) -> Result<Spec, Vec<Diagnostic>> {
    let document = &mut loaded.document;
    let sections = [
        take(&mut document.caches, ResourceSpec::Cache),
        take(&mut document.builders, ResourceSpec::Builder),
        take(&mut document.builds, ResourceSpec::Build),
        take(&mut document.hosts, ResourceSpec::Host),
        take(&mut document.vms, ResourceSpec::Vm),
        take(&mut document.containers, ResourceSpec::Container),
        take(&mut document.services, ResourceSpec::Service),
    ];
    let loaded = &*loaded;
    let document = &loaded.document;
    let nodes = Nodes::of(loaded);
    let mut lowering = Lowering { loaded, nodes: &nodes, diagnostics: Vec::new(), suggestions: 0 };
    if document.version != FORMAT_VERSION {
        let position = lowering.top_position("version");
        lowering.error(
            position,
            format!("`version`: unsupported format version `{}`", document.version),
            Some(format!("this rave reads format version {FORMAT_VERSION}")),
        );
    }
    lowering.check_state();
    let resources = lowering.resources(sections);
    let spec = Spec {
        source: loaded.source.path.clone(),
        project: document.project.clone(),
        state: document.state.clone(),
        nix: document.nix.clone(),
        resources,
        moved: document.moved.clone(),
    };
    lowering.check_moved(&spec);
    lowering.check_resources(&spec);
    if lowering.diagnostics.is_empty() {
        Ok(spec)
    } else {
        lowering.diagnostics.sort_by_key(|diagnostic| diagnostic.location.position);
        Err(diagnostic::limit(lowering.diagnostics, &loaded.source.path))
    }
}

/// The resources of one section, moved out of `specs`.
fn take<T>(specs: &mut BTreeMap<Name, T>, wrap: fn(T) -> ResourceSpec) -> Vec<(Name, ResourceSpec)> {
    std::mem::take(specs).into_iter().map(|(name, spec)| (name, wrap(spec))).collect()
}

/// One step of a field path: a mapping key or a list index.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
}

/// Each resource's key and value in the tree, for positions: per kind (in [`ResourceKind::ALL`]
/// order), sorted by name.
struct Nodes<'a>(Vec<Vec<(&'a Key, &'a Node)>>);

impl<'a> Nodes<'a> {
    /// The key and value of every resource in the tree of `loaded`, sorted on every core.
    fn of(loaded: &'a LoadedFile) -> Self {
        let by_kind = ResourceKind::ALL.map(|kind| match loaded.tree.get(kind.section()) {
            Some(Node { value: NodeValue::Mapping(entries), .. }) => {
                let mut nodes: Vec<(&Key, &Node)> = entries.iter().map(|(key, value)| (key, value)).collect();
                nodes.par_sort_unstable_by(|(left, _), (right, _)| left.text.cmp(&right.text));
                nodes
            }
            _ => Vec::new(),
        });
        Self(by_kind.into())
    }

    /// The key and value of resource `name` of `kind`.
    fn get(&self, kind: ResourceKind, name: &str) -> Option<(&'a Key, &'a Node)> {
        let nodes = &self.0[ResourceKind::ALL.iter().position(|candidate| *candidate == kind)?];
        let index = nodes.binary_search_by(|(key, _)| key.text.as_str().cmp(name)).ok()?;
        Some(nodes[index])
    }
}

struct Lowering<'a> {
    loaded: &'a LoadedFile,
    nodes: &'a Nodes<'a>,
    diagnostics: Vec<Diagnostic>,
    suggestions: usize,
}

impl Lowering<'_> {
    /// A lowering of the same file with no problems found yet, for checks run on their own.
    fn fresh(&self) -> Self {
        Self { loaded: self.loaded, nodes: self.nodes, diagnostics: Vec::new(), suggestions: 0 }
    }

    fn error(&mut self, position: Position, message: String, hint: Option<String>) {
        let diagnostic = Diagnostic::error(Location::at(&self.loaded.source.path, position), message);
        self.diagnostics.push(match hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        });
    }

    /// Where a top-level field's value is, or the top of the file.
    fn top_position(&self, field: &str) -> Position {
        self.loaded.tree.get(field).map_or(self.loaded.tree.position, |node| node.position)
    }

    /// "did you mean" for `word` among `candidates`, while the budget lasts.
    fn suggest<'c>(&mut self, word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
        if self.suggestions >= MAX_SUGGESTIONS {
            return None;
        }
        self.suggestions += 1;
        suggest::closest(word, candidates)
    }

    /// Every declared resource with its address, dependencies and position, from the specs of
    /// each section in [`ResourceKind::ALL`] order.
    fn resources(
        &self,
        sections: [Vec<(Name, ResourceSpec)>; ResourceKind::ALL.len()],
    ) -> BTreeMap<ResourceId, Resource> {
        sections.into_iter().flat_map(|specs| self.section(specs)).collect()
    }

    /// The resources of one section, made on every core.
    fn section(&self, specs: Vec<(Name, ResourceSpec)>) -> Vec<(ResourceId, Resource)> {
        specs
            .into_par_iter()
            .map(|(name, spec)| {
                let id = ResourceId::new(spec.kind(), name);
                let mut dependencies: Vec<ResourceId> =
                    spec.references().into_iter().map(|(_, reference)| reference).collect();
                dependencies.extend(spec.needs().iter().cloned());
                dependencies.sort();
                dependencies.dedup();
                let position = self
                    .nodes
                    .get(id.kind, id.name.as_str())
                    .map_or(self.loaded.tree.position, |(key, _)| key.position);
                let resource = Resource { id: id.clone(), spec: Arc::new(spec), dependencies, position };
                (id, resource)
            })
            .collect()
    }

    /// The field path and position of `steps` below resource `id`: as deep as the tree goes,
    /// with list indexes only where the file wrote a list (a single health check has none).
    fn locate(&self, id: &ResourceId, steps: &[Step<'_>]) -> (String, Position) {
        let mut path = format!("{}.{}", id.kind.section(), id.name);
        let Some((key, node)) = self.nodes.get(id.kind, id.name.as_str()) else {
            return (path, self.loaded.tree.position);
        };
        let mut position = key.position;
        let mut current = Some(node);
        for step in steps {
            match step {
                Step::Field(field) => {
                    path.push('.');
                    path.push_str(field);
                    current = current.and_then(|node| node.get(field));
                }
                // One item written without a list has no index.
                Step::Index(index) => {
                    if let Some(NodeValue::Sequence(items)) = current.map(|node| &node.value) {
                        path = format!("{path}[{index}]");
                        current = items.get(*index);
                    }
                }
            }
            if let Some(node) = current {
                position = node.position;
            }
        }
        (path, position)
    }

    /// An error at `steps` below `id`, the message prefixed with the field path.
    fn error_at(&mut self, id: &ResourceId, steps: &[Step<'_>], message: &str, hint: Option<String>) {
        let (path, position) = self.locate(id, steps);
        self.error(position, format!("`{path}`: {message}"), hint);
    }

    fn check_state(&mut self) {
        let state = &self.loaded.document.state;
        match (state.backend, &state.url) {
            (StateBackendKind::Postgres, None) => {
                let position = self.top_position("state");
                self.error(
                    position,
                    "`state`: the `postgres` backend needs `url`".to_owned(),
                    Some("add `url: env:RAVE_PG_URL` and set that variable".to_owned()),
                );
            }
            (StateBackendKind::Local, Some(_)) => {
                let position = self
                    .loaded
                    .tree
                    .get_path(&["state", "url"])
                    .map_or(self.top_position("state"), |node| node.position);
                self.error(
                    position,
                    "`state.url`: only the `postgres` backend takes `url`".to_owned(),
                    Some("add `backend: postgres`, or remove `url`".to_owned()),
                );
            }
            _ => {}
        }
    }

    /// Each rename in `moved:` goes from an address the file no longer declares to one it does,
    /// of the same kind, and no address is moved away twice.
    fn check_moved(&mut self, spec: &Spec) {
        let entries = match self.loaded.tree.get("moved").map(|node| &node.value) {
            Some(NodeValue::Sequence(entries)) => entries.iter().map(|node| node.position).collect(),
            _ => Vec::new(),
        };
        let mut seen = std::collections::BTreeSet::new();
        for (index, moved) in spec.moved.iter().enumerate() {
            let position = entries.get(index).copied().unwrap_or_else(|| self.top_position("moved"));
            let field = format!("`moved[{index}]`");
            let problem = if moved.from.kind != moved.to.kind {
                Some((
                    format!("{field}: `{}` and `{}` are different kinds", moved.from, moved.to),
                    "a rename keeps the kind; to change kinds, let the plan destroy and create".to_owned(),
                ))
            } else if spec.resources.contains_key(&moved.from) {
                Some((
                    format!("{field}: `{}` is still declared in the file", moved.from),
                    format!("rename its declaration to `{}`, or remove this entry", moved.to.name),
                ))
            } else if !spec.resources.contains_key(&moved.to) {
                Some((
                    format!("{field}: `{}` is not declared in the file", moved.to),
                    "a move must end at a resource the file declares".to_owned(),
                ))
            } else if !seen.insert(&moved.from) {
                Some((format!("{field}: `{}` is moved more than once", moved.from), "keep one entry".to_owned()))
            } else {
                None
            };
            if let Some((message, hint)) = problem {
                self.error(position, message, Some(hint));
            }
        }
    }

    /// The checks of each resource, then those across resources (capacity, MAC addresses).
    ///
    /// Nearly every file passes them: each resource is checked on its own on every core, beside
    /// the checks across resources, each into a report of its own. Only when one of them finds a
    /// problem is everything checked again, in order, so that the problems and the file's budget
    /// of suggestions come exactly as one pass in order gives them.
    fn check_resources(&mut self, spec: &Spec) {
        let is_clean = |lowering: Lowering<'_>| lowering.diagnostics.is_empty();
        let (resources_pass, across_pass) = rayon::join(
            || {
                spec.resources.par_iter().all(|(_, resource)| {
                    let mut alone = self.fresh();
                    alone.check_resource(spec, resource);
                    is_clean(alone)
                })
            },
            || {
                let mut alone = self.fresh();
                alone.check_capacity(spec);
                alone.check_mac_addresses(spec);
                is_clean(alone)
            },
        );
        if resources_pass && across_pass {
            return;
        }
        for resource in spec.resources.values() {
            self.check_resource(spec, resource);
        }
        self.check_capacity(spec);
        self.check_mac_addresses(spec);
    }

    fn check_resource(&mut self, spec: &Spec, resource: &Resource) {
        self.check_references(spec, resource);
        self.check_needs(spec, resource);
        let id = &resource.id;
        match &*resource.spec {
            ResourceSpec::Cache(cache) => self.check_cache(id, cache),
            ResourceSpec::Builder(builder) => self.check_builder(id, builder),
            ResourceSpec::Build(_) => {}
            ResourceSpec::Host(host) => {
                self.check_host(id, host);
                self.check_health(id, &host.health);
            }
            ResourceSpec::Vm(vm) => {
                self.check_volumes(id, vm);
                self.check_health(id, &vm.health);
            }
            ResourceSpec::Container(container) => self.check_health(id, &container.health),
            ResourceSpec::Service(service) => {
                if !matches!(service.runs_on.kind, ResourceKind::Host | ResourceKind::Vm | ResourceKind::Container) {
                    self.error_at(
                        id,
                        &[Step::Field("runs_on")],
                        &format!(
                            "a service runs on a host, vm or container, not on {} `{}`",
                            article(service.runs_on.kind),
                            service.runs_on
                        ),
                        Some("write `host.NAME`, `vm.NAME` or `container.NAME`".to_owned()),
                    );
                }
                self.check_health(id, &service.health);
            }
        }
    }

    /// References by field (`host`, `runs_on`, `builders`, `push`) name declared resources.
    fn check_references(&mut self, spec: &Spec, resource: &Resource) {
        let references = resource.spec.references();
        for (position, (field, reference)) in references.iter().enumerate() {
            if spec.resources.contains_key(reference) {
                continue;
            }
            // References come field by field, each list in order: the n-th of a field is its
            // n-th item.
            let index = references[..position].iter().filter(|(earlier, _)| earlier == field).count();
            let steps = [Step::Field(field), Step::Index(index)];
            let suggestion = self
                .suggest(
                    reference.name.as_str(),
                    spec.resources.keys().filter(|id| id.kind == reference.kind).map(|id| id.name.as_str()),
                )
                .map(|name| format!(" (did you mean `{name}`?)"))
                .unwrap_or_default();
            let message = format!("{} `{}` is not declared{suggestion}", reference.kind, reference.name);
            let hint = format!("declare it under `{}:`, or fix the name", reference.kind.section());
            self.error_at(&resource.id, &steps, &message, Some(hint));
        }
    }

    /// `needs` names declared resources, other than the resource itself.
    fn check_needs(&mut self, spec: &Spec, resource: &Resource) {
        for (index, need) in resource.spec.needs().iter().enumerate() {
            let steps = [Step::Field("needs"), Step::Index(index)];
            if *need == resource.id {
                self.error_at(&resource.id, &steps, "a resource cannot need itself", None);
            } else if !spec.resources.contains_key(need) {
                let suggestion = self.suggest_address(spec, need);
                let message = format!(
                    "`{need}` is not declared{}",
                    suggestion.map(|address| format!(" (did you mean `{address}`?)")).unwrap_or_default()
                );
                self.error_at(&resource.id, &steps, &message, None);
            }
        }
    }

    /// The same name under another kind, else the nearest name of the same kind.
    fn suggest_address(&mut self, spec: &Spec, address: &ResourceId) -> Option<ResourceId> {
        if let Some(other) = ResourceKind::ALL
            .into_iter()
            .map(|kind| ResourceId::new(kind, address.name.clone()))
            .find(|candidate| spec.resources.contains_key(candidate))
        {
            return Some(other);
        }
        let names = spec.resources.keys().filter(|id| id.kind == address.kind).map(|id| id.name.as_str());
        let name = self.suggest(address.name.as_str(), names)?;
        Name::new(name).ok().map(|name| ResourceId::new(address.kind, name))
    }
}

/// The kind with its article, for messages: "not on a cache `cache.x`".
fn article(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Cache => "a cache",
        ResourceKind::Builder => "a builder",
        ResourceKind::Build => "a build",
        ResourceKind::Host => "a host",
        ResourceKind::Vm => "a vm",
        ResourceKind::Container => "a container",
        ResourceKind::Service => "a service",
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::config::{Format, SourceFile, load_source};

    const HEADER: &str = "version: 1\nproject: lab\n";

    fn lower_yaml(body: &str) -> Result<Spec, Vec<Diagnostic>> {
        let text = format!("{HEADER}{body}");
        let mut loaded = load_source(SourceFile::new("rave.yaml", text), Format::Yaml)
            .unwrap_or_else(|diagnostics| panic!("{diagnostics:#?}"));
        lower(&mut loaded)
    }

    /// Every problem as `line:column message [hint]`, lines counted in the whole file.
    fn problems(body: &str) -> Vec<String> {
        lower_yaml(body)
            .unwrap_err()
            .into_iter()
            .map(|diagnostic| {
                let position = diagnostic.location.position.unwrap();
                let hint = diagnostic.hint.map(|hint| format!(" [{hint}]")).unwrap_or_default();
                format!("{}:{} {}{hint}", position.line, position.column, diagnostic.message)
            })
            .collect()
    }

    fn id(address: &str) -> ResourceId {
        address.parse().unwrap()
    }

    /// The spec with what differs between twin files (the path, positions) blanked out.
    fn without_origin(mut spec: Spec) -> Spec {
        spec.source = std::path::PathBuf::new();
        for resource in spec.resources.values_mut() {
            resource.position = Position::default();
        }
        spec
    }

    #[test]
    fn the_lab_examples_are_valid_twins() {
        let lab = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lab");
        let read = |name: &str| {
            let mut loaded = crate::config::load(&lab.join(name)).unwrap_or_else(|(errors, _)| panic!("{errors:#?}"));
            lower(&mut loaded).unwrap_or_else(|errors| panic!("{errors:#?}"))
        };
        let (yaml, toml) = (read("rave.yaml"), read("rave.toml"));
        assert_eq!(yaml.resources.len(), 13);
        assert_ne!(yaml.resources[&id("vm.gitlab")].position, toml.resources[&id("vm.gitlab")].position);
        assert_eq!(without_origin(yaml), without_origin(toml));
    }

    /// A generated file of `hosts` hosts, each with VMs and services, 10,000 resources in all
    /// for `hosts = 100`.
    fn generated(hosts: usize) -> String {
        let mut text = String::from("version: 1\nproject: big\ncaches:\n  c: {type: cachix, name: big}\nhosts:\n");
        for host in 0..hosts {
            writeln!(
                text,
                "  h{host}:\n    ssh: root@192.0.2.{}\n    host_key: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{host:08}\"\n    capacity: {{ vcpus: 64, memory: 256GiB }}\n    push: [c]",
                host % 250 + 1
            ).unwrap();
        }
        text.push_str("vms:\n");
        for vm in 0..hosts * 33 {
            writeln!(
                text,
                "  v{vm}: {{ host: h{}, vcpus: 1, memory: 2GiB, push: [c], interfaces: [{{ type: tap, id: t{vm}, mac: \"02:00:00:{:02x}:{:02x}:{:02x}\" }}] }}",
                vm % hosts, vm >> 16 & 0xff, vm >> 8 & 0xff, vm & 0xff
            ).unwrap();
        }
        text.push_str("services:\n");
        for service in 0..hosts * 66 - 1 {
            writeln!(
                text,
                "  s{service}:\n    type: nats\n    runs_on: vm.v{}\n    port: 4222\n    needs: [host.h{}]\n    health: {{ tcp: \"192.0.2.1:4222\", timeout: 30s }}",
                service % (hosts * 33), service % hosts
            ).unwrap();
        }
        text
    }

    #[test]
    fn ten_thousand_resources_load() {
        let text = generated(100);
        let mut loaded = load_source(SourceFile::new("rave.yaml", text), Format::Yaml).unwrap();
        let spec = lower(&mut loaded).unwrap();
        assert_eq!(spec.resources.len(), 10_000);
    }

    #[test]
    fn problems_in_a_large_file_come_in_order_with_the_first_suggestions() {
        // A host over capacity, and 150 services on VMs that do not exist: found by the checks on
        // every core, reported by the ordered pass, whose budget gives a suggestion to the first
        // 100 resources in address order.
        let text = generated(100).replacen("vcpus: 64, memory: 256GiB", "vcpus: 1, memory: 1GiB", 1);
        let mut body = text.split_once("project: big\n").unwrap().1.to_owned();
        for service in 0..150 {
            writeln!(body, "  broken{service}: {{ type: nats, runs_on: vm.v{service}x }}").unwrap();
        }
        let found = problems(&body);
        assert_eq!(found.len(), 151, "{found:#?}");
        assert!(found[0].contains("`hosts.h0.capacity`: the VMs placed on `host.h0` need 33 vcpus"), "{}", found[0]);
        let lines: Vec<u32> = found.iter().map(|problem| problem.split(':').next().unwrap().parse().unwrap()).collect();
        assert!(lines.is_sorted(), "{lines:?}");
        let mut names: Vec<String> = (0..150).map(|service| format!("broken{service}")).collect();
        names.sort();
        let mut suggested: Vec<&str> = found
            .iter()
            .filter(|problem| problem.contains("(did you mean"))
            .filter_map(|problem| problem.split("`services.").nth(1)?.split(".runs_on`").next())
            .collect();
        suggested.sort_unstable();
        assert_eq!(suggested, names[..100]);
    }

    #[test]
    fn resources_get_addresses_dependencies_and_positions() {
        let spec = lower_yaml(
            "caches:\n  c: {type: cachix, name: c}\nhosts:\n  h: {local: true, push: [c, c]}\nvms:\n  v: {host: h, push: [c], needs: [host.h]}\n\
             services:\n  s: {type: nats, runs_on: vm.v, needs: [cache.c]}\n",
        )
        .unwrap();
        let addresses: Vec<String> = spec.resources.keys().map(ToString::to_string).collect();
        assert_eq!(addresses, ["cache.c", "host.h", "vm.v", "service.s"]);
        let vm = &spec.resources[&id("vm.v")];
        assert_eq!(vm.dependencies, [id("cache.c"), id("host.h")]);
        assert_eq!(vm.position, Position { line: 8, column: 3 });
        assert_eq!(spec.resources[&id("host.h")].dependencies, [id("cache.c")]);
        assert_eq!(spec.resources[&id("service.s")].dependencies, [id("cache.c"), id("vm.v")]);
        assert_eq!(spec.source, std::path::PathBuf::from("rave.yaml"));
    }

    #[test]
    fn only_format_version_1_is_read() {
        let mut loaded = load_source(SourceFile::new("rave.yaml", "version: 2\nproject: a\n"), Format::Yaml).unwrap();
        let diagnostics = lower(&mut loaded).unwrap_err();
        assert_eq!(diagnostics[0].message, "`version`: unsupported format version `2`");
        assert_eq!(diagnostics[0].location.to_string(), "rave.yaml:1:10");
    }

    #[test]
    fn references_name_declared_resources() {
        assert_eq!(
            problems(
                "hosts:\n  shoshin: {local: true}\nvms:\n  gitlab: {host: shoshn}\n\
                 builds:\n  b: {attr: x, builders: [nope], push: [shoshin]}\n\
                 services:\n  s: {type: t, runs_on: vm.gitlab}\n  t: {type: t, runs_on: vm.gitlb}\n"
            ),
            [
                "6:18 `vms.gitlab.host`: host `shoshn` is not declared (did you mean `shoshin`?) [declare it under `hosts:`, or fix the name]",
                "8:27 `builds.b.builders[0]`: builder `nope` is not declared [declare it under `builders:`, or fix the name]",
                "8:41 `builds.b.push[0]`: cache `shoshin` is not declared [declare it under `caches:`, or fix the name]",
                "11:25 `services.t.runs_on`: vm `gitlb` is not declared (did you mean `gitlab`?) [declare it under `vms:`, or fix the name]",
            ]
        );
    }

    #[test]
    fn needs_name_other_declared_resources() {
        assert_eq!(
            problems(
                "hosts:\n  h: {local: true, needs: [host.h, vm.postgres, service.postgress]}\n\
                 services:\n  postgres: {type: postgresql, runs_on: host.h}\n"
            ),
            [
                "4:28 `hosts.h.needs[0]`: a resource cannot need itself",
                "4:36 `hosts.h.needs[1]`: `vm.postgres` is not declared (did you mean `service.postgres`?)",
                "4:49 `hosts.h.needs[2]`: `service.postgress` is not declared (did you mean `service.postgres`?)",
            ]
        );
    }

    #[test]
    fn hosts_are_reached_one_way() {
        assert_eq!(
            problems(
                "hosts:\n  a: {system: x86_64-linux}\n  b: {local: true, ssh: root@b}\n  c: {ssh: root@c}\n  d: {host_key: ssh-ed25519 AAAA}\n\
                 \x20 e: {ssh: nobody, host_key: ssh-ed25519 AAAA}\n  f: {ssh: r@f, host_key: hunter2, ssh_key: env:KEY}\n"
            ),
            [
                "4:3 `hosts.a`: say how to reach this host: `ssh` and `host_key`, or `local: true`",
                "5:14 `hosts.b.local`: a host is either `local: true` or reached over `ssh`, not both [remove `local: true`, or remove the SSH settings]",
                "6:12 `hosts.c.ssh`: `ssh` needs a pinned `host_key` [add the host's public key, `host_key: \"ssh-ed25519 AAAA…\"` (see `ssh-keyscan`); rave never trusts a key on first use]",
                "7:17 `hosts.d.host_key`: `host_key` without `ssh` [add `ssh: user@host`, or remove `host_key`]",
                "8:12 `hosts.e.ssh`: `nobody` is not `user@host` [write it like `root@192.0.2.2`; the port goes in `port`]",
                "9:27 `hosts.f.host_key`: this is not an SSH public key like `ssh-ed25519 AAAA…` [copy the key from `ssh-keyscan HOST` or the host's `/etc/ssh/ssh_host_ed25519_key.pub`]",
                "9:45 `hosts.f.ssh_key`: an SSH key is a `file:` reference [write `ssh_key: file:PATH`, relative to this file]",
            ]
        );
    }

    #[test]
    fn caches_have_what_their_type_needs() {
        assert_eq!(
            problems("caches:\n  a: {type: cachix}\n  b: {type: nix-store, name: b}\n"),
            [
                "4:3 `caches.a`: a `cachix` cache needs `name` [add `name: CACHE`, the part before `.cachix.org`]",
                "5:3 `caches.b`: a `nix-store` cache needs `uri` [add a store URI like `file:///var/cache/rave` or `ssh://user@host`]",
                "5:30 `caches.b.name`: only `cachix` caches take `name` [a `nix-store` cache is reached with `uri`]",
            ]
        );
    }

    #[test]
    fn services_run_on_machines() {
        assert_eq!(
            problems("caches:\n  c: {type: cachix, name: c}\nservices:\n  s: {type: t, runs_on: cache.c}\n"),
            [
                "6:25 `services.s.runs_on`: a service runs on a host, vm or container, not on a cache `cache.c` [write `host.NAME`, `vm.NAME` or `container.NAME`]"
            ]
        );
    }

    #[test]
    fn health_checks_are_one_kind_each() {
        assert_eq!(
            problems(
                "hosts:\n  h:\n    local: true\n    health:\n      - {timeout: 5s}\n      - {http: 'http://x', tcp: 'x:1'}\n\
                 \x20     - {tcp: x, expect: 200}\n      - {command: []}\nservices:\n  s: {type: t, runs_on: host.h, health: {body: ok, command: [echo]}}\n"
            ),
            [
                "7:9 `hosts.h.health[0]`: a health check has exactly one of `http`, `tcp` or `command`, this one has none [write one check per item of a list: `health: [{ http: … }, { tcp: … }]`]",
                "8:9 `hosts.h.health[1]`: a health check has exactly one of `http`, `tcp` or `command`, this one has `http` and `tcp` [write one check per item of a list: `health: [{ http: … }, { tcp: … }]`]",
                "9:15 `hosts.h.health[2].tcp`: `x` is not `host:port` [write it like `192.0.2.2:4222`]",
                "9:26 `hosts.h.health[2].expect`: `expect` applies only to `http` checks",
                "10:19 `hosts.h.health[3].command`: the command is empty [give the program and its arguments, like `[systemctl, is-system-running]`]",
                "12:48 `services.s.health.body`: `body` applies only to `http` checks",
            ]
        );
    }

    #[test]
    fn provisioning_commands_are_not_empty() {
        assert_eq!(
            problems(
                "builders:\n  b:\n    ssh: root@b\n    host_key: ssh-ed25519 AAAA\n    provision: {create: [], destroy: [tofu, destroy]}\n"
            ),
            [
                "7:25 `builders.b.provision.create`: the command is empty [give the program and its arguments, like `[terraform, apply, -auto-approve]`]"
            ]
        );
    }

    #[test]
    fn vm_volumes_and_interfaces_are_checked() {
        assert_eq!(
            problems(
                "hosts:\n  h: {local: true}\nvms:\n  a:\n    host: h\n    volumes:\n      - {name: data, size: 1GiB, mount: /a}\n      - {name: data, size: 1GiB, mount: /b}\n\
                 \x20   interfaces: [{type: tap, id: a, mac: '02:00:00:00:00:0g'}, {type: tap, id: b, mac: '02:00:00:00:00:01'}]\n\
                 \x20 b: {host: h, interfaces: [{type: tap, id: c, mac: '02:00:00:00:00:01'}]}\n"
            ),
            [
                "10:16 `vms.a.volumes[1].name`: volume `data` is declared twice, first on line 9 [give each volume its own name]",
                "11:42 `vms.a.interfaces[0].mac`: `02:00:00:00:00:0g` is not a MAC address [write six pairs of hex digits, like `02:00:00:00:00:01`]",
                "12:53 `vms.b.interfaces[0].mac`: MAC address `02:00:00:00:00:01` is also used by `vm.a` on the same host",
            ]
        );
    }

    #[test]
    fn vms_on_different_hosts_may_share_a_mac_address() {
        let interface = "interfaces: [{type: tap, id: t, mac: '02:00:00:00:00:01'}]";
        assert!(
            lower_yaml(&format!(
                "hosts:\n  a: {{local: true}}\n  b: {{ssh: r@b, host_key: ssh-ed25519 AAAA}}\n\
                 vms:\n  x: {{host: a, {interface}}}\n  y: {{host: b, {interface}}}\n"
            ))
            .is_ok()
        );
    }

    #[test]
    fn host_capacity_must_hold_its_vms() {
        assert_eq!(
            problems(
                "hosts:\n  h: {local: true, capacity: {vcpus: 4, memory: 8GiB}}\n  free: {local: true}\n\
                 vms:\n  a: {host: h, vcpus: 2, memory: 4GiB}\n  b: {host: h, vcpus: 4, memory: 1GiB}\n  c: {host: free, vcpus: 64}\n"
            ),
            [
                "4:30 `hosts.h.capacity`: the VMs placed on `host.h` need 6 vcpus and 5GiB, more than its capacity of 4 vcpus and 8GiB [VMs on it: `vm.a` (2 vcpus, 4GiB), `vm.b` (4 vcpus, 1GiB); raise its capacity or move a VM to another host]"
            ]
        );
        assert!(lower_yaml("hosts:\n  h: {local: true, capacity: {vcpus: 6, memory: 5GiB}}\nvms:\n  a: {host: h, vcpus: 2, memory: 4GiB}\n  b: {host: h, vcpus: 4, memory: 1GiB}\n").is_ok());
    }

    #[test]
    fn state_backends_get_what_they_need() {
        assert_eq!(
            problems("state: {backend: postgres}\n"),
            ["3:8 `state`: the `postgres` backend needs `url` [add `url: env:RAVE_PG_URL` and set that variable]"]
        );
        assert_eq!(
            problems("state: {url: env:X}\n"),
            ["3:14 `state.url`: only the `postgres` backend takes `url` [add `backend: postgres`, or remove `url`]"]
        );
    }
}
