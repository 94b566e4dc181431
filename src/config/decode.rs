//! [`Node`] tree → [`Document`], reporting every problem in the file at once.
//!
//! serde stops a struct at its first bad field, so each resource is decoded on its own, and a
//! resource with an error is decoded again with the bad value masked (treated as absent) to find
//! the next one, at most [`MAX_PASSES`] times. A valid file decodes in one pass. References
//! between resources are not checked here; `model::lower` does that.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use rayon::prelude::*;
use serde::de::DeserializeOwned;

use super::decode_error::{DecodeError, DecodeErrorKind, Place};
use super::document::Document;
use super::node::{Node, NodeValue};
use super::node_deserializer::{Context, FieldPath, NodeDeserializer, identity};
use super::suggest;
use crate::diagnostic::{self, Diagnostic};
use crate::model::{Name, ResourceKind};

/// Most decoding passes over one resource: enough for any real file's mistakes, and a bound on
/// the work a file full of them can cause.
const MAX_PASSES: usize = 32;

/// Decodes the whole file, or returns every problem found, in file order.
pub(crate) fn decode(root: &Node, file: &Path) -> Result<Document, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let document = decode_all(root, &mut errors);
    errors.retain(|error| !error.is_suppressed());
    match document {
        Some(document) if errors.is_empty() => Ok(document),
        _ => {
            errors.sort_by_key(|error| error.place.as_ref().map(|place| place.position));
            let found = errors.len();
            // Only the reported ones are worded (with their suggestions).
            let mut diagnostics: Vec<Diagnostic> = errors
                .into_iter()
                .take(diagnostic::MAX_REPORTED)
                .filter_map(|error| error.into_diagnostic(file))
                .collect();
            if found > diagnostic::MAX_REPORTED {
                diagnostics.push(diagnostic::left_out_note(found - diagnostic::MAX_REPORTED, file));
            }
            Err(diagnostics)
        }
    }
}

fn decode_all(root: &Node, errors: &mut Vec<DecodeError>) -> Option<Document> {
    if !matches!(root.value, NodeValue::Mapping(_)) {
        errors.push(
            DecodeError::new(DecodeErrorKind::Mismatch {
                expected: "a mapping of fields at the top of the file".to_owned(),
                found: root.describe().to_owned(),
            })
            .or_at(|| Place { node: identity(root), position: root.position, path: String::new() }),
        );
        return None;
    }
    // The top level without its resource sections, which are decoded entry by entry below.
    let sections: HashSet<usize> =
        ResourceKind::ALL.iter().filter_map(|kind| root.get(kind.section())).map(identity).collect();
    let head: Option<Document> = decode_value(root, &FieldPath::Root, sections, errors);
    let caches = section(root, ResourceKind::Cache, errors);
    let builders = section(root, ResourceKind::Builder, errors);
    let builds = section(root, ResourceKind::Build, errors);
    let hosts = section(root, ResourceKind::Host, errors);
    let vms = section(root, ResourceKind::Vm, errors);
    let containers = section(root, ResourceKind::Container, errors);
    let services = section(root, ResourceKind::Service, errors);
    head.map(|head| Document { caches, builders, builds, hosts, vms, containers, services, ..head })
}

/// The resources of one section, each decoded on its own so that errors in one do not hide
/// errors in another.
fn section<T: DeserializeOwned + Send>(
    root: &Node,
    kind: ResourceKind,
    errors: &mut Vec<DecodeError>,
) -> BTreeMap<Name, T> {
    let name = kind.section();
    let Some(node) = root.get(name) else {
        return BTreeMap::new();
    };
    let section_path = FieldPath::Key(&FieldPath::Root, name);
    let entries = match &node.value {
        NodeValue::Mapping(entries) => entries,
        NodeValue::Null => return BTreeMap::new(),
        _ => {
            errors.push(
                DecodeError::new(DecodeErrorKind::Mismatch {
                    expected: format!("a mapping from names to {} definitions", kind.prefix()),
                    found: node.describe().to_owned(),
                })
                .or_at(|| Place {
                    node: identity(node),
                    position: node.position,
                    path: name.to_owned(),
                }),
            );
            return BTreeMap::new();
        }
    };
    // Entries on every core, each with its own errors (its value's, then its name's), gathered
    // in file order.
    let decoded: Vec<Decoded<T>> = entries
        .par_iter()
        .map(|(key, value)| {
            let mut entry_errors = Vec::new();
            let path = FieldPath::Key(&section_path, &key.text);
            let spec = decode_value::<T>(value, &path, HashSet::new(), &mut entry_errors);
            let name = Name::new(&key.text).map_err(|error| {
                entry_errors.push(
                    DecodeError::new(DecodeErrorKind::Custom(format!("invalid name `{}`: {error}", key.text)))
                        .or_at(|| Place { node: identity(key), position: key.position, path: name.to_owned() }),
                );
            });
            (name.ok().zip(spec), entry_errors)
        })
        .collect();
    let mut resources = Vec::with_capacity(decoded.len());
    for (resource, entry_errors) in decoded {
        errors.extend(entry_errors);
        resources.extend(resource);
    }
    // Sorted on every core, the map is then built in one pass rather than by one insert a
    // resource. The sort is stable and the map keeps the last of equal names, as inserting did.
    resources.par_sort_by(|(left, _), (right, _)| left.cmp(right));
    resources.into_iter().collect()
}

