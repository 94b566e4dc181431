//! Pure builders of the remote command lines of a NixOS deploy: read the current system, record a
//! new generation of the system profile, activate a system, step the profile back.
//!
//! Each is an argv for the host; `Placement` turns it into an `ssh` command line (or runs it as it
//! is on the machine rave runs on).

use std::fmt::Write as _;
use std::time::Duration;

use crate::drivers::DriverError;
use crate::drivers::command_spec::CommandSpec;
use crate::drivers::ssh::{SshConnection, nix_ssh_opts};
use crate::nix::store::copy_command;
use crate::nix::substituters::Substituters;

/// The profile whose generations are the host's systems (what `nixos-rebuild` sets too).
pub(crate) const SYSTEM_PROFILE: &str = "/nix/var/nix/profiles/system";

/// How long reading or setting the profile may take.
const PROFILE_TIMEOUT: Duration = Duration::from_secs(120);

/// How long `switch-to-configuration` may take (services restart).
const SWITCH_TIMEOUT: Duration = Duration::from_secs(900);

/// How long building a system may take (a NixOS system from scratch takes a while).
const BUILD_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// `nix-store --realise DRV`: builds the system where rave runs (nothing to do when it is there
/// already). Takes the derivation the plan evaluated, not the flake again, and reads the same in
/// every Nix version.
pub(crate) fn realise(drv_path: &str) -> CommandSpec {
    CommandSpec::new("nix-store").args(["--realise", drv_path]).timeout(BUILD_TIMEOUT)
}

/// `nix copy --to ssh://USER@HOST --substitute-on-destination SYSTEM`, with `NIX_SSHOPTS` pinning
/// the host's key (its known-hosts file must be written: `SshOptions::prepare`): the host fetches
/// what it can from the caches it trusts and from `substituters` (through the store's
/// `remote-program`, `Substituters::on_remote`), the rest comes from here. nix's ssh joins rave's shared
/// connection to the host (`ControlPath`), so the copy costs no second handshake.
/// Nix splits `NIX_SSHOPTS` on whitespace, so a key file whose path has some is refused.
pub(crate) fn copy_to_host(
    connection: &SshConnection,
    system: &str,
    substituters: &Substituters,
) -> Result<CommandSpec, DriverError> {
    let (options, target) = (&connection.options, &connection.target);
    if let Some(identity) = target.identity.as_ref().filter(|path| path.to_string_lossy().contains(char::is_whitespace))
    {
        return Err(DriverError::new(format!(
            "the `ssh_key` of `{}` is at a path with spaces, `{}`, which nix cannot pass to ssh",
            target.address,
            identity.display()
        ))
        .with_detail("nix splits `NIX_SSHOPTS` on spaces: move the key to a path without them"));
    }
    let mut ssh_opts = nix_ssh_opts(options, Some(target));
    let control_path = options.control_path(target).display().to_string();
    if !control_path.contains(char::is_whitespace) {
        let persist = options.control_persist.as_secs();
        let _ = write!(ssh_opts, " -o ControlMaster=auto -o ControlPath={control_path} -o ControlPersist={persist}");
    }
    let store = substituters.on_remote(&format!("ssh://{}", target.destination()));
    Ok(copy_command(&store, &[system.to_owned()], Some(&ssh_opts)).arg("--substitute-on-destination"))
}

/// The store path the system profile points to; prints nothing when the host has none yet.
/// (`readlink -e` fails on a missing profile; that is the first deploy, not an error.)
pub(crate) fn current_system() -> CommandSpec {
    CommandSpec::new("sh").args(["-c", &format!("readlink -e {SYSTEM_PROFILE} || true")]).timeout(PROFILE_TIMEOUT)
}

/// `nix-env -p PROFILE --set SYSTEM`: a new generation, so the previous one stays to roll back to.
pub(crate) fn set_profile(system: &str) -> CommandSpec {
    CommandSpec::new("nix-env").args(["-p", SYSTEM_PROFILE, "--set", system]).timeout(PROFILE_TIMEOUT)
}

/// `SYSTEM/bin/switch-to-configuration switch`: activates `system` now.
pub(crate) fn switch(system: &str) -> CommandSpec {
    CommandSpec::new(format!("{system}/bin/switch-to-configuration")).arg("switch").timeout(SWITCH_TIMEOUT)
}

/// `nix-env -p PROFILE --rollback`: the profile back to the generation before the current one.
pub(crate) fn rollback_profile() -> CommandSpec {
    CommandSpec::new("nix-env").args(["-p", SYSTEM_PROFILE, "--rollback"]).timeout(PROFILE_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deploy_steps_are_these_command_lines() {
        let system = "/nix/store/0a1b2c-nixos-system-shoshin-24.05";
        let spec = serde_json::from_value(serde_json::json!({
            "ssh": "root@192.0.2.2", "port": 2222, "ssh_key": "file:keys/deploy", "host_key": "ssh-ed25519 AAAAC3Nza",
        }))
        .unwrap();
        let connection = SshConnection {
            options: crate::drivers::ssh::SshOptions {
                runtime_dir: "/tmp/rave-ssh-0-0123456789ab".into(),
                ..crate::drivers::ssh::SshOptions::for_work_dir(std::path::Path::new("/srv/infra/.rave"))
            },
            target: crate::drivers::ssh::SshTarget::of_host(
                &"host.shoshin".parse().unwrap(),
                &spec,
                std::path::Path::new("/srv/infra"),
            )
            .unwrap(),
        };
        let copy = copy_to_host(&connection, system, &Substituters::default()).unwrap();
        let lines = [
            realise("/nix/store/0a1b2c-nixos-system-shoshin-24.05.drv"),
            copy.clone(),
            current_system(),
            set_profile(system),
            switch(system),
            rollback_profile(),
        ]
        .map(|command| command.to_string())
        .join("\n");
        insta::assert_snapshot!(lines, @r"
            nix-store --realise /nix/store/0a1b2c-nixos-system-shoshin-24.05.drv
            NIX_SSHOPTS=<hidden> nix --extra-experimental-features 'nix-command flakes' copy --to ssh://root@192.0.2.2 /nix/store/0a1b2c-nixos-system-shoshin-24.05 --substitute-on-destination
            sh -c 'readlink -e /nix/var/nix/profiles/system || true'
            nix-env -p /nix/var/nix/profiles/system --set /nix/store/0a1b2c-nixos-system-shoshin-24.05
            /nix/store/0a1b2c-nixos-system-shoshin-24.05/bin/switch-to-configuration switch
            nix-env -p /nix/var/nix/profiles/system --rollback
        ");
        let ssh_opts: Vec<&str> = copy.env.iter().flat_map(|(name, value)| [name.as_str(), value.as_str()]).collect();
        let mut spaced = connection.clone();
        spaced.target.identity = Some("/srv/my keys/deploy".into());
        assert_eq!(
            copy_to_host(&spaced, system, &Substituters::default()).unwrap_err().summary,
            "the `ssh_key` of `host.shoshin` is at a path with spaces, `/srv/my keys/deploy`, which nix cannot pass to ssh"
        );
        insta::assert_snapshot!(ssh_opts.join("="), @"NIX_SSHOPTS=-o BatchMode=yes -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o UserKnownHostsFile=/tmp/rave-ssh-0-0123456789ab/known_hosts/rave.host.shoshin -o HostKeyAlias=rave.host.shoshin -o IdentitiesOnly=yes -i /srv/infra/keys/deploy -p 2222 -o ControlMaster=auto -o ControlPath=/tmp/rave-ssh-0-0123456789ab/c-7822b25e448d86d0 -o ControlPersist=60");
    }
}
