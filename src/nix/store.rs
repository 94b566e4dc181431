//! Stores and caches: `nix copy`, `nix path-info --json`, `nix store ping`, `nix store sign`,
//! and signing keys. Pure command lines and parsers; drivers run them.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use super::NixError;
use super::runner::nix_command;
use crate::drivers::command_spec::CommandSpec;

/// How long one copy to a cache may take.
pub(crate) const COPY_TIMEOUT: Duration = Duration::from_secs(3600);

/// How long a short query (`path-info`, `store ping`, key conversion) may take.
pub(crate) const QUERY_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether a store URI is reached over SSH (`ssh://`, `ssh-ng://`): those take `NIX_SSHOPTS`
/// and are signed locally before the copy rather than by a `secret-key` parameter.
pub(crate) fn is_ssh_store(uri: &str) -> bool {
    uri.starts_with("ssh://") || uri.starts_with("ssh-ng://")
}

/// `uri` with `secret-key=KEY` added, so a binary cache (`file://`, `http(s)://`, `s3://`) signs
/// what it receives.
pub(crate) fn signing_uri(uri: &str, secret_key: &Path) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}secret-key={}", secret_key.display())
}

/// `nix copy --to URI PATH…`, with `NIX_SSHOPTS` for an SSH store.
pub(crate) fn copy_command(to: &str, paths: &[String], ssh_opts: Option<&str>) -> CommandSpec {
    let mut command = nix_command(["copy", "--to", to], COPY_TIMEOUT).args(paths.iter().cloned());
    if let Some(ssh_opts) = ssh_opts {
        command = command.env("NIX_SSHOPTS", ssh_opts);
    }
    command
}

/// `nix store sign --key-file KEY --recursive PATH…`: signs paths in the local store, so a copy
/// to an SSH store carries the signatures.
pub(crate) fn sign_command(secret_key: &Path, paths: &[String]) -> CommandSpec {
    nix_command(["store", "sign", "--recursive", "--key-file"], QUERY_TIMEOUT)
        .arg(secret_key.display().to_string())
        .args(paths.iter().cloned())
}

/// `nix path-info --json [--store URI] PATH…`: which of the paths the store (the local one
/// when `None`) has.
pub(crate) fn path_info_command(store: Option<&str>, paths: &[String], ssh_opts: Option<&str>) -> CommandSpec {
    let mut command = nix_command(["path-info", "--json"], QUERY_TIMEOUT);
    if let Some(store) = store {
        command = command.args(["--store", store]);
    }
    command = command.args(paths.iter().cloned());
    if let Some(ssh_opts) = ssh_opts {
        command = command.env("NIX_SSHOPTS", ssh_opts);
    }
    command
}

/// The valid paths in what `nix path-info --json` printed: a list of `{path, valid?}` in Nix 2.8,
/// an object keyed by path (`null` for an invalid one) in 2.19 and later.
pub(crate) fn parse_valid_paths(stdout: &str) -> Result<BTreeSet<String>, NixError> {
    let bad = |problem: String| NixError::BadOutput { doing: "asking a store for paths".to_owned(), problem };
    let value: serde_json::Value = serde_json::from_str(stdout).map_err(|error| bad(error.to_string()))?;
    let is_valid = |info: &serde_json::Value| {
        info.is_object() && info.get("valid").and_then(serde_json::Value::as_bool) != Some(false)
    };
    match value {
        serde_json::Value::Array(entries) => Ok(entries
            .iter()
            .filter(|entry| is_valid(entry))
            .filter_map(|entry| entry.get("path").and_then(serde_json::Value::as_str).map(str::to_owned))
            .collect()),
        serde_json::Value::Object(entries) => {
            Ok(entries.into_iter().filter(|(_, info)| is_valid(info)).map(|(path, _)| path).collect())
        }
        other => Err(bad(format!("expected a list or an object, found `{other}`"))),
    }
}

/// `nix store ping --store URI`: the store answers (over SSH: the machine is reachable, its key
/// is the pinned one, and it runs Nix).
pub(crate) fn ping_command(store: &str, ssh_opts: Option<&str>) -> CommandSpec {
    let mut command = nix_command(["store", "ping", "--store", store], QUERY_TIMEOUT);
    if let Some(ssh_opts) = ssh_opts {
        command = command.env("NIX_SSHOPTS", ssh_opts);
    }
    command
}

/// `nix key convert-secret-to-public` with the secret key on stdin: the public key it gives.
pub(crate) fn public_key_command(secret_key: &[u8]) -> CommandSpec {
    nix_command(["key", "convert-secret-to-public"], QUERY_TIMEOUT).stdin(secret_key.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Vec<String> {
        vec!["/nix/store/aaa-codex-1.0".to_owned()]
    }

    #[test]
    fn a_binary_cache_signs_through_its_uri() {
        let key = Path::new("/srv/infra/keys/lan.sec");
        assert_eq!(
            signing_uri("file:///var/cache/rave", key),
            "file:///var/cache/rave?secret-key=/srv/infra/keys/lan.sec"
        );
        assert_eq!(
            signing_uri("s3://cache?region=eu-west-1", key),
            "s3://cache?region=eu-west-1&secret-key=/srv/infra/keys/lan.sec"
        );
        assert!(is_ssh_store("ssh-ng://root@b") && is_ssh_store("ssh://root@b") && !is_ssh_store("https://c"));
    }

    #[test]
    fn store_commands() {
        let copy = copy_command("file:///c?secret-key=/k", &paths(), None);
        insta::assert_snapshot!(copy, @"nix --extra-experimental-features 'nix-command flakes' copy --to 'file:///c?secret-key=/k' /nix/store/aaa-codex-1.0");
        let ssh_copy = copy_command("ssh://root@10.0.0.2", &paths(), Some("-o BatchMode=yes"));
        insta::assert_snapshot!(ssh_copy, @"NIX_SSHOPTS=<hidden> nix --extra-experimental-features 'nix-command flakes' copy --to ssh://root@10.0.0.2 /nix/store/aaa-codex-1.0");
        insta::assert_snapshot!(sign_command(Path::new("/k"), &paths()), @"nix --extra-experimental-features 'nix-command flakes' store sign --recursive --key-file /k /nix/store/aaa-codex-1.0");
        insta::assert_snapshot!(path_info_command(Some("http://127.0.0.1:8080"), &paths(), None), @"nix --extra-experimental-features 'nix-command flakes' path-info --json --store http://127.0.0.1:8080 /nix/store/aaa-codex-1.0");
        insta::assert_snapshot!(ping_command("ssh-ng://root@b", None), @"nix --extra-experimental-features 'nix-command flakes' store ping --store ssh-ng://root@b");
        let key = public_key_command(b"lan-1:secret");
        assert_eq!(key.stdin.as_deref(), Some(&b"lan-1:secret"[..]));
        insta::assert_snapshot!(key, @"nix --extra-experimental-features 'nix-command flakes' key convert-secret-to-public");
    }

    #[test]
    fn path_info_is_read_in_the_old_list_and_the_new_object_form() {
        let old = r#"[{"path":"/nix/store/a","narHash":"sha256-x"},{"path":"/nix/store/b","valid":false}]"#;
        assert_eq!(parse_valid_paths(old).unwrap(), BTreeSet::from(["/nix/store/a".to_owned()]));
        let new = r#"{"/nix/store/a":{"narHash":"sha256-x"},"/nix/store/b":null}"#;
        assert_eq!(parse_valid_paths(new).unwrap(), BTreeSet::from(["/nix/store/a".to_owned()]));
        assert!(parse_valid_paths("42").is_err());
    }
}
