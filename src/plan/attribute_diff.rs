//! Attribute by attribute: what differs between the recorded and the desired resource, and the
//! full attribute lists of resources that come or go.
//!
//! Secrets are compared by their salted digests only, and an [`AttributeChange`] for a secret never
//! carries a value or a digest. Deciding what a difference means (update or replace) is `diff`'s job.

use std::collections::{BTreeMap, BTreeSet};

use super::AttributeChange;
use crate::model::Attributes;

/// Salted secret digests by attribute path (`secrets.root_password`, `auth_token`).
pub(super) type SecretDigests = BTreeMap<String, String>;

/// Whether a change to `name` forces a replacement: it is named in `forcing`, or it sits inside an
/// attribute that is (`secrets.root_password` inside `secrets`).
pub(super) fn is_forcing(name: &str, forcing: &[&str]) -> bool {
    forcing.iter().any(|forced| name.strip_prefix(forced).is_some_and(|rest| rest.is_empty() || rest.starts_with('.')))
}

/// The attributes and secrets that differ between `recorded` and `desired`, by name.
pub(super) fn changed_attributes(
    recorded: (&Attributes, &SecretDigests),
    desired: (&Attributes, &SecretDigests),
    forcing: &[&str],
) -> Vec<AttributeChange> {
    let (recorded_attributes, recorded_secrets) = recorded;
    let (desired_attributes, desired_secrets) = desired;
    let mut changes = Vec::new();
    // Most resources are unchanged: one comparison, no allocation.
    if recorded_attributes == desired_attributes && recorded_secrets == desired_secrets {
        return changes;
    }
    for name in union_of_keys(recorded_attributes, desired_attributes) {
        let before = recorded_attributes.get(name);
        let after = desired_attributes.get(name);
        if before != after {
            changes.push(AttributeChange {
                name: name.clone(),
                before: before.cloned(),
                after: after.cloned(),
                is_sensitive: false,
                forces_replacement: is_forcing(name, forcing),
            });
        }
    }
    for name in union_of_keys(recorded_secrets, desired_secrets) {
        // A new reference (`file:a` → `file:b`) already says the content may differ.
        let is_shown = changes.iter().any(|change| &change.name == name);
        if recorded_secrets.get(name) != desired_secrets.get(name) && !is_shown {
            changes.push(sensitive(name, is_forcing(name, forcing)));
        }
    }
    sort(&mut changes);
    changes
}

/// Which side of a change a resource's attributes are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The resource is going: its attributes are `before`.
    Before,
    /// The resource is coming: its attributes are `after`.
    After,
}

/// Every attribute and secret of a resource that comes (`Side::After`) or goes (`Side::Before`).
/// The attributes are taken, not copied: they move into the changes.
pub(super) fn all_attributes(side: Side, attributes: Attributes, secrets: &SecretDigests) -> Vec<AttributeChange> {
    let mut changes: Vec<AttributeChange> = attributes
        .into_iter()
        .map(|(name, value)| {
            let (before, after) = match side {
                Side::Before => (Some(value), None),
                Side::After => (None, Some(value)),
            };
            AttributeChange { name, before, after, is_sensitive: false, forces_replacement: false }
        })
        .collect();
    // A secret named like a plain attribute (`secret_key`) is shown by its reference alone.
    let unnamed: Vec<AttributeChange> = secrets
        .keys()
        .filter(|name| !changes.iter().any(|change| &change.name == *name))
        .map(|name| sensitive(name, false))
        .collect();
    changes.extend(unnamed);
    sort(&mut changes);
    changes
}

/// A secret's change: its name only.
fn sensitive(name: &str, forces_replacement: bool) -> AttributeChange {
    AttributeChange { name: name.to_owned(), before: None, after: None, is_sensitive: true, forces_replacement }
}

/// By name.
fn sort(changes: &mut [AttributeChange]) {
    changes.sort_by(|left, right| left.name.cmp(&right.name));
}

fn union_of_keys<'a, V>(left: &'a BTreeMap<String, V>, right: &'a BTreeMap<String, V>) -> BTreeSet<&'a String> {
    left.keys().chain(right.keys()).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attributes(value: serde_json::Value) -> Attributes {
        serde_json::from_value(value).unwrap()
    }

    fn secrets(pairs: &[(&str, &str)]) -> SecretDigests {
        pairs.iter().map(|(name, digest)| ((*name).to_owned(), (*digest).to_owned())).collect()
    }

    #[test]
    fn forcing_matches_names_and_paths_inside_them() {
        assert!(is_forcing("host", &["host"]));
        assert!(is_forcing("secrets.root_password", &["secrets"]));
        assert!(!is_forcing("hostname", &["host"]));
        assert!(!is_forcing("memory", &[]));
    }

    #[test]
    fn only_differences_are_listed_and_secrets_stay_hidden() {
        let recorded = attributes(json!({"host": "a", "memory": "8GiB", "nixos": ".#x"}));
        let desired = attributes(json!({"host": "b", "memory": "8GiB", "vcpus": 2}));
        let changes = changed_attributes(
            (&recorded, &secrets(&[("secrets.root", "sha256:1"), ("secrets.gone", "sha256:2")])),
            (&desired, &secrets(&[("secrets.root", "sha256:3")])),
            &["host"],
        );
        let summary: Vec<_> = changes
            .iter()
            .map(|change| {
                (
                    change.name.as_str(),
                    change.before.clone(),
                    change.after.clone(),
                    change.is_sensitive,
                    change.forces_replacement,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("host", Some(json!("a")), Some(json!("b")), false, true),
                ("nixos", Some(json!(".#x")), None, false, false),
                ("secrets.gone", None, None, true, false),
                ("secrets.root", None, None, true, false),
                ("vcpus", None, Some(json!(2)), false, false),
            ]
        );
    }

    #[test]
    fn resources_that_come_or_go_list_everything() {
        let listed = all_attributes(
            Side::After,
            attributes(json!({"b": 1, "a": 2})),
            &secrets(&[("a", "sha256:1"), ("c", "sha256:2")]),
        );
        let names: Vec<_> = listed.iter().map(|change| (change.name.as_str(), change.is_sensitive)).collect();
        // `a`'s reference stands for its secret; `c` has no plain attribute of its name.
        assert_eq!(names, vec![("a", false), ("b", false), ("c", true)]);
        assert!(listed.iter().all(|change| change.before.is_none()));
        let listed = all_attributes(Side::Before, attributes(json!({"a": 1})), &SecretDigests::new());
        assert_eq!(listed[0].before, Some(json!(1)));
        assert_eq!(listed[0].after, None);
    }

    #[test]
    fn a_secret_named_like_its_reference_shows_once() {
        let reference = |path: &str| attributes(json!({ "secret_key": path }));
        let key = |digest: &str| secrets(&[("secret_key", digest)]);
        let shown = |changes: Vec<AttributeChange>| -> Vec<(String, bool)> {
            changes.into_iter().map(|change| (change.name, change.is_sensitive)).collect()
        };
        // The same file, new contents: only the digest says so.
        let recorded = (&reference("file:k"), &key("sha256:1"));
        let contents = changed_attributes(recorded, (&reference("file:k"), &key("sha256:2")), &[]);
        assert_eq!(shown(contents), [("secret_key".to_owned(), true)]);
        // Another file: its reference says it all.
        let moved = changed_attributes(recorded, (&reference("file:j"), &key("sha256:2")), &[]);
        assert_eq!(shown(moved), [("secret_key".to_owned(), false)]);
    }
}
