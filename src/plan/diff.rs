//! The heart of planning: desired ([`Spec`]) against recorded ([`State`]) against observed
//! (refresh) gives a [`Plan`].
//!
//! Pure: no I/O, no clock, no randomness, so the same inputs always give the same plan. Resources
//! are decided in dependency order, so a replacement reaches everything placed on it (a VM's
//! `host`, a service's `runs_on`) in one pass. Which attributes force a replacement is each
//! driver's knowledge, passed in as [`ReplaceRules`]; rendering the plan is `render`'s job.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::address_graph::AddressGraph;
use super::attribute_diff::{SecretDigests, Side, all_attributes, changed_attributes};
use super::plan_error::nearest;
use super::with_derivation;
use super::{
    Action, AttributeChange, Change, Desired, Drift, Observed, PLAN_FORMAT_VERSION, Plan, PlanError, PlanOption, Reason,
};
use crate::drivers::Driver;
use crate::model::{Attributes, Resource, ResourceId, ResourceKind, ResourceSpec, Spec};
use crate::nix::Derivation;
use crate::state::{ResourceState, State};

/// The fields that place a resource on another: replacing what it sits on replaces it too.
const PLACEMENT_FIELDS: [&str; 2] = ["host", "runs_on"];

/// How one kind of resource is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplaceRules {
    /// Attributes that cannot change in place.
    pub(crate) forcing: &'static [&'static str],
    /// Whether the new one is created before the old one is destroyed (`+/-`) rather than after (`-/+`).
    pub(crate) create_before_destroy: bool,
}

impl ReplaceRules {
    /// The rules `driver` declares.
    pub(crate) fn of(driver: &dyn Driver) -> Self {
        Self { forcing: driver.replace_attributes(), create_before_destroy: driver.creates_before_destroying() }
    }
}

/// What the command line asks of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PlanOptions {
    /// `--target`: only these and what they depend on (destroying: what depends on them).
    pub(crate) targets: Vec<ResourceId>,
    /// `--exclude`: not these nor what depends on them (destroying: nor what they depend on).
    pub(crate) excludes: Vec<ResourceId>,
    /// `--replace`: replace these even if nothing changed.
    pub(crate) replace: Vec<ResourceId>,
    /// `rave destroy`: delete every recorded resource in scope.
    pub(crate) is_destroy: bool,
}

/// Everything a plan is computed from.
pub(crate) struct DiffInput<'a> {
    /// What the file asks for.
    pub(crate) spec: &'a Spec,
    /// What was last applied; `None` before the first apply.
    pub(crate) state: Option<&'a State>,
    /// What refresh found, per recorded resource; empty with `--refresh=false`.
    pub(crate) observed: &'a BTreeMap<ResourceId, Observed>,
    /// The desired secrets' salted digests, per resource, by attribute path
    /// (`secrets.root_password`, `auth_token`). Every secret of a desired resource must be here:
    /// one left out reads as removed.
    pub(crate) secret_digests: &'a BTreeMap<ResourceId, SecretDigests>,
    /// Each kind's replacement rules, from its driver.
    pub(crate) rules: &'a (dyn Fn(ResourceKind) -> ReplaceRules + Sync),
    /// What the command line asks.
    pub(crate) options: &'a PlanOptions,
    /// What Nix evaluated the Nix-built resources to (builds, host systems, VM runners), by
    /// address: evaluated before diffing, so the diff stays pure. `None` when nothing was
    /// evaluated (`--refresh=false`): recorded store paths are then taken as still right.
    pub(crate) derivations: Option<&'a BTreeMap<ResourceId, Derivation>>,
}

