//! Why a store path changed: the inputs that differ between a resource's recorded derivation and
//! its new one, followed down to where the change starts, as `nix-diff` does. A plan shows them
//! under the new store path ("`microvm-run-vm1` › `kernel-params`: `args` changed"), so that a
//! VM restart or a rebuild names its cause instead of two opaque hashes.
//!
//! Inputs are matched by name; an input whose path changed is followed into (up to a bound); one
//! whose version changed is said as `name: old → new`. Environment variables and arguments are
//! compared with every store hash masked, so a value that differs only because an input's path
//! moved is not reported: that input is, where it changed. Derivations are read from the local
//! store's `.drv` files ([`StoreDerivation`]); what cannot be read is said as "changed".

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use super::aterm::StoreDerivation;
use super::closure_diff::package_and_version;

/// How many derivation pairs are read at most: a mass rebuild is summarised, not walked.
const MAX_COMPARED: usize = 200;

/// How many lines are kept; the rest are counted.
const MAX_LINES: usize = 12;

/// The length of a store path's hash.
const HASH_LEN: usize = 32;

/// What changed between derivations `old` and `new` (`.drv` paths), one line a cause; empty when
/// they are the same or neither can be read.
pub(crate) fn explain(old: &str, new: &str) -> Vec<String> {
    let mut walk = Walk::default();
    walk.compare(old, new, &format!("`{}`", name_of(new)));
    let mut lines = walk.lines;
    if lines.len() > MAX_LINES {
        let more = lines.len() - MAX_LINES;
        lines.truncate(MAX_LINES);
        lines.push(format!("… and {more} more"));
    }
    lines
}

/// The walk down two derivation graphs.
#[derive(Default)]
struct Walk {
    lines: Vec<String>,
    compared: HashSet<(String, String)>,
}

impl Walk {
    fn compare(&mut self, old_path: &str, new_path: &str, trail: &str) {
        if old_path == new_path || !self.compared.insert((old_path.to_owned(), new_path.to_owned())) {
            return;
        }
        let pair = (self.compared.len() <= MAX_COMPARED).then(|| (read(old_path), read(new_path)));
        let Some((Some(old), Some(new))) = pair else {
            self.lines.push(format!("{trail}: changed"));
            return;
        };
        let before = self.lines.len();
        self.compare_inputs(&old.input_derivations, &new.input_derivations, trail);
        self.compare_sources(&old.input_sources, &new.input_sources, trail);
        for (what, old_value, new_value) in [
            ("the builder", &old.builder, &new.builder),
            ("the system", &old.system, &new.system),
            ("`args`", &old.args.join("\0"), &new.args.join("\0")),
        ] {
            if mask(old_value) != mask(new_value) {
                self.lines.push(format!("{trail}: {what} changed"));
            }
        }
        let outputs: BTreeSet<&String> = old.outputs.iter().chain(&new.outputs).collect();
        let names: BTreeSet<&String> =
            old.env.keys().chain(new.env.keys()).filter(|name| !outputs.contains(name)).collect();
        for name in names {
            let line = match (old.env.get(name), new.env.get(name)) {
                (Some(old), Some(new)) if mask(old) != mask(new) => format!("`{name}` changed"),
                (Some(_), None) => format!("`{name}` removed"),
                (None, Some(_)) => format!("`{name}` added"),
                _ => continue,
            };
            self.lines.push(format!("{trail}: {line}"));
        }
        if self.lines.len() == before {
            // Only output paths differ: the cause is in nothing this walk can name.
            self.lines.push(format!("{trail}: changed"));
        }
    }

    /// Input derivations by name: changed ones are followed, new versions named.
    fn compare_inputs(&mut self, old: &[String], new: &[String], trail: &str) {
        let (old, new) = (by_name(old), by_name(new));
        let mut gone: Vec<&str> = Vec::new();
        let mut came: Vec<&str> = Vec::new();
        for (name, paths) in &old {
            match new.get(name) {
                Some(new_paths) if paths.len() == 1 && new_paths.len() == 1 => {
                    self.compare(paths[0], new_paths[0], &format!("{trail} › `{name}`"));
                }
                Some(new_paths) if paths != new_paths => self.lines.push(format!("{trail}: `{name}` changed")),
                Some(_) => {}
                None => gone.extend(paths),
            }
        }
        for (name, paths) in &new {
            if !old.contains_key(name) {
                came.extend(paths);
            }
        }
        self.versions(&gone, &came, trail);
    }

    /// Input sources by name.
    fn compare_sources(&mut self, old: &[String], new: &[String], trail: &str) {
        let (old, new) = (by_name(old), by_name(new));
        for (name, paths) in &old {
            match new.get(name) {
                Some(new_paths) if new_paths != paths => self.lines.push(format!("{trail}: source `{name}` changed")),
                Some(_) => {}
                None => self.lines.push(format!("{trail}: source `{name}` removed")),
            }
        }
        for name in new.keys().filter(|name| !old.contains_key(*name)) {
            self.lines.push(format!("{trail}: source `{name}` added"));
        }
    }

    /// Input derivations only on one side: the same package in another version is one line,
    /// `name: a → b`.
    fn versions(&mut self, gone: &[&str], came: &[&str], trail: &str) {
        let packages = |paths: &[&str]| -> BTreeMap<String, Vec<String>> {
            let mut by_package: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for path in paths {
                let (package, version) = package_and_version(path);
                by_package.entry(package).or_default().push(version);
            }
            by_package
        };
        let (gone, came) = (packages(gone), packages(came));
        let side = |versions: Option<&Vec<String>>| match versions {
            Some(versions) => {
                versions.iter().filter(|version| !version.is_empty()).cloned().collect::<Vec<_>>().join(", ")
            }
            None => "∅".to_owned(),
        };
        let names: BTreeSet<&String> = gone.keys().chain(came.keys()).collect();
        for name in names {
            let line = match (gone.get(name), came.get(name)) {
                (Some(_), Some(_)) => format!("input `{name}`: {} → {}", side(gone.get(name)), side(came.get(name))),
                (Some(_), None) => format!("input `{name}` removed"),
                _ => format!("input `{name}` added"),
            };
            self.lines.push(format!("{trail}: {line}"));
        }
    }
}

