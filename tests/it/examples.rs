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
        let run = project.rave(&["plan", "-f", name, "--refresh=false"]);
        assert!(run.code == Some(0) || run.stderr.contains("secret"), "{}: {}", file.display(), run.transcript());
    }
}
