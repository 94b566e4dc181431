//! [`SshHost`]: a machine for tests to deploy to, as testbed.md §3 makes one: a network namespace
//! joined to this one by a veth pair on its own /30, an `sshd` in it with its own host key and one
//! authorized client key, and its own `/nix` bind-mounted in a private mount namespace, with the
//! host's nix settings (`NIX_USER_CONF_FILES`) set for every session.
//!
//! Needs root, `ip` (iproute2), `unshare` and `sshd` (openssh-server). Dropping the host stops
//! `sshd` by its PID, stops what is still running in the namespace (sessions a client left open)
//! and deletes the namespace and the link by their names.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::{must, next_serial, quietly, stop, stop_pid, wait_until};

/// The nix settings every host starts with: offline, no sandbox, no build users (tests run as
/// root without a daemon).
const BASE_NIX_CONF: &str = "experimental-features = nix-command flakes
substituters =
sandbox = false
build-users-group =
narinfo-cache-negative-ttl = 0
";

/// The host's authorized keys, as its sshd (in the host's mount namespace) sees them.
pub(crate) const AUTHORIZED_KEYS: &str = "/nix/var/rave-authorized_keys";

/// An SSH host in its own network namespace, with its own `/nix`.
pub(crate) struct SshHost {
    /// Holds the keys, `sshd_config`, the log and the host's `nix/`.
    dir: tempfile::TempDir,
    /// This side's address on the host's link: where the host reaches this machine.
    gateway: Ipv4Addr,
    /// The network namespace, `rave-…`.
    namespace: String,
    /// The veth end left in this namespace, `rave-…o`.
    outer_link: String,
    /// The host's address (the veth end inside the namespace).
    address: Ipv4Addr,
    /// `sshd -D`, our child.
    sshd: Child,
}

impl SshHost {
    /// Starts a host whose hostname is `name`; panics with the reason when it cannot.
    pub(crate) fn start(name: &str) -> Self {
        assert!(rustix::process::geteuid().is_root(), "SSH test hosts need root (network namespaces, mounts)");
        let serial = next_serial();
        let pid = std::process::id();
        // ≤ 15 bytes for link names: `rave-` + 8 hex digits + one letter.
        let id = format!("{:06x}{:02x}", pid & 0xff_ffff, serial & 0xff);
        let namespace = format!("rave-{id}");
        let (outer_link, inner_link) = (format!("rave-{id}o"), format!("rave-{id}i"));
        let (gateway, address) = subnet(pid, serial);
        let dir = tempfile::Builder::new().prefix("rave-host-").tempdir().expect("temp dir");
        let host = |path: &str| dir.path().join(path).display().to_string();

        must("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", &host("host_key")]);
        must("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-C", "rave-test", "-f", &host("client_key")]);
        for path in ["nix/store", "nix/var/nix"] {
            std::fs::create_dir_all(dir.path().join(path)).expect("host /nix");
        }
        // Inside the host's own `/nix`, so a test system's activation can take logins away.
        std::fs::copy(dir.path().join("client_key.pub"), dir.path().join("nix/var/rave-authorized_keys"))
            .expect("authorize");
        std::fs::write(dir.path().join("nix.conf"), BASE_NIX_CONF).expect("nix.conf");
        std::fs::write(
            dir.path().join("sshd_config"),
            format!(
                "ListenAddress {address}
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel VERBOSE
MaxSessions 64
MaxStartups 64
SetEnv NIX_USER_CONF_FILES={nix_conf}
",
                host_key = host("host_key"),
                pid_file = host("sshd.pid"),
                authorized = AUTHORIZED_KEYS,
                nix_conf = host("nix.conf"),
            ),
        )
        .expect("sshd_config");
        // sshd refuses to start without its privilege-separation directory; the mount point for
        // the host's own store must exist.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        std::fs::create_dir_all("/nix").expect("/nix");

        must("ip", &["netns", "add", &namespace]);
        must("ip", &["link", "add", &outer_link, "type", "veth", "peer", "name", &inner_link]);
        must("ip", &["link", "set", &inner_link, "netns", &namespace]);
        must("ip", &["addr", "add", &format!("{gateway}/30"), "dev", &outer_link]);
        must("ip", &["link", "set", &outer_link, "up"]);
        must("ip", &["-n", &namespace, "addr", "add", &format!("{address}/30"), "dev", &inner_link]);
        must("ip", &["-n", &namespace, "link", "set", &inner_link, "up"]);
        must("ip", &["-n", &namespace, "link", "set", "lo", "up"]);

        let sshd = spawn_sshd(dir.path(), &namespace, name);
        let mut host = Self { dir, gateway, namespace, outer_link, address, sshd };
        let log = host.dir.path().join("sshd.log");
        let listening = wait_until(Duration::from_secs(20), || {
            std::fs::read_to_string(&log).is_ok_and(|text| text.contains("Server listening on"))
                || matches!(host.sshd.try_wait(), Ok(Some(_)))
        });
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            listening && log_text.contains("Server listening on"),
            "sshd of test host `{name}` did not start:\n{log_text}\n{}",
            std::fs::read_to_string(host.dir.path().join("sshd.out")).unwrap_or_default()
        );
        host
    }

    /// The host's address.
    pub(crate) fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// This machine's address as the host reaches it (a server bound there serves the host).
    pub(crate) fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }

    /// The host's public key, `ssh-ed25519 AAAA… name`, as `host_key:` pins it.
    pub(crate) fn host_key(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("host_key.pub")).expect("host key").trim().to_owned()
    }

    /// The private key the host lets `root` log in with.
    pub(crate) fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }

    /// The host's `/nix`, as this (the outer) mount namespace sees it.
    pub(crate) fn nix_dir(&self) -> PathBuf {
        self.dir.path().join("nix")
    }

    /// Adds `lines` to the host's nix settings (read by each new session).
    pub(crate) fn add_nix_conf(&self, lines: &str) {
        let path = self.dir.path().join("nix.conf");
        let mut text = std::fs::read_to_string(&path).expect("nix.conf");
        text.push_str(lines);
        text.push('\n');
        std::fs::write(path, text).expect("nix.conf");
    }

    /// How many SSH logins the host has accepted so far (from its sshd log).
    pub(crate) fn logins(&self) -> usize {
        let log = std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default();
        log.lines().filter(|line| line.contains("Accepted publickey")).count()
    }

    /// `nix path-info --json PATH` as the host's own nix answers it (its signatures say where the
    /// host got the path from).
    pub(crate) fn path_info(&self, path: &str) -> String {
        let info = self.ssh(&format!("nix --extra-experimental-features nix-command path-info --json {path}"));
        assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
        String::from_utf8_lossy(&info.stdout).into_owned()
    }

    /// Runs `remote` (a shell line) on the host as root over a connection of its own, outside
    /// rave: the test's hands on the machine.
    #[allow(clippy::disallowed_methods)] // the test's own ssh, not rave's
    pub(crate) fn ssh(&self, remote: &str) -> Output {
        let known_hosts = self.dir.path().join("known_hosts");
        std::fs::write(&known_hosts, format!("{} {}\n", self.address, self.host_key())).expect("known_hosts");
        Command::new("ssh")
            .args(["-i", &self.client_key().display().to_string()])
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ControlMaster=no"])
            .args(["-o", "ControlPath=none", "-o", "ConnectTimeout=20"])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
            .arg(format!("root@{}", self.address))
            .arg(remote)
            .stdin(Stdio::null())
            .output()
            .expect("run ssh")
    }
}

