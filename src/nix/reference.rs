//! [`Reference`]: a flake output as the file names it (`.#packages.x86_64-linux.codex`,
//! `.#nixosConfigurations.shoshin`, `github:owner/repo#hello`), resolved to a flake Nix can load
//! and the attribute paths to look for in it, in Nix's own order.
//!
//! Nothing here reads the filesystem; a relative file directory is made absolute against the
//! working directory, as Nix needs absolute paths.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::config::NixSettings;

/// A flake output, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// The flake, as `builtins.getFlake` takes it: an absolute path, or a URL-like reference.
    pub(crate) flake: String,
    /// The attribute paths to try, first match wins (as `nix build` tries `packages.SYSTEM.X`
    /// before `X`).
    pub(crate) candidates: Vec<Vec<String>>,
}

/// What kind of output a reference names: decides where Nix would look for a short name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputKind {
    /// A package (`builds:`): `packages.SYSTEM.X`, then `legacyPackages.SYSTEM.X`, then `X`.
    Package,
    /// A NixOS configuration (`nixos:`): `nixosConfigurations.X`, then `X`.
    NixosConfiguration,
}

/// A reference that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReferenceError {
    /// The reference as written.
    pub(crate) reference: String,
    /// What is wrong with it.
    pub(crate) problem: &'static str,
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.reference, self.problem)
    }
}

impl Reference {
    /// Resolves `text` (`FLAKE#ATTR`) of `kind`: an empty or `.` flake is `nix.flake`, a relative
    /// path starts at `base_dir` (the file's directory), anything else goes to Nix as it is.
    pub(crate) fn parse(
        text: &str,
        kind: OutputKind,
        settings: &NixSettings,
        system: &str,
        base_dir: &Path,
    ) -> Result<Self, ReferenceError> {
        let error = |problem| ReferenceError { reference: text.to_owned(), problem };
        let (flake, attribute) = text.split_once('#').ok_or_else(|| error("is not `FLAKE#ATTRIBUTE`"))?;
        let path = split_attribute_path(attribute).ok_or_else(|| error("has an unclosed quote in its attribute"))?;
        if path.is_empty() {
            return Err(error("names no attribute after `#`"));
        }
        let base_dir = std::path::absolute(base_dir).unwrap_or_else(|_| base_dir.to_path_buf());
        let flake = match flake {
            "" | "." => resolve_flake(&settings.flake, &base_dir),
            other => resolve_flake(other, &base_dir),
        };
        let prefixes: Vec<Vec<String>> = match kind {
            OutputKind::Package => ["packages", "legacyPackages"]
                .into_iter()
                .map(|prefix| vec![prefix.to_owned(), system.to_owned()])
                .collect(),
            OutputKind::NixosConfiguration => vec![vec!["nixosConfigurations".to_owned()]],
        };
        // A path that already starts where a prefix would put it is taken as it is.
        let mut candidates: Vec<Vec<String>> = prefixes
            .into_iter()
            .filter(|prefix| path.first() != prefix.first())
            .map(|prefix| prefix.into_iter().chain(path.iter().cloned()).collect())
            .collect();
        candidates.push(path);
        Ok(Self { flake, candidates })
    }
}

/// A flake reference with a relative path made absolute against `base_dir`.
fn resolve_flake(flake: &str, base_dir: &Path) -> String {
    let (scheme, path) = flake.strip_prefix("path:").map_or(("", flake), |path| ("path:", path));
    let is_path = path.starts_with('.') || path.starts_with('/');
    if !is_path || (scheme.is_empty() && flake.contains("://")) {
        return flake.to_owned();
    }
    format!("{scheme}{}", normalize(&base_dir.join(path)).display())
}

/// `path` without `.` and with `..` folded, so Nix gets a clean absolute path.
fn normalize(path: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

/// `a."b.c".d` → `[a, b.c, d]`; `None` when a quote is left open.
fn split_attribute_path(text: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut current = String::new();
    let mut is_quoted = false;
    for character in text.chars() {
        match character {
            '"' => is_quoted = !is_quoted,
            '.' if !is_quoted => names.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    if is_quoted {
        return None;
    }
    names.push(current);
    names.retain(|name| !name.is_empty());
    Some(names)
}

/// `text` as a Nix string literal: `"…"` with `\`, `"` and `${` escaped.
pub(crate) fn nix_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '$' if characters.peek() == Some(&'{') => quoted.push_str("\\$"),
            '\n' => quoted.push_str("\\n"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, kind: OutputKind) -> Result<Reference, ReferenceError> {
        let settings = NixSettings { flake: "./flake".to_owned(), system: "x86_64-linux".to_owned() };
        Reference::parse(text, kind, &settings, "aarch64-linux", Path::new("/srv/infra"))
    }

    fn paths(reference: &Reference) -> Vec<String> {
        reference.candidates.iter().map(|path| path.join(".")).collect()
    }

    #[test]
    fn a_short_package_name_is_looked_for_where_nix_build_looks() {
        let reference = parse(".#codex", OutputKind::Package).unwrap();
        assert_eq!(reference.flake, "/srv/infra/flake");
        assert_eq!(paths(&reference), ["packages.aarch64-linux.codex", "legacyPackages.aarch64-linux.codex", "codex"]);
    }

    #[test]
    fn a_path_that_starts_where_a_prefix_would_is_not_prefixed_again() {
        let reference = parse("#packages.x86_64-linux.codex", OutputKind::Package).unwrap();
        assert_eq!(
            paths(&reference),
            ["legacyPackages.aarch64-linux.packages.x86_64-linux.codex", "packages.x86_64-linux.codex"]
        );
        let nixos = parse(".#nixosConfigurations.shoshin", OutputKind::NixosConfiguration).unwrap();
        assert_eq!(paths(&nixos), ["nixosConfigurations.shoshin"]);
        let short = parse(".#shoshin", OutputKind::NixosConfiguration).unwrap();
        assert_eq!(paths(&short), ["nixosConfigurations.shoshin", "shoshin"]);
    }

    #[test]
    fn flakes_resolve_against_the_file_directory_or_pass_through() {
        let flake = |text: &str| parse(text, OutputKind::Package).unwrap().flake;
        assert_eq!(flake("../other#x"), "/srv/other");
        assert_eq!(flake("path:./sub#x"), "path:/srv/infra/sub");
        assert_eq!(flake("/abs/flake#x"), "/abs/flake");
        assert_eq!(flake("github:owner/repo#x"), "github:owner/repo");
        assert_eq!(flake("git+https://example.org/repo#x"), "git+https://example.org/repo");
    }

    #[test]
    fn quoted_attribute_names_keep_their_dots() {
        let reference = parse(r#".#homeConfigurations."me@host".activationPackage"#, OutputKind::Package).unwrap();
        assert_eq!(reference.candidates.last().unwrap(), &["homeConfigurations", "me@host", "activationPackage"]);
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        let message = |text: &str| parse(text, OutputKind::Package).unwrap_err().to_string();
        assert_eq!(message("codex"), "`codex` is not `FLAKE#ATTRIBUTE`");
        assert_eq!(message(".#"), "`.#` names no attribute after `#`");
        assert_eq!(message(r#".#a."b"#), r#"`.#a."b` has an unclosed quote in its attribute"#);
    }

    #[test]
    fn nix_strings_escape_what_nix_would_read() {
        assert_eq!(nix_string(r#"a"b\c${d}$e"#), r#""a\"b\\c\${d}$e""#);
    }
}
