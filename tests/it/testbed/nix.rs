//! Real Nix for tests: the settings every run needs on these machines (no substituters, so no
//! DNS retries; no sandbox; no cached negative narinfo answers; a fresh cache directory), flakes
//! of plain `derivation`s in the test's own non-git directory, and signing keys. (Also built
//! into `benches/deploy.rs`: nothing here may use the tests' `support`.)

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `NIX_CONFIG` for every nix (and rave) a test runs.
pub(crate) const NIX_CONFIG: &str =
    "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nnarinfo-cache-negative-ttl = 0";

/// Nix as a test runs it: its settings and a cache directory of its own.
pub(crate) struct Nix {
    cache_home: tempfile::TempDir,
}

impl Nix {
    /// Nix for one test. Panics, saying how to get it, when Nix is not installed.
    pub(crate) fn new() -> Self {
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("nix").is_file()));
        assert!(found, "these tests run the real `nix`: install `nix-bin nix-setup-systemd` (scripts/test does)");
        Self { cache_home: tempfile::tempdir().expect("temp dir") }
    }

    /// Gives `command` this Nix's settings.
    pub(crate) fn configure<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command.env("NIX_CONFIG", NIX_CONFIG).env("XDG_CACHE_HOME", self.cache_home.path())
    }

    /// Runs `nix ARGS…` with this Nix's settings.
    #[allow(clippy::disallowed_methods)] // the harness runs nix itself, not through rave's runner
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new("nix");
        command.args(args);
        self.configure(&mut command).output().expect("run nix")
    }

    /// `nix path-info --json PATH` in this machine's store.
    pub(crate) fn path_info(&self, path: &str) -> String {
        let info = self.run(&["path-info", "--json", path]);
        assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
        String::from_utf8_lossy(&info.stdout).into_owned()
    }

    /// Generates a signing key named `name` into `dir/NAME.sec`; returns its path and public key.
    pub(crate) fn key_pair(&self, dir: &Path, name: &str) -> (PathBuf, String) {
        let secret = self.run(&["key", "generate-secret", "--key-name", name]);
        assert!(secret.status.success(), "{}", String::from_utf8_lossy(&secret.stderr));
        let path = dir.join(format!("{name}.sec"));
        std::fs::create_dir_all(dir).expect("key dir");
        std::fs::write(&path, &secret.stdout).expect("write key");
        let public = public_key(&secret.stdout);
        (path, public)
    }

    /// Copies `path` from the cache at `uri` into a new, separate store trusting only `trusted_key`,
    /// building nothing: whether the cache served it with a signature that key accepts.
    pub(crate) fn substitute(&self, uri: &str, trusted_key: &str, path: &str) -> Output {
        let store = tempfile::tempdir().expect("store dir");
        let store_arg = store.path().display().to_string();
        let output = self.run(&[
            "build",
            "--store",
            &store_arg,
            "--max-jobs",
            "0",
            "--no-link",
            "--option",
            "substituters",
            uri,
            "--option",
            "trusted-public-keys",
            trusted_key,
            path,
        ]);
        // The separate store's files are read-only, as Nix leaves them.
        make_writable(store.path());
        output
    }
}

/// The public key of a secret key, as `nix key convert-secret-to-public` gives it.
#[allow(clippy::disallowed_methods)] // see `Nix::run`
fn public_key(secret: &[u8]) -> String {
    use std::io::Write as _;
    let mut child = Command::new("nix")
        .args(["key", "convert-secret-to-public"])
        .env("NIX_CONFIG", NIX_CONFIG)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run nix");
    child.stdin.take().expect("stdin").write_all(secret).expect("write key");
    let output = child.wait_with_output().expect("nix key");
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

/// Lets the temp dir's own clean-up remove what Nix made read-only.
fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            make_writable(&path);
        } else if !path.is_symlink() {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
        }
    }
}

/// A word no other test run shares: derivations named with it are new to the store, so they
/// really build.
pub(crate) fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |time| time.as_nanos());
    format!("{}-{}-{nanos}", std::process::id(), super::next_serial())
}

/// A `flake.nix` with no inputs whose `outputs` are `packages.x86_64-linux.NAME` derivations
/// writing `TEXT` (and `unique`) to `$out`, from `(name, version, text)`.
pub(crate) fn flake(packages: &[(&str, &str, &str)], unique: &str) -> String {
    let mut text = String::from("{\n  outputs = { self }: {\n");
    for (name, version, content) in packages {
        let _ = writeln!(
            text,
            "    packages.x86_64-linux.{name} = derivation {{ name = \"{name}-{version}\"; system = \"x86_64-linux\"; builder = \"/bin/sh\"; args = [ \"-c\" \"echo {content} {unique} > $out\" ]; }};"
        );
    }
    text.push_str("  };\n}\n");
    text
}
