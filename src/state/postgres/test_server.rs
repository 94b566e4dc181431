//! A real PostgreSQL 15 server for tests, one per test binary run, with a fresh database per test.
//!
//! Compiled into the library's unit tests and, by `#[path]`, into `tests/it` (its `testbed`), so
//! both start the server the same way (testbed.md section 7): `initdb` and `pg_ctl` from
//! `/usr/lib/postgresql/15/bin`, run as `postgres` when the tests run as root, on a free port of
//! 127.0.0.1 with its socket and data in a temporary directory.
//!
//! The server is started by a small `sh` script that then waits on a pipe from this process: when
//! the test binary exits, however it exits, the pipe closes and the script stops the server (by
//! its data directory, which names its PID) and removes the directory.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Where Debian's PostgreSQL 15 server programs are.
const SERVER_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Whether the server syncs its writes to disk: `off` (the default, for speed) unless this variable
/// says `on`, as the benchmark does to compare with the local backend's fsynced files.
const FSYNC_VARIABLE: &str = "RAVE_TEST_POSTGRES_FSYNC";

/// Starts the server, prints `started` once it accepts connections, then stops it and removes
/// its directory when standard input closes. `$1` is the directory, `$2` the port, `$3` where the
/// programs are, `$4` the `fsync` setting.
const SCRIPT: &str = r#"
set -eu
dir="$1"; port="$2"; bin="$3"; fsync="$4"
as_postgres=""
if [ "$(id -u)" = 0 ]; then
    as_postgres="runuser -u postgres --"
    chown postgres:postgres "$dir"
fi
$as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
$as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 120 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=$fsync -c max_connections=200" start >/dev/null
echo started
read -r _ || true
$as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
rm -rf "$dir"
"#;

/// The running server: its port, and the pipe whose closing stops it.
struct Server {
    /// The TCP port on 127.0.0.1.
    port: u16,
    /// Held open for as long as this process lives.
    _stop_on_close: Mutex<ChildStdin>,
    /// The script, never waited for: it outlives nothing but this process.
    _script: Mutex<Child>,
}

/// The server of this test binary, started on first use.
static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// Numbers databases within this process.
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

/// The URL of a new, empty database on this binary's server, for one test.
pub(crate) fn database_url() -> String {
    let server = match SERVER.get_or_init(start_with_retries) {
        Ok(server) => server,
        Err(error) => panic!("the test PostgreSQL server did not start: {error}"),
    };
    let name = format!("test_{}_{}", std::process::id(), NEXT_DATABASE.fetch_add(1, Ordering::Relaxed));
    let admin = format!("postgresql://postgres@127.0.0.1:{}/postgres", server.port);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.expect("connect");
        let connection = tokio::spawn(connection);
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create a database");
        drop(client);
        let _ = connection.await;
    });
    format!("postgresql://postgres@127.0.0.1:{}/{name}", server.port)
}

/// Starts the server, trying another port if one was taken in the meantime.
fn start_with_retries() -> Result<Server, String> {
    let mut errors = Vec::new();
    for _ in 0..3 {
        match start() {
            Ok(server) => return Ok(server),
            Err(error) => errors.push(error),
        }
    }
    Err(errors.join("; "))
}

/// Starts the server once on a free port.
#[allow(clippy::disallowed_methods)] // tests start their own servers
fn start() -> Result<Server, String> {
    if !std::path::Path::new(SERVER_BIN).join("initdb").exists() {
        return Err(format!(
            "`{SERVER_BIN}/initdb` is missing; install the `postgresql-15` package (scripts/test does)"
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|error| format!("no free port: {error}"))?
        .port();
    let dir = tempfile::Builder::new()
        .prefix("rave-pg-")
        .tempdir()
        .map_err(|error| format!("no temporary directory: {error}"))?
        // The script removes it when the server stops.
        .keep();
    let mut script = Command::new("sh")
        .args(["-c", SCRIPT, "sh"])
        .arg(&dir)
        .arg(port.to_string())
        .arg(SERVER_BIN)
        .arg(if std::env::var(FSYNC_VARIABLE).is_ok_and(|value| value == "on") { "on" } else { "off" })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot run `sh`: {error}"))?;
    let stdin = script.stdin.take().ok_or("no stdin pipe")?;
    let stdout = script.stdout.take().ok_or("no stdout pipe")?;
    let mut line = String::new();
    // pg_ctl waits at most 120 s itself, so this read is bounded too.
    let _ = BufReader::new(stdout).read_line(&mut line);
    if line.trim() != "started" {
        let log = std::fs::read_to_string(dir.join("log"))
            .or_else(|_| std::fs::read_to_string(dir.join("initdb.log")))
            .unwrap_or_default();
        drop(stdin);
        let _ = script.wait();
        return Err(format!("the server did not start on port {port}: {log}"));
    }
    Ok(Server { port, _stop_on_close: Mutex::new(stdin), _script: Mutex::new(script) })
}
