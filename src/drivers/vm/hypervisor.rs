//! The hypervisors' command lines: how a microVM's runner starts QEMU, cloud-hypervisor or
//! Firecracker, and how each is asked to shut down through its own API.
//!
//! Pure: [`launch`] and [`shutdown`] build [`CommandSpec`] values and run nothing. The generated
//! VM flake (`flake.rs`) turns them into the runner's `bin/microvm-run` and `bin/microvm-shutdown`,
//! so the line a runner executes is the line these functions (and their snapshot tests) show.
//! QEMU tries KVM first and falls back to TCG (`-accel kvm -accel tcg`) where KVM cannot be opened.

use super::super::command_spec::CommandSpec;
use crate::model::{Hypervisor, Interface};

/// One disk of a VM, as the hypervisor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Disk {
    /// The volume's name (the drive's id).
    pub(crate) name: String,
    /// The image file, relative to the VM's working directory or absolute.
    pub(crate) image: String,
}

/// Everything a hypervisor needs to boot one VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Launch<'a> {
    /// The VM's name.
    pub(crate) name: &'a str,
    /// Which hypervisor.
    pub(crate) hypervisor: Hypervisor,
    /// Where the hypervisor's binary is (`/usr/bin`, a store path's `bin`); empty: on `PATH`.
    pub(crate) bin_dir: &'a str,
    /// Virtual CPUs.
    pub(crate) vcpus: u32,
    /// Memory in MiB.
    pub(crate) memory_mib: u64,
    /// The kernel image.
    pub(crate) kernel: &'a str,
    /// The initial ramdisk.
    pub(crate) initrd: &'a str,
    /// The kernel command line.
    pub(crate) append: &'a str,
    /// Disks, in order.
    pub(crate) disks: Vec<Disk>,
    /// Network interfaces.
    pub(crate) interfaces: &'a [Interface],
    /// The hypervisor's control socket (QMP for QEMU, the API socket otherwise).
    pub(crate) socket: &'a str,
}

/// The program `name` in `bin_dir`, or on `PATH` when `bin_dir` is empty.
fn program(bin_dir: &str, name: &str) -> String {
    if bin_dir.is_empty() { name.to_owned() } else { format!("{}/{name}", bin_dir.trim_end_matches('/')) }
}

/// The command line that boots `launch` in the foreground: the body of `bin/microvm-run`.
pub(crate) fn launch(launch: &Launch<'_>) -> CommandSpec {
    match launch.hypervisor {
        Hypervisor::Qemu => qemu(launch),
        Hypervisor::CloudHypervisor => cloud_hypervisor(launch),
        Hypervisor::Firecracker => firecracker(launch),
    }
}

/// `qemu-system-x86_64`: serial console on stdout, no reboot, no default devices, a QMP socket.
fn qemu(launch: &Launch<'_>) -> CommandSpec {
    let mut command = CommandSpec::new(program(launch.bin_dir, "qemu-system-x86_64")).args(["-name", launch.name]);
    command = command
        .args(["-accel", "kvm", "-accel", "tcg"])
        .args(["-smp", &launch.vcpus.to_string(), "-m", &launch.memory_mib.to_string()])
        .args(["-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio"])
        .args(["-kernel", launch.kernel, "-initrd", launch.initrd, "-append", launch.append]);
    for disk in &launch.disks {
        command = command.arg("-drive").arg(format!("id={},format=raw,if=virtio,file={}", disk.name, disk.image));
    }
    for interface in launch.interfaces {
        let netdev = match interface.interface_type.as_str() {
            "user" => format!("user,id={}", interface.id),
            _ => format!("tap,id={id},ifname={id},script=no,downscript=no", id = interface.id),
        };
        command = command.args(["-netdev".to_owned(), netdev]);
        command = command
            .arg("-device")
            .arg(format!("virtio-net-pci,netdev={},mac={},romfile=", interface.id, interface.mac));
    }
    command
        .args(["-qmp".to_owned(), format!("unix:{},server,nowait", launch.socket)])
        .args(["-pidfile".to_owned(), format!("{}.pid", launch.name)])
}

/// `cloud-hypervisor`: the API socket answers `ch-remote`.
fn cloud_hypervisor(launch: &Launch<'_>) -> CommandSpec {
    let mut command = CommandSpec::new(program(launch.bin_dir, "cloud-hypervisor"))
        .args(["--api-socket".to_owned(), launch.socket.to_owned()])
        .args(["--cpus".to_owned(), format!("boot={}", launch.vcpus)])
        .args(["--memory".to_owned(), format!("size={}M", launch.memory_mib)])
        .args(["--kernel", launch.kernel, "--initramfs", launch.initrd, "--cmdline", launch.append])
        .args(["--console", "null", "--serial", "tty"]);
    if !launch.disks.is_empty() {
        command = command.arg("--disk");
        command = command.args(launch.disks.iter().map(|disk| format!("path={},id={}", disk.image, disk.name)));
    }
    if !launch.interfaces.is_empty() {
        command = command.arg("--net");
        command = command
            .args(launch.interfaces.iter().map(|interface| format!("tap={},mac={}", interface.id, interface.mac)));
    }
    command
}

/// `firecracker`: configured from a file next to the runner ([`firecracker_config`]).
fn firecracker(launch: &Launch<'_>) -> CommandSpec {
    CommandSpec::new(program(launch.bin_dir, "firecracker"))
        .args(["--api-sock", launch.socket])
        .args(["--config-file".to_owned(), format!("{}.firecracker.json", launch.name)])
}

