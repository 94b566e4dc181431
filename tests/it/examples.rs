//! Every file in `examples/` validates and plans.

use std::path::Path;

use crate::support::Project;

fn example_files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&root).expect("examples/") {
        let dir = entry.expect("entry").path();
        for name in ["rave.yaml", "rave.toml"] {
            if dir.join(name).is_file() {
                files.push(dir.join(name));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_example_validates_and_plans() {
    let files = example_files();
    assert!(files.len() >= 3, "expected the quickstart and the lab twins, found {files:?}");
    for file in files {
        // Plan in a scratch copy so no state is written into the repository.
        let project = Project::new();
        let dir = file.parent().expect("dir");
        for entry in std::fs::read_dir(dir).expect("example dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(&path, project.path().join(path.file_name().expect("name"))).expect("copy");
            }
        }
        let name = file.file_name().and_then(|name| name.to_str()).expect("name");
        project.rave(&["validate", "-f", name]).assert_code(0);
        // Planning reads every secret the file references: give each one a placeholder.
        let text = std::fs::read_to_string(&file).expect("read example");
        let mut command = project.command(&["plan", "-f", name, "--refresh=false"]);
        for reference in secret_references(&text) {
            if let Some(path) = reference.strip_prefix("file:") {
                project.write(path, "placeholder\n");
            } else if let Some(variable) = reference.strip_prefix("env:") {
                command.env(variable, "placeholder");
            }
        }
        let run = project.run_from(&command.output().expect("run rave"));
        assert_eq!(run.code, Some(0), "{}: {}", file.display(), run.transcript());
    }
}

/// The `env:NAME` and `file:PATH` references written in an example, quoted or not.
fn secret_references(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '{' | '}' | '[' | ']' | '='))
        // `file://` is a store URI, not a secret: writing it would leave the temp dir.
        .filter(|word| word.starts_with("env:") || (word.starts_with("file:") && !word.starts_with("file://")))
        .map(str::to_owned)
        .collect()
}
