//! The pipelines in `examples/ci/` call rave with flags that exist: every `rave …` command line in
//! them is parsed by the real binary.

use std::path::{Path, PathBuf};

use crate::support::Project;

/// Every pipeline file under `dir`.
fn pipeline_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read examples/ci") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(pipeline_files(&path));
        } else if path.extension().is_some_and(|extension| extension == "yml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The arguments of each command line that starts with `rave ` (after a YAML `- ` or `run: `),
/// up to a redirection or `||`.
fn rave_commands(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("- ").unwrap_or(line);
            let line = line.strip_prefix("run: ").unwrap_or(line);
            let command = line.strip_prefix("rave ")?;
            let end = [" >", " ||", " |"].iter().filter_map(|stop| command.find(stop)).min().unwrap_or(command.len());
            Some(command[..end].split_whitespace().map(str::to_owned).collect())
        })
        .collect()
}

#[test]
fn every_rave_command_in_the_ci_examples_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci");
    let files = pipeline_files(&root);
    assert!(files.len() >= 4, "{files:?}");
    let project = Project::new();
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read pipeline");
        for mut args in rave_commands(&text) {
            // `--help` after the rest: clap parses (and refuses) every flag before it, then stops.
            args.push("--help".to_owned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = project.rave(&args);
            assert_eq!(run.code, Some(0), "{}: `rave {}`\n{}", file.display(), args.join(" "), run.transcript());
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} rave commands found");
}