/// One entry of a section: its name and value when both are valid, and its errors.
type Decoded<T> = (Option<(Name, T)>, Vec<DecodeError>);

/// Decodes `node` as a `T`, masking each bad value and decoding again to find the next, so that
/// every error in it is reported. `Some` only when there was none.
fn decode_value<T: DeserializeOwned>(
    node: &Node,
    path: &FieldPath<'_>,
    masked: HashSet<usize>,
    errors: &mut Vec<DecodeError>,
) -> Option<T> {
    let mut context = Context::default();
    context.masked = masked;
    let errors_before = errors.len();
    let mut found_error = false;
    let mut decoded = None;
    for _ in 0..MAX_PASSES {
        match T::deserialize(NodeDeserializer::new(node, path, &context)) {
            Ok(value) => {
                decoded = Some(value);
                break;
            }
            Err(error) => {
                let place = error.place.as_ref().map(|place| place.node);
                if !error.is_suppressed() {
                    found_error = true;
                    errors.push(error);
                }
                // An error on the value itself, or on one masked already, leaves nothing to skip.
                match place {
                    Some(place) if place != identity(node) && context.masked.insert(place) => {}
                    _ => break,
                }
            }
        }
    }
    let unknown = context.take_unknown();
    found_error |= !unknown.is_empty();
    // `hots: a` makes `host` missing too; the typo says it all.
    let explained = |error: &DecodeError| match (&error.kind, &error.place) {
        (DecodeErrorKind::MissingField { field }, Some(place)) => unknown.iter().any(|unknown| {
            matches!(&unknown.kind, DecodeErrorKind::UnknownField { field: typo, .. }
                if unknown.place.as_ref().is_some_and(|at| at.path == place.path)
                    && suggest::closest(typo, [*field]).is_some())
        }),
        _ => false,
    };
    let found: Vec<DecodeError> = errors.drain(errors_before..).filter(|error| !explained(error)).collect();
    errors.extend(found);
    errors.extend(unknown);
    if found_error { None } else { decoded }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::config::from_yaml;

    fn decode_yaml(text: &str) -> Result<Document, Vec<Diagnostic>> {
        decode(&from_yaml::parse(text).unwrap(), Path::new("rave.yaml"))
    }

    /// Every diagnostic as `line:column message [hint]`.
    fn problems(text: &str) -> Vec<String> {
        decode_yaml(text)
            .unwrap_err()
            .into_iter()
            .map(|diagnostic| {
                let position = diagnostic.location.position.unwrap();
                let hint = diagnostic.hint.map(|hint| format!(" [{hint}]")).unwrap_or_default();
                format!("{}:{} {}{hint}", position.line, position.column, diagnostic.message)
            })
            .collect()
    }

    const BROKEN: &str = "\
version: x
project: Lab
vms:
  gitlab:
    hots: shoshin
    memory: {a: 1}
    vcpus: -1
    hypervisor: qemo
  b:
    host: x
    volumes: [{name: a, size: 1GiB, mount: /x, extra: 1}, {name: B, size: 2XB}]
    push: cache
services:
  s:
    type: x
    runs_on: vm.b
    health: {htp: x}
  t:
    type: y
    runs_on: vms.b
    health: [{tcp: 1, colour: 2}, {http: y, exepct: 5}]
  u:
    runs_on: vm.b
foo: 1
";

    #[test]
    fn every_problem_is_reported_in_file_order() {
        assert_eq!(
            problems(BROKEN),
            [
                "1:10 `version`: expected a whole number, found a string",
                "2:10 `project`: invalid name `Lab`: a name starts with a lowercase letter or a digit, not `L`",
                "5:5 unknown field `hots` in `vms.gitlab` [did you mean `host`?]",
                "6:13 `vms.gitlab.memory`: expected a size like `512MiB` or `8GiB`, or a whole number of MiB, found a mapping",
                "7:12 `vms.gitlab.vcpus`: expected a whole number from 0 to 4294967295, found `-1`",
                "8:17 `vms.gitlab.hypervisor`: unknown value `qemo`, expected one of `qemu`, `cloud-hypervisor`, `firecracker` [did you mean `qemu`?]",
                "11:48 unknown field `extra` in `vms.b.volumes[0]` [known fields: `name`, `size`, `mount`]",
                "11:66 `vms.b.volumes[1].name`: invalid name `B`: a name starts with a lowercase letter or a digit, not `B`",
                "11:75 `vms.b.volumes[1].size`: `XB` is not a size unit; use KiB, MiB, GiB or TiB",
                "12:11 `vms.b.push`: expected a list, found a string [write a list, even of one item: `[item]`]",
                "17:14 unknown field `htp` in `services.s.health` [did you mean `http`?]",
                "20:14 `services.t.runs_on`: invalid address `vms.b`: `vms` is not a kind; kinds are cache, builder, build, host, vm, container, service",
                "21:20 `services.t.health[0].tcp`: expected a string, found an integer [quote the value to make it a string]",
                "21:23 unknown field `colour` in `services.t.health[0]` [known fields: `http`, `tcp`, `command`, `expect`, `body`, `timeout`, `retries`]",
                "21:45 unknown field `exepct` in `services.t.health[1]` [did you mean `expect`?]",
                "23:5 missing field `type` in `services.u`",
                "24:1 unknown top-level field `foo` [known fields: `version`, `project`, `state`, `nix`, `caches`, `builders`, `builds`, `hosts`, `vms`, `containers`, `services`, `moved`]",
            ]
        );
    }

    #[test]
    fn a_valid_file_decodes() {
        let document =
            decode_yaml("version: 1\nproject: lab\nhosts:\n  a: {local: true}\nvms:\n  v: {host: a, memory: 2GiB}\n")
                .unwrap();
        assert_eq!(document.version, 1);
        assert_eq!(document.project.as_str(), "lab");
        assert_eq!(document.vms.len(), 1);
        assert!(document.hosts.values().next().unwrap().local);
        assert_eq!(document.nix, crate::config::NixSettings::default());
    }

    #[test]
    fn empty_sections_and_lists_are_empty() {
        let document = decode_yaml("version: 1\nproject: lab\nvms:\nhosts:\n  a: {local: true, push:}\n").unwrap();
        assert!(document.vms.is_empty());
        assert!(document.hosts.values().next().unwrap().push.is_empty());
    }

    #[test]
    fn the_top_level_must_be_a_mapping() {
        assert_eq!(problems("- 1\n"), ["1:1 expected a mapping of fields at the top of the file, found a list"]);
        assert_eq!(
            problems("version: 1\nproject: a\nvms: [a]\n"),
            ["3:6 `vms`: expected a mapping from names to vm definitions, found a list"]
        );
    }

    #[test]
    fn resource_names_are_checked_at_their_key() {
        assert_eq!(
            problems("version: 1\nproject: a\nhosts:\n  Big: {local: true}\n"),
            ["4:3 `hosts`: invalid name `Big`: a name starts with a lowercase letter or a digit, not `B`"]
        );
    }

    #[test]
    fn a_missing_field_is_not_repeated_when_a_typo_explains_it() {
        assert_eq!(
            problems("version: 1\nproject: a\nvms:\n  v:\n    hots: a\n"),
            ["5:5 unknown field `hots` in `vms.v` [did you mean `host`?]"]
        );
        assert_eq!(problems("project: a\n"), ["1:1 missing top-level field `version`"]);
    }

    #[test]
    fn many_errors_in_one_resource_are_bounded() {
        let mut text =
            String::from("version: 1\nproject: a\nservices:\n  s:\n    type: t\n    runs_on: host.a\n    secrets:\n");
        for index in 0..100 {
            writeln!(text, "      s{index}: plain{index}").unwrap();
        }
        let problems = problems(&text);
        assert_eq!(problems.len(), MAX_PASSES);
        assert!(problems[0].starts_with("8:11 `services.s.secrets.s0`: a secret is a reference"));
    }
}
