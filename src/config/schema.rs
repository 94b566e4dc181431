//! The JSON Schema of the desired-state file, generated from [`Document`] with schemars.
//!
//! `schemas/rave.schema.json` is this schema, checked in for editors and outside tools; a test
//! fails when the file is stale and rewrites it when `RAVE_UPDATE_SCHEMAS=1` is set.

use super::document::Document;

/// The schema of the desired-state file, as pretty JSON with a trailing newline.
pub(crate) fn document_schema() -> String {
    let schema = schemars::schema_for!(Document);
    // A schema is plain JSON values; turning it into text cannot fail.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_schema_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/rave.schema.json");
        let current = document_schema();
        if std::env::var_os("RAVE_UPDATE_SCHEMAS").is_some_and(|value| value == "1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &current).unwrap();
            return;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == current,
            "`schemas/rave.schema.json` is stale; run `RAVE_UPDATE_SCHEMAS=1 cargo test schema` and commit it"
        );
    }

    #[test]
    fn the_schema_names_every_section_and_refuses_unknown_fields() {
        let schema: serde_json::Value = serde_json::from_str(&document_schema()).unwrap();
        let properties = schema["properties"].as_object().unwrap();
        for section in [
            "version",
            "project",
            "state",
            "nix",
            "caches",
            "builders",
            "builds",
            "hosts",
            "vms",
            "containers",
            "services",
        ] {
            assert!(properties.contains_key(section), "{section}");
        }
        assert_eq!(schema["additionalProperties"], serde_json::Value::Bool(false));
    }
}
