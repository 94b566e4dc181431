//! [`SystemsFlake`]: a flake whose `nixosConfigurations.NAME.config.system.build.toplevel` are
//! plain derivations standing in for NixOS systems (testbed.md §1, §4): each has a
//! `bin/switch-to-configuration` that records the system as the host's active one in
//! `/nix/var/rave-test-active` (inside the host's own `/nix`), and a `healthy` file unless it is
//! meant to fail its check. Written into the test's project directory (not a git tree).

use std::fmt::Write as _;
use std::path::Path;

use super::ssh_host::AUTHORIZED_KEYS;

/// Where a test system records itself as active on its host.
pub(crate) const ACTIVE_MARKER: &str = "/nix/var/rave-test-active";

/// The health check that passes only when the active system has its `healthy` file.
pub(crate) const HEALTH_CHECK: &str =
    r#"{ command: [sh, -c, "test -e \"$(cat /nix/var/rave-test-active)/healthy\""], retries: 1 }"#;

/// One stand-in system: host name, version, whether it passes its check, whether it takes new
/// SSH logins away (its activation moves the host's authorized keys aside; any other system's
/// activation puts them back).
pub(crate) struct System<'a> {
    /// The configuration's name (`nixosConfigurations.NAME`).
    pub(crate) name: &'a str,
    /// Part of the store path, so versions differ.
    pub(crate) version: &'a str,
    /// Whether the system has its `healthy` file.
    pub(crate) is_healthy: bool,
    /// Whether activating it locks new SSH logins out.
    pub(crate) locks_out: bool,
}

/// Writes `flake.nix` with `systems` into `dir`.
pub(crate) fn write_flake(dir: &Path, systems: &[System<'_>]) {
    let mut configurations = String::new();
    for system in systems {
        let _ = writeln!(
            configurations,
            "    nixosConfigurations.{name}.config.system.build.toplevel = system \"{name}\" \"{version}\" {healthy} {locks_out};",
            name = system.name,
            version = system.version,
            healthy = system.is_healthy,
            locks_out = system.locks_out,
        );
    }
    let keys = AUTHORIZED_KEYS;
    let flake = format!(
        r#"{{
  outputs = {{ self }}: let
    system = name: version: healthy: locksOut: derivation {{
      name = "nixos-system-${{name}}-${{version}}";
      system = "x86_64-linux";
      builder = "/bin/sh";
      args = [ "-c" ''
        /bin/mkdir -p $out/bin
        ${{if healthy then "/bin/touch $out/healthy" else ""}}
        printf '#!/bin/sh\necho %s > {ACTIVE_MARKER}\n' "$out" > $out/bin/switch-to-configuration
        printf '${{if locksOut then "mv {keys} {keys}.off" else "[ ! -e {keys}.off ] || mv {keys}.off {keys}"}}\n' >> $out/bin/switch-to-configuration
        /bin/chmod +x $out/bin/switch-to-configuration
      '' ];
    }};
  in {{
{configurations}  }};
}}
"#
    );
    std::fs::write(dir.join("flake.nix"), flake).expect("write flake.nix");
}