/// Computes the plan: one [`Change`] per desired or recorded resource, in address order, and the
/// drift refresh found.
pub(crate) fn diff(input: &DiffInput<'_>) -> Result<Plan, PlanError> {
    let no_resources = BTreeMap::new();
    let recorded = input.state.map_or(&no_resources, |state| &state.resources);
    let options = input.options;
    let graph = AddressGraph::new(&input.spec.resources, recorded, options.is_destroy);
    check_addresses(&graph, options)?;
    let in_scope = graph.scope(&options.targets, &options.excludes, options.is_destroy);
    let planner = Planner { input, graph: &graph, in_scope };
    // Each resource on its own, on every core; then what replacements do to their dependents,
    // dependencies first.
    let mut changes: Vec<Change> = (0..graph.nodes.len()).into_par_iter().map(|index| planner.change(index)).collect();
    // Only a recorded resource takes anything from its dependencies' changes or its services'.
    if !recorded.is_empty() {
        for index in graph.dependency_order() {
            planner.propagate(index, &mut changes);
        }
        planner.reach_placements(&mut changes);
    }
    let drift = input
        .observed
        .iter()
        .filter(|(id, observation)| {
            recorded.contains_key(*id) && matches!(observation, Observed::Missing | Observed::Changed { .. })
        })
        .map(|(id, observation)| Drift { address: id.clone(), observation: observation.clone() })
        .collect();
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        project: input.spec.project.to_string(),
        lineage: input.state.map(|state| state.lineage.clone()),
        serial: input.state.map_or(0, |state| state.serial),
        is_destroy: options.is_destroy,
        changes,
        drift,
        moves: Vec::new(),
        is_refresh_only: false,
    })
}

/// Every address on the command line must name a desired or recorded resource, and a replaced one
/// must be both.
fn check_addresses(graph: &AddressGraph<'_>, options: &PlanOptions) -> Result<(), PlanError> {
    let named = [
        (PlanOption::Target, &options.targets),
        (PlanOption::Exclude, &options.excludes),
        (PlanOption::Replace, &options.replace),
    ];
    for (option, addresses) in named {
        for address in addresses {
            let Some(index) = graph.index(address) else {
                let suggestion = nearest(address, graph.nodes.iter().map(|node| node.id));
                return Err(PlanError::UnknownAddress { option, address: address.clone(), suggestion });
            };
            let node = graph.nodes[index];
            if option == PlanOption::Replace && (node.desired.is_none() || node.recorded.is_none()) {
                return Err(PlanError::CannotReplace { address: address.clone(), is_desired: node.desired.is_some() });
            }
        }
    }
    Ok(())
}

/// What is decided for one resource before it becomes a [`Change`].
struct Decision {
    action: Action,
    reasons: Vec<Reason>,
    attributes: Vec<AttributeChange>,
}

struct Planner<'a, 'b> {
    input: &'b DiffInput<'a>,
    graph: &'b AddressGraph<'a>,
    in_scope: Vec<bool>,
}

impl Planner<'_, '_> {
    /// The change for the resource numbered `index` on its own, before [`Self::propagate`].
    fn change(&self, index: usize) -> Change {
        let node = self.graph.nodes[index];
        match (node.desired, node.recorded) {
            (Some(resource), before) => self.desired_change(index, resource, before),
            (None, Some(state)) => self.recorded_only_change(index, state),
            // Every address is the file's or the state's; one that were neither is left alone.
            (None, None) => no_op(node.id, None, None),
        }
    }

    /// The change for a resource in the file.
    fn desired_change(&self, index: usize, resource: &Resource, before: Option<&ResourceState>) -> Change {
        let id = &resource.id;
        let secrets = self.desired_secrets(id);
        let desired = || Desired {
            spec: resource.spec.clone(),
            dependencies: resource.dependencies.clone(),
            secret_digests: secrets.clone(),
            derivation: self.input.derivations.and_then(|derivations| derivations.get(id)).cloned(),
        };
        let decision = match before {
            _ if !self.in_scope[index] => None,
            Some(state) if self.input.options.is_destroy => Some(Self::delete(state, Reason::DestroyRequested)),
            None if self.input.options.is_destroy => None,
            Some(state) => Some(self.existing(resource, state)),
            None => Some(Decision {
                action: Action::Create,
                reasons: vec![Reason::NotYetCreated],
                attributes: all_attributes(Side::After, self.desired_attributes(resource, None), secrets),
            }),
        };
        let Some(decision) = decision else {
            // Left alone: it stays if it exists, and does not come if it does not.
            return no_op(id, before, before.map(|_| desired()));
        };
        let after = (decision.action != Action::Delete).then(desired);
        Change {
            address: id.clone(),
            action: decision.action,
            reasons: decision.reasons,
            attributes: decision.attributes,
            before: before.cloned(),
            after,
            closure: Vec::new(),
            inputs_changed: Vec::new(),
        }
    }