/// Firecracker's configuration file for `launch`.
pub(crate) fn firecracker_config(launch: &Launch<'_>) -> serde_json::Value {
    let drives: Vec<serde_json::Value> = launch
        .disks
        .iter()
        .map(|disk| {
            serde_json::json!({ "drive_id": disk.name, "path_on_host": disk.image, "is_root_device": false, "is_read_only": false })
        })
        .collect();
    let interfaces: Vec<serde_json::Value> = launch
        .interfaces
        .iter()
        .map(|interface| {
            serde_json::json!({ "iface_id": interface.id, "host_dev_name": interface.id, "guest_mac": interface.mac })
        })
        .collect();
    serde_json::json!({
        "boot-source": { "kernel_image_path": launch.kernel, "initrd_path": launch.initrd, "boot_args": launch.append },
        "machine-config": { "vcpu_count": launch.vcpus, "mem_size_mib": launch.memory_mib },
        "drives": drives,
        "network-interfaces": interfaces,
    })
}

/// The command that asks the running hypervisor of `launch` to shut the guest down through its
/// API: QMP `system_powerdown` (through `socat` from `bin_dir`), `ch-remote shutdown-vmm`, or
/// Firecracker's `SendCtrlAltDel` action.
pub(crate) fn shutdown(launch: &Launch<'_>, helper_bin_dir: &str) -> CommandSpec {
    match launch.hypervisor {
        Hypervisor::Qemu => CommandSpec::new(program(helper_bin_dir, "socat"))
            .arg("-")
            .arg(format!("UNIX-CONNECT:{}", launch.socket))
            .stdin(r#"{"execute":"qmp_capabilities"}{"execute":"system_powerdown"}"#),
        Hypervisor::CloudHypervisor => {
            CommandSpec::new(program(launch.bin_dir, "ch-remote")).args(["--api-socket", launch.socket, "shutdown-vmm"])
        }
        Hypervisor::Firecracker => CommandSpec::new(program(helper_bin_dir, "curl"))
            .args(["--fail", "--silent", "--unix-socket", launch.socket, "-X", "PUT"])
            .args(["http://localhost/actions", "-H", "Content-Type: application/json"])
            .args(["-d", r#"{"action_type":"SendCtrlAltDel"}"#]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interfaces() -> Vec<Interface> {
        vec![
            Interface {
                interface_type: "tap".to_owned(),
                id: "vm-gitlab".to_owned(),
                mac: "02:00:00:00:00:01".to_owned(),
            },
            Interface { interface_type: "user".to_owned(), id: "n0".to_owned(), mac: "02:00:00:00:00:02".to_owned() },
        ]
    }

    fn gitlab(hypervisor: Hypervisor, interfaces: &[Interface]) -> Launch<'_> {
        Launch {
            name: "gitlab",
            hypervisor,
            bin_dir: "/nix/store/abc-hypervisor/bin",
            vcpus: 4,
            memory_mib: 8192,
            kernel: "/nix/store/k-linux/bzImage",
            initrd: "/nix/store/i-initrd/initrd",
            append: "console=ttyS0 init=/nix/store/s-system/init",
            disks: vec![Disk { name: "data".to_owned(), image: "data.img".to_owned() }],
            interfaces,
            socket: "gitlab.sock",
        }
    }

    #[test]
    fn qemu_falls_back_to_tcg_and_has_a_qmp_socket() {
        let interfaces = interfaces();
        insta::assert_snapshot!(launch(&gitlab(Hypervisor::Qemu, &interfaces)));
    }

    #[test]
    fn qemu_without_disks_or_interfaces_finds_itself_on_path() {
        let launch_spec = Launch { bin_dir: "", disks: Vec::new(), interfaces: &[], ..gitlab(Hypervisor::Qemu, &[]) };
        insta::assert_snapshot!(launch(&launch_spec), @"qemu-system-x86_64 -name gitlab -accel kvm -accel tcg -smp 4 -m 8192 -nographic -no-reboot -nodefaults -serial stdio -kernel /nix/store/k-linux/bzImage -initrd /nix/store/i-initrd/initrd -append 'console=ttyS0 init=/nix/store/s-system/init' -qmp unix:gitlab.sock,server,nowait -pidfile gitlab.pid");
    }

    #[test]
    fn cloud_hypervisor_line() {
        let interfaces = interfaces();
        insta::assert_snapshot!(launch(&gitlab(Hypervisor::CloudHypervisor, &interfaces)));
    }

    #[test]
    fn firecracker_line_and_config() {
        let interfaces = interfaces();
        let launch_spec = gitlab(Hypervisor::Firecracker, &interfaces);
        insta::assert_snapshot!(launch(&launch_spec), @"/nix/store/abc-hypervisor/bin/firecracker --api-sock gitlab.sock --config-file gitlab.firecracker.json");
        insta::assert_json_snapshot!(firecracker_config(&launch_spec));
    }

    #[test]
    fn each_hypervisor_shuts_down_through_its_api() {
        let lines: Vec<String> = [Hypervisor::Qemu, Hypervisor::CloudHypervisor, Hypervisor::Firecracker]
            .into_iter()
            .map(|hypervisor| shutdown(&gitlab(hypervisor, &[]), "/nix/store/h-tools/bin").to_string())
            .collect();
        insta::assert_debug_snapshot!(lines);
    }
}