impl Drop for SshHost {
    #[allow(clippy::disallowed_methods)] // tear-down lists what runs in the namespace it made
    fn drop(&mut self) {
        stop(&mut self.sshd);
        // Sessions outlive the listening sshd: stop what still runs in the namespace we made.
        if let Ok(output) = Command::new("ip").args(["netns", "pids", &self.namespace]).output() {
            for pid in String::from_utf8_lossy(&output.stdout).lines().filter_map(|line| line.trim().parse().ok()) {
                stop_pid(pid);
            }
        }
        quietly("ip", &["netns", "del", &self.namespace]);
        quietly("ip", &["link", "del", &self.outer_link]);
    }
}

/// `sshd -D` in `namespace`, in a private mount namespace where the host's `nix/` is `/nix`.
/// `ip netns exec`, `unshare` and `sh` each exec the next, so the child's PID is sshd's.
#[allow(clippy::disallowed_methods)] // the harness starts the host's sshd itself
fn spawn_sshd(dir: &Path, namespace: &str, name: &str) -> Child {
    let path = |file: &str| dir.join(file).display().to_string();
    let output = std::fs::File::create(dir.join("sshd.out")).expect("sshd.out");
    Command::new("ip")
        .args(["netns", "exec", namespace, "unshare", "-m", "-u", "--propagation", "private", "sh", "-c"])
        .arg(r#"hostname "$1" && mount --bind "$2" /nix && exec /usr/sbin/sshd -D -f "$3" -E "$4""#)
        .args(["sh", name, &path("nix"), &path("sshd_config"), &path("sshd.log")])
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("sshd.out"))
        .stderr(output)
        .spawn()
        .expect("start sshd")
}

/// The /30 of the `serial`th host of process `pid`: this side's address and the host's, in
/// 10.128.0.0/12. Up to 32 hosts a process, and PIDs modulo 8192, get distinct subnets.
fn subnet(pid: u32, serial: u32) -> (Ipv4Addr, Ipv4Addr) {
    let block = ((pid % 8192) << 5) | (serial % 32);
    let base = (10 << 24) | (128 << 16) | (block << 2);
    (Ipv4Addr::from(base | 1), Ipv4Addr::from(base | 2))
}

#[test]
fn subnets_differ_by_process_and_serial() {
    assert_eq!(subnet(1, 0), (Ipv4Addr::new(10, 128, 0, 129), Ipv4Addr::new(10, 128, 0, 130)));
    assert_eq!(subnet(1, 1).1, Ipv4Addr::new(10, 128, 0, 134));
    assert_eq!(subnet(8191, 31).1, Ipv4Addr::new(10, 143, 255, 254));
}