    /// The change for a resource only the state knows: it goes, unless out of scope.
    fn recorded_only_change(&self, index: usize, state: &ResourceState) -> Change {
        let id = self.graph.nodes[index].id;
        if !self.in_scope[index] {
            return no_op(id, Some(state), None);
        }
        let reason = if self.input.options.is_destroy { Reason::DestroyRequested } else { Reason::NotInConfiguration };
        let decision = Self::delete(state, reason);
        Change {
            address: id.clone(),
            action: decision.action,
            reasons: decision.reasons,
            attributes: decision.attributes,
            before: Some(state.clone()),
            after: None,
            closure: Vec::new(),
            inputs_changed: Vec::new(),
        }
    }

    fn delete(state: &ResourceState, reason: Reason) -> Decision {
        Decision {
            action: Action::Delete,
            reasons: vec![reason],
            attributes: all_attributes(Side::Before, state.attributes.clone(), &state.secret_digests),
        }
    }

    /// A resource both wanted and recorded, on its own: gone, replaced, updated or left as it is.
    fn existing(&self, resource: &Resource, state: &ResourceState) -> Decision {
        let id = &resource.id;
        let desired_attributes = self.desired_attributes(resource, Some(state));
        let secrets = self.desired_secrets(id);
        let observed = self.input.observed.get(id);
        if observed == Some(&Observed::Missing) {
            return Decision {
                action: Action::Create,
                reasons: vec![Reason::MissingInReality],
                attributes: all_attributes(Side::After, desired_attributes, secrets),
            };
        }
        let rules = (self.input.rules)(id.kind);
        let attributes = changed_attributes(
            (&state.attributes, &state.secret_digests),
            (&desired_attributes, secrets),
            rules.forcing,
        );
        let mut reasons = Vec::new();
        if state.tainted {
            reasons.push(Reason::Tainted);
        }
        if self.input.options.replace.contains(id) {
            reasons.push(Reason::ReplaceRequested);
        }
        let forcing = names(attributes.iter().filter(|change| change.forces_replacement));
        if !forcing.is_empty() {
            reasons.push(Reason::ForcesReplacement { attributes: forcing });
        }
        let is_replace = !reasons.is_empty();
        if !attributes.is_empty() {
            reasons.push(Reason::AttributesChanged { attributes: names(attributes.iter()) });
        }
        if matches!(observed, Some(Observed::Changed { .. })) {
            reasons.push(Reason::Drifted);
        }
        let action = if is_replace {
            replace_action(rules)
        } else if reasons.is_empty() {
            Action::NoOp
        } else {
            Action::Update
        };
        Decision { action, reasons, attributes }
    }

    /// Adds what the dependencies' replacements do to the change of the resource numbered
    /// `index`, wanted and recorded: what is placed on a replaced resource is replaced too;
    /// anything else depending on one is at least updated. Its dependencies' changes are final.
    fn propagate(&self, index: usize, changes: &mut [Change]) {
        let node = self.graph.nodes[index];
        let (Some(resource), Some(_)) = (node.desired, node.recorded) else {
            return;
        };
        if !self.in_scope[index] || self.input.options.is_destroy {
            return;
        }
        let recreated: Vec<&ResourceId> = self
            .graph
            .dependencies(index)
            .iter()
            .filter(|dependency| is_recreated(&changes[**dependency]))
            .map(|dependency| self.graph.nodes[*dependency].id)
            .collect();
        let change = &mut changes[index];
        if change.action == Action::Create {
            return;
        }
        for address in recreated {
            let is_placement = resource
                .spec
                .references()
                .iter()
                .any(|(field, target)| target == address && PLACEMENT_FIELDS.contains(field));
            change.reasons.push(Reason::DependencyChanged { address: address.clone() });
            if is_placement && !change.action.is_replace() {
                change.action = replace_action((self.input.rules)(resource.id.kind));
            } else if change.action == Action::NoOp {
                change.action = Action::Update;
            }
        }
    }

