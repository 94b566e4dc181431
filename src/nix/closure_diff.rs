//! What changed inside: the packages whose versions differ between two closures, as
//! `nix store diff-closures` reports them (`openssl: 3.0.1 → 3.0.2`, `hello: ∅ → 2.12`).
//!
//! When both outputs are in the local store (the new one built or substituted before), this is
//! `nix store diff-closures OLD NEW` itself, on the run-time closures. A plan usually has not
//! built the new output yet, so otherwise it compares derivation closures (every `.drv` the build
//! needs, from `nix-store --query --requisites`), which are in the store as soon as the file is
//! evaluated; the old one is there while its `.drv` has not been collected. Building the command
//! lines, reading names and comparing them is pure; [`closure_changes`] runs the queries.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::NixError;
use super::runner::{self, nix_command};
use super::store::QUERY_TIMEOUT;
use crate::drivers::command_spec::CommandSpec;

/// One package whose versions differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct VersionChange {
    /// The package name, `openssl`.
    pub(crate) package: String,
    /// Its versions before (empty: it was not there).
    pub(crate) before: Vec<String>,
    /// Its versions after (empty: it is gone).
    pub(crate) after: Vec<String>,
}

impl std::fmt::Display for VersionChange {
    /// `openssl: 3.0.1 → 3.0.2`, `∅` for no version.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let side = |versions: &[String]| if versions.is_empty() { "∅".to_owned() } else { versions.join(", ") };
        write!(f, "{}: {} → {}", self.package, side(&self.before), side(&self.after))
    }
}

/// `nix store diff-closures OLD NEW`: the version (and size) changes between two built closures.
pub(crate) fn diff_closures_command(old: &str, new: &str) -> CommandSpec {
    nix_command(["store", "diff-closures", old, new], QUERY_TIMEOUT)
}

/// The version changes `nix store diff-closures` printed: lines `NAME: BEFORE → AFTER[, SIZE]`,
/// versions joined by `, `, `∅` for none; lines with a size change only are left out.
pub(crate) fn parse_diff_closures(stdout: &str) -> Vec<VersionChange> {
    let versions = |text: &str| -> Vec<String> {
        text.split(", ")
            .map(str::trim)
            .filter(|word| !word.is_empty() && *word != "∅" && !is_size(word))
            .map(str::to_owned)
            .collect()
    };
    stdout
        .lines()
        .filter_map(|line| {
            let (package, rest) = line.split_once(": ")?;
            let (before, after) = rest.split_once(" → ")?;
            Some(VersionChange { package: package.trim().to_owned(), before: versions(before), after: versions(after) })
        })
        .collect()
}

/// `+12.3 KiB`, `-1.0 MiB`: a size change, not a version.
fn is_size(word: &str) -> bool {
    word.starts_with(['+', '-']) && word.ends_with("iB")
}

/// `nix-store --query --deriver PATH`: the derivation that built `path`, as the local store
/// recorded it (`unknown-deriver` when it did not).
pub(crate) fn deriver_command(path: &str) -> CommandSpec {
    CommandSpec::new("nix-store").args(["--query", "--deriver", path]).timeout(QUERY_TIMEOUT)
}

/// `nix-store --query --requisites PATH`: every path in `path`'s closure.
pub(crate) fn requisites_command(path: &str) -> CommandSpec {
    CommandSpec::new("nix-store").args(["--query", "--requisites", path]).timeout(QUERY_TIMEOUT)
}

