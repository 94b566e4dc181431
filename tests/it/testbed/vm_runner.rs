//! Runners for the guest of `vm_guest`, in microvm.nix's shape: a flake whose
//! `nixosConfigurations.NAME.config.microvm.declaredRunner` has a `bin/microvm-run` that execs
//! QEMU (TCG) on the guest's kernel and initramfs (copied beside the flake), with `BIND:PORT`
//! forwarded to the guest's port 80; and the checks a test makes on the runner's process.

use std::fmt::Write as _;
use std::path::Path;

use super::vm_guest::Guest;

/// One VM's runner in the flake.
pub(crate) struct Runner<'a> {
    /// Its `nixosConfigurations` name.
    pub(crate) name: &'a str,
    /// The address its port forward listens on.
    pub(crate) bind: &'a str,
    /// The port forwarded to the guest's port 80.
    pub(crate) port: u16,
    /// Changes the runner's store path without changing what it does.
    pub(crate) generation: u32,
}

/// The flake with one runner a VM.
fn flake(runners: &[Runner<'_>]) -> String {
    let mut attributes = String::new();
    for Runner { name, bind, port, generation } in runners {
        let _ = writeln!(
            attributes,
            "    nixosConfigurations.{name}.config.microvm.declaredRunner = runner \"{name}\" \"{bind}\" {port} {generation};"
        );
    }
    format!(
        r#"{{
  outputs = {{ self }}: let
    runner = name: bind: port: generation: derivation {{
      name = "microvm-run-${{name}}";
      system = "x86_64-linux";
      builder = "/bin/sh";
      script = ''
        #!/bin/sh
        exec /usr/bin/qemu-system-x86_64 -accel tcg -m 256 -smp 1 -nographic -no-reboot -nodefaults \
          -serial stdio -kernel ${{./vmlinuz}} -initrd ${{./initrd.gz}} -append 'console=ttyS0 panic=-1' \
          -netdev user,id=n0,restrict=on,hostfwd=tcp:${{bind}}:${{toString port}}-:80 \
          -device virtio-net-pci,netdev=n0,romfile=
        # generation ${{toString generation}}
      '';
      args = [ "-c" "/bin/mkdir -p $out/bin && printf '%s' \"$script\" > $out/bin/microvm-run && /bin/chmod +x $out/bin/microvm-run" ];
    }};
  in {{
{attributes}  }};
}}
"#
    )
}

/// Writes the flake of `runners` into `dir`, with the guest's files beside it.
pub(crate) fn write_runners(dir: &Path, guest: &Guest, runners: &[Runner<'_>]) {
    std::fs::create_dir_all(dir).expect("runner dir");
    for (from, name) in [(&guest.kernel, "vmlinuz"), (&guest.initrd, "initrd.gz")] {
        if !dir.join(name).exists() {
            std::fs::copy(from, dir.join(name)).expect("copy guest file");
        }
    }
    std::fs::write(dir.join("flake.nix"), flake(runners)).expect("write flake");
}

/// The runner's PID in the PID file of `vm_dir`, while that process is the VM's runner (its
/// working directory is the VM's directory: a reused PID is not taken for it).
pub(crate) fn running_pid(vm_dir: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(vm_dir.join("pid")).ok()?.trim().parse().ok()?;
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
    (cwd == vm_dir).then_some(pid)
}

/// Whether `pid` is gone (or a zombie nobody reaped, which no longer runs).
pub(crate) fn is_gone(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_or(true, |status| status.lines().any(|line| line.starts_with("State:") && line.contains('Z')))
}
