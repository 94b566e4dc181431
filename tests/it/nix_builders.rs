//! Builds on remote builders with the real `nix` and real SSH hosts in network namespaces: a
//! build on a builder with its own store, pushed signed to an SSH store; a builder substituting a
//! build's input from the cache rave tells it to trust; an ephemeral builder serving one batch
//! with a failed build; a lasting builder provisioned and destroyed; the pipeline example applied
//! as its README says.

use std::path::Path;

use crate::nix_builds::{rave, store_path};
use crate::support::Project;
use crate::testbed::binary_cache::HttpCache;
use crate::testbed::nix::{Nix, flake, unique};
use crate::testbed::ssh_host::SshHost;

/// A `builders:` entry for `host` whose provision commands log to `provision.log`.
fn provisioned_builder(name: &str, host: &SshHost, is_ephemeral: bool) -> String {
    format!(
        "  {name}:
    ssh: \"root@{address}\"
    ssh_key: \"file:{key}\"
    host_key: \"{host_key}\"
    provision:
      create: [sh, -c, \"echo created >> provision.log\"]
      destroy: [sh, -c, \"echo destroyed >> provision.log\"]
    ephemeral: {is_ephemeral}",
        address = host.address(),
        key = host.client_key().display(),
        host_key = host.host_key(),
    )
}

#[test]
fn a_build_runs_on_a_remote_builder_and_is_pushed_signed_to_an_ssh_store() {
    let nix = Nix::new();
    let builder = SshHost::start("b1");
    let store = SshHost::start("c1");
    let project = Project::new();
    let unique = unique();
    let (_, public_key) = nix.key_pair(&project.path().join("keys"), "ssh-1");
    // Not in the project's own directory: `.rave/` gets SSH sockets, which a path flake cannot copy.
    project.write("flake/flake.nix", flake(&[("remote", "1.0", "remote")], &unique));
    project.write(
        "rave.yaml",
        format!(
            "version: 1
project: remote
nix: {{ flake: ./flake }}
builders:
  b1: {{ ssh: \"root@{builder_address}\", ssh_key: \"file:{builder_key}\", host_key: \"{builder_host_key}\", max_jobs: 2 }}
hosts:
  c1: {{ ssh: \"root@{store_address}\", ssh_key: \"file:{store_key}\", host_key: \"{store_host_key}\" }}
caches:
  c1-store: {{ type: nix-store, uri: \"ssh://root@{store_address}\", public_key: \"{public_key}\", secret_key: file:keys/ssh-1.sec }}
builds:
  remote: {{ attr: \".#remote\", builders: [b1], push: [c1-store] }}
",
            builder_address = builder.address(),
            builder_key = builder.client_key().display(),
            builder_host_key = builder.host_key(),
            store_address = store.address(),
            store_key = store.client_key().display(),
            store_host_key = store.host_key(),
        ),
    );
    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert!(apply.stderr.contains("building `build.remote` on `builder.b1`"), "{}", apply.transcript());
    assert!(apply.stderr.contains("cache.c1-store: 1 path sent, signed"), "{}", apply.transcript());
    let path = store_path(&apply);
    let base = path.trim_start_matches("/nix/store/");
    assert!(builder.nix_dir().join("store").join(base).exists(), "built on the builder, in its own store");
    assert!(Path::new(&path).exists(), "and copied back here");
    assert!(store.nix_dir().join("store").join(base).exists(), "pushed to the SSH store");
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    assert_eq!(state["resources"]["build.remote"]["outputs"]["built_on"], serde_json::json!(["builder.b1"]));
    let info = store.path_info(&path);
    assert!(info.contains("ssh-1:"), "the pushed copy carries the signature: {info}");
    let again = rave(&project, &nix, &["apply", "--auto-approve"]);
    assert!(again.stdout.contains("No changes."), "{}", again.transcript());
}

#[test]
fn a_remote_builder_substitutes_inputs_from_the_cache_its_build_is_pushed_to() {
    let nix = Nix::new();
    let builder = SshHost::start("s1");
    let project = Project::new();
    let unique = unique();
    let (_, public_key) = nix.key_pair(&project.path().join("keys"), "web-1");
    // On this side of the builder's link: rave pushes to it, the builder fetches from it.
    let server = HttpCache::start_on(&project.path().join("served"), builder.gateway());
    project.write(
        "flake/flake.nix",
        format!(
            r#"{{
  outputs = {{ self }}: let
    dep = derivation {{ name = "dep-1.0"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo {unique} > $out" ]; }};
  in {{
    packages.x86_64-linux.dep = dep;
    packages.x86_64-linux.top = derivation {{ name = "top-1.0"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "read line < ${{dep}} && echo $line top > $out" ]; }};
  }};
}}
"#
        ),
    );
    project.write(
        "rave.yaml",
        format!(
            "version: 1
project: substitutes
nix: {{ flake: ./flake }}
caches:
  web: {{ type: nix-store, uri: \"{uri}\", public_key: \"{public_key}\", secret_key: file:keys/web-1.sec }}
builders:
  s1: {{ ssh: \"root@{address}\", ssh_key: \"file:{key}\", host_key: \"{host_key}\" }}
builds:
  dep: {{ attr: \".#dep\", push: [web] }}
  top: {{ attr: \".#top\", builders: [s1], push: [web], needs: [build.dep] }}
",
            uri = server.uri,
            address = builder.address(),
            key = builder.client_key().display(),
            host_key = builder.host_key(),
        ),
    );
    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert!(apply.stderr.contains("building `build.top` on `builder.s1`"), "{}", apply.transcript());
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    let dep = state["resources"]["build.dep"]["outputs"]["out_path"].as_str().expect("dep's out path").to_owned();
    // Built here, unsigned here: the builder's copy is signed by the cache's key, which only rave
    // told it to trust (its own settings trust no cache), so it came from the cache.
    let here = nix.path_info(&dep);
    assert!(!here.contains("web-1:"), "{here}");
    let there = builder.path_info(&dep);
    assert!(there.contains("\"signatures\":[\"web-1:"), "substituted from the cache: {there}\n{}", apply.transcript());
}

#[test]
fn an_ephemeral_builder_serves_one_batch_and_is_destroyed_after_a_failed_build() {
    let nix = Nix::new();
    let builder = SshHost::start("e1");
    let project = Project::new();
    let unique = unique();
    project.write(
        "flake/flake.nix",
        format!(
            r#"{{
  outputs = {{ self }}: {{
    packages.x86_64-linux.good = derivation {{ name = "good-1.0"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo {unique} > $out" ]; }};
    packages.x86_64-linux.bad = derivation {{ name = "bad-1.0"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo {unique}; echo broken on purpose >&2; exit 3" ]; }};
  }};
}}
"#
        ),
    );
    project.write(
        "rave.yaml",
        format!(
            "version: 1
project: burst
nix: {{ flake: ./flake }}
builders:
{}
builds:
  good: {{ attr: \".#good\", builders: [burst-1] }}
  bad: {{ attr: \".#bad\", builders: [burst-1] }}
",
            provisioned_builder("burst-1", &builder, true),
        ),
    );
    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    apply.assert_code(1);
    // One batch: created once, destroyed once, after the failure.
    assert_eq!(project.read("provision.log"), "created\ndestroyed\n", "{}", apply.transcript());
    assert!(apply.stderr.contains("building 2 outputs on `builder.burst-1`"), "{}", apply.transcript());
    assert!(
        apply.stdout.contains("build.bad: create failed: building 2 outputs on `builder.burst-1` failed"),
        "{}",
        apply.transcript()
    );
    assert!(apply.stdout.contains("ephemeral builders: builder.burst-1: created, destroyed"), "{}", apply.transcript());
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    let good = &state["resources"]["build.good"]["outputs"];
    assert_eq!(good["ephemeral_builders"], serde_json::json!(["builder.burst-1: created, destroyed"]), "{state:#}");
    assert!(state["resources"].get("build.bad").is_none(), "{state:#}");
}

#[test]
fn a_lasting_builder_is_provisioned_probed_and_destroyed_with_the_file() {
    let nix = Nix::new();
    let builder = SshHost::start("l1");
    let project = Project::new();
    let file = format!(
        "version: 1
project: lasting
builders:
{}
",
        provisioned_builder("l1", &builder, false),
    );
    project.write("rave.yaml", &file);
    rave(&project, &nix, &["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(project.read("provision.log"), "created\n");
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    assert_eq!(state["resources"]["builder.l1"]["outputs"]["provisioned"], true);
    rave(&project, &nix, &["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(project.read("provision.log"), "created\n", "nothing changed, nothing provisioned");
    rave(&project, &nix, &["destroy", "--auto-approve"]).assert_code(0);
    assert_eq!(project.read("provision.log"), "created\ndestroyed\n");
}

#[test]
fn the_pipeline_example_applies_with_a_real_builder_and_a_signed_file_cache() {
    let nix = Nix::new();
    let builder = SshHost::start("p1");
    let project = Project::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pipeline");
    std::fs::create_dir_all(project.path().join("flake")).expect("flake dir");
    std::fs::copy(example.join("flake.nix"), project.path().join("flake/flake.nix")).expect("copy flake");
    let (_, public_key) = nix.key_pair(&project.path().join("keys"), "lan-1");
    let cache = project.path().join("cache");
    // The example as README.md says to adapt it: this builder, this cache, a key pair of its own,
    // provision commands that leave a trace instead of Terraform.
    let text = std::fs::read_to_string(example.join("rave.yaml")).expect("example");
    let replacements = [
        ("nix: { flake: \".\",", "nix: { flake: ./flake,".to_owned()),
        ("file:///var/cache/rave-pipeline", format!("file://{}", cache.display())),
        ("lan-1:QKcSWJWp+xqFuUGCv1Koc7ln8HidCcgaQQORUUmA+zo=", public_key.clone()),
        ("root@192.0.2.10", format!("root@{}", builder.address())),
        ("file:keys/builder", format!("file:{}", builder.client_key().display())),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", builder.host_key()),
        ("[terraform, -chdir=infra/builders, apply, -auto-approve]", "[sh, -c, \"echo up >> burst.log\"]".to_owned()),
        (
            "[terraform, -chdir=infra/builders, destroy, -auto-approve]",
            "[sh, -c, \"echo down >> burst.log\"]".to_owned(),
        ),
    ];
    let mut file = text.clone();
    for (from, to) in &replacements {
        assert!(file.contains(from), "the example no longer has `{from}`");
        file = file.replace(from, to);
    }
    project.write("rave.yaml", file);
    let mut command = project.command(&["apply", "--auto-approve"]);
    nix.configure(&mut command).env("CACHIX_AUTH_TOKEN", "unused");
    let apply = project.run_from(&command.output().expect("run rave"));
    apply.assert_code(0);
    assert_eq!(project.read("burst.log"), "up\ndown\n", "one batch on the burst builder: {}", apply.transcript());
    let narinfos = std::fs::read_dir(&cache).expect("cache").filter_map(Result::ok);
    let signed = narinfos
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".narinfo"))
        .filter(|entry| std::fs::read_to_string(entry.path()).is_ok_and(|text| text.contains("Sig: lan-1:")))
        .count();
    assert_eq!(signed, 4, "four builds pushed, signed: {}", apply.transcript());
    let mut again = project.command(&["apply", "--auto-approve"]);
    nix.configure(&mut again).env("CACHIX_AUTH_TOKEN", "unused");
    let again = project.run_from(&again.output().expect("run rave"));
    assert!(again.stdout.contains("No changes."), "{}", again.transcript());
    assert_eq!(project.read("burst.log"), "up\ndown\n");
}