/// Reads the derivation at `path` from the local store.
fn read(path: &str) -> Option<StoreDerivation> {
    StoreDerivation::parse(&std::fs::read_to_string(path).ok()?)
}

/// `/nix/store/HASH-name.drv` → `name`.
fn name_of(path: &str) -> &str {
    let base = Path::new(path).file_name().and_then(|name| name.to_str()).unwrap_or(path);
    let name = base.split_once('-').map_or(base, |(_, name)| name);
    name.strip_suffix(".drv").unwrap_or(name)
}

/// Store paths grouped by name, each group sorted.
fn by_name(paths: &[String]) -> BTreeMap<&str, Vec<&str>> {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for path in paths {
        groups.entry(name_of(path)).or_default().push(path);
    }
    for paths in groups.values_mut() {
        paths.sort_unstable();
    }
    groups
}

/// `text` with the hash of every store path replaced, so paths compare by name.
fn mask(text: &str) -> String {
    const STORE: &str = "/nix/store/";
    let mut masked = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(STORE) {
        let (before, after) = rest.split_at(at + STORE.len());
        masked.push_str(before);
        let is_hash = after.len() > HASH_LEN
            && after.as_bytes()[HASH_LEN] == b'-'
            && after[..HASH_LEN].bytes().all(|byte| byte.is_ascii_alphanumeric());
        rest = if is_hash {
            masked.push('…');
            &after[HASH_LEN..]
        } else {
            after
        };
    }
    masked.push_str(rest);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_hashes_are_masked_and_the_rest_kept() {
        let hash = "0123456789abcdfghijklmnpqrsvwxyz";
        assert_eq!(
            mask(&format!("exec /nix/store/{hash}-qemu-8.2/bin/qemu -m 256")),
            "exec /nix/store/…-qemu-8.2/bin/qemu -m 256"
        );
        assert_eq!(mask("/nix/store/short-x and /nix/store/"), "/nix/store/short-x and /nix/store/");
        assert_eq!(name_of(&format!("/nix/store/{hash}-microvm-run-vm1.drv")), "microvm-run-vm1");
    }

    /// Writes a `.drv` file named `NAME.drv` under `dir` (a stand-in store) and returns its path.
    fn drv(
        dir: &Path,
        hash: char,
        name: &str,
        inputs: &[&str],
        sources: &[&str],
        args: &str,
        env: &[(&str, &str)],
    ) -> String {
        let path = dir.join(format!("{}-{name}.drv", hash.to_string().repeat(HASH_LEN)));
        let quoted = |items: &[&str]| items.iter().map(|item| format!("{item:?}")).collect::<Vec<_>>().join(",");
        let inputs = inputs.iter().map(|input| format!("({input:?},[\"out\"])")).collect::<Vec<_>>().join(",");
        let out = format!("/nix/store/{hash}");
        let env = std::iter::once(&("out", out.as_str()))
            .chain(env)
            .map(|(name, value)| format!("({name:?},{value:?})"))
            .collect::<Vec<_>>()
            .join(",");
        let text = format!(
            "Derive([(\"out\",\"/nix/store/{hash}-{name}\",\"\",\"\")],[{inputs}],[{}],\"x86_64-linux\",\"/bin/sh\",[\"-c\",{args:?}],[{env}])",
            quoted(sources)
        );
        std::fs::write(&path, text).expect("write drv");
        path.display().to_string()
    }

    #[test]
    fn changes_are_followed_down_to_where_they_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = |hash: char, name: &str| format!("/nix/store/{}-{name}", hash.to_string().repeat(HASH_LEN));
        let params_old = drv(dir.path(), 'a', "kernel-params", &[], &[], "echo quiet", &[]);
        let params_new = drv(dir.path(), 'b', "kernel-params", &[], &[], "echo quiet debug", &[]);
        let ssl_old = drv(dir.path(), 'c', "openssl-3.0.1", &[], &[], "", &[]);
        let ssl_new = drv(dir.path(), 'd', "openssl-3.0.2", &[], &[], "", &[]);
        let (kernel_old, kernel_new) = (store('e', "vmlinuz"), store('f', "vmlinuz"));
        let old = drv(
            dir.path(),
            'g',
            "microvm-run-vm1",
            &[&params_old, &ssl_old],
            &[&kernel_old],
            &format!("run {kernel_old}"),
            &[("memory", "256"), ("kernel", &kernel_old)],
        );
        let new = drv(
            dir.path(),
            'h',
            "microvm-run-vm1",
            &[&params_new, &ssl_new],
            &[&kernel_new],
            &format!("run {kernel_new}"),
            &[("memory", "512"), ("kernel", &kernel_new)],
        );
        assert_eq!(
            explain(&old, &new),
            [
                "`microvm-run-vm1` › `kernel-params`: `args` changed",
                "`microvm-run-vm1`: input `openssl`: 3.0.1 → 3.0.2",
                "`microvm-run-vm1`: source `vmlinuz` changed",
                "`microvm-run-vm1`: `memory` changed",
            ]
        );
        assert_eq!(explain(&old, &old), Vec::<String>::new());
        let missing = dir.path().join("gone.drv").display().to_string();
        assert_eq!(explain(&missing, &new), ["`microvm-run-vm1`: changed"]);
    }
}