    /// A service's type and settings are part of the system it runs on: a changed service makes
    /// the host it runs on at least updated when rave deploys that host's system (`nixos:`),
    /// saying why. (VMs and containers join when their drivers deploy their systems.) Runs after
    /// [`Self::propagate`]; an update reaches no further, and a placement being replaced or
    /// created needs no second reason.
    fn reach_placements(&self, changes: &mut [Change]) {
        if self.input.options.is_destroy {
            return;
        }
        let mut reached = Vec::new();
        for (index, node) in self.graph.nodes.iter().enumerate() {
            let Some(ResourceSpec::Service(service)) = node.desired.map(|resource| &*resource.spec) else { continue };
            if changes[index].action == Action::NoOp {
                continue;
            }
            let Some(placement) = self.graph.index(&service.runs_on) else { continue };
            let placement_node = self.graph.nodes[placement];
            let carries_system = matches!(
                placement_node.desired.map(|resource| &*resource.spec),
                Some(ResourceSpec::Host(host)) if host.nixos.is_some()
            );
            if carries_system && placement_node.recorded.is_some() && self.in_scope[placement] {
                reached.push((placement, node.id.clone()));
            }
        }
        for (placement, service) in reached {
            let change = &mut changes[placement];
            if !matches!(change.action, Action::NoOp | Action::Update) {
                continue;
            }
            change.reasons.push(Reason::PlacedServiceChanged { address: service });
            if change.action == Action::NoOp {
                change.action = Action::Update;
            }
        }
    }

    /// The resource's attributes as they will be recorded: its spec's, and its store path. Without
    /// an evaluation, the store path `recorded` has stands.
    fn desired_attributes(&self, resource: &Resource, recorded: Option<&ResourceState>) -> Attributes {
        let Some(derivations) = self.input.derivations else {
            let mut attributes = resource.spec.attributes();
            let recorded_path = recorded.and_then(|state| state.attributes.get(Derivation::ATTRIBUTE));
            if let Some(path) = recorded_path {
                attributes.insert(Derivation::ATTRIBUTE.to_owned(), path.clone());
            }
            return attributes;
        };
        with_derivation(resource.spec.attributes(), derivations.get(&resource.id))
    }

    fn desired_secrets(&self, id: &ResourceId) -> &SecretDigests {
        static NONE: SecretDigests = SecretDigests::new();
        self.input.secret_digests.get(id).unwrap_or(&NONE)
    }
}

/// Whether a change makes a new object where one existed: a replacement, or a re-creation of
/// something refresh found gone.
fn is_recreated(change: &Change) -> bool {
    change.action.is_replace() || (change.action == Action::Create && change.before.is_some())
}

fn replace_action(rules: ReplaceRules) -> Action {
    if rules.create_before_destroy { Action::CreateThenDelete } else { Action::DeleteThenCreate }
}

fn names<'a>(changes: impl Iterator<Item = &'a AttributeChange>) -> Vec<String> {
    let names: BTreeSet<&str> = changes.map(|change| change.name.as_str()).collect();
    names.into_iter().map(str::to_owned).collect()
}

