//! The YAML ↔ TOML round trip, as a property: any valid document written as TOML and as YAML
//! (JSON text, which is YAML) loads back as the document written, and both lower to the same
//! [`Spec`](crate::model::Spec).

use proptest::prelude::*;

use crate::config::{NixSettings, StateSettings};
use crate::model::arbitrary::{document, lowered};
use crate::model::{Name, ResourceId, ResourceSpec, Spec};

/// What a spec says, without where it was read from: the project, settings, and each
/// resource's address, spec and dependencies.
type Meaning = (Name, StateSettings, NixSettings, Vec<(ResourceId, ResourceSpec, Vec<ResourceId>)>);

fn meaning(spec: Spec) -> Meaning {
    let resources = spec
        .resources
        .into_values()
        .map(|resource| (resource.id, (*resource.spec).clone(), resource.dependencies))
        .collect();
    (spec.project, spec.state, spec.nix, resources)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn toml_and_yaml_read_back_the_same_document_and_spec(written in document()) {
        let toml = toml::to_string(&written).unwrap();
        let yaml = serde_json::to_string_pretty(&written).unwrap();
        let (from_toml, toml_spec) = lowered("rave.toml", &toml);
        let (from_yaml, yaml_spec) = lowered("rave.yaml", &yaml);
        prop_assert_eq!(&from_toml, &written, "TOML:\n{}", toml);
        prop_assert_eq!(&from_yaml, &written, "YAML:\n{}", yaml);
        prop_assert_eq!(meaning(toml_spec), meaning(yaml_spec));
    }
}
