//! A guest to boot under QEMU (testbed.md §5): a real Debian cloud kernel and a busybox initramfs
//! whose `/init` loads the virtio network modules, serves `/healthz` with busybox `httpd` on
//! port 80 and prints a ready marker on the serial console.
//!
//! The kernel comes from `apt-get download` of the package `linux-image-cloud-amd64` depends on,
//! unpacked with `dpkg -x` (`/boot` stays untouched). Both files are made once and kept under
//! `target/testbed-cache/vm-guest/`, written to a temporary directory first and renamed into
//! place, so tests running at the same time never see half a file.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{must, next_serial};

/// What the guest prints on its serial console once `httpd` runs.
pub(crate) const READY_MARKER: &str = "RAVE-GUEST-READY";

/// The virtio modules the network needs, in the order they load (no `modules.dep` in the .deb).
const MODULES: [&str; 8] = [
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "failover",
    "net_failover",
    "virtio_net",
];

/// The guest's files.
pub(crate) struct Guest {
    /// The kernel image.
    pub(crate) kernel: PathBuf,
    /// The gzipped initramfs.
    pub(crate) initrd: PathBuf,
}

/// The guest, made on first use.
pub(crate) fn guest() -> &'static Guest {
    static GUEST: OnceLock<Guest> = OnceLock::new();
    GUEST.get_or_init(|| {
        let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/testbed-cache/vm-guest");
        std::fs::create_dir_all(&cache).expect("cache dir");
        let kernel = cache.join("vmlinuz");
        let initrd = cache.join("initrd.gz");
        if !kernel.is_file() || !initrd.is_file() {
            build(&cache);
        }
        Guest { kernel, initrd }
    })
}

/// Downloads and unpacks the kernel, builds the initramfs, and moves both into `cache`.
fn build(cache: &Path) {
    let work = cache.join(format!("work-{}-{}", std::process::id(), next_serial()));
    std::fs::create_dir_all(&work).expect("work dir");
    let depends = must("apt-cache", &["depends", "linux-image-cloud-amd64"]);
    let depends = String::from_utf8_lossy(&depends.stdout);
    let package = depends
        .lines()
        .find_map(|line| line.trim().strip_prefix("Depends: "))
        .expect("`linux-image-cloud-amd64` depends on a kernel package (apt-get update first)")
        .to_owned();
    let work_text = work.display().to_string();
    must("sh", &["-c", r#"cd "$1" && apt-get download "$2""#, "sh", &work_text, &package]);
    must("sh", &["-c", r#"cd "$1" && dpkg -x linux-image-*.deb unpacked"#, "sh", &work_text]);
    let unpacked = work.join("unpacked");
    let vmlinuz = std::fs::read_dir(unpacked.join("boot"))
        .expect("boot dir in the kernel package")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("vmlinuz-")))
        .expect("a vmlinuz in the kernel package");

    let root = work.join("root");
    for dir in ["bin", "proc", "sys", "dev", "lib", "www"] {
        std::fs::create_dir_all(root.join(dir)).expect("initramfs dir");
    }
    std::fs::copy("/usr/bin/busybox", root.join("bin/busybox")).expect("busybox-static is installed");
    for module in MODULES {
        let found = must("find", &[&unpacked.display().to_string(), "-name", &format!("{module}.ko*")]);
        if let Some(path) = String::from_utf8_lossy(&found.stdout).lines().next() {
            std::fs::copy(path, root.join(format!("lib/{module}.ko"))).expect("copy module");
        }
    }
    std::fs::write(root.join("www/healthz"), "ok\n").expect("healthz");
    let init = format!(
        "#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for module in {}; do [ -f /lib/$module.ko ] && insmod /lib/$module.ko; done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
httpd -p 80 -h /www
echo {READY_MARKER}
while true; do sleep 3600; done
",
        MODULES.join(" ")
    );
    std::fs::write(root.join("init"), init).expect("init");
    must("chmod", &["+x", &root.join("init").display().to_string()]);
    let initrd = work.join("initrd.gz");
    must(
        "sh",
        &[
            "-c",
            r#"cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 >"$2""#,
            "sh",
            &root.display().to_string(),
            &initrd.display().to_string(),
        ],
    );
    std::fs::copy(&vmlinuz, work.join("vmlinuz")).expect("copy kernel");
    // Renames are atomic: another test sees the whole file or none.
    std::fs::rename(work.join("vmlinuz"), cache.join("vmlinuz")).expect("kernel into the cache");
    std::fs::rename(&initrd, cache.join("initrd.gz")).expect("initrd into the cache");
    let _ = std::fs::remove_dir_all(&work);
}
