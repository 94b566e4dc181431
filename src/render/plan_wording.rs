//! The words every plan renderer uses: what an action does to a resource, and why, so the
//! terminal, the JSON `message`s and the pull-request comment say the same thing.

use crate::model::ResourceId;
use crate::plan::{Action, Change, Plan, Reason};

/// What the action does, after the address: `vm.gitlab must be replaced`.
pub(crate) fn action_phrase(action: Action) -> &'static str {
    match action {
        Action::NoOp => "is unchanged",
        Action::Create => "will be created",
        Action::Update => "will be updated in place",
        Action::DeleteThenCreate | Action::CreateThenDelete => "must be replaced",
        Action::Delete => "will be destroyed",
    }
}

/// What a symbol in the legend means.
pub(crate) fn action_legend(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no change",
        Action::Create => "create",
        Action::Update => "update in place",
        Action::DeleteThenCreate => "destroy and then create replacement",
        Action::CreateThenDelete => "create replacement and then destroy",
        Action::Delete => "destroy",
    }
}

/// Why, as it follows "because": `` `hypervisor` forces replacement ``. A dependency's phrase says
/// what happens to it, read from its own entry in `plan`.
pub(crate) fn reason_phrase(reason: &Reason, change: &Change, plan: &Plan) -> String {
    match reason {
        Reason::NotYetCreated => "it does not exist yet".to_owned(),
        Reason::NotInConfiguration => format!("{} is not in the configuration", change.address),
        Reason::AttributesChanged { attributes } => format!("{} changed", code_list(attributes)),
        Reason::ForcesReplacement { attributes } => {
            let verb = if attributes.len() == 1 { "forces" } else { "force" };
            format!("{} {verb} replacement", code_list(attributes))
        }
        Reason::DependencyChanged { address } => dependency_phrase(address, plan),
        Reason::PlacedServiceChanged { address } => {
            let what = plan.change(address).filter(|service| service.action != Action::NoOp);
            format!("{address}, which runs on it, {}", what.map_or("changed", |service| action_phrase(service.action)))
        }
        Reason::ReplaceRequested => "--replace asked for it".to_owned(),
        Reason::Tainted => "it was tainted by a failed apply".to_owned(),
        Reason::MissingInReality => "it is missing".to_owned(),
        Reason::Drifted => "it changed outside of rave".to_owned(),
        Reason::DestroyRequested => "rave destroy asked for it".to_owned(),
    }
}

/// The reasons worth saying in words: not the ones the action and its attribute lines already
/// show (a new resource, changed attributes, a destroy that was asked for).
pub(crate) fn explained_reasons(change: &Change) -> impl Iterator<Item = &Reason> {
    change.reasons.iter().filter(|reason| {
        !matches!(reason, Reason::NotYetCreated | Reason::AttributesChanged { .. } | Reason::DestroyRequested)
    })
}

fn dependency_phrase(address: &ResourceId, plan: &Plan) -> String {
    match plan.change(address) {
        Some(dependency) if dependency.action != Action::NoOp => {
            format!("{address} {}", action_phrase(dependency.action))
        }
        _ => format!("{address} changed"),
    }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn code_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_world::{World, id};

    fn names(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|text| (*text).to_owned()).collect()
    }

    #[test]
    fn reasons_read_as_sentences() {
        let mut world = World::applied();
        world.recorded("vm.gitlab").tainted = true;
        world.desired.remove(&id("build.codex"));
        let plan = world.plan().unwrap();
        let change = |address: &str| plan.changes.iter().find(|change| change.address == id(address)).unwrap();
        let service = change("service.postgres");
        let cases = [
            (Reason::NotYetCreated, service, "it does not exist yet"),
            (Reason::NotInConfiguration, change("build.codex"), "build.codex is not in the configuration"),
            (Reason::AttributesChanged { attributes: names(&["memory"]) }, service, "`memory` changed"),
            (
                Reason::ForcesReplacement { attributes: names(&["host", "hypervisor", "type"]) },
                service,
                "`host`, `hypervisor` and `type` force replacement",
            ),
            (
                Reason::ForcesReplacement { attributes: names(&["hypervisor"]) },
                service,
                "`hypervisor` forces replacement",
            ),
            (Reason::DependencyChanged { address: id("vm.gitlab") }, service, "vm.gitlab must be replaced"),
            (Reason::DependencyChanged { address: id("cache.workspace") }, service, "cache.workspace changed"),
            (
                Reason::PlacedServiceChanged { address: id("service.gitlab") },
                change("vm.gitlab"),
                "service.gitlab, which runs on it, must be replaced",
            ),
            (
                Reason::PlacedServiceChanged { address: id("service.other") },
                change("vm.gitlab"),
                "service.other, which runs on it, changed",
            ),
            (Reason::ReplaceRequested, service, "--replace asked for it"),
            (Reason::Tainted, service, "it was tainted by a failed apply"),
            (Reason::MissingInReality, service, "it is missing"),
            (Reason::Drifted, service, "it changed outside of rave"),
            (Reason::DestroyRequested, service, "rave destroy asked for it"),
        ];
        for (reason, change, expected) in cases {
            assert_eq!(reason_phrase(&reason, change, &plan), expected);
        }
    }
}
