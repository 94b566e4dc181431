//! [`SshTarget`]: one machine reached over SSH, as the file declares it (`ssh: user@host`,
//! `port`, `ssh_key`, `host_key`), and the known-hosts line that pins its key.

use std::path::{Path, PathBuf};

use crate::drivers::DriverError;
use crate::model::{BuilderSpec, HostSpec, ResourceId, SecretRef};

/// A machine reached over SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshTarget {
    /// The resource it is declared as (`host.shoshin`, `builder.burst-1`): names the pinned key.
    pub(crate) address: ResourceId,
    /// The remote user.
    pub(crate) user: String,
    /// The host name or address.
    pub(crate) host: String,
    /// The port, when not 22.
    pub(crate) port: Option<u16>,
    /// The pinned host key, `ssh-ed25519 AAAA…` (a trailing comment is dropped).
    pub(crate) host_key: String,
    /// The private key to log in with; ssh's own defaults when `None`.
    pub(crate) identity: Option<PathBuf>,
}

impl SshTarget {
    /// The target of a host declared with `ssh:` and `host_key:`; `base_dir` resolves a relative
    /// `ssh_key: file:PATH`. A `local: true` host has no target: that is an error here.
    pub(crate) fn of_host(address: &ResourceId, spec: &HostSpec, base_dir: &Path) -> Result<Self, DriverError> {
        let (Some(ssh), Some(host_key)) = (&spec.ssh, &spec.host_key) else {
            return Err(DriverError::new(format!(
                "`{address}` is not reached over SSH: it has no `ssh` and `host_key`"
            )));
        };
        Self::new(address, ssh, spec.port, host_key, spec.ssh_key.as_ref(), base_dir)
    }

    /// The target of a remote builder (`builders:`); `base_dir` resolves a relative `ssh_key`.
    pub(crate) fn of_builder(address: &ResourceId, spec: &BuilderSpec, base_dir: &Path) -> Result<Self, DriverError> {
        Self::new(address, &spec.ssh, spec.port, &spec.host_key, spec.ssh_key.as_ref(), base_dir)
    }

    fn new(
        address: &ResourceId,
        ssh: &str,
        port: Option<u16>,
        host_key: &str,
        ssh_key: Option<&SecretRef>,
        base_dir: &Path,
    ) -> Result<Self, DriverError> {
        // Validation (`model::lower`) already refused anything else; these errors guard callers
        // that build targets by hand.
        let Some((user, host)) = ssh.split_once('@') else {
            return Err(DriverError::new(format!("`{address}`: `ssh: {ssh}` is not `user@host`")));
        };
        let mut key_words = host_key.split_whitespace();
        let (Some(key_type), Some(key_data)) = (key_words.next(), key_words.next()) else {
            return Err(DriverError::new(format!("`{address}`: `host_key` is not an SSH public key")));
        };
        let identity = match ssh_key {
            None => None,
            Some(SecretRef::File(path)) => Some(base_dir.join(path)),
            Some(SecretRef::Env(_)) => {
                return Err(DriverError::new(format!(
                    "`{address}`: `ssh_key` must be a `file:` reference, as ssh reads keys from files"
                )));
            }
        };
        Ok(Self {
            address: address.clone(),
            user: user.to_owned(),
            host: host.to_owned(),
            port,
            host_key: format!("{key_type} {key_data}"),
            identity,
        })
    }

    /// `user@host`, as ssh and Nix store URIs take it.
    pub(crate) fn destination(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }

    /// The name the pinned key is filed under (`HostKeyAlias`): the resource's address, so the
    /// key follows the declaration, whatever address or port reaches the machine.
    pub(crate) fn host_key_alias(&self) -> String {
        format!("rave.{}", self.address)
    }

    /// The one known-hosts line that pins this target's key.
    pub(crate) fn known_hosts_line(&self) -> String {
        format!("{} {}\n", self.host_key_alias(), self.host_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(json: serde_json::Value) -> HostSpec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_host_becomes_a_target_with_its_key_pinned_under_its_address() {
        let spec = host(serde_json::json!({
            "ssh": "root@192.0.2.2", "port": 2222, "ssh_key": "file:keys/deploy",
            "host_key": "ssh-ed25519 AAAAC3Nza root@shoshin",
        }));
        let target = SshTarget::of_host(&"host.shoshin".parse().unwrap(), &spec, Path::new("/srv/infra")).unwrap();
        assert_eq!(target.destination(), "root@192.0.2.2");
        assert_eq!(target.port, Some(2222));
        assert_eq!(target.identity.as_deref(), Some(Path::new("/srv/infra/keys/deploy")));
        assert_eq!(target.known_hosts_line(), "rave.host.shoshin ssh-ed25519 AAAAC3Nza\n");
    }

    #[test]
    fn a_local_host_has_no_target() {
        let spec = host(serde_json::json!({ "local": true }));
        let error = SshTarget::of_host(&"host.workstation".parse().unwrap(), &spec, Path::new(".")).unwrap_err();
        assert_eq!(error.summary, "`host.workstation` is not reached over SSH: it has no `ssh` and `host_key`");
    }

    #[test]
    fn a_key_from_the_environment_is_refused() {
        let spec = host(serde_json::json!({
            "ssh": "root@192.0.2.2", "ssh_key": "env:DEPLOY_KEY", "host_key": "ssh-ed25519 AAAAC3Nza",
        }));
        let error = SshTarget::of_host(&"host.a".parse().unwrap(), &spec, Path::new(".")).unwrap_err();
        assert_eq!(error.summary, "`host.a`: `ssh_key` must be a `file:` reference, as ssh reads keys from files");
    }
}
