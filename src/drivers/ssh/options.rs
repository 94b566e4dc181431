//! [`SshOptions`]: what every SSH connection of one project shares: where its pinned known-hosts
//! files and shared-connection sockets live, and how long a connection may take.
//!
//! The files live in a private directory under the system's temp directory, named from a hash of
//! the project's work directory (so projects never share them), not in the project's tree: a
//! socket there would break Nix copying a `path:` flake that holds the project (sockets are not
//! files Nix can store), a socket path is limited to about 100 bytes, and ssh's option parser
//! splits on whitespace. rave rewrites the known-hosts files before each connection, so nothing
//! there needs to outlive a run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::SshTarget;
use crate::drivers::DriverError;

/// How long a shared connection stays open after its last use.
const CONTROL_PERSIST: Duration = Duration::from_secs(60);

/// What every SSH connection of a project shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshOptions {
    /// Holds `known_hosts/` and the shared-connection sockets.
    pub(crate) runtime_dir: PathBuf,
    /// How long opening a connection may take.
    pub(crate) connect_timeout: Duration,
    /// How long a shared connection outlives its last use.
    pub(crate) control_persist: Duration,
}

impl SshOptions {
    /// The options of the project whose work directory (`.rave/`) is `work_dir`.
    pub(crate) fn for_work_dir(work_dir: &Path) -> Self {
        // `.rave` is relative when the file is in the working directory: hash the whole path.
        let work_dir = std::path::absolute(work_dir).unwrap_or_else(|_| work_dir.to_path_buf());
        Self {
            runtime_dir: runtime_dir(&work_dir, &std::env::temp_dir()),
            connect_timeout: Duration::from_secs(10),
            control_persist: CONTROL_PERSIST,
        }
    }

    /// The known-hosts file that pins `target`'s key.
    pub(crate) fn known_hosts_file(&self, target: &SshTarget) -> PathBuf {
        self.runtime_dir.join("known_hosts").join(target.host_key_alias())
    }

    /// `ControlPath`: the socket of `target`'s shared connection, named from a hash of its
    /// address, user, host and port (so a changed address never reuses an old connection). Known
    /// to rave, unlike ssh's `%C`, so rave can tell whether a connection is open and close it.
    pub(crate) fn control_path(&self, target: &SshTarget) -> PathBuf {
        let key = format!("{} {}:{}", target.host_key_alias(), target.destination(), target.port.unwrap_or(22));
        let hash = format!("{:x}", Sha256::digest(key.as_bytes()));
        self.runtime_dir.join(format!("c-{}", &hash[..16]))
    }

    /// Makes the runtime directory (private) and writes `target`'s known-hosts file, so a
    /// command built for `target` can run. Cheap and idempotent: call it before each connection.
    pub(crate) fn prepare(&self, target: &SshTarget) -> Result<(), DriverError> {
        let file = self.known_hosts_file(target);
        let dir = file.parent().unwrap_or(&self.runtime_dir);
        private_dir(&self.runtime_dir)
            .and_then(|()| private_dir(dir))
            .and_then(|()| write_private(&file, target.known_hosts_line().as_bytes()))
            .map_err(|error| {
                DriverError::new(format!(
                    "cannot write the pinned host key of `{}` to `{}`: {error}",
                    target.address,
                    file.display()
                ))
            })
    }
}

/// The private directory under `temp_dir` for the project whose work directory is `work_dir`
/// (absolute), named from a hash of it.
fn runtime_dir(work_dir: &Path, temp_dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(work_dir).unwrap_or_else(|_| work_dir.to_path_buf());
    let hash = format!("{:x}", Sha256::digest(absolute.as_os_str().as_encoded_bytes()));
    let short = &hash[..12];
    temp_dir.join(format!("rave-ssh-{}-{short}", rustix::process::getuid().as_raw()))
}

/// Creates `dir` with mode 0700, or checks that the existing one is a directory of ours that no
/// one else can write to.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    let metadata = std::fs::symlink_metadata(dir)?;
    let is_ours = metadata.uid() == rustix::process::getuid().as_raw();
    if !metadata.is_dir() || !is_ours || metadata.permissions().mode() & 0o022 != 0 {
        return Err(std::io::Error::other("it exists and is not a private directory of this user"));
    }
    Ok(())
}

/// Writes `contents` to `file` atomically with mode 0600.
fn write_private(file: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(contents)?;
    temp.persist(file).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn each_project_gets_a_private_temp_dir_whatever_its_path() {
        let long = Path::new("/home/someone/projects/a-rather-long-name/that-goes/on-and-on/.rave");
        let spaced = Path::new("/home/someone/My Projects/.rave");
        let (first, second) = (runtime_dir(long, Path::new("/tmp")), runtime_dir(spaced, Path::new("/tmp")));
        for dir in [&first, &second] {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            assert!(dir.starts_with("/tmp") && name.starts_with("rave-ssh-"), "{}", dir.display());
            assert!(dir.join("c-0123456789abcdef.XXXXXXXXXXXXXXXXXXXXX").to_string_lossy().len() < 104);
        }
        assert_ne!(first, second, "two projects never share sockets");
    }

    #[test]
    fn prepare_pins_the_key_in_a_private_file() {
        let work = tempfile::tempdir().unwrap();
        let options = SshOptions { runtime_dir: work.path().join("ssh"), ..SshOptions::for_work_dir(work.path()) };
        let spec = serde_json::from_value(serde_json::json!({
            "ssh": "root@10.231.0.2", "host_key": "ssh-ed25519 AAAAC3Nza",
        }))
        .unwrap();
        let target = SshTarget::of_host(&"host.h1".parse().unwrap(), &spec, work.path()).unwrap();
        options.prepare(&target).unwrap();
        options.prepare(&target).unwrap();
        let file = options.known_hosts_file(&target);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "rave.host.h1 ssh-ed25519 AAAAC3Nza\n");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&options.runtime_dir).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_directory_others_can_write_to_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let shared = work.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = private_dir(&shared).unwrap_err();
        assert_eq!(error.to_string(), "it exists and is not a private directory of this user");
    }
}
