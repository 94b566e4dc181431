//! Building: `nix build --json --no-link` for many installables at once, the machines file that
//! sends builds to remote builders, and reading what was built.
//!
//! Pure: command lines, file contents and parsing. Nix 2.8 has no `--print-out-paths`, and its
//! `--json` list is not in the order asked, so results are matched by `drvPath`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use super::NixError;
use super::runner::nix_command;
use super::substituters::Substituters;
use crate::drivers::command_spec::CommandSpec;
use crate::drivers::ssh::SshTarget;
use crate::model::BuilderSpec;

/// How long one batch of builds may take (heavy packages take hours).
pub(crate) const BUILD_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// One `nix build` of many installables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BuildRequest {
    /// `FLAKE#ATTRIBUTE` installables.
    pub(crate) installables: Vec<String>,
    /// The machines file naming the remote builders, when the builds go to any.
    pub(crate) machines: Option<PathBuf>,
    /// Whether nothing may be built locally (`--max-jobs 0`): every build goes to a builder.
    pub(crate) is_remote_only: bool,
    /// Caches to substitute from besides the configured ones, and their keys.
    pub(crate) substituters: Substituters,
    /// `NIX_SSHOPTS` for the builders' connections.
    pub(crate) ssh_opts: Option<String>,
}

/// `nix build --json --no-link --keep-going [--builders @FILE] [--max-jobs 0] INSTALLABLE…`:
/// one failed build does not stop the others of its batch.
pub(crate) fn build_command(request: &BuildRequest) -> CommandSpec {
    let mut command = nix_command(["build", "--json", "--no-link", "--keep-going"], BUILD_TIMEOUT);
    if let Some(machines) = &request.machines {
        command = command.args(["--builders".to_owned(), format!("@{}", machines.display())]);
        // Let builders fetch what they can from caches instead of receiving it all from here.
        command = command.args(["--option", "builders-use-substitutes", "true"]);
    }
    if request.is_remote_only {
        command = command.args(["--max-jobs", "0"]);
    }
    command = command.args(request.substituters.options());
    if let Some(ssh_opts) = &request.ssh_opts {
        command = command.env("NIX_SSHOPTS", ssh_opts.clone());
    }
    command.args(request.installables.iter().cloned())
}

/// One line of a machines file: `ssh://user@host systems key jobs speed features - HOSTKEY`, the
/// host key in base64 (field 8), so nix pins it and never trusts on first use. The store is
/// `store` (`ssh://user@host`, perhaps with a `remote-program` that trusts caches).
pub(crate) fn machines_line(store: &str, target: &SshTarget, spec: &BuilderSpec) -> String {
    let or_dash = |text: String| if text.is_empty() { "-".to_owned() } else { text };
    let identity = target.identity.as_ref().map(|path| path.display().to_string()).unwrap_or_default();
    format!(
        "{store} {} {} {} {} {} - {}",
        or_dash(spec.systems.join(",")),
        or_dash(identity),
        spec.max_jobs,
        spec.speed_factor,
        or_dash(spec.features.join(",")),
        base64::engine::general_purpose::STANDARD.encode(&target.host_key),
    )
}

/// What one derivation built: its outputs by name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Built {
    /// The derivation.
    pub(crate) drv_path: String,
    /// Output name → store path.
    pub(crate) outputs: BTreeMap<String, String>,
}

/// What `nix build --json` printed, by `drvPath`.
pub(crate) fn parse_build_output(stdout: &str) -> Result<BTreeMap<String, Built>, NixError> {
    let built: Vec<Built> = serde_json::from_str(stdout)
        .map_err(|error| NixError::BadOutput { doing: "building".to_owned(), problem: error.to_string() })?;
    Ok(built.into_iter().map(|built| (built.drv_path.clone(), built)).collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn builder(json: serde_json::Value) -> (SshTarget, BuilderSpec) {
        let spec: BuilderSpec = serde_json::from_value(json).unwrap();
        let target =
            SshTarget::of_builder(&"builder.burst-1".parse().unwrap(), &spec, Path::new("/srv/infra")).unwrap();
        (target, spec)
    }

    #[test]
    fn a_local_build_of_two_outputs_is_one_command() {
        let request = BuildRequest {
            installables: vec!["/srv/infra#codex".to_owned(), "/srv/infra#onnx".to_owned()],
            ..BuildRequest::default()
        };
        insta::assert_snapshot!(build_command(&request), @"nix --extra-experimental-features 'nix-command flakes' build --json --no-link --keep-going /srv/infra#codex /srv/infra#onnx");
    }

    #[test]
    fn a_remote_only_build_names_the_machines_file_and_builds_nothing_here() {
        let request = BuildRequest {
            installables: vec!["/srv/infra#codex".to_owned()],
            machines: Some("/srv/infra/.rave/nix/machines-1".into()),
            is_remote_only: true,
            substituters: Substituters {
                uris: vec!["file:///var/cache/rave".to_owned()],
                public_keys: vec!["lan-1:abc=".to_owned()],
            },
            ssh_opts: Some("-o BatchMode=yes".to_owned()),
        };
        insta::assert_snapshot!(build_command(&request), @"NIX_SSHOPTS=<hidden> nix --extra-experimental-features 'nix-command flakes' build --json --no-link --keep-going --builders @/srv/infra/.rave/nix/machines-1 --option builders-use-substitutes true --max-jobs 0 --option extra-substituters file:///var/cache/rave --option extra-trusted-public-keys lan-1:abc= /srv/infra#codex");
    }

    #[test]
    fn a_machines_line_pins_the_host_key_in_base64() {
        let (target, spec) = builder(serde_json::json!({
            "ssh": "root@192.0.2.9", "ssh_key": "file:keys/builder", "host_key": "ssh-ed25519 AAAAC3Nza builder",
            "systems": ["x86_64-linux", "i686-linux"], "max_jobs": 16, "speed_factor": 2, "features": ["kvm", "big-parallel"],
        }));
        assert_eq!(
            machines_line("ssh://root@192.0.2.9", &target, &spec),
            "ssh://root@192.0.2.9 x86_64-linux,i686-linux /srv/infra/keys/builder 16 2 kvm,big-parallel - c3NoLWVkMjU1MTkgQUFBQUMzTnph"
        );
        let (target, spec) = builder(serde_json::json!({ "ssh": "nix@b", "host_key": "ssh-ed25519 AAAA" }));
        assert_eq!(
            machines_line("ssh://nix@b?remote-store=/d", &target, &spec),
            "ssh://nix@b?remote-store=/d x86_64-linux - 1 1 - - c3NoLWVkMjU1MTkgQUFBQQ=="
        );
    }

    #[test]
    fn results_are_matched_by_derivation_not_order() {
        let stdout = r#"[{"drvPath":"/nix/store/b.drv","outputs":{"out":"/nix/store/b"}},{"drvPath":"/nix/store/a.drv","outputs":{"out":"/nix/store/a","dev":"/nix/store/a-dev"}}]"#;
        let built = parse_build_output(stdout).unwrap();
        assert_eq!(built["/nix/store/a.drv"].outputs["dev"], "/nix/store/a-dev");
        assert_eq!(built["/nix/store/b.drv"].outputs["out"], "/nix/store/b");
    }
}
