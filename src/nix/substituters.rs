//! [`Substituters`]: binary caches a Nix command may substitute from besides the ones its machine
//! is configured with, and the public keys it trusts for them; given to a command that runs here
//! as options, and to the machine at the other end of an `ssh://` store (a host rave deploys to, a
//! remote builder) through the store's `remote-program`.
//!
//! Pure: options, store URIs and the rule for which caches another machine can reach. Why per
//! command and not a file on the machine: docs/decisions/0011-remote-machines-trust-declared-caches.md.

use std::fmt::Write as _;

use crate::drivers::command_spec::shell_line;

/// Caches to substitute from, and the keys that sign what they serve.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Substituters {
    /// Store URIs (`https://team.cachix.org`, `file:///var/cache/nix`).
    pub(crate) uris: Vec<String>,
    /// Public keys (`team.cachix.org-1:AAAA…`).
    pub(crate) public_keys: Vec<String>,
}

impl Substituters {
    /// Whether there is nothing to add to what the machine trusts already.
    pub(crate) fn is_empty(&self) -> bool {
        self.uris.is_empty() && self.public_keys.is_empty()
    }

    /// Adds a cache and its key, each once.
    pub(crate) fn add(&mut self, uri: &str, public_key: &str) {
        if !self.uris.iter().any(|known| known == uri) {
            self.uris.push(uri.to_owned());
        }
        if !self.public_keys.iter().any(|known| known == public_key) {
            self.public_keys.push(public_key.to_owned());
        }
    }

    /// `--option extra-substituters URI … --option extra-trusted-public-keys KEY …`: one option a
    /// value (an `extra-` setting appends to what is there), so no value holds a space and the
    /// same words work on a remote shell line.
    pub(crate) fn options(&self) -> Vec<String> {
        let uris = self.uris.iter().map(|uri| ("extra-substituters", uri));
        let keys = self.public_keys.iter().map(|key| ("extra-trusted-public-keys", key));
        uris.chain(keys).flat_map(|(name, value)| ["--option".to_owned(), name.to_owned(), value.clone()]).collect()
    }

    /// `store` (an `ssh://USER@HOST` store URI) with `remote-program=nix-store --option …`: the
    /// `nix-store --serve` that nix starts on the other machine substitutes from these caches and
    /// trusts their keys, for this one connection. Nix 2.8 puts `remote-program` into the remote
    /// shell line as it is, newer ones split it on whitespace and pass the words to ssh, which
    /// joins them into the same line: each word is shell-quoted and none holds whitespace, so both
    /// read it alike. `store` unchanged when there is nothing to trust.
    pub(crate) fn on_remote(&self, store: &str) -> String {
        if self.is_empty() {
            return store.to_owned();
        }
        let separator = if store.contains('?') { '&' } else { '?' };
        format!("{store}{separator}remote-program={}", percent_encoded(&self.remote_program()))
    }

    /// `nix-store --option …`, as the remote shell reads it.
    fn remote_program(&self) -> String {
        let mut words = vec!["nix-store".to_owned()];
        words.extend(self.options());
        shell_line(&words)
    }
}

/// Whether a cache at `uri` can be reached from another machine as it is from this one: an
/// `http(s)://` or `s3://` cache not on this machine's loopback. A `file://` cache is a directory
/// here (on another machine nix would create an empty cache of that name); an SSH store is
/// reached with rave's SSH options, which the other machine does not have.
pub(crate) fn is_reachable_elsewhere(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once("://") else { return false };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    let is_loopback =
        host == "localhost" || host.starts_with("localhost:") || host.starts_with("127.") || host.starts_with("[::1]");
    matches!(scheme, "http" | "https" | "s3") && !is_loopback
}

/// `text` with every byte but RFC 3986's unreserved ones percent-encoded, for a store URI's
/// query (nix decodes it).
fn percent_encoded(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Substituters {
        let mut substituters = Substituters::default();
        substituters.add("https://team.cachix.org", "team.cachix.org-1:abc+/=");
        substituters.add("s3://cache?region=eu-west-1&profile=ci", "lan-1:xyz=");
        substituters.add("https://team.cachix.org", "team.cachix.org-1:abc+/=");
        substituters
    }

    #[test]
    fn each_cache_and_key_is_one_option() {
        assert_eq!(
            two().options().join(" "),
            "--option extra-substituters https://team.cachix.org \
             --option extra-substituters s3://cache?region=eu-west-1&profile=ci \
             --option extra-trusted-public-keys team.cachix.org-1:abc+/= \
             --option extra-trusted-public-keys lan-1:xyz="
        );
        assert!(Substituters::default().options().is_empty());
    }

    #[test]
    fn a_remote_nix_store_is_told_through_remote_program() {
        insta::assert_snapshot!(two().remote_program(), @"nix-store --option extra-substituters https://team.cachix.org --option extra-substituters 's3://cache?region=eu-west-1&profile=ci' --option extra-trusted-public-keys team.cachix.org-1:abc+/= --option extra-trusted-public-keys lan-1:xyz=");
        let mut one = Substituters::default();
        one.add("https://c.example", "c-1:k=");
        insta::assert_snapshot!(one.on_remote("ssh://root@192.0.2.2"), @"ssh://root@192.0.2.2?remote-program=nix-store%20--option%20extra-substituters%20https%3A%2F%2Fc.example%20--option%20extra-trusted-public-keys%20c-1%3Ak%3D");
        assert!(
            one.on_remote("ssh://root@h?remote-store=/d").starts_with("ssh://root@h?remote-store=/d&remote-program=")
        );
        assert_eq!(Substituters::default().on_remote("ssh://root@h"), "ssh://root@h");
    }

    #[test]
    fn only_network_caches_off_this_machine_reach_elsewhere() {
        for uri in ["https://team.cachix.org", "http://10.0.0.1:8080", "s3://bucket?region=x", "http://u@cache.lan/nix"]
        {
            assert!(is_reachable_elsewhere(uri), "{uri}");
        }
        for uri in [
            "file:///var/cache/nix",
            "ssh://root@b",
            "ssh-ng://root@b",
            "http://127.0.0.1:8080",
            "http://localhost/x",
            "http://[::1]:80",
            "daemon",
            "/nix/cache",
        ] {
            assert!(!is_reachable_elsewhere(uri), "{uri}");
        }
    }
}
