//! [`LocalService`]: a real `nats-server` or `redis-server` on 127.0.0.1, on ports of its own,
//! started in the foreground as our child and stopped by its PID (testbed.md §6).

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_port, stop, wait_until};

/// A service process on the loopback address.
pub(crate) struct LocalService {
    /// The server, our child; `None` once stopped.
    child: Option<Child>,
    /// Its working directory (redis writes nothing with these flags, but keep it out of the tree).
    _dir: tempfile::TempDir,
    /// The port clients use.
    pub(crate) port: u16,
    /// NATS's monitoring port (`/healthz`); `None` for Redis.
    pub(crate) monitoring_port: Option<u16>,
}

impl LocalService {
    /// `nats-server -a 127.0.0.1 -p PORT -m MONITORING`.
    pub(crate) fn nats() -> Self {
        let (port, monitoring) = (free_port(), free_port());
        let args = ["-a", "127.0.0.1", "-p", &port.to_string(), "-m", &monitoring.to_string()].map(str::to_owned);
        Self::start("nats-server", &args, port, Some(monitoring))
    }

    /// `redis-server --bind 127.0.0.1 --port PORT`, persisting nothing.
    pub(crate) fn redis() -> Self {
        let port = free_port();
        let args =
            ["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"].map(str::to_owned);
        Self::start("redis-server", &args, port, None)
    }

    #[allow(clippy::disallowed_methods)] // the harness starts the service itself
    fn start(program: &str, args: &[String], port: u16, monitoring_port: Option<u16>) -> Self {
        let dir = tempfile::Builder::new().prefix("rave-service-").tempdir().expect("temp dir");
        let child = Command::new(program)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start `{program}` (is it installed?): {error}"));
        let service = Self { child: Some(child), _dir: dir, port, monitoring_port };
        let ports: Vec<u16> = std::iter::once(port).chain(monitoring_port).collect();
        let ready = wait_until(Duration::from_secs(20), || {
            ports.iter().all(|port| TcpStream::connect(("127.0.0.1", *port)).is_ok())
        });
        assert!(ready, "`{program}` did not listen on {ports:?} within 20s");
        service
    }

    /// Stops the server (by its PID), leaving its ports closed.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child);
        }
    }
}

impl Drop for LocalService {
    fn drop(&mut self) {
        self.stop();
    }
}
