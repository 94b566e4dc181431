//! Turning command-line strings into checked values: the file to read, addresses, durations.
//!
//! Every function here fails with a [`CommandError`] that says what to do.

use std::path::{Path, PathBuf};

use crate::error::CommandError;
use crate::model::{Duration, ResourceId};

/// The file names looked for in the working directory, in order.
const DEFAULT_FILES: [&str; 3] = ["rave.yaml", "rave.yml", "rave.toml"];

/// The desired-state file: `explicit` when given, else the one default name present in `dir`.
pub(crate) fn find_file(explicit: Option<&Path>, dir: &Path) -> Result<PathBuf, CommandError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    let found: Vec<&str> = DEFAULT_FILES.into_iter().filter(|name| dir.join(name).is_file()).collect();
    match found.as_slice() {
        [name] => Ok(PathBuf::from(name)),
        [] => Err(CommandError::new(format!("no `rave.yaml`, `rave.yml` or `rave.toml` in `{}`", dir.display()))
            .with_hint("create one (see `examples/`), or name the file with `-f FILE`")),
        several => Err(CommandError::new(format!(
            "more than one desired-state file in `{}`: {}",
            dir.display(),
            several.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
        ))
        .with_hint("keep one, or name the one to use with `-f FILE`")),
    }
}

/// Parses the addresses given to `flag` (`--target`, `--exclude`…).
pub(crate) fn parse_addresses(texts: &[String], flag: &str) -> Result<Vec<ResourceId>, CommandError> {
    texts
        .iter()
        .map(|text| {
            text.parse::<ResourceId>().map_err(|error| {
                CommandError::new(format!("`{flag} {text}`: {error}"))
                    .with_hint("addresses are written `kind.name`, as in plan output: `vm.gitlab`")
            })
        })
        .collect()
}

/// Parses the duration given to `flag`.
pub(crate) fn parse_duration(text: &str, flag: &str) -> Result<std::time::Duration, CommandError> {
    Duration::parse(text).map(Duration::as_std).map_err(|error| CommandError::new(format!("`{flag}`: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_found_or_the_error_says_how() {
        let dir = tempfile::tempdir().unwrap();
        let error = find_file(None, dir.path()).unwrap_err();
        assert!(error.to_string().starts_with("no `rave.yaml`"));
        std::fs::write(dir.path().join("rave.toml"), "").unwrap();
        assert_eq!(find_file(None, dir.path()).unwrap(), PathBuf::from("rave.toml"));
        std::fs::write(dir.path().join("rave.yaml"), "").unwrap();
        assert!(find_file(None, dir.path()).unwrap_err().to_string().contains("more than one"));
        assert_eq!(find_file(Some(Path::new("x.yaml")), dir.path()).unwrap(), PathBuf::from("x.yaml"));
    }

    #[test]
    fn flags_are_checked() {
        assert!(parse_addresses(&["vm.a".into()], "--target").is_ok());
        assert!(parse_addresses(&["vma".into()], "--target").unwrap_err().to_string().contains("--target vma"));
        assert_eq!(parse_duration("2m", "--lock-timeout").unwrap(), std::time::Duration::from_secs(120));
    }
}