/// `/nix/store/HASH-openssl-3.0.2.drv` → (`openssl`, `3.0.2`): the name splits where a `-` is
/// followed by a digit, as Nix splits package names; no version is an empty one.
pub(crate) fn package_and_version(path: &str) -> (String, String) {
    let base = path.rsplit('/').next().unwrap_or(path);
    let name = base.split_once('-').map_or(base, |(_, name)| name);
    let name = name.strip_suffix(".drv").unwrap_or(name);
    let split = name.char_indices().find(|(index, character)| {
        *character == '-' && name[index + 1..].chars().next().is_some_and(|next| next.is_ascii_digit())
    });
    match split {
        Some((index, _)) => (name[..index].to_owned(), name[index + 1..].to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

/// The packages whose versions differ between the closures `before` and `after` (store paths),
/// by name. Paths without a version (sources, scripts) are left out.
pub(crate) fn version_changes(before: &[String], after: &[String]) -> Vec<VersionChange> {
    fn versions(paths: &[String]) -> BTreeMap<String, BTreeSet<String>> {
        let mut by_package: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in paths {
            let (package, version) = package_and_version(path);
            if !version.is_empty() {
                by_package.entry(package).or_default().insert(version);
            }
        }
        by_package
    }
    let (before, after) = (versions(before), versions(after));
    let packages: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let none = BTreeSet::new();
    packages
        .into_iter()
        .filter_map(|package| {
            let (old, new) = (before.get(package).unwrap_or(&none), after.get(package).unwrap_or(&none));
            (old != new).then(|| VersionChange {
                package: package.clone(),
                before: old.difference(new).cloned().collect(),
                after: new.difference(old).cloned().collect(),
            })
        })
        .collect()
}

/// The derivation that built `out` (a store path), as the local store recorded it; `None` when
/// there is no path, the store does not know it, or cannot be asked.
pub(crate) async fn deriver_of(out: Option<&str>) -> Option<String> {
    let deriver = runner::run("finding the old derivation", &deriver_command(out?), None).await.ok()?;
    let path = deriver.stdout.trim();
    // `unknown-deriver` when the store did not record one.
    path.starts_with('/').then(|| path.to_owned())
}

/// The version changes between two builds of a resource: from `nix store diff-closures` when
/// both outputs (`old_out`, `new_out`) are in the local store, else between the closures of the
/// derivations (`old_drv`: recorded, or [`deriver_of`] `old_out`; and `new_drv`). `None` when the
/// old closure is not there to compare with.
pub(crate) async fn closure_changes(
    (old_drv, old_out): (Option<&str>, Option<&str>),
    (new_drv, new_out): (&str, &str),
) -> Result<Option<Vec<VersionChange>>, NixError> {
    let old_out = old_out.filter(|old_out| Path::new(old_out).exists());
    if let Some(old_out) = old_out.filter(|_| Path::new(new_out).exists()) {
        let diff = runner::run("comparing closures", &diff_closures_command(old_out, new_out), None).await?;
        return Ok(Some(parse_diff_closures(&diff.stdout)));
    }
    let Some(old_drv) = old_drv else { return Ok(None) };
    if old_drv == new_drv || !Path::new(old_drv).exists() || !Path::new(new_drv).exists() {
        return Ok(None);
    }
    let old = runner::run("reading the old closure", &requisites_command(old_drv), None).await?;
    let new = runner::run("reading the new closure", &requisites_command(new_drv), None).await?;
    let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    Ok(Some(version_changes(&lines(&old.stdout), &lines(&new.stdout))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_where_nix_splits_them() {
        let split = |path: &str| package_and_version(path);
        assert_eq!(split("/nix/store/abc-openssl-3.0.2.drv"), ("openssl".to_owned(), "3.0.2".to_owned()));
        assert_eq!(split("/nix/store/abc-python3-3.11.4-env"), ("python3".to_owned(), "3.11.4-env".to_owned()));
        assert_eq!(split("/nix/store/abc-source"), ("source".to_owned(), String::new()));
        assert_eq!(split("/nix/store/abc-nixos-system-h1-23.11"), ("nixos-system-h1".to_owned(), "23.11".to_owned()));
    }

    #[test]
    fn only_packages_whose_versions_differ_are_listed() {
        let paths = |names: &[&str]| names.iter().map(|name| format!("/nix/store/h-{name}.drv")).collect::<Vec<_>>();
        let before = paths(&["hello-2.10", "openssl-3.0.1", "zlib-1.3", "gone-1.0", "source"]);
        let after = paths(&["hello-2.12", "openssl-3.0.1", "zlib-1.3", "new-0.1", "source"]);
        let changes: Vec<String> = version_changes(&before, &after).iter().map(ToString::to_string).collect();
        assert_eq!(changes, ["gone: 1.0 → ∅", "hello: 2.10 → 2.12", "new: ∅ → 0.1"]);
    }

    #[test]
    fn diff_closures_output_is_read_without_its_sizes() {
        let stdout =
            "libfoo: 1.0 → 1.1\nopenssl: 3.0.1, 3.0.2 → 3.0.2, +12.3 KiB\nzstd: ∅ → 1.5.5, +1.0 MiB\nglibc: -4.0 KiB\n";
        let changes: Vec<String> = parse_diff_closures(stdout).iter().map(ToString::to_string).collect();
        assert_eq!(changes, ["libfoo: 1.0 → 1.1", "openssl: 3.0.1, 3.0.2 → 3.0.2", "zstd: ∅ → 1.5.5"]);
        insta::assert_snapshot!(diff_closures_command("/nix/store/a-x", "/nix/store/b-x"), @"nix --extra-experimental-features 'nix-command flakes' store diff-closures /nix/store/a-x /nix/store/b-x");
    }

    #[test]
    fn the_query_lists_a_whole_closure() {
        insta::assert_snapshot!(requisites_command("/nix/store/abc-hello.drv"), @"nix-store --query --requisites /nix/store/abc-hello.drv");
        insta::assert_snapshot!(deriver_command("/nix/store/abc-hello"), @"nix-store --query --deriver /nix/store/abc-hello");
    }
}
