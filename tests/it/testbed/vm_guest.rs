//! A guest to boot under QEMU (testbed.md §5): a real Debian cloud kernel and a busybox initramfs
//! that serves `/healthz` on port 80 and prints a ready marker on the serial console, made by
//! `scripts/vm-guest` (the same guest `examples/quickstart` boots).
//!
//! Both files are made once and kept under `target/testbed-cache/vm-guest/KEY/`, KEY from the
//! script's text; the script writes them beside the cache and renames them into place, so tests
//! running at the same time never see half a file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};

use super::must;

/// What the guest prints on its serial console once `httpd` runs (see `scripts/vm-guest`).
pub(crate) const READY_MARKER: &str = "RAVE-GUEST-READY";

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
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let script = root.join("scripts/vm-guest");
        // Keyed by the script's text: a changed guest is made again, not taken from the cache.
        let text = std::fs::read(&script).expect("scripts/vm-guest");
        let key = Sha256::digest(&text).iter().take(6).fold(String::new(), |mut key, byte| {
            let _ = write!(key, "{byte:02x}");
            key
        });
        let cache = root.join("target/testbed-cache/vm-guest").join(key);
        must(&script.display().to_string(), &[&cache.display().to_string()]);
        Guest { kernel: cache.join("vmlinuz"), initrd: cache.join("initrd.gz") }
    })
}
