# The quickstart's microVM, in microvm.nix's shape: `nixosConfigurations.demo.config.microvm
# .declaredRunner` is a package with `bin/microvm-run`, which rave builds, starts and supervises.
#
# microvm.nix would build this runner from a NixOS configuration; to boot on a fresh machine with
# no nixpkgs and no network, this one is written by hand: QEMU (TCG, so no KVM is needed) boots a
# Debian kernel and a busybox initramfs made by `scripts/vm-guest vm/guest`, with port 80 of the
# guest forwarded to 127.0.0.1:18080 on the host. Replace it with a microvm.nix configuration
# (`inputs.microvm`, `microvm.hypervisor = "qemu"`, …), or leave out `nixos:` in rave.yaml and
# rave generates one from the file.
{
  outputs = { self }: {
    nixosConfigurations.demo.config.microvm.declaredRunner = derivation {
      name = "microvm-run-demo";
      system = "x86_64-linux";
      builder = "/bin/sh";
      kernel = ./guest/vmlinuz;
      initrd = ./guest/initrd.gz;
      qemu = "/usr/bin/qemu-system-x86_64";
      args = [ "-c" ''
        /bin/mkdir -p $out/bin
        {
          echo '#!/bin/sh'
          echo "exec $qemu -accel tcg -m 256 -smp 1 -nographic -no-reboot -nodefaults -serial stdio \\"
          echo "  -kernel $kernel -initrd $initrd -append 'console=ttyS0 panic=-1' \\"
          echo "  -netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:18080-:80 -device virtio-net-pci,netdev=n0,romfile="
        } > $out/bin/microvm-run
        /bin/chmod +x $out/bin/microvm-run
      '' ];
    };
  };
}
