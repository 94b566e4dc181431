//! Which resources a plan may act on: `--target`, `--exclude`, and how far `rave destroy` reaches.
//!
//! Everything outside the scope is a no-op in the plan, whatever differs. Building a plan toward
//! the configuration, a target brings what it depends on (it cannot come without them) and an
//! exclusion takes away what depends on it (it cannot come without it). Destroying runs the other
//! way: a target takes what depends on it down too, and an exclusion keeps what it depends on.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Resource, ResourceId};
use crate::state::ResourceState;

/// The addresses a plan considers, with the dependency edges that matter for its direction.
pub(super) struct Reach<'a> {
    dependencies: BTreeMap<&'a ResourceId, &'a [ResourceId]>,
    dependents: BTreeMap<&'a ResourceId, Vec<&'a ResourceId>>,
}

impl<'a> Reach<'a> {
    /// The edges of every desired and recorded resource. Building toward the configuration, a
    /// desired resource's own dependencies count, and a recorded one's only when it is going;
    /// destroying, what was recorded counts.
    pub(super) fn new(
        desired: &'a BTreeMap<ResourceId, Resource>,
        recorded: &'a BTreeMap<ResourceId, ResourceState>,
        is_destroy: bool,
    ) -> Self {
        let mut dependencies: BTreeMap<&ResourceId, &[ResourceId]> = BTreeMap::new();
        for (id, resource) in desired {
            dependencies.insert(id, &resource.dependencies);
        }
        for (id, state) in recorded {
            if is_destroy || !desired.contains_key(id) {
                dependencies.insert(id, &state.dependencies);
            }
        }
        let mut dependents: BTreeMap<&ResourceId, Vec<&ResourceId>> = BTreeMap::new();
        for (id, edges) in &dependencies {
            for dependency in *edges {
                dependents.entry(dependency).or_default().push(id);
            }
        }
        Self {
            dependencies,
            dependents,
        }
    }

    /// `start` and everything it depends on, transitively.
    fn with_dependencies(&self, start: &'a [ResourceId]) -> BTreeSet<&'a ResourceId> {
        Self::closure(start, |id| {
            self.dependencies
                .get(id)
                .into_iter()
                .flat_map(|edges| edges.iter())
                .collect()
        })
    }

    /// `start` and everything that depends on it, transitively.
    fn with_dependents(&self, start: &'a [ResourceId]) -> BTreeSet<&'a ResourceId> {
        Self::closure(start, |id| {
            self.dependents.get(id).cloned().unwrap_or_default()
        })
    }

    fn closure(
        start: &'a [ResourceId],
        next: impl Fn(&ResourceId) -> Vec<&'a ResourceId>,
    ) -> BTreeSet<&'a ResourceId> {
        let mut reached: BTreeSet<&ResourceId> = BTreeSet::new();
        let mut pending: Vec<&ResourceId> = start.iter().collect();
        while let Some(id) = pending.pop() {
            if reached.insert(id) {
                pending.extend(next(id));
            }
        }
        reached
    }

    /// The addresses the plan may act on, given `--target`s and `--exclude`s.
    pub(super) fn scope(
        &self,
        targets: &'a [ResourceId],
        excludes: &'a [ResourceId],
        is_destroy: bool,
    ) -> BTreeSet<&'a ResourceId> {
        let everything = || self.dependencies.keys().copied().collect::<BTreeSet<_>>();
        let (included, left_alone) = if is_destroy {
            let included = if targets.is_empty() {
                everything()
            } else {
                self.with_dependents(targets)
            };
            (included, self.with_dependencies(excludes))
        } else {
            let included = if targets.is_empty() {
                everything()
            } else {
                self.with_dependencies(targets)
            };
            (included, self.with_dependents(excludes))
        };
        included.difference(&left_alone).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Position;
    use crate::model::ResourceSpec;

    fn id(text: &str) -> ResourceId {
        text.parse().unwrap()
    }

    fn ids(texts: &[&str]) -> Vec<ResourceId> {
        texts.iter().map(|text| id(text)).collect()
    }

    /// host.a ← vm.b ← service.c; vm.old (recorded only) on host.a; service.d needs service.c.
    fn world() -> (
        BTreeMap<ResourceId, Resource>,
        BTreeMap<ResourceId, ResourceState>,
    ) {
        let spec: ResourceSpec = serde_json::from_value(
            serde_json::json!({"kind": "cache", "spec": {"type": "cachix"}}),
        )
        .unwrap();
        let resource = |address: &str, dependencies: &[&str]| {
            let resource = Resource {
                id: id(address),
                spec: spec.clone(),
                dependencies: ids(dependencies),
                position: Position::default(),
            };
            (id(address), resource)
        };
        let desired = [
            resource("host.a", &[]),
            resource("vm.b", &["host.a"]),
            resource("service.c", &["vm.b"]),
            resource("service.d", &["service.c"]),
        ]
        .into_iter()
        .collect();
        let state = |dependencies: &[&str]| ResourceState {
            attributes: BTreeMap::new(),
            secret_digests: BTreeMap::new(),
            outputs: BTreeMap::new(),
            dependencies: ids(dependencies),
            tainted: false,
        };
        let recorded = [
            (id("host.a"), state(&[])),
            (id("vm.b"), state(&["host.a"])),
            (id("vm.old"), state(&["host.a"])),
        ]
        .into_iter()
        .collect();
        (desired, recorded)
    }

    fn scope(targets: &[&str], excludes: &[&str], is_destroy: bool) -> Vec<String> {
        let (desired, recorded) = world();
        let reach = Reach::new(&desired, &recorded, is_destroy);
        let (targets, excludes) = (ids(targets), ids(excludes));
        reach
            .scope(&targets, &excludes, is_destroy)
            .into_iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn scopes_follow_the_direction_of_the_plan() {
        /// Targets, excludes, whether destroying, and the scope expected.
        type Case<'a> = (&'a [&'a str], &'a [&'a str], bool, &'a [&'a str]);
        let cases: &[Case<'_>] = &[
            (
                &[],
                &[],
                false,
                &["host.a", "vm.b", "vm.old", "service.c", "service.d"],
            ),
            (&["service.c"], &[], false, &["host.a", "vm.b", "service.c"]),
            (&["vm.old"], &[], false, &["host.a", "vm.old"]),
            (&[], &["vm.b"], false, &["host.a", "vm.old"]),
            (&["service.d"], &["service.c"], false, &["host.a", "vm.b"]),
            (&["vm.b"], &[], true, &["vm.b", "service.c", "service.d"]),
            (
                &["host.a"],
                &["vm.b"],
                true,
                &["vm.old", "service.c", "service.d"],
            ),
            (&[], &["service.c"], true, &["vm.old", "service.d"]),
        ];
        for (targets, excludes, is_destroy, expected) in cases {
            assert_eq!(
                scope(targets, excludes, *is_destroy),
                *expected,
                "targets {targets:?} excludes {excludes:?}"
            );
        }
    }
}
