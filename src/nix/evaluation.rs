//! Evaluation in one batch: the derivation of every Nix-built resource in the file (builds, host
//! systems, VM runners) from **one** `nix eval --json` process, whatever their number.
//!
//! The expression loads each flake once (`builtins.getFlake`), looks each output up where Nix
//! itself would (`packages.SYSTEM.X` before `X`), and returns `{ "build.codex" = { drv; out; }; … }`.
//! A file with no Nix-built resource runs no process at all. Building the command line and
//! reading its output are pure; only [`evaluate`] runs anything.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use super::reference::{OutputKind, Reference, nix_string};
use super::runner::{self, EVALUATION_TIMEOUT, nix_command};
use super::{Derivation, NixError};
use crate::drivers::command_spec::CommandSpec;
use crate::model::{ResourceId, ResourceSpec, Spec};

/// One resource to evaluate: where its output is, and what to take from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The resource.
    pub(crate) address: ResourceId,
    /// The flake output the file names.
    pub(crate) reference: Reference,
    /// The attributes under the output that hold the derivation
    /// (`config.system.build.toplevel` for a host).
    pub(crate) suffix: &'static [&'static str],
}

/// Where a host's system is under its NixOS configuration.
const HOST_SYSTEM: &[&str] = &["config", "system", "build", "toplevel"];

/// Where a VM's runner is under its NixOS configuration (microvm.nix).
pub(crate) const VM_RUNNER: &[&str] = &["config", "microvm", "declaredRunner"];

/// Every Nix-built resource in `resources` (`builds:`, hosts and VMs with `nixos:`), resolved
/// against the file's `nix:` settings and directory.
pub(crate) fn targets<'a>(
    resources: impl IntoIterator<Item = (&'a ResourceId, &'a ResourceSpec)>,
    spec: &Spec,
    base_dir: &Path,
) -> Result<Vec<Target>, NixError> {
    let settings = &spec.nix;
    let mut targets = Vec::new();
    for (address, resource) in resources {
        let (text, kind, system, suffix) = match resource {
            ResourceSpec::Build(build) => (&build.attr, OutputKind::Package, &settings.system, &[][..]),
            ResourceSpec::Host(host) => match &host.nixos {
                Some(nixos) => (
                    nixos,
                    OutputKind::NixosConfiguration,
                    host.system.as_ref().unwrap_or(&settings.system),
                    HOST_SYSTEM,
                ),
                None => continue,
            },
            ResourceSpec::Vm(vm) => match &vm.nixos {
                Some(nixos) => (nixos, OutputKind::NixosConfiguration, &settings.system, VM_RUNNER),
                None => continue,
            },
            _ => continue,
        };
        let reference = Reference::parse(text, kind, settings, system, base_dir)
            .map_err(|error| NixError::InvalidReference { address: address.clone(), error })?;
        targets.push(Target { address: address.clone(), reference, suffix });
    }
    Ok(targets)
}

/// The one expression that evaluates every target.
pub(crate) fn expression(targets: &[Target]) -> String {
    let mut flakes: Vec<&str> = targets.iter().map(|target| target.reference.flake.as_str()).collect();
    flakes.sort_unstable();
    flakes.dedup();
    let mut text = String::from(concat!(
        "let\n",
        "  at = value: path: builtins.foldl' (v: name: if builtins.isAttrs v && builtins.hasAttr name v ",
        "then builtins.getAttr name v else null) value path;\n",
        "  pick = flake: candidates: suffix: missing:\n",
        "    let found = builtins.filter (v: v != null) (map (at flake) candidates);\n",
        "        output = if found == [] then throw missing else at (builtins.head found) suffix;\n",
        "    in if output == null || !(output ? drvPath) then throw missing\n",
        "       else { drv = output.drvPath; out = output.outPath; };\n",
    ));
    for (index, flake) in flakes.iter().enumerate() {
        let _ = writeln!(text, "  flake{index} = builtins.getFlake {};", nix_string(flake));
    }
    text.push_str("in {\n");
    for target in targets {
        let index = flakes.binary_search(&target.reference.flake.as_str()).unwrap_or_default();
        let candidates: Vec<String> = target.reference.candidates.iter().map(|path| nix_list(path)).collect();
        let suffix: Vec<String> = target.suffix.iter().map(|name| (*name).to_owned()).collect();
        let _ = writeln!(
            text,
            "  {} = pick flake{index} [ {} ] {} {};",
            nix_string(&target.address.to_string()),
            candidates.join(" "),
            nix_list(&suffix),
            nix_string(&missing_message(target)),
        );
    }
    text.push_str("}\n");
    text
}

/// What Nix says when a target's output is not there.
fn missing_message(target: &Target) -> String {
    let tried: Vec<String> = target
        .reference
        .candidates
        .iter()
        .map(|path| {
            let full: Vec<&str> = path.iter().map(String::as_str).chain(target.suffix.iter().copied()).collect();
            format!("`{}`", full.join("."))
        })
        .collect();
    format!("`{}`: flake `{}` has no derivation at {}", target.address, target.reference.flake, tried.join(" or "))
}

/// `[ "a" "b" ]`.
fn nix_list(names: &[String]) -> String {
    let mut list = String::from("[ ");
    for name in names {
        list.push_str(&nix_string(name));
        list.push(' ');
    }
    list.push(']');
    list
}

/// `nix eval --json --impure --file FILE`, `FILE` holding [`expression`]: a file, as one argument
/// may not exceed 128 KiB and a file of a few hundred builds would. `--impure` lets `getFlake`
/// load a flake by path without a lock, as `nix build .#x` does.
pub(crate) fn eval_command(expression_file: &Path) -> CommandSpec {
    nix_command(["eval", "--json", "--impure", "--file"], EVALUATION_TIMEOUT).arg(expression_file.display().to_string())
}

