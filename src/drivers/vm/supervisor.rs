//! A VM runner as a supervised detached process, for hosts without systemd: started in a session
//! of its own (`setsid`) so it outlives rave, its PID kept in a file in the VM's directory, and
//! stopped by that PID only.
//!
//! Pure: each function builds one command line. The scripts are constants; what varies (paths,
//! PIDs) goes in as positional arguments, so nothing from the file is ever parsed by a shell,
//! over SSH too. A PID counts as the VM's only while the process's working directory is the VM's
//! directory: a PID reused by another program, or a dead runner's zombie, is not taken for it.

use std::time::Duration;

use super::super::command_spec::CommandSpec;

/// How long starting, probing or signalling may take.
const QUICK: Duration = Duration::from_secs(30);

/// The name `sh -c` gives the script (`$0`), shown in `ps`.
const SCRIPT_NAME: &str = "rave-vm";

/// Starts `RUNNER` detached in `DIR`, output appended to `LOG`, PID written to `PIDFILE` and printed.
const START: &str = r#"cd "$1" || exit 1
setsid "$2" </dev/null >>"$3" 2>&1 &
echo $! >"$4"
echo $!"#;

/// Exits 0 when `PID` runs with `DIR` as its working directory.
const ALIVE: &str = r#"[ -d "/proc/$1" ] && [ "$(readlink "/proc/$1/cwd" 2>/dev/null)" = "$2" ]"#;

/// Prints the PID of every hypervisor running with `DIR` as its working directory: a runner
/// started there by hand, or left behind. `-ef` compares the directories themselves (no process
/// per PID); only a hypervisor's executable counts, so a shell someone opened there never does.
const FIND: &str = r#"for p in /proc/[0-9]*; do
  [ "$p/cwd" -ef "$1" ] || continue
  exe=$(readlink "$p/exe" 2>/dev/null) || continue
  case "${exe##*/}" in qemu-system-*|cloud-hypervisor|firecracker|crosvm|lkvm|stratovirt|alioth) echo "${p#/proc/}";; esac
done
exit 0"#;

/// Runs `SCRIPT` in `DIR` when it is executable; prints `absent` otherwise.
const SHUTDOWN: &str = r#"cd "$1" || exit 1
if [ -x "$2" ]; then exec "$2"; fi
echo absent"#;

/// Creates the sparse image `FILE` of `SIZE` unless it exists.
const VOLUME: &str = r#"[ -e "$1" ] || truncate -s "$2" "$1""#;

/// `sh -c SCRIPT rave-vm ARGS…`.
fn script(script: &str, args: &[&str]) -> CommandSpec {
    CommandSpec::new("sh").args(["-c", script, SCRIPT_NAME]).args(args.iter().copied()).timeout(QUICK)
}

/// The files of one VM in its directory on its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VmDir {
    /// The directory, absolute.
    pub(crate) path: String,
}

impl VmDir {
    /// The PID file.
    pub(crate) fn pid_file(&self) -> String {
        format!("{}/pid", self.path)
    }

    /// The runner's console and log.
    pub(crate) fn log_file(&self) -> String {
        format!("{}/console.log", self.path)
    }

    /// Creates the directory.
    pub(crate) fn create(&self) -> CommandSpec {
        CommandSpec::new("mkdir").args(["-p", &self.path]).timeout(QUICK)
    }

    /// Starts `RUNNER/bin/microvm-run` detached; prints its PID.
    pub(crate) fn start(&self, runner: &str) -> CommandSpec {
        let run = format!("{runner}/bin/microvm-run");
        script(START, &[&self.path, &run, &self.log_file(), &self.pid_file()])
    }

    /// Succeeds while `pid` is this VM's runner.
    pub(crate) fn is_alive(&self, pid: u32) -> CommandSpec {
        script(ALIVE, &[&pid.to_string(), &self.path])
    }

    /// Prints the PIDs of the hypervisors running in the directory, one a line.
    pub(crate) fn find_runners(&self) -> CommandSpec {
        script(FIND, &[&self.path])
    }

    /// Runs `RUNNER/bin/microvm-shutdown` in the directory, or prints `absent` without one.
    pub(crate) fn shutdown(&self, runner: &str, limit: Duration) -> CommandSpec {
        let shutdown = format!("{runner}/bin/microvm-shutdown");
        script(SHUTDOWN, &[&self.path, &shutdown]).timeout(limit)
    }

    /// Removes the directory; with `keep` (volume image file names), everything in it but them.
    pub(crate) fn remove(&self, keep: &[String]) -> CommandSpec {
        if keep.is_empty() {
            return CommandSpec::new("rm").args(["-rf", &self.path]).timeout(QUICK);
        }
        let mut command = CommandSpec::new("find").args([self.path.as_str(), "-mindepth", "1", "-maxdepth", "1"]);
        for image in keep {
            command = command.args(["!", "-name", image]);
        }
        command.args(["-exec", "rm", "-rf", "{}", "+"]).timeout(QUICK)
    }

    /// Creates the sparse volume image `image` (a file name in the directory) of `mib` MiB.
    pub(crate) fn create_volume(&self, image: &str, mib: u64) -> CommandSpec {
        script(VOLUME, &[&format!("{}/{image}", self.path), &format!("{mib}M")])
    }
}

/// `kill -SIGNAL PID`.
pub(crate) fn signal(pid: u32, signal: &str) -> CommandSpec {
    CommandSpec::new("kill").args([format!("-{signal}"), pid.to_string()]).timeout(QUICK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_passes_paths_as_arguments() {
        let dir = VmDir { path: "/srv/infra/.rave/vms/web 1".to_owned() };
        let lines = [
            dir.create(),
            dir.start("/nix/store/r-runner"),
            dir.is_alive(4242),
            dir.find_runners(),
            dir.shutdown("/nix/store/r-runner", Duration::from_secs(60)),
            dir.create_volume("data.img", 64),
            dir.remove(&[]),
            dir.remove(&["data.img".to_owned(), "logs.img".to_owned()]),
            signal(4242, "TERM"),
        ]
        .map(|command| command.to_string());
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn the_pid_and_log_live_in_the_vm_directory() {
        let dir = VmDir { path: "/var/lib/microvms/gitlab".to_owned() };
        assert_eq!(dir.pid_file(), "/var/lib/microvms/gitlab/pid");
        assert_eq!(dir.log_file(), "/var/lib/microvms/gitlab/console.log");
    }
}