fn no_op(id: &ResourceId, before: Option<&ResourceState>, after: Option<Desired>) -> Change {
    Change {
        address: id.clone(),
        action: Action::NoOp,
        reasons: Vec::new(),
        attributes: Vec::new(),
        before: before.cloned(),
        after,
        closure: Vec::new(),
        inputs_changed: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::test_world::{World, id, ids};

    /// Every change that does something: `address symbol reasons`.
    fn lines(world: &World) -> Vec<String> {
        let plan = world.plan().unwrap();
        plan.changes
            .iter()
            .filter(|change| change.action != Action::NoOp)
            .map(|change| {
                let reasons: Vec<String> = change.reasons.iter().map(short).collect();
                format!("{} {} {}", change.address, change.action.symbol(), reasons.join(","))
            })
            .collect()
    }

    fn short(reason: &Reason) -> String {
        match reason {
            Reason::NotYetCreated => "new".to_owned(),
            Reason::NotInConfiguration => "unconfigured".to_owned(),
            Reason::AttributesChanged { attributes } => {
                format!("changed({})", attributes.join(" "))
            }
            Reason::ForcesReplacement { attributes } => format!("forces({})", attributes.join(" ")),
            Reason::DependencyChanged { address } => format!("dependency({address})"),
            Reason::PlacedServiceChanged { address } => format!("service({address})"),
            Reason::ReplaceRequested => "requested".to_owned(),
            Reason::Tainted => "tainted".to_owned(),
            Reason::MissingInReality => "missing".to_owned(),
            Reason::Drifted => "drifted".to_owned(),
            Reason::DestroyRequested => "destroy".to_owned(),
        }
    }

    /// `plan_test!(name, |world| { setup }, ["address symbol reasons", …])`: the setup changes the
    /// applied lab; the list is every change that does something, in address order.
    macro_rules! plan_test {
        ($name:ident, |$world:ident| $setup:block, [$($line:expr),* $(,)?]) => {
            #[test]
            fn $name() {
                #[allow(unused_mut)]
                let mut $world = World::applied();
                $setup
                let expected: Vec<&str> = vec![$($line),*];
                assert_eq!(lines(&$world), expected);
            }
        };
    }

    plan_test!(applied_lab_has_no_changes, |world| {}, []);

    plan_test!(
        first_plan_creates_everything,
        |world| {
            world.state = None;
        },
        [
            "cache.workspace + new",
            "build.codex + new",
            "host.shoshin + new",
            "vm.gitlab + new",
            "service.gitlab + new",
            "service.postgres + new",
        ]
    );

    plan_test!(
        new_resource_is_created,
        |world| {
            world.add("service.redis", "service", json!({"type": "redis", "runs_on": "vm.gitlab"}));
        },
        ["service.redis + new"]
    );

    plan_test!(
        resource_left_out_of_the_file_is_deleted,
        |world| {
            world.desired.remove(&id("build.codex"));
        },
        ["build.codex - unconfigured"]
    );

    plan_test!(
        changed_attribute_updates_in_place_without_propagating,
        |world| {
            world.edit("host.shoshin", json!({"port": 2222}));
        },
        ["host.shoshin ~ changed(port)"]
    );

    plan_test!(
        changed_service_updates_the_nixos_host_it_runs_on,
        |world| {
            world.edit("host.shoshin", json!({"nixos": ".#nixosConfigurations.shoshin"}));
            world.record("host.shoshin");
            world.add("service.nats", "service", json!({"type": "nats", "runs_on": "host.shoshin"}));
            world.record("service.nats");
            world.edit("service.nats", json!({"port": 4223}));
        },
        ["host.shoshin ~ service(service.nats)", "service.nats ~ changed(port)"]
    );

    plan_test!(
        changed_service_leaves_a_host_without_nixos_alone,
        |world| {
            world.add("service.nats", "service", json!({"type": "nats", "runs_on": "host.shoshin"}));
            world.record("service.nats");
            world.edit("service.nats", json!({"port": 4223}));
        },
        ["service.nats ~ changed(port)"]
    );

    plan_test!(
        added_needs_is_an_update,
        |world| {
            world.edit("service.postgres", json!({"needs": ["cache.workspace"]}));
        },
        ["service.postgres ~ changed(needs)"]
    );

    plan_test!(
        forcing_attribute_replaces_and_reaches_what_is_placed_on_it,
        |world| {
            world.edit("vm.gitlab", json!({"hypervisor": "firecracker", "memory": "16GiB"}));
        },
        [
            "vm.gitlab -/+ forces(hypervisor),changed(hypervisor memory)",
            "service.gitlab -/+ dependency(vm.gitlab),dependency(service.postgres)",
            "service.postgres -/+ dependency(vm.gitlab)",
        ]
    );

    plan_test!(
        replacement_reaches_placements_transitively,
        |world| {
            world.edit("host.shoshin", json!({"system": "aarch64-linux"}));
        },
        [
            "host.shoshin -/+ forces(system),changed(system)",
            "vm.gitlab -/+ dependency(host.shoshin)",
            "service.gitlab -/+ dependency(vm.gitlab),dependency(service.postgres)",
            "service.postgres -/+ dependency(vm.gitlab)",
        ]
    );

    plan_test!(
        replacement_updates_what_pushes_to_it,
        |world| {
            world.edit("cache.workspace", json!({"type": "nix-store", "uri": "file:///var/cache/rave"}));
        },
        [
            "cache.workspace -/+ forces(type),changed(type uri)",
            "build.codex ~ dependency(cache.workspace)",
            "host.shoshin ~ dependency(cache.workspace)",
        ]
    );

    plan_test!(
        create_before_destroy_rules_give_create_then_delete,
        |world| {
            world.edit("build.codex", json!({"attr": ".#codex-2"}));
        },
        ["build.codex +/- forces(attr),changed(attr)"]
    );

    plan_test!(
        tainted_resource_is_replaced,
        |world| {
            world.recorded("service.postgres").tainted = true;
        },
        ["service.gitlab ~ dependency(service.postgres)", "service.postgres -/+ tainted"]
    );

    plan_test!(
        replace_option_replaces_and_needs_only_update,
        |world| {
            world.options.replace = ids(&["service.postgres"]);
        },
        ["service.gitlab ~ dependency(service.postgres)", "service.postgres -/+ requested"]
    );

    plan_test!(
        resource_missing_in_reality_is_created_again_and_its_placements_replaced,
        |world| {
            world.observed.insert(id("vm.gitlab"), Observed::Missing);
        },
        [
            "vm.gitlab + missing",
            "service.gitlab -/+ dependency(vm.gitlab),dependency(service.postgres)",
            "service.postgres -/+ dependency(vm.gitlab)",
        ]
    );

    plan_test!(
        drifted_resource_is_updated,
        |world| {
            world.observed.insert(id("vm.gitlab"), drifted());
            world.observed.insert(id("host.shoshin"), Observed::AsRecorded);
        },
        ["vm.gitlab ~ drifted"]
    );

    plan_test!(
        changed_secret_is_an_update,
        |world| {
            world
                .digests
                .get_mut(&id("service.gitlab"))
                .unwrap()
                .insert("secrets.root_password".to_owned(), "sha256:new".to_owned());
        },
        ["service.gitlab ~ changed(secrets.root_password)"]
    );

    plan_test!(
        new_dependent_of_a_replacement_is_only_created,
        |world| {
            world.add("service.redis", "service", json!({"type": "redis", "runs_on": "vm.gitlab"}));
            world.recorded("vm.gitlab").tainted = true;
        },
        [
            "vm.gitlab -/+ tainted",
            "service.gitlab -/+ dependency(vm.gitlab),dependency(service.postgres)",
            "service.postgres -/+ dependency(vm.gitlab)",
            "service.redis + new",
        ]
    );

    plan_test!(
        missing_resource_left_out_of_the_file_is_deleted,
        |world| {
            world.desired.remove(&id("build.codex"));
            world.observed.insert(id("build.codex"), Observed::Missing);
        },
        ["build.codex - unconfigured"]
    );

    plan_test!(
        target_keeps_only_it_and_its_dependencies,
        |world| {
            world.edit("vm.gitlab", json!({"memory": "16GiB"}));
            world.edit("build.codex", json!({"push": []}));
            world.options.targets = ids(&["service.postgres"]);
        },
        ["vm.gitlab ~ changed(memory)"]
    );

    plan_test!(
        target_of_a_delete_is_allowed,
        |world| {
            world.desired.remove(&id("build.codex"));
            world.edit("vm.gitlab", json!({"memory": "16GiB"}));
            world.options.targets = ids(&["build.codex"]);
        },
        ["build.codex - unconfigured"]
    );

    plan_test!(
        exclude_drops_it_and_what_depends_on_it,
        |world| {
            world.edit("vm.gitlab", json!({"memory": "16GiB"}));
            world.edit("service.postgres", json!({"port": 5433}));
            world.edit("build.codex", json!({"push": []}));
            world.options.excludes = ids(&["vm.gitlab"]);
        },
        ["build.codex ~ changed(push)"]
    );

    plan_test!(
        destroy_deletes_everything_recorded,
        |world| {
            world.add("service.redis", "service", json!({"type": "redis", "runs_on": "vm.gitlab"}));
            world.options.is_destroy = true;
        },
        [
            "cache.workspace - destroy",
            "build.codex - destroy",
            "host.shoshin - destroy",
            "vm.gitlab - destroy",
            "service.gitlab - destroy",
            "service.postgres - destroy",
        ]
    );

    plan_test!(
        destroy_target_takes_its_dependents,
        |world| {
            world.options.is_destroy = true;
            world.options.targets = ids(&["vm.gitlab"]);
        },
        ["vm.gitlab - destroy", "service.gitlab - destroy", "service.postgres - destroy"]
    );

    plan_test!(
        destroy_exclude_keeps_what_it_needs,
        |world| {
            world.options.is_destroy = true;
            world.options.excludes = ids(&["service.gitlab"]);
        },
        ["build.codex - destroy"]
    );

    fn drifted() -> Observed {
        Observed::Changed {
            outputs: [("pid".to_owned(), json!(5151))].into_iter().collect(),
            summary: "pid is 5151, recorded 4242".to_owned(),
        }
    }

    #[test]
    fn every_resource_has_an_entry_with_before_and_after() {
        let mut world = World::applied();
        world.desired.remove(&id("build.codex"));
        world.add("service.redis", "service", json!({"type": "redis", "runs_on": "vm.gitlab"}));
        world.edit("vm.gitlab", json!({"memory": "16GiB"}));
        let plan = world.plan().unwrap();
        let entries: Vec<(String, Action, bool, bool)> = plan
            .changes
            .iter()
            .map(|change| (change.address.to_string(), change.action, change.before.is_some(), change.after.is_some()))
            .collect();
        assert_eq!(
            entries,
            vec![
                ("cache.workspace".to_owned(), Action::NoOp, true, true),
                ("build.codex".to_owned(), Action::Delete, true, false),
                ("host.shoshin".to_owned(), Action::NoOp, true, true),
                ("vm.gitlab".to_owned(), Action::Update, true, true),
                ("service.gitlab".to_owned(), Action::NoOp, true, true),
                ("service.postgres".to_owned(), Action::NoOp, true, true),
                ("service.redis".to_owned(), Action::Create, false, true),
            ]
        );
        assert_eq!((plan.project.as_str(), plan.lineage.as_deref(), plan.serial), ("lab", Some("lineage-1"), 7));
        let gitlab = plan.changes.iter().find(|change| change.address == id("service.gitlab")).unwrap();
        let after = gitlab.after.as_ref().unwrap();
        assert_eq!(after.dependencies, ids(&["vm.gitlab", "service.postgres"]));
        assert_eq!(after.secret_digests["secrets.root_password"], "sha256:old");
    }

    #[test]
    fn without_state_there_is_no_lineage() {
        let mut world = World::applied();
        world.state = None;
        let plan = world.plan().unwrap();
        assert_eq!((plan.lineage, plan.serial), (None, 0));
    }

    #[test]
    fn resources_out_of_scope_neither_come_nor_go() {
        let mut world = World::applied();
        world.add("service.redis", "service", json!({"type": "redis", "runs_on": "vm.gitlab"}));
        world.desired.remove(&id("build.codex"));
        world.options.targets = ids(&["vm.gitlab"]);
        let plan = world.plan().unwrap();
        assert!(!plan.has_changes());
        let redis = plan.changes.iter().find(|change| change.address == id("service.redis")).unwrap();
        assert_eq!((redis.before.is_some(), redis.after.is_some()), (false, false));
        let codex = plan.changes.iter().find(|change| change.address == id("build.codex")).unwrap();
        assert_eq!((codex.before.is_some(), codex.after.is_some()), (true, false));
    }

    #[test]
    fn attribute_changes_say_what_and_which_force() {
        let mut world = World::applied();
        world.edit("vm.gitlab", json!({"hypervisor": "firecracker", "memory": "16GiB"}));
        let plan = world.plan().unwrap();
        let vm = plan.changes.iter().find(|change| change.address == id("vm.gitlab")).unwrap();
        let attributes: Vec<_> = vm
            .attributes
            .iter()
            .map(|change| {
                (change.name.as_str(), change.before.clone(), change.after.clone(), change.forces_replacement)
            })
            .collect();
        assert_eq!(
            attributes,
            vec![
                ("hypervisor", Some(json!("qemu")), Some(json!("firecracker")), true),
                ("memory", Some(json!("8GiB")), Some(json!("16GiB")), false),
            ]
        );
    }

    #[test]
    fn secrets_never_show_values_or_digests() {
        let mut world = World::applied();
        world
            .digests
            .get_mut(&id("service.gitlab"))
            .unwrap()
            .insert("secrets.root_password".to_owned(), "sha256:new".to_owned());
        let plan = world.plan().unwrap();
        let gitlab = plan.changes.iter().find(|change| change.address == id("service.gitlab")).unwrap();
        assert_eq!(
            gitlab.attributes,
            vec![AttributeChange {
                name: "secrets.root_password".to_owned(),
                before: None,
                after: None,
                is_sensitive: true,
                forces_replacement: false,
            }]
        );
        world.state = None;
        let plan = world.plan().unwrap();
        let gitlab = plan.changes.iter().find(|change| change.address == id("service.gitlab")).unwrap();
        let secret = gitlab.attributes.iter().find(|change| change.is_sensitive).unwrap();
        assert_eq!((secret.name.as_str(), &secret.before, &secret.after), ("secrets.root_password", &None, &None));
    }

    #[test]
    fn drift_is_reported_apart() {
        let mut world = World::applied();
        world.observed.insert(id("vm.gitlab"), drifted());
        world.observed.insert(id("service.postgres"), Observed::Missing);
        world.observed.insert(id("host.shoshin"), Observed::AsRecorded);
        world.options.targets = ids(&["build.codex"]);
        let plan = world.plan().unwrap();
        assert!(!plan.has_changes(), "drift outside the target changes nothing");
        assert_eq!(
            plan.drift,
            vec![
                Drift { address: id("vm.gitlab"), observation: drifted() },
                Drift { address: id("service.postgres"), observation: Observed::Missing },
            ]
        );
    }

    #[test]
    fn command_line_addresses_are_checked() {
        /// What the case is, how it sets the command line, and the error expected.
        type Case = (&'static str, fn(&mut PlanOptions), PlanError);
        let cases: &[Case] = &[
            (
                "unknown target",
                |options| options.targets = ids(&["vm.gitlb"]),
                PlanError::UnknownAddress {
                    option: PlanOption::Target,
                    address: id("vm.gitlb"),
                    suggestion: Some(id("vm.gitlab")),
                },
            ),
            (
                "unknown exclude",
                |options| options.excludes = ids(&["container.zzz"]),
                PlanError::UnknownAddress {
                    option: PlanOption::Exclude,
                    address: id("container.zzz"),
                    suggestion: None,
                },
            ),
            (
                "unknown replace",
                |options| options.replace = ids(&["service.postgress"]),
                PlanError::UnknownAddress {
                    option: PlanOption::Replace,
                    address: id("service.postgress"),
                    suggestion: Some(id("service.postgres")),
                },
            ),
            (
                "replace of something new",
                |options| options.replace = ids(&["service.redis"]),
                PlanError::CannotReplace { address: id("service.redis"), is_desired: true },
            ),
            (
                "replace of something going",
                |options| options.replace = ids(&["build.codex"]),
                PlanError::CannotReplace { address: id("build.codex"), is_desired: false },
            ),
        ];
        for (name, set, expected) in cases {
            let mut world = World::applied();
            world.add("service.redis", "service", json!({"type": "redis", "runs_on": "vm.gitlab"}));
            world.desired.remove(&id("build.codex"));
            set(&mut world.options);
            assert_eq!(world.plan().as_ref().err(), Some(expected), "{name}");
        }
    }

    fn derivation(name: &str) -> Derivation {
        Derivation { drv_path: format!("/nix/store/{name}.drv"), out_path: format!("/nix/store/{name}") }
    }

    #[test]
    fn the_same_derivation_again_is_no_change_and_a_new_one_an_update() {
        let mut world = World::applied();
        world.derivations = Some(BTreeMap::from([(id("build.codex"), derivation("aaa-codex-1.0"))]));
        world.record("build.codex");
        assert_eq!(lines(&world), Vec::<String>::new());
        let plan = world.plan().unwrap();
        let after = plan.change(&id("build.codex")).unwrap().after.as_ref().unwrap();
        assert_eq!(after.derivation, Some(derivation("aaa-codex-1.0")));

        world.derivations = Some(BTreeMap::from([(id("build.codex"), derivation("bbb-codex-1.1"))]));
        assert_eq!(lines(&world), ["build.codex ~ changed(store_path)"]);
        let plan = world.plan().unwrap();
        let change = plan.change(&id("build.codex")).unwrap();
        assert_eq!(change.attributes[0].before, Some(json!("/nix/store/aaa-codex-1.0")));
        assert_eq!(change.attributes[0].after, Some(json!("/nix/store/bbb-codex-1.1")));
        assert_eq!(change.after.as_ref().unwrap().attributes()["store_path"], json!("/nix/store/bbb-codex-1.1"));

        // Not evaluated (`--refresh=false`): the recorded store path stands.
        world.derivations = None;
        assert_eq!(lines(&world), Vec::<String>::new());
    }

    #[test]
    fn a_new_build_shows_the_store_path_it_will_make() {
        let mut world = World::applied();
        world.state = None;
        world.derivations = Some(BTreeMap::from([(id("build.codex"), derivation("aaa-codex-1.0"))]));
        let plan = world.plan().unwrap();
        let change = plan.change(&id("build.codex")).unwrap();
        let store_path = change.attributes.iter().find(|attribute| attribute.name == "store_path").unwrap();
        assert_eq!(store_path.after, Some(json!("/nix/store/aaa-codex-1.0")));
    }
}