/// What `nix eval` printed, by address.
pub(crate) fn parse_output(stdout: &str) -> Result<BTreeMap<ResourceId, Derivation>, NixError> {
    /// Named `drv` and `out`: an attribute set with `outPath` would print as that path alone.
    #[derive(Deserialize)]
    struct Evaluated {
        drv: String,
        out: String,
    }
    let evaluated: BTreeMap<String, Evaluated> = serde_json::from_str(stdout).map_err(|error| NixError::BadOutput {
        doing: "evaluating derivations".to_owned(),
        problem: error.to_string(),
    })?;
    evaluated
        .into_iter()
        .map(|(address, value)| {
            let address = address.parse().map_err(|_| NixError::BadOutput {
                doing: "evaluating derivations".to_owned(),
                problem: format!("`{address}` is not an address rave asked for"),
            })?;
            Ok((address, Derivation { drv_path: value.drv, out_path: value.out }))
        })
        .collect()
}

/// The derivation of every target, from one `nix eval` process; none when there are no targets.
pub(crate) async fn evaluate(targets: &[Target]) -> Result<BTreeMap<ResourceId, Derivation>, NixError> {
    if targets.is_empty() {
        return Ok(BTreeMap::new());
    }
    let doing = match targets.len() {
        1 => format!("evaluating `{}`", targets[0].address),
        count => format!("evaluating {count} derivations"),
    };
    let file = write_expression(targets)
        .map_err(|error| NixError::Io { doing: format!("{doing}: writing the expression for `nix eval`"), error })?;
    let output = runner::run(doing, &eval_command(file.path()), None).await?;
    parse_output(&output.stdout)
}

/// The expression, in a temporary file removed when dropped.
fn write_expression(targets: &[Target]) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write as _;
    let mut file = tempfile::Builder::new().prefix("rave-evaluate-").suffix(".nix").tempfile()?;
    file.write_all(expression(targets).as_bytes())?;
    file.flush()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_world::spec;

    fn file(resources: &[(&str, ResourceSpec)]) -> (Spec, Vec<(ResourceId, ResourceSpec)>) {
        let spec = Spec {
            source: "/srv/infra/rave.yaml".into(),
            project: crate::model::Name::new("lab").unwrap(),
            state: crate::config::StateSettings::default(),
            nix: crate::config::NixSettings::default(),
            resources: BTreeMap::new(),
            moved: Vec::new(),
        };
        (spec, resources.iter().map(|(address, resource)| (address.parse().unwrap(), resource.clone())).collect())
    }

    fn resolve(resources: &[(&str, ResourceSpec)]) -> Vec<Target> {
        let (spec, resources) = file(resources);
        targets(resources.iter().map(|(address, resource)| (address, resource)), &spec, Path::new("/srv/infra"))
            .unwrap()
    }

    #[test]
    fn only_builds_and_machines_with_nixos_are_evaluated() {
        let targets = resolve(&[
            ("build.codex", spec("build", serde_json::json!({"attr": ".#codex"}))),
            ("host.plain", spec("host", serde_json::json!({"local": true}))),
            ("host.shoshin", spec("host", serde_json::json!({"local": true, "nixos": ".#shoshin"}))),
            ("vm.gitlab", spec("vm", serde_json::json!({"host": "shoshin", "nixos": ".#nixosConfigurations.gitlab"}))),
            ("cache.lan", spec("cache", serde_json::json!({"type": "nix-store", "uri": "file:///c"}))),
        ]);
        let addresses: Vec<String> = targets.iter().map(|target| target.address.to_string()).collect();
        assert_eq!(addresses, ["build.codex", "host.shoshin", "vm.gitlab"]);
    }

    #[test]
    fn one_expression_loads_each_flake_once() {
        let targets = resolve(&[
            ("build.codex", spec("build", serde_json::json!({"attr": ".#codex"}))),
            ("build.hello", spec("build", serde_json::json!({"attr": "github:nixos/nixpkgs#hello"}))),
            ("host.shoshin", spec("host", serde_json::json!({"local": true, "nixos": ".#shoshin"}))),
            ("vm.gitlab", spec("vm", serde_json::json!({"host": "shoshin", "nixos": ".#nixosConfigurations.gitlab"}))),
        ]);
        insta::assert_snapshot!(expression(&targets));
    }

    #[test]
    fn the_output_is_read_by_address() {
        let stdout = r#"{"build.codex":{"drv":"/nix/store/a-codex.drv","out":"/nix/store/b-codex"}}"#;
        let derivations = parse_output(stdout).unwrap();
        assert_eq!(
            derivations[&"build.codex".parse::<ResourceId>().unwrap()],
            Derivation { drv_path: "/nix/store/a-codex.drv".to_owned(), out_path: "/nix/store/b-codex".to_owned() }
        );
        assert!(matches!(parse_output("[]"), Err(NixError::BadOutput { .. })));
    }

    #[test]
    fn the_expression_goes_to_nix_in_a_file() {
        insta::assert_snapshot!(eval_command(Path::new("/tmp/rave-evaluate-x.nix")), @"nix --extra-experimental-features 'nix-command flakes' eval --json --impure --file /tmp/rave-evaluate-x.nix");
    }

    #[tokio::test]
    async fn no_targets_run_no_nix() {
        assert_eq!(evaluate(&[]).await.unwrap(), BTreeMap::new());
    }
}
