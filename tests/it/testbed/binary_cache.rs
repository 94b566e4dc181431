//! An HTTP binary cache: a small Python server that stores what `nix copy` PUTs and serves it
//! back, on 127.0.0.1 (or an address of a test host's link, so the host reaches it too) at a port
//! the system picks. Stopped by its PID when dropped.

use std::io::BufRead as _;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The server: `SimpleHTTPRequestHandler` plus `do_PUT`. HTTP/1.1, or every PUT costs a second.
const SERVER: &str = r#"
import http.server, os, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_PUT(self):
        length = int(self.headers.get("Content-Length", 0))
        path = self.translate_path(self.path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(self.rfile.read(length))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
os.chdir(sys.argv[1])
server = http.server.ThreadingHTTPServer((sys.argv[2], 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// A running HTTP cache.
pub(crate) struct HttpCache {
    child: Child,
    /// `http://ADDRESS:PORT`.
    pub(crate) uri: String,
}

impl HttpCache {
    /// Starts a cache serving (and storing into) `dir` on 127.0.0.1.
    pub(crate) fn start(dir: &Path) -> Self {
        Self::start_on(dir, Ipv4Addr::LOCALHOST)
    }

    /// Starts a cache serving (and storing into) `dir` on `address`: 127.0.0.1, or a test host's
    /// `gateway` (an address of a link the test made).
    #[allow(clippy::disallowed_methods)] // the harness starts the server itself
    pub(crate) fn start_on(dir: &Path, address: Ipv4Addr) -> Self {
        std::fs::create_dir_all(dir).expect("cache dir");
        let mut child = Command::new("python3")
            .args(["-c", SERVER])
            .arg(dir)
            .arg(address.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let Ok(port) = line.trim().parse::<u16>() else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the HTTP cache did not start (it printed `{line}` instead of its port)");
        };
        Self { child, uri: format!("http://{address}:{port}") }
    }
}

impl Drop for HttpCache {
    fn drop(&mut self) {
        // By the PID this test started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
