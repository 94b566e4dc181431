//! microvm.nix's host layout and its `microvm@NAME.service` units, for hosts that run systemd.
//!
//! On such a host a VM lives in `/var/lib/microvms/NAME/`: `current` links to the runner to
//! start, `booted` to the runner that is running, and `microvm@NAME.service` runs
//! `current/bin/microvm-run` there. Pure: paths and command lines; running them is the driver's.

use super::super::command_spec::CommandSpec;

/// Where microvm.nix keeps its VMs on a host.
pub(crate) const STATE_DIR: &str = "/var/lib/microvms";

/// A VM's directory and links on a systemd host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostLayout {
    /// The VM's name.
    name: String,
}

impl HostLayout {
    /// The layout of the VM `name`.
    pub(crate) fn new(name: &str) -> Self {
        Self { name: name.to_owned() }
    }

    /// `/var/lib/microvms/NAME`: the VM's working directory.
    pub(crate) fn dir(&self) -> String {
        format!("{STATE_DIR}/{}", self.name)
    }

    /// `…/current`: the runner the unit starts next.
    pub(crate) fn current(&self) -> String {
        format!("{}/current", self.dir())
    }

    /// `…/booted`: the runner that was started last.
    pub(crate) fn booted(&self) -> String {
        format!("{}/booted", self.dir())
    }

    /// `microvm@NAME.service`.
    pub(crate) fn unit(&self) -> String {
        format!("microvm@{}.service", self.name)
    }

    /// Points `current` at `runner`, creating the directory first.
    pub(crate) fn install(&self, runner: &str) -> [CommandSpec; 2] {
        [
            CommandSpec::new("mkdir").args(["-p".to_owned(), self.dir()]),
            CommandSpec::new("ln").args(["-sfn".to_owned(), runner.to_owned(), self.current()]),
        ]
    }

    /// Records `runner` as booted, once the unit started it.
    pub(crate) fn mark_booted(&self, runner: &str) -> CommandSpec {
        CommandSpec::new("ln").args(["-sfn".to_owned(), runner.to_owned(), self.booted()])
    }

    /// `systemctl VERB microvm@NAME.service` (`start`, `restart`, `stop`, `is-active`).
    pub(crate) fn systemctl(&self, verb: &str) -> CommandSpec {
        CommandSpec::new("systemctl").args([verb.to_owned(), self.unit()])
    }
}

/// Whether a host runs systemd (`/run/systemd/system`, what `sd_booted()` checks) and has
/// microvm.nix's `microvm@.service` template: only then are VMs run as its units.
pub(crate) fn probe_systemd() -> CommandSpec {
    CommandSpec::new("sh")
        .args(["-c", "[ -d /run/systemd/system ] && systemctl cat microvm@.service >/dev/null 2>&1"])
        .timeout(std::time::Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_microvm_nix_s() {
        let layout = HostLayout::new("gitlab");
        let runner = "/nix/store/r-microvm-qemu-gitlab";
        let mut lines: Vec<String> = layout.install(runner).iter().map(ToString::to_string).collect();
        lines.extend(["start", "restart", "stop", "is-active"].map(|verb| layout.systemctl(verb).to_string()));
        lines.push(layout.mark_booted(runner).to_string());
        lines.push(probe_systemd().to_string());
        insta::assert_snapshot!(lines.join("\n"), @r"
        mkdir -p /var/lib/microvms/gitlab
        ln -sfn /nix/store/r-microvm-qemu-gitlab /var/lib/microvms/gitlab/current
        systemctl start microvm@gitlab.service
        systemctl restart microvm@gitlab.service
        systemctl stop microvm@gitlab.service
        systemctl is-active microvm@gitlab.service
        ln -sfn /nix/store/r-microvm-qemu-gitlab /var/lib/microvms/gitlab/booted
        sh -c '[ -d /run/systemd/system ] && systemctl cat microvm@.service >/dev/null 2>&1'
        ");
    }
}
