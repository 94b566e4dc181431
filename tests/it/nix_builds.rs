//! Builds and caches end to end with the real `nix`: what a plan says will be built, a build,
//! signed pushes to a file cache and an HTTP cache, substitution from them into a separate store
//! that checks signatures, a second apply that does nothing, an ephemeral builder that cannot be
//! reached, Cachix without its CLI, a missing `nix`, a VM runner pushed to its cache. Remote
//! builders: `nix_builders`; host systems pushed: `nixos_hosts`.

use std::path::Path;

use crate::support::{Project, Run};
use crate::testbed::binary_cache::HttpCache;
use crate::testbed::nix::{Nix, flake, unique};

/// Runs rave in `project` with `nix`'s settings.
pub(crate) fn rave(project: &Project, nix: &Nix, args: &[&str]) -> Run {
    let mut command = project.command(args);
    nix.configure(&mut command);
    project.run_from(&command.output().expect("run rave"))
}

/// The store path a run's plan shows for `store_path`.
pub(crate) fn store_path(run: &Run) -> String {
    let line = run.stdout.lines().find(|line| line.contains("store_path")).expect("a store path in the plan");
    let start = line.find("/nix/store/").expect("a store path");
    line[start..].trim_end_matches('"').to_owned()
}

#[test]
fn a_build_is_planned_built_pushed_signed_and_then_left_alone() {
    let nix = Nix::new();
    let project = Project::new();
    let unique = unique();
    let (_, public_key) = nix.key_pair(&project.path().join("keys"), "lan-1");
    let cache = project.path().join("cache");
    let unsigned_cache = project.path().join("plain");
    project.write("flake.nix", flake(&[("hello", "1.0", "hi")], &unique));
    project.write(
        "rave.yaml",
        format!(
            "version: 1
project: builds
nix: {{ flake: \".\", system: x86_64-linux }}
caches:
  lan: {{ type: nix-store, uri: \"file://{}\", public_key: \"{public_key}\", secret_key: file:keys/lan-1.sec }}
  plain: {{ type: nix-store, uri: \"file://{}\" }}
builds:
  hello: {{ attr: \".#hello\", push: [lan, plain] }}
",
            cache.display(),
            unsigned_cache.display()
        ),
    );

    let plan = rave(&project, &nix, &["plan"]);
    plan.assert_code(0);
    assert!(plan.stdout.contains("# build.hello will be created"), "{}", plan.transcript());
    let path = store_path(&plan);
    assert!(path.ends_with("-hello-1.0"), "{path}");
    assert!(!Path::new(&path).exists(), "planning builds nothing");

    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert!(Path::new(&path).exists(), "{}", apply.transcript());
    assert!(apply.stderr.contains("cache.lan: 1 path sent, signed"), "{}", apply.transcript());
    assert!(apply.stderr.contains("cache.plain: 1 path sent"), "{}", apply.transcript());
    let hash = path.trim_start_matches("/nix/store/").split('-').next().expect("hash");
    let narinfo = std::fs::read_to_string(cache.join(format!("{hash}.narinfo"))).expect("narinfo in the cache");
    assert!(narinfo.contains("Sig: lan-1:"), "{narinfo}");

    let again = rave(&project, &nix, &["apply", "--auto-approve"]);
    again.assert_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.transcript());
    assert!(!again.stderr.contains("building") && !again.stderr.contains("sent"), "{}", again.transcript());

    // Another store that trusts the key substitutes the path; one that trusts another key, or a
    // cache whose paths are unsigned, is refused.
    let cache_uri = format!("file://{}", cache.display());
    let substituted = nix.substitute(&cache_uri, &public_key, &path);
    assert!(substituted.status.success(), "{}", String::from_utf8_lossy(&substituted.stderr));
    let (_, other_key) = nix.key_pair(&project.path().join("other-keys"), "other-1");
    let refusals = [
        nix.substitute(&cache_uri, &other_key, &path),
        nix.substitute(&format!("file://{}", unsigned_cache.display()), &public_key, &path),
    ];
    for refused in refusals {
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{stderr}");
        assert!(stderr.contains("is not signed by any of the keys in 'trusted-public-keys'"), "{stderr}");
    }
}

#[test]
fn a_signed_push_to_an_http_cache_substitutes_elsewhere() {
    let nix = Nix::new();
    let project = Project::new();
    let unique = unique();
    let (_, public_key) = nix.key_pair(&project.path().join("keys"), "web-1");
    let server = HttpCache::start(&project.path().join("served"));
    project.write("flake.nix", flake(&[("tool", "2.0", "tool")], &unique));
    project.write(
        "rave.yaml",
        format!(
            "version: 1
project: http
caches:
  web: {{ type: nix-store, uri: \"{}\", public_key: \"{public_key}\", secret_key: file:keys/web-1.sec }}
builds:
  tool: {{ attr: \".#packages.x86_64-linux.tool\", push: [web] }}
",
            server.uri
        ),
    );
    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert!(apply.stderr.contains("cache.web: 1 path sent, signed"), "{}", apply.transcript());
    let path = store_path(&apply);
    let substituted = nix.substitute(&server.uri, &public_key, &path);
    assert!(substituted.status.success(), "{}", String::from_utf8_lossy(&substituted.stderr));
}

/// A flake whose `hello-1.0` refers to `libfoo-VERSION` (in its run-time closure) and is built
/// with `tool-VERSION` (only in its build-time closure).
fn hello_with_library(version: &str, unique: &str) -> String {
    format!(
        r#"{{
  outputs = {{ self }}: let
    libfoo = derivation {{ name = "libfoo-{version}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo {unique} > $out" ]; }};
    tool = derivation {{ name = "tool-{version}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo {unique} > $out" ]; }};
  in {{
    packages.x86_64-linux.hello = derivation {{ name = "hello-1.0"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "test -e ${{tool}} && echo ${{libfoo}} > $out" ]; }};
  }};
}}
"#
    )
}

#[test]
fn a_changed_build_shows_the_old_and_new_store_path_and_what_changed_inside() {
    let nix = Nix::new();
    let project = Project::new();
    let unique = unique();
    project.write("flake.nix", hello_with_library("1.0", &unique));
    project.write("rave.yaml", "version: 1\nproject: change\nbuilds:\n  hello: { attr: \".#hello\" }\n");
    let first = rave(&project, &nix, &["apply", "--auto-approve"]);
    first.assert_code(0);
    let old = store_path(&first);
    // As a driver that keeps no `drv_path` records it (a host's system): the plan finds the old
    // derivation from the old store path.
    let mut state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    let outputs = state["resources"]["build.hello"]["outputs"].as_object_mut().expect("outputs");
    assert!(outputs.remove("drv_path").is_some());
    project.write(".rave/state.json", serde_json::to_string(&state).expect("json"));
    project.write("flake.nix", hello_with_library("1.1", &unique));
    let plan = rave(&project, &nix, &["plan", "--detailed-exitcode"]);
    plan.assert_code(2);
    assert!(plan.stdout.contains("# build.hello will be updated in place"), "{}", plan.transcript());
    let line = plan.stdout.lines().find(|line| line.contains("store_path")).expect("store path line");
    assert!(line.contains(&old) && line.matches("-hello-1.0").count() == 2, "{}", plan.transcript());
    // Not built yet: the derivation closures, build-time tools included.
    assert!(plan.stdout.contains("# closure: libfoo: 1.0 → 1.1\n"), "{}", plan.transcript());
    assert!(plan.stdout.contains("# closure: tool: 1.0 → 1.1\n"), "{}", plan.transcript());
    // …and which of its inputs changed, read from the two derivations.
    assert!(plan.stdout.contains("# changed: `hello-1.0`: input `libfoo`: 1.0 → 1.1\n"), "{}", plan.transcript());
    // Built (here by hand): `nix store diff-closures`, the run-time closures only.
    let built = nix.run(&["build", "--no-link", &format!("{}#hello", project.path().display())]);
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let plan = rave(&project, &nix, &["plan"]);
    assert!(plan.stdout.contains("# closure: libfoo: 1.0 → 1.1\n"), "{}", plan.transcript());
    assert!(!plan.stdout.contains("# closure: tool"), "{}", plan.transcript());
    // Without an evaluation the recorded store path stands.
    rave(&project, &nix, &["plan", "--refresh=false", "--detailed-exitcode"]).assert_code(0);
    // A saved plan carries the derivation it was made with; applying it builds that one.
    rave(&project, &nix, &["plan", "-o", "change.plan"]).assert_code(0);
    let saved: serde_json::Value = serde_json::from_str(&project.read("change.plan")).expect("saved plan");
    let text = saved.to_string();
    assert!(text.contains("\"derivation\"") && text.contains("-hello-1.0.drv"), "{text}");
    let apply = rave(&project, &nix, &["apply", "change.plan"]);
    apply.assert_code(0);
    assert!(apply.stdout.contains("Resources: 0 added, 1 changed, 0 destroyed."), "{}", apply.transcript());
    rave(&project, &nix, &["plan", "--detailed-exitcode"]).assert_code(0);
}

#[test]
fn an_ephemeral_builder_is_created_and_destroyed_even_when_its_build_fails() {
    let nix = Nix::new();
    let project = Project::new();
    let unique = unique();
    project.write("flake.nix", flake(&[("heavy", "1.0", "heavy")], &unique));
    // Nothing listens on this port: the builder that "came up" cannot be reached.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    project.write(
        "rave.yaml",
        format!(
            "version: 1
project: burst
builders:
  burst-1:
    ssh: root@127.0.0.1
    port: {port}
    host_key: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\"
    provision:
      create: [sh, -c, \"echo created >> provision.log\"]
      destroy: [sh, -c, \"echo destroyed >> provision.log\"]
    ephemeral: true
builds:
  heavy: {{ attr: \".#heavy\", builders: [burst-1] }}
"
        ),
    );
    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    apply.assert_code(1);
    assert_eq!(project.read("provision.log"), "created\ndestroyed\n", "{}", apply.transcript());
    assert!(
        apply.stdout.contains("reaching builder `builder.burst-1` (`root@127.0.0.1`) failed"),
        "{}",
        apply.transcript()
    );
    assert!(apply.stdout.contains("Connection refused"), "{}", apply.transcript());
    assert!(apply.stdout.contains("ephemeral builders: builder.burst-1: created, destroyed"), "{}", apply.transcript());
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    assert_eq!(state["resources"]["builder.burst-1"]["outputs"]["ephemeral"], true);
}

#[test]
fn a_file_without_nix_built_resources_never_runs_nix_and_a_missing_nix_is_explained() {
    let project = Project::new();
    project.write("rave.yaml", "version: 1\nproject: nonix\nhosts:\n  a: { local: true }\n");
    let no_nix_path = project.path().join("empty-bin");
    std::fs::create_dir_all(&no_nix_path).expect("dir");
    let run_without_nix = |project: &Project| {
        let mut command = project.command(&["plan"]);
        command.env("PATH", &no_nix_path);
        project.run_from(&command.output().expect("run rave"))
    };
    run_without_nix(&project).assert_code(0);
    project.write("rave.yaml", "version: 1\nproject: nonix\nbuilds:\n  a: { attr: \".#a\" }\n");
    let run = run_without_nix(&project);
    run.assert_code(1);
    assert!(run.stderr.contains("`nix` is not installed or not on PATH"), "{}", run.transcript());
    assert!(
        run.stderr.contains("hint: install Nix (`apt-get install nix-bin nix-setup-systemd`"),
        "{}",
        run.transcript()
    );
}

#[test]
fn the_pipeline_example_plans_with_a_real_evaluation() {
    let nix = Nix::new();
    let project = Project::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pipeline");
    for name in ["rave.yaml", "flake.nix"] {
        std::fs::copy(example.join(name), project.path().join(name)).expect("copy example");
    }
    project.write("keys/lan-1.sec", "placeholder\n").write("keys/builder", "placeholder\n");
    let mut command = project.command(&["plan"]);
    nix.configure(&mut command).env("CACHIX_AUTH_TOKEN", "placeholder");
    let plan = project.run_from(&command.output().expect("run rave"));
    plan.assert_code(0);
    assert!(plan.stdout.contains("Plan: 7 to add, 0 to change, 0 to destroy."), "{}", plan.transcript());
    for package in ["codex-0.1.2", "onnxruntime-1.17.0", "mcp-servers-2025.12", "home-manager-generation-1"] {
        assert!(plan.stdout.contains(&format!("-{package}\"")), "{package}: {}", plan.transcript());
    }
}

#[test]
fn an_output_the_flake_lacks_is_named_with_where_it_was_looked_for() {
    let nix = Nix::new();
    let project = Project::new();
    project.write("flake.nix", flake(&[("hello", "1.0", "hi")], &unique()));
    project.write("rave.yaml", "version: 1\nproject: missing\nbuilds:\n  nope: { attr: \".#nope\" }\n");
    let plan = rave(&project, &nix, &["plan"]);
    plan.assert_code(1);
    assert!(
        plan.stderr.contains("evaluating `build.nope` failed: `build.nope`: flake `[TEMP]` has no derivation at `packages.x86_64-linux.nope` or `legacyPackages.x86_64-linux.nope` or `nope`"),
        "{}",
        plan.transcript()
    );
}

#[test]
fn a_push_to_cachix_without_its_cli_says_what_is_missing() {
    let nix = Nix::new();
    let project = Project::new();
    // Only `nix` on PATH: whatever this machine has, there is no cachix.
    let bin = project.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let real_nix = std::env::split_paths(&std::env::var_os("PATH").expect("PATH"))
        .map(|dir| dir.join("nix"))
        .find(|path| path.is_file())
        .expect("nix");
    std::os::unix::fs::symlink(real_nix, bin.join("nix")).expect("link nix");
    project.write("flake.nix", flake(&[("hello", "1.0", "hi")], &unique()));
    project.write(
        "rave.yaml",
        "version: 1
project: cachix
caches:
  workspace: { type: cachix, name: my-modular-workspace, auth_token: env:CACHIX_AUTH_TOKEN }
builds:
  hello: { attr: \".#hello\", push: [workspace] }
",
    );
    let mut command = project.command(&["apply", "--auto-approve"]);
    nix.configure(&mut command).env("PATH", &bin).env("CACHIX_AUTH_TOKEN", "s3cr3t-token");
    let apply = project.run_from(&command.output().expect("run rave"));
    apply.assert_code(1);
    let out = format!("{}{}", apply.stdout, apply.stderr);
    assert!(
        out.contains("cannot push to `cache.workspace`: the `cachix` CLI is not installed or not on PATH"),
        "{}",
        apply.transcript()
    );
    assert!(out.contains("install the cachix CLI"), "{}", apply.transcript());
    assert!(!out.contains("s3cr3t-token"), "the token never shows");
}

#[test]
fn a_vm_runner_is_pushed_signed_to_its_cache_once() {
    let nix = Nix::new();
    let project = Project::new();
    let unique = unique();
    let (_, public_key) = nix.key_pair(&project.path().join("keys"), "lan-1");
    let cache = project.path().join("cache");
    // A runner in microvm.nix's shape that is never started (`state: stopped`).
    project.write(
        "runner/flake.nix",
        format!(
            r#"{{
  outputs = {{ self }}: {{
    nixosConfigurations.vm1.config.microvm.declaredRunner = derivation {{ name = "microvm-run-vm1"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "/bin/mkdir -p $out/bin && echo '#{unique}' > $out/bin/microvm-run" ]; }};
  }};
}}
"#
        ),
    );
    project.write(
        "rave.yaml",
        format!(
            "version: 1
project: runners
nix: {{ flake: ./runner, system: x86_64-linux }}
caches:
  lan: {{ type: nix-store, uri: \"file://{}\", public_key: \"{public_key}\", secret_key: file:keys/lan-1.sec }}
hosts:
  here: {{ local: true }}
vms:
  vm1: {{ host: here, vcpus: 1, memory: 256MiB, nixos: \".#nixosConfigurations.vm1\", state: stopped, push: [lan] }}
",
            cache.display()
        ),
    );
    let apply = rave(&project, &nix, &["apply", "--auto-approve"]);
    apply.assert_code(0);
    assert!(apply.stderr.contains("vm.vm1: cache.lan: 1 path sent, signed"), "{}", apply.transcript());
    let state: serde_json::Value = serde_json::from_str(&project.read(".rave/state.json")).expect("state");
    let runner = state["resources"]["vm.vm1"]["outputs"]["runner"].as_str().expect("the runner").to_owned();
    let substituted = nix.substitute(&format!("file://{}", cache.display()), &public_key, &runner);
    assert!(substituted.status.success(), "{}", String::from_utf8_lossy(&substituted.stderr));
    let again = rave(&project, &nix, &["apply", "--auto-approve"]);
    assert!(again.stdout.contains("No changes."), "{}", again.transcript());
    assert!(!again.stderr.contains("sent"), "{}", again.transcript());
}
