//! The plans every renderer's snapshot tests show: one with every kind of change, one with none.

use serde_json::json;

use crate::plan::test_world::{World, id};
use crate::plan::{Observed, Plan};

/// Every kind of change: a create, an update with a multi-line diff, both kinds of replacement
/// forced by an attribute, replacements carried to what sits on a replaced VM, a destroy, a changed
/// secret, and drift (one resource changed, one gone).
pub(crate) fn rich_plan() -> Plan {
    let mut world = World::applied();
    world.add(
        "service.nats",
        "service",
        json!({"type": "nats", "runs_on": "host.shoshin", "port": 4222,
               "settings": {"max_payload": "1MB", "jetstream": {"max_memory": "1GiB", "max_file": "10GiB"}}}),
    );
    world.record("service.nats");
    world.edit(
        "service.nats",
        json!({"settings": {"max_payload": "8MB", "jetstream": {"max_memory": "1GiB", "max_file": "20GiB"}}}),
    );
    world.add("service.redis", "service", json!({"type": "redis", "runs_on": "vm.gitlab", "port": 6379}));
    world.edit("vm.gitlab", json!({"hypervisor": "firecracker", "memory": "16GiB"}));
    world.recorded("vm.gitlab").outputs =
        [("pid".to_owned(), json!(4242)), ("runner".to_owned(), json!("/nix/store/4x2-microvm-run"))]
            .into_iter()
            .collect();
    world.observed.insert(
        id("vm.gitlab"),
        Observed::Changed {
            outputs: [("pid".to_owned(), json!(5151))].into_iter().collect(),
            summary: "pid is 5151, recorded 4242".to_owned(),
        },
    );
    world.edit("build.codex", json!({"attr": ".#packages.x86_64-linux.codex"}));
    world.add("vm.old", "vm", json!({"host": "shoshin", "vcpus": 2}));
    world.record("vm.old");
    world.desired.remove(&id("vm.old"));
    world.observed.insert(id("vm.old"), Observed::Missing);
    world.edit("cache.workspace", json!({"auth_token": "env:CACHIX_AUTH_TOKEN"}));
    world
        .digests
        .insert(id("cache.workspace"), [("auth_token".to_owned(), "sha256:new".to_owned())].into_iter().collect());
    // The same reference, new contents: only a digest says so.
    world.digests.insert(
        id("service.gitlab"),
        [("secrets.root_password".to_owned(), "sha256:new".to_owned())].into_iter().collect(),
    );
    world.plan().unwrap()
}

/// Nothing to do.
pub(crate) fn empty_plan() -> Plan {
    World::applied().plan().unwrap()
}
